// Zoo networks get BatchNorm statistics from data (sim/batch_statistics.h), and synthetic input (data/reader/
// synthetic.cpp) is seeded, smooth and the same for every slice.
#include "sim/batch_statistics.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "data/reader/reader.h"
#include "model/zoo.h"
#include "sim/ann_engine.h"

namespace neuroemu {
namespace {

std::unique_ptr<ImageSource> synthetic(const std::vector<int64_t>& shape, uint64_t seed, Split split = Split::Test) {
    auto params = dataset_readers().params();
    params.push_back(ParamSpec("seed", ParamKind::Int, "1", "", "seed"));
    const Settings s = Schema({{"dataset", "d"}}, params).parse("", "test", "", {fmt::format("seed={}", seed)});
    return dataset_readers().make("synthetic", s)->open({"", split, shape});
}

std::vector<float> inputs_of(const ImageSet& set) {
    std::vector<float> in(static_cast<size_t>(set.count * set.image_size()));
    for (int64_t i = 0; i < set.count; ++i) image_to_input(set, i, {}, in.data() + i * set.image_size());
    return in;
}

TEST(Synthetic, ImagesAreSeededSliceIndependentAndSmooth) {
    const std::vector<int64_t> shape{3, 48, 40};
    const ImageSet all = synthetic(shape, 7)->read(0, 6);
    EXPECT_FALSE(all.labelled);
    EXPECT_EQ(all.channels, 3);
    EXPECT_EQ(all.height, 48);
    EXPECT_EQ(all.width, 40);
    const ImageSet tail = synthetic(shape, 7)->read(4, 2);
    EXPECT_TRUE(std::equal(tail.pixels.begin(), tail.pixels.end(), all.pixels.begin() + 4 * all.image_size()));
    EXPECT_NE(synthetic(shape, 8)->read(0, 1).pixels, all.slice(0, 1).pixels);
    EXPECT_NE(synthetic(shape, 7, Split::Train)->read(0, 1).pixels, all.slice(0, 1).pixels);
    // Smooth: neighbouring pixels differ far less than random pixels do; and the images are not flat.
    double neighbour = 0, spread = 0;
    int64_t n = 0;
    for (int64_t i = 0; i + 1 < static_cast<int64_t>(all.pixels.size()); ++i, ++n) {
        neighbour += std::abs(all.pixels[static_cast<size_t>(i)] - all.pixels[static_cast<size_t>(i + 1)]);
        spread += std::abs(all.pixels[static_cast<size_t>(i)] - all.pixels[static_cast<size_t>((i * 7919) % all.pixels.size())]);
    }
    EXPECT_LT(neighbour / n, 0.2 * spread / n);
    EXPECT_GT(spread / n, 10.0);
}

// After calibration, every BatchNorm maps its input on the calibration batch to mean β and variance γ² per
// channel (the defining property), checked against the layer's actual output.
TEST(BatchStatistics, EveryBatchNormNormalisesItsCalibrationInput) {
    const Network raw = build_zoo({"resnet18", {3, 64, 64}, 10, 3});
    const ImageSet batch = synthetic(raw.input_shape(), 3, Split::Train)->read(0, 4);
    const Network net = with_batch_statistics(raw, inputs_of(batch), 4);
    ASSERT_EQ(net.size(), raw.size());
    ActivationTap tap;
    tap.layers.assign(static_cast<size_t>(net.size()), 0);
    std::vector<int> bns;
    for (int id = 0; id < net.size(); ++id)
        if (net.layer(id).kind == OpKind::BatchNorm && net.consumers(id).size() == 1 &&
            net.layer(net.consumers(id)[0]).kind != OpKind::ReLU)  // a BN feeding only a ReLU is tapped after it
            tap.layers[static_cast<size_t>(id)] = 1, bns.push_back(id);
    ASSERT_GE(bns.size(), 8u);
    std::map<int, std::vector<double>> sum, sq;
    tap.fn = [&](int, int64_t, int layer, const float* v) {
        const auto& shape = net.layer(layer).shape;
        const int64_t plane = shape[1] * shape[2];
        auto& s = sum[layer];
        auto& q = sq[layer];
        s.resize(static_cast<size_t>(shape[0])), q.resize(static_cast<size_t>(shape[0]));
        for (int64_t c = 0; c < shape[0]; ++c)
            for (int64_t i = 0; i < plane; ++i) s[static_cast<size_t>(c)] += v[c * plane + i], q[static_cast<size_t>(c)] += v[c * plane + i] * v[c * plane + i];
    };
    AnnOptions options;
    options.threads = 1;
    ImageSet labelled = batch;
    AnnEngine(net).evaluate(labelled, {}, options, nullptr, &tap);
    for (int id : bns) {
        const auto& shape = net.layer(id).shape;
        const double samples = 4.0 * static_cast<double>(shape[1] * shape[2]);
        const BatchNormAttrs& bn = net.layer(id).bn();
        for (int64_t c = 0; c < shape[0]; ++c) {
            const size_t k = static_cast<size_t>(c);
            const double mean = sum[id][k] / samples, var = sq[id][k] / samples - mean * mean;
            EXPECT_NEAR(mean, bn.beta.data[k], 2e-3) << net.layer(id).name << " channel " << c;
            if (bn.var.data[k] > 1e-6f) {
                EXPECT_NEAR(var, bn.gamma.data[k] * bn.gamma.data[k] * bn.var.data[k] / (bn.var.data[k] + bn.eps),
                            2e-3 * (1 + var))
                    << net.layer(id).name << " channel " << c;
            }
        }
    }
}

// Mean ReLU activity of `net` on `images`: per ReLU layer (in order), the fraction of positive values and the mean.
std::vector<std::pair<double, double>> relu_activity(const Network& net, const ImageSet& images) {
    ActivationTap tap;
    tap.layers.assign(static_cast<size_t>(net.size()), 0);
    for (int id = 0; id < net.size(); ++id)
        if (net.layer(id).kind == OpKind::ReLU) tap.layers[static_cast<size_t>(id)] = 1;
    std::map<int, double> positive, sum, seen;
    tap.fn = [&](int, int64_t, int layer, const float* v) {
        int64_t size = 1;
        for (int64_t d : net.layer(layer).shape) size *= d;
        for (int64_t i = 0; i < size; ++i) positive[layer] += v[i] > 0, sum[layer] += v[i];
        seen[layer] += static_cast<double>(size);
    };
    AnnOptions options;
    options.threads = 1;
    AnnEngine(net).evaluate(images, {}, options, nullptr, &tap);
    std::vector<std::pair<double, double>> out;
    for (const auto& [layer, n] : seen) out.push_back({positive[layer] / n, sum[layer] / n});
    return out;
}

// Through ResNet-50's 53 layers, on images other than the calibration batch, every ReLU stays partly active and
// the mean activation grows with depth only as the residual sums add up (the last block's mean within 30x the
// stem's), where the uncalibrated weights grow it geometrically, by over 100x.
TEST(BatchStatistics, ActivityNeitherDiesNorExplodesThroughResnet50) {
    const Network raw = build_zoo({"resnet50", {3, 64, 64}, 10, 5});
    const ImageSet batch = synthetic(raw.input_shape(), 5, Split::Train)->read(0, 4);
    const Network net = with_batch_statistics(raw, inputs_of(batch), 4);
    const ImageSet fresh = synthetic(raw.input_shape(), 5, Split::Test)->read(0, 4);
    const auto activity = relu_activity(net, fresh);
    ASSERT_EQ(activity.size(), 49u);  // stem + 3 per bottleneck x 16
    for (size_t k = 0; k < activity.size(); ++k) {
        EXPECT_GT(activity[k].first, 0.1) << "ReLU " << k;
        EXPECT_LT(activity[k].first, 0.9) << "ReLU " << k;
    }
    EXPECT_LT(activity.back().second / activity.front().second, 30.0);
    const auto uncalibrated = relu_activity(raw, fresh);
    EXPECT_GT(uncalibrated.back().second / uncalibrated.front().second, 100.0);
}

}  // namespace
}  // namespace neuroemu
