#include "convert/percentile.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"

namespace neuroemu {
namespace {

// Values below this are lumped into one bin: far smaller than any threshold-relevant activation.
constexpr float kFloor = 1e-12f;

float from_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

}  // namespace

PercentileSketch::PercentileSketch(int bits) : bits_(bits) {
    if (bits < 1 || bits > 16) throw InternalError("PercentileSketch: bits must be in [1, 16]");
}

// A positive float's bit pattern is monotonic in its value: exponent, then the top `bits_` mantissa bits.
int64_t PercentileSketch::key(float v) const {
    uint32_t b;
    v = std::max(v, kFloor);
    std::memcpy(&b, &v, 4);
    return static_cast<int64_t>(b >> (23 - bits_));
}

void PercentileSketch::add(float v) {
    if (!(v > 0.0f) || !std::isfinite(v)) return;
    const int64_t k = key(v);
    if (bins_.empty()) {
        base_ = k;
        bins_.assign(1, 0);
        min_ = max_ = v;
    }
    if (k < base_) {
        bins_.insert(bins_.begin(), static_cast<size_t>(base_ - k), 0);
        base_ = k;
    } else if (k >= base_ + static_cast<int64_t>(bins_.size())) {
        bins_.resize(static_cast<size_t>(k - base_ + 1), 0);
    }
    ++bins_[static_cast<size_t>(k - base_)];
    ++count_;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
}

void PercentileSketch::merge(const PercentileSketch& o) {
    if (o.bits_ != bits_) throw InternalError("PercentileSketch::merge: different resolutions");
    if (o.count_ == 0) return;
    if (count_ == 0) {
        *this = o;
        return;
    }
    const int64_t lo = std::min(base_, o.base_);
    const int64_t hi = std::max(base_ + static_cast<int64_t>(bins_.size()), o.base_ + static_cast<int64_t>(o.bins_.size()));
    std::vector<uint64_t> merged(static_cast<size_t>(hi - lo), 0);
    for (size_t i = 0; i < bins_.size(); ++i) merged[static_cast<size_t>(base_ - lo) + i] += bins_[i];
    for (size_t i = 0; i < o.bins_.size(); ++i) merged[static_cast<size_t>(o.base_ - lo) + i] += o.bins_[i];
    bins_ = std::move(merged);
    base_ = lo;
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
    min_ = std::min(min_, o.min_);
}

float PercentileSketch::percentile(double p) const {
    if (!(p > 0.0 && p <= 100.0)) throw InternalError("PercentileSketch::percentile: p must be in (0, 100]");
    if (count_ == 0) return 0.0f;
    if (p == 100.0) return max_;
    const auto rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p / 100.0 * static_cast<double>(count_) - 1e-9)));
    int64_t seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
        seen += static_cast<int64_t>(bins_[i]);
        if (seen >= rank) {
            const int64_t k = base_ + static_cast<int64_t>(i);
            const float lo = from_bits(static_cast<uint32_t>(k << (23 - bits_)));
            const float hi = from_bits(static_cast<uint32_t>((k + 1) << (23 - bits_)));
            return std::clamp(0.5f * (lo + hi), min_, max_);
        }
    }
    return max_;
}

double PercentileSketch::relative_error() const { return std::ldexp(1.0, -bits_); }

}  // namespace neuroemu
