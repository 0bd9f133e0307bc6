#include "experiment/hardware_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>

#include "common/file_io.h"
#include "common/error.h"
#include "arch/fault_spec.h"
#include "experiment/fault_losses.h"
#include "hw/chip_regions.h"
#include "data/dataset_spec.h"
#include "hw/vcd_merge.h"
#include "mpi/pack.h"
#include "mpi/world.h"
#include "sim/sim_spec.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

namespace {

// Conservation under faults: every delivery owed by an injected packet arrived, and was integrated, dropped by the
// check or counted corrupt by the oracle.
void check_fault_conservation(const HwStats& stats) {
    int64_t owed = 0;
    for (int64_t n : stats.core_packets_expected) owed += n;
    const FaultCounters& f = stats.faults;
    if (owed != stats.packets_delivered + f.deliveries_detected + f.deliveries_undetected)
        throw InternalError(fmt::format("faults: {} deliveries owed, {} delivered + {} detected + {} undetected", owed,
                                        stats.packets_delivered, f.deliveries_detected, f.deliveries_undetected));
}

// The fault-aware engine (experiment/fault_losses.h) lost what the chip lost, cause by cause.
void check_fault_losses(const FaultCounters& chip, const FaultCounters& engine) {
    const auto same = [](const char* what, int64_t c, int64_t e) {
        if (c != e)
            throw InternalError(fmt::format("faults: the chip counted {} {}, the fault-aware engine {}", c, what, e));
    };
    same("deliveries detected and dropped", chip.deliveries_detected, engine.deliveries_detected);
    same("corrupt deliveries undetected", chip.deliveries_undetected, engine.deliveries_undetected);
    same("undeliverable deliveries", chip.deliveries_undeliverable, engine.deliveries_undeliverable);
    same("events of stuck cores", chip.events_stuck, engine.events_stuck);
}

// Conservation: every synaptic operation the engine counted happened in a core, projection by projection. A
// constant-current input is one event per pixel per image: the engine counts those as input MACs. With faults
// (`faulty`) the engine left out what the chip lost (experiment/fault_losses.h), so this holds as well, and the
// deliveries are conserved and lost for the same causes on both sides.
void check_conservation(const HwStats& stats, const SnnModel& model, const InputEncoding& encoding,
                        const std::vector<int64_t>& engine_sops, int64_t engine_input_macs, int64_t engine_correct,
                        const FaultCounters* faulty) {
    if (faulty) {
        check_fault_conservation(stats);
        check_fault_losses(stats.faults, *faulty);
    }
    int64_t chip_input_sops = 0;
    for (size_t k = 0; k < engine_sops.size(); ++k) {
        if (encoding.constant_current() && model.projections[k].source == 0) {
            chip_input_sops += stats.sops_by_projection_index[k];
            continue;
        }
        if (engine_sops[k] != stats.sops_by_projection_index[k])
            throw InternalError(fmt::format("projection '{}': the engine counted {} synaptic operations, the chip's cores {}",
                                            model.projections[k].name, engine_sops[k], stats.sops_by_projection_index[k]));
    }
    if (chip_input_sops != engine_input_macs)
        throw InternalError(fmt::format("input: the engine counted {} MACs of the constant current, the chip's cores {}",
                                        engine_input_macs, chip_input_sops));
    const int64_t hw_correct = stats.correct_at_step.empty() ? 0 : stats.correct_at_step.back();
    if (hw_correct != engine_correct) throw InternalError("the chip's decisions differ from the functional engine's");
}

}  // namespace

std::vector<ParamSpec> hardware_params() {
    std::vector<ParamSpec> params = tick_sample_params();
    params.push_back(ParamSpec("hardware.distribute", ParamKind::Enum, "ticks", "",
                               "Under mpirun (docs/cli.md): how `simulate` and `report` share the chip over the ranks. "
                               "`ticks`: each rank runs whole ticks (or sampled ticks) of its own, merged in tick "
                               "order; `chips`: each rank owns chips of a multi-chip system and runs its part of every "
                               "tick, exchanging the packets that cross chip boundaries. Identical results either way.")
                         .one_of({"ticks", "chips"}));
    return params;
}

TickSamplePlan tick_sample_plan(const Settings& settings) {
    return plan_tick_sample(settings.get_int("simulation.steps"), settings.get_int("hardware.sample_ticks"),
                            static_cast<uint64_t>(settings.get_int("seed")));
}

namespace {

// The ticks one chip simulates of one image: all of them or a part (a rank's block may split an image).
struct ImageTicks {
    int64_t image = 0;
    std::vector<int64_t> ticks;  // ascending, 1-based
    bool whole = true;           // every tick the image simulates (its first tick included)
};

// What the engine counted for the ticks a chip simulated, for the conservation check.
struct EngineTally {
    std::vector<int64_t> sops;  // per projection
    int64_t input_macs = 0, correct = 0;
    FaultCounters faults;       // chip.faults: what the fault-aware engine lost
};

// chip.faults that lose events: the fault-aware engine's losses (null when nothing can be lost). It decides by
// global tick number, which it knows for a run of every tick only.
std::unique_ptr<FaultLosses> fault_losses(const Mapping& mapping, const SnnModel& model, const Settings& settings,
                                          const TickSamplePlan& plan) {
    const FaultSpec faults = fault_spec(settings);
    if (!FaultLosses::loses(faults)) return nullptr;
    if (!plan.exact)
        throw ConfigError("chip.faults: the fault-aware engine runs every tick of every image, not a sample: set "
                          "hardware.sample_ticks=0 (or drop --sample-ticks)");
    return std::make_unique<FaultLosses>(mapping, model, faults);
}

// The ticks image i simulates: all T, or its sample.
std::vector<int64_t> image_ticks(const TickSamplePlan& plan, int64_t image) {
    if (!plan.exact) return plan.draw(image);
    std::vector<int64_t> all(static_cast<size_t>(plan.steps));
    for (int64_t t = 0; t < plan.steps; ++t) all[static_cast<size_t>(t)] = t + 1;
    return all;
}

// The whole run's work, in tick order, or the items of global ticks [first, last) of it.
std::vector<ImageTicks> work_of(const TickSamplePlan& plan, int64_t images, int64_t first = 0,
                                int64_t last = std::numeric_limits<int64_t>::max()) {
    std::vector<ImageTicks> work;
    int64_t at = 0;  // global number of the image's first tick
    for (int64_t i = 0; i < images && at < last; ++i) {
        const std::vector<int64_t> all = image_ticks(plan, i);
        const auto n = static_cast<int64_t>(all.size());
        const int64_t b = std::max(first, at) - at, e = std::min(last, at + n) - at;
        if (b < e) work.push_back({i, {all.begin() + b, all.begin() + e}, b == 0 && e == n});
        at += n;
    }
    return work;
}

int64_t total_ticks(const TickSamplePlan& plan, int64_t images) {
    int64_t n = 0;
    for (int64_t i = 0; i < images; ++i) n += static_cast<int64_t>(image_ticks(plan, i).size());
    return n;
}

// Runs the engine on each image of `work` and carries the spikes of its ticks on `chip`. The image's decisions
// count once, with the part that holds its first tick (tick 1, where a constant-current image's pixels are sent).
EngineTally carry_work(ChipModel& chip, const Mapping& mapping, const Settings& settings, const SnnModel& model,
                       const ImageSet& test, const TickSamplePlan& plan, const std::vector<ImageTicks>& work,
                       int verbosity) {
    SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    const std::unique_ptr<FaultLosses> losses = fault_losses(mapping, model, settings, plan);
    options.losses = losses.get();
    const InputNormalisation norm = input_normalisation(settings, test.channels);
    EngineTally tally;
    tally.sops.assign(model.projections.size(), 0);
    std::vector<char> recurrent;
    for (const Projection& p : model.projections) recurrent.push_back(p.recurrent ? 1 : 0);
    for (const ImageTicks& item : work) {
        const bool all_steps = plan.exact && item.whole;
        // The spikes of the simulated ticks only; the decisions of every step.
        TraceRecorder recorder(static_cast<int>(model.populations.size()), options.steps,
                               all_steps ? std::vector<int64_t>{} : item.ticks);
        recorder.set_recurrent(recurrent);
        options.observer = &recorder;
        if (losses) losses->set_image(item.image * options.steps, options.steps, item.ticks.front(), item.ticks.back());
        const SnnResult result = engine.evaluate(test.slice(item.image, 1), norm, options);
        SpikeTrace& trace = recorder.traces().at(0);
        // The engine's synaptic operations of the simulated ticks: its totals, or per step through the observer.
        for (size_t k = 0; k < result.projections.size(); ++k)
            tally.sops[k] += all_steps ? result.projections[k].sops
                                       : (k < trace.engine_sops.size() ? trace.engine_sops[k] : 0);
        if (item.ticks.front() == 1) {
            tally.correct += result.correct_at_step.back();
            tally.input_macs += result.input_macs;  // sent at tick 1
            if (options.encoding->constant_current()) set_current_input(trace, test, item.image, norm);
        } else {
            std::fill(trace.correct.begin(), trace.correct.end(), 0);  // counted by the part with tick 1
        }
        chip.run(trace);
        if (verbosity > 1) fmt::print("image {}: done\n", item.image + 1);
    }
    if (losses) tally.faults = losses->counters();
    return tally;
}

}  // namespace

HwEstimates carry_engine_spikes(ChipModel& chip, const Mapping& mapping, const Settings& settings,
                                const SnnModel& model, const ImageSet& test, int verbosity) {
    const TickSamplePlan plan = tick_sample_plan(settings);
    const EngineTally tally = carry_work(chip, mapping, settings, model, test, plan, work_of(plan, test.count), verbosity);
    chip.finish();
    const SnnOptions options = snn_options(settings);
    check_conservation(chip.stats(), model, *options.encoding, tally.sops, tally.input_macs, tally.correct,
                       fault_spec(settings).any() ? &tally.faults : nullptr);
    return estimate_hardware(chip.stats(), plan, settings.get_real("hardware.confidence"));
}

// ------------------------------------------------------------------------------------------ time-parallel runs
namespace {

void pack_stats(mpi::Packer& p, const HwStats& s) {
    p.put(s.images).put(s.ticks).put(s.cycles).put(s.tick_cycles).put(s.max_tick_cycles).put(s.packets_injected);
    p.put(s.packets_delivered).put(s.sops).put(s.partial_sum_sops).put(s.neuron_updates).put(s.events_generated);
    p.put(s.packet_latency_sum_cycles).put(s.packet_latency_max_cycles).put(s.core_sops).put(s.core_packets_expected);
    p.put(s.core_packets_delivered).put(s.recurrent_drained_sops);
    const NocCounters& n = s.noc;
    p.put(n.packet_hops).put(n.flit_hops).put(n.inter_chip_packet_hops).put(n.buffer_write_flits).put(n.stall_cycles);
    p.put(n.router_flits).put(n.router_max_occupancy_flits).put(n.link_flits);
    p.put(s.sops_by_projection_index).put(s.correct_at_step).put(s.tick_steps).put(s.tick_counts);
    p.put(s.wall_seconds).put(s.cpu_seconds);
    const FaultCounters& f = s.faults;
    p.put(n.bit_flips).put(f.deliveries_detected).put(f.deliveries_undetected).put(f.events_stuck);
    p.put(f.deliveries_undeliverable);
    std::vector<int32_t> routes;
    for (const auto& [src, dest] : s.undeliverable_routes) routes.push_back(src), routes.push_back(dest);
    p.put(routes);
}

HwStats unpack_stats(mpi::Unpacker& u) {
    HwStats s;
    u.get(s.images), u.get(s.ticks), u.get(s.cycles), u.get(s.tick_cycles), u.get(s.max_tick_cycles);
    u.get(s.packets_injected), u.get(s.packets_delivered), u.get(s.sops), u.get(s.partial_sum_sops);
    u.get(s.neuron_updates), u.get(s.events_generated), u.get(s.packet_latency_sum_cycles);
    u.get(s.packet_latency_max_cycles), u.get(s.core_sops), u.get(s.core_packets_expected);
    u.get(s.core_packets_delivered), u.get(s.recurrent_drained_sops);
    NocCounters& n = s.noc;
    u.get(n.packet_hops), u.get(n.flit_hops), u.get(n.inter_chip_packet_hops), u.get(n.buffer_write_flits);
    u.get(n.stall_cycles), u.get(n.router_flits), u.get(n.router_max_occupancy_flits), u.get(n.link_flits);
    u.get(s.sops_by_projection_index), u.get(s.correct_at_step), u.get(s.tick_steps), u.get(s.tick_counts);
    u.get(s.wall_seconds), u.get(s.cpu_seconds);
    FaultCounters& f = s.faults;
    u.get(n.bit_flips), u.get(f.deliveries_detected), u.get(f.deliveries_undetected), u.get(f.events_stuck);
    u.get(f.deliveries_undeliverable);
    std::vector<int32_t> routes;
    u.get(routes);
    for (size_t k = 0; k + 1 < routes.size(); k += 2) s.undeliverable_routes.push_back({routes[k], routes[k + 1]});
    return s;
}

template <class T>
void add_into(std::vector<T>& into, const std::vector<T>& v) {
    if (into.empty()) into.assign(v.size(), T{});
    if (v.empty()) return;
    if (v.size() != into.size()) throw InternalError("time-parallel run: the ranks' per-core or per-router counts differ in size");
    for (size_t k = 0; k < v.size(); ++k) into[k] += v[k];
}

template <class T>
void append(std::vector<T>& into, const std::vector<T>& v) {
    into.insert(into.end(), v.begin(), v.end());
}

// The parts in tick order as one run: sums, maxima, per-tick arrays concatenated. `images` is the run's (an image
// split over ranks was run by each of them); wall time is the slowest rank's, CPU time the sum.
HwStats merge_stats(const std::vector<HwStats>& parts, int64_t images) {
    HwStats m = parts.at(0);
    m.tick_cycles.clear(), m.tick_steps.clear(), m.tick_counts.clear();
    m.images = images;
    m.ticks = m.cycles = m.max_tick_cycles = m.packets_injected = m.packets_delivered = 0;
    m.sops = m.partial_sum_sops = m.neuron_updates = m.events_generated = m.recurrent_drained_sops = 0;
    m.packet_latency_sum_cycles = m.packet_latency_max_cycles = 0;
    m.core_sops.clear(), m.core_packets_expected.clear(), m.core_packets_delivered.clear();
    m.noc = NocCounters{};
    m.sops_by_projection_index.clear(), m.correct_at_step.clear();
    m.wall_seconds = m.cpu_seconds = 0;
    m.faults = FaultCounters{};
    for (const HwStats& s : parts) {
        m.faults += s.faults, m.noc.bit_flips += s.noc.bit_flips;
        m.ticks += s.ticks, m.cycles += s.cycles, m.packets_injected += s.packets_injected;
        m.max_tick_cycles = std::max(m.max_tick_cycles, s.max_tick_cycles);
        m.packets_delivered += s.packets_delivered, m.sops += s.sops, m.partial_sum_sops += s.partial_sum_sops;
        m.neuron_updates += s.neuron_updates, m.events_generated += s.events_generated;
        m.recurrent_drained_sops += s.recurrent_drained_sops;
        m.packet_latency_sum_cycles += s.packet_latency_sum_cycles;
        m.packet_latency_max_cycles = std::max(m.packet_latency_max_cycles, s.packet_latency_max_cycles);
        add_into(m.core_sops, s.core_sops), add_into(m.core_packets_expected, s.core_packets_expected);
        add_into(m.core_packets_delivered, s.core_packets_delivered);
        m.noc.packet_hops += s.noc.packet_hops, m.noc.flit_hops += s.noc.flit_hops;
        m.noc.inter_chip_packet_hops += s.noc.inter_chip_packet_hops;
        m.noc.buffer_write_flits += s.noc.buffer_write_flits, m.noc.stall_cycles += s.noc.stall_cycles;
        add_into(m.noc.router_flits, s.noc.router_flits), add_into(m.noc.link_flits, s.noc.link_flits);
        auto& occupancy = m.noc.router_max_occupancy_flits;
        if (occupancy.empty()) occupancy = s.noc.router_max_occupancy_flits;
        for (size_t k = 0; k < occupancy.size() && k < s.noc.router_max_occupancy_flits.size(); ++k)
            occupancy[k] = std::max(occupancy[k], s.noc.router_max_occupancy_flits[k]);
        add_into(m.sops_by_projection_index, s.sops_by_projection_index);
        if (!s.correct_at_step.empty()) add_into(m.correct_at_step, s.correct_at_step);
        append(m.tick_cycles, s.tick_cycles), append(m.tick_steps, s.tick_steps), append(m.tick_counts, s.tick_counts);
        m.wall_seconds = std::max(m.wall_seconds, s.wall_seconds);
        m.cpu_seconds += s.cpu_seconds;
    }
    return m;
}

// The global number of rank r's first tick.
int64_t offset_ticks(const std::vector<HwStats>& parts, size_t r) {
    int64_t n = 0;
    for (size_t k = 0; k < r; ++k) n += parts[k].ticks;
    return n;
}

std::string read_and_remove(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(fmt::format("cannot read the VCD part {}", path));
    std::ostringstream text;
    text << in.rdbuf();
    in.close();
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return text.str();
}


// What one rank sends rank 0.
struct RankPart {
    HwStats stats;
    EngineTally tally;
    std::vector<AerRecord> aer;  // cycles from the rank's first tick
    std::string vcd;             // the rank's VCD file
};

std::string pack_part(const RankPart& r) {
    mpi::Packer p;
    pack_stats(p, r.stats);
    p.put(r.tally.sops).put(r.tally.input_macs).put(r.tally.correct).put(r.aer).put(r.vcd);
    const FaultCounters& f = r.tally.faults;
    p.put(f.deliveries_detected).put(f.deliveries_undetected).put(f.deliveries_undeliverable).put(f.events_stuck);
    return p.take();
}

RankPart unpack_part(const std::string& bytes) {
    mpi::Unpacker u(bytes);
    RankPart r;
    r.stats = unpack_stats(u);
    u.get(r.tally.sops), u.get(r.tally.input_macs), u.get(r.tally.correct), u.get(r.aer), u.get(r.vcd);
    FaultCounters& f = r.tally.faults;
    u.get(f.deliveries_detected), u.get(f.deliveries_undetected), u.get(f.deliveries_undeliverable), u.get(f.events_stuck);
    if (!u.done()) throw InternalError("time-parallel run: a rank's part has trailing bytes");
    return r;
}

// Rank 0: the run's AER file, each rank's records shifted by the cycles of the ticks before its first.
void write_merged_aer(const std::string& path, const Mapping& mapping, int64_t steps,
                      const std::vector<RankPart>& parts, const std::vector<int64_t>& offset_cycles, int64_t ticks) {
    AerWriter writer(path, mapping);
    writer.begin(steps);
    for (size_t r = 0; r < parts.size(); ++r)
        for (AerRecord rec : parts[r].aer) {
            rec.cycle += offset_cycles[r];
            writer.write(rec);
        }
    writer.close(ticks);
}

// Runs this rank's block of the run's ticks and sends what it measured to rank 0, which merges the parts and
// writes the trace files; every rank gets the merged counters.
HwStats run_my_ticks(const Mapping& mapping, const SnnModel& model, const HwOptions& options, const Settings& settings,
                     const ImageSet& test, int verbosity) {
    const TickSamplePlan plan = tick_sample_plan(settings);
    const mpi::Block block = mpi::my_block(total_ticks(plan, test.count));
    HwOptions mine = options;
    mine.first_tick = block.first;
    mine.first_image_ticks = static_cast<int64_t>(image_ticks(plan, 0).size());
    if (!options.vcd_path.empty()) mine.vcd_path = fmt::format("{}.rank{}.part.vcd", options.vcd_path, mpi::rank());
    mine.aer_path.clear();
    mine.aer_in_memory = !options.aer_path.empty();
    RankPart part;
    {
        ChipModel chip(mapping, model, mine);
        part.tally = carry_work(chip, mapping, settings, model, test, plan, work_of(plan, test.count, block.first, block.last),
                                verbosity);
        chip.finish();
        part.stats = chip.stats();
        part.aer = chip.aer_records();
    }
    if (!mine.vcd_path.empty()) part.vcd = read_and_remove(mine.vcd_path);
    const std::vector<std::string> gathered = mpi::gather(pack_part(part));
    std::string merged_bytes;
    if (mpi::root()) {
        std::vector<RankPart> parts;
        std::vector<HwStats> stats;
        std::vector<int64_t> offset_cycles;
        EngineTally tally;
        tally.sops.assign(model.projections.size(), 0);
        int64_t cycles = 0;
        for (const std::string& bytes : gathered) {
            parts.push_back(unpack_part(bytes));
            const RankPart& p = parts.back();
            stats.push_back(p.stats);
            offset_cycles.push_back(cycles);
            cycles += p.stats.cycles;
            add_into(tally.sops, p.tally.sops);
            tally.input_macs += p.tally.input_macs, tally.correct += p.tally.correct;
            tally.faults += p.tally.faults;
        }
        const HwStats merged = merge_stats(stats, test.count);
        if (verbosity > 0)
            for (size_t r = 0; r < parts.size(); ++r) {
                const HwStats& st = parts[r].stats;
                const int64_t first = offset_ticks(stats, r);
                fmt::print("rank {}: ticks {}-{} ({} ticks), {:.2f} s ({:.2f} s CPU)\n", r, first, first + st.ticks - 1,
                           st.ticks, st.wall_seconds, st.cpu_seconds);
            }
        const SnnOptions snn = snn_options(settings);
        check_conservation(merged, model, *snn.encoding, tally.sops, tally.input_macs, tally.correct,
                           fault_spec(settings).any() ? &tally.faults : nullptr);
        if (!options.aer_path.empty())
            write_merged_aer(options.aer_path, mapping, plan.steps, parts, offset_cycles, merged.ticks);
        if (!options.vcd_path.empty()) {
            std::vector<VcdPart> vcd;
            const int64_t units = vcd_units_per_cycle(mapping.chip.clock_hz);
            for (size_t r = 0; r < parts.size(); ++r)
                vcd.push_back({parts[r].vcd, offset_cycles[r] * units, parts[r].stats.ticks > 0});
            write_file_atomic(options.vcd_path, merge_vcd_parts(vcd));
        }
        mpi::Packer p;
        pack_stats(p, merged);
        merged_bytes = p.take();
    }
    const std::string merged = mpi::broadcast(merged_bytes);  // outlives the unpacker, which points into it
    mpi::Unpacker u(merged);
    return unpack_stats(u);
}

}  // namespace

HardwareRun run_engine_on_chip(const Mapping& mapping, const SnnModel& model, const HwOptions& caller_options,
                               const Settings& settings, const ImageSet& test, int verbosity) {
    HwOptions options = caller_options;
    options.faults = fault_spec(settings);
    if (mpi::distributed() && settings.get_string("hardware.distribute") == "ticks") {
        HwStats stats = run_my_ticks(mapping, model, options, settings, test, verbosity);
        HwEstimates estimates = estimate_hardware(stats, tick_sample_plan(settings), settings.get_real("hardware.confidence"));
        return {std::move(stats), std::move(estimates), {}, {}};
    }
    HwOptions mine = options;
    mine.space_parallel = mpi::distributed() && settings.get_string("hardware.distribute") == "chips";
    if (!mpi::root() && !mine.space_parallel) mine.vcd_path.clear(), mine.aer_path.clear();  // rank 0 writes them
    ChipModel chip(mapping, model, mine);
    std::string regions = mine.space_parallel ? chip.regions().describe() : std::string();
    HwEstimates estimates = carry_engine_spikes(chip, mapping, settings, model, test, verbosity);
    const SpaceParallelCost cost = chip.space_parallel_cost();  // a collective: every rank calls it
    return {chip.stats(), std::move(estimates), std::move(regions), cost};
}

namespace {
nlohmann::json undeliverable_routes_json(const HwStats& stats) {
    nlohmann::json out = nlohmann::json::array();
    const auto host = static_cast<int32_t>(stats.core_sops.size());
    for (const auto& [s, d] : stats.undeliverable_routes)
        out.push_back({{"source", s == host ? nlohmann::json("host") : nlohmann::json(s)}, {"dest_core", d}});
    return out;
}
}  // namespace

nlohmann::json fault_losses_json(const FaultCounters& f) {
    return {{"detected_dropped", f.deliveries_detected},
            {"corrupt_undetected", f.deliveries_undetected},
            {"stuck_core_events", f.events_stuck},
            {"undeliverable", f.deliveries_undeliverable}};
}

nlohmann::json fault_counters_json(const HwStats& stats) {
    int64_t owed = 0;
    for (int64_t n : stats.core_packets_expected) owed += n;
    const FaultCounters& f = stats.faults;
    const int64_t lost = f.deliveries_detected + f.deliveries_undetected;
    nlohmann::json doc = fault_losses_json(f);
    doc.update({{"deliveries_owed", owed},
                {"delivered", stats.packets_delivered},
                {"lost_fraction", owed ? static_cast<double>(lost) / static_cast<double>(owed) : 0.0},
                {"bit_flips", stats.noc.bit_flips},
                {"undeliverable_routes", undeliverable_routes_json(stats)}});
    return doc;
}

namespace {

nlohmann::json figure_json(const std::string& key, const std::string& label, const std::string& unit,
                           const SampledFigure& f) {
    return {{"key", key},         {"label", label},         {"unit", unit},   {"estimate", f.estimate},
            {"low", f.low},       {"high", f.high},         {"std_error", f.std_error},
            {"dof", f.dof},       {"exact", f.exact}};
}

}  // namespace

nlohmann::json sampling_json(const HwEstimates& est, const HwStats& stats, double clock_hz,
                             const std::optional<SampledFigure>& energy_j) {
    using nlohmann::json;
    json strata = json::array(), totals = json::object(), figures = json::array();
    for (const TickStratum& s : est.plan.strata) strata.push_back({s.first, s.last});
    for (size_t c = 0; c < kTickCounters; ++c)
        if (c != kTickArrivals)  // = deliveries without faults; with them the JSON's "faults" object has the parts
            totals[tick_counter_name(c)] = figure_json(tick_counter_name(c), tick_counter_name(c), "", est.totals[c]);
    const SampledFigure cycles = est.per_image(kTickCycles);
    figures.push_back(figure_json("latency_cycles", "latency per inference", "cycles", cycles));
    figures.push_back(figure_json("latency_s", "latency per inference", "s", cycles.divided_by(clock_hz)));
    figures.push_back(figure_json("cycles_per_tick", "cycles per tick (mean)", "cycles", est.cycles_per_tick()));
    const std::pair<TickCounter, const char*> per_image[] = {
        {kTickPackets, "packets per image"},          {kTickDeliveries, "deliveries per image"},
        {kTickHops, "packet hops per image"},         {kTickFlitHops, "flit hops per image"},
        {kTickInterChipHops, "inter-chip hops per image"}, {kTickBufferWrites, "buffer writes per image"},
        {kTickStallCycles, "stall cycles per image"}, {kTickSops, "SOPs in cores per image"},
        {kTickPartialSumSops, "partial-sum and gate SOPs per image"}, {kTickNeuronUpdates, "neuron updates per image"},
        {kTickEvents, "events generated per image"}};
    for (const auto& [c, label] : per_image)
        figures.push_back(figure_json(tick_counter_name(c), label, c == kTickStallCycles ? "cycles" : "", est.per_image(c)));
    figures.push_back(figure_json("packet_latency_mean", "packet latency (mean)", "cycles", est.packet_latency_mean));
    if (energy_j) figures.push_back(figure_json("energy_snn_j", "chip energy per inference", "J", *energy_j));
    return {{"exact", est.exact()},
            {"steps", est.plan.steps},
            {"sample_ticks", est.plan.requested},
            {"ticks_per_image", est.plan.ticks_per_image()},
            {"rounded", est.plan.rounded()},
            {"strata", strata},
            {"seed", est.plan.seed},
            {"confidence", est.confidence},
            {"description", est.describe()},
            {"ticks", est.ticks},
            {"totals", totals},
            {"figures", figures},
            {"max_tick_cycles", {{"value", stats.max_tick_cycles}, {"lower_bound", !est.exact()}}},
            {"max_packet_latency_cycles", {{"value", stats.packet_latency_max_cycles}, {"lower_bound", !est.exact()}}}};
}

ReplayInfo scan_trace(AerReader& reader, const Mapping& mapping, const std::string& file) {
    ReplayInfo replay;
    replay.file = file;
    replay.trace = reader.scan(mapping);
    replay.recorded_tree = reader.recorded_with_tree();
    replay.same_placement = reader.header().placement == placement_fingerprint(mapping);
    replay.images = replay.trace.images;
    return replay;
}

void replay_trace(ChipModel& chip, AerReader& reader, ReplayInfo& replay, int verbosity) {
    RecordedImage image;
    for (int64_t i = 0; i < replay.images && reader.next_image(image); ++i) {
        replay.packets += image.packets;
        chip.replay(image);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
}

}  // namespace neuroemu::experiment
