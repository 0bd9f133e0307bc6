// SystemC model of a mapped chip; the timing model is described in docs/hardware-model.md. The modules live in
// their own files: chip.h (assembly, routing environment), core_model.h and cores/ (the cores), host.h,
// tick_controller.h (time steps and the barrier).
#include "hw/chip_model.h"

#include <algorithm>

#include "hw/chip.h"
#include "mpi/pack.h"
#include "mpi/world.h"

// SystemC's library calls sc_main when it owns main(); neuroemu has its own main() and drives sc_start itself.
int sc_main(int, char*[]) { return 0; }

namespace neuroemu {

int64_t ChipModel::zero_load_latency(const ChipSpec& chip, int64_t hops, int64_t flits, int64_t inter_chip_hops) {
    const int64_t p = chip.noc.pipeline_cycles, l = chip.noc.link_cycles, lc = chip.noc.inter_chip_link_cycles;
    // The source router's pipeline, then per link its traversal and the next router's pipeline, then the tail
    // streams into the core over the local port.
    return p + (hops - inter_chip_hops) * (l + p) + inter_chip_hops * (lc + p) + flits * l;
}

ChipModel::ChipModel(const Mapping& mapping, const SnnModel& snn, const HwOptions& options)
    : chip_(std::make_unique<Chip>(mapping, snn, options)) {}

ChipModel::~ChipModel() = default;

const char* tick_counter_name(size_t counter) {
    static const char* const names[kTickCounters] = {
        "cycles",     "packets", "deliveries",     "hops",           "flit_hops", "inter_chip_hops", "buffer_writes_flits",
        "stall_cycles", "sops",  "partial_sum_and_gate_sops", "neuron_updates", "events_generated", "latency_sum_cycles",
        "arrivals"};
    if (counter >= kTickCounters) throw InternalError("tick_counter_name: no such counter");
    return names[counter];
}

void ChipModel::run(const SpikeTrace& trace) {
    if (trace.steps < 1) return;
    if (trace.tick_count() != trace.steps && chip_->aer)
        throw ConfigError("an AER trace (--aer-out) records every tick of every image: not with tick sampling "
                          "(hardware.sample_ticks)");
    if (static_cast<int64_t>(trace.events.size()) != trace.tick_count())
        throw InternalError("ChipModel::run: a trace needs one event list per simulated tick");
    chip_->tick_controller->run_image(trace);
    HwStats& stats = chip_->stats;
    if (stats.correct_at_step.empty()) stats.correct_at_step.assign(static_cast<size_t>(trace.steps), 0);
    for (int64_t t = 0; t < trace.steps && t < static_cast<int64_t>(stats.correct_at_step.size()); ++t)
        stats.correct_at_step[static_cast<size_t>(t)] += trace.correct[static_cast<size_t>(t)];
}

void ChipModel::clear_tick_history() {
    HwStats& stats = chip_->stats;
    stats.tick_cycles.clear();
    stats.tick_steps.clear();
    stats.tick_counts.clear();
    stats.packet_latency_max_cycles = 0;
}

void ChipModel::replay(const RecordedImage& image) {
    if (image.steps < 1) return;
    if (static_cast<int64_t>(image.events.size()) != image.steps)
        throw InternalError("ChipModel::replay: an image needs one event list per step");
    chip_->tick_controller->run_image(image);
}

namespace {

// The space-parallel run: each rank counted the work of its own chips; every rank gets the sums (and the longest
// packet latency). The cycles, ticks and decisions are the same on every rank already.
void merge_ranks(HwStats& s) {
    std::vector<int64_t*> sums = {&s.packets_injected, &s.packets_delivered, &s.sops, &s.partial_sum_sops,
                                  &s.neuron_updates, &s.recurrent_drained_sops, &s.events_generated, &s.packet_latency_sum_cycles,
                                  &s.noc.packet_hops, &s.noc.flit_hops, &s.noc.inter_chip_packet_hops,
                                  &s.noc.buffer_write_flits, &s.noc.stall_cycles, &s.noc.bit_flips,
                                  &s.faults.deliveries_detected, &s.faults.deliveries_undetected,
                                  &s.faults.events_stuck, &s.faults.deliveries_undeliverable};
    for (auto* v : {&s.core_sops, &s.core_packets_expected, &s.core_packets_delivered, &s.sops_by_projection_index,
                    &s.noc.router_flits, &s.noc.link_flits})
        for (int64_t& x : *v) sums.push_back(&x);
    for (TickCounts& t : s.tick_counts)
        for (size_t c = 0; c < kTickCounters; ++c)
            if (c != kTickCycles) sums.push_back(&t[c]);
    std::vector<int64_t> mine;
    for (const int64_t* p : sums) mine.push_back(*p);
    std::vector<int32_t> occupancy = s.noc.router_max_occupancy_flits;
    int64_t latency_max = s.packet_latency_max_cycles;
    const auto all = mpi::all_gather(mpi::Packer().put(mine).put(occupancy).put(latency_max).take());
    for (int64_t* p : sums) *p = 0;
    std::fill(s.noc.router_max_occupancy_flits.begin(), s.noc.router_max_occupancy_flits.end(), 0);
    for (const std::string& b : all) {
        mpi::Unpacker in(b);
        in.get(mine);
        in.get(occupancy);
        latency_max = std::max(latency_max, in.get<int64_t>());
        if (mine.size() != sums.size() || occupancy.size() != s.noc.router_max_occupancy_flits.size())
            throw InternalError("hardware model: the ranks' counters differ in shape");
        for (size_t k = 0; k < sums.size(); ++k) *sums[k] += mine[k];
        for (size_t k = 0; k < occupancy.size(); ++k)  // each router counted by the rank owning it
            s.noc.router_max_occupancy_flits[k] = std::max(s.noc.router_max_occupancy_flits[k], occupancy[k]);
    }
    s.packet_latency_max_cycles = latency_max;
}

}  // namespace

void ChipModel::finish() {
    if (chip_->vcd) chip_->vcd->close();
    if (chip_->aer) chip_->aer->close(chip_->stats.ticks);
    if (chip_->distributed()) merge_ranks(chip_->stats);
}

const ChipRegions& ChipModel::regions() const { return chip_->regions; }

SpaceParallelCost ChipModel::space_parallel_cost() const {
    if (!chip_->distributed()) return {chip_->windows, chip_->exchanged_bytes, chip_->exchanged_messages};
    return {chip_->windows, mpi::all_sum(chip_->exchanged_bytes), mpi::all_sum(chip_->exchanged_messages)};
}

const HwStats& ChipModel::stats() const { return chip_->stats; }

const std::vector<AerRecord>& ChipModel::aer_records() const { return chip_->aer_records; }

}  // namespace neuroemu
