// What the browser tests share: finding Chromium on PATH and decoding its PNG screenshots (libpng).
#pragma once

#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace neuroemu::test {

inline std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    for (size_t start = 0; start <= dirs.size();) {
        const size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
        std::error_code error;
        if (!candidate.parent_path().empty() && std::filesystem::exists(candidate, error)) return candidate.string();
        start = end + 1;
    }
    return "";
}

struct Image {
    unsigned width = 0, height = 0;
    std::vector<unsigned char> rgb;
    unsigned pixel(size_t i) const { return rgb[3 * i] << 16 | rgb[3 * i + 1] << 8 | rgb[3 * i + 2]; }
    unsigned pixel(unsigned x, unsigned y) const { return pixel(size_t{y} * width + x); }
    // Pixels of exactly `color` (0xRRGGBB) in the rectangle [x, x + w) x [y, y + h), clipped to the image.
    size_t count(unsigned color, unsigned x, unsigned y, unsigned w, unsigned h) const {
        size_t n = 0;
        for (unsigned j = y; j < std::min(height, y + h); ++j)
            for (unsigned i = x; i < std::min(width, x + w); ++i) n += pixel(i, j) == color;
        return n;
    }
};

inline Image read_png(const std::string& file) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    Image out;
    if (!png_image_begin_read_from_file(&image, file.c_str())) {
        ADD_FAILURE() << "cannot read " << file << ": " << image.message;
        return out;
    }
    image.format = PNG_FORMAT_RGB;
    out.width = image.width;
    out.height = image.height;
    out.rgb.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
        ADD_FAILURE() << "cannot decode " << file << ": " << image.message;
        out = Image{};
    }
    png_image_free(&image);
    return out;
}

}  // namespace neuroemu::test
