#include "model/zoo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "model/onnx_import.h"

namespace neuroemu {
namespace {

struct TorchvisionCounts {
    std::string arch;
    int64_t params, macs;
};

class TorchvisionZoo : public ::testing::TestWithParam<TorchvisionCounts> {};

// torchvision's published figures at 224x224 (conv + fc MACs).
TEST_P(TorchvisionZoo, CountsEqualTorchvision) {
    const auto& want = GetParam();
    const Network net = build_zoo({want.arch, {3, 224, 224}, 1000, 1});
    const NetworkTotals t = totals(net);
    EXPECT_EQ(t.params, want.params);
    EXPECT_EQ(t.macs, want.macs);
    EXPECT_EQ(net.layer(net.output_id()).shape, std::vector<int64_t>{1000});
}

INSTANTIATE_TEST_SUITE_P(Published, TorchvisionZoo,
                         ::testing::Values(TorchvisionCounts{"resnet18", 11689512, 1814073344},
                                           TorchvisionCounts{"resnet34", 21797672, 3663761408},
                                           TorchvisionCounts{"resnet50", 25557032, 4089184256}),
                         [](const auto& info) { return info.param.arch; });

// He et al. count depth as the weighted layers on the main path: 6n + 2 (projection shortcuts excluded).
TEST(CifarZoo, DepthIsTheNumberOfWeightedLayersOnTheMainPath) {
    for (const std::string arch : {"resnet8", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "plain20",
                                   "plain56"}) {
        const Network net = build_zoo({arch, {3, 32, 32}, 10, 1});
        int weighted = 0, adds = 0;
        for (const auto& l : net.layers()) {
            if ((l.kind == OpKind::Conv2d || l.kind == OpKind::Linear) && l.name.find("downsample") == std::string::npos)
                ++weighted;
            adds += l.kind == OpKind::Add;
        }
        const int depth = std::stoi(arch.substr(arch.find_first_of("0123456789")));
        EXPECT_EQ(weighted, depth) << arch;
        EXPECT_EQ(adds, arch[0] == 'p' ? 0 : (depth - 2) / 2) << arch;
        EXPECT_EQ(net.layer(net.output_id()).shape, std::vector<int64_t>{10});
    }
}

TEST(CifarZoo, StagesHaveSixteenThirtyTwoSixtyFourChannels) {
    const Network net = build_zoo({"resnet20", {3, 32, 32}, 10, 1});
    std::vector<std::vector<int64_t>> relu_shapes;
    for (const auto& l : net.layers())
        if (l.kind == OpKind::ReLU && l.name.find("relu_out") != std::string::npos) relu_shapes.push_back(l.shape);
    ASSERT_EQ(relu_shapes.size(), 9u);
    EXPECT_EQ(relu_shapes[0], (std::vector<int64_t>{16, 32, 32}));
    EXPECT_EQ(relu_shapes[3], (std::vector<int64_t>{32, 16, 16}));
    EXPECT_EQ(relu_shapes[8], (std::vector<int64_t>{64, 8, 8}));
}

TEST(Zoo, WeightsAreDeterministicGivenASeed) {
    const Network a = build_zoo({"resnet8", {1, 28, 28}, 10, 7});
    const Network b = build_zoo({"resnet8", {1, 28, 28}, 10, 7});
    const Network c = build_zoo({"resnet8", {1, 28, 28}, 10, 8});
    EXPECT_EQ(a.layer(1).conv().weight.data, b.layer(1).conv().weight.data);
    EXPECT_NE(a.layer(1).conv().weight.data, c.layer(1).conv().weight.data);
}

TEST(Zoo, UnknownArchitectureAndBadShapesAreErrors) {
    EXPECT_THROW(build_zoo({"resnet19", {3, 32, 32}, 10, 1}), ModelError);
    EXPECT_THROW(build_zoo({"resnet18", {3, 224, 224}, 0, 1}), ModelError);
    EXPECT_THROW(build_zoo({"resnet18", {3, 0, 224}, 10, 1}), ModelError);
}

// The zoo's CIFAR topology must be the one the training script builds in PyTorch: same layer count per kind and
// same parameter count as the exported (BatchNorm kept) model.
TEST(CifarZoo, MatchesTheTrainedPyTorchExport) {
    for (const std::string arch : {"resnet8", "resnet20"}) {
        const Network zoo = build_zoo({arch, {1, 28, 28}, 10, 1});
        const Network onnx =
            import_onnx_file(std::string(NEUROEMU_SOURCE_DIR) + "/models/" + arch + "_fmnist_bn.onnx");
        EXPECT_EQ(totals(zoo).params, totals(onnx).params) << arch;
        EXPECT_EQ(totals(zoo).macs, totals(onnx).macs) << arch;
        EXPECT_EQ(totals(zoo).if_neurons, totals(onnx).if_neurons) << arch;
        EXPECT_EQ(zoo.size(), onnx.size()) << arch;
    }
}

}  // namespace
}  // namespace neuroemu
