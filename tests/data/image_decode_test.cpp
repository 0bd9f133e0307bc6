// Decoding and preprocessing against torchvision/PIL (the fixtures of scripts/make_preprocess_fixtures.py), and
// images that must be rejected.
//
// Tolerance. PNG decoding is lossless and the resampling reimplements Pillow's fixed-point algorithm, so PNG
// cases must match exactly. JPEG cases are decoded by libjpeg-turbo with the settings PIL uses (JDCT_ISLOW,
// fancy upsampling), so with the same library they match exactly too (they do here: Debian's PIL and neuroemu
// use the same libjpeg62-turbo); we allow max |diff| <= 1 level and a mean |diff| <= 0.05 for JPEG so that a
// PIL built against another libjpeg-turbo release (a pip wheel regenerating the fixtures) cannot fail the test
// over IDCT/upsampling rounding, which moves a pixel by at most one level. Every case must also agree on the
// top-1 of a fixed projection computed by torch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "data/image_decode.h"
#include "data/preprocess.h"
#include "data_test_util.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
using test::data_error;
using test::kFixtures;
using test::read_bytes;

struct Case {
    std::string image;
    Preprocess options;
    std::string reference;
    int top1;
};

std::vector<Case> cases() {
    std::ifstream in(kFixtures + "/reference.txt");
    std::vector<Case> out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream f(line);
        Case c;
        f >> c.image >> c.options.resize >> c.options.crop >> c.options.channels >> c.reference >> c.top1;
        out.push_back(c);
    }
    return out;
}

bool is_jpeg(const std::string& name) {
    const std::string ext = name.substr(name.rfind('.') + 1);
    return ext == "jpg" || ext == "JPEG";
}

// splitmix64, as the script draws its projection
uint64_t splitmix64(uint64_t& s) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The argmax over 4 classes of W x, x the pixels normalised as torchvision's ToTensor + Normalize.
int projected_top1(const std::vector<uint8_t>& pixels, int channels) {
    const double mean3[] = {0.485, 0.456, 0.406}, std3[] = {0.229, 0.224, 0.225};
    const size_t n = pixels.size(), plane = n / channels;
    uint64_t state = 2024;
    std::vector<double> logits(4, 0.0);
    for (auto& logit : logits)
        for (size_t j = 0; j < n; ++j) {
            const double w = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53 * 2.0 - 1.0;
            const size_t c = j / plane;
            const double x = channels == 3 ? (pixels[j] / 255.0 - mean3[c]) / std3[c] : (pixels[j] / 255.0 - 0.5) / 0.25;
            logit += w * x;
        }
    return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

TEST(ImagePreprocess, MatchesTorchvisionOnTheFixtures) {
    const auto all = cases();
    ASSERT_GE(all.size(), 10u);
    for (const auto& c : all) {
        SCOPED_TRACE(c.image + " -> " + c.reference);
        const std::string path = kFixtures + "/imagefolder/" + c.image;
        const std::vector<uint8_t> ref = read_bytes(kFixtures + "/reference/" + c.reference);
        const int64_t size = c.options.channels * c.options.crop * c.options.crop;
        ASSERT_EQ(static_cast<int64_t>(ref.size()), size);
        std::vector<uint8_t> ours(static_cast<size_t>(size));
        preprocess(decode_image_file(path, c.options.channels), c.options, path, ours.data());
        int max_diff = 0;
        double sum_diff = 0;
        for (int64_t i = 0; i < size; ++i) {
            const int d = std::abs(int(ours[i]) - int(ref[i]));
            max_diff = std::max(max_diff, d);
            sum_diff += d;
        }
        if (is_jpeg(c.image)) {
            EXPECT_LE(max_diff, 1);
            EXPECT_LE(sum_diff / size, 0.05);
        } else {
            EXPECT_EQ(max_diff, 0);
        }
        EXPECT_EQ(projected_top1(ref, c.options.channels), c.top1) << "the test's projection is not the script's";
        EXPECT_EQ(projected_top1(ours, c.options.channels), c.top1);
    }
}

TEST(ImagePreprocess, ResizeKeepsTorchvisionsSizeArithmetic) {
    EXPECT_EQ(resized_size(301, 227, 256), (std::vector<int64_t>{339, 256}));  // int(256 * 301 / 227) = 339
    EXPECT_EQ(resized_size(227, 301, 256), (std::vector<int64_t>{256, 339}));
    EXPECT_EQ(resized_size(500, 500, 64), (std::vector<int64_t>{64, 64}));
}

TEST(ImagePreprocess, AConstantImageStaysConstantThroughTheFilter) {
    DecodedImage img;
    img.width = 37, img.height = 23, img.channels = 3;
    img.pixels.assign(37 * 23 * 3, 200);
    for (const auto& [w, h] : std::vector<std::pair<int64_t, int64_t>>{{11, 7}, {100, 64}, {37, 5}, {3, 23}}) {
        const DecodedImage out = resize_bilinear(img, w, h);
        ASSERT_EQ(out.pixels.size(), static_cast<size_t>(w * h * 3));
        for (uint8_t v : out.pixels) ASSERT_EQ(v, 200);
    }
}

TEST(ImagePreprocess, AnImageSmallerThanTheCropIsADataErrorNamingIt) {
    const std::string path = kFixtures + "/imagefolder/gamma/la_64x80.png";
    std::vector<uint8_t> out(3 * 100 * 100);
    EXPECT_THAT(data_error([&] { preprocess(decode_image_file(path), {0, 100, 3}, path, out.data()); }),
                HasSubstr(path + ": 64x80 after resizing, smaller than the 100x100 crop"));
}

// ---- images that must be rejected ----

std::string decode_error(const std::vector<uint8_t>& bytes, const std::string& name) {
    return data_error([&] { decode_image(bytes, name); });
}

std::vector<uint8_t> fixture(const std::string& image) { return read_bytes(kFixtures + "/imagefolder/" + image); }

TEST(ImageDecode, TruncatedJpegIsAnErrorNotGreyPadding) {
    auto bytes = fixture("alpha/rgb_301x227.jpg");
    bytes.resize(bytes.size() / 2);
    EXPECT_THAT(decode_error(bytes, "cut.jpg"), HasSubstr("cut.jpg: bad JPEG image: Premature end of JPEG file"));
    auto progressive = fixture("beta/grey_640x479.JPEG");
    progressive.resize(progressive.size() * 2 / 3);
    EXPECT_THAT(decode_error(progressive, "cut.JPEG"), HasSubstr("cut.JPEG: bad JPEG image"));
}

TEST(ImageDecode, TruncatedPngIsAnError) {
    auto bytes = fixture("alpha/rgb_97x150.png");
    bytes.resize(bytes.size() / 2);
    EXPECT_THAT(decode_error(bytes, "cut.png"), HasSubstr("cut.png: bad PNG image: truncated"));
    bytes.resize(20);  // inside the header
    EXPECT_THAT(decode_error(bytes, "cut.png"), HasSubstr("cut.png: bad PNG image"));
}

TEST(ImageDecode, CorruptBytesAreErrorsNamingTheFile) {
    EXPECT_THAT(decode_error({'h', 'e', 'l', 'l', 'o'}, "x.jpg"), HasSubstr("x.jpg: not a JPEG or PNG image"));
    EXPECT_THAT(decode_error({}, "empty.png"), HasSubstr("empty.png: not a JPEG or PNG image"));
    auto jpeg = fixture("alpha/rgb_301x227.jpg");
    for (size_t i = 4; i < 200; ++i) jpeg[i] = static_cast<uint8_t>(i * 37);  // the headers, after FF D8 FF E0
    EXPECT_THAT(decode_error(jpeg, "bad.jpg"), HasSubstr("bad.jpg: bad JPEG image"));
    auto png = fixture("alpha/rgb_97x150.png");
    for (size_t i = png.size() / 2; i < png.size() / 2 + 64; ++i) png[i] ^= 0x5a;  // inside IDAT: CRC error
    EXPECT_THAT(decode_error(png, "bad.png"), HasSubstr("bad.png: bad PNG image"));
}

// A PNG with one IHDR, one IDAT of zeros (deflated), IEND; CRCs correct.
std::vector<uint8_t> handmade_png(uint32_t width, uint32_t height, uint8_t depth, uint8_t colour) {
    std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    auto put32 = [](std::vector<uint8_t>& v, uint32_t x) {
        for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
    };
    auto chunk = [&](const char* type, const std::vector<uint8_t>& data) {
        put32(out, static_cast<uint32_t>(data.size()));
        std::vector<uint8_t> body(type, type + 4);
        body.insert(body.end(), data.begin(), data.end());
        out.insert(out.end(), body.begin(), body.end());
        put32(out, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
    };
    std::vector<uint8_t> ihdr;
    put32(ihdr, width);
    put32(ihdr, height);
    ihdr.insert(ihdr.end(), {depth, colour, 0, 0, 0});
    chunk("IHDR", ihdr);
    std::vector<uint8_t> raw(64, 0), z(128);
    uLongf zsize = z.size();
    compress(z.data(), &zsize, raw.data(), raw.size());
    z.resize(zsize);
    chunk("IDAT", z);
    chunk("IEND", {});
    return out;
}

TEST(ImageDecode, SixteenBitPngIsRejectedClearly) {
    EXPECT_THAT(decode_error(handmade_png(4, 4, 16, 2), "deep.png"),
                HasSubstr("deep.png: bad PNG image: 16-bit PNG not supported"));
    EXPECT_THAT(decode_error(handmade_png(4, 4, 16, 0), "deep_grey.png"), HasSubstr("16-bit PNG not supported"));
}

TEST(ImageDecode, AbsurdDeclaredSizesAreRejectedBeforeAllocating) {
    EXPECT_THAT(decode_error(handmade_png(100000, 100000, 8, 2), "huge.png"),
                HasSubstr("huge.png: bad PNG image: 100000x100000 pixels, more than the 268435456 allowed"));
    auto jpeg = fixture("alpha/rgb_301x227.jpg");
    size_t sof = 2;
    while (!(jpeg[sof] == 0xFF && jpeg[sof + 1] == 0xC0)) ++sof;  // baseline SOF0: FFC0 len(2) precision h(2) w(2)
    for (size_t i : {sof + 5, sof + 6, sof + 7, sof + 8}) jpeg[i] = 0xEA;  // 60138 x 60138
    EXPECT_THAT(decode_error(jpeg, "huge.jpg"), HasSubstr("huge.jpg: bad JPEG image: 60138x60138 pixels"));
}

TEST(ImageDecode, GreyAndAlphaBecomeRgbOrGreyAsPilConverts) {
    const DecodedImage grey = decode_image(fixture("beta/grey_83x61.png"), "g", 3);
    ASSERT_EQ(grey.channels, 3);
    EXPECT_EQ(grey.width, 83);
    EXPECT_EQ(grey.height, 61);
    const DecodedImage one = decode_image(fixture("beta/grey_83x61.png"), "g", 1);
    for (size_t i = 0; i < one.pixels.size(); ++i) {
        ASSERT_EQ(grey.pixels[3 * i], one.pixels[i]);
        ASSERT_EQ(grey.pixels[3 * i + 2], one.pixels[i]);
    }
    const DecodedImage rgba = decode_image(fixture("gamma/rgba_150x97.png"), "a", 3);
    EXPECT_EQ(rgba.channels, 3);
    EXPECT_EQ(rgba.pixels.size(), 150u * 97u * 3u);
}

}  // namespace
}  // namespace neuroemu
