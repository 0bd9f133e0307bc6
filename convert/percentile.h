// Streaming percentile of positive values, for data-based normalisation (paper Eq. 2) over many images
// without holding their activations: log-spaced bins (a fixed number per octave, grown to the range seen),
// the exact maximum kept aside.
#pragma once

#include <cstdint>
#include <vector>

namespace neuroemu {

class PercentileSketch {
public:
    // bits: mantissa bits per bin key, i.e. 2^bits bins per octave; relative error of a percentile <= 2^-bits.
    explicit PercentileSketch(int bits = 10);

    void add(float v);  // counts v > 0 only (zeros, negatives and NaN are not activations that need range)
    void merge(const PercentileSketch& other);

    int64_t count() const { return count_; }
    float max() const { return max_; }

    // Nearest-rank p-th percentile, p in (0, 100], of the values added: the value of rank ceil(p/100 * n) in
    // ascending order (p = 100: the exact maximum). Returns 0 when nothing was added.
    float percentile(double p) const;

    double relative_error() const;

private:
    int bits_;
    int64_t base_ = 0;             // key of bins_[0]
    std::vector<uint64_t> bins_;
    int64_t count_ = 0;
    float max_ = 0.0f, min_ = 0.0f;

    int64_t key(float v) const;
};

}  // namespace neuroemu
