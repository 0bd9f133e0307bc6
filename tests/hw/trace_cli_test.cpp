// `neuroemu simulate --aer-out / --aer-in / --trace` end to end. A replay must run on a fresh chip, hence in its own
// process: these tests run the executable (each run elaborates one chip).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/cli_run.h"

namespace {

using ::testing::HasSubstr;
using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::file_bytes;
using neuroemu::cli_test::read_json;
using neuroemu::cli_test::run;

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("neuroemu_" + std::to_string(getpid()) + "_" + name)).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

const std::string kSrc = NEUROEMU_SOURCE_DIR;
const std::string kResnet8 = kSrc + "/configs/fmnist/resnet8.yaml";

// The replay carried the same packets with the same timing, tick by tick.
void expect_same_run(const nlohmann::json& a, const nlohmann::json& b) {
    EXPECT_EQ(a["images"], b["images"]);
    EXPECT_EQ(a["steps"], b["steps"]);
    EXPECT_EQ(a["cycles"]["per_tick"], b["cycles"]["per_tick"]);
    EXPECT_EQ(a["cycles"]["total"], b["cycles"]["total"]);
    for (const char* k : {"packets", "deliveries", "hops", "flit_hops", "sops", "partial_sum_and_gate_sops",
                          "events_generated", "stall_cycles", "buffer_writes_flits"})
        EXPECT_EQ(a["counters"][k], b["counters"][k]) << k;
    EXPECT_EQ(a["per_link_flits"], b["per_link_flits"]);
    EXPECT_EQ(a["per_core_sops"], b["per_core_sops"]);
}

void record_and_replay(const std::string& name, const std::string& args) {
    const std::string aer = temp_path(name), aer2 = temp_path("re_" + name);
    const std::string ja = temp_path(name + "_rec.json"), jb = temp_path(name + "_replay.json");
    const CliRun rec = run("simulate " + kResnet8 + " " + args + " --aer-out " + aer + " --json " + ja);
    ASSERT_EQ(rec.status, 0) << rec.output;
    EXPECT_THAT(rec.output, HasSubstr("AER trace " + aer + ": "));
    const CliRun rep = run("simulate " + kResnet8 + " " + args + " --aer-in " + aer + " --aer-out " + aer2 + " --json " + jb);
    ASSERT_EQ(rep.status, 0) << rep.output;
    EXPECT_THAT(rep.output, HasSubstr("classification: not available"));
    EXPECT_THAT(rep.output, ::testing::Not(HasSubstr("note:")));
    const auto a = read_json(ja), b = read_json(jb);
    expect_same_run(a, b);
    EXPECT_TRUE(b["top1"].is_null());
    EXPECT_EQ(b["replay"]["packets_recorded"], a["counters"]["packets"]);
    EXPECT_EQ(b["replay"]["images"], a["images"]);
    // Recording the replay gives the same file, byte for byte.
    EXPECT_TRUE(file_bytes(aer) == file_bytes(aer2)) << aer << " and " << aer2 << " differ";
    for (const auto& f : {aer, aer2, ja, jb}) std::remove(f.c_str());
}

TEST(TraceCli, ReplayReproducesTheRecordedRun) { record_and_replay("tree.aer", "--images 2 --steps 4"); }

TEST(TraceCli, ReplayReproducesAUnicastPoissonRun) {
    record_and_replay("unicast.aer.gz",
                      "--images 1 --steps 4 --set chip.noc.multicast=source --set simulation.encoding=poisson");
}

// The samples in traces/ (made by the commands in traces/README.md) still read and replay as recorded.
TEST(TraceCli, ShippedSamplesReplay) {
    struct Sample {
        std::string file, sets;
    };
    for (const Sample& s : {Sample{"resnet8_fmnist_1img_2steps.aer", ""},
                            Sample{"resnet8_fmnist_1img_2steps_unicast.aer.gz", "--set chip.noc.multicast=source"}}) {
        const std::string json = temp_path("sample.json");
        const CliRun r = run("simulate " + kResnet8 + " " + s.sets + " --aer-in " + kSrc + "/traces/" + s.file + " --json " + json);
        ASSERT_EQ(r.status, 0) << r.output << "\nIf the mapping or model changed, regenerate the samples (traces/README.md).";
        EXPECT_THAT(r.output, ::testing::Not(HasSubstr("note:"))) << s.file;
        const auto j = read_json(json);
        EXPECT_EQ(j["counters"]["packets"], j["replay"]["packets_recorded"]) << s.file;
        EXPECT_EQ(j["images"], 1);
        EXPECT_EQ(j["steps"], 2);
        std::remove(json.c_str());
    }
    // A unicast recording replays on multicast trees: one packet per event, and a note says why they differ.
    const std::string json = temp_path("sample_tree.json");
    const CliRun r = run("simulate " + kResnet8 + " --aer-in " + kSrc + "/traces/resnet8_fmnist_1img_2steps_unicast.aer.gz --json " + json);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("note: recorded with unicast packets, replayed with multicast trees"));
    const auto j = read_json(json);
    EXPECT_EQ(j["counters"]["packets"], j["counters"]["events_generated"]);
    EXPECT_LT(j["counters"]["packets"].get<int64_t>(), j["replay"]["packets_recorded"].get<int64_t>());
    std::remove(json.c_str());
}

TEST(TraceCli, BadTracesAreDataErrors) {
    const std::string bad = temp_path("garbage.aer");
    write_bytes(bad, "this is not a trace at all");
    CliRun r = run("simulate " + kResnet8 + " --aer-in " + bad);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("error: AER trace " + bad + ": not a neuroemu AER trace"));

    const std::string sample = kSrc + "/traces/resnet8_fmnist_1img_2steps.aer";
    const std::string bytes = file_bytes(sample);
    const std::string cut = temp_path("cut.aer");
    write_bytes(cut, bytes.substr(0, bytes.size() / 2));
    r = run("simulate " + kResnet8 + " --aer-in " + cut);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("AER trace " + cut + ": "));
    EXPECT_THAT(r.output, HasSubstr("truncated"));
    EXPECT_THAT(r.output, HasSubstr("record"));

    r = run("simulate " + kResnet8 + " --set chip.core.neurons=128 --aer-in " + sample);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr(sample));

    r = run("simulate " + kResnet8 + " --steps 3 --aer-in " + sample);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("was recorded with 2 steps per image"));
    r = run("simulate " + kResnet8 + " --images 2 --aer-in " + sample);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("holds 1 images"));
    r = run("simulate " + kResnet8 + " --aer-in /nonexistent/x.aer");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("/nonexistent/x.aer"));
    std::remove(bad.c_str());
    std::remove(cut.c_str());
}

TEST(TraceCli, TraceScopeOptionsAreChecked) {
    CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 1 --trace-cores 0-3");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("give --trace too"));
    const std::string vcd = temp_path("scope.vcd");
    r = run("simulate " + kResnet8 + " --images 1 --steps 1 --trace " + vcd + " --trace-cores 0-9999");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("--trace-cores '0-9999': 9999 does not exist"));
    r = run("simulate " + kResnet8 + " --images 1 --steps 1 --trace " + vcd + " --trace-window 3:1");
    EXPECT_EQ(r.status, 2) << r.output;
    r = run("simulate " + kResnet8 + " --images 1 --steps 1 --trace /nonexistent/dir/x.vcd");
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("cannot write the VCD trace /nonexistent/dir/x.vcd"));
    std::remove(vcd.c_str());
}

// One core, one router (the corner: links east and north), ticks 1-2; the file name needs no .vcd suffix.
TEST(TraceCli, VcdScopeFromTheCommandLine) {
    const std::string vcd = temp_path("scope_trace");
    const CliRun r = run("simulate " + kResnet8 + " --images 1 --steps 3 --trace " + vcd +
                         " --trace-cores 3 --trace-routers 0 --trace-window 1:3");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("VCD trace " + vcd + ": 1 cores, 1 routers, ticks 1-2"));
    const std::string text = file_bytes(vcd);
    size_t vars = 0;
    for (size_t p = text.find("$var"); p != std::string::npos; p = text.find("$var", p + 1)) ++vars;
    EXPECT_EQ(vars, 7u);  // tick, 3 for the core, the router's buffer and its 2 links
    for (const char* name : {" tick ", " packets_sent ", " sops ", " queue_flits ", " buffer_flits ", " link_E_busy ",
                             " link_N_busy "})
        EXPECT_THAT(text, HasSubstr(name));
    std::remove(vcd.c_str());
}

}  // namespace
