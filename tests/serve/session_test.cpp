// The session behind `neuroemu serve` (serve/session.h), without the chip model (session_chip_test.cpp has it):
// stepped with the Poisson spikes of test images, given as flat [C][H][W] input indices in any order, it classifies
// them as the batch `evaluate` run does, step by step; a single input event reaches exactly the units its conv
// window covers; each unit's spike is counted on the core that holds it; reset starts a new window; bad names and
// encodings are refused with errors that say what to do.
#include "serve/session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>
#include <set>

#include <unistd.h>

#include "common/error.h"
#include "data/dataset_spec.h"
#include "experiment/model_run.h"
#include "sim/sim_spec.h"
#include "tests/serve/poisson_input.h"
#include "tests/support/builders.h"

namespace neuroemu::serve {
namespace {

const std::string kDefault = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";

SessionOptions poisson_session(std::vector<std::string> published = {}) {
    SessionOptions o;
    o.config = kDefault;
    o.set = {"simulation.encoding=poisson", "simulation.steps=8", "dataset.images=3", "seed=11"};
    o.published = std::move(published);
    return o;
}

// One step's input as the server hands it over: flat [C][H][W] indices, in an arbitrary order.
std::vector<InputSpike> served_input(const std::vector<int32_t>& hwc, const std::vector<int64_t>& shape,
                                     std::mt19937& rng) {
    std::vector<InputSpike> out;
    for (int32_t j : hwc) out.push_back({test::hwc_to_chw(j, shape[0], shape[1] * shape[2]), 1});
    std::shuffle(out.begin(), out.end(), rng);
    return out;
}

std::vector<int32_t> flat_chw(const std::vector<SpikeEvent>& events, const std::vector<int64_t>& shape) {
    std::vector<int32_t> out;
    for (const SpikeEvent& e : events)
        out.push_back(static_cast<int32_t>(shape.size() == 3 ? (e.c * shape[1] + e.y) * shape[2] + e.x : e.c));
    std::sort(out.begin(), out.end());
    return out;
}

// The batch engine's decision at every step of every image: an observer sees only whether the decision hit the
// label, so the set runs once with every label set to each class.
std::vector<std::vector<int64_t>> batch_decisions(const SnnModel& model, ImageSet set, const InputNormalisation& norm,
                                                  SnnOptions options, int64_t classes) {
    std::vector<std::vector<int64_t>> out(static_cast<size_t>(set.count), std::vector<int64_t>(static_cast<size_t>(options.steps), -1));
    const SnnEngine engine(model);
    for (int64_t k = 0; k < classes; ++k) {
        std::fill(set.labels.begin(), set.labels.end(), k);
        test::Recorder seen(model.populations.size(), model.projections.size());
        options.observer = &seen;
        engine.evaluate(set, norm, options);
        for (int64_t i = 0; i < set.count; ++i)
            for (int64_t t = 0; t < options.steps; ++t)
                if (seen.image(i).at(static_cast<size_t>(t)).hit) out[static_cast<size_t>(i)][static_cast<size_t>(t)] = k;
    }
    return out;
}

int64_t sum(const std::vector<int64_t>& v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

// The shipped ResNet-20 with Poisson input (few steps: its accuracy is low this early, so decisions are compared
// as classes, not as hits): every tick's decision, population spikes, SOPs and published spikes
// equal the batch engine's for the same image and seed, and the totals over the images equal those of the
// `evaluate` pipeline (experiment::run_functional: conversion and engine run independently of the session).
TEST(Session, ClassifiesPoissonEventsAsEvaluateDoes) {
    const auto session = Session::load(poisson_session({"/relu/Relu", "/layer3/layer3.2/Relu_1"}));
    ASSERT_EQ(session->published().size(), 2u);
    const Settings& settings = session->settings();
    const SnnModel& model = session->model();
    const auto& shape = model.populations[0].shape;
    ImageSet set;
    experiment::for_each_test_chunk(settings, shape, 3, [&](const ImageSet& chunk) { set = chunk; });
    const InputNormalisation norm = input_normalisation(settings, set.channels);
    SnnOptions options = snn_options(settings);
    test::Recorder batch(model.populations.size(), model.projections.size());
    options.observer = &batch;
    SnnEngine(model).evaluate(set, norm, options);
    const auto decisions = batch_decisions(model, set, norm, options, session->classes());
    const experiment::FunctionalRun reference = experiment::run_functional(settings, "", 0);

    std::mt19937 rng(1);
    std::vector<int64_t> correct(static_cast<size_t>(options.steps), 0), spikes(model.populations.size(), 0);
    int64_t sops = 0, published_spikes = 0;
    for (int64_t i = 0; i < set.count; ++i) {
        session->reset();
        const auto input = test::poisson_input_hwc(set, i, norm, options.seed, options.steps);
        for (int64_t t = 1; t <= options.steps; ++t) {
            const TickResult& r = session->step(served_input(input[static_cast<size_t>(t - 1)], shape, rng));
            const test::StepRecord& seen = batch.image(i).at(static_cast<size_t>(t - 1));
            const std::string where = "image " + std::to_string(i) + " tick " + std::to_string(t);
            EXPECT_EQ(r.step, t);
            EXPECT_EQ(r.tick, i * options.steps + t);
            EXPECT_EQ(r.input_spikes, static_cast<int64_t>(input[static_cast<size_t>(t - 1)].size()));
            EXPECT_EQ(r.decision == set.labels[static_cast<size_t>(i)], seen.hit) << where;
            EXPECT_EQ(r.decision, decisions[static_cast<size_t>(i)][static_cast<size_t>(t - 1)]) << where;
            EXPECT_EQ(r.sops, sum(seen.sops)) << where;
            for (size_t p = 0; p < model.populations.size(); ++p)
                EXPECT_EQ(r.population_spikes[p], static_cast<int64_t>(seen.spikes[p].size())) << where << " pop " << p;
            for (size_t k = 0; k < session->published().size(); ++k) {
                const int pop = session->published()[k];
                EXPECT_EQ(r.published_spikes[k], flat_chw(seen.spikes[static_cast<size_t>(pop)], model.populations[static_cast<size_t>(pop)].shape))
                    << where << " " << model.populations[static_cast<size_t>(pop)].name;
                published_spikes += static_cast<int64_t>(r.published_spikes[k].size());
            }
            ASSERT_EQ(r.readout.size(), static_cast<size_t>(session->classes()));
            EXPECT_EQ(r.decision, std::max_element(r.readout.begin(), r.readout.end()) - r.readout.begin()) << where;
            correct[static_cast<size_t>(t - 1)] += r.decision == set.labels[static_cast<size_t>(i)];
            for (size_t p = 0; p < spikes.size(); ++p) spikes[p] += r.population_spikes[p];
            sops += r.sops;
        }
    }
    EXPECT_GT(published_spikes, 0);
    EXPECT_EQ(correct, reference.result.correct_at_step);
    EXPECT_EQ(sops, reference.result.sops);
    for (size_t p = 0; p < spikes.size(); ++p) EXPECT_EQ(spikes[p], reference.result.populations[p].spikes) << p;
}

// Every spike of a mapped population counts on exactly one core, within the mesh.
TEST(Session, CoreSpikesAddUpToThePopulationsSpikes) {
    const auto session = Session::load(poisson_session());
    ASSERT_GT(session->cores(), 0) << session->fit_error();
    EXPECT_EQ(session->fit_error(), "");
    const auto xy = session->core_xy();
    ASSERT_EQ(static_cast<int64_t>(xy.size()), session->cores());
    std::set<std::array<int32_t, 2>> distinct(xy.begin(), xy.end());
    EXPECT_EQ(distinct.size(), xy.size()) << "one core per mesh position";
    for (const auto& p : xy) {
        EXPECT_GE(p[0], 0);
        EXPECT_LT(p[0], session->mesh_width());
        EXPECT_GE(p[1], 0);
        EXPECT_LT(p[1], session->mesh_height());
    }
    std::vector<InputSpike> input;
    for (int32_t j = 0; j < session->input_size(); j += 3) input.push_back({j, 1});
    int64_t active_cores = 0;
    for (int t = 0; t < 4; ++t) {
        const TickResult& r = session->step(input);
        ASSERT_EQ(static_cast<int64_t>(r.core_spikes.size()), session->cores());
        EXPECT_EQ(sum(r.core_spikes), sum(r.population_spikes) - r.population_spikes[0]) << "tick " << t;
        active_cores = std::count_if(r.core_spikes.begin(), r.core_spikes.end(), [](int64_t s) { return s > 0; });
    }
    EXPECT_GT(active_cores, 1);
}

// input [2,5,6] -conv 3x3 s1 p1 (weight 1 from input channel c to A channel c, else 0)-> A [2,5,6] -linear-> out
// [3] (non-spiking). Thresholds 1, no bias, v_init 0: one input spike at (c, y, x) makes every A neuron of channel
// c whose window covers (y, x) fire, and nothing else (so the flat [C][H][W] index must reach the right channel);
// a count of 3 is three spikes (three times the synapses reached).
SnnModel window_model() {
    SnnModel m;
    m.name = "window";
    m.populations.push_back(input_pop({2, 5, 6}));
    m.populations.push_back(if_pop("A", {2, 5, 6}));
    Population out = if_pop("out", {3});
    out.spiking = false;
    m.populations.push_back(out);
    Tensor w({2, 2, 3, 3});
    for (size_t k = 0; k < w.data.size(); ++k) w.data[k] = k / 9 == 0 || k / 9 == 3 ? 1.0f : 0.0f;  // [co][ci]: co == ci
    m.projections.push_back(projection("conv", ProjectionKind::Conv, 0, 1, w, window(3, 1, 1)));
    Tensor fc({3, 60});  // A's 60 units
    for (size_t k = 0; k < fc.data.size(); ++k) fc.data[k] = static_cast<float>(k % 7) / 8.0f;
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 1, 2, fc));
    m.output = 2;
    validate(m, "window");
    return m;
}

struct WindowFile {
    std::string path = (std::filesystem::temp_directory_path() / ("session_window_" + std::to_string(::getpid()) + ".snn")).string();
    WindowFile() { save_snn(window_model(), path); }
    ~WindowFile() { std::filesystem::remove(path); }
};

SessionOptions window_session(const WindowFile& file) {
    SessionOptions o;
    o.config = kDefault;
    o.snn_file = file.path;
    o.set = {"simulation.encoding=poisson", "mapping.traffic=estimate"};
    o.published = {"A"};
    return o;
}

TEST(Session, OneEventReachesExactlyTheUnitsItsWindowCovers) {
    const WindowFile file;
    const auto session = Session::load(window_session(file));
    ASSERT_EQ(session->input_size(), 60);
    const int64_t c = 1, y = 0, x = 4, h = 5, w = 6;
    const TickResult& r = session->step({{static_cast<int32_t>((c * h + y) * w + x), 1}});
    std::vector<int32_t> expected;
    for (int64_t oy = 0; oy < h; ++oy)
        for (int64_t ox = 0; ox < w; ++ox)
            if (std::abs(oy - y) <= 1 && std::abs(ox - x) <= 1) expected.push_back(static_cast<int32_t>((c * h + oy) * w + ox));
    ASSERT_EQ(r.published_spikes.size(), 1u);
    EXPECT_EQ(r.published_spikes[0], expected);
    EXPECT_EQ(r.population_spikes[1], static_cast<int64_t>(expected.size()));
    EXPECT_EQ(r.input_spikes, 1);
    const auto n = static_cast<int64_t>(expected.size());
    EXPECT_EQ(r.sops, n * 2 + n * 3) << "conv: each window position's 2 channels; fc: 3 outputs per A spike";
    ASSERT_GT(session->cores(), 0) << session->fit_error();
    EXPECT_EQ(sum(r.core_spikes), static_cast<int64_t>(expected.size()));

    session->reset();
    const TickResult& three = session->step({{static_cast<int32_t>(2 * w + 2), 3}});  // (0, 2, 2), 3 spikes
    EXPECT_EQ(three.input_spikes, 3);
    EXPECT_EQ(three.published_spikes[0].size(), 9u) << "9 window positions, each neuron fires once";
    EXPECT_EQ(three.sops, 3 * 9 * 2 + 9 * 3);
}

TEST(Session, ResetStartsAWindowAndTicksKeepCounting) {
    const WindowFile file;
    const auto session = Session::load(window_session(file));
    const std::vector<std::vector<InputSpike>> inputs = {{{3, 1}, {17, 2}}, {{0, 1}}, {}, {{29, 1}, {3, 1}}};
    std::vector<TickResult> first;
    for (const auto& in : inputs) first.push_back(session->step(in));
    EXPECT_EQ(session->tick(), 4);
    EXPECT_EQ(session->step_in_window(), 4);
    session->reset();
    EXPECT_EQ(session->step_in_window(), 0);
    EXPECT_EQ(session->tick(), 4) << "the session's tick never resets";
    for (size_t t = 0; t < inputs.size(); ++t) {
        const TickResult& r = session->step(inputs[t]);
        EXPECT_EQ(r.tick, static_cast<int64_t>(5 + t));
        EXPECT_EQ(r.step, static_cast<int64_t>(t + 1));
        EXPECT_EQ(r.readout, first[t].readout) << "tick " << t;
        EXPECT_EQ(r.published_spikes, first[t].published_spikes) << "tick " << t;
        EXPECT_EQ(r.decision, first[t].decision);
        EXPECT_EQ(r.sops, first[t].sops);
    }
    // The engine's counts are 16-bit: at step kMaxSnnSteps the next tick starts a new window.
    while (session->step_in_window() < kMaxSnnSteps) session->step({});
    const TickResult& after = session->step(inputs[0]);
    EXPECT_EQ(after.step, 1);
    EXPECT_EQ(after.readout, first[0].readout);
}

TEST(Session, RefusesUnknownPopulationsAndBadIndicesServesConstantCurrentConfigsWithEvents) {
    const WindowFile file;
    SessionOptions o = window_session(file);
    o.published = {"A", "nope"};
    try {
        Session::load(o);
        ADD_FAILURE() << "an unknown population was accepted";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), testing::AllOf(testing::HasSubstr("'nope'"), testing::HasSubstr("input, A, out")));
    }
    o = window_session(file);
    o.set = {"mapping.traffic=estimate"};  // the default config's constant-current input: served as events
    const auto as_current = Session::load(o), as_poisson = Session::load(window_session(file));
    for (int t = 0; t < 4; ++t) {
        const std::vector<InputSpike> in = {{t % 3, 2}, {7, 1}};
        const TickResult a = as_current->step(in), b = as_poisson->step(in);
        EXPECT_EQ(a.population_spikes, b.population_spikes) << "tick " << t + 1;
        EXPECT_EQ(a.readout, b.readout) << "tick " << t + 1;
        EXPECT_EQ(a.input_spikes, 3);
    }
    const auto session = Session::load(window_session(file));
    EXPECT_EQ(session->published(), std::vector<int>{1});
    EXPECT_THROW(session->step({{60, 1}}), DataError);
    EXPECT_THROW(session->step({{-1, 1}}), DataError);
    EXPECT_EQ(session->tick(), 0);
    o = window_session(file);
    o.published.clear();
    EXPECT_EQ(Session::load(o)->published(), std::vector<int>{1})
        << "default: the output population, or as here, where it is a non-spiking readout, the layer feeding it";
}

}  // namespace
}  // namespace neuroemu::serve
