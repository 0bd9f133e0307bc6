#include "hw/spike_trace.h"

#include <utility>

#include "common/error.h"

namespace neuroemu {

TraceRecorder::TraceRecorder(int populations, int64_t steps, std::vector<int64_t> ticks)
    : populations_(populations), steps_(steps), ticks_(std::move(ticks)), slot_(static_cast<size_t>(steps), -1) {
    if (ticks_.empty())
        for (int64_t t = 0; t < steps; ++t) slot_[static_cast<size_t>(t)] = t;
    for (size_t i = 0; i < ticks_.size(); ++i) {
        if (ticks_[i] < 1 || ticks_[i] > steps || (i > 0 && ticks_[i] <= ticks_[i - 1]))
            throw InternalError("TraceRecorder: the recorded steps must be ascending, in [1, steps]");
        slot_[static_cast<size_t>(ticks_[i] - 1)] = static_cast<int64_t>(i);
    }
}

void TraceRecorder::spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) {
    SpikeTrace& t = trace(image);
    if (slot(step) < 0) return;
    t.events[static_cast<size_t>(slot(step))][static_cast<size_t>(pop)].assign(events, events + n);
}

void TraceRecorder::step_done(int64_t image, int64_t step, bool label_hit) {
    trace(image).correct[static_cast<size_t>(step - 1)] = label_hit;
}

void TraceRecorder::projection_sops(int64_t image, int64_t step, int projection, int64_t sops) {
    SpikeTrace& t = trace(image);
    if (static_cast<size_t>(projection) < recurrent_.size() && recurrent_[static_cast<size_t>(projection)]) --step;
    if (step < 1 || slot(step) < 0) return;
    if (t.engine_sops.size() <= static_cast<size_t>(projection)) t.engine_sops.resize(static_cast<size_t>(projection) + 1, 0);
    t.engine_sops[static_cast<size_t>(projection)] += sops;
}

SpikeTrace& TraceRecorder::trace(int64_t image) {
    while (static_cast<int64_t>(traces_.size()) <= image) {
        SpikeTrace t;
        t.steps = steps_;
        t.ticks = ticks_;
        t.events.assign(static_cast<size_t>(t.tick_count()), std::vector<std::vector<SpikeEvent>>(static_cast<size_t>(populations_)));
        t.correct.assign(static_cast<size_t>(steps_), 0);
        traces_.push_back(std::move(t));
    }
    return traces_[static_cast<size_t>(image)];
}

void set_current_input(SpikeTrace& trace, const ImageSet& set, int64_t index, const InputNormalisation& norm) {
    std::vector<float> input(static_cast<size_t>(set.image_size()));
    image_to_input(set, index, norm, input.data());
    if (trace.step_of(0) != 1) throw InternalError("set_current_input: the trace does not record step 1");
    auto& host = trace.events.at(0).at(0);
    host.clear();
    for (int32_t c = 0, k = 0; c < set.channels; ++c)
        for (int32_t y = 0; y < set.height; ++y)
            for (int32_t x = 0; x < set.width; ++x, ++k)
                if (input[static_cast<size_t>(k)] != 0.0f) host.push_back({c, y, x});
}

}  // namespace neuroemu
