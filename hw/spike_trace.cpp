#include "hw/spike_trace.h"

namespace neuroemu {

void TraceRecorder::spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) {
    auto& list = trace(image).events[static_cast<size_t>(step - 1)][static_cast<size_t>(pop)];
    list.assign(events, events + n);
}

void TraceRecorder::step_done(int64_t image, int64_t step, bool label_hit) {
    trace(image).correct[static_cast<size_t>(step - 1)] = label_hit;
}

SpikeTrace& TraceRecorder::trace(int64_t image) {
    while (static_cast<int64_t>(traces_.size()) <= image) {
        SpikeTrace t;
        t.steps = steps_;
        t.events.assign(static_cast<size_t>(steps_), std::vector<std::vector<SpikeEvent>>(static_cast<size_t>(populations_)));
        t.correct.assign(static_cast<size_t>(steps_), 0);
        traces_.push_back(std::move(t));
    }
    return traces_[static_cast<size_t>(image)];
}

void set_current_input(SpikeTrace& trace, const ImageSet& set, int64_t index, const InputNormalisation& norm) {
    std::vector<float> input(static_cast<size_t>(set.image_size()));
    image_to_input(set, index, norm, input.data());
    auto& host = trace.events.at(0).at(0);
    host.clear();
    for (int32_t c = 0, k = 0; c < set.channels; ++c)
        for (int32_t y = 0; y < set.height; ++y)
            for (int32_t x = 0; x < set.width; ++x, ++k)
                if (input[static_cast<size_t>(k)] != 0.0f) host.push_back({c, y, x});
}

}  // namespace neuroemu
