// `simulate` and `report` under mpirun with hardware.distribute: ticks (docs/cli.md, "simulate and report under
// mpirun"): the ranks share the run's ticks, rank 0 merges them. The reference is one process's run of the same
// command: the JSON equal but for timing, the VCD file byte-identical but for its $date, the AER file
// byte-identical. Small runs of the shipped ResNet-20 (configs/default.yaml) whose tick blocks split images.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

using cli_test::file_bytes;
using cli_test::read_json;
using cli_test::run;
using cli_test::run_mpi;
using nlohmann::json;

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";

std::string tmp(const std::string& name) { return cli_test::build_file("time_parallel_test", name); }

// The converted model, once per test (every rank would otherwise convert it).
std::string converted(const std::string& name) { return cli_test::converted_model(kConfig, tmp(name + ".snn")); }

// The outputs of one run without what depends on the machine or the file names: wall and CPU time and what is
// derived from them, the paths of the traces.
json without_timing(json doc) {
    for (const char* key : {"seconds", "cpu_seconds", "packet_hops_per_s"}) doc.erase(key);
    for (const char* key : {"vcd", "aer_out"})
        if (doc.contains(key) && doc[key].is_object()) doc[key].erase("file");
    return doc;
}

// The VCD file without its $date block (the time the file was written).
std::string without_date(const std::string& vcd) {
    const size_t b = vcd.find("$date"), e = vcd.find("$end", b);
    EXPECT_NE(b, std::string::npos);
    EXPECT_NE(e, std::string::npos);
    return b == std::string::npos || e == std::string::npos ? vcd : vcd.substr(0, b) + vcd.substr(e);
}

struct Outputs {
    json doc;
    std::string vcd, aer;
};

// `simulate ... --json --trace [--aer-out]` in one process (ranks = 0) or under mpirun.
Outputs simulate(int ranks, const std::string& snn, const std::string& extra, const std::string& name, bool aer) {
    const std::string base = tmp(name + "_np" + std::to_string(ranks));
    const std::string args = "simulate " + kConfig + " --snn " + snn + " -q --json " + base + ".json --trace " + base +
                             ".vcd" + (aer ? " --aer-out " + base + ".aer" : "") + " " + extra;
    const auto r = ranks == 0 ? run(args) : run_mpi(ranks, args);
    EXPECT_EQ(r.status, 0) << r.output;
    Outputs out{read_json(base + ".json"), file_bytes(base + ".vcd"), aer ? file_bytes(base + ".aer") : ""};
    // No rank's part is left next to the trace.
    for (int k = 0; k < std::max(ranks, 1); ++k)
        EXPECT_FALSE(std::filesystem::exists(base + ".vcd.rank" + std::to_string(k) + ".part.vcd"));
    return out;
}

void expect_same(const Outputs& one, const Outputs& many, int ranks) {
    EXPECT_EQ(without_timing(many.doc), without_timing(one.doc)) << ranks << " ranks";
    EXPECT_TRUE(without_date(many.vcd) == without_date(one.vcd)) << ranks << " ranks: the VCD files differ";
    EXPECT_TRUE(many.aer == one.aer) << ranks << " ranks: the AER files differ";
}

// 2 images x 9 ticks: 2 ranks split at tick 9, 3 ranks at 6 and 12 (inside the images); the VCD window covers
// the whole run, so every rank's part is in it.
TEST(TimeParallel, SimulateMatchesOneProcess) {
    const std::string snn = converted("exact");
    const std::string extra = "--steps 9 --images 2 --trace-window 0:";
    const Outputs one = simulate(0, snn, extra, "exact", true);
    EXPECT_GT(one.doc.at("counters").at("packets").get<int64_t>(), 0);
    EXPECT_GT(one.aer.size(), 100u);
    for (int ranks : {2, 3}) expect_same(one, simulate(ranks, snn, extra, "exact", true), ranks);
}

// Tick sampling: 5 of 12 ticks of each of 3 images (15 simulated ticks), the default VCD window (the first image's
// ticks); the estimates and their intervals come from the merged per-tick counters.
TEST(TimeParallel, SampledSimulateMatchesOneProcess) {
    const std::string snn = converted("sampled");
    const std::string extra = "--steps 12 --images 3 --sample-ticks 5";
    const Outputs one = simulate(0, snn, extra, "sampled", false);
    EXPECT_FALSE(one.doc.at("sampling").at("exact").get<bool>());
    for (int ranks : {2, 3}) expect_same(one, simulate(ranks, snn, extra, "sampled", false), ranks);
}

json report(int ranks, const std::string& snn, const std::string& name) {
    const std::string out = tmp(name + "_np" + std::to_string(ranks) + ".json");
    const std::string args = "report " + kConfig + " --snn " + snn +
                             " --steps 10 --images 3 --hw-images 3 --sample-ticks 5 --set report.paper_table=false"
                             " -q --json " + out;
    const auto r = ranks == 0 ? run(args) : run_mpi(ranks, args);
    EXPECT_EQ(r.status, 0) << r.output;
    return read_json(out);
}

TEST(TimeParallel, ReportMatchesOneProcess) {
    const std::string snn = converted("report");
    const json one = report(0, snn, "report");
    ASSERT_TRUE(one.at("ticks").is_object());
    for (int ranks : {2, 3}) EXPECT_EQ(report(ranks, snn, "report"), one) << ranks << " ranks";
}

}  // namespace
}  // namespace neuroemu
