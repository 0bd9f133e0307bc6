// A hardware run's figures per inference when the chip simulated a sample of each image's ticks (hw/tick_sample.h):
// the sample, and every additive counter extrapolated to all T ticks with its interval. HwStats keep the raw counts
// of the simulated ticks. With every tick simulated the estimates are the measured totals, intervals of zero width.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hw/chip_model.h"
#include "hw/tick_sample.h"

namespace neuroemu {

struct HwEstimates {
    HwEstimates(const TickSamplePlan& plan_, double confidence_)
        : plan(plan_), confidence(confidence_), estimator(plan_, kTickCounters) {}
    TickSamplePlan plan;
    double confidence = 0.95;
    int64_t images = 0;
    std::vector<std::vector<int64_t>> ticks;          // per image: the steps simulated
    std::array<SampledFigure, kTickCounters> totals;  // over all images and all T ticks
    SampledFigure packet_latency_mean;                // cycles: latency sum / deliveries (ratio estimator)
    TickEstimator estimator;                          // for figures combining counters (energy)

    bool exact() const { return plan.exact; }
    SampledFigure per_image(size_t counter) const;  // totals[counter] / images
    SampledFigure cycles_per_tick() const;          // total cycles / (images x T)
    // Per image, the per-tick sum of weights[counter] x counter (e.g. joules).
    SampledFigure per_image_linear(const std::array<double, kTickCounters>& weights) const;
    // "9 of 32 ticks per image (tick 1 and 2 of each of 4 strata), 95% intervals" or "all 32 ticks (exact)".
    std::string describe() const;
};

// The estimates from a run's per-tick counters (HwStats::tick_steps, tick_counts). Checks that each image simulated
// the ticks `plan` draws for it and that the per-tick counts add up to the run's totals (InternalError otherwise).
HwEstimates estimate_hardware(const HwStats& stats, const TickSamplePlan& plan, double confidence);

}  // namespace neuroemu
