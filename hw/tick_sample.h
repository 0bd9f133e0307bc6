// Tick sampling (docs/hardware-model.md, "Tick sampling"): the chip runs K of an image's T ticks and the totals of
// additive per-tick counters are estimated from them, with an interval. The global barrier between ticks makes the
// ticks independent simulations (the engine decides the spikes of every tick), so a tick's cost can be measured
// without running the ticks before it.
//
// The design: tick 1 (where a constant-current image's pixels are sent) is always simulated and counted exactly, as
// its own stratum. Ticks 2..T are split into H strata of equal width (sizes differ by at most one), and 2 ticks are
// drawn without replacement from each, seeded by (seed, image): K = 1 + 2H. Plain C++, no SystemC.
#pragma once

#include <cstdint>
#include <vector>

#include "common/config.h"

namespace neuroemu {

// The `hardware` keys of tick sampling: hardware.sample_ticks, hardware.confidence.
std::vector<ParamSpec> tick_sample_params();

// Ticks [first, last] of an image (1-based, inclusive).
struct TickStratum {
    int64_t first = 0, last = 0;
    int64_t size() const { return last - first + 1; }
};

// Which ticks of each image the chip simulates.
struct TickSamplePlan {
    int64_t steps = 0;       // T
    int64_t requested = 0;   // hardware.sample_ticks as given (0: all ticks)
    uint64_t seed = 0;
    bool exact = true;       // every tick is simulated (sample_ticks 0, or K >= T)
    std::vector<TickStratum> strata;  // of ticks 2..T; exact: one stratum [2, T], every tick of it drawn
    static constexpr int64_t kPerStratum = 2;

    // Ticks simulated per image: T when exact, else 1 + 2H.
    int64_t ticks_per_image() const;
    // Sampling was asked for (sample_ticks > 0): the outputs then describe it, "exact" when K >= T.
    bool requested_sampling() const { return requested > 0; }
    // K differs from the sample_ticks given (rounded to the form 1 + 2H).
    bool rounded() const { return !exact && requested != ticks_per_image(); }
    // The ticks image `image` (0-based) simulates, ascending: tick 1 first. Deterministic in (seed, image).
    std::vector<int64_t> draw(int64_t image) const;
    // The stratum of tick t >= 2 (index into strata).
    size_t stratum_of(int64_t tick) const;
};

// The plan for T = `steps` ticks and `sample_ticks` requested (0 or >= T: exact; otherwise rounded to 1 + 2H with
// H = max(1, (sample_ticks - 1) / 2), exact again when that reaches T).
TickSamplePlan plan_tick_sample(int64_t steps, int64_t sample_ticks, uint64_t seed);

// An estimated figure with its two-sided interval at the confidence asked for.
struct SampledFigure {
    double estimate = 0;
    double low = 0, high = 0;
    double std_error = 0;
    double dof = 0;      // Satterthwaite degrees of freedom of the variance estimate (0 when it is zero)
    bool exact = false;  // every tick measured: low = high = estimate
    SampledFigure divided_by(double d) const;  // the same figure over d > 0 (per image, per tick, seconds)
};

// Estimates totals over all T ticks of every image from the simulated ticks. Per image and metric: the stratified
// estimate y_1 + sum_h N_h * mean_h(y), variance sum_h N_h^2 (1 - n_h / N_h) s_h^2 / n_h (s_h^2 the sample variance
// within stratum h); totals and variances add over images (their draws are independent).
class TickEstimator {
public:
    TickEstimator(const TickSamplePlan& plan, size_t metrics) : plan_(plan), metrics_(metrics) {}
    // One image: the ticks it simulated (as drawn) and values[i][m], metric m of tick ticks[i].
    void add_image(const std::vector<int64_t>& ticks, const std::vector<std::vector<double>>& values);
    // The total of metric m over all images and ticks.
    SampledFigure total(size_t m, double confidence) const;
    // The total of the per-tick sum of weights[m] x metric m (e.g. the energy the counters cost).
    SampledFigure linear(const std::vector<double>& weights, double confidence) const;
    // The ratio total(num) / total(den) (e.g. mean packet latency = latency sum / deliveries): the ratio estimator,
    // its variance by the delta method (the stratified variance of the residuals y - R x, over total(den)^2).
    SampledFigure ratio(size_t num, size_t den, double confidence) const;
    int64_t images() const { return static_cast<int64_t>(images_.size()); }

private:
    struct Image {
        std::vector<int64_t> ticks;
        std::vector<std::vector<double>> values;
    };
    // Stratified estimate of the total of y(image, i), with its variance and Satterthwaite degrees of freedom.
    template <class Y>
    SampledFigure stratified(Y y, double confidence) const;
    TickSamplePlan plan_;
    size_t metrics_;
    std::vector<Image> images_;
};

// The two-sided interval estimate +- t * std_error, with Student's t at `dof` degrees of freedom.
SampledFigure with_interval(double estimate, double variance, double dof, double confidence);

}  // namespace neuroemu
