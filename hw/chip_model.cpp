// SystemC model of a mapped chip; the timing model is described in docs/hardware-model.md. The modules live in
// their own files: chip.h (assembly, routing environment), core_model.h and cores/ (the cores), host.h,
// tick_controller.h (time steps and the barrier).
#include "hw/chip_model.h"

#include "hw/chip.h"

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
        "stall_cycles", "sops",  "partial_sum_and_gate_sops", "neuron_updates", "events_generated", "latency_sum_cycles"};
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

void ChipModel::replay(const RecordedImage& image) {
    if (image.steps < 1) return;
    if (static_cast<int64_t>(image.events.size()) != image.steps)
        throw InternalError("ChipModel::replay: an image needs one event list per step");
    chip_->tick_controller->run_image(image);
}

void ChipModel::finish() {
    if (chip_->vcd) chip_->vcd->close();
    if (chip_->aer) chip_->aer->close(chip_->stats.ticks);
}

const HwStats& ChipModel::stats() const { return chip_->stats; }

const std::vector<AerRecord>& ChipModel::aer_records() const { return chip_->aer_records; }

}  // namespace neuroemu
