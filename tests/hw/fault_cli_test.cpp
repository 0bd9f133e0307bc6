// `neuroemu simulate` with chip.faults end to end: the JSON's fault counters are conserved and agree with the
// run's other counters, and a fault naming a core the mapping lacks is refused with the key in the message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"

namespace {

using ::testing::HasSubstr;
using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::read_json;
using neuroemu::cli_test::run;

const std::string kResnet8 = std::string(NEUROEMU_SOURCE_DIR) + "/configs/fmnist/resnet8.yaml";

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("neuroemu_" + std::to_string(getpid()) + "_" + name)).string();
}

TEST(FaultCli, JsonCarriesConservedFaultCounters) {
    const std::string out = temp_path("faults.json");
    const CliRun r = run("simulate " + kResnet8 +
                         " --images 1 --steps 4 --set chip.faults.flit_error_rate=3e-3 --set chip.faults.check=parity"
                         " --json " + out);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("faults: "));
    const nlohmann::json j = read_json(out);
    const nlohmann::json& f = j.at("faults");
    const int64_t owed = f.at("deliveries_owed"), delivered = f.at("delivered");
    const int64_t detected = f.at("detected_dropped"), undetected = f.at("corrupt_undetected");
    EXPECT_EQ(owed, delivered + detected + undetected);
    EXPECT_EQ(delivered, j.at("counters").at("deliveries").get<int64_t>());
    EXPECT_GT(detected, 0);
    EXPECT_GT(f.at("bit_flips").get<int64_t>(), 0);
    EXPECT_DOUBLE_EQ(f.at("lost_fraction").get<double>(),
                     static_cast<double>(detected + undetected) / static_cast<double>(owed));
    // Parity's bit makes 33 bits: 2 flits of 32 bits per packet.
    EXPECT_EQ(j.at("counters").at("flit_hops").get<int64_t>(), 2 * j.at("counters").at("hops").get<int64_t>());
    std::remove(out.c_str());
}

// A rate of 0 loses nothing: the run takes the fault-free engine's path, so the classification and every synaptic
// operation are those of the run without faults (the check's bits change the flits and cycles only).
TEST(FaultCli, RateZeroIsTheFaultFreeRun) {
    const std::string clean_json = temp_path("clean.json"), zero_json = temp_path("zero.json");
    const std::string common = "simulate " + kResnet8 + " --images 2 --steps 4 --json ";
    const CliRun clean = run(common + clean_json);
    const CliRun zero = run(common + zero_json + " --set chip.faults.flit_error_rate=0 --set chip.faults.check=crc8");
    ASSERT_EQ(clean.status, 0) << clean.output;
    ASSERT_EQ(zero.status, 0) << zero.output;
    const nlohmann::json a = read_json(clean_json), b = read_json(zero_json);
    EXPECT_EQ(a.at("accuracy_curve"), b.at("accuracy_curve"));
    EXPECT_EQ(a.at("counters").at("sops"), b.at("counters").at("sops"));
    EXPECT_EQ(a.at("per_core_sops"), b.at("per_core_sops"));
    EXPECT_EQ(a.at("counters").at("events_generated"), b.at("counters").at("events_generated"));
    EXPECT_NE(a.at("counters").at("flit_hops"), b.at("counters").at("flit_hops"));
    std::remove(clean_json.c_str());
    std::remove(zero_json.c_str());
}

// The fault-aware engine decides by global tick: a sample of ticks is refused, naming the key.
TEST(FaultCli, FaultsWithTickSamplingAreRefused) {
    const CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 4 --sample-ticks 2 "
                         "--set chip.faults.flit_error_rate=1e-4");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("hardware.sample_ticks"));
}

TEST(FaultCli, AStuckCoreTheMappingLacksIsRefused) {
    const CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 2 --set 'chip.faults.stuck_cores=[1000000]'");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("chip.faults.stuck_cores"));
    EXPECT_THAT(r.output, HasSubstr("1000000"));
}

}  // namespace
