// Built with -ffp-contract=off (data/CMakeLists.txt): the filter coefficients must round exactly as Pillow's C
// code computes them, without fused multiply-adds.
#include "data/preprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace neuroemu {

std::vector<int64_t> resized_size(int64_t width, int64_t height, int64_t shorter) {
    const int64_t s = std::min(width, height), l = std::max(width, height);
    const auto longer = static_cast<int64_t>(static_cast<double>(shorter * l) / static_cast<double>(s));
    return width <= height ? std::vector<int64_t>{shorter, longer} : std::vector<int64_t>{longer, shorter};
}

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

// One axis's filter: for output index i, `count[i]` taps starting at input index `first[i]`, weights
// coef[i * taps ...] in fixed point.
struct Taps {
    int64_t taps = 0;
    std::vector<int64_t> first, count;
    std::vector<int32_t> coef;
};

double triangle(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs (BILINEAR, box = the whole image) and normalize_coeffs_8bpc.
Taps bilinear_taps(int64_t in_size, int64_t out_size) {
    const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
    const double filterscale = std::max(scale, 1.0);
    const double support = 1.0 * filterscale;
    Taps t;
    t.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
    t.first.resize(out_size);
    t.count.resize(out_size);
    t.coef.assign(static_cast<size_t>(out_size * t.taps), 0);
    std::vector<double> w(static_cast<size_t>(t.taps));
    for (int64_t i = 0; i < out_size; ++i) {
        const double center = (static_cast<double>(i) + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        // C's (int) truncation, then clamped, as Pillow rounds the window's ends
        const int64_t lo = std::max<int64_t>(0, static_cast<int>(center - support + 0.5));
        const int64_t hi = std::min<int64_t>(in_size, static_cast<int>(center + support + 0.5));
        const int64_t n = hi - lo;
        double sum = 0.0;
        for (int64_t k = 0; k < n; ++k) {
            w[k] = triangle((static_cast<double>(k + lo) - center + 0.5) * ss);
            sum += w[k];
        }
        for (int64_t k = 0; k < n; ++k) {
            const double v = sum != 0.0 ? w[k] / sum : w[k];
            const double fixed = v * (1 << kPrecisionBits);
            t.coef[i * t.taps + k] = static_cast<int32_t>(v < 0 ? -0.5 + fixed : 0.5 + fixed);
        }
        t.first[i] = lo;
        t.count[i] = n;
    }
    return t;
}

uint8_t clip8(int32_t acc) {  // acc started at half a unit: this rounds
    const int32_t v = acc >> kPrecisionBits;
    return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

// One pass along x (`horizontal`) or y, over rows [row0, row0 + out.height) of `in` for the horizontal pass.
void resample_pass(const DecodedImage& in, DecodedImage& out, const Taps& t, bool horizontal, int64_t row0) {
    const int64_t c = in.channels;
    for (int64_t y = 0; y < out.height; ++y)
        for (int64_t x = 0; x < out.width; ++x) {
            const int64_t i = horizontal ? x : y;
            const int32_t* k = &t.coef[i * t.taps];
            for (int64_t ch = 0; ch < c; ++ch) {
                int32_t acc = 1 << (kPrecisionBits - 1);
                for (int64_t j = 0; j < t.count[i]; ++j) {
                    const int64_t sx = horizontal ? t.first[i] + j : x, sy = horizontal ? y + row0 : t.first[i] + j;
                    acc += static_cast<int32_t>(in.pixels[(sy * in.width + sx) * c + ch]) * k[j];
                }
                out.pixels[(y * out.width + x) * c + ch] = clip8(acc);
            }
        }
}

DecodedImage blank(int64_t width, int64_t height, int64_t channels) {
    DecodedImage img;
    img.width = width, img.height = height, img.channels = channels;
    img.pixels.resize(static_cast<size_t>(width * height * channels));
    return img;
}

// Python's round(x / 2.0) for an integer x >= 0: half to even.
int64_t half_round_even(int64_t x) {
    const int64_t q = x / 2;
    return (x % 2 == 0 || q % 2 == 0) ? q : q + 1;
}

}  // namespace

DecodedImage resize_bilinear(const DecodedImage& in, int64_t width, int64_t height) {
    const Taps vert = bilinear_taps(in.height, height);
    const DecodedImage* src = &in;
    DecodedImage temp, out;
    int64_t row_shift = 0;
    if (width != in.width) {  // only the rows the vertical pass reads
        const int64_t first = vert.first.front(), last = vert.first.back() + vert.count.back();
        temp = blank(width, last - first, in.channels);
        resample_pass(in, temp, bilinear_taps(in.width, width), true, first);
        src = &temp;
        row_shift = first;
    }
    if (height == in.height) return src == &in ? in : temp;
    out = blank(width, height, in.channels);
    Taps shifted = vert;
    for (auto& f : shifted.first) f -= row_shift;
    resample_pass(*src, out, shifted, false, 0);
    return out;
}

void preprocess(const DecodedImage& image, const Preprocess& options, const std::string& name, uint8_t* out) {
    DecodedImage resized;
    const DecodedImage* img = &image;
    if (options.resize > 0) {
        const auto size = resized_size(image.width, image.height, options.resize);
        if (size[0] != image.width || size[1] != image.height) {
            resized = resize_bilinear(image, size[0], size[1]);
            img = &resized;
        }
    }
    const int64_t c = options.crop;
    if (img->width < c || img->height < c)
        throw DataError(fmt::format("{}: {}x{} after resizing, smaller than the {}x{} crop (dataset.crop)", name,
                                    img->width, img->height, c, c));
    const int64_t top = half_round_even(img->height - c), left = half_round_even(img->width - c);
    const int64_t ch = img->channels;
    for (int64_t k = 0; k < ch; ++k)
        for (int64_t y = 0; y < c; ++y)
            for (int64_t x = 0; x < c; ++x)
                out[(k * c + y) * c + x] = img->pixels[((top + y) * img->width + left + x) * ch + k];
}

}  // namespace neuroemu
