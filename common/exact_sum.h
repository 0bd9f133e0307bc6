// A sum of doubles whose result does not depend on the order of the additions: each value is rounded once to a
// fixed-point integer (scale 2^64, so a resolution of 5.4e-20) and integers add exactly. Sums taken on any number
// of threads, chunks or ranks, merged in any order, are bit-identical (sim/snn_engine.cpp's error means).
// Range: |value| and |sum| below 2^62 (4.6e18); add() throws beyond it rather than wrap.
#pragma once

#include <cmath>
#include <cstdint>

#include "common/error.h"

namespace neuroemu {

class ExactSum {
public:
    void add(double x) {
        if (!(std::fabs(x) < kLimit)) throw InternalError("ExactSum: a value that is not finite or beyond 2^62");
        // ldexp is exact; llroundl on the 64-bit-mantissa long double rounds the scaled value once.
        const long double scaled = std::ldexp(static_cast<long double>(x), kFractionBits);
        const long double high = std::floor(std::ldexp(scaled, -kFractionBits));  // integer part, exact
        const long double low = scaled - std::ldexp(high, kFractionBits);         // in [0, 2^64), exact
        // nearbyint(low) may round up to 2^64 itself (a tiny negative x): an int128 holds it.
        add_fixed(static_cast<__int128>(static_cast<int64_t>(high)) * kOne + static_cast<__int128>(std::nearbyint(low)));
    }
    void merge(const ExactSum& other) { add_fixed(other.fixed_); }
    double value() const {
        const __int128 high = fixed_ >> kFractionBits;  // floor
        const uint64_t low = static_cast<uint64_t>(fixed_ - high * kOne);
        return static_cast<double>(static_cast<long double>(static_cast<int64_t>(high)) +
                                   std::ldexp(static_cast<long double>(low), -kFractionBits));
    }
    bool operator==(const ExactSum& o) const { return fixed_ == o.fixed_; }

    // The raw fixed-point integer, for exact transport between ranks (mpi/pack.h).
    __int128 fixed() const { return fixed_; }
    static ExactSum from_fixed(__int128 f) {
        ExactSum s;
        s.fixed_ = f;
        return s;
    }

private:
    static constexpr int kFractionBits = 64;
    static constexpr __int128 kOne = static_cast<__int128>(1) << kFractionBits;  // 1.0 in fixed point (multiply:
                                                                                  // shifting a negative is UB)
    static constexpr double kLimit = 4611686018427387904.0;  // 2^62

    void add_fixed(__int128 f) {
        const __int128 limit = static_cast<__int128>(1) << (62 + kFractionBits);
        fixed_ += f;
        if (fixed_ >= limit || fixed_ <= -limit) throw InternalError("ExactSum: the sum exceeds 2^62");
    }

    __int128 fixed_ = 0;
};

}  // namespace neuroemu
