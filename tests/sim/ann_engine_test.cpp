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

struct ShippedCase {
    std::string name;
    bool bn_export;  // the BN-kept export ships too
};
void PrintTo(const ShippedCase& c, std::ostream* os) { *os << c.name << (c.bn_export ? " (+BN export)" : ""); }
class ShippedModel : public ::testing::TestWithParam<ShippedCase> {};

// C++ inference reproduces PyTorch's logits (saved by scripts/train_fmnist.py) to 1e-4 relative, for the
// BN-fused and the BN-kept export alike, and hence the same top-1 decisions. The deeper nets of the paper
// experiments ship only the BN-fused export (models/README.md).
TEST_P(ShippedModel, ReproducesPyTorchLogits) {
    int64_t n = 0, classes = 0;
    const auto want = read_logits(kModels + GetParam().name + "_fmnist.logits500.txt", n, classes);
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", n);
    const std::string name = GetParam().name;
    for (const std::string suffix : {"_fmnist.onnx", "_fmnist_bn.onnx"}) {
        if (!GetParam().bn_export && suffix == "_fmnist_bn.onnx") continue;
        const AnnEngine engine(import_onnx_file(kModels + name + suffix));
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

std::string case_name(const ::testing::TestParamInfo<ShippedCase>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(Models, ShippedModel,
                         ::testing::Values(ShippedCase{"resnet8", true}, ShippedCase{"resnet20", true},
                                           ShippedCase{"tv_basic", true}, ShippedCase{"tv_bottleneck", true}),
                         case_name);
INSTANTIATE_TEST_SUITE_P(ExperimentModels, ShippedModel,
                         ::testing::Values(ShippedCase{"resnet20_e30", false}, ShippedCase{"resnet32", false},
                                           ShippedCase{"resnet44", false}, ShippedCase{"resnet56", false},
                                           ShippedCase{"plain20", false}, ShippedCase{"plain32", false},
                                           ShippedCase{"plain44", false}, ShippedCase{"plain56", false}),
                         case_name);

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

// Naive reference convolution straight from the definition, [C][H][W], zero padding.
std::vector<float> reference_conv(const std::vector<float>& x, const std::vector<int64_t>& in, const Conv2dAttrs& c,
                                  const std::vector<int64_t>& out) {
    const Window2d& w = c.window;
    std::vector<float> y(static_cast<size_t>(out[0] * out[1] * out[2]));
    for (int64_t co = 0; co < out[0]; ++co)
        for (int64_t oy = 0; oy < out[1]; ++oy)
            for (int64_t ox = 0; ox < out[2]; ++ox) {
                double acc = c.bias.empty() ? 0.0 : c.bias.data[static_cast<size_t>(co)];
                for (int64_t ci = 0; ci < in[0]; ++ci)
                    for (int64_t ky = 0; ky < w.kernel_h; ++ky)
                        for (int64_t kx = 0; kx < w.kernel_w; ++kx) {
                            const int64_t iy = oy * w.stride_h - w.pad_top + ky, ix = ox * w.stride_w - w.pad_left + kx;
                            if (iy < 0 || iy >= in[1] || ix < 0 || ix >= in[2]) continue;
                            acc += static_cast<double>(c.weight.data[static_cast<size_t>(((co * in[0] + ci) * w.kernel_h + ky) * w.kernel_w + kx)]) *
                                   x[static_cast<size_t>((ci * in[1] + iy) * in[2] + ix)];
                        }
                y[static_cast<size_t>((co * out[1] + oy) * out[2] + ox)] = static_cast<float>(acc);
            }
    return y;
}

// The blocked convolution kernel against the definition over awkward geometries: channel counts that are not
// a multiple of the vector width (partial and odd channel blocks), strides 1, 2 and 3 (the runtime-stride
// kernel), asymmetric padding, rectangular kernels and maps, widths that leave a partial pixel tile; with and
// without a ReLU fused into the convolution.
TEST(AnnEngine, BlockedConvolutionMatchesDefinition) {
    struct Case {
        int64_t cin, cout, h, w;
        Window2d win;
        bool relu;
    };
    auto win = [](int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr) {
        Window2d w;
        w.kernel_h = kh, w.kernel_w = kw, w.stride_h = sh, w.stride_w = sw;
        w.pad_top = pt, w.pad_left = pl, w.pad_bottom = pb, w.pad_right = pr;
        return w;
    };
    const Case cases[] = {
        {1, 16, 28, 28, win(3, 3, 1, 1, 1, 1, 1, 1), true},  {3, 20, 9, 13, win(3, 3, 1, 1, 1, 1, 1, 1), false},
        {17, 40, 11, 7, win(3, 3, 2, 2, 1, 1, 1, 1), true},  {33, 48, 10, 10, win(1, 1, 2, 2, 0, 0, 0, 0), false},
        {5, 7, 12, 15, win(3, 5, 3, 3, 2, 0, 1, 2), true},   {2, 64, 23, 23, win(7, 7, 2, 2, 3, 3, 3, 3), false},
        {16, 32, 6, 29, win(2, 3, 1, 2, 0, 1, 1, 0), true},
    };
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const Case& k : cases) {
        SCOPED_TRACE(::testing::Message() << "cin " << k.cin << " cout " << k.cout << " map " << k.h << "x" << k.w
                                          << " kernel " << k.win.kernel_h << "x" << k.win.kernel_w << " stride "
                                          << k.win.stride_h << "," << k.win.stride_w);
        Network net("conv");
        net.add_input("x", {k.cin, k.h, k.w});
        Layer l;
        l.name = "c";
        l.kind = OpKind::Conv2d;
        l.inputs = {0};
        Conv2dAttrs a;
        a.window = k.win;
        a.weight.shape = {k.cout, k.cin, k.win.kernel_h, k.win.kernel_w};
        a.weight.data.resize(static_cast<size_t>(shape_numel(a.weight.shape)));
        for (float& v : a.weight.data) v = normal(rng);
        a.bias.shape = {k.cout};
        for (int64_t i = 0; i < k.cout; ++i) a.bias.data.push_back(normal(rng));
        l.attrs = a;
        const int conv = net.add(l);
        if (k.relu) {
            Layer r;
            r.name = "r";
            r.kind = OpKind::ReLU;
            r.inputs = {conv};
            net.add(r);
        }
        const std::vector<int64_t> in_shape{k.cin, k.h, k.w}, out_shape = net.layer(conv).shape;
        const int64_t batch = 3;
        std::vector<float> x(static_cast<size_t>(batch * shape_numel(in_shape)));
        for (float& v : x) v = normal(rng);
        std::vector<float> y(static_cast<size_t>(batch * shape_numel(out_shape)));
        AnnEngine(net).forward(x.data(), batch, y.data());
        for (int64_t b = 0; b < batch; ++b) {
            const std::vector<float> xb(x.begin() + b * shape_numel(in_shape), x.begin() + (b + 1) * shape_numel(in_shape));
            const auto want = reference_conv(xb, in_shape, a, out_shape);
            for (size_t i = 0; i < want.size(); ++i) {
                const float ref = k.relu ? std::max(want[i], 0.0f) : want[i];
                ASSERT_NEAR(y[static_cast<size_t>(b * shape_numel(out_shape)) + i], ref, 1e-4f * (1.0f + std::fabs(ref)))
                    << "image " << b << " element " << i;
            }
        }
    }
}

TEST(AnnEngine, InputShapeMismatchIsAnError) {
    const Network net = build_zoo({"resnet8", {3, 32, 32}, 10, 3});
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 2);
    EXPECT_THROW(AnnEngine(net).evaluate(set, {}, {}), DataError);
}

}  // namespace
}  // namespace neuroemu
