// Issue 20, items 2 and 5 through the executable: outputs under a file-size limit (a full disk) or into an
// unwritable place fail naming the file and leave nothing under the final name; a mesh too large for the memory
// budget is refused before anything is allocated, with the estimate and the limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;
using neuroemu::cli_test::capture;
using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::run;
using ::testing::HasSubstr;

const std::string kSrc = NEUROEMU_SOURCE_DIR;

// A clean folder of its own for each test's outputs.
fs::path folder(const std::string& name) {
    const fs::path d = fs::temp_directory_path() / ("neuroemu_limits_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

// `neuroemu ARGS` with files limited to 4 blocks (2 or 4 KiB by the shell's unit) and SIGXFSZ ignored, so that a
// write beyond it fails with EFBIG, as on a full disk, instead of killing the process.
CliRun run_with_file_limit(const std::string& args) {
    return capture(std::string("sh -c \"trap '' XFSZ; ulimit -f 4; exec ") + NEUROEMU_EXE + " " + args + "\"");
}

TEST(OutputLimits, FullDiskNamesTheFileAndLeavesNoPartialMapOrJson) {
    const fs::path d = folder("efbig");
    const std::string map = (d / "r34.map").string(), json = (d / "r34.json").string();
    const std::string cfg = kSrc + "/configs/resnet34.yaml --set mapping.traffic=estimate -q";
    CliRun r = run_with_file_limit("map " + cfg + " -o " + map);
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write " + map + ": File too large"));
    r = run_with_file_limit("map " + cfg + " -o '' --json " + json);
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write " + json + ": File too large"));
    EXPECT_TRUE(fs::is_empty(d)) << "a partial or temporary file stayed behind";
    fs::remove_all(d);
}

// Files in `d` whose names hold ".tmp": temporaries a failed write left behind.
std::vector<std::string> temporaries(const fs::path& d) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(d))
        if (e.path().filename().string().find(".tmp") != std::string::npos) out.push_back(e.path().string());
    return out;
}

TEST(OutputLimits, FullDiskNamesTheSnnFileAndLeavesNothing) {
    const fs::path d = folder("efbig_snn");
    const std::string snn = (d / "m.snn").string();  // about 1.1 MB
    const CliRun r = run_with_file_limit("convert " + kSrc + "/configs/default.yaml -q -o " + snn);
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write " + snn + ": File too large"));
    EXPECT_TRUE(fs::is_empty(d)) << "a partial or temporary file stayed behind";
    fs::remove_all(d);
}

TEST(OutputLimits, FullDiskNamesTheReportFileAndLeavesNoPartialOne) {
    // The report's small CSV files fit the limit and are written whole; the first file over it fails, named, and
    // neither it nor a temporary is left; the HTML page (hundreds of kB) never appears.
    const fs::path d = folder("efbig_report");
    const std::string out = (d / "report").string();
    const CliRun r = run_with_file_limit("report " + kSrc + "/configs/default.yaml -q -o " + out +
                                         " --images 4 --steps 5 --hw-images 0");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write " + out + "/"));
    EXPECT_THAT(r.output, HasSubstr(": File too large"));
    if (fs::exists(out)) {
        EXPECT_TRUE(temporaries(out).empty());
        EXPECT_FALSE(fs::exists(fs::path(out) / "report.html"));
        for (const auto& e : fs::directory_iterator(out)) EXPECT_LE(fs::file_size(e.path()), 4096u) << e.path();
    }
    fs::remove_all(d);
}

// SystemC ignores its write errors: the trace cut short by the limit must still fail, named, and leave nothing.
TEST(OutputLimits, FullDiskNamesTheVcdTraceAndLeavesNothing) {
    const fs::path d = folder("efbig_vcd");
    const std::string vcd = (d / "t.vcd").string();
    const CliRun r = run_with_file_limit("simulate " + kSrc + "/configs/fmnist/resnet8.yaml -q --images 1 --steps 4 "
                                         "--trace " + vcd);
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write the VCD trace " + vcd + ": it was cut short"));
    EXPECT_TRUE(fs::is_empty(d)) << "a partial or temporary file stayed behind";
    fs::remove_all(d);
}

TEST(OutputLimits, UnwritablePlaceNamesTheFile) {
    // A regular file where a folder should be: refused for every user, root included (unlike permissions).
    const fs::path d = folder("notdir");
    std::ofstream(d / "file") << "x";
    const std::string map = (d / "file" / "r34.map").string(), json = (d / "file" / "r34.json").string();
    const CliRun r = run("map " + kSrc + "/configs/resnet34.yaml --set mapping.traffic=estimate -q -o " + map);
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("cannot write " + map + ": Not a directory"));
    const CliRun j = run("info " + kSrc + "/configs/resnet34.yaml -q --json " + json);
    EXPECT_NE(j.status, 0);
    EXPECT_THAT(j.output, HasSubstr("cannot write " + json + ": Not a directory"));
    fs::remove_all(d);
}

TEST(ResourceLimits, HugeMeshIsRefusedWithEstimateAndLimit) {
    // The largest chip the YAML ranges accept: 32768 x 32768 routers x 40 bytes of routing state = 42949672960
    // bytes, against a budget of 10^9 bytes set through the environment.
    const CliRun r = capture("NEUROEMU_MEMORY_LIMIT_BYTES=1000000000 " + std::string(NEUROEMU_EXE) + " map " + kSrc +
                             "/configs/resnet34.yaml --set mapping.traffic=estimate -q -o '' --set chip.noc.width=32768 "
                             "--set chip.noc.height=32768");
    EXPECT_NE(r.status, 0);
    EXPECT_THAT(r.output, HasSubstr("a 32768 x 32768 mesh (1073741824 routers, 40 bytes of routing state each) needs "
                                    "an estimated 42949672960 bytes"));
    EXPECT_THAT(r.output, HasSubstr("memory limit of 1000000000 bytes"));
    EXPECT_THAT(r.output, HasSubstr("NEUROEMU_MEMORY_LIMIT_BYTES"));
}

}  // namespace
