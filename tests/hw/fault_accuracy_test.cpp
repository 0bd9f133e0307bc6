// The fault-aware functional run (experiment/fault_losses.h, docs/hardware-model.md "Faults") on the shipped
// ResNet-8, whose mapping splits fan-in into partial sums: the engine, told by FaultLosses what the chip loses,
// counts the same lost deliveries by cause as the SystemC chip (an independent path: routers, cores, the tick
// controller) carrying the engine's fault-aware spikes, and performs the same synaptic operations per projection.
// SystemC allows one elaboration per process: at most one chip per test (ctest runs each test in its own process).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "experiment/fault_losses.h"
#include "fixture.h"
#include "mapping/delivery_links.h"

namespace neuroemu {
namespace {

using experiment::FaultLosses;
using test::Fixture;
using test::shipped_resnet8;

constexpr int64_t kSteps = 4;

struct EngineRun {
    SnnResult result;
    std::vector<SpikeTrace> traces;  // per image
    FaultCounters lost;
};

// Every test image of `s` through the engine with `losses` (null: fault-free), as carry_work does: image i's step 1
// is global tick i x kSteps.
EngineRun run_engine(const Fixture& s, FaultLosses* losses, bool record, int64_t steps = kSteps) {
    const SnnEngine engine(s.model);
    EngineRun run;
    for (int64_t i = 0; i < s.test.count; ++i) {
        TraceRecorder rec(static_cast<int>(s.model.populations.size()), steps);
        SnnOptions so;
        so.steps = steps;
        so.threads = 1;
        if (record) so.observer = &rec;
        so.losses = losses;
        if (losses) losses->set_image(i * steps, steps, 1, steps);
        const SnnResult r = engine.evaluate(s.test.slice(i, 1), {}, so);
        if (i == 0) run.result = r; else accumulate(run.result, r);
        if (record) {
            run.traces.push_back(std::move(rec.traces().at(0)));
            set_current_input(run.traces.back(), s.test, i, {});
        }
    }
    if (losses) run.lost = losses->counters();
    return run;
}

// The core of a neuron layer that sends the most events in `run`.
int32_t busiest_core(const Mapping& m, const EngineRun& run) {
    std::vector<int64_t> events(m.cores.size(), 0);
    for (const MapLayer& l : m.graph.layers) {
        if (l.kind != UnitKind::Neuron) continue;
        for (const SpikeTrace& t : run.traces)
            for (const auto& tick : t.events)
                for (const SpikeEvent& e : tick[static_cast<size_t>(l.population)])
                    ++events[static_cast<size_t>(core_of(l, e.c, e.y, e.x))];
    }
    return static_cast<int32_t>(std::max_element(events.begin(), events.end()) - events.begin());
}

// A link on the host's first route (the first conv layer's input), so that killing it cuts real deliveries.
int64_t a_used_link(const Mapping& m) {
    const DeliveryLinks routes(m, FaultSpec{}, true);
    const auto r = static_cast<size_t>(m.routes.offset[m.cores.size()]);
    if (routes.links_begin(r) == routes.links_end(r)) return -1;
    const LinkHop h = *routes.links_begin(r);
    return static_cast<int64_t>(h.router) * 4 + h.output;
}

FaultSpec every_fault(const Mapping& m, int32_t stuck, double rate, int64_t seed) {
    FaultSpec f;
    f.flit_error_rate = rate;
    f.seed = seed;
    f.check = FaultCheck::Crc8;
    f.stuck_cores = {stuck};
    f.dead_links = {a_used_link(m)};
    return f;
}

// The fault-aware engine and the chip of `spec` carrying its spikes, with flips (CRC-8), the busiest neuron core
// stuck and a link of the host's route dead.
void expect_same_losses(const ChipSpec& spec) {
    const Fixture s = shipped_resnet8(2);
    const Mapping m = map_network(s.model, spec, MapOptions{});
    ASSERT_TRUE(std::any_of(m.graph.layers.begin(), m.graph.layers.end(),
                            [](const MapLayer& l) { return l.kind == UnitKind::Partial; }));
    const FaultSpec f = every_fault(m, busiest_core(m, run_engine(s, nullptr, true)), 3e-3, 7);
    ASSERT_GE(f.dead_links[0], 0);
    FaultLosses losses(m, s.model, f);
    const EngineRun engine = run_engine(s, &losses, true);
    HwOptions ho;
    ho.faults = f;
    ChipModel chip(m, s.model, ho);
    for (const SpikeTrace& t : engine.traces) chip.run(t);
    chip.finish();
    const HwStats& hw = chip.stats();
    // Every cause occurs, and both sides count it alike.
    EXPECT_GT(engine.lost.deliveries_detected, 0);
    EXPECT_GT(engine.lost.deliveries_undetected, 0);
    EXPECT_GT(engine.lost.deliveries_undeliverable, 0);
    EXPECT_GT(engine.lost.events_stuck, 0);
    EXPECT_EQ(hw.faults.deliveries_detected, engine.lost.deliveries_detected);
    EXPECT_EQ(hw.faults.deliveries_undetected, engine.lost.deliveries_undetected);
    EXPECT_EQ(hw.faults.deliveries_undeliverable, engine.lost.deliveries_undeliverable);
    EXPECT_EQ(hw.faults.events_stuck, engine.lost.events_stuck);
    // The synaptic operations the chip performed, projection by projection, are the engine's (the constant-current
    // input's are its input MACs); partial sums were exercised.
    EXPECT_GT(hw.partial_sum_sops, 0);
    int64_t input_sops = 0;
    for (size_t k = 0; k < s.model.projections.size(); ++k) {
        if (s.model.projections[k].source == 0) {
            input_sops += hw.sops_by_projection_index[k];
            continue;
        }
        EXPECT_EQ(hw.sops_by_projection_index[k], engine.result.projections[k].sops) << s.model.projections[k].name;
    }
    EXPECT_EQ(input_sops, engine.result.input_macs);
}

TEST(FaultAccuracy, TheEngineLosesWhatTheChipLoses) { expect_same_losses(ChipSpec{}); }

TEST(FaultAccuracy, TheEngineLosesWhatTheChipLosesWithUnicastPackets) {
    ChipSpec spec;
    spec.noc.multicast = "source";  // one packet per destination: flips keyed by it, stuck events per packet
    expect_same_losses(spec);
}

TEST(FaultAccuracy, NothingLostIsTheFaultFreeEngine) {
    // Without flips, stuck cores or dead elements nothing is lost: the run takes the fault-free path.
    FaultSpec f;
    f.check = FaultCheck::Crc16;
    f.slow_cores = {0};
    f.slow_factor = 3;
    EXPECT_FALSE(FaultLosses::loses(f));
    f.flit_error_rate = 1e-9;
    EXPECT_TRUE(FaultLosses::loses(f));
    // With losses possible but none drawn, the slow path integrates every event: the same spikes and SOPs.
    const Fixture s = shipped_resnet8(2);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    f.flit_error_rate = 1e-30;
    FaultLosses losses(m, s.model, f);
    const EngineRun faulty = run_engine(s, &losses, false), clean = run_engine(s, nullptr, false);
    EXPECT_EQ(faulty.lost.deliveries_detected + faulty.lost.deliveries_undetected, 0);
    EXPECT_EQ(faulty.result.correct_at_step, clean.result.correct_at_step);
    EXPECT_EQ(faulty.result.input_macs, clean.result.input_macs);
    for (size_t k = 0; k < clean.result.projections.size(); ++k)
        EXPECT_EQ(faulty.result.projections[k].sops, clean.result.projections[k].sops);
    for (size_t p = 0; p < clean.result.populations.size(); ++p)
        EXPECT_EQ(faulty.result.populations[p].spikes, clean.result.populations[p].spikes);
}

TEST(FaultAccuracy, SameSeedSameLossesOtherSeedOthers) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    const auto run = [&](int64_t seed) {
        FaultSpec f;
        f.flit_error_rate = 1e-3;
        f.seed = seed;
        FaultLosses losses(m, s.model, f);
        return run_engine(s, &losses, false);
    };
    const EngineRun a = run(1), b = run(1), c = run(2);
    EXPECT_GT(a.lost.deliveries_undetected, 0);
    EXPECT_EQ(a.lost.deliveries_undetected, b.lost.deliveries_undetected);
    EXPECT_EQ(a.result.sops, b.result.sops);
    EXPECT_EQ(a.result.spikes, b.result.spikes);
    EXPECT_NE(a.lost.deliveries_undetected, c.lost.deliveries_undetected);
    EXPECT_NE(a.result.sops, c.result.sops);
}

TEST(FaultAccuracy, AVeryHighRateSilencesTheNetwork) {
    // At 5 % per bit nearly every packet arrives corrupt: almost no spike reaches the deeper layers, and the
    // accuracy falls from the fault-free engine's.
    const Fixture s = shipped_resnet8(4);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    FaultSpec f;
    f.flit_error_rate = 5e-2;
    FaultLosses losses(m, s.model, f);
    const EngineRun faulty = run_engine(s, &losses, false, 10), clean = run_engine(s, nullptr, false, 10);
    EXPECT_LT(faulty.result.sops * 10, clean.result.sops);
    EXPECT_LT(faulty.result.correct_at_step.back(), clean.result.correct_at_step.back());
}

}  // namespace
}  // namespace neuroemu
