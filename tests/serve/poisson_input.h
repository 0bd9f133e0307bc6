// What the tests of the stepped engine feed it: the input spikes the `poisson` encoding draws for a dataset image,
// drawn exactly as SnnEngine::evaluate draws them (sim/snn_engine.cpp), and a recorder of everything the engine
// reports to a SpikeObserver, to compare a stepped run with evaluate()'s.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "data/idx_dataset.h"
#include "sim/encoding/encoding.h"
#include "sim/snn_engine.h"

namespace neuroemu {

// Found by argument-dependent lookup, so std::vector<SpikeEvent> compares too.
inline bool operator==(const SpikeEvent& a, const SpikeEvent& b) { return a.c == b.c && a.y == b.y && a.x == b.x; }

namespace test {

// Per step of image `image` of `set`: the input neurons that spike, [H][W][C] indices, ascending. The image's
// generator is seeded by its index in the dataset (set.first + image), as evaluate() seeds it.
inline std::vector<std::vector<int32_t>> poisson_input_hwc(const ImageSet& set, int64_t image,
                                                           const InputNormalisation& norm, uint64_t seed,
                                                           int64_t steps) {
    const int64_t c = set.channels, hw = set.height * set.width;
    std::vector<float> chw(static_cast<size_t>(c * hw)), hwc(chw.size());
    image_to_input(set, image, norm, chw.data());
    for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t p = 0; p < hw; ++p) hwc[static_cast<size_t>(p * c + ch)] = chw[static_cast<size_t>(ch * hw + p)];
    const auto poisson = make_input_encoding("poisson");
    uint64_t rng = seed ^ (0xD1B54A32D192ED03ull * static_cast<uint64_t>(set.first + image + 1));
    std::vector<std::vector<int32_t>> out(static_cast<size_t>(steps));
    for (auto& step : out) poisson->spikes(hwc, rng, step);
    return out;
}

// [H][W][C] index of a [C][H][W] population -> its flat [C][H][W] index.
inline int32_t hwc_to_chw(int32_t j, int64_t c, int64_t pixels) {
    return static_cast<int32_t>(j % c * pixels + j / c);
}

// What one step reported.
struct StepRecord {
    std::vector<std::vector<SpikeEvent>> spikes;  // per population
    std::vector<int64_t> sops;                    // per projection
    bool hit = false;
    bool done = false;
};

class Recorder : public SpikeObserver {
public:
    Recorder(size_t populations, size_t projections) : populations_(populations), projections_(projections) {}
    void spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) override {
        at(image, step).spikes[static_cast<size_t>(pop)].assign(events, events + n);
    }
    void step_done(int64_t image, int64_t step, bool label_hit) override {
        at(image, step).hit = label_hit;
        at(image, step).done = true;
    }
    void projection_sops(int64_t image, int64_t step, int projection, int64_t sops) override {
        at(image, step).sops[static_cast<size_t>(projection)] = sops;
    }
    const std::vector<StepRecord>& image(int64_t i) const { return images_.at(i); }
    size_t images() const { return images_.size(); }

private:
    StepRecord& at(int64_t image, int64_t step) {
        auto& steps = images_[image];
        while (steps.size() < static_cast<size_t>(step)) {
            steps.emplace_back();
            steps.back().spikes.resize(populations_);
            steps.back().sops.assign(projections_, 0);
        }
        return steps[static_cast<size_t>(step - 1)];
    }
    size_t populations_, projections_;
    std::map<int64_t, std::vector<StepRecord>> images_;
};

}  // namespace test
}  // namespace neuroemu
