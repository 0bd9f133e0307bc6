#include "data/reader/image_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <system_error>

#include "common/error.h"
#include "common/parallel.h"

namespace fs = std::filesystem;

namespace neuroemu {

bool has_image_extension(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos) return false;
    std::string ext = name.substr(dot + 1);
    for (char& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return ext == "jpg" || ext == "jpeg" || ext == "png";
}

std::vector<std::string> sorted_entries(const std::string& dir, bool folders) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (folders ? it->is_directory(type_ec) : it->is_regular_file(type_ec))
            names.push_back(it->path().filename().string());
    }
    if (ec) throw DataError(fmt::format("{}: cannot list the folder: {}", dir, ec.message()));
    std::sort(names.begin(), names.end());  // std::string compares as unsigned bytes (char_traits<char>)
    return names;
}

void add_image_files(const std::string& dir, int32_t label, ImageFiles& files) {
    for (const auto& name : sorted_entries(dir, false)) {
        const std::string path = dir + "/" + name;
        if (has_image_extension(name)) {
            files.paths.push_back(path);
            files.labels.push_back(label);
        } else {
            files.skipped.push_back(path + ": not a .jpg, .jpeg or .png file");
        }
    }
}

std::vector<ParamSpec> image_file_params() {
    const double inf = std::numeric_limits<double>::infinity();
    return {
        ParamSpec("dataset.resize", ParamKind::Int, "256", "px",
                  "Image files: the shorter side is resized to this (torchvision's Resize(int), PIL's antialiased "
                  "bilinear filter); 0: no resize.")
            .range(0, 65536),
        ParamSpec("dataset.crop", ParamKind::Int, "224", "px",
                  "Image files: square centre crop after resizing (torchvision's CenterCrop); the images are "
                  "channels x crop x crop.")
            .range(1, 65536),
        ParamSpec("dataset.image_channels", ParamKind::Int, "3", "",
                  "Image files: 3 decodes to RGB (PIL's convert(\"RGB\"): grey replicated, alpha dropped), 1 to "
                  "grey (PIL's convert(\"L\")).")
            .range(1, 3),
        ParamSpec("dataset.threads", ParamKind::Int, "0", "threads",
                  "Image files: threads decoding the images of one read (0: all hardware threads).")
            .range(0, inf),
    };
}

ImageFileOptions image_file_options(const Settings& settings) {
    ImageFileOptions o;
    o.preprocess.resize = settings.get_int("dataset.resize");
    o.preprocess.crop = settings.get_int("dataset.crop");
    o.preprocess.channels = static_cast<int>(settings.get_int("dataset.image_channels"));
    if (o.preprocess.channels == 2)
        throw ConfigError(fmt::format("{}: dataset.image_channels: 1 (grey) or 3 (RGB), got 2",
                                      settings.where("dataset.image_channels")));
    o.threads = resolve_threads(settings.get_int("dataset.threads"));
    return o;
}

namespace {

class ImageFileSource final : public ImageSource {
public:
    ImageFileSource(ImageFiles files, const ImageFileOptions& options)
        : files_(std::move(files)), options_(options) {}
    int64_t count() const override { return static_cast<int64_t>(files_.paths.size()); }
    int64_t channels() const override { return options_.preprocess.channels; }
    int64_t height() const override { return options_.preprocess.crop; }
    int64_t width() const override { return options_.preprocess.crop; }
    std::vector<std::string> skipped() const override { return files_.skipped; }

    ImageSet read(int64_t first, int64_t n) const override {
        if (first < 0 || n < 0 || first + n > count())
            throw InternalError(fmt::format("read({}, {}) of {} images", first, n, count()));
        ImageSet set;
        set.count = n;
        set.first = first;
        set.channels = channels();
        set.height = height();
        set.width = width();
        set.pixels.resize(static_cast<size_t>(n * set.image_size()));
        set.labels.assign(files_.labels.begin() + first, files_.labels.begin() + first + n);
        parallel_for(n, options_.threads, [&](int64_t i, int) {
            const std::string& path = files_.paths[static_cast<size_t>(first + i)];
            const DecodedImage image = decode_image_file(path, options_.preprocess.channels);
            preprocess(image, options_.preprocess, path, set.pixels.data() + i * set.image_size());
        });
        return set;
    }

private:
    ImageFiles files_;
    ImageFileOptions options_;
};

}  // namespace

std::unique_ptr<ImageSource> image_file_source(ImageFiles files, const ImageFileOptions& options) {
    const Preprocess& p = options.preprocess;
    if (p.resize > 0 && p.crop > p.resize)
        throw DataError(fmt::format("dataset.crop {} is larger than dataset.resize {}: the resized images' shorter "
                                    "side is {}", p.crop, p.resize, p.resize));
    return std::make_unique<ImageFileSource>(std::move(files), options);
}

}  // namespace neuroemu
