// SnnStepper (sim/snn_engine.h): a network stepped a tick at a time with input spikes from outside. Fed the spikes
// the `poisson` encoding draws for an image, it must reproduce SnnEngine::evaluate's run of that image exactly:
// every population's spikes (which units, step by step), every projection's SOPs and every step's decision, on a
// small hand-made model (conv, avg-pool, max gate, identity, linear, a non-spiking readout) and on the shipped
// ResNet-20. Plus an analytic case (repeated input indices are repeated spikes), reset, and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "cli/schema.h"
#include "common/error.h"
#include "data/dataset_spec.h"
#include "experiment/model_run.h"
#include "sim/batch_statistics.h"
#include "sim/sim_spec.h"
#include "sim/snn_engine.h"
#include "tests/serve/poisson_input.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

using test::Recorder;
using test::StepRecord;

Tensor random_tensor(std::vector<int64_t> shape, std::mt19937& rng, float lo, float hi) {
    Tensor t(std::move(shape));
    std::uniform_real_distribution<float> d(lo, hi);
    for (float& v : t.data) v = d(rng);
    return t;
}

// The two-branch model (builders.h) with weights not exactly representable in float: the stepper must sum in
// the engine's order to match it to the last bit.
SnnModel small_model() {
    std::mt19937 rng(5);
    const auto draw = [&rng](std::vector<int64_t> shape, double lo, double hi) {
        return random_tensor(std::move(shape), rng, static_cast<float>(lo), static_cast<float>(hi));
    };
    return two_branch_model("small", {{{0.05f, 0.1f, 0.0f, 0.02f}, {0.0f, 0.1f, -0.05f, 0.05f}, {0.02f, 0.0f, 0.05f, 0.0f}}},
                            draw, {-0.3, 0.6});
}

ImageSet grey_images(int64_t count, int64_t c, int64_t h, int64_t w, int64_t classes, uint32_t seed) {
    std::mt19937 rng(seed);
    ImageSet s;
    s.count = count, s.channels = c, s.height = h, s.width = w;
    s.pixels.resize(static_cast<size_t>(count * c * h * w));
    for (auto& p : s.pixels) p = static_cast<uint8_t>(rng() % 256);
    for (int64_t i = 0; i < count; ++i) s.labels.push_back(static_cast<int64_t>(rng() % static_cast<uint32_t>(classes)));
    return s;
}

// One step's spikes and SOPs as the stepper reports them, against what the observer saw.
void expect_step_reports(const SnnStepper& stepper, const StepRecord& seen, const std::string& where) {
    std::vector<SpikeEvent> events;
    for (size_t p = 0; p < seen.spikes.size(); ++p) {
        stepper.spikes(static_cast<int>(p), events);
        EXPECT_EQ(stepper.spike_count(static_cast<int>(p)), events.size()) << where << " population " << p;
        EXPECT_TRUE(events == seen.spikes[p]) << where << " population " << p;
    }
    EXPECT_EQ(stepper.projection_sops(), seen.sops) << where;
    EXPECT_EQ(stepper.sops(), std::accumulate(seen.sops.begin(), seen.sops.end(), int64_t{0})) << where;
}

// evaluate() on `set` with Poisson input, and a stepper fed the same spikes image by image: the observer sees
// the same spikes, SOPs and label hits at every step; the totals add up to evaluate()'s result.
void expect_stepper_reproduces_evaluate(const SnnModel& model, const ImageSet& set, const InputNormalisation& norm,
                                        SnnOptions options) {
    const size_t pops = model.populations.size(), projs = model.projections.size();
    const SnnEngine engine(model);
    Recorder batch(pops, projs);
    options.encoding = make_input_encoding("poisson");
    options.observer = &batch;
    const SnnResult result = engine.evaluate(set, norm, options);

    SnnStepper stepper(engine, options.encoding.get());
    Recorder stepped(pops, projs);
    std::vector<int64_t> spikes(pops, 0), sops(projs, 0), correct(static_cast<size_t>(options.steps), 0);
    for (int64_t i = 0; i < set.count; ++i) {
        if (i > 0) stepper.reset();
        const auto input = test::poisson_input_hwc(set, i, norm, options.seed, options.steps);
        const int64_t label = set.labels[static_cast<size_t>(i)];
        for (int64_t t = 1; t <= options.steps; ++t) {
            const auto& in = input[static_cast<size_t>(t - 1)];
            const int64_t decision = stepper.step(in.data(), in.size(), &stepped, label);
            const std::string where = "image " + std::to_string(i) + " step " + std::to_string(t);
            ASSERT_EQ(stepper.steps(), t);
            EXPECT_EQ(stepper.decision(), decision);
            const StepRecord& seen = batch.image(i).at(static_cast<size_t>(t - 1));
            EXPECT_EQ(decision == label, seen.hit) << where;
            expect_step_reports(stepper, seen, where);
            for (size_t p = 0; p < pops; ++p) spikes[p] += static_cast<int64_t>(stepper.spike_count(static_cast<int>(p)));
            for (size_t k = 0; k < projs; ++k) sops[k] += stepper.projection_sops()[k];
            correct[static_cast<size_t>(t - 1)] += decision == label;
        }
        // The stepper's own observer saw what evaluate()'s did (image = the window since the last reset).
        const auto& a = batch.image(i);
        const auto& b = stepped.image(i);
        ASSERT_EQ(a.size(), b.size());
        for (size_t t = 0; t < a.size(); ++t) {
            EXPECT_EQ(a[t].sops, b[t].sops);
            EXPECT_EQ(a[t].hit, b[t].hit);
            EXPECT_TRUE(b[t].done);
            for (size_t p = 0; p < pops; ++p) EXPECT_TRUE(a[t].spikes[p] == b[t].spikes[p]) << "step " << t + 1 << " population " << p;
        }
    }
    EXPECT_EQ(correct, result.correct_at_step);
    for (size_t p = 0; p < pops; ++p) {
        EXPECT_EQ(spikes[p], result.populations[p].spikes) << model.populations[p].name;
        if (model.populations[p].kind != PopulationKind::Input && p != static_cast<size_t>(model.output)) {
            EXPECT_GT(spikes[p], 0) << "every population must be active for the comparison to mean something: "
                                    << model.populations[p].name;
        }
    }
    for (size_t k = 0; k < projs; ++k) EXPECT_EQ(sops[k], result.projections[k].sops) << model.projections[k].name;
}

TEST(SnnStepper, ReproducesEvaluateOnASmallModel) {
    SnnOptions options;
    options.steps = 25;
    options.seed = 7;
    options.threads = 1;
    expect_stepper_reproduces_evaluate(small_model(), grey_images(4, 2, 9, 9, 5, 3), {}, options);
}

TEST(SnnStepper, ReproducesEvaluateOnTheShippedModel) {
    const Settings settings = neuroemu_schema().load(
        std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml",
        {"simulation.encoding=poisson", "simulation.steps=8", "dataset.images=3", "seed=11"});
    const Network net = load_network(settings);
    Network folded;
    ConversionReport report;
    const SnnModel model = experiment::snn_for_run(settings, net, "", folded, report, 0);
    ImageSet set;
    experiment::for_each_test_chunk(settings, model.populations[0].shape, 3, [&](const ImageSet& chunk) { set = chunk; });
    ASSERT_EQ(set.count, 3);
    SnnOptions options = snn_options(settings);
    options.threads = 1;
    expect_stepper_reproduces_evaluate(model, set, input_normalisation(settings, set.channels), options);
}

// input [1,1,3] -linear-> out [2], non-spiking, v_init 0.5: after one step with input neurons {0, 0, 2} the
// readout holds 0.5 + 2 w[o][0] + w[o][2] (a repeated index is a repeated spike), two SOPs per spike.
TEST(SnnStepper, RepeatedInputIndicesAreRepeatedSpikes) {
    SnnModel m;
    m.name = "linear";
    m.populations.push_back(input_pop({1, 1, 3}));
    Population out = if_pop("out", {2});
    out.spiking = false;
    m.populations.push_back(out);
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 0, 1, Tensor({2, 3}, {0.25f, 1.0f, 2.0f, -1.0f, 4.0f, 0.5f})));
    m.output = 1;
    m.v_init = 0.5f;
    const SnnEngine engine(m);
    SnnStepper stepper(engine);
    const int32_t input[] = {0, 0, 2};
    stepper.step(input, 3);
    std::vector<float> readout;
    stepper.readout(readout);
    EXPECT_THAT(readout, testing::ElementsAre(0.5f + 2 * 0.25f + 2.0f, 0.5f - 2 * 1.0f + 0.5f));
    EXPECT_EQ(stepper.decision(), 0);
    EXPECT_EQ(stepper.spike_count(0), 3u);
    EXPECT_EQ(stepper.sops(), 6);
    std::vector<int32_t> counts;
    stepper.counts(0, counts);
    EXPECT_THAT(counts, testing::ElementsAre(2, 0, 1));
    stepper.step(input + 2, 1);  // counts and potentials carry over to the next step
    stepper.readout(readout);
    EXPECT_FLOAT_EQ(readout[0], 0.5f + 2 * 0.25f + 2 * 2.0f);
    stepper.counts(0, counts);
    EXPECT_THAT(counts, testing::ElementsAre(2, 0, 2));
    EXPECT_EQ(stepper.steps(), 2);
    // More spikes than input neurons in one step.
    const int32_t many[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2};
    stepper.reset();
    stepper.step(many, 12);
    EXPECT_EQ(stepper.spike_count(0), 12u);
    stepper.readout(readout);
    EXPECT_FLOAT_EQ(readout[1], 0.5f - 4 * 1.0f + 3 * 4.0f + 5 * 0.5f);
}

// reset() starts a new window: the same input after it gives what a fresh stepper gives.
TEST(SnnStepper, ResetStartsAFreshWindow) {
    const SnnModel m = small_model();
    const SnnEngine engine(m);
    const ImageSet set = grey_images(1, 2, 9, 9, 5, 4);
    const auto input = test::poisson_input_hwc(set, 0, {}, 3, 6);
    SnnStepper used(engine), fresh(engine);
    for (const auto& in : input) used.step(in.data(), in.size());
    EXPECT_EQ(used.windows(), 1);
    used.reset();
    EXPECT_EQ(used.steps(), 0);
    EXPECT_EQ(used.windows(), 2);
    EXPECT_EQ(used.decision(), -1);
    for (size_t p = 0; p < m.populations.size(); ++p) EXPECT_EQ(used.spike_count(static_cast<int>(p)), 0u);
    std::vector<float> a, b;
    for (const auto& in : input) {
        EXPECT_EQ(used.step(in.data(), in.size()), fresh.step(in.data(), in.size()));
        used.readout(a), fresh.readout(b);
        EXPECT_EQ(a, b);
        EXPECT_EQ(used.projection_sops(), fresh.projection_sops());
    }
    std::vector<int32_t> ca, cb;
    for (size_t p = 0; p < m.populations.size(); ++p) {
        used.counts(static_cast<int>(p), ca), fresh.counts(static_cast<int>(p), cb);
        EXPECT_EQ(ca, cb) << p;
    }
}

TEST(SnnStepper, RejectsBadInputAndConstantCurrentEncodings) {
    const SnnModel m = small_model();
    const SnnEngine engine(m);
    EXPECT_THROW(SnnStepper(engine, make_input_encoding("current").get()), ConfigError);
    SnnStepper stepper(engine, make_input_encoding("poisson").get());
    const int32_t outside[] = {162}, negative[] = {-1}, descending[] = {5, 4};
    EXPECT_THROW(stepper.step(outside, 1), DataError);
    EXPECT_THROW(stepper.step(negative, 1), DataError);
    try {
        stepper.step(descending, 2);
        ADD_FAILURE() << "descending input accepted";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("ascending"));
    }
    EXPECT_EQ(stepper.steps(), 0) << "a refused step does not run";
    for (int64_t t = 0; t < kMaxSnnSteps; ++t) stepper.step(nullptr, 0);
    EXPECT_THROW(stepper.step(nullptr, 0), DataError) << "16-bit counts: no step beyond kMaxSnnSteps";
    stepper.reset();
    EXPECT_NO_THROW(stepper.step(nullptr, 0));
}

}  // namespace
}  // namespace neuroemu
