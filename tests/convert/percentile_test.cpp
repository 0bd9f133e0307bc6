// PercentileSketch (convert/percentile.h), the streaming percentile behind data-based normalisation (paper
// Eq. 2), against exact nearest-rank percentiles of the sorted data.
#include "convert/percentile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace neuroemu {
namespace {

// Nearest-rank percentile of positive values, p given in hundredths of a percent (9999 = 99.99%): the value of
// rank ceil(p/100 * n) in ascending order, the rank computed in integers so no rounding can move it.
float exact_percentile_sorted(const std::vector<float>& v, int64_t p_hundredths) {
    const int64_t n = static_cast<int64_t>(v.size());
    const int64_t rank = std::max<int64_t>(1, (p_hundredths * n + 9999) / 10000);
    return v[static_cast<size_t>(rank - 1)];
}

std::vector<float> lognormal(size_t n, double sigma, uint32_t seed) {
    std::mt19937 rng(seed);
    std::lognormal_distribution<float> d(0.0f, static_cast<float>(sigma));
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

const int64_t kPercentiles[] = {1, 100, 1000, 2500, 5000, 9000, 9900, 9990, 9999, 10000};  // hundredths of a %

// On lognormal data spanning many octaves (sigma 1.5 and 3: values from ~1e-6 to ~1e6, so the bins grow in both
// directions), every percentile is within relative_error() of the exact nearest-rank value, at the default
// resolution and at the coarse one calibration uses per channel; p = 100 is the exact maximum.
TEST(PercentileSketch, MatchesExactNearestRankWithinRelativeError) {
    for (int bits : {10, 7}) {
        for (double sigma : {1.5, 3.0}) {
            const std::vector<float> data = lognormal(200000, sigma, 17);
            std::vector<float> sorted = data;
            std::sort(sorted.begin(), sorted.end());
            PercentileSketch s(bits);
            for (float x : data) s.add(x);
            EXPECT_EQ(s.count(), static_cast<int64_t>(data.size()));
            EXPECT_EQ(s.max(), sorted.back());
            EXPECT_LE(s.relative_error(), std::ldexp(1.0, -bits));
            for (int64_t p : kPercentiles) {
                const float want = exact_percentile_sorted(sorted, p);
                const float got = s.percentile(static_cast<double>(p) / 100.0);
                EXPECT_LE(std::fabs(got - want), s.relative_error() * want)
                    << "bits " << bits << " sigma " << sigma << " p " << p / 100.0 << ": " << got << " vs " << want;
            }
            EXPECT_EQ(s.percentile(100.0), sorted.back());
        }
    }
}

// Nearest rank on small sets, where the rank rule decides which element is returned: with the values 1..1000,
// p = 99.9 is rank 999 and p = 99.99 rank 1000; with 4 values, p = 50 is the 2nd and anything above the 3rd.
// Neighbouring integers differ by far more than the sketch's resolution, so a wrong rank cannot pass.
TEST(PercentileSketch, UsesNearestRankOnSmallSets) {
    std::vector<float> v(1000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i + 1);
    std::shuffle(v.begin(), v.end(), std::mt19937(1));
    PercentileSketch s;
    for (float x : v) s.add(x);
    const double tol = s.relative_error();
    EXPECT_NEAR(s.percentile(99.9), 999.0, 999.0 * tol);
    EXPECT_NEAR(s.percentile(99.99), 1000.0, 1000.0 * tol);
    EXPECT_NEAR(s.percentile(50.0), 500.0, 500.0 * tol);
    EXPECT_NEAR(s.percentile(0.1), 1.0, 1.0 * tol);
    EXPECT_NEAR(s.percentile(0.05), 1.0, 1.0 * tol);

    PercentileSketch four;
    for (float x : {4.0f, 1.0f, 3.0f, 2.0f}) four.add(x);
    EXPECT_NEAR(four.percentile(25.0), 1.0, tol);
    EXPECT_NEAR(four.percentile(50.0), 2.0, 2 * tol);
    EXPECT_NEAR(four.percentile(50.01), 3.0, 3 * tol);
    EXPECT_NEAR(four.percentile(99.9), 4.0, 4 * tol);
    EXPECT_EQ(four.percentile(100.0), 4.0f);

    PercentileSketch one;
    one.add(0.3f);
    for (double p : {0.5, 50.0, 99.99, 100.0}) EXPECT_FLOAT_EQ(one.percentile(p), 0.3f) << p;
}

// Merging the sketches of two halves of the data gives the sketch of all of it: the same count, maximum and
// every percentile, bit for bit; merging with an empty sketch (either way round) changes nothing.
TEST(PercentileSketch, MergeEqualsOneSketchOverAllData) {
    const std::vector<float> a = lognormal(30000, 2.0, 3), b = lognormal(50000, 1.0, 4);
    PercentileSketch sa, sb, all, empty;
    for (float x : a) sa.add(x), all.add(x);
    for (float x : b) sb.add(x * 40.0f), all.add(x * 40.0f);  // b mostly above a: bins grow on merge
    PercentileSketch merged = sa;
    merged.merge(sb);
    PercentileSketch reversed = sb;
    reversed.merge(sa);
    PercentileSketch from_empty;
    from_empty.merge(all);
    PercentileSketch with_empty = all;
    with_empty.merge(empty);
    for (const PercentileSketch* s : {&merged, &reversed, &from_empty, &with_empty}) {
        EXPECT_EQ(s->count(), all.count());
        EXPECT_EQ(s->max(), all.max());
        for (int64_t p : kPercentiles) EXPECT_EQ(s->percentile(p / 100.0), all.percentile(p / 100.0)) << p / 100.0;
    }
}

// Only strictly positive finite values count: zeros (either sign), negatives, NaN and infinities leave the
// count and every percentile as they were; a sketch that saw none of them reports 0.
TEST(PercentileSketch, IgnoresNonPositiveValuesAndIsZeroWhenEmpty) {
    PercentileSketch empty;
    EXPECT_EQ(empty.count(), 0);
    for (double p : {0.1, 50.0, 99.9, 99.99, 100.0}) EXPECT_EQ(empty.percentile(p), 0.0f) << p;

    PercentileSketch only_junk;
    for (float x : {0.0f, -0.0f, -1.0f, -1e30f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()})
        only_junk.add(x);
    EXPECT_EQ(only_junk.count(), 0);
    EXPECT_EQ(only_junk.percentile(99.9), 0.0f);

    const std::vector<float> data = lognormal(5000, 1.0, 8);
    PercentileSketch clean, mixed;
    std::mt19937 rng(2);
    std::uniform_real_distribution<float> neg(-100.0f, 0.0f);
    for (float x : data) {
        clean.add(x);
        mixed.add(x);
        mixed.add(0.0f);  // a ReLU's many zeros must not drag the percentile down
        mixed.add(neg(rng));
    }
    mixed.add(std::numeric_limits<float>::quiet_NaN());
    EXPECT_EQ(mixed.count(), clean.count());
    EXPECT_EQ(mixed.max(), clean.max());
    std::vector<float> sorted = data;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t p : kPercentiles) {
        EXPECT_EQ(mixed.percentile(p / 100.0), clean.percentile(p / 100.0)) << p / 100.0;
        const float want = exact_percentile_sorted(sorted, p);
        EXPECT_LE(std::fabs(mixed.percentile(p / 100.0) - want), mixed.relative_error() * want) << p / 100.0;
    }
}

}  // namespace
}  // namespace neuroemu
