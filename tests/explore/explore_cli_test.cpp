// `neuroemu explore` end to end on the shipped ResNet-8: points that do not fit are recorded with their reason,
// a sweep killed midway resumes without recomputing what it cached, and the shipped sweep files are valid.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/cli_run.h"

namespace {

namespace fs = std::filesystem;
using neuroemu::cli_test::CliRun;
using neuroemu::cli_test::file_bytes;
using neuroemu::cli_test::read_json;
using neuroemu::cli_test::run;
using ::testing::HasSubstr;

const std::string kSrc = NEUROEMU_SOURCE_DIR;

fs::path temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::temp_directory_path() / ("neuroemu_explore_cli_" + std::string(info->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

// 8 points on the ResNet-8 (257 cores): a 4 x 16 mesh of one chip holds 64 cores, so half of them do not fit.
void write_sweep(const fs::path& file) {
    std::ofstream(file) << "experiment: " << kSrc << "/configs/fmnist/resnet8.yaml\n"
                        << "set: {dataset.images: 10, simulation.steps: 4, conversion.calibration_images: 20,\n"
                           "      mapping.traffic_images: 1, chip.noc.chips: 1, chip.noc.height: 16}\n"
                           "mode: hardware\nhw_images: 1\n"
                           "grid:\n  chip.noc.width: [4, 17]\n  chip.noc.multicast: [tree, source]\n"
                           "  chip.noc.buffer_depth: [4, 8]\n";
}

size_t cached_results(const fs::path& cache) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(cache, ec)) n += e.path().extension() == ".json";
    return n;
}

struct FileState {
    std::string bytes;
    fs::file_time_type mtime;
    bool operator==(const FileState& o) const { return bytes == o.bytes && mtime == o.mtime; }
};

std::map<std::string, FileState> snapshot(const fs::path& cache) {
    std::map<std::string, FileState> out;
    for (const auto& e : fs::directory_iterator(cache))
        if (e.path().extension() == ".json")
            out[e.path().filename().string()] = {file_bytes(e.path().string()), fs::last_write_time(e.path())};
    return out;
}

TEST(ExploreCli, RecordsPointsThatDoNotFitAndResumesAKilledSweepWithoutRecomputing) {
    const fs::path dir = temp_dir();
    write_sweep(dir / "sweep.yaml");

    // An uninterrupted run: the reference.
    const std::string a = (dir / "a").string();
    CliRun r = run("explore " + (dir / "sweep.yaml").string() + " -o " + a + " --jobs 2 -q --json " + a + ".json");
    ASSERT_EQ(r.status, 0) << r.output;
    auto ja = read_json(a + ".json");
    EXPECT_EQ(ja["summary"]["points"], 8);
    EXPECT_EQ(ja["summary"]["computed"], 8);
    EXPECT_EQ(ja["summary"]["cached"], 0);
    EXPECT_EQ(ja["summary"]["does_not_fit"], 4);
    EXPECT_EQ(ja["summary"]["ok"], 4);
    EXPECT_EQ(ja["summary"]["conversions"], 1);
    const auto points = read_json(a + "/points.json")["points"];
    ASSERT_EQ(points.size(), 8u);
    for (const auto& p : points) {
        if (p["values"]["chip.noc.width"] == 4) {
            EXPECT_EQ(p["status"], "does-not-fit");
            EXPECT_THAT(p["reason"].get<std::string>(), HasSubstr("chip.noc.width")) << p.dump();
        } else {
            EXPECT_EQ(p["status"], "ok") << p.dump();
            EXPECT_EQ(p["cores"], 257);
            EXPECT_GT(p["latency_s"].get<double>(), 0);
            EXPECT_GT(p["energy_j"].get<double>(), 0);
        }
    }
    EXPECT_THAT(file_bytes(a + "/pareto.csv"), HasSubstr(",17,"));
    EXPECT_THAT(file_bytes(a + "/explore.html"), HasSubstr("<svg"));

    // The same sweep, killed (SIGKILL, no chance to clean up) once its first result is cached.
    const std::string b = (dir / "b").string();
    const fs::path cache = fs::path(b) / "cache";
    const pid_t pid = fork();
    if (pid == 0) {
        const int null_fd = open("/dev/null", O_WRONLY);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        const std::string sweep = (dir / "sweep.yaml").string();
        execl(NEUROEMU_EXE, NEUROEMU_EXE, "explore", sweep.c_str(), "-o", b.c_str(), "--jobs", "1",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (cached_results(cache) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
    // Its running child dies with it; on a loaded machine that can take a while, so wait until the cache has not
    // changed for half a second (at most 20 s).
    auto before = snapshot(cache);
    for (int quiet = 0, waited = 0; quiet < 5 && waited < 200; ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        const auto now = snapshot(cache);
        quiet = now == before ? quiet + 1 : 0;
        before = now;
    }
    ASSERT_GE(before.size(), 1u);
    ASSERT_LT(before.size(), 8u);

    r = run("explore " + (dir / "sweep.yaml").string() + " -o " + b + " --jobs 2 -q --json " + b + ".json");
    ASSERT_EQ(r.status, 0) << r.output;
    const auto jb = read_json(b + ".json");
    EXPECT_EQ(jb["summary"]["cached"], before.size());
    EXPECT_EQ(jb["summary"]["computed"], 8 - before.size());
    EXPECT_EQ(jb["summary"]["conversions"], 0);  // the killed run had converted the model
    const auto after = snapshot(cache);
    EXPECT_EQ(after.size(), 8u);
    for (const auto& [name, state] : before) {
        ASSERT_TRUE(after.count(name)) << name;
        EXPECT_TRUE(after.at(name) == state) << name << " was recomputed";
    }
    EXPECT_TRUE(fs::is_empty(cache / "tmp"));
    EXPECT_EQ(file_bytes(b + "/points.csv"), file_bytes(a + "/points.csv"));
    EXPECT_EQ(file_bytes(b + "/pareto.csv"), file_bytes(a + "/pareto.csv"));
}

TEST(ExploreCli, ABadSweepFileIsAConfigurationErrorNamingFileLineAndKey) {
    const fs::path dir = temp_dir();
    std::ofstream(dir / "bad.yaml") << "experiment: " << kSrc << "/configs/default.yaml\n"
                                    << "grid:\n  chip.core.neuron: [128, 256]\n";
    CliRun r = run("explore " + (dir / "bad.yaml").string());
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, HasSubstr("bad.yaml:3:3: grid.chip.core.neuron: unknown key 'chip.core.neuron' (did you "
                                    "mean 'chip.core.neurons'?)"));
    std::ofstream(dir / "bad.yaml") << "grid:\n  chip.noc.buffer_depth: [4, 0]\n";
    r = run("explore " + (dir / "bad.yaml").string());
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, HasSubstr("bad.yaml:2:30: grid.chip.noc.buffer_depth"));
    EXPECT_FALSE(fs::exists(dir / "bad.out"));  // nothing ran
}

// A sweep over the flit error rate: each point's accuracy is what `report` gives for the same settings, the faulty
// chip's (the fault-aware engine) and at rate 0 the fault-free network's.
TEST(ExploreCli, AFaultRateSweepReportsTheFaultyChipsAccuracy) {
    const fs::path dir = temp_dir();
    const std::string set = "dataset.images: 4, simulation.steps: 4, conversion.calibration_images: 20, "
                            "mapping.traffic_images: 1, chip.faults.check: parity";
    std::ofstream(dir / "faults.yaml") << "experiment: " << kSrc << "/configs/fmnist/resnet8.yaml\n"
                                       << "set: {" << set << "}\nmode: functional\n"
                                       << "grid:\n  chip.faults.flit_error_rate: [0, 0.01]\n";
    const std::string out = (dir / "out").string();
    CliRun r = run("explore " + (dir / "faults.yaml").string() + " -o " + out + " -q");
    ASSERT_EQ(r.status, 0) << r.output;
    const auto points = read_json(out + "/points.json")["points"];
    ASSERT_EQ(points.size(), 2u);
    const std::string report_json = (dir / "report.json").string();
    r = run("report " + kSrc + "/configs/fmnist/resnet8.yaml --images 4 --steps 4 --hw-images 0 -q"
            " --set conversion.calibration_images=20 --set mapping.traffic_images=1 --set chip.faults.check=parity"
            " --set chip.faults.flit_error_rate=0.01 --set report.paper_table=false --json " + report_json);
    ASSERT_EQ(r.status, 0) << r.output;
    const auto report = read_json(report_json);
    double energy_j[2] = {0, 0};  // rate 0, rate 0.01
    for (const auto& p : points) {
        ASSERT_EQ(p["status"], "ok") << p.dump();
        const bool faulty = p["values"]["chip.faults.flit_error_rate"].get<double>() > 0;
        EXPECT_EQ(p["accuracy"], report["headline"][faulty ? "accuracy_snn" : "accuracy_snn_fault_free"]) << p.dump();
        energy_j[faulty] = p["energy_j"].get<double>();
    }
    // The lost deliveries are synaptic operations the faulty chip does not perform (in functional mode the flips
    // change nothing else that is priced).
    EXPECT_DOUBLE_EQ(energy_j[1], report["headline"]["energy_snn_j"].get<double>());
    EXPECT_LT(energy_j[1], energy_j[0]);
}

TEST(ExploreCli, ShippedSweepsAreValidAndTheHardwareSweepHasFiftyPoints) {
    CliRun r = run("explore " + kSrc + "/configs/sweeps/hardware.yaml --dry-run -o " + (temp_dir() / "hw").string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("explore (dry run): 52 points, 52 distinct"));
    r = run("explore " + kSrc + "/configs/sweeps/conversion.yaml --dry-run -o " + (temp_dir() / "conv").string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("explore (dry run):"));
    for (const char* name : {"faults", "faults_accuracy"}) {
        r = run("explore " + kSrc + "/configs/sweeps/" + name + ".yaml --dry-run -o " + (temp_dir() / name).string());
        ASSERT_EQ(r.status, 0) << name << ": " << r.output;
        EXPECT_THAT(r.output, HasSubstr(name == std::string("faults") ? "10 points" : "12 points")) << r.output;
    }
}

}  // namespace
