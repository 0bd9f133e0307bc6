// Tick sampling end to end (`neuroemu report --sample-ticks`, docs/hardware-model.md "Tick sampling") on the shipped
// ResNet-20 (configs/default.yaml), T = 32: the sampled intervals against the exact figures, and K = T against the
// unsampled run. Each `report` is its own process (one SystemC elaboration per process).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

using cli_test::read_json;
using cli_test::run;
using nlohmann::json;

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";

std::string tmp(const std::string& name) { return cli_test::build_file("tick_sampling_cli_test", name); }

// The converted model once per test (conversion calibrates on training images: the slow part of a run).
std::string converted(const std::string& name) { return cli_test::converted_model(kConfig, tmp(name + ".snn")); }

json report(const std::string& snn, int64_t images, const std::string& extra, const std::string& name) {
    const std::string out = tmp(name + ".json");
    const auto r = run("report " + kConfig + " --snn " + snn + " --steps 32 --images " + std::to_string(images) +
                       " --hw-images " + std::to_string(images) + " --set report.paper_table=false -q --json " + out +
                       " " + extra);
    EXPECT_EQ(r.status, 0) << r.output;
    return read_json(out);
}

const json& figure(const json& sampling, const std::string& key) {
    for (const auto& f : sampling.at("figures"))
        if (f.at("key") == key) return f;
    throw std::runtime_error("no figure " + key);
}

bool covers(const json& f, double truth) {
    return f.at("low").get<double>() <= truth && truth <= f.at("high").get<double>();
}

// K >= T simulates every tick: the same numbers as without sampling, intervals of zero width, labelled exact.
void expect_same_as_unsampled(const json& off, const json& all) {
    EXPECT_FALSE(off.at("ticks").contains("sampling"));
    EXPECT_EQ(off.at("headline"), all.at("headline"));
    EXPECT_EQ(off.at("energy"), all.at("energy"));
    EXPECT_EQ(off.at("ticks").at("cycles_per_tick"), all.at("ticks").at("cycles_per_tick"));
    const json& s = all.at("ticks").at("sampling");
    EXPECT_TRUE(s.at("exact").get<bool>());
    EXPECT_EQ(s.at("ticks_per_image").get<int64_t>(), 32);
    for (const auto& f : s.at("figures")) {
        EXPECT_TRUE(f.at("exact").get<bool>()) << f.at("key");
        EXPECT_EQ(f.at("low"), f.at("high")) << f.at("key");
        EXPECT_EQ(f.at("low"), f.at("estimate")) << f.at("key");
    }
    double cycles = 0;
    for (const auto& c : off.at("ticks").at("cycles_per_tick")) cycles += c.get<double>();
    EXPECT_EQ(s.at("totals").at("cycles").at("estimate").get<double>(), cycles);
    EXPECT_EQ(figure(s, "latency_cycles").at("estimate"), off.at("headline").at("latency_cycles"));
    EXPECT_EQ(figure(s, "energy_snn_j").at("estimate"), off.at("headline").at("energy_snn_j"));
}

// One test (one conversion, two exact runs, ten sampled; about 15 s of CPU): the unsampled run, K = T against it, then 9 of 32
// ticks (tick 1 and 4 strata of 2) on the same 2 images for 10 seeds. Each interval is a nominal 95% one, so the
// misses among 10 seeds are about Binomial(10, 0.05): 3 or more misses has probability 1.2% for a correct interval,
// while an interval that covers only half the time passes 8 of 10 with probability 5.5%. The draws depend on the
// seeds only, so the outcome is deterministic.
TEST(TickSampling, SampledIntervalsCoverTheExactFigures) {
    const std::string snn = converted("cover");
    const json off = report(snn, 2, "", "off");
    const json exact = report(snn, 2, "--sample-ticks 40", "exact");
    expect_same_as_unsampled(off, exact);
    const json& exact_sampling = exact.at("ticks").at("sampling");
    const double cycles = exact_sampling.at("totals").at("cycles").at("estimate").get<double>();
    const double hops = exact_sampling.at("totals").at("hops").at("estimate").get<double>();
    const double energy = exact.at("headline").at("energy_snn_j").get<double>();
    int covered_cycles = 0, covered_hops = 0, covered_energy = 0;
    for (int seed = 1; seed <= 10; ++seed) {
        const json sampled = report(snn, 2, "--sample-ticks 9 --seed " + std::to_string(seed), "sampled");
        const json& s = sampled.at("ticks").at("sampling");
        ASSERT_FALSE(s.at("exact").get<bool>());
        ASSERT_EQ(s.at("ticks_per_image").get<int64_t>(), 9);
        ASSERT_EQ(s.at("ticks").size(), 2u);
        EXPECT_EQ(sampled.at("ticks").at("cycles_per_tick").size(), 18u);  // the chip ran 9 ticks per image
        const json& c = s.at("totals").at("cycles");
        std::printf("seed %d: cycles %.0f [%.0f, %.0f] dof %.2f\n", seed, c.at("estimate").get<double>(),
                    c.at("low").get<double>(), c.at("high").get<double>(), c.at("dof").get<double>());
        covered_cycles += covers(s.at("totals").at("cycles"), cycles);
        covered_hops += covers(s.at("totals").at("hops"), hops);
        covered_energy += covers(figure(s, "energy_snn_j"), energy);
        // The priced energy is the interval's centre.
        EXPECT_DOUBLE_EQ(figure(s, "energy_snn_j").at("estimate").get<double>(),
                         sampled.at("headline").at("energy_snn_j").get<double>());
    }
    std::printf("coverage of 10 seeds: cycles %d, hops %d, energy %d (exact: %.0f cycles, %.0f hops, %.6g J)\n",
                covered_cycles, covered_hops, covered_energy, cycles, hops, energy);
    EXPECT_GE(covered_cycles, 8);
    EXPECT_GE(covered_hops, 8);
    EXPECT_GE(covered_energy, 8);
}

}  // namespace
}  // namespace neuroemu
