#include "sim/ann_engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "common/error.h"
#include "data/idx_dataset.h"
#include "model/onnx_import.h"
#include "model/zoo.h"

namespace neuroemu {
namespace {

const std::string kModels = std::string(NEUROEMU_SOURCE_DIR) + "/models/";
const std::string kData = "/usr/share/datasets/fashion-mnist/";

std::vector<float> read_logits(const std::string& path, int64_t& n, int64_t& classes) {
    std::ifstream in(path);
    in >> n >> classes;
    std::vector<float> v(static_cast<size_t>(n * classes));
    for (float& x : v) in >> x;
    EXPECT_TRUE(in) << path;
    return v;
}

int64_t argmax(const float* row, int64_t n) { return std::max_element(row, row + n) - row; }

class ShippedModel : public ::testing::TestWithParam<std::string> {};

// C++ inference reproduces PyTorch's logits (saved by scripts/train_fmnist.py) to 1e-4 relative, for the
// BN-fused and the BN-kept export alike, and hence the same top-1 decisions.
TEST_P(ShippedModel, ReproducesPyTorchLogits) {
    int64_t n = 0, classes = 0;
    const auto want = read_logits(kModels + GetParam() + "_fmnist.logits500.txt", n, classes);
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", n);
    for (const std::string suffix : {"_fmnist.onnx", "_fmnist_bn.onnx"}) {
        const AnnEngine engine(import_onnx_file(kModels + GetParam() + suffix));
        AnnOptions opt;
        opt.keep_logits = true;
        opt.threads = 2;
        const AnnResult r = engine.evaluate(set, {}, opt);
        ASSERT_EQ(r.logits.size(), want.size());
        int64_t torch_correct = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float* got = r.logits.data() + i * classes;
            const float* ref = want.data() + i * classes;
            float scale = 0;
            for (int64_t k = 0; k < classes; ++k) scale = std::max(scale, std::fabs(ref[k]));
            for (int64_t k = 0; k < classes; ++k)
                ASSERT_LE(std::fabs(got[k] - ref[k]), 1e-4f * std::max(scale, 1.0f))
                    << suffix << " image " << i << " class " << k;
            EXPECT_EQ(argmax(got, classes), argmax(ref, classes)) << suffix << " image " << i;
            torch_correct += argmax(ref, classes) == set.labels[static_cast<size_t>(i)];
        }
        EXPECT_EQ(r.correct, torch_correct) << suffix;
    }
}

INSTANTIATE_TEST_SUITE_P(Models, ShippedModel, ::testing::Values("resnet8", "resnet20", "tv_basic", "tv_bottleneck"));

// Work sharing must not change results: one thread, one image at a time versus three threads of eight.
TEST(AnnEngine, ResultDoesNotDependOnThreadsOrMicroBatch) {
    const Network net = build_zoo({"resnet8", {1, 28, 28}, 10, 3});
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 37);
    const AnnEngine engine(net);
    AnnOptions a;
    a.keep_logits = true;
    a.threads = 1;
    a.micro_batch = 1;
    AnnOptions b = a;
    b.threads = 3;
    b.micro_batch = 8;
    const auto ra = engine.evaluate(set, {}, a), rb = engine.evaluate(set, {}, b);
    ASSERT_EQ(ra.logits.size(), rb.logits.size());
    for (size_t i = 0; i < ra.logits.size(); ++i) EXPECT_NEAR(ra.logits[i], rb.logits[i], 1e-4f);
}

TEST(AnnEngine, InputShapeMismatchIsAnError) {
    const Network net = build_zoo({"resnet8", {3, 32, 32}, 10, 3});
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 2);
    EXPECT_THROW(AnnEngine(net).evaluate(set, {}, {}), DataError);
}

}  // namespace
}  // namespace neuroemu
