// The SystemC chip model against conservation laws and the functional engine. SystemC allows one elaboration per
// process: each test builds one chip (ctest runs every test case in its own process).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include <sys/wait.h>
#include <unistd.h>

#include "convert/convert.h"
#include "fixture.h"
#include "hw/chip_model.h"
#include "hw/cores/rolls_core.h"
#include "mapping/mapping.h"
#include "model/onnx_import.h"

namespace neuroemu {
namespace {

using test::Fixture;
using test::shipped_resnet8;

struct ChipRun {
    HwStats hw;
    SnnResult engine;  // over all images
    std::vector<int64_t> engine_projection_sops;
    int64_t input_macs = 0;
};

// Simulates every image on the functional engine (recording its spikes) and then on the chip.
ChipRun run_chip(const Fixture& s, const ChipSpec& chip, int64_t steps, const std::string& encoding = "current",
             int64_t max_tick_cycles = 100000000, const std::string& core_model = kDefaultCoreModel) {
    MapOptions mo;
    const Mapping m = map_network(s.model, chip, mo);
    HwOptions ho;
    ho.core_model = core_model;
    ho.max_tick_cycles = max_tick_cycles;
    ChipModel model(m, s.model, ho);
    const SnnEngine engine(s.model);
    ChipRun run;
    run.engine_projection_sops.assign(s.model.projections.size(), 0);
    for (int64_t i = 0; i < s.test.count; ++i) {
        TraceRecorder rec(static_cast<int>(s.model.populations.size()), steps);
        SnnOptions so;
        so.steps = steps;
        so.encoding = make_input_encoding(encoding);
        so.observer = &rec;
        const SnnResult r = engine.evaluate(s.test.slice(i, 1), {}, so);
        for (size_t k = 0; k < r.projections.size(); ++k) run.engine_projection_sops[k] += r.projections[k].sops;
        run.input_macs += r.input_macs;
        if (i == 0) {
            run.engine = r;
        } else {
            for (size_t t = 0; t < r.correct_at_step.size(); ++t) run.engine.correct_at_step[t] += r.correct_at_step[t];
        }
        SpikeTrace& trace = rec.traces().at(0);
        if (encoding == "current") set_current_input(trace, s.test, i, {});
        model.run(trace);
    }
    run.hw = model.stats();
    return run;
}

// Every packet reached every destination core once; every synaptic operation the engine counted happened in a
// core; the decisions are the engine's.
void expect_conserved(const Fixture& s, const ChipRun& r, const std::string& encoding) {
    EXPECT_EQ(r.hw.core_packets_delivered, r.hw.core_packets_expected);
    EXPECT_EQ(std::accumulate(r.hw.core_packets_delivered.begin(), r.hw.core_packets_delivered.end(), int64_t{0}), r.hw.packets_delivered);
    EXPECT_GT(r.hw.packets_delivered, 0);
    int64_t input_sops = 0;
    for (size_t k = 0; k < s.model.projections.size(); ++k) {
        if (encoding == "current" && s.model.projections[k].source == 0) {
            input_sops += r.hw.sops_by_projection_index[k];
            continue;
        }
        EXPECT_EQ(r.hw.sops_by_projection_index[k], r.engine_projection_sops[k]) << s.model.projections[k].name;
    }
    if (encoding == "current") {
        EXPECT_EQ(input_sops, r.input_macs);
    }
    EXPECT_EQ(r.hw.correct_at_step, r.engine.correct_at_step);
    EXPECT_EQ(std::accumulate(r.hw.core_sops.begin(), r.hw.core_sops.end(), int64_t{0}), r.hw.sops + r.hw.partial_sum_sops);
    EXPECT_EQ(r.hw.ticks, r.hw.images * static_cast<int64_t>(r.engine.correct_at_step.size()));
    EXPECT_EQ(static_cast<int64_t>(r.hw.tick_cycles.size()), r.hw.ticks);
    EXPECT_EQ(std::accumulate(r.hw.tick_cycles.begin(), r.hw.tick_cycles.end(), int64_t{0}), r.hw.cycles);
}

TEST(ChipModel, ShippedModelIsCarriedSpikeForSpike) {
    const Fixture s = shipped_resnet8(3);
    const ChipRun r = run_chip(s, ChipSpec{}, 25);
    expect_conserved(s, r, "current");
    // A packet never arrives before the zero-load latency of the shortest route allows.
    EXPECT_GE(r.hw.packet_latency_sum_cycles, r.hw.packets_delivered * ChipModel::zero_load_latency(ChipSpec{}, 0, 1));
}

// Tiny buffers, one-flit queues, slow synapse engines and 4-flit packets: heavy back-pressure, nothing lost.
TEST(ChipModel, BackPressureNeverDropsAPacketTree) {
    const Fixture s = shipped_resnet8(1);
    ChipSpec chip;
    chip.noc.buffer_depth = 4;
    chip.noc.flit_bits = 8;  // a 32-bit event is 4 flits
    chip.core.input_queue = 4;
    chip.core.sops_per_cycle = 4;
    const ChipRun r = run_chip(s, chip, 12);
    expect_conserved(s, r, "current");
    EXPECT_GT(r.hw.noc.stall_cycles, 0);
    EXPECT_EQ(r.hw.noc.flit_hops, 4 * r.hw.noc.packet_hops);
}

TEST(ChipModel, BackPressureNeverDropsAPacketUnicastPoisson) {
    const Fixture s = shipped_resnet8(1);
    ChipSpec chip;
    chip.noc.multicast = "source";
    chip.noc.buffer_depth = 1;
    chip.core.input_queue = 1;
    chip.core.sops_per_cycle = 8;
    const ChipRun r = run_chip(s, chip, 12, "poisson");
    expect_conserved(s, r, "poisson");
    // Unicast: every packet has one destination.
    EXPECT_EQ(r.hw.packets_injected, r.hw.packets_delivered);
}

TEST(ChipModel, MultiChipMeshCrossesInterChipLinks) {
    const Fixture s = shipped_resnet8(1);
    ChipSpec chip;
    chip.noc.width = 6, chip.noc.height = 5, chip.noc.chips = 0;
    const ChipRun r = run_chip(s, chip, 10);
    expect_conserved(s, r, "current");
    EXPECT_GT(r.hw.noc.inter_chip_packet_hops, 0);
}

TEST(ChipModel, StuckTickIsReportedNotHung) {
    const Fixture s = shipped_resnet8(1);
    try {
        run_chip(s, ChipSpec{}, 5, "current", 3);  // no tick can finish in 3 cycles
        FAIL() << "expected DeadlockError";
    } catch (const DeadlockError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("did not finish tick 1 of image 1 within 3 cycles"));
    }
}

// A core model defined only here: the ROLLS core whose neuron update takes kSlowFireCycles more. Registered by name
// and chosen through HwOptions::core_model with no other edit.
constexpr int64_t kSlowFireCycles = 5000;
int64_t slow_cores_built = 0, slow_fires = 0;

class SlowFireCore final : public RollsCore {
public:
    SlowFireCore(Chip& chip, int32_t index, Router& router) : RollsCore(chip, index, router) { ++slow_cores_built; }
    bool fire(int64_t now) override {
        ++slow_fires;
        return RollsCore::fire(now + kSlowFireCycles);
    }
};

const Registrar<CoreModelKind> slow_fire_registration(
    core_models(), {"slow_fire_test", "a ROLLS core whose neurons take 5000 cycles more to update (test).", {}},
    [](const Settings&) { return std::make_unique<CoreKindOf<SlowFireCore>>(); });

TEST(ChipModel, ACoreModelDefinedInATestIsSelectedByName) {
    const Fixture s = shipped_resnet8(1);
    const int64_t steps = 6;
    const ChipRun r = run_chip(s, ChipSpec{}, steps, "current", 100000000, "slow_fire_test");
    expect_conserved(s, r, "current");  // the same spikes and synaptic operations as with the built-in core
    EXPECT_EQ(slow_cores_built, static_cast<int64_t>(r.hw.core_sops.size()));
    EXPECT_EQ(slow_fires, static_cast<int64_t>(r.hw.core_sops.size()) * steps);  // each core fires once a tick
    // Once spikes cross several layers in a tick, each sending layer waits for its slower neuron update before its
    // events can leave (the built-in core needs a few hundred cycles for a whole tick of this network).
    EXPECT_GE(r.hw.max_tick_cycles, 3 * kSlowFireCycles);
}

TEST(ChipModel, UnknownCoreModelNamesTheRegisteredOnes) {
    try {
        core_models().make("rols");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("did you mean 'rolls'?"));
    }
}

// The spikes of ticks first..steps of test image 0 (the constant-current pixels go at tick 1).
SpikeTrace ticks_from(const Fixture& s, int64_t steps, int64_t first) {
    std::vector<int64_t> ticks;
    for (int64_t t = first; t <= steps; ++t) ticks.push_back(t);
    TraceRecorder rec(static_cast<int>(s.model.populations.size()), steps, first == 1 ? std::vector<int64_t>{} : ticks);
    SnnOptions so;
    so.steps = steps;
    so.observer = &rec;
    SnnEngine(s.model).evaluate(s.test.slice(0, 1), {}, so);
    SpikeTrace trace = rec.traces().at(0);
    if (first == 1) set_current_input(trace, s.test, 0, {});
    return trace;
}

// Per simulated tick from the `from`-th on: its step, its cycles and what it added to every counter.
std::vector<int64_t> per_tick(const HwStats& hw, size_t from) {
    std::vector<int64_t> v;
    for (size_t k = from; k < hw.tick_counts.size(); ++k) {
        v.push_back(hw.tick_steps[k]);
        v.push_back(hw.tick_cycles[k]);
        v.insert(v.end(), hw.tick_counts[k].begin(), hw.tick_counts[k].end());
    }
    return v;
}

// A child process that runs ticks first..steps of image 0 on a fresh chip and writes per_tick() into a pipe.
struct Child {
    pid_t pid = -1;
    int fd = -1;
};

Child run_alone_in_child(const Fixture& s, const Mapping& m, int64_t steps, int64_t first) {
    int fds[2];
    if (pipe(fds) != 0) return {};
    const pid_t pid = fork();
    if (pid != 0) {
        close(fds[1]);
        return {pid, fds[0]};
    }
    close(fds[0]);
    int code = 0;
    try {
        ChipModel alone(m, s.model, HwOptions{});
        alone.run(ticks_from(s, steps, first));
        const std::vector<int64_t> v = per_tick(alone.stats(), 0);
        const auto bytes = static_cast<ssize_t>(v.size() * sizeof(int64_t));
        code = write(fds[1], v.data(), static_cast<size_t>(bytes)) == bytes ? 0 : 1;
    } catch (...) {
        code = 2;
    }
    _exit(code);
}

std::vector<int64_t> result_of(const Child& c) {
    std::vector<int64_t> v;
    int64_t x = 0;
    while (read(c.fd, &x, sizeof x) == static_cast<ssize_t>(sizeof x)) v.push_back(x);
    close(c.fd);
    int status = 0;
    waitpid(c.pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's chip failed";
    return v;
}

// Ticks are independent (docs/hardware-model.md): ticks k..T run alone on a fresh chip cost exactly what they cost
// within the whole run, under heavy back-pressure (where arbitration state and credits would carry over). A fresh
// chip needs a process of its own (one SystemC elaboration per process): children run them, forked before this
// process elaborates its own chip.
TEST(ChipModel, TicksAloneOnAFreshChipCostWhatTheyCostInTheRun) {
    const Fixture s = shipped_resnet8(1);
    ChipSpec spec;
    spec.noc.buffer_depth = 4;
    spec.noc.flit_bits = 8;
    spec.core.input_queue = 4;
    spec.core.sops_per_cycle = 4;
    const Mapping m = map_network(s.model, spec, MapOptions{});
    const int64_t steps = 10;
    const std::vector<int64_t> firsts = {2, 4, 7};
    std::vector<Child> children;
    for (int64_t first : firsts) {
        children.push_back(run_alone_in_child(s, m, steps, first));
        ASSERT_GT(children.back().pid, 0);
    }
    ChipModel whole(m, s.model, HwOptions{});
    whole.run(ticks_from(s, steps, 1));
    const HwStats& full = whole.stats();
    EXPECT_GT(full.noc.stall_cycles, 0);
    for (size_t k = 0; k < firsts.size(); ++k) {
        const std::vector<int64_t> alone = result_of(children[k]);
        EXPECT_EQ(alone, per_tick(full, static_cast<size_t>(firsts[k] - 1))) << "ticks " << firsts[k] << "-" << steps;
    }
}

TEST(ChipModel, ZeroLoadLatencyFormula) {
    ChipSpec chip;
    chip.noc.pipeline_cycles = 3, chip.noc.link_cycles = 2, chip.noc.inter_chip_link_cycles = 10;
    // Source router pipeline, then per link the traversal and the next pipeline, then the tail into the core.
    EXPECT_EQ(ChipModel::zero_load_latency(chip, 0, 1), 3 + 2);
    EXPECT_EQ(ChipModel::zero_load_latency(chip, 4, 2), 3 + 4 * (2 + 3) + 2 * 2);
    EXPECT_EQ(ChipModel::zero_load_latency(chip, 4, 1, 1), 3 + 3 * (2 + 3) + (10 + 3) + 2);
}

}  // namespace
}  // namespace neuroemu
