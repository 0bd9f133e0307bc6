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

// The check's logic energy in `report`: one check computed per packet injected and one verified per arrival at a
// core (delivered, dropped or corrupt), counted by `simulate` on the same image; none without a check.
TEST(FaultCli, ReportPricesTheCheckPerPacketAndPerArrival) {
    const std::string common = kResnet8 + " --steps 4 --set mapping.traffic_images=2 -q --set chip.faults.flit_error_rate=3e-3";
    const std::string sim_json = temp_path("check_sim.json"), rep_json = temp_path("check_rep.json");
    const std::string none_json = temp_path("check_none.json"), dir = temp_path("check_report");
    ASSERT_EQ(run("simulate " + common + " --set chip.faults.check=crc8 --images 1 --json " + sim_json).status, 0);
    const std::string report = "report " + common + " --images 2 --hw-images 1 --set report.paper_table=false -o " + dir;
    const CliRun a = run(report + " --set chip.faults.check=crc8 --json " + rep_json);
    ASSERT_EQ(a.status, 0) << a.output;
    const CliRun b = run(report + " --json " + none_json);
    ASSERT_EQ(b.status, 0) << b.output;
    const nlohmann::json sim = read_json(sim_json), rep = read_json(rep_json), none = read_json(none_json);
    const auto term = [](const nlohmann::json& j, const std::string& key) -> const nlohmann::json* {
        for (const auto& t : j.at("energy").at("snn").at("terms"))
            if (t.at("key") == key) return &t;
        return nullptr;
    };
    const nlohmann::json* compute = term(rep, "check_compute");
    const nlohmann::json* verify = term(rep, "check_verify");
    ASSERT_NE(compute, nullptr);
    ASSERT_NE(verify, nullptr);
    const nlohmann::json& f = sim.at("faults");
    const double packets = sim.at("counters").at("packets").get<double>();
    const double arrivals = f.at("delivered").get<double>() + f.at("detected_dropped").get<double>() +
                            f.at("corrupt_undetected").get<double>();
    EXPECT_GT(f.at("detected_dropped").get<double>(), 0);
    EXPECT_DOUBLE_EQ(compute->at("count").get<double>(), packets);
    EXPECT_DOUBLE_EQ(verify->at("count").get<double>(), arrivals);
    EXPECT_DOUBLE_EQ(compute->at("energy_j").get<double>(), packets * 8 * 0.12e-12);  // the defaults: 0.12 pJ per bit
    EXPECT_DOUBLE_EQ(verify->at("energy_j").get<double>(), arrivals * 8 * 0.12e-12);
    EXPECT_EQ(term(none, "check_compute"), nullptr);
    EXPECT_EQ(term(none, "check_verify"), nullptr);
    std::filesystem::remove_all(dir);
    for (const std::string& p : {sim_json, rep_json, none_json}) std::remove(p.c_str());
}

// `report` with faults that lose events: its accuracy is the faulty chip's. Over the same images it is exactly what
// `simulate` classifies (the chip's run, checked against the chip's own losses), step by step, and what it lost
// is what the chip lost, cause by cause; the fault-free top-1 stays beside it, and fewer SOPs are priced.
TEST(FaultCli, ReportAccuracyIsTheFaultyChips) {
    const std::string faults = " --set chip.faults.flit_error_rate=3e-3 --set chip.faults.check=parity --set 'chip.faults.stuck_cores=[5]'";
    // Both map with the rates of the same 3 images (mapping.traffic_images: simulate measures them apart).
    const std::string common = kResnet8 + " --steps 4 --images 3 --set mapping.traffic_images=3 -q";
    const std::string sim_json = temp_path("acc_sim.json"), rep_json = temp_path("acc_rep.json");
    const std::string clean_json = temp_path("acc_clean.json");
    const std::string report = "report " + common + " --set report.paper_table=false --json ";
    const CliRun sim = run("simulate " + common + faults + " --json " + sim_json);
    ASSERT_EQ(sim.status, 0) << sim.output;
    const CliRun rep = run(report + rep_json + " --hw-images 1 --set simulation.threads=3" + faults);
    ASSERT_EQ(rep.status, 0) << rep.output;
    // One loss state per worker: one thread gives the same document but for the setting.
    const std::string one_json = temp_path("acc_one.json");
    const CliRun one = run(report + one_json + " --hw-images 1 --set simulation.threads=1" + faults);
    ASSERT_EQ(one.status, 0) << one.output;
    EXPECT_THAT(rep.output, HasSubstr("with chip.faults (the fault-aware engine); without them"));
    const CliRun clean = run(report + clean_json + " --hw-images 0");
    ASSERT_EQ(clean.status, 0) << clean.output;
    const nlohmann::json s = read_json(sim_json), r = read_json(rep_json), c = read_json(clean_json);

    EXPECT_EQ(r.at("accuracy").at("snn_curve"), s.at("accuracy_curve"));
    EXPECT_EQ(r.at("headline").at("accuracy_snn"), s.at("top1"));
    const nlohmann::json& lost = r.at("accuracy").at("chip_faults").at("lost");
    const nlohmann::json& chip = s.at("faults");
    EXPECT_GT(chip.at("detected_dropped").get<int64_t>(), 0);
    EXPECT_GT(chip.at("stuck_core_events").get<int64_t>(), 0);
    for (const char* key : {"detected_dropped", "corrupt_undetected", "stuck_core_events", "undeliverable"})
        EXPECT_EQ(lost.at(key), chip.at(key)) << key;

    EXPECT_EQ(r.at("headline").at("accuracy_snn_fault_free"), c.at("headline").at("accuracy_snn"));
    EXPECT_EQ(r.at("accuracy").at("chip_faults").at("fault_free_curve"), c.at("accuracy").at("snn_curve"));
    EXPECT_TRUE(c.at("headline").at("accuracy_snn_fault_free").is_null());
    EXPECT_TRUE(c.at("accuracy").at("chip_faults").is_null());
    const auto sop_count = [](const nlohmann::json& j) {
        for (const auto& t : j.at("energy").at("snn").at("terms"))
            if (t.at("key") == "sop") return t.at("count").get<double>();
        return -1.0;
    };
    EXPECT_GT(sop_count(r), 0);
    EXPECT_LT(sop_count(r), sop_count(c));
    nlohmann::json r1 = read_json(one_json), r3 = r;
    r1.erase("settings"), r3.erase("settings");
    EXPECT_EQ(r1, r3);
    for (const std::string& p : {sim_json, rep_json, clean_json, one_json}) std::remove(p.c_str());
}

// `evaluate` runs the network without a chip: with faults set it says its accuracy is not the faulty chip's.
TEST(FaultCli, EvaluateSaysItsAccuracyIsFaultFree) {
    const CliRun r = run("evaluate " + kResnet8 + " --images 1 --steps 2 --set chip.faults.flit_error_rate=1e-3");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("chip.faults is set but evaluate runs the network without a chip"));
    const CliRun clean = run("evaluate " + kResnet8 + " --images 1 --steps 2");
    ASSERT_EQ(clean.status, 0) << clean.output;
    EXPECT_THAT(clean.output, ::testing::Not(HasSubstr("chip.faults")));
}

TEST(FaultCli, AStuckCoreTheMappingLacksIsRefused) {
    const CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 2 --set 'chip.faults.stuck_cores=[1000000]'");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("chip.faults.stuck_cores"));
    EXPECT_THAT(r.output, HasSubstr("1000000"));
}

}  // namespace
