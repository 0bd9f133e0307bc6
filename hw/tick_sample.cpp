#include "hw/tick_sample.h"

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/random.h"

namespace neuroemu {

std::vector<ParamSpec> tick_sample_params() {
    return {
        ParamSpec("hardware.sample_ticks", ParamKind::Int, "0", "ticks",
                  "Ticks K of each image the SystemC hardware model simulates (`--sample-ticks` overrides): tick 1 "
                  "and 2 ticks drawn from each of H equal strata of ticks 2..T, K rounded to 1 + 2H; totals are "
                  "estimated with an interval (docs/hardware-model.md). 0, or K >= T: every tick, exact.")
            .range(0, 65535),
        ParamSpec("hardware.confidence", ParamKind::Real, "0.95", "",
                  "Confidence of the two-sided intervals of figures estimated from sampled ticks.")
            .range(0.5, 0.9999),
    };
}

namespace {

// Uniform in [0, n), without modulo bias.
int64_t below(uint64_t& state, int64_t n) {
    const uint64_t range = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    uint64_t r;
    do r = splitmix64(state);
    while (r >= limit);
    return static_cast<int64_t>(r % range);
}

}  // namespace

int64_t TickSamplePlan::ticks_per_image() const {
    return exact ? steps : 1 + kPerStratum * static_cast<int64_t>(strata.size());
}

std::vector<int64_t> TickSamplePlan::draw(int64_t image) const {
    std::vector<int64_t> ticks;
    if (exact) {
        for (int64_t t = 1; t <= steps; ++t) ticks.push_back(t);
        return ticks;
    }
    uint64_t state = seed * 0xD1B54A32D192ED03ull ^ (static_cast<uint64_t>(image) + 1) * 0x8CB92BA72F3D8DD7ull;
    splitmix64(state);
    ticks.push_back(1);
    for (const TickStratum& s : strata) {  // two distinct ticks of the stratum
        const int64_t a = below(state, s.size());
        int64_t b = below(state, s.size() - 1);
        if (b >= a) ++b;
        ticks.push_back(s.first + std::min(a, b));
        ticks.push_back(s.first + std::max(a, b));
    }
    return ticks;
}

size_t TickSamplePlan::stratum_of(int64_t tick) const {
    const auto it = std::upper_bound(strata.begin(), strata.end(), tick,
                                     [](int64_t t, const TickStratum& s) { return t < s.first; });
    if (it == strata.begin() || tick > std::prev(it)->last)
        throw InternalError("tick sampling: tick " + std::to_string(tick) + " is in no stratum");
    return static_cast<size_t>(std::prev(it) - strata.begin());
}

TickSamplePlan plan_tick_sample(int64_t steps, int64_t sample_ticks, uint64_t seed) {
    TickSamplePlan plan;
    plan.steps = steps;
    plan.requested = sample_ticks;
    plan.seed = seed;
    const int64_t h = std::max<int64_t>(1, (sample_ticks - 1) / TickSamplePlan::kPerStratum);
    plan.exact = sample_ticks == 0 || sample_ticks >= steps || 1 + TickSamplePlan::kPerStratum * h >= steps;
    const int64_t strata = plan.exact ? 1 : h;
    // Equal widths: stratum k is ticks [2 + floor(k (T-1) / H), 1 + floor((k+1) (T-1) / H)]. With 1 + 2H < T every
    // stratum holds at least 2 ticks.
    for (int64_t k = 0; k < strata && steps > 1; ++k)
        plan.strata.push_back({2 + k * (steps - 1) / strata, 1 + (k + 1) * (steps - 1) / strata});
    return plan;
}

SampledFigure SampledFigure::divided_by(double d) const {
    SampledFigure f = *this;
    f.estimate /= d, f.low /= d, f.high /= d, f.std_error /= d;
    return f;
}

SampledFigure with_interval(double estimate, double variance, double dof, double confidence) {
    SampledFigure f;
    f.estimate = f.low = f.high = estimate;
    if (!(variance > 0) || !(dof > 0)) return f;
    f.std_error = std::sqrt(variance);
    f.dof = dof;
    // Student's t rather than the normal quantile: with 2 ticks per stratum each stratum's variance has 1 degree of
    // freedom, and a run of a few images with a few strata has an effective (Satterthwaite) df of a handful, where
    // the normal quantile would make the interval too narrow. As df grows t tends to the normal.
    const double p = 0.5 + 0.5 * confidence;
    const double q = dof > 1e7 ? boost::math::quantile(boost::math::normal_distribution<double>(), p)
                               : boost::math::quantile(boost::math::students_t_distribution<double>(dof), p);
    f.low = estimate - q * f.std_error;
    f.high = estimate + q * f.std_error;
    return f;
}

void TickEstimator::add_image(const std::vector<int64_t>& ticks, const std::vector<std::vector<double>>& values) {
    if (ticks.size() != values.size() || ticks.empty() || ticks.front() != 1)
        throw InternalError("tick sampling: an image needs tick 1 and one row of values per simulated tick");
    for (const auto& row : values)
        if (row.size() != metrics_) throw InternalError("tick sampling: a row of values has the wrong size");
    images_.push_back({ticks, values});
}

template <class Y>
SampledFigure TickEstimator::stratified(Y y, double confidence) const {
    const size_t strata = plan_.strata.size();
    double total = 0, variance = 0, dof_denominator = 0;
    std::vector<double> sum(strata), sum_sq(strata);
    std::vector<int64_t> n(strata);
    for (size_t image = 0; image < images_.size(); ++image) {
        const Image& im = images_[image];
        total += y(image, 0);  // tick 1, its own stratum of one tick, measured
        std::fill(sum.begin(), sum.end(), 0.0), std::fill(sum_sq.begin(), sum_sq.end(), 0.0);
        std::fill(n.begin(), n.end(), 0);
        for (size_t i = 1; i < im.ticks.size(); ++i) {
            const size_t h = plan_.stratum_of(im.ticks[i]);
            const double v = y(image, i);
            sum[h] += v, sum_sq[h] += v * v, ++n[h];
        }
        for (size_t h = 0; h < strata; ++h) {
            const double big_n = static_cast<double>(plan_.strata[h].size()), small_n = static_cast<double>(n[h]);
            if (n[h] == plan_.strata[h].size()) {  // every tick measured: the sum itself, no variance
                total += sum[h];
                continue;
            }
            if (n[h] < 2) throw InternalError("tick sampling: a stratum needs two simulated ticks");
            const double mean = sum[h] / small_n;
            total += big_n * mean;
            const double s2 = std::max(0.0, (sum_sq[h] - small_n * mean * mean) / (small_n - 1));
            const double term = big_n * big_n * (1 - small_n / big_n) * s2 / small_n;
            variance += term;
            dof_denominator += term * term / (small_n - 1);
        }
    }
    // Satterthwaite: the variance is a weighted sum of independent chi-square variables.
    const double dof = dof_denominator > 0 ? variance * variance / dof_denominator : 0.0;
    SampledFigure f = with_interval(total, variance, dof, confidence);
    f.exact = plan_.exact;
    return f;
}

SampledFigure TickEstimator::total(size_t m, double confidence) const {
    return stratified([&](size_t image, size_t i) { return images_[image].values[i][m]; }, confidence);
}

SampledFigure TickEstimator::linear(const std::vector<double>& weights, double confidence) const {
    if (weights.size() != metrics_) throw InternalError("tick sampling: one weight per metric");
    return stratified(
        [&](size_t image, size_t i) {
            double sum = 0;
            for (size_t m = 0; m < metrics_; ++m) sum += weights[m] * images_[image].values[i][m];
            return sum;
        },
        confidence);
}

SampledFigure TickEstimator::ratio(size_t num, size_t den, double confidence) const {
    const SampledFigure y = total(num, confidence), x = total(den, confidence);
    if (!(x.estimate > 0)) return SampledFigure{0, 0, 0, 0, 0, plan_.exact};
    const double r = y.estimate / x.estimate;
    // Linearised: the residuals d = y - r x have an estimated total of zero; their stratified variance over X^2 is
    // the delta-method variance of r.
    SampledFigure d = stratified(
        [&](size_t image, size_t i) { return images_[image].values[i][num] - r * images_[image].values[i][den]; },
        confidence);
    SampledFigure f = with_interval(r, d.std_error * d.std_error / (x.estimate * x.estimate), d.dof, confidence);
    f.exact = plan_.exact;
    return f;
}

}  // namespace neuroemu
