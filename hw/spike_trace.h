// The functional engine's spikes for the chip model: per image, per step, per population, the units that fired.
// The chip carries exactly these (the tick barrier makes timing invisible to them).
#pragma once

#include <cstdint>
#include <vector>

#include "data/idx_dataset.h"
#include "sim/snn_engine.h"

namespace neuroemu {

// Per-step spikes of every SNN population, as produced by the functional engine for one image.
struct SpikeTrace {
    int64_t steps = 0;
    // events[step - 1][population]: the units that fired. Population 0 is what the host sends: Poisson input
    // spikes each step, or with constant-current input the nonzero pixels, once, at step 1 (set_current_input).
    std::vector<std::vector<std::vector<SpikeEvent>>> events;
    std::vector<uint8_t> correct;  // [step - 1]: the engine's decision was right
};

// Puts the pixels of image `index` whose network input is nonzero into the trace's step-1 host events.
void set_current_input(SpikeTrace& trace, const ImageSet& set, int64_t index, const InputNormalisation& norm);

// Records a SpikeTrace per image from the engine.
class TraceRecorder : public SpikeObserver {
public:
    TraceRecorder(int populations, int64_t steps) : populations_(populations), steps_(steps) {}
    void spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) override;
    void step_done(int64_t image, int64_t step, bool label_hit) override;
    std::vector<SpikeTrace>& traces() { return traces_; }

private:
    SpikeTrace& trace(int64_t image);
    int populations_;
    int64_t steps_;
    std::vector<SpikeTrace> traces_;
};

}  // namespace neuroemu
