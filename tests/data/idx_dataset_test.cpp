#include "data/idx_dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace neuroemu {
namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist/";

std::string data_error(const std::string& images, const std::string& labels) {
    try {
        load_idx(images, labels);
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}

std::string temp(const std::string& name, const std::string& bytes) {
    const auto p = std::filesystem::temp_directory_path() / ("neuroemu_idx_" + name);
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
}

std::string be32(uint32_t v) {
    return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

TEST(IdxDataset, FashionMnistTestSetHasTenBalancedClasses) {
    const ImageSet s = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz");
    ASSERT_EQ(s.count, 10000);
    EXPECT_EQ(s.height, 28);
    EXPECT_EQ(s.width, 28);
    std::vector<int> per_class(10);
    for (int32_t l : s.labels) ++per_class.at(l);
    for (int c : per_class) EXPECT_EQ(c, 1000);
}

TEST(IdxDataset, InputIsPixelOver255ThenMeanStd) {
    const ImageSet s = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 1);
    std::vector<float> x(784), y(784);
    image_to_input(s, 0, {}, x.data());
    image_to_input(s, 0, {{0.5}, {0.25}}, y.data());
    for (size_t i = 0; i < 784; ++i) {
        EXPECT_FLOAT_EQ(x[i], s.pixels[i] / 255.0f);
        EXPECT_NEAR(y[i], (s.pixels[i] / 255.0 - 0.5) / 0.25, 1e-5);
    }
}

TEST(IdxDataset, BadFilesNameTheFileAndTheProblem) {
    using ::testing::HasSubstr;
    EXPECT_THAT(data_error("/nonexistent/images", "/nonexistent/labels"), HasSubstr("/nonexistent/images: cannot open"));
    const std::string labels = kData + "t10k-labels-idx1-ubyte.gz";
    EXPECT_THAT(data_error(temp("magic", be32(0x0803) + be32(1)), labels), HasSubstr("truncated header"));
    EXPECT_THAT(data_error(temp("wrong", be32(0x0801) + be32(1) + be32(28) + be32(28)), labels),
                HasSubstr("not an IDX image file"));
    // Header claims a billion images but holds one: an error, not a gigabyte allocation.
    EXPECT_THAT(data_error(temp("short", be32(0x0803) + be32(1000000000) + be32(28) + be32(28) + std::string(784, 'x')),
                           labels),
                HasSubstr("truncated: header declares 1000000000 images, file holds 1"));
    EXPECT_THAT(data_error(temp("huge", be32(0x0803) + be32(1) + be32(100000) + be32(28)), labels),
                HasSubstr("outside 1..65536"));
    const std::string one = temp("one", be32(0x0803) + be32(1) + be32(2) + be32(2) + std::string(4, 'x'));
    EXPECT_THAT(data_error(one, labels), HasSubstr("10000 labels, but"));
}

}  // namespace
}  // namespace neuroemu
