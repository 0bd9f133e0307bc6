// The spiking engine's families (input encoding, neuron model) and the dataset reader: their documented names,
// an encoding that exists only in this file chosen from YAML, and the IF neuron's step on both of its paths.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "data/reader/reader.h"
#include "sim/encoding/encoding.h"
#include "sim/neuron/neuron.h"
#include "sim/sim_spec.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

// Every pixel spikes every step.
class AlwaysOn final : public InputEncoding {
public:
    bool constant_current() const override { return false; }
    void check(const std::vector<float>&, int64_t) const override {}
    void spikes(const std::vector<float>& input, uint64_t&, std::vector<int32_t>& out) const override {
        for (size_t j = 0; j < input.size(); ++j) out.push_back(static_cast<int32_t>(j));
    }
};

const Registrar<InputEncoding> kAlwaysOn(input_encodings(), {"test_always_on", "every pixel, every step.", {}},
                                         [](const Settings&) { return std::make_unique<AlwaysOn>(); });

Schema simulation_schema() {
    auto params = simulation_params();
    params.push_back(ParamSpec("seed", ParamKind::Int, "1", "", "seed"));
    return Schema({{"simulation", "s"}}, params);
}

TEST(SimRegistry, EveryDocumentedNameIsRegistered) {
    EXPECT_EQ(input_encodings().names(), (std::vector<std::string>{"current", "poisson", "test_always_on"}));
    EXPECT_TRUE(neuron_models().has("if"));
    EXPECT_TRUE(dataset_readers().has("idx"));
}

TEST(SimRegistry, AnEncodingDefinedInATestIsSelectableFromYaml) {
    const Settings s = simulation_schema().parse("simulation:\n  encoding: test_always_on\n", "x.yaml", "");
    const SnnOptions o = snn_options(s);
    ASSERT_NE(dynamic_cast<const AlwaysOn*>(o.encoding.get()), nullptr);
    std::vector<int32_t> fired;
    uint64_t rng = 0;
    o.encoding->spikes({0.0f, 0.5f}, rng, fired);
    EXPECT_EQ(fired, (std::vector<int32_t>{0, 1}));
}

TEST(SimRegistry, UnknownEncodingSuggestsTheClosestName) {
    try {
        simulation_schema().parse("", "", "", {"simulation.encoding=poison"});
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("got 'poison' (did you mean 'poisson'?)"));
    }
}

TEST(SimRegistry, PoissonRejectsInputOutsideTheUnitInterval) {
    EXPECT_THROW(make_input_encoding("poisson")->check({0.5f, 1.5f}, 3), DataError);
    EXPECT_NO_THROW(make_input_encoding("current")->check({-2.0f}, 3));
}

// One step of `channels` neurons on one pixel, threshold 1, current 0.25, v starting at 0.5 + 0.1 c.
std::pair<std::vector<float>, std::vector<int32_t>> if_step(int64_t channels, ResetMode reset) {
    std::vector<float> v(static_cast<size_t>(channels)), current(static_cast<size_t>(channels), 0.25f),
        threshold(static_cast<size_t>(channels), 1.0f);
    for (int64_t c = 0; c < channels; ++c) v[static_cast<size_t>(c)] = 0.5f + 0.1f * static_cast<float>(c % 8);
    NeuronLayer layer;
    layer.pixels = 1, layer.channels = channels;
    layer.v = v.data(), layer.current = current.data(), layer.threshold = threshold.data();
    layer.uniform_threshold = true, layer.reset = reset;
    std::vector<int32_t> fired(static_cast<size_t>(channels) + 16);
    fired.resize(static_cast<size_t>(neuron_models().make("if")->step(layer, fired.data())));
    return {v, fired};
}

TEST(SimRegistry, IfNeuronFiresAtThresholdAndResetsOnBothPaths) {
    for (int64_t channels : {8, 16}) {  // 16: the vector path where the build has one
        const auto [v, fired] = if_step(channels, ResetMode::Subtract);
        // 0.5 + 0.1 c + 0.25 >= 1 from c = 3 (of each group of 8).
        std::vector<int32_t> expected;
        for (int32_t c = 0; c < channels; ++c)
            if (c % 8 >= 3) expected.push_back(c);
        EXPECT_EQ(fired, expected) << channels;
        EXPECT_NEAR(v[3], 0.05f, 1e-6f);
        EXPECT_NEAR(v[2], 0.95f, 1e-6f);
        EXPECT_EQ(if_step(channels, ResetMode::Zero).first[3], 0.0f);
    }
}

}  // namespace
}  // namespace neuroemu
