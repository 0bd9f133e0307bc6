// Design-space exploration: sweep files and their errors, expansion, hashing, the Pareto front, and the runner's
// cache and process pool against a fake child command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "common/error.h"
#include "explore/outputs.h"
#include "explore/pareto.h"
#include "explore/runner.h"
#include "explore/sweep.h"

namespace neuroemu::explore {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

Schema test_schema() {
    const double inf = std::numeric_limits<double>::infinity();
    return Schema({{"model", "m"}, {"dataset", "d"}, {"conversion", "c"}, {"chip", "c"}, {"simulation", "s"},
                   {"mapping", "m"}, {"report", "r"}},
                  {
                      ParamSpec("seed", ParamKind::Int, "1", "", "seed").range(0, inf),
                      ParamSpec("model.onnx", ParamKind::Path, "", "", "file"),
                      ParamSpec("dataset.images", ParamKind::Int, "100", "", "n").range(1, inf),
                      ParamSpec("dataset.mean", ParamKind::RealList, "[0.5]", "", "m").items(1, 3),
                      ParamSpec("conversion.percentile", ParamKind::Real, "99.9", "%", "p").range(0, 100),
                      ParamSpec("chip.clock_hz", ParamKind::Real, "1e8", "Hz", "f").range(1, 1e12),
                      ParamSpec("chip.core.neurons", ParamKind::Int, "256", "", "n").range(1, 1 << 20),
                      ParamSpec("chip.core.sops_per_cycle", ParamKind::Int, "256", "", "s").range(1, 4096),
                      ParamSpec("chip.noc.multicast", ParamKind::Enum, "tree", "", "m").one_of({"tree", "source"}),
                      ParamSpec("chip.noc.buffer_depth", ParamKind::Int, "4", "", "b").range(1, 1024),
                      ParamSpec("simulation.steps", ParamKind::Int, "100", "", "T").range(1, 65535),
                      ParamSpec("simulation.threads", ParamKind::Int, "0", "", "t").range(0, 4096),
                      ParamSpec("mapping.fan_in", ParamKind::Enum, "split", "", "f").one_of({"split", "fail"}),
                      ParamSpec("report.hw_images", ParamKind::Int, "1", "", "h").range(0, inf),
                  });
}

fs::path temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::temp_directory_path() / ("neuroemu_explore_" + std::string(info->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

SweepSpec parse(const std::string& text) { return parse_sweep_text(text, "sweep.yaml", "", test_schema()); }

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no ConfigError thrown";
    return "";
}

// ---------------------------------------------------------------------------------------------------------------
TEST(Sweep, ParsesEveryFieldWithDefaultObjectives) {
    const SweepSpec s = parse(
        "set: {dataset.images: 20, simulation.steps: 8}\n"
        "mode: hardware\nhw_images: 2\njobs: 3\n"
        "grid:\n  chip.core.neurons: [128, 256]\n  chip.noc.multicast: [tree, source]\n"
        "random:\n  points: 5\n  seed: 7\n  keys:\n    chip.clock_hz: {min: 5e7, max: 4e8, log: true}\n");
    EXPECT_EQ(s.sets, (std::vector<std::string>{"dataset.images=20", "simulation.steps=8"}));
    EXPECT_EQ(s.mode, Mode::Hardware);
    EXPECT_EQ(s.hw_images, 2);
    EXPECT_EQ(s.jobs, 3);
    ASSERT_EQ(s.grid.size(), 2u);
    EXPECT_EQ(s.grid[0].values, (std::vector<std::string>{"128", "256"}));
    EXPECT_EQ(s.grid[0].where[1], "sweep.yaml:6:28");
    EXPECT_EQ(s.random_points, 5);
    EXPECT_EQ(s.random_seed, 7u);
    ASSERT_EQ(s.random.size(), 1u);
    EXPECT_TRUE(s.random[0].log);
    EXPECT_FALSE(s.random[0].integer);
    EXPECT_EQ(s.swept_keys(), (std::vector<std::string>{"chip.core.neurons", "chip.noc.multicast", "chip.clock_hz"}));
    ASSERT_EQ(s.objectives.size(), 4u);
    EXPECT_EQ(s.objectives[0].metric, Metric::EnergyJ);
    EXPECT_EQ(s.objectives[1].metric, Metric::LatencyS);
    EXPECT_TRUE(s.objectives[2].maximise);
    EXPECT_EQ(s.objectives[3].metric, Metric::Cores);
}

TEST(Sweep, FunctionalModeHasNoHardwareImagesNorLatencyObjective) {
    const SweepSpec s = parse("mode: functional\ngrid: {simulation.steps: [16, 32]}\n");
    EXPECT_EQ(s.hw_images, 0);
    ASSERT_EQ(s.objectives.size(), 3u);
    for (const auto& o : s.objectives) EXPECT_NE(o.metric, Metric::LatencyS);
}

TEST(Sweep, NestedSetSectionsAndListValuesBecomeOverrides) {
    const SweepSpec s = parse("set:\n  chip: {noc: {buffer_depth: 8}}\n  dataset.mean: [0.1, 0.2]\n"
                              "grid: {dataset.images: [1]}\n");
    EXPECT_EQ(s.sets, (std::vector<std::string>{"chip.noc.buffer_depth=8", "dataset.mean=[0.1, 0.2]"}));
}

TEST(Sweep, PathsAndSectionFilesAreRelativeToTheSweepFile) {
    const Schema schema = test_schema();
    const fs::path dir = temp_dir();
    fs::create_directories(dir / "chips");
    write(dir / "chips" / "big.yaml", "core: {neurons: 1024}\n");
    write(dir / "chips" / "small.yaml", "core: {neurons: 64}\n");
    write(dir / "m.onnx", "x");
    write(dir / "sweep.yaml", "set: {model.onnx: m.onnx}\ngrid: {chip: [chips/big.yaml, chips/small.yaml]}\n");
    const SweepPlan plan = plan_sweep(parse_sweep((dir / "sweep.yaml").string(), schema), schema);
    EXPECT_EQ(plan.spec.sets, (std::vector<std::string>{"model.onnx=" + (dir / "m.onnx").string()}));
    ASSERT_EQ(plan.points.size(), 2u);
    EXPECT_EQ(plan.points[1].point.values[0].second, (dir / "chips" / "small.yaml").string());
    EXPECT_EQ(schema.load("", plan.points[1].overrides).get_int("chip.core.neurons"), 64);
    EXPECT_NE(plan.points[0].hash, plan.points[1].hash);
    EXPECT_EQ(plan.points[0].conversion, plan.points[1].conversion);
}

TEST(Sweep, ErrorsNameFileLineAndField) {
    struct Case {
        std::string yaml, expected;
    };
    const std::vector<Case> cases = {
        {"grid: {chip.core.neurons: [1]}\nfrobnicate: 1\n", "sweep.yaml:2:1: unknown key 'frobnicate'"},
        {"grid:\n  chip.core.neurons: []\n", "sweep.yaml:2:22: grid.chip.core.neurons: empty list"},
        {"grid:\n  chip.core.neurons: 5\n", "sweep.yaml:2:22: grid.chip.core.neurons: expected a list of values"},
        {"grid:\n  chip.core.neuron: [1]\n", "sweep.yaml:2:3: grid.chip.core.neuron: unknown key 'chip.core.neuron' "
                                             "(did you mean 'chip.core.neurons'?)"},
        {"grid:\n  chip.core.neurons: [8, 0]\n", "sweep.yaml:2:26: grid.chip.core.neurons: chip.core.neurons: expected "
                                                 "an integer in [1, 1048576], got '0'"},
        {"grid:\n  chip.noc.multicast: [tree, broadcast]\n", "sweep.yaml:2:30: grid.chip.noc.multicast: chip.noc.multicast: expected one of tree, source"},
        {"random:\n  points: 3\n  keys:\n    chip.clock_hz: {min: 4e8, max: 5e7}\n",
         "sweep.yaml:4:26: random.keys.chip.clock_hz: min (400000000) > max (50000000)"},
        {"random:\n  points: 3\n  keys:\n    chip.clock_hz: {min: 0, max: 5e7, log: true}\n",
         "random.keys.chip.clock_hz: log needs min > 0"},
        {"random:\n  points: 3\n  keys:\n    chip.clock_hz: {min: 1, max: 5e7, step: 2}\n",
         "sweep.yaml:4:39: unknown key 'random.keys.chip.clock_hz.step'"},
        {"random:\n  points: 3\n  keys:\n    chip.noc.multicast: {min: 1, max: 2}\n",
         "sweep.yaml:4:25: random.keys.chip.noc.multicast: a range needs a numeric key"},
        {"random:\n  points: 3\n  keys:\n    chip.clock_hz: {min: 1, max: 1e13}\n",
         "sweep.yaml:4:34: random.keys.chip.clock_hz.max"},
        {"random:\n  points: 0\n  keys: {chip.clock_hz: {min: 1, max: 2}}\n", "sweep.yaml:2:11: random.points"},
        {"random:\n  keys: {chip.clock_hz: {min: 1, max: 2}}\n", "sweep.yaml:2:3: random: missing 'points'"},
        {"mode: fast\ngrid: {dataset.images: [1]}\n", "sweep.yaml:1:7: mode: expected hardware or functional"},
        {"mode: functional\nhw_images: 1\ngrid: {dataset.images: [1]}\n", "sweep.yaml:2:12: hw_images"},
        {"mode: functional\ngrid: {dataset.images: [1]}\nobjectives: {latency_s: min}\n",
         "sweep.yaml:3:14: objectives.latency_s: needs mode: hardware"},
        {"grid: {dataset.images: [1]}\nobjectives: {energy_j: least}\n", "sweep.yaml:2:24: objectives.energy_j"},
        {"grid: {dataset.images: [1]}\nobjectives: {power: min}\n", "sweep.yaml:2:14: unknown key 'objectives.power'"},
        {"set: {chip.core.neurons: 4}\ngrid: {chip.core.neurons: [1]}\n", "'chip.core.neurons' is both fixed"},
        {"grid: {chip.core.neurons: [1]}\nrandom: {points: 2, keys: {chip.core.neurons: [3, 4]}}\n",
         "random.keys.chip.core.neurons: also swept in grid"},
        {"set: {simulation.step: 4}\ngrid: {dataset.images: [1]}\n", "sweep.yaml:1:7: set.simulation.step: unknown key"},
        {"grid: {report.hw_images: [1]}\n", "sweep.yaml:1:8: grid.report.hw_images: the sweep's own `hw_images`"},
        {"set: {dataset.images: 3}\n", "sweep.yaml:1:1: nothing to sweep"},
        {"experiment: nowhere.yaml\ngrid: {dataset.images: [1]}\n", "sweep.yaml:1:13: experiment: cannot open"},
        {"grid: [1, 2\n", "sweep.yaml:"},
        {"jobs: -1\ngrid: {dataset.images: [1]}\n", "sweep.yaml:1:7: jobs"},
    };
    for (const auto& c : cases) EXPECT_THAT(error_of([&] { parse(c.yaml); }), HasSubstr(c.expected)) << c.yaml;
}

TEST(Sweep, GridExpandsToTheCartesianProductInRowMajorOrder) {
    const auto points = expand(parse("grid:\n  chip.core.neurons: [1, 2, 3]\n  chip.noc.multicast: [tree, source]\n"
                                     "  chip.noc.buffer_depth: [4, 8]\n"));
    ASSERT_EQ(points.size(), 12u);
    EXPECT_EQ(points[0].overrides(), (std::vector<std::string>{"chip.core.neurons=1", "chip.noc.multicast=tree",
                                                               "chip.noc.buffer_depth=4"}));
    EXPECT_EQ(points[1].values[2].second, "8");  // the last key varies fastest
    EXPECT_EQ(points[2].values[1].second, "source");
    EXPECT_EQ(points[4].values[0].second, "2");
    EXPECT_EQ(points[11].overrides(), (std::vector<std::string>{"chip.core.neurons=3", "chip.noc.multicast=source",
                                                                "chip.noc.buffer_depth=8"}));
    for (size_t i = 0; i < points.size(); ++i) EXPECT_EQ(points[i].index, i);
}

TEST(Sweep, RandomDrawsAreDeterministicBySeedAndRespectBoundsLogAndIntegers) {
    const std::string keys = "  keys:\n    chip.clock_hz: {min: 1e6, max: 1e9, log: true}\n"
                             "    chip.core.sops_per_cycle: {min: 16.5, max: 256}\n"
                             "    conversion.percentile: {min: 99, max: 100}\n"
                             "    chip.noc.multicast: [tree, source]\n";
    const auto a = expand(parse("random:\n  points: 2000\n  seed: 3\n" + keys));
    const auto b = expand(parse("random:\n  points: 2000\n  seed: 3\n" + keys));
    const auto c = expand(parse("random:\n  points: 2000\n  seed: 4\n" + keys));
    ASSERT_EQ(a.size(), 2000u);
    size_t same_as_c = 0, below_geometric_mean = 0, tree = 0;
    std::set<int64_t> sops;
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].overrides(), b[i].overrides());
        same_as_c += a[i].overrides() == c[i].overrides();
        const double clock = std::stod(a[i].values[0].second);
        EXPECT_GE(clock, 1e6);
        EXPECT_LE(clock, 1e9);
        below_geometric_mean += clock < std::sqrt(1e6 * 1e9);
        const std::string& s = a[i].values[1].second;
        EXPECT_EQ(s.find_first_not_of("0123456789"), std::string::npos) << s;  // an integer key: whole numbers
        sops.insert(std::stoll(s));
        const double p = std::stod(a[i].values[2].second);
        EXPECT_GE(p, 99);
        EXPECT_LE(p, 100);
        tree += a[i].values[3].second == "tree";
    }
    EXPECT_LT(same_as_c, 5u);
    EXPECT_NEAR(below_geometric_mean / 2000.0, 0.5, 0.05);  // log-uniform: half below the geometric mean
    EXPECT_NEAR(tree / 2000.0, 0.5, 0.05);
    EXPECT_EQ(*sops.begin(), 17);  // ceil(16.5)
    EXPECT_EQ(*sops.rbegin(), 256);
    EXPECT_EQ(sops.size(), 240u);  // every integer of [17, 256] drawn
}

TEST(Sweep, GridTimesRandomCombinesEveryGridPointWithEveryDraw) {
    const auto points = expand(parse("grid: {chip.noc.multicast: [tree, source]}\n"
                                     "random: {points: 3, keys: {chip.core.neurons: {min: 1, max: 1000}}}\n"));
    ASSERT_EQ(points.size(), 6u);
    for (size_t d = 0; d < 3; ++d) {
        EXPECT_EQ(points[d].values[0].second, "tree");
        EXPECT_EQ(points[3 + d].values[0].second, "source");
        EXPECT_EQ(points[d].values[1], points[3 + d].values[1]);  // the same draws for every grid point
    }
}

// ---------------------------------------------------------------------------------------------------------------
TEST(Hash, StableAcrossKeyOrderAndSensitiveToEveryValue) {
    const Schema schema = test_schema();
    const Settings a = schema.parse("chip:\n  clock_hz: 2e8\n  core: {neurons: 128}\ndataset: {images: 5}\n", "a.yaml", "");
    const Settings b = schema.parse("dataset: {images: 5}\nchip:\n  core: {neurons: 128}\n  clock_hz: 2e8\n", "b.yaml", "");
    const std::string h = point_hash(a, Mode::Hardware, 1, "d1");
    EXPECT_EQ(h, point_hash(b, Mode::Hardware, 1, "d1"));
    EXPECT_EQ(h.size(), 16u);
    EXPECT_EQ(h, point_hash(a, Mode::Hardware, 1, "d1"));
    EXPECT_NE(h, point_hash(a, Mode::Functional, 0, "d1"));
    EXPECT_NE(h, point_hash(a, Mode::Hardware, 2, "d1"));
    EXPECT_NE(h, point_hash(a, Mode::Hardware, 1, "d2"));  // a retrained model
    for (const char* o : {"chip.clock_hz=3e8", "chip.core.neurons=129", "dataset.images=6", "seed=2",
                                 "chip.noc.multicast=source", "dataset.mean=[0.5, 0.5]"})
        EXPECT_NE(h, point_hash(schema.parse("chip:\n  clock_hz: 2e8\n  core: {neurons: 128}\ndataset: {images: 5}\n",
                                             "a.yaml", "", {o}),
                                Mode::Hardware, 1, "d1"))
            << o;
    // Threads never change a result.
    EXPECT_EQ(h, point_hash(schema.parse("chip:\n  clock_hz: 2e8\n  core: {neurons: 128}\ndataset: {images: 5}\n",
                                         "a.yaml", "", {"simulation.threads=7"}),
                            Mode::Hardware, 1, "d1"));
}

TEST(Hash, ConversionIsSharedAcrossChipAndMappingKeysOnly) {
    const Schema schema = test_schema();
    const std::string base = conversion_hash(schema.load("", {}), "d");
    EXPECT_EQ(base, conversion_hash(schema.load("", {"chip.core.neurons=5", "mapping.fan_in=fail"}), "d"));
    EXPECT_NE(base, conversion_hash(schema.load("", {"conversion.percentile=99"}), "d"));
    EXPECT_NE(base, conversion_hash(schema.load("", {}), "e"));
}

TEST(Hash, PlanIgnoresTheOrderOfKeysInTheSweepFile) {
    const Schema schema = test_schema();
    const fs::path dir = temp_dir();
    write(dir / "model.onnx", "weights v1");
    write(dir / "exp.yaml", "model: {onnx: model.onnx}\n");
    write(dir / "a.yaml", "experiment: exp.yaml\nset: {dataset.images: 3, simulation.steps: 4}\n"
                          "grid:\n  chip.core.neurons: [1, 2]\n  chip.noc.multicast: [tree]\n");
    write(dir / "b.yaml", "grid:\n  chip.noc.multicast: [tree]\n  chip.core.neurons: [1, 2]\n"
                          "set: {simulation.steps: 4, dataset.images: 3}\nexperiment: exp.yaml\n");
    const SweepPlan a = plan_sweep(parse_sweep((dir / "a.yaml").string(), schema), schema);
    const SweepPlan b = plan_sweep(parse_sweep((dir / "b.yaml").string(), schema), schema);
    ASSERT_EQ(a.points.size(), 2u);
    EXPECT_EQ(a.points[0].hash, b.points[0].hash);
    EXPECT_EQ(a.points[1].hash, b.points[1].hash);
    EXPECT_NE(a.points[0].hash, a.points[1].hash);
    EXPECT_EQ(a.points[0].conversion, a.points[1].conversion);
    write(dir / "model.onnx", "weights v2");  // retrained: every key changes
    const SweepPlan c = plan_sweep(parse_sweep((dir / "a.yaml").string(), schema), schema);
    EXPECT_NE(a.points[0].hash, c.points[0].hash);
    EXPECT_NE(a.points[0].conversion, c.points[0].conversion);
}

// ---------------------------------------------------------------------------------------------------------------
// The reference: i is on the front iff no j is >= in every objective and > in one (written out independently).
std::vector<size_t> brute_front(const std::vector<std::vector<double>>& v, const std::vector<bool>& maximise) {
    std::vector<size_t> out;
    for (size_t i = 0; i < v.size(); ++i) {
        bool dominated = false;
        for (size_t j = 0; j < v.size(); ++j) {
            int better = 0, worse = 0;
            for (size_t k = 0; k < maximise.size(); ++k) {
                const double d = maximise[k] ? v[j][k] - v[i][k] : v[i][k] - v[j][k];
                better += d > 0;
                worse += d < 0;
            }
            if (better > 0 && worse == 0) dominated = true;
        }
        if (!dominated) out.push_back(i);
    }
    return out;
}

TEST(Pareto, MatchesBruteForceOnRandomDataWithTies) {
    std::mt19937_64 rng(11);
    for (int trial = 0; trial < 300; ++trial) {
        const size_t n = 1 + rng() % 60, k = 1 + rng() % 4;
        std::vector<bool> maximise(k);
        for (size_t j = 0; j < k; ++j) maximise[j] = rng() % 2;
        std::vector<std::vector<double>> v(n, std::vector<double>(k));
        for (auto& row : v)
            for (auto& x : row) x = static_cast<double>(rng() % 5);  // few values: many ties and equal points
        EXPECT_EQ(pareto_front(v, maximise), brute_front(v, maximise)) << "trial " << trial;
    }
}

TEST(Pareto, EqualPointsAreBothKeptAndDominatedOnesDropped) {
    const std::vector<std::vector<double>> v = {{1, 0.9}, {1, 0.9}, {2, 0.9}, {0.5, 0.5}, {1, 0.95}};
    // energy (min), accuracy (max): {1, 0.95} dominates both {1, 0.9}; {0.5, 0.5} is cheapest.
    EXPECT_EQ(pareto_front(v, {false, true}), (std::vector<size_t>{3, 4}));
    EXPECT_EQ(pareto_front({{1, 2}, {1, 2}}, {false, false}), (std::vector<size_t>{0, 1}));
    EXPECT_TRUE(pareto_front({}, {false}).empty());
}

// ---------------------------------------------------------------------------------------------------------------
// A stand-in for `neuroemu`: `convert ... -o FILE` writes a model; `report ... --json FILE` writes a report
// document whose energy is the chip.core.neurons value in µJ, a point that does not fit for chip.noc.buffer_depth=1,
// and fails for chip.core.neurons=13. Every run is logged to calls.log; SLOW=1 makes it take 0.3 s.
void write_fake_child(const fs::path& dir) {
    const fs::path exe = dir / "fake_neuroemu";
    write(exe, R"(#!/bin/bash
cmd=$1; shift
out=""; neurons=256; fits=true; snn=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--json) out=$2; shift;;
    --snn) snn=$2; shift;;
    --set) case "$2" in chip.core.neurons=*) neurons=${2#*=};; chip.noc.buffer_depth=1) fits=false;; esac; shift;;
  esac
  shift
done
echo "$cmd $neurons" >> ")" + (dir / "calls.log").string() + R"("
[ -n "$SLOW" ] && sleep 0.3
if [ "$cmd" = convert ]; then echo model > "$out"; exit 0; fi
[ -f "$snn" ] || { echo "neuroemu: error: no model $snn" >&2; exit 1; }
if [ "$neurons" = 13 ]; then echo "some progress" >&2; echo "neuroemu: error: boom at 13" >&2; exit 2; fi
if [ $fits = true ]; then status=ok; reason=''; else status=does-not-fit; reason='needs 9 cores'; fi
echo "{\"status\": \"$status\", \"reason\": \"$reason\", \"accuracy\": 0.9, \"energy_j\": ${neurons}e-6, \"energy_ann_j\": 1e-3, \"latency_s\": 0.001, \"cores\": $neurons}" > "$out"
)");
    fs::permissions(exe, fs::perms::owner_all);
}

size_t count_lines(const fs::path& p, const std::string& prefix) {
    std::ifstream in(p);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.compare(0, prefix.size(), prefix) == 0;
    return n;
}

struct FakeSweep {
    fs::path dir;
    SweepPlan plan;
    RunOptions options;
};

FakeSweep fake_sweep(const std::string& grid) {
    const Schema schema = test_schema();
    FakeSweep f;
    f.dir = temp_dir();
    write_fake_child(f.dir);
    write(f.dir / "sweep.yaml", "set: {dataset.images: 2}\ngrid:\n" + grid);
    f.plan = plan_sweep(parse_sweep((f.dir / "sweep.yaml").string(), schema), schema);
    f.options.executable = (f.dir / "fake_neuroemu").string();
    f.options.cache_dir = (f.dir / "cache").string();
    f.options.jobs = 2;
    return f;
}

TEST(Runner, RecordsResultsDoesNotFitAndFailuresThenResumesFromTheCache) {
    FakeSweep f = fake_sweep("  chip.core.neurons: [4, 13, 8, 4]\n  chip.noc.buffer_depth: [1, 2]\n");
    std::vector<std::string> lines;
    f.options.progress = [&](const std::string& l) { lines.push_back(l); };
    const RunSummary s = run_sweep(f.plan, f.options);
    EXPECT_FALSE(s.interrupted);
    EXPECT_EQ(s.points, 8);
    EXPECT_EQ(s.distinct, 6);  // neurons 4 appears twice
    EXPECT_EQ(s.computed, 6);
    EXPECT_EQ(s.cached, 0);
    EXPECT_EQ(s.conversions, 1);  // chip.* keys share one converted model
    EXPECT_EQ(count_lines(f.dir / "calls.log", "convert"), 1u);
    EXPECT_EQ(count_lines(f.dir / "calls.log", "explore-point"), 6u);
    EXPECT_EQ(s.ok, 3);
    EXPECT_EQ(s.does_not_fit, 3);
    EXPECT_EQ(s.failed, 2);
    const PointResult& dnf = s.results[0];  // neurons 4, buffer 1
    EXPECT_EQ(dnf.status, Status::DoesNotFit);
    EXPECT_EQ(dnf.reason, "needs 9 cores");
    const PointResult& ok = s.results[5];  // neurons 8, buffer 2
    EXPECT_EQ(ok.status, Status::Ok);
    EXPECT_DOUBLE_EQ(*ok.energy_j, 8e-6);
    EXPECT_EQ(*ok.cores, 8);
    EXPECT_DOUBLE_EQ(*ok.latency_s, 0.001);
    const PointResult& failed = s.results[2];
    EXPECT_EQ(failed.status, Status::Failed);
    EXPECT_EQ(failed.reason, "exit status 2: error: boom at 13");
    EXPECT_EQ(lines.size(), 9u);  // one per point, one for the conversion
    EXPECT_TRUE(fs::exists(fs::path(f.options.cache_dir) / "log" / (f.plan.points[2].hash + ".stderr")));
    EXPECT_TRUE(fs::is_empty(fs::path(f.options.cache_dir) / "tmp"));

    // Again: everything but the failures comes from the cache.
    const RunSummary again = run_sweep(f.plan, f.options);
    EXPECT_EQ(again.cached, 4);
    EXPECT_EQ(again.computed, 2);  // the failed point, with both buffer depths
    EXPECT_EQ(again.conversions, 0);
    EXPECT_EQ(count_lines(f.dir / "calls.log", "explore-point"), 8u);
    EXPECT_TRUE(again.results[5].cached);
    EXPECT_FALSE(again.results[2].cached);
    EXPECT_EQ(points_csv(f.plan, s, {0, 1, 2, 3, 4, 5, 6, 7}), points_csv(f.plan, again, {0, 1, 2, 3, 4, 5, 6, 7}));
}

// A point's child runs the experiment library's call (explore-point), with the sweep's hardware images as a setting,
// and writes the point result; nothing re-parses another command's output document.
TEST(Runner, ThePointChildRunsTheLibraryCallWithTheSweepsSettings) {
    SweepSpec spec;
    spec.experiment = "base.yaml";
    spec.hw_images = 3;
    const std::vector<std::string> args = point_args(spec, {"chip.core.neurons=128"}, 2, "m.snn", "out.json");
    ASSERT_FALSE(args.empty());
    EXPECT_EQ(args.front(), "explore-point");
    EXPECT_EQ(args[1], "base.yaml");
    std::string joined;
    for (const auto& arg : args) joined += arg + " ";
    EXPECT_THAT(joined, HasSubstr("--set chip.core.neurons=128"));
    EXPECT_THAT(joined, HasSubstr("--set simulation.threads=2"));
    EXPECT_THAT(joined, HasSubstr("--set report.hw_images=3"));
    EXPECT_THAT(joined, HasSubstr("--snn m.snn"));
    EXPECT_THAT(joined, HasSubstr("--json out.json"));
    EXPECT_THAT(joined, testing::Not(HasSubstr("report ")));
}

TEST(Runner, AMissingExecutableFailsEveryPointWithItsReason) {
    FakeSweep f = fake_sweep("  chip.core.neurons: [4, 8]\n");
    f.options.executable = (f.dir / "no_such_program").string();
    const RunSummary s = run_sweep(f.plan, f.options);
    EXPECT_EQ(s.failed, 2);
    EXPECT_THAT(s.results[0].reason, HasSubstr("conversion failed: exit status 127"));
}

TEST(Runner, InterruptStopsTheChildrenAndLeavesOnlyWholeResults) {
    FakeSweep f = fake_sweep("  chip.core.neurons: [1, 2, 3, 4, 5, 6, 7, 8]\n");
    setenv("SLOW", "1", 1);
    int finished = 0;
    f.options.progress = [&](const std::string& line) {
        if (line.find("point") != std::string::npos && ++finished == 2) std::raise(SIGINT);
    };
    const RunSummary s = run_sweep(f.plan, f.options);
    unsetenv("SLOW");
    EXPECT_TRUE(s.interrupted);
    EXPECT_LT(s.computed, 8);
    EXPECT_TRUE(fs::is_empty(fs::path(f.options.cache_dir) / "tmp"));
    size_t results = 0;
    for (const auto& e : fs::directory_iterator(f.options.cache_dir))
        if (e.path().extension() == ".json") {
            ++results;
            EXPECT_NO_THROW(read_result_file(e.path().string()));
        }
    EXPECT_EQ(static_cast<int64_t>(results), s.computed);
    // The handler is gone: SIGINT is the default again after the sweep (checked without raising it).
    struct sigaction now {};
    sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);

    f.options.progress = nullptr;
    const RunSummary resumed = run_sweep(f.plan, f.options);
    EXPECT_FALSE(resumed.interrupted);
    EXPECT_EQ(resumed.cached, s.computed);
    EXPECT_EQ(resumed.computed, 8 - s.computed);
    EXPECT_EQ(resumed.ok, 8);
}

TEST(Outputs, WritesCsvJsonFrontPlotAndPage) {
    FakeSweep f = fake_sweep("  chip.core.neurons: [4, 13, 8]\n  chip.noc.buffer_depth: [1, 2]\n");
    const RunSummary s = run_sweep(f.plan, f.options);
    const OutputFiles files = write_outputs(f.plan, s, (f.dir / "out").string());
    const std::string csv = read(files.points_csv);
    EXPECT_THAT(csv, HasSubstr("index,hash,chip.core.neurons,chip.noc.buffer_depth,status,reason,accuracy,energy_j,"
                               "energy_ann_j,latency_s,cores\n"));
    EXPECT_THAT(csv, HasSubstr(",4,1,does-not-fit,needs 9 cores,0.9,4e-06,"));
    EXPECT_THAT(csv, HasSubstr(",13,2,failed,exit status 2: error: boom at 13,"));
    // Same accuracy and latency everywhere: the front is the cheapest fitting point (4 neurons, buffer 2).
    EXPECT_EQ(read(files.pareto_csv), points_csv(f.plan, s, {1}));
    EXPECT_THAT(read(files.pareto_svg), HasSubstr("<svg"));
    EXPECT_THAT(read(files.html), HasSubstr("Pareto front (1 of 6 points"));
    EXPECT_THAT(read(files.points_json), HasSubstr("\"cached\": false"));
}

}  // namespace
}  // namespace neuroemu::explore
