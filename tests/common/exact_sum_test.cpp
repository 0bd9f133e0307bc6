#include "common/exact_sum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace neuroemu {
namespace {

uint64_t bits(double x) {
    uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// Values of mixed sign and magnitude, like per-image error means (and a few extremes).
std::vector<double> sample(size_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::uniform_int_distribution<int> e(-40, 20);
    std::vector<double> v;
    for (size_t i = 0; i < n; ++i) v.push_back(std::ldexp(u(rng), e(rng)));
    v.insert(v.end(), {-1e-30, 1e-30, 1e6, -1e6, 0.0, -0.0, 0.1, -0.3});
    return v;
}

ExactSum sum_of(const std::vector<double>& v) {
    ExactSum s;
    for (double x : v) s.add(x);
    return s;
}

TEST(ExactSum, OrderDoesNotChangeABit) {
    std::vector<double> v = sample(5000, 1);
    const ExactSum ref = sum_of(v);
    std::mt19937_64 rng(7);
    double naive_min = 1e300, naive_max = -1e300;
    for (int trial = 0; trial < 20; ++trial) {
        std::shuffle(v.begin(), v.end(), rng);
        const ExactSum s = sum_of(v);
        EXPECT_EQ(bits(s.value()), bits(ref.value()));
        double naive = 0;
        for (double x : v) naive += x;
        naive_min = std::min(naive_min, naive), naive_max = std::max(naive_max, naive);
    }
    // The plain double sum does depend on the order here: the test data would catch a plain sum.
    EXPECT_NE(naive_min, naive_max);
}

TEST(ExactSum, MergingPartsEqualsOneSum) {
    const std::vector<double> v = sample(3001, 2);
    const ExactSum whole = sum_of(v);
    for (size_t parts : {2u, 3u, 7u}) {
        std::vector<ExactSum> part(parts);
        for (size_t i = 0; i < v.size(); ++i) part[i % parts].add(v[i]);
        ExactSum merged;
        for (size_t p = parts; p-- > 0;) merged.merge(part[p]);
        EXPECT_TRUE(merged == whole) << parts << " parts";
        EXPECT_EQ(bits(merged.value()), bits(whole.value()));
        EXPECT_TRUE(ExactSum::from_fixed(merged.fixed()) == whole);
    }
}

TEST(ExactSum, AccurateAgainstLongDouble) {
    for (uint64_t seed : {3u, 4u, 5u}) {
        const std::vector<double> v = sample(10000, seed);
        long double ref = 0;
        double abs_sum = 0;
        for (double x : v) ref += x, abs_sum += std::fabs(x);
        const double got = sum_of(v).value();
        // Each value is rounded at 2^-65 at most; long double's own error is about 1e-19 x the absolute sum.
        EXPECT_NEAR(got, static_cast<double>(ref), 1e-16 * abs_sum + 1e-15) << seed;
    }
    ExactSum s;
    s.add(-2.5), s.add(0.75);
    EXPECT_EQ(s.value(), -1.75);
    ExactSum tiny;
    tiny.add(-1e-30);
    EXPECT_EQ(tiny.value(), 0.0);  // below the resolution: rounds to zero, never to -1
}

TEST(ExactSum, RefusesWhatItCannotHold) {
    ExactSum s;
    EXPECT_THROW(s.add(std::nan("")), InternalError);
    EXPECT_THROW(s.add(1e19), InternalError);
    s.add(4e18);
    EXPECT_THROW(s.add(4e18), InternalError);
}

}  // namespace
}  // namespace neuroemu
