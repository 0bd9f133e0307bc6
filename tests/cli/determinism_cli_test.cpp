// Same seed -> the same bytes (issue 20, item 4): every output of `convert` (.snn), `map` (.map), `simulate` (VCD,
// AER, JSON), `report` (HTML, Markdown, JSON, CSV) and `evaluate` (JSON) is compared byte for byte between a
// reference run (one thread, one process, the widest instruction set) and a repeated run, two threads, the generic
// kernels (NEUROEMU_ISA=generic) and two MPI ranks. What may differ is only what measures the run rather than the
// model: wall and CPU time, the speeds derived from them, and the thread setting itself (removed before comparing).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

namespace fs = std::filesystem;
using cli_test::capture;
using cli_test::CliRun;
using cli_test::file_bytes;
using nlohmann::json;

const std::string kSrc = NEUROEMU_SOURCE_DIR;
const std::string kConfig = kSrc + "/configs/default.yaml";
const std::string kModel = " -q --set conversion.calibration_images=20";  // convert, map
const std::string kQuick = kModel + " --images 2 --steps 4";

// One way of running the executable: a folder of its own, a command prefix, the thread count.
struct Variant {
    std::string name, prefix;
    int threads;
};
const Variant kReference{"reference", "", 1};
const std::vector<Variant> kVariants = {
    {"repeated", "", 1},
    {"two_threads", "", 2},
    {"generic_isa", "NEUROEMU_ISA=generic ", 1},
    {"two_ranks", "mpirun --allow-run-as-root --oversubscribe -np 2 ", 1},
};

fs::path root() { return fs::path(NEUROEMU_BINARY_DIR) / "determinism_cli_test"; }

// Runs `neuroemu ARGS` as `v` in its folder; the model files are shared (made by the reference).
bool run(const Variant& v, const std::string& args) {
    const fs::path dir = root() / v.name;
    fs::create_directories(dir);
    const CliRun r = capture("cd '" + dir.string() + "' && " + v.prefix + NEUROEMU_EXE + " " + args +
                             " --set simulation.threads=" + std::to_string(v.threads));
    EXPECT_EQ(r.status, 0) << v.name << ": " << args << "\n" << r.output;
    return r.status == 0;
}

// The JSON without the measurements of this run (time, speed) and the thread setting.
json without_timing(json j) {
    static const std::set<std::string> kTiming = {"seconds", "cpu_seconds", "packet_hops_per_s", "image_steps_per_s",
                                                  "images_per_s", "threads", "workers"};
    if (j.is_object()) {
        json out = json::object();
        for (auto& [k, v] : j.items())
            if (!kTiming.count(k) && k != "simulation.threads") out[k] = without_timing(v);
        return out;
    }
    if (j.is_array())
        for (auto& e : j) e = without_timing(e);
    return j;
}

// A text output without its line naming the thread setting (the report's settings table).
std::string without_thread_setting(const std::string& text) {
    std::string out;
    size_t at = 0;
    while (at < text.size()) {
        size_t end = text.find('\n', at);
        end = end == std::string::npos ? text.size() : end + 1;
        const std::string line = text.substr(at, end - at);
        if (line.find("simulation.threads") == std::string::npos) out += line;
        at = end;
    }
    return out;
}

void expect_same_file(const Variant& v, const std::string& name) {
    const std::string a = file_bytes((root() / kReference.name / name).string());
    const std::string b = file_bytes((root() / v.name / name).string());
    ASSERT_FALSE(a.empty()) << name;
    const bool is_json = name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0;
    if (is_json)
        EXPECT_EQ(without_timing(json::parse(a)), without_timing(json::parse(b))) << v.name << ": " << name;
    else
        EXPECT_TRUE(without_thread_setting(a) == without_thread_setting(b)) << v.name << ": " << name << " differs";
}

// The report (the slowest command) is left to the variants that can change it: not the plain repeat, and
// `report` is a single-process command.
bool has_report(const Variant& v) { return &v != &kVariants[0] && &v != &kVariants[3]; }

TEST(Determinism, EveryOutputIsTheSameBytesAcrossRunsThreadsInstructionSetsAndRanks) {
    fs::remove_all(root());
    const std::string snn = (root() / kReference.name / "model.snn").string();
    const std::string map = (root() / kReference.name / "model.map").string();
    for (const Variant* v : {&kReference, &kVariants[0], &kVariants[1], &kVariants[2], &kVariants[3]}) {
        // The model files of every variant are compared; the later steps all read the reference's.
        const bool mpi = v == &kVariants[3];
        if (!mpi) {  // convert and map are single-process commands
            ASSERT_TRUE(run(*v, "convert " + kConfig + kModel + " -o model.snn"));
            ASSERT_TRUE(run(*v, "map " + kConfig + kModel + " --snn " + snn + " -o model.map"));
        }
        ASSERT_TRUE(run(*v, "simulate " + kConfig + kQuick + " --snn " + snn + " --map " + map +
                    " --trace trace.vcd --aer-out trace.aer --json simulate.json --set simulation.encoding=poisson"));
        ASSERT_TRUE(run(*v, "evaluate " + kConfig + kQuick + " --snn " + snn + " --json evaluate.json --set simulation.encoding=poisson"));
        if (has_report(*v)) {
            ASSERT_TRUE(run(*v, "report " + kConfig + " -q --images 1 --steps 4 --hw-images 1 --snn " + snn + " -o report"));
        }
    }
    for (const Variant& v : kVariants) {
        const bool mpi = &v == &kVariants[3];
        std::vector<std::string> files = {"trace.vcd", "trace.aer", "simulate.json", "evaluate.json"};
        if (!mpi)
            for (const char* f : {"model.snn", "model.map"}) files.push_back(f);
        if (has_report(v))
            for (const char* f : {"report/report.json", "report/report.md", "report/report.html",
                                  "report/accuracy.csv", "report/energy.csv", "report/layers.csv", "report/ticks.csv"})
                files.push_back(f);
        for (const auto& f : files) expect_same_file(v, f);
    }
}

}  // namespace
}  // namespace neuroemu
