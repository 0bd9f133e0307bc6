// The functional engine's spikes for the chip model: per image, per step, per population, the units that fired.
// The chip carries exactly these (the tick barrier makes timing invisible to them).
#pragma once

#include <cstdint>
#include <vector>

#include "data/idx_dataset.h"
#include "sim/snn_engine.h"

namespace neuroemu {

// Per-step spikes of every SNN population, as produced by the functional engine for one image: of every step, or
// with tick sampling (hw/tick_sample.h) of the steps the chip simulates only.
struct SpikeTrace {
    int64_t steps = 0;  // T, the engine's steps
    // The steps the chip runs, ascending, 1-based; empty: all of 1..steps. events[i] belongs to step ticks[i].
    std::vector<int64_t> ticks;
    // events[i][population]: the units that fired. Population 0 is what the host sends: Poisson input spikes each
    // step, or with constant-current input the nonzero pixels, once, at step 1 (set_current_input).
    std::vector<std::vector<std::vector<SpikeEvent>>> events;
    std::vector<uint8_t> correct;  // [step - 1], every step: the engine's decision was right
    // Per SNN projection: the synaptic operations the engine performed in the recorded steps (TraceRecorder).
    std::vector<int64_t> engine_sops;

    int64_t tick_count() const { return ticks.empty() ? steps : static_cast<int64_t>(ticks.size()); }
    int64_t step_of(int64_t i) const { return ticks.empty() ? i + 1 : ticks[static_cast<size_t>(i)]; }  // i 0-based
};

// Puts the pixels of image `index` whose network input is nonzero into the trace's step-1 host events (the first
// recorded step must be step 1).
void set_current_input(SpikeTrace& trace, const ImageSet& set, int64_t index, const InputNormalisation& norm);

// Records a SpikeTrace per image from the engine: the spikes and synaptic operations of the steps in `ticks`
// (ascending; empty: every step), the decisions of every step.
class TraceRecorder : public SpikeObserver {
public:
    TraceRecorder(int populations, int64_t steps, std::vector<int64_t> ticks = {});
    void spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) override;
    void step_done(int64_t image, int64_t step, bool label_hit) override;
    void projection_sops(int64_t image, int64_t step, int projection, int64_t sops) override;
    // Per SNN projection: whether it is recurrent. The engine counts a recurrent projection's SOPs in the step
    // after its spikes, the chip in the tick of the spikes: they are recorded with the step of the spikes, so
    // that the recorded ticks' counts compare (tick sampling too).
    void set_recurrent(std::vector<char> recurrent) { recurrent_ = std::move(recurrent); }
    std::vector<SpikeTrace>& traces() { return traces_; }

private:
    SpikeTrace& trace(int64_t image);
    int64_t slot(int64_t step) const { return slot_[static_cast<size_t>(step - 1)]; }  // index into events, or -1
    int populations_;
    int64_t steps_;
    std::vector<int64_t> ticks_, slot_;
    std::vector<char> recurrent_;
    std::vector<SpikeTrace> traces_;
};

}  // namespace neuroemu
