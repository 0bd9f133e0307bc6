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

TEST(FaultCli, AStuckCoreTheMappingLacksIsRefused) {
    const CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 2 --set 'chip.faults.stuck_cores=[1000000]'");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("chip.faults.stuck_cores"));
    EXPECT_THAT(r.output, HasSubstr("1000000"));
}

}  // namespace
