// ANN -> S-ResNet conversion (convert/convert.h, convert/compensation.h), checked against independent
// references: the ANN engine's activations of the same network, the paper's formulas (Eq. 1, 2, 4-6, 12, 14)
// evaluated in the test, and the shipped trained models on real Fashion-MNIST images.
//
// Per-neuron firing rates: the engine reports spike totals per population, so to read one neuron's count the
// tests silence the others. An IF neuron's input depends only on its own synapses, so zeroing the weights and
// bias of the other channels of the measured population, and (all convolutions being 1x1) zeroing the other
// pixels, leaves exactly one neuron able to fire; every bias that would make a silenced neuron fire is <= 0.
#include "convert/convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"
#include "convert/compensation.h"
#include "model/onnx_import.h"
#include "sim/ann_engine.h"
#include "sim/snn_engine.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

const std::string kModels = std::string(NEUROEMU_SOURCE_DIR) + "/models/";
const std::string kData = "/usr/share/datasets/fashion-mnist/";

Layer conv(const std::string& name, int from, std::vector<int64_t> shape, std::vector<float> w, std::vector<float> b,
           Window2d win) {
    Conv2dAttrs a{win, Tensor(shape, std::move(w)), b.empty() ? Tensor() : Tensor({shape[0]}, std::move(b))};
    return layer(name, OpKind::Conv2d, {from}, a);
}

Layer linear(const std::string& name, int from, int64_t out, int64_t in, std::vector<float> w, std::vector<float> b) {
    return layer(name, OpKind::Linear, {from}, LinearAttrs{Tensor({out, in}, std::move(w)), Tensor({out}, std::move(b))});
}

Layer batchnorm(const std::string& name, int from, std::vector<float> gamma, std::vector<float> beta,
                std::vector<float> mean, std::vector<float> var, float eps) {
    const int64_t c = static_cast<int64_t>(gamma.size());
    return layer(name, OpKind::BatchNorm, {from},
                 BatchNormAttrs{Tensor({c}, std::move(gamma)), Tensor({c}, std::move(beta)), Tensor({c}, std::move(mean)),
                                Tensor({c}, std::move(var)), eps});
}

ImageSet one_image(int64_t c, int64_t h, int64_t w, std::vector<uint8_t> pixels) {
    ImageSet s;
    s.count = 1, s.channels = c, s.height = h, s.width = w;
    s.pixels = std::move(pixels);
    s.labels = {0};
    return s;
}

// The ANN activation of layer `id` for image 0 of `set`, [C][H][W].
std::vector<float> activation(const Network& net, int id, const ImageSet& set) {
    std::vector<float> x(static_cast<size_t>(set.image_size())), out(static_cast<size_t>(AnnEngine(net).output_size()));
    image_to_input(set, 0, {}, x.data());
    std::vector<float> act;
    ActivationTap tap;
    tap.layers.assign(static_cast<size_t>(net.size()), 0);
    tap.layers[static_cast<size_t>(id)] = 1;
    tap.fn = [&](int, int64_t, int, const float* v) { act.assign(v, v + shape_numel(net.layer(id).shape)); };
    AnnEngine(net).forward(x.data(), 1, out.data(), &tap);
    return act;
}

int population_named(const SnnModel& m, const std::string& name) {
    for (size_t i = 0; i < m.populations.size(); ++i)
        if (m.populations[i].name == name) return static_cast<int>(i);
    ADD_FAILURE() << "no population " << name;
    return -1;
}

// A copy of `m` in which only channel `c` of population `pop` receives any current (weights and bias of the
// other channels zeroed; for a Linear projection into a vector population a channel is one neuron).
SnnModel only_channel(const SnnModel& m, int pop, int64_t c) {
    SnnModel out = m;
    Population& p = out.populations[static_cast<size_t>(pop)];
    for (size_t k = 0; k < p.bias.size(); ++k)
        if (static_cast<int64_t>(k) != c) p.bias[k] = 0.0f;
    for (Projection& pr : out.projections) {
        if (pr.target != pop) continue;
        const int64_t rows = pr.weight.shape[0], per_row = pr.weight.numel() / rows;  // [C] or [C][...]
        for (int64_t r = 0; r < rows; ++r)
            if (r != c)
                for (int64_t k = 0; k < per_row; ++k) pr.weight.data[static_cast<size_t>(r * per_row + k)] = 0.0f;
    }
    return out;
}

int64_t spikes(const SnnModel& m, int pop, const ImageSet& set, int64_t steps) {
    SnnOptions o;
    o.steps = steps;
    o.threads = 1;
    return SnnEngine(m).evaluate(set, {}, o).populations[static_cast<size_t>(pop)].spikes;
}

// ---------------------------------------------------------------------------------------------------------
// Eq. 1: BatchNorm folding.

// A hand-made conv + BN (with and without a conv bias, eps 1e-3): the folded weights and bias are
// W~ = gamma W / sqrt(var + eps) and b~ = gamma (b - mean) / sqrt(var + eps) + beta, evaluated here in double.
TEST(FoldBatchnorm, FoldsWithEquationOne) {
    Network net("bn");
    net.add_input("x", {2, 4, 4});
    std::vector<float> w1(3 * 2 * 3 * 3), w2(2 * 3 * 1 * 1);
    for (size_t i = 0; i < w1.size(); ++i) w1[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
    for (size_t i = 0; i < w2.size(); ++i) w2[i] = 0.25f * static_cast<float>(i) - 0.5f;
    const std::vector<float> b1 = {0.1f, -0.2f, 0.3f};
    const int c1 = net.add(conv("c1", 0, {3, 2, 3, 3}, w1, b1, window(3, 1, 1)));
    const std::vector<float> g1 = {1.5f, 0.5f, -0.7f}, be1 = {0.2f, -0.1f, 0.0f}, m1 = {0.3f, -0.4f, 1.0f}, v1 = {0.8f, 2.0f, 0.05f};
    const int bn1 = net.add(batchnorm("bn1", c1, g1, be1, m1, v1, 1e-3f));
    const int r1 = net.add(layer("r1", OpKind::ReLU, {bn1}));
    const int c2 = net.add(conv("c2", r1, {2, 3, 1, 1}, w2, {}, window(1, 1, 0)));  // no bias: folding makes one
    const std::vector<float> g2 = {2.0f, 0.9f}, be2 = {-0.3f, 0.4f}, m2 = {0.1f, 0.2f}, v2 = {1.0f, 0.3f};
    net.add(batchnorm("bn2", c2, g2, be2, m2, v2, 1e-3f));

    const Network f = fold_batchnorm(net);
    ASSERT_EQ(f.size(), 4);
    for (const Layer& l : f.layers()) EXPECT_NE(l.kind, OpKind::BatchNorm) << l.name;
    auto check = [](const Layer& l, const std::vector<float>& w, const std::vector<float>& b, const std::vector<float>& g,
                    const std::vector<float>& be, const std::vector<float>& mu, const std::vector<float>& var) {
        ASSERT_EQ(l.kind, OpKind::Conv2d);
        const size_t outs = g.size(), per = w.size() / outs;
        ASSERT_EQ(l.conv().bias.data.size(), outs) << l.name;
        for (size_t o = 0; o < outs; ++o) {
            const double scale = g[o] / std::sqrt(static_cast<double>(var[o]) + 1e-3);
            for (size_t k = 0; k < per; ++k)
                EXPECT_NEAR(l.conv().weight.data[o * per + k], w[o * per + k] * scale, 1e-6 * std::max(1.0, std::fabs(w[o * per + k] * scale)));
            const double want_b = ((b.empty() ? 0.0 : b[o]) - mu[o]) * scale + be[o];
            EXPECT_NEAR(l.conv().bias.data[o], want_b, 1e-6 * std::max(1.0, std::fabs(want_b))) << l.name << " " << o;
        }
    };
    check(f.layer(1), w1, b1, g1, be1, m1, v1);
    check(f.layer(3), w2, {}, g2, be2, m2, v2);
    EXPECT_EQ(f.output_id(), 3);
    EXPECT_EQ(f.layer(f.output_id()).name, "c2");
}

// The trained ResNet-20 exported with its BatchNorms kept: the folded network has no BatchNorm, and the ANN
// engine gives the same logits and the same activation at every ReLU (matched by name) as the unfolded network,
// to 1e-4 of each tensor's largest magnitude, on real test images.
TEST(FoldBatchnorm, FoldedResnet20MatchesUnfoldedOnRealImages) {
    const Network bn = import_onnx_file(kModels + "resnet20_fmnist_bn.onnx");
    int64_t bns = 0;
    for (const Layer& l : bn.layers()) bns += l.kind == OpKind::BatchNorm;
    ASSERT_GT(bns, 10);
    const Network f = fold_batchnorm(bn);
    EXPECT_EQ(f.size(), bn.size() - bns);
    for (const Layer& l : f.layers()) EXPECT_NE(l.kind, OpKind::BatchNorm) << l.name;
    EXPECT_NO_THROW(population_layers(f));

    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 4);
    const AnnEngine ea(bn), eb(f);
    ASSERT_EQ(ea.output_size(), eb.output_size());
    // Activations of every ReLU, per network, by layer name.
    auto relu_taps = [](const Network& net, std::map<std::string, std::vector<float>>& acts) {
        ActivationTap tap;
        tap.layers.assign(static_cast<size_t>(net.size()), 0);
        for (int id = 0; id < net.size(); ++id) tap.layers[static_cast<size_t>(id)] = net.layer(id).kind == OpKind::ReLU;
        tap.fn = [&net, &acts](int, int64_t, int id, const float* v) {
            acts[net.layer(id).name].assign(v, v + shape_numel(net.layer(id).shape));
        };
        return tap;
    };
    for (int64_t i = 0; i < set.count; ++i) {
        std::vector<float> x(static_cast<size_t>(set.image_size()));
        image_to_input(set, i, {}, x.data());
        std::vector<float> ya(static_cast<size_t>(ea.output_size())), yb(ya.size());
        std::map<std::string, std::vector<float>> aa, ab;
        const ActivationTap ta = relu_taps(bn, aa), tb = relu_taps(f, ab);
        ea.forward(x.data(), 1, ya.data(), &ta);
        eb.forward(x.data(), 1, yb.data(), &tb);
        auto close = [](const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
            ASSERT_EQ(a.size(), b.size()) << what;
            float scale = 1.0f;
            for (float v : a) scale = std::max(scale, std::fabs(v));
            for (size_t k = 0; k < a.size(); ++k) ASSERT_NEAR(a[k], b[k], 1e-4f * scale) << what << " [" << k << "]";
        };
        close(ya, yb, "logits of image " + std::to_string(i));
        EXPECT_GE(aa.size(), 19u);
        EXPECT_EQ(aa.size(), ab.size());
        for (const auto& [name, act] : aa) {
            ASSERT_TRUE(ab.count(name)) << name;
            close(act, ab.at(name), name + " of image " + std::to_string(i));
        }
    }
}

// A BatchNorm that does not directly follow a convolution read by nothing else cannot be folded: the ModelError
// names it. population_layers refuses an unfolded network, naming the BatchNorm too.
TEST(FoldBatchnorm, RejectsBatchNormThatCannotBeFolded) {
    const std::vector<float> one = {1.0f}, zero = {0.0f};
    auto error = [](const Network& net) {
        try {
            fold_batchnorm(net);
        } catch (const ModelError& e) {
            return std::string(e.what());
        }
        return std::string("NO ERROR");
    };
    {
        Network net;
        net.add_input("x", {1, 3, 3});
        const int c = net.add(conv("c", 0, {1, 1, 1, 1}, {1.0f}, {0.0f}, window(1, 1, 0)));
        const int r = net.add(layer("r", OpKind::ReLU, {c}));
        net.add(batchnorm("bn_after_relu", r, one, zero, zero, one, 1e-5f));
        EXPECT_THAT(error(net), HasSubstr("bn_after_relu"));
        std::string population_error = "NO ERROR";
        try {
            population_layers(net);
        } catch (const ModelError& e) {
            population_error = e.what();
        }
        EXPECT_THAT(population_error, HasSubstr("bn_after_relu"));
    }
    {
        Network net;
        net.add_input("x", {1, 3, 3});
        net.add(batchnorm("bn_on_input", 0, one, zero, zero, one, 1e-5f));
        EXPECT_THAT(error(net), HasSubstr("bn_on_input"));
    }
    {
        // The convolution is also read by a ReLU: folding would change what the ReLU sees.
        Network net;
        net.add_input("x", {1, 3, 3});
        const int c = net.add(conv("c", 0, {1, 1, 1, 1}, {1.0f}, {0.0f}, window(1, 1, 0)));
        const int b = net.add(batchnorm("bn_shared_conv", c, one, zero, zero, one, 1e-5f));
        const int r = net.add(layer("r", OpKind::ReLU, {c}));
        net.add(layer("add", OpKind::Add, {b, r}));
        EXPECT_THAT(error(net), HasSubstr("bn_shared_conv"));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Eq. 2 on one layer: IF neurons with constant input currents.

// input [1,1,6] -> flatten -> linear (6 neurons) -> ReLU -> linear readout. The neurons: a mix of positive
// weights and a bias, bias only, negative input (rate 0), a saturating one (rate clamped to 1), mixed signs with
// a negative bias, and one input alone. After T steps each neuron's rate equals clamp(a / lambda, 0, 1) within
// 1/T, a being the ANN activation of the same network, without normalisation (lambda = 1) and with a hand-made
// calibration (lambda = 1.3, weights and bias divided by it). With reset to zero, a neuron with constant input z
// instead fires once every ceil(1/z) steps.
TEST(Conversion, LinearLayerRatesMatchNormalisedActivations) {
    Network net("one_linear");
    net.add_input("x", {1, 1, 6});
    const int flat = net.add(layer("flat", OpKind::Flatten, {0}));
    const std::vector<float> w = {0.5f, 0.2f, 0, 0, 0, 0,         // n0: positive weights and bias
                                  0, 0, 0, 0, 0, 0,               // n1: bias only
                                  -0.8f, 0, 0, 0, 0, 0,           // n2: negative input
                                  1.5f, 0, 0, 0, 0, 0,            // n3: saturates
                                  0.3f, -0.2f, 0.4f, 0.1f, 0.25f, -0.05f,  // n4: mixed signs
                                  0, 0, 0, 0, 0, 0.6f};           // n5: one input, no bias
    const std::vector<float> b = {0.05f, 0.37f, -0.1f, 0.2f, -0.05f, 0.0f};
    const int fc1 = net.add(linear("fc1", flat, 6, 6, w, b));
    const int relu = net.add(layer("relu", OpKind::ReLU, {fc1}));
    std::vector<float> w2(12, 0.1f);
    net.add(linear("fc2", relu, 2, 6, w2, {0.0f, 0.0f}));
    const ImageSet set = one_image(1, 1, 6, {255, 204, 128, 77, 10, 179});
    const std::vector<float> a = activation(net, relu, set);
    ASSERT_EQ(a.size(), 6u);
    EXPECT_EQ(a[2], 0.0f);
    EXPECT_NEAR(a[1], 0.37f, 1e-6f);

    const int64_t T = 64;
    for (float lambda : {1.0f, 1.3f}) {
        Calibration cal;
        cal.layer_lambda = {{relu, lambda}, {net.output_id(), 2.0f}};
        ConversionOptions opt;
        opt.normalise = lambda != 1.0f;
        for (ResetMode reset : {ResetMode::Subtract, ResetMode::Zero}) {
            opt.reset = reset;
            const SnnModel m = build_snn(net, cal, opt);
            const int pop = population_named(m, "relu");
            ASSERT_EQ(m.populations[static_cast<size_t>(pop)].lambda, std::vector<float>{lambda});
            EXPECT_FALSE(m.populations[static_cast<size_t>(m.output)].spiking);
            int64_t sum = 0;
            for (int64_t j = 0; j < 6; ++j) {
                const int64_t count = spikes(only_channel(m, pop, j), pop, set, T);
                sum += count;
                const double z = a[static_cast<size_t>(j)] / static_cast<double>(lambda);
                if (reset == ResetMode::Subtract) {
                    EXPECT_LE(std::fabs(static_cast<double>(count) / T - std::clamp(z, 0.0, 1.0)), 1.0 / T + 1e-9)
                        << "lambda " << lambda << " neuron " << j << ": " << count << " spikes, a/lambda " << z;
                } else if (z <= 0) {
                    EXPECT_EQ(count, 0) << j;
                } else if (std::fabs(1.0 / z - std::round(1.0 / z)) > 1e-3) {  // no float tie at the threshold
                    const int64_t period = z >= 1 ? 1 : static_cast<int64_t>(std::ceil(1.0 / z));
                    EXPECT_EQ(count, T / period) << "lambda " << lambda << " neuron " << j << " z " << z;
                } else {
                    ADD_FAILURE() << "pick pixels so that 1/z is not an integer: " << z;
                }
            }
            // The neurons do not interact: together they fire what they fire alone.
            EXPECT_EQ(spikes(m, pop, set, T), sum);
        }
    }
}

// input [1,1,5] -> 1x1 conv (4 channels) -> ReLU -> flatten -> linear readout; channels: positive weight,
// negative weight (rate 0), bias only (every position alike), weight with a negative bias (saturating at lambda
// 1). Each of the 20 neurons fires at clamp(a / lambda, 0, 1) within 1/T, for lambda 1 and 1.2.
TEST(Conversion, ConvLayerRatesMatchNormalisedActivations) {
    Network net("one_conv");
    net.add_input("x", {1, 1, 5});
    const int c = net.add(conv("conv", 0, {4, 1, 1, 1}, {0.9f, -0.6f, 0.0f, 1.4f}, {0.0f, 0.0f, 0.45f, -0.3f}, window(1, 1, 0)));
    const int relu = net.add(layer("relu", OpKind::ReLU, {c}));
    const int flat = net.add(layer("flat", OpKind::Flatten, {relu}));
    net.add(linear("fc", flat, 2, 20, std::vector<float>(40, 0.05f), {0.0f, 0.0f}));
    const std::vector<uint8_t> pixels = {255, 140, 60, 0, 220};
    const ImageSet set = one_image(1, 1, 5, pixels);
    const std::vector<float> a = activation(net, relu, set);
    const int64_t T = 64;
    for (float lambda : {1.0f, 1.2f}) {
        Calibration cal;
        cal.layer_lambda = {{relu, lambda}, {net.output_id(), 1.0f}};
        ConversionOptions opt;
        opt.normalise = lambda != 1.0f;
        const SnnModel m = build_snn(net, cal, opt);
        const int pop = population_named(m, "relu");
        int64_t saturated = 0, silent = 0;
        for (int64_t ch = 0; ch < 4; ++ch) {
            const SnnModel one = only_channel(m, pop, ch);
            for (int64_t x = 0; x < 5; ++x) {
                int64_t count;
                if (ch == 2) {  // bias only: all five positions fire alike
                    const int64_t total = spikes(one, pop, set, T);
                    ASSERT_EQ(total % 5, 0);
                    count = total / 5;
                } else {  // only this pixel on: the channel's other neurons see no current (bias <= 0)
                    std::vector<uint8_t> px(5, 0);
                    px[static_cast<size_t>(x)] = pixels[static_cast<size_t>(x)];
                    count = spikes(one, pop, one_image(1, 1, 5, px), T);
                }
                const double z = a[static_cast<size_t>(ch * 5 + x)] / static_cast<double>(lambda);
                saturated += z > 1, silent += z <= 0;
                EXPECT_LE(std::fabs(static_cast<double>(count) / T - std::clamp(z, 0.0, 1.0)), 1.0 / T + 1e-9)
                    << "lambda " << lambda << " channel " << ch << " position " << x << ": " << count << " spikes, a/lambda " << z;
            }
        }
        EXPECT_GT(silent, 0);
        if (lambda == 1.0f) {
            EXPECT_GT(saturated, 0);
        }
    }
}

// Beyond the paper, max pooling before the neuron: input [1,2,2] -> 1x1 conv (3 channels) -> ReLU -> MaxPool 2x2
// -> flatten -> linear readout. With max_pool = current the ReLU's neurons become current collectors and each
// channel's pooled neuron fires at clamp(maxpool(relu(a)) / lambda, 0, 1) within 1/T (channels: in range,
// silent, saturated). The paper's gate stays the default. A ReLU that something else also reads cannot be pooled
// this way, and conversion says so.
TEST(Conversion, MaxPoolOfCurrentsFiresAtThePooledActivation) {
    Network net("max_current");
    net.add_input("x", {1, 2, 2});
    const int c = net.add(conv("conv", 0, {3, 1, 1, 1}, {0.9f, -0.6f, 1.7f}, {0.05f, -0.1f, -0.2f}, window(1, 1, 0)));
    const int relu = net.add(layer("relu", OpKind::ReLU, {c}));
    const int pool = net.add(layer("pool", OpKind::MaxPool, {relu}, PoolAttrs{window(2, 2, 0), false}));
    const int flat = net.add(layer("flat", OpKind::Flatten, {pool}));
    net.add(linear("fc", flat, 2, 3, std::vector<float>(6, 0.1f), {0.0f, 0.0f}));
    const ImageSet set = one_image(1, 2, 2, {255, 140, 60, 0});
    const std::vector<float> a = activation(net, pool, set);
    const float lambda = 1.2f;
    Calibration cal;
    cal.layer_lambda = {{relu, lambda}, {pool, lambda}, {net.output_id(), 1.0f}};
    ConversionOptions opt;
    const SnnModel gate = build_snn(net, cal, opt);
    EXPECT_EQ(gate.populations[static_cast<size_t>(population_named(gate, "pool"))].kind, PopulationKind::MaxGate);
    opt.max_pool = MaxPoolMode::Current;
    const SnnModel m = build_snn(net, cal, opt);
    const int r = population_named(m, "relu"), q = population_named(m, "pool");
    EXPECT_EQ(m.populations[static_cast<size_t>(r)].kind, PopulationKind::Current);
    EXPECT_FALSE(m.populations[static_cast<size_t>(r)].spiking);
    EXPECT_EQ(m.populations[static_cast<size_t>(q)].kind, PopulationKind::IF);
    EXPECT_EQ(m.populations[static_cast<size_t>(q)].lambda, m.populations[static_cast<size_t>(r)].lambda);
    const std::vector<int> in = m.inputs_of(q);
    ASSERT_EQ(in.size(), 1u);
    EXPECT_EQ(m.projections[static_cast<size_t>(in[0])].kind, ProjectionKind::MaxPool);
    EXPECT_EQ(m.projections[static_cast<size_t>(in[0])].source, r);
    const int64_t T = 64;
    int64_t saturated = 0, silent = 0;
    for (int64_t ch = 0; ch < 3; ++ch) {
        const int64_t count = spikes(only_channel(m, q, ch), q, set, T);
        const double z = a[static_cast<size_t>(ch)] / static_cast<double>(lambda);
        saturated += z > 1, silent += z <= 0;
        EXPECT_LE(std::fabs(static_cast<double>(count) / T - std::clamp(z, 0.0, 1.0)), 1.0 / T + 1e-9)
            << "channel " << ch << ": " << count << " spikes, a/lambda " << z;
    }
    EXPECT_EQ(saturated, 1);
    EXPECT_EQ(silent, 1);
    EXPECT_EQ(spikes(m, r, set, T), 0);

    Network shared("shared_relu");  // the ReLU also feeds a second pool
    shared.add_input("x", {1, 2, 2});
    const int c2 = shared.add(conv("conv", 0, {1, 1, 1, 1}, {1.0f}, {0.0f}, window(1, 1, 0)));
    const int relu2 = shared.add(layer("relu", OpKind::ReLU, {c2}));
    const int p1 = shared.add(layer("pool1", OpKind::MaxPool, {relu2}, PoolAttrs{window(2, 2, 0), false}));
    const int p2 = shared.add(layer("pool2", OpKind::MaxPool, {relu2}, PoolAttrs{window(2, 2, 0), false}));
    const int sum = shared.add(layer("sum", OpKind::Add, {p1, p2}));
    const int flat2 = shared.add(layer("flat", OpKind::Flatten, {sum}));
    shared.add(linear("fc", flat2, 2, 1, {0.5f, 0.5f}, {0.0f, 0.0f}));
    std::string error = "NO ERROR";
    try {
        build_snn(shared, Calibration{}, [] {
            ConversionOptions o;
            o.normalise = false;
            o.max_pool = MaxPoolMode::Current;
            return o;
        }());
    } catch (const ModelError& e) {
        error = e.what();
    }
    EXPECT_THAT(error, AllOf(HasSubstr("pool1"), HasSubstr("conversion.max_pool=current")));
}

// ---------------------------------------------------------------------------------------------------------
// Eq. 4-6: shortcut normalisation.

// Residual toys on input [1,1,4], 1x1 convolutions, two channels:
//   single: x -> conv1 -> ReLU A -> conv2 -> Add(conv2, A) -> ReLU B -> flatten -> linear readout
//   block:  x -> conv1 -> ReLU A -> conv2 -> ReLU M -> conv3 -> Add(conv3, A) -> ReLU B -> ...  (a basic block)
// with a hand-made calibration where lambda_A = 1.25 and lambda_B = 2 (lambda_M = 1.5).
struct Toy {
    Network net{"toy"};
    int a = -1, m = -1, b = -1;
    Calibration cal;
};

Toy residual_toy(bool block) {
    Toy t;
    Network& n = t.net;
    n.add_input("x", {1, 1, 4});
    const int c1 = n.add(conv("conv1", 0, {2, 1, 1, 1}, {1.2f, 0.7f}, {}, window(1, 1, 0)));
    t.a = n.add(layer("relu_a", OpKind::ReLU, {c1}));
    int branch = t.a;
    if (block) {
        const int c2 = n.add(conv("conv_m", t.a, {2, 2, 1, 1}, {0.6f, 0.3f, -0.2f, 0.9f}, {0.0f, -0.05f}, window(1, 1, 0)));
        t.m = n.add(layer("relu_m", OpKind::ReLU, {c2}));
        branch = t.m;
    }
    const int c3 = n.add(conv("conv_b", branch, {2, 2, 1, 1}, {0.5f, -0.3f, 0.2f, 0.4f}, {-0.05f, 0.0f}, window(1, 1, 0)));
    const int add = n.add(layer("add", OpKind::Add, {c3, t.a}));
    t.b = n.add(layer("relu_b", OpKind::ReLU, {add}));
    const int flat = n.add(layer("flat", OpKind::Flatten, {t.b}));
    n.add(linear("fc", flat, 2, 8, std::vector<float>(16, 0.1f), {0.0f, 0.0f}));
    t.cal.layer_lambda = {{t.a, 1.25f}, {t.b, 2.0f}, {n.output_id(), 1.0f}};
    if (block) t.cal.layer_lambda[t.m] = 1.5f;
    return t;
}

const Projection* find_projection(const SnnModel& m, ProjectionKind kind, int source, int target) {
    for (const auto& p : m.projections)
        if (p.kind == kind && p.source == source && p.target == target) return &p;
    return nullptr;
}

struct RateErrors {
    double max_abs = 0, mean_abs = 0, mean = 0;
};

// a_B / lambda_B - count/T for every neuron of B, each counted alone (not clamped: the same error E-bar that the
// engine reports, paper §3.3).
RateErrors b_rate_errors(const Toy& t, const SnnModel& m, const ImageSet& set, int64_t T) {
    const int pop = population_named(m, "relu_b");
    const std::vector<float> a = activation(t.net, t.b, set);
    const double lambda = t.cal.layer_lambda.at(t.b);
    RateErrors e;
    for (int64_t ch = 0; ch < 2; ++ch) {
        const SnnModel one = only_channel(m, pop, ch);
        for (int64_t x = 0; x < 4; ++x) {
            ImageSet px = set;
            for (int64_t k = 0; k < 4; ++k)
                if (k != x) px.pixels[static_cast<size_t>(k)] = 0;
            const double rate = static_cast<double>(spikes(one, pop, px, T)) / static_cast<double>(T);
            const double err = a[static_cast<size_t>(ch * 4 + x)] / lambda - rate;
            e.max_abs = std::max(e.max_abs, std::fabs(err));
            e.mean_abs += std::fabs(err) / 8;
            e.mean += err / 8;
        }
    }
    return e;
}

void check_shortcut_normalisation(bool block) {
    const Toy t = residual_toy(block);
    const ImageSet set = one_image(1, 1, 4, {255, 153, 89, 204});
    // The toy stays in the linear range: every activation below its lambda, so rates are not clamped.
    for (int id : {t.a, t.b}) {
        const auto act = activation(t.net, id, set);
        EXPECT_LT(*std::max_element(act.begin(), act.end()), t.cal.layer_lambda.at(id)) << t.net.layer(id).name;
        EXPECT_GT(*std::max_element(act.begin(), act.end()), 0.5f * t.cal.layer_lambda.at(id)) << t.net.layer(id).name;
    }
    const float la = 1.25f, lb = 2.0f;
    ConversionOptions opt;
    const SnnModel m = build_snn(t.net, t.cal, opt);
    const int pa = population_named(m, "relu_a"), pb = population_named(m, "relu_b");
    // The identity shortcut A -> B carries lambda_A / lambda_B; the conv into B is W lambda_src / lambda_B, its
    // bias b / lambda_B; conv1 from the input (lambda 1) is W / lambda_A.
    const Projection* id = find_projection(m, ProjectionKind::Identity, pa, pb);
    ASSERT_NE(id, nullptr);
    EXPECT_TRUE(id->shortcut);
    for (float w : id->weight.data) EXPECT_FLOAT_EQ(w, la / lb);
    const int src = block ? population_named(m, "relu_m") : pa;
    const float l_src = block ? 1.5f : la;
    const Projection* cb = find_projection(m, ProjectionKind::Conv, src, pb);
    ASSERT_NE(cb, nullptr);
    EXPECT_FALSE(cb->shortcut);
    const Tensor& w3 = t.net.layer(t.net.layer(t.net.layer(t.b).inputs[0]).inputs[0]).conv().weight;
    for (size_t k = 0; k < w3.data.size(); ++k) EXPECT_FLOAT_EQ(cb->weight.data[k], w3.data[k] * l_src / lb) << k;
    EXPECT_FLOAT_EQ(m.populations[static_cast<size_t>(pb)].bias.at(0), -0.05f / lb);
    EXPECT_FLOAT_EQ(m.populations[static_cast<size_t>(pb)].bias.at(1), 0.0f);
    const Projection* c1 = find_projection(m, ProjectionKind::Conv, 0, pa);
    ASSERT_NE(c1, nullptr);
    EXPECT_FLOAT_EQ(c1->weight.data[0], 1.2f / la);
    EXPECT_FLOAT_EQ(c1->weight.data[1], 0.7f / la);

    // B's rates follow a_B / lambda_B closely with the shortcut normalised, and visibly worse with weight 1.
    const int64_t T = 200;
    const RateErrors with = b_rate_errors(t, m, set, T);
    EXPECT_LE(with.max_abs, 4.0 / T);
    opt.shortcut_normalisation = false;
    const SnnModel raw = build_snn(t.net, t.cal, opt);
    const Projection* id_raw = find_projection(raw, ProjectionKind::Identity, pa, pb);
    ASSERT_NE(id_raw, nullptr);
    for (float w : id_raw->weight.data) EXPECT_EQ(w, 1.0f);
    EXPECT_FALSE(raw.record.shortcut_normalisation);
    const RateErrors without = b_rate_errors(t, raw, set, T);
    EXPECT_GE(without.max_abs, 0.1);
    EXPECT_GE(without.mean_abs, 5 * with.mean_abs + 0.02);

    // The engine's own error report (given the ANN) matches the per-neuron errors measured here: the mean of
    // a/lambda - r(T) and of its magnitude over B's neurons.
    SnnOptions o;
    o.steps = T;
    o.threads = 1;
    AnnOptions ao;
    ao.threads = 1;
    const int64_t ann_correct = AnnEngine(t.net).evaluate(set, {}, ao).correct;
    for (const auto& [model, errors] : {std::pair<const SnnModel*, RateErrors>{&m, with}, {&raw, without}}) {
        const SnnResult r = SnnEngine(*model).evaluate(set, {}, o, nullptr, &t.net);
        const PopulationStats& s = r.populations[static_cast<size_t>(pb)];
        ASSERT_TRUE(s.has_error);
        EXPECT_NEAR(s.rate_error_abs, errors.mean_abs, 1e-5);
        EXPECT_NEAR(s.accumulated_error, errors.mean, 1e-5);
        EXPECT_EQ(r.ann_correct, ann_correct);
    }
}

TEST(Conversion, ShortcutNormalisationResidualBlock) { check_shortcut_normalisation(true); }
// Both branches start at the same population (x -> A -> conv -> Add(conv, A)): the identity operand is still
// recognised as the shortcut.
TEST(Conversion, ShortcutNormalisationSingleConvBranch) { check_shortcut_normalisation(false); }

// ---------------------------------------------------------------------------------------------------------
// Error compensation (§3.3).

// Eq. 12 fit: data exactly p q^l is recovered exactly (adjusted R^2 = 1); noisy data fits worse; fewer than
// three usable points (non-positive errors are unusable) is not a fit.
TEST(Compensation, FitExponentialRecoversExactData) {
    for (auto [p, q] : {std::pair<double, double>{0.02, 1.15}, {3.0, 0.8}, {0.004, 1.6}}) {
        std::vector<double> depth, error;
        for (int l = 1; l <= 9; ++l) depth.push_back(l), error.push_back(p * std::pow(q, l));
        const ErrorFit f = fit_exponential(depth, error);
        ASSERT_TRUE(f.ok);
        EXPECT_NEAR(f.p, p, 1e-9 * p);
        EXPECT_NEAR(f.q, q, 1e-9 * q);
        EXPECT_NEAR(f.r2, 1.0, 1e-9);
        EXPECT_NEAR(f.adj_r2, 1.0, 1e-9);
        EXPECT_EQ(f.depth.size(), 9u);
    }
    // Noise: a worse fit, and adjusted R^2 below R^2.
    const std::vector<double> depth = {1, 2, 3, 4, 5, 6}, noisy = {0.02, 0.05, 0.03, 0.07, 0.04, 0.09};
    const ErrorFit n = fit_exponential(depth, noisy);
    ASSERT_TRUE(n.ok);
    EXPECT_LT(n.r2, 0.95);
    EXPECT_LT(n.adj_r2, n.r2);
    // Too few usable points.
    EXPECT_FALSE(fit_exponential({}, {}).ok);
    EXPECT_FALSE(fit_exponential({1, 2}, {0.1, 0.2}).ok);
    EXPECT_FALSE(fit_exponential({1, 2, 3}, {0.1, 0.0, 0.2}).ok);
    EXPECT_FALSE(fit_exponential({1, 2, 3, 4}, {0.1, -1.0, 0.2, std::nan("")}).ok);
    // Unusable points are skipped, the rest still fits exactly.
    const ErrorFit s = fit_exponential({1, 2, 3, 4}, {0.1, -0.3, 0.1 * 1.2 * 1.2, 0.1 * 1.2 * 1.2 * 1.2});
    ASSERT_TRUE(s.ok);
    EXPECT_EQ(s.depth, (std::vector<double>{1, 3, 4}));
    EXPECT_NEAR(s.p, 0.1 / 1.2, 1e-9);
    EXPECT_NEAR(s.q, 1.2, 1e-9);
}

// Errors that do not grow with depth (q = 1, all points equal) are still fitted exactly, so the goodness of fit
// must say so: R^2 = adjusted R^2 = 1 (the data has no variance left unexplained), not a negative number.
TEST(Compensation, FitExponentialOfFlatErrorsIsAPerfectFit) {
    // Flat errors leave only a rounding residue in ss_tot; the fit is still exact, so R² must be 1.
    std::vector<double> depth, error;
    for (int l = 1; l <= 9; ++l) depth.push_back(l), error.push_back(0.5);
    const ErrorFit f = fit_exponential(depth, error);
    ASSERT_TRUE(f.ok);
    EXPECT_NEAR(f.p, 0.5, 1e-12);
    EXPECT_NEAR(f.q, 1.0, 1e-12);
    EXPECT_NEAR(f.r2, 1.0, 1e-9);
    EXPECT_NEAR(f.adj_r2, 1.0, 1e-9);
}

// fit_error_growth numbers the spiking IF layers 1, 2, ... in order (skipping the input and the non-spiking
// readout) and fits the most active neuron's accumulated error of each.
TEST(Compensation, FitErrorGrowthUsesSpikingLayersInOrder) {
    const Toy t = residual_toy(true);
    const SnnModel m = build_snn(t.net, t.cal, ConversionOptions{});
    SnnResult run;
    run.populations.resize(m.populations.size());
    int depth = 0;
    for (size_t i = 0; i < m.populations.size(); ++i) {
        const Population& p = m.populations[i];
        if (p.kind != PopulationKind::IF || !p.spiking) continue;
        ++depth;
        run.populations[i].has_error = true;
        run.populations[i].accumulated_error_max_neuron = 0.05 * std::pow(1.3, depth);
    }
    ASSERT_EQ(depth, 3);  // A, M, B
    const ErrorFit f = fit_error_growth(m, run);
    ASSERT_TRUE(f.ok);
    EXPECT_EQ(f.depth, (std::vector<double>{1, 2, 3}));
    EXPECT_NEAR(f.p, 0.05, 1e-9);
    EXPECT_NEAR(f.q, 1.3, 1e-9);
}

// Eq. 14: scale_weights multiplies every synaptic weight by zeta, leaves biases (currents) alone, and records
// zeta cumulatively.
TEST(Compensation, ScaleWeightsScalesSynapsesOnly) {
    const Toy t = residual_toy(true);
    const SnnModel m = build_snn(t.net, t.cal, ConversionOptions{});
    SnnModel s = m;
    scale_weights(s, 1.25);
    scale_weights(s, 1.1);
    EXPECT_NEAR(s.record.zeta, 1.25 * 1.1, 1e-12);
    for (size_t k = 0; k < m.projections.size(); ++k)
        for (size_t i = 0; i < m.projections[k].weight.data.size(); ++i)
            EXPECT_FLOAT_EQ(s.projections[k].weight.data[i], m.projections[k].weight.data[i] * 1.375f);
    for (size_t i = 0; i < m.populations.size(); ++i) {
        EXPECT_EQ(s.populations[i].bias, m.populations[i].bias);
        EXPECT_EQ(s.populations[i].threshold, m.populations[i].threshold);
    }
}

// The zeta search tries zeta = 1 first (the baseline), then a grid of `step` around the fitted q kept inside
// (1, tau_max), tau_max = 1 / the last hidden spiking layer's largest rate; each trial's accuracy is that of the
// model with weights x zeta evaluated independently here, and the best is the most accurate.
// The search's inputs: resnet8 converted with 6 training images, simulated for 8 steps on them.
struct SearchSetup {
    Network ann = import_onnx_file(kModels + "resnet8_fmnist.onnx");
    ImageSet train = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 6);
    SnnModel m = build_snn(ann, calibrate(ann, train, {}, 99.9, false, 2), ConversionOptions{});
    SnnOptions sim = [] {
        SnnOptions o;
        o.steps = 8;  // short: higher ζ fires earlier, so the top of a grid tends to win
        o.threads = 2;
        return o;
    }();
    SnnResult base = SnnEngine(m).evaluate(train, {}, sim);
};

TEST(Compensation, SearchZetaTriesTheGridAroundQ) {
    const SearchSetup set;
    const auto& [ann, train, m, sim, base] = set;
    ErrorFit fit;
    fit.ok = true;
    fit.q = 1.02;
    CompensationOptions co;
    co.step = 0.01;
    co.candidates = 3;
    co.max_extra_steps = 0;
    const ZetaSearch s = search_zeta(m, train, {}, sim, co, fit, base);
    double last_rate = 0;
    for (size_t i = 1; i < m.populations.size(); ++i)
        if (m.populations[i].kind == PopulationKind::IF && m.populations[i].spiking && static_cast<int>(i) != m.output)
            last_rate = base.populations[i].max_rate;
    ASSERT_GT(last_rate, 0);
    EXPECT_DOUBLE_EQ(s.tau_max, 1.0 / last_rate);
    ASSERT_FALSE(s.trials.empty());
    EXPECT_EQ(s.trials[0].zeta, 1.0);
    EXPECT_EQ(s.trials[0].accuracy, base.accuracy(sim.steps));
    std::vector<double> want;
    for (int k = -3; k <= 3; ++k)
        if (1.02 + 0.01 * k > 1.0 && 1.02 + 0.01 * k < s.tau_max) want.push_back(1.02 + 0.01 * k);
    ASSERT_EQ(s.trials.size(), want.size() + 1);
    double best = s.trials[0].accuracy;
    for (size_t i = 1; i < s.trials.size(); ++i) {
        EXPECT_NEAR(s.trials[i].zeta, want[i - 1], 1e-12);
        SnnModel scaled = m;
        scale_weights(scaled, s.trials[i].zeta);
        const SnnResult r = SnnEngine(scaled).evaluate(train, {}, sim);
        EXPECT_EQ(s.trials[i].accuracy, r.accuracy(sim.steps)) << s.trials[i].zeta;
        best = std::max(best, s.trials[i].accuracy);
    }
    double best_acc = -1;
    for (const auto& tr : s.trials)
        if (tr.zeta == s.best) best_acc = tr.accuracy;
    EXPECT_EQ(best_acc, best);
}

// Past the grid, the search keeps stepping up only while the top ζ is the best so far, stays below τ_max, and
// stops after max_extra_steps.
TEST(Compensation, SearchZetaStepsOnWhileTheTopWins) {
    const SearchSetup set;
    const auto& [ann, train, m, sim, base] = set;
    ErrorFit fit;
    fit.ok = true;
    fit.q = 1.0;
    CompensationOptions co;
    co.step = 0.05;
    co.candidates = 1;  // grid: 1.05 only
    co.max_extra_steps = 4;
    const ZetaSearch s = search_zeta(m, train, {}, sim, co, fit, base);
    ASSERT_GE(s.trials.size(), 2u);
    ASSERT_LE(s.trials.size(), 2u + 4u);
    EXPECT_NEAR(s.trials[1].zeta, 1.05, 1e-12);
    for (size_t i = 2; i < s.trials.size(); ++i) {
        EXPECT_NEAR(s.trials[i].zeta, s.trials[i - 1].zeta + 0.05, 1e-12);
        EXPECT_LT(s.trials[i].zeta, s.tau_max);
        // It only stepped because the previous top was strictly the best of everything tried before it.
        for (size_t j = 0; j + 1 < i; ++j) EXPECT_GT(s.trials[i - 1].accuracy, s.trials[j].accuracy) << i << " " << j;
    }
    // It stopped because the top lost, the budget ran out, or the next step would reach τ_max.
    const auto& last = s.trials.back();
    bool top_best = true;
    for (size_t j = 0; j + 1 < s.trials.size(); ++j) top_best = top_best && last.accuracy > s.trials[j].accuracy;
    EXPECT_TRUE(!top_best || s.trials.size() == 2u + 4u || last.zeta + 0.05 >= s.tau_max);
}

// With the Eq. 13 objective, every trial's error is the network's mean |a/λ − r| of the model with weights x ζ
// evaluated independently here against the ANN, and the search picks the least error; without the ANN it
// refuses.
TEST(Compensation, SearchZetaByErrorPicksTheLeastPropagationError) {
    const SearchSetup set;
    const auto& [ann, train, m, sim, base] = set;
    const SnnResult base_ann = SnnEngine(m).evaluate(train, {}, sim, nullptr, &ann);
    ErrorFit fit;
    fit.ok = true;
    fit.q = 1.0;
    CompensationOptions co;
    co.objective = ZetaObjective::Error;
    co.step = 0.02;
    co.candidates = 3;
    co.max_extra_steps = 3;
    EXPECT_THROW(search_zeta(m, train, {}, sim, co, fit, base_ann), ConfigError);
    EXPECT_THROW(search_zeta(m, train, {}, sim, co, fit, base, &ann), ConfigError);  // baseline without the ANN
    const ZetaSearch s = search_zeta(m, train, {}, sim, co, fit, base_ann, &ann);
    ASSERT_GE(s.trials.size(), 2u);
    double least = 1e300;
    for (const auto& tr : s.trials) {
        SnnModel scaled = m;
        if (tr.zeta != 1.0) scale_weights(scaled, tr.zeta);
        const SnnResult r = SnnEngine(scaled).evaluate(train, {}, sim, nullptr, &ann);
        // Independently: the size-weighted mean of the populations' mean |a/λ − r| over spiking IF neurons.
        double total = 0, neurons = 0;
        for (size_t i = 1; i < scaled.populations.size(); ++i) {
            const Population& p = scaled.populations[i];
            if (p.kind != PopulationKind::IF || !p.spiking) continue;
            ASSERT_TRUE(r.populations[i].has_error) << p.name;
            total += r.populations[i].rate_error_abs * static_cast<double>(p.size());
            neurons += static_cast<double>(p.size());
        }
        EXPECT_NEAR(tr.error, total / neurons, 1e-12) << tr.zeta;
        EXPECT_GT(tr.error, 0);
        least = std::min(least, tr.error);
    }
    double chosen_error = -1;
    for (const auto& tr : s.trials)
        if (tr.zeta == s.best) chosen_error = tr.error;
    EXPECT_EQ(chosen_error, least);
    // The objective is not the accuracy one in disguise: the errors differ between trials.
    EXPECT_NE(s.trials.front().error, s.trials.back().error);
}

// ---------------------------------------------------------------------------------------------------------
// End to end.

// The trained ResNet-8: calibrated (99.9th percentile) on 200 training images, converted, and simulated for 200
// steps with constant-current input on 100 test images, the S-ResNet classifies within 3 percentage points of the
// ANN on the same images; the engine's ann_correct equals the ANN engine's own count; every hidden IF layer fires
// (rates in (0, 1)), and every lambda is the calibrated percentile.
TEST(Conversion, Resnet8EndToEndAccuracyMatchesAnn) {
    const Network ann = fold_batchnorm(import_onnx_file(kModels + "resnet8_fmnist.onnx"));
    const ImageSet train = load_idx(kData + "train-images-idx3-ubyte.gz", kData + "train-labels-idx1-ubyte.gz", 200);
    const ImageSet test = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 100);
    const Calibration cal = calibrate(ann, train, {}, 99.9, false, 2);
    EXPECT_EQ(cal.images, 200);
    const SnnModel m = build_snn(ann, cal, ConversionOptions{});
    EXPECT_EQ(m.record.calibration_images, 200);
    for (size_t i = 1; i < m.populations.size(); ++i) {
        const Population& p = m.populations[i];
        int layer = -1;
        for (int id = 0; id < ann.size(); ++id)
            if (ann.layer(id).name == p.name) layer = id;
        ASSERT_GE(layer, 0) << p.name;
        const float lam = cal.layer_lambda.at(layer);
        EXPECT_GT(lam, 0.0f) << p.name;
        EXPECT_LE(lam, cal.layer_max.at(layer)) << p.name;
        EXPECT_EQ(p.lambda, std::vector<float>{lam}) << p.name;
    }
    AnnOptions ao;
    ao.threads = 2;
    const AnnResult ar = AnnEngine(ann).evaluate(test, {}, ao);

    SnnOptions o;
    o.steps = 200;
    o.threads = 2;
    const SnnResult r = SnnEngine(m).evaluate(test, {}, o, nullptr, &ann);
    EXPECT_EQ(r.ann_correct, ar.correct);
    const double snn = r.accuracy(200), ann_acc = ar.top1();
    EXPECT_GT(ann_acc, 0.8);
    EXPECT_NEAR(snn, ann_acc, 0.03) << "SNN " << snn << " vs ANN " << ann_acc;
    // Accuracy after few steps is worse than after many: the rate code needs time.
    EXPECT_LT(r.accuracy(5), snn);
    for (size_t i = 1; i < m.populations.size(); ++i) {
        const Population& p = m.populations[i];
        if (p.kind != PopulationKind::IF || !p.spiking) continue;
        EXPECT_GT(r.populations[i].firing_rate, 0.0) << p.name;
        EXPECT_LT(r.populations[i].firing_rate, 1.0) << p.name;
        EXPECT_TRUE(r.populations[i].has_error) << p.name;
    }
    int64_t sum = 0;
    for (const auto& pr : r.projections) sum += pr.sops;
    EXPECT_EQ(sum, r.sops);
}

}  // namespace
}  // namespace neuroemu
