#include "model/network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/memory_limit.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

Layer conv(const std::string& name, int from, int64_t cin, int64_t cout, int k, int s, int p) {
    Layer l;
    l.name = name;
    l.kind = OpKind::Conv2d;
    l.inputs = {from};
    l.attrs = Conv2dAttrs{window(k, s, p), Tensor({cout, cin, k, k}), Tensor({cout})};
    return l;
}

std::string model_error(Network& net, Layer l) {
    try {
        net.add(std::move(l));
    } catch (const ModelError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Network, ConvolutionOutputSizeFollowsTheWindowFormula) {
    Network net;
    net.add_input("x", {3, 28, 27});
    // floor((28 + 2 - 3) / 2) + 1 = 14; floor((27 + 2 - 3) / 2) + 1 = 14
    const int c = net.add(conv("c", 0, 3, 8, 3, 2, 1));
    EXPECT_EQ(net.layer(c).shape, (std::vector<int64_t>{8, 14, 14}));
    EXPECT_EQ(mac_count(net.layer(c)), 8 * 14 * 14 * 3 * 3 * 3);
    EXPECT_EQ(param_count(net.layer(c)), 8 * 3 * 3 * 3 + 8);
}

TEST(Network, PoolingCeilModeMatchesPyTorch) {
    Network net;
    net.add_input("x", {1, 6, 6});
    // PyTorch MaxPool2d(3, 2, ceil_mode=True) on 6x6: ceil((6 - 3) / 2) + 1 = 3
    const int a = net.add(layer("p", OpKind::MaxPool, {0}, PoolAttrs{window(3, 2, 0, true), false}));
    EXPECT_EQ(net.layer(a).shape, (std::vector<int64_t>{1, 3, 3}));
    // MaxPool2d(2, 2, padding=1, ceil_mode=True) on 6x6: ceil((6 + 2 - 2) / 2) + 1 = 4; the last window starts
    // at 3 * 2 = 6 < 6 + 1 (inside input or left padding), so PyTorch keeps it.
    const int b = net.add(layer("q", OpKind::MaxPool, {0}, PoolAttrs{window(2, 2, 1, true), false}));
    EXPECT_EQ(net.layer(b).shape, (std::vector<int64_t>{1, 4, 4}));
    // MaxPool2d(2, 2, ceil_mode=True) on 5x5: ceil(3 / 2) + 1 = 3; the last window starts at 4 < 5: kept.
    Network odd;
    odd.add_input("x", {1, 5, 5});
    const int c = odd.add(layer("r", OpKind::MaxPool, {0}, PoolAttrs{window(2, 2, 0, true), false}));
    EXPECT_EQ(odd.layer(c).shape, (std::vector<int64_t>{1, 3, 3}));
}

TEST(Network, InconsistentShapesNameTheLayer) {
    Network net;
    net.add_input("x", {3, 8, 8});
    EXPECT_THAT(model_error(net, conv("conv1", 0, 4, 8, 3, 1, 1)),
                HasSubstr("layer 'conv1' (Conv2d): weight [8, 4, 3, 3] expects 4 input channels, the input has 3"));
    const int c = net.add(conv("c", 0, 3, 8, 1, 2, 0));
    EXPECT_THAT(model_error(net, layer("sum", OpKind::Add, {0, c})), HasSubstr("input shapes differ"));
    EXPECT_THAT(model_error(net, layer("fc", OpKind::Linear, {c}, LinearAttrs{Tensor({10, 5}), Tensor()})),
                HasSubstr("expects a flattened input"));
    const int f = net.add(layer("flat", OpKind::Flatten, {c}));
    EXPECT_EQ(net.layer(f).shape, (std::vector<int64_t>{8 * 4 * 4}));
    EXPECT_THAT(model_error(net, layer("fc", OpKind::Linear, {f}, LinearAttrs{Tensor({10, 5}), Tensor()})),
                HasSubstr("weight has shape [10, 5], expected [out, 128]"));
    EXPECT_THAT(model_error(net, layer("big", OpKind::MaxPool, {0}, PoolAttrs{window(9, 1, 0), false})),
                HasSubstr("kernel 9 is larger than the padded input"));
    EXPECT_THAT(model_error(net, layer("late", OpKind::ReLU, {99})), HasSubstr("input id 99 does not exist"));
}

TEST(Network, AbsurdInputShapesAreRejected) {
    Network a;
    EXPECT_THROW(a.add_input("x", {3, 0, 8}), ModelError);
    Network b;
    EXPECT_THROW(b.add_input("x", {1 << 20, 1 << 20, 1 << 20}), ModelError);
}

TEST(Network, FeatureMapsOverTheMemoryBudgetAreRefusedWithEstimateAndLimit) {
    ScopedMemoryLimit budget(INT64_C(1000000));
    Network a;  // 3 x 1000 x 1000 float32 = 12000000 bytes
    try {
        a.add_input("x", {3, 1000, 1000});
        FAIL() << "expected ModelError";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("input 'x': one image of shape [3, 1000, 1000] as float32 needs an "
                                                   "estimated 12000000 bytes"));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("memory limit of 1000000 bytes"));
    }
    Network b;
    b.add_input("x", {1, 100, 100});  // 40000 bytes: fits
    // A 1x1 convolution to 64 channels: 64 x 100 x 100 x 4 = 2560000 bytes.
    EXPECT_THAT(model_error(b, conv("wide", 0, 1, 64, 1, 1, 0)),
                ::testing::HasSubstr("layer 'wide' (Conv2d): the feature map [64, 100, 100] of one image as float32 needs "
                                     "an estimated 2560000 bytes"));
}

TEST(Network, NeuronsSitAtReluPoolingAndOutput) {
    Network net;
    net.add_input("x", {1, 8, 8});
    const int c = net.add(conv("c", 0, 1, 4, 3, 1, 1));
    const int r = net.add(layer("r", OpKind::ReLU, {c}));
    const int m = net.add(layer("m", OpKind::MaxPool, {r}, PoolAttrs{window(2, 2, 0), false}));
    const int g = net.add(layer("g", OpKind::GlobalAvgPool, {m}));
    const int f = net.add(layer("f", OpKind::Flatten, {g}));
    const int fc = net.add(layer("fc", OpKind::Linear, {f}, LinearAttrs{Tensor({3, 4}), Tensor({3})}));
    EXPECT_EQ(if_neuron_count(net, c), 0);
    EXPECT_EQ(if_neuron_count(net, r), 4 * 8 * 8);
    EXPECT_EQ(if_neuron_count(net, m), 0);
    EXPECT_EQ(if_neuron_count(net, g), 4);
    EXPECT_EQ(if_neuron_count(net, fc), 3);
    EXPECT_EQ(totals(net).if_neurons, 4 * 8 * 8 + 4 + 3);
    EXPECT_EQ(net.consumers(r), std::vector<int>{m});
}

}  // namespace
}  // namespace neuroemu
