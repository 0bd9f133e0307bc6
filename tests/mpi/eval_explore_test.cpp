// `evaluate` and `explore` under mpirun (docs/cli.md, "Under mpirun"): the outputs of 1, 2 and 3 ranks, and of any
// thread count, against one process's (timing fields removed), resuming an explore on another rank count, and a
// failing rank or a bad setting ending the job with its message instead of a hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

namespace fs = std::filesystem;
using cli_test::CliRun;
using cli_test::file_bytes;
using cli_test::read_json;
using cli_test::run;
using cli_test::run_mpi;
using nlohmann::json;
using ::testing::HasSubstr;

const std::string kSrc = NEUROEMU_SOURCE_DIR;

fs::path temp_dir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = fs::path(NEUROEMU_BINARY_DIR) / "mpi_eval_explore_test" / info->name();
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// ResNet-20 on 7 images (blocks of 3/2/2 on three ranks), Poisson input so that every image's spikes depend on
// its index in the dataset, few steps and calibration images to keep each run short.
const std::string kEvaluate = "evaluate " + kSrc + "/configs/default.yaml --steps 6 -q "
                              "--set conversion.calibration_images=20 --set simulation.encoding=poisson";

// The evaluate JSON without what measures this run rather than the model: wall time, speed, and the threads
// (a setting, and the number of per-thread workers).
json without_timing(json j) {
    for (const char* part : {"snn", "ann"}) {
        if (!j.contains(part)) continue;
        for (const char* key : {"seconds", "image_steps_per_s", "images_per_s", "threads"}) j[part].erase(key);
        if (j[part].contains("memory")) j[part]["memory"].erase("workers");
    }
    j["settings"].erase("simulation.threads");
    return j;
}

json evaluate(const fs::path& dir, const std::string& name, int ranks, int threads, int images = 7) {
    const std::string out = (dir / (name + ".json")).string();
    const std::string args = kEvaluate + " --images " + std::to_string(images) + " --set simulation.threads=" +
                             std::to_string(threads) + " --json " + out;
    const CliRun r = ranks == 0 ? run(args) : run_mpi(ranks, args);
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(count(r.output, "S-ResNet top-1") + count(r.output, "ANN top-1"), 1u) << "rank 0 alone prints\n" << r.output;
    return read_json(out);
}

TEST(MpiEvaluate, OneTwoAndThreeRanksAndAnyThreadsGiveOneProcesssResults) {
    const fs::path dir = temp_dir();
    const json one = evaluate(dir, "one", 0, 1);
    ASSERT_TRUE(one["snn"]["populations"][2].contains("accumulated_error"));  // the exact error sums are compared
    const json two_threads = evaluate(dir, "two_threads", 0, 2);
    EXPECT_EQ(without_timing(two_threads), without_timing(one));
    for (int ranks : {1, 2, 3}) {
        for (int threads : {1, 2}) {
            const json j = evaluate(dir, "np" + std::to_string(ranks) + "_t" + std::to_string(threads), ranks, threads);
            EXPECT_EQ(without_timing(j), without_timing(one)) << ranks << " ranks, " << threads << " threads";
            // The same threads per rank: the per-worker memory too.
            if (threads == 1) {
                EXPECT_EQ(j["snn"]["memory"], one["snn"]["memory"]);
            }
        }
    }
}

TEST(MpiEvaluate, MoreRanksThanImagesAndTheAnnAlone) {
    const fs::path dir = temp_dir();
    // Two images on three ranks: rank 2 has none.
    const json one = evaluate(dir, "one", 0, 1, 2);
    EXPECT_EQ(one["snn"]["images"], 2);
    EXPECT_EQ(without_timing(evaluate(dir, "three", 3, 1, 2)), without_timing(one));
    // --ann: counts summed over the ranks.
    const std::string ann = "evaluate " + kSrc + "/configs/default.yaml --ann --images 11 -q --json ";
    CliRun r = run(ann + (dir / "ann_one.json").string());
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_mpi(3, ann + (dir / "ann_three.json").string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(count(r.output, "ANN top-1"), 1u) << r.output;
    EXPECT_EQ(without_timing(read_json((dir / "ann_three.json").string())),
              without_timing(read_json((dir / "ann_one.json").string())));
}

TEST(MpiEvaluate, AFailingRankOrABadSettingEndsTheJobWithItsMessage) {
    CliRun r = run_mpi(2, kEvaluate + " --images 7", "", "NEUROEMU_FAULT_RANK=1");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("rank 1 of 2: error: fault injected by NEUROEMU_FAULT_RANK=1"));
    r = run_mpi(2, kEvaluate + " --set simulation.steps=0");
    EXPECT_EQ(r.status, 2) << r.output;  // a configuration error, as in one process
    EXPECT_THAT(r.output, HasSubstr("simulation.steps"));
    EXPECT_EQ(run(kEvaluate + " --set simulation.steps=0").status, 2);
}

// 4 points on the ResNet-8: a 4 x 16 mesh of one chip holds 64 of its 257 cores, so two do not fit.
void write_sweep(const fs::path& file, const std::string& grid) {
    std::ofstream(file) << "experiment: " << kSrc << "/configs/fmnist/resnet8.yaml\n"
                        << "set: {dataset.images: 10, simulation.steps: 4, conversion.calibration_images: 20,\n"
                           "      mapping.traffic_images: 1, chip.noc.chips: 1, chip.noc.height: 16}\n"
                           "mode: hardware\nhw_images: 1\ngrid:\n"
                        << grid;
}

// The outputs with no timing in them, byte for byte; the JSON ones without each point's `seconds`.
void expect_same_outputs(const fs::path& a, const fs::path& b, bool same_run_counts = true) {
    for (const char* f : {"points.csv", "pareto.csv", "pareto.svg"})
        EXPECT_EQ(file_bytes((b / f).string()), file_bytes((a / f).string())) << f;
    // The page says how many points this run computed and how many came from the cache.
    if (same_run_counts) {
        EXPECT_EQ(file_bytes((b / "explore.html").string()), file_bytes((a / "explore.html").string()));
    }
    for (const char* f : {"points.json", "pareto.json"}) {
        json ja = read_json((a / f).string()), jb = read_json((b / f).string());
        ASSERT_EQ(ja["points"].size(), jb["points"].size()) << f;
        for (auto* j : {&ja, &jb})
            for (auto& p : (*j)["points"]) p.erase("seconds"), p.erase("cached");
        EXPECT_EQ(jb, ja) << f;
    }
}

std::string explore(const fs::path& dir, const std::string& out) {
    return "explore " + (dir / "sweep.yaml").string() + " -o " + (dir / out).string() + " --jobs 1 -q --json " +
           (dir / (out + ".json")).string();
}

TEST(MpiExplore, RanksShareThePointsAndAResumeOnOtherRanksComputesOnlyWhatIsMissing) {
    const fs::path dir = temp_dir();
    write_sweep(dir / "sweep.yaml", "  chip.noc.width: [4, 17]\n  chip.noc.multicast: [tree, source]\n");
    CliRun r = run(explore(dir, "one"));
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_mpi(2, explore(dir, "two"));
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(count(r.output, "explore: 4 points"), 1u) << r.output;
    const json two = read_json((dir / "two.json").string());
    EXPECT_EQ(two["summary"]["computed"], 4);
    EXPECT_EQ(two["summary"]["conversions"], 1);
    EXPECT_EQ(two["summary"]["does_not_fit"], 2);
    expect_same_outputs(dir / "one", dir / "two");

    // As if the job had been killed: two results gone. Three ranks compute exactly those two.
    const fs::path cache = dir / "two" / "cache";
    std::vector<fs::path> results;
    for (const auto& e : fs::directory_iterator(cache))
        if (e.path().extension() == ".json") results.push_back(e.path());
    ASSERT_EQ(results.size(), 4u);
    std::sort(results.begin(), results.end());
    const auto kept_time = fs::last_write_time(results[3]);
    fs::remove(results[0]), fs::remove(results[1]);
    r = run_mpi(3, explore(dir, "two"));
    ASSERT_EQ(r.status, 0) << r.output;
    const json resumed = read_json((dir / "two.json").string());
    EXPECT_EQ(resumed["summary"]["computed"], 2);
    EXPECT_EQ(resumed["summary"]["cached"], 2);
    EXPECT_EQ(resumed["summary"]["conversions"], 0);
    EXPECT_EQ(fs::last_write_time(results[3]), kept_time);
    EXPECT_TRUE(fs::is_empty(cache / "tmp"));
    expect_same_outputs(dir / "one", dir / "two", false);
}

TEST(MpiExplore, AFailingConversionOnOneRankFailsItsPointsOnEveryRankAsInOneProcess) {
    const fs::path dir = temp_dir();
    fs::create_directories(dir / "no_dataset");
    // The second dataset folder is empty: its conversion (dealt to rank 1) fails, and so do its two points.
    write_sweep(dir / "sweep.yaml", "  dataset.path: [/usr/share/datasets/fashion-mnist, " +
                                        (dir / "no_dataset").string() + "]\n  chip.noc.multicast: [tree, source]\n"
                                        "  chip.noc.width: [17]\n");
    CliRun r = run(explore(dir, "one"));
    ASSERT_EQ(r.status, 0) << r.output;
    r = run_mpi(2, explore(dir, "two"));
    ASSERT_EQ(r.status, 0) << r.output;
    const json two = read_json((dir / "two.json").string());
    EXPECT_EQ(two["summary"]["failed"], 2);
    EXPECT_EQ(two["summary"]["ok"], 2);
    EXPECT_THAT(file_bytes((dir / "two" / "points.csv").string()), HasSubstr("conversion failed: exit status 1"));
    expect_same_outputs(dir / "one", dir / "two");
}

TEST(MpiExplore, AFailingRankEndsTheJob) {
    const fs::path dir = temp_dir();
    write_sweep(dir / "sweep.yaml", "  chip.noc.width: [4, 17]\n");
    const CliRun r = run_mpi(2, explore(dir, "out"), "", "NEUROEMU_FAULT_RANK=1");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("rank 1 of 2: error: fault injected"));
}

}  // namespace
}  // namespace neuroemu
