// Tick sampling's plan and estimator (hw/tick_sample.h), without the chip.
#include "hw/tick_sample.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace neuroemu {
namespace {

TEST(TickSample, ExactWhenOffOrKReachesT) {
    for (int64_t k : {0, 32, 40, 31}) {  // 31 = 1 + 2 x 15 < 32: sampled
        const TickSamplePlan plan = plan_tick_sample(32, k, 1);
        EXPECT_EQ(plan.exact, k != 31) << k;
    }
    const TickSamplePlan off = plan_tick_sample(32, 0, 1);
    EXPECT_EQ(off.ticks_per_image(), 32);
    EXPECT_FALSE(off.requested_sampling());
    std::vector<int64_t> all(32);
    for (int64_t t = 0; t < 32; ++t) all[static_cast<size_t>(t)] = t + 1;
    EXPECT_EQ(off.draw(3), all);
    EXPECT_TRUE(plan_tick_sample(3, 2, 1).exact);  // K rounds up to 3 = T
}

TEST(TickSample, RoundsKToOnePlusTwoH) {
    EXPECT_EQ(plan_tick_sample(32, 9, 1).ticks_per_image(), 9);
    EXPECT_FALSE(plan_tick_sample(32, 9, 1).rounded());
    EXPECT_EQ(plan_tick_sample(32, 10, 1).ticks_per_image(), 9);  // rounded down
    EXPECT_TRUE(plan_tick_sample(32, 10, 1).rounded());
    EXPECT_EQ(plan_tick_sample(32, 1, 1).ticks_per_image(), 3);   // at least one stratum
    EXPECT_EQ(plan_tick_sample(350, 41, 1).strata.size(), 20u);
}

TEST(TickSample, StrataAreDisjointAndCoverTicks2ToT) {
    for (int64_t steps : {4, 5, 9, 32, 33, 350})
        for (int64_t k : {3, 5, 9, 17, 41}) {
            const TickSamplePlan plan = plan_tick_sample(steps, k, 7);
            if (plan.exact) continue;
            int64_t next = 2, smallest = steps, largest = 0;
            for (const TickStratum& s : plan.strata) {
                EXPECT_EQ(s.first, next) << steps << " " << k;
                smallest = std::min(smallest, s.size()), largest = std::max(largest, s.size());
                next = s.last + 1;
            }
            EXPECT_EQ(next, steps + 1);
            EXPECT_GE(smallest, 2);
            EXPECT_LE(largest - smallest, 1);  // equal widths
        }
}

TEST(TickSample, DrawsTickOneAndTwoDistinctTicksPerStratum) {
    const TickSamplePlan plan = plan_tick_sample(32, 9, 5);
    ASSERT_EQ(plan.strata.size(), 4u);
    for (int64_t image = 0; image < 50; ++image) {
        const std::vector<int64_t> ticks = plan.draw(image);
        ASSERT_EQ(ticks.size(), 9u);
        EXPECT_EQ(ticks[0], 1);
        EXPECT_TRUE(std::is_sorted(ticks.begin(), ticks.end()));
        EXPECT_EQ(std::set<int64_t>(ticks.begin(), ticks.end()).size(), ticks.size());  // distinct
        for (size_t h = 0; h < plan.strata.size(); ++h) {
            EXPECT_EQ(plan.stratum_of(ticks[1 + 2 * h]), h);
            EXPECT_EQ(plan.stratum_of(ticks[2 + 2 * h]), h);
        }
    }
}

TEST(TickSample, DeterministicPerSeedAndImageVariesWithSeed) {
    const TickSamplePlan a = plan_tick_sample(350, 41, 1), b = plan_tick_sample(350, 41, 1);
    const TickSamplePlan c = plan_tick_sample(350, 41, 2);
    EXPECT_EQ(a.draw(0), b.draw(0));
    EXPECT_EQ(a.draw(9), b.draw(9));
    EXPECT_NE(a.draw(0), c.draw(0));
    EXPECT_NE(a.draw(0), a.draw(1));
    // Every tick of a stratum gets drawn over many images.
    std::set<int64_t> seen;
    for (int64_t image = 0; image < 200; ++image)
        for (int64_t t : a.draw(image))
            if (t >= a.strata[0].first && t <= a.strata[0].last) seen.insert(t);
    EXPECT_EQ(static_cast<int64_t>(seen.size()), a.strata[0].size());
}

// y(t) = 10 + 3t over T = 9 ticks, K = 5: tick 1, strata [2, 5] and [6, 9] (N_h = 4, n_h = 2).
TEST(TickEstimator, LinearMetricByHand) {
    const TickSamplePlan plan = plan_tick_sample(9, 5, 1);
    ASSERT_EQ(plan.strata.size(), 2u);
    EXPECT_EQ(plan.strata[0].first, 2);
    EXPECT_EQ(plan.strata[0].last, 5);
    EXPECT_EQ(plan.strata[1].last, 9);
    const std::vector<int64_t> ticks = {1, 2, 5, 6, 7};
    std::vector<std::vector<double>> values;
    for (int64_t t : ticks) values.push_back({10.0 + 3.0 * static_cast<double>(t)});
    TickEstimator est(plan, 1);
    est.add_image(ticks, values);
    const SampledFigure f = est.total(0, 0.95);
    // 13 + 4 (10 + 3 x 3.5) + 4 (10 + 3 x 6.5) = 13 + 82 + 118
    EXPECT_DOUBLE_EQ(f.estimate, 213.0);
    // s^2 = 9 (5-2)^2 / 2 = 40.5 and 9 (7-6)^2 / 2 = 4.5; each term N^2 (1 - n/N) s^2 / n = 16 x 0.5 x s^2 / 2
    EXPECT_DOUBLE_EQ(f.std_error * f.std_error, 162.0 + 18.0);
    EXPECT_NEAR(f.dof, 180.0 * 180.0 / (162.0 * 162.0 + 18.0 * 18.0), 1e-12);
    EXPECT_FALSE(f.exact);
    EXPECT_LT(f.low, 213.0);
    EXPECT_DOUBLE_EQ(f.high - 213.0, 213.0 - f.low);

    // Two images add totals and variances (and the true total, 225 per image, is inside with these draws).
    est.add_image({1, 3, 4, 8, 9}, {{13}, {19}, {22}, {34}, {37}});
    const SampledFigure two = est.total(0, 0.95);
    // second image: 13 + 4 x 20.5 + 4 x 35.5 = 237; s^2 = 4.5 each, terms 18 + 18
    EXPECT_DOUBLE_EQ(two.estimate, 213.0 + 237.0);
    EXPECT_DOUBLE_EQ(two.std_error * two.std_error, 180.0 + 36.0);
    EXPECT_LT(two.low, 450.0);
    EXPECT_GT(two.high, 450.0);
}

TEST(TickEstimator, StudentTQuantiles) {
    const SampledFigure one = with_interval(0, 1, 1, 0.95);  // t_{0.975, 1} = 12.706
    EXPECT_NEAR(one.high, 12.7062, 1e-3);
    const SampledFigure many = with_interval(0, 4, 1e9, 0.95);  // normal: 1.96 x 2
    EXPECT_NEAR(many.high, 2 * 1.95996, 1e-4);
    const SampledFigure none = with_interval(5, 0, 0, 0.95);
    EXPECT_EQ(none.low, 5);
    EXPECT_EQ(none.high, 5);
}

// Unbiased: averaged over every possible draw, the stratified estimate is the true total. Checked on a quadratic
// metric by averaging over many images (each image the same ticks' values, drawn independently).
TEST(TickEstimator, UnbiasedOverDraws) {
    const TickSamplePlan plan = plan_tick_sample(32, 9, 11);
    TickEstimator est(plan, 1);
    const auto y = [](int64_t t) { return 100.0 + static_cast<double>(t * t % 37); };
    double truth = 0;
    for (int64_t t = 1; t <= 32; ++t) truth += y(t);
    const int64_t images = 4000;
    for (int64_t image = 0; image < images; ++image) {
        const std::vector<int64_t> ticks = plan.draw(image);
        std::vector<std::vector<double>> values;
        for (int64_t t : ticks) values.push_back({y(t)});
        est.add_image(ticks, values);
    }
    const SampledFigure f = est.total(0, 0.95);
    EXPECT_NEAR(f.estimate / static_cast<double>(images), truth, 3 * f.std_error / static_cast<double>(images));
    EXPECT_GT(f.std_error, 0);
}

TEST(TickEstimator, ExactPlanGivesTheSumAndNoWidth) {
    const TickSamplePlan plan = plan_tick_sample(6, 0, 1);
    TickEstimator est(plan, 2);
    std::vector<std::vector<double>> values;
    double sum = 0;
    for (int64_t t = 1; t <= 6; ++t) {
        values.push_back({0.1 * static_cast<double>(t * t), 2.0 * static_cast<double>(t)});
        sum += 0.1 * static_cast<double>(t * t);
    }
    est.add_image(plan.draw(0), values);
    const SampledFigure f = est.total(0, 0.95);
    EXPECT_TRUE(f.exact);
    EXPECT_EQ(f.low, f.high);
    EXPECT_DOUBLE_EQ(f.estimate, sum);
    const SampledFigure r = est.ratio(0, 1, 0.95);
    EXPECT_TRUE(r.exact);
    EXPECT_EQ(r.low, r.high);
}

TEST(TickEstimator, RatioOfProportionalMetricsHasNoVariance) {
    const TickSamplePlan plan = plan_tick_sample(32, 9, 3);
    TickEstimator est(plan, 2);
    const std::vector<int64_t> ticks = plan.draw(0);
    std::vector<std::vector<double>> values;
    for (int64_t t : ticks) values.push_back({6.0 * static_cast<double>(t), 2.0 * static_cast<double>(t)});
    est.add_image(ticks, values);
    const SampledFigure r = est.ratio(0, 1, 0.95);
    EXPECT_DOUBLE_EQ(r.estimate, 3.0);
    EXPECT_NEAR(r.std_error, 0.0, 1e-9);
    EXPECT_GT(est.total(1, 0.95).std_error, 0.0);
}

}  // namespace
}  // namespace neuroemu
