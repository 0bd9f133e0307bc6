#include "data/image_decode.h"

#include <fmt/format.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>  // the message codes

#include "common/error.h"
#include "common/file_io.h"

namespace neuroemu {
namespace {

// libjpeg and libpng report errors by calling back into us; we longjmp back to the setjmp in the function that
// started decoding. Those functions hold no object with a destructor between setjmp and longjmp (the output
// vector lives in the caller), so the jump skips no destructor. The error text goes to `message`.
constexpr size_t kMessageSize = 256;

// ---- JPEG ----

struct JpegError {
    jpeg_error_mgr mgr;
    std::jmp_buf jump;
    char message[kMessageSize];
};

[[noreturn]] void jpeg_fail(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<JpegError*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

// Warnings (level -1): the two that mean the data ended early are errors, as PIL raises "image file is
// truncated"; the others (extraneous bytes before a marker, ...) are ignored, as PIL ignores them.
void jpeg_message(j_common_ptr cinfo, int level) {
    if (level == -1 && (cinfo->err->msg_code == JWRN_JPEG_EOF || cinfo->err->msg_code == JWRN_HIT_MARKER))
        jpeg_fail(cinfo);
}

struct Shape {
    int64_t width = 0, height = 0, components = 0;
};

bool too_large(int64_t width, int64_t height, char* message) {
    if (width * height <= kMaxImagePixels) return false;
    std::snprintf(message, kMessageSize, "%lldx%lld pixels, more than the %lld allowed", static_cast<long long>(width),
                  static_cast<long long>(height), static_cast<long long>(kMaxImagePixels));
    return true;
}

// Decodes to `out` (interleaved, `shape->components` per pixel: 1 grey, 3 RGB, 4 CMYK as stored). Returns false
// with `message` set on error.
bool jpeg_decode(const std::vector<uint8_t>& bytes, std::vector<uint8_t>* out, Shape* shape, char* message) {
    jpeg_decompress_struct cinfo;
    JpegError err;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_message;
    err.message[0] = '\0';
    if (setjmp(err.jump)) {
        std::memcpy(message, err.message, kMessageSize);
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&cinfo, TRUE);
    if (too_large(cinfo.image_width, cinfo.image_height, message)) {
        jpeg_destroy_decompress(&cinfo);
        return false;
    }
    // libjpeg's defaults otherwise (JDCT_ISLOW, fancy upsampling), as PIL leaves them.
    if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
        cinfo.out_color_space = JCS_GRAYSCALE;
    } else if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        cinfo.out_color_space = JCS_CMYK;
    } else {
        cinfo.out_color_space = JCS_RGB;
    }
    jpeg_start_decompress(&cinfo);
    shape->width = cinfo.output_width;
    shape->height = cinfo.output_height;
    shape->components = cinfo.output_components;
    const size_t stride = static_cast<size_t>(shape->width * shape->components);
    out->resize(stride * static_cast<size_t>(shape->height));
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out->data() + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

// ---- PNG ----

struct PngInput {
    const std::vector<uint8_t>* bytes;
    size_t offset;
    std::jmp_buf jump;
    char message[kMessageSize];
};

[[noreturn]] void png_fail(png_structp png, png_const_charp text) {
    auto* in = static_cast<PngInput*>(png_get_error_ptr(png));
    std::snprintf(in->message, kMessageSize, "%s", text);
    std::longjmp(in->jump, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}  // ancillary chunks (iCCP, ...), as PIL ignores them

void png_read_bytes(png_structp png, png_bytep data, png_size_t length) {
    auto* in = static_cast<PngInput*>(png_get_io_ptr(png));
    if (in->bytes->size() - in->offset < length) png_error(png, "truncated (the file ends inside the image)");
    std::memcpy(data, in->bytes->data() + in->offset, length);
    in->offset += length;
}

// Decodes to `out` (interleaved, 8 bits, `shape->components` per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA).
bool png_decode(const std::vector<uint8_t>& bytes, std::vector<uint8_t>* out, Shape* shape,
                std::vector<png_bytep>* rows, char* message) {
    PngInput in{&bytes, 0, {}, {0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &in, png_fail, png_ignore_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (png == nullptr || info == nullptr) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        std::snprintf(message, kMessageSize, "out of memory");
        return false;
    }
    if (setjmp(in.jump)) {
        std::memcpy(message, in.message, kMessageSize);
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, &in, png_read_bytes);
    png_read_info(png, info);
    const int64_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if (png_get_bit_depth(png, info) == 16) png_error(png, "16-bit PNG not supported");
    if (too_large(width, height, message)) png_error(png, message);
    const int color = png_get_color_type(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);  // with tRNS: RGBA, the alpha dropped later
    if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    shape->width = width;
    shape->height = height;
    shape->components = png_get_channels(png, info);
    const size_t stride = png_get_rowbytes(png, info);
    if (stride != static_cast<size_t>(width * shape->components)) png_error(png, "unexpected row layout");
    out->resize(stride * static_cast<size_t>(height));
    rows->resize(static_cast<size_t>(height));
    for (int64_t y = 0; y < height; ++y) (*rows)[y] = out->data() + stride * y;
    png_read_image(png, rows->data());
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

// ---- colour conversion, as PIL's convert ----

uint8_t pil_luma(const uint8_t* rgb) {  // PIL's L24: ITU-R 601-2 in 16-bit fixed point, rounded
    return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

uint8_t pil_muldiv255(int a, int b) {
    const int t = a * b + 128;
    return static_cast<uint8_t>(((t >> 8) + t) >> 8);
}

// `raw` has `components` per pixel as the decoder left it (`cmyk`: libjpeg's Adobe-inverted CMYK). PIL reads
// Adobe CMYK as "CMYK;I" (c = 255 - stored), then R = 255 - k - c (255 - k) / 255 per channel.
DecodedImage convert(const std::vector<uint8_t>& raw, const Shape& s, bool cmyk, int channels) {
    DecodedImage img;
    img.width = s.width;
    img.height = s.height;
    img.channels = channels;
    const size_t n = static_cast<size_t>(s.width * s.height);
    img.pixels.resize(n * channels);
    const int comps = static_cast<int>(s.components);
    const bool grey_source = comps <= 2;
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* p = raw.data() + i * comps;
        uint8_t rgb[3];
        if (grey_source) {
            rgb[0] = rgb[1] = rgb[2] = p[0];
        } else if (cmyk) {
            const int nk = p[3];  // 255 - k, with k = 255 - stored
            for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(nk - pil_muldiv255(255 - p[c], nk));
        } else {
            rgb[0] = p[0], rgb[1] = p[1], rgb[2] = p[2];  // a 4th (alpha) is dropped
        }
        uint8_t* q = img.pixels.data() + i * channels;
        if (channels == 3) {
            q[0] = rgb[0], q[1] = rgb[1], q[2] = rgb[2];
        } else {
            q[0] = grey_source ? p[0] : pil_luma(rgb);
        }
    }
    return img;
}

bool starts_with(const std::vector<uint8_t>& bytes, const char* magic, size_t n) {
    return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
}

}  // namespace

DecodedImage decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels) {
    if (channels != 1 && channels != 3)
        throw InternalError(fmt::format("decode_image: {} channels asked (1 or 3)", channels));
    std::vector<uint8_t> raw;
    Shape shape;
    char message[kMessageSize] = {0};
    bool ok, cmyk = false;
    const char* kind;
    if (starts_with(bytes, "\xFF\xD8\xFF", 3)) {
        kind = "JPEG";
        ok = jpeg_decode(bytes, &raw, &shape, message);
        cmyk = shape.components == 4;
    } else if (starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) {
        kind = "PNG";
        std::vector<png_bytep> rows;
        ok = png_decode(bytes, &raw, &shape, &rows, message);
    } else {
        throw DataError(fmt::format("{}: not a JPEG or PNG image (unknown signature)", name));
    }
    if (!ok) throw DataError(fmt::format("{}: bad {} image: {}", name, kind, message));
    return convert(raw, shape, cmyk, channels);
}

DecodedImage decode_image_file(const std::string& path, int channels) {
    return decode_image(read_file_bytes(path), path, channels);
}

}  // namespace neuroemu
