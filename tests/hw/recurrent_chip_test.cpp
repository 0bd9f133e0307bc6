// The chip model on explicit (Sparse) and recurrent projections, driven by a hand-built spike trace: every packet
// delivered (events of the last tick drained too), the synaptic operations of each projection counted from the
// synapse lists (a recurrent projection's events of the last step drained, outside the engine's count), and the
// neuron updates of a cuba_lif population = 2 x neurons x ticks, as the energy model's estimate. SystemC allows
// one elaboration per process: each test builds one chip (ctest runs every test case in its own process).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "energy/counts.h"
#include "hw/chip_model.h"
#include "mapping/mapping.h"
#include "model/neuron_state.h"
#include "sim/neuron/neuron.h"
#include "tests/support/recurrent_model.h"

namespace neuroemu {
namespace {

constexpr int64_t kSteps = 6;

// Every unit of every population fires with probability 0.3 in every step (seeded).
SpikeTrace random_trace(const SnnModel& m) {
    std::mt19937 rng(7);
    std::bernoulli_distribution fire(0.3);
    SpikeTrace trace;
    trace.steps = kSteps;
    trace.correct.assign(kSteps, 0);
    trace.events.assign(kSteps, std::vector<std::vector<SpikeEvent>>(m.populations.size()));
    for (int64_t t = 0; t < kSteps; ++t)
        for (size_t p = 0; p < m.populations.size(); ++p) {
            const auto& shape = m.populations[p].shape;
            const int64_t h = shape.size() == 3 ? shape[1] : 1, w = shape.size() == 3 ? shape[2] : 1;
            for (int64_t u = 0; u < m.populations[p].size(); ++u)
                if (fire(rng))
                    trace.events[static_cast<size_t>(t)][p].push_back(
                        {static_cast<int32_t>(u / (h * w)), static_cast<int32_t>(u / w % h), static_cast<int32_t>(u % w)});
        }
    return trace;
}

int64_t flat(const SnnModel& m, int pop, const SpikeEvent& e) {
    const auto& shape = m.populations[static_cast<size_t>(pop)].shape;
    const int64_t h = shape.size() == 3 ? shape[1] : 1, w = shape.size() == 3 ? shape[2] : 1;
    return (e.c * h + e.y) * w + e.x;
}

void run_and_check(int64_t fan_in) {
    const SnnModel model = test::recurrent_model();
    ChipSpec chip;
    chip.core.neurons = 16;
    chip.core.fan_in = fan_in;
    const Mapping mapping = map_network(model, chip, MapOptions{});
    ChipModel hw(mapping, model, HwOptions{});
    const SpikeTrace trace = random_trace(model);
    hw.run(trace);
    const HwStats& s = hw.stats();

    // Conservation: every packet injected reached each of its destination cores once.
    EXPECT_EQ(s.core_packets_delivered, s.core_packets_expected);
    EXPECT_EQ(std::accumulate(s.core_packets_delivered.begin(), s.core_packets_delivered.end(), int64_t{0}),
              s.packets_delivered);
    EXPECT_EQ(s.ticks, kSteps);

    // SOPs from the synapse lists: each spike of step t through every projection from its population; a recurrent
    // projection's spikes of the last step are drained (delivered, counted apart from the engine's steps).
    std::vector<int64_t> want(model.projections.size(), 0);
    int64_t drained = 0, spikes = 0;
    for (int64_t t = 0; t < kSteps; ++t)
        for (size_t k = 0; k < model.projections.size(); ++k) {
            const Projection& p = model.projections[k];
            for (const SpikeEvent& e : trace.events[static_cast<size_t>(t)][static_cast<size_t>(p.source)]) {
                const auto u = static_cast<size_t>(flat(model, p.source, e));
                const int64_t row = p.sparse_ptr[u + 1] - p.sparse_ptr[u];
                (p.recurrent && t == kSteps - 1 ? drained : want[k]) += row;
            }
        }
    for (int64_t t = 0; t < kSteps; ++t)
        for (const auto& pop : trace.events[static_cast<size_t>(t)]) spikes += static_cast<int64_t>(pop.size());
    for (size_t k = 0; k < model.projections.size(); ++k)
        EXPECT_EQ(s.sops_by_projection_index[k], want[k]) << model.projections[k].name;
    EXPECT_GT(drained, 0);
    EXPECT_EQ(s.recurrent_drained_sops, drained);
    EXPECT_EQ(s.sops, std::accumulate(want.begin(), want.end(), int64_t{0}) + drained);

    // Neuron updates: cuba_lif has two state variables, if one; partial-sum units one each.
    int64_t partial_units = 0;
    for (const MapLayer& l : mapping.graph.layers)
        if (l.kind == UnitKind::Partial) partial_units += l.units();
    if (fan_in < 48) {
        EXPECT_GT(partial_units, 0);  // the limit splits the inputs (the case this run is for)
    }
    EXPECT_EQ(s.neuron_updates, kSteps * (2 * 48 + 5 + partial_units));
    if (partial_units == 0) {  // the energy model's estimate from the engine side agrees
        FunctionalTotals f;
        f.images = 1;
        f.steps = kSteps;
        f.if_neurons = 48 + 5;
        f.neuron_states = 2 * 48 + 5;
        EXPECT_DOUBLE_EQ(energy_counts(f, std::nullopt, std::nullopt).neuron_updates,
                         static_cast<double>(s.neuron_updates));
    }
    EXPECT_GT(spikes, 0);
}

// The functional engine's own spikes (Poisson input) on the chip: the chip's SOPs per projection are the engine's,
// recurrent ones included (the engine integrates step t's recurrent spikes in step t + 1; the last step's never).
TEST(RecurrentChip, ChipPerformsTheEnginesSops) {
    const SnnModel model = test::recurrent_model(0.3, true);  // a recurrent Linear projection too
    ChipSpec chip;
    chip.core.neurons = 16;
    const Mapping mapping = map_network(model, chip, MapOptions{});
    ChipModel hw(mapping, model, HwOptions{});
    ImageSet set;
    set.count = 1, set.channels = 2, set.height = 4, set.width = 4;
    std::mt19937 rng(3);
    for (int k = 0; k < 32; ++k) set.pixels.push_back(static_cast<uint8_t>(128 + rng() % 128));
    set.labels = {0};
    TraceRecorder rec(static_cast<int>(model.populations.size()), kSteps);
    std::vector<char> recurrent;
    for (const Projection& p : model.projections) recurrent.push_back(p.recurrent);
    rec.set_recurrent(recurrent);
    SnnOptions so;
    so.steps = kSteps;
    so.encoding = make_input_encoding("poisson");
    so.observer = &rec;
    const SnnResult r = SnnEngine(model).evaluate(set, {}, so);
    const SpikeTrace& trace = rec.traces().at(0);
    hw.run(trace);
    const HwStats& s = hw.stats();
    int64_t hidden_spikes = 0;
    for (const auto& step : trace.events) hidden_spikes += static_cast<int64_t>(step[1].size());
    ASSERT_GT(hidden_spikes, 0);
    EXPECT_GT(r.projections[1].sops, 0);  // hidden->hidden, recurrent, carried something
    EXPECT_GT(r.projections[2].sops, 0);  // out->hidden, the back projection
    EXPECT_GT(r.projections[4].sops, 0);  // out->out, recurrent Linear
    EXPECT_EQ(s.core_packets_delivered, s.core_packets_expected);
    for (size_t k = 0; k < model.projections.size(); ++k) {
        EXPECT_EQ(s.sops_by_projection_index[k], r.projections[k].sops) << model.projections[k].name;
        EXPECT_EQ(trace.engine_sops.at(k), r.projections[k].sops) << model.projections[k].name;
    }
    EXPECT_EQ(s.neuron_updates, kSteps * (2 * 48 + 5));
}

// The table the chip and the energy model read (model/neuron_state.h) says what every engine model updates.
TEST(RecurrentChip, StateUpdateTableMatchesTheEnginesModels) {
    const auto names = neuron_models().names();
    EXPECT_GE(names.size(), 6u);
    for (const std::string& name : names) EXPECT_EQ(state_updates(name), neuron_models().make(name)->state_updates()) << name;
}

TEST(RecurrentChip, ExplicitAndRecurrentProjectionsConserveEventsAndSops) { run_and_check(512); }

TEST(RecurrentChip, SplitRecurrentInputsStillConserve) { run_and_check(12); }

}  // namespace
}  // namespace neuroemu
