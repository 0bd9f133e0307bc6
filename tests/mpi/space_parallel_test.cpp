// hardware.distribute=chips under mpirun (docs/hardware-model.md, "Space-parallel chip"): ranks own whole chips of a
// multi-chip system and exchange what crosses the cuts; the reference is the same command in one process, whose
// `simulate --json` must be identical apart from the timing fields.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "tests/support/cli_run.h"

namespace neuroemu::cli_test {
namespace {

using nlohmann::json;

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";
constexpr int kChipSide = 14;  // cores per chip side: ResNet-20's 721 cores fill 2 x 2 chips, layers span chips
const std::string kChips = " --set chip.noc.chips=0 --set chip.noc.width=14 --set chip.noc.height=14"
                           " --set hardware.distribute=chips";

std::string tmp(const std::string& name) { return cli_test::build_file("space_parallel_test", name); }

class SpaceParallel : public ::testing::Test {
protected:
    // The converted model once per process (conversion calibrates on training images: the slow part of a run); ctest
    // runs each test as a process of its own, in parallel, so each has its own file.
    static void SetUpTestSuite() {
        snn_ = tmp("r20-" + std::to_string(getpid()) + ".snn");
        const CliRun r = run("convert " + kConfig + " -q -o " + snn_);
        ASSERT_EQ(r.status, 0) << r.output;
    }
    static void TearDownTestSuite() { std::filesystem::remove(snn_); }
    static std::string simulate_args(const std::string& json_file, const std::string& verbosity = "-q",
                                     int steps = 3) {
        return "simulate " + kConfig + " --snn " + snn_ + " --images 2 --steps " + std::to_string(steps) + " " +
               verbosity + " --json " + json_file + kChips;
    }
    // The JSON without what measures this machine's speed.
    static json without_timing(json doc) {
        for (const char* key : {"seconds", "cpu_seconds", "packet_hops_per_s"}) {
            EXPECT_TRUE(doc.contains(key)) << key;
            doc.erase(key);
        }
        return doc;
    }
    static std::string snn_;
};
std::string SpaceParallel::snn_;

// Flits over each boundary between two adjacent chips, both ways, from the per-link loads (E, W, N, S per router).
std::map<std::pair<int, int>, int64_t> boundary_flits(const json& doc) {
    const int width = doc["chip"]["mesh"][0], height = doc["chip"]["mesh"][1];
    const int chips_x = width / kChipSide;
    const auto chip = [&](int x, int y) { return (y / kChipSide) * chips_x + x / kChipSide; };
    std::map<std::pair<int, int>, int64_t> flits;
    const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int d = 0; d < 4; ++d) {
                const int nx = x + dx[d], ny = y + dy[d];
                if (nx < 0 || ny < 0 || nx >= width || ny >= height || chip(x, y) == chip(nx, ny)) continue;
                const int a = std::min(chip(x, y), chip(nx, ny)), b = std::max(chip(x, y), chip(nx, ny));
                flits[{a, b}] += doc["per_link_flits"][static_cast<size_t>((y * width + x) * 4 + d)].get<int64_t>();
            }
    return flits;
}

TEST_F(SpaceParallel, RanksOwningChipsMatchOneProcess) {
    const std::string reference = tmp("one.json");
    const CliRun one = run(simulate_args(reference));
    ASSERT_EQ(one.status, 0) << one.output;
    const json expected = read_json(reference);
    // The case exercises every cut: 2 x 2 chips, packets over each of the 4 chip boundaries.
    ASSERT_EQ(expected["chip"]["mesh"], json::array({2 * kChipSide, 2 * kChipSide}));
    const auto flits = boundary_flits(expected);
    ASSERT_EQ(flits.size(), 4u);
    for (const auto& [pair, n] : flits) EXPECT_GT(n, 0) << "chips " << pair.first << " and " << pair.second;
    EXPECT_GT(expected["counters"]["inter_chip_hops"].get<int64_t>(), 0);
    for (int ranks : {2, 3}) {
        const std::string out = tmp("np" + std::to_string(ranks) + ".json");
        std::filesystem::remove(out);
        const CliRun r = run_mpi(ranks, simulate_args(out, ""));
        ASSERT_EQ(r.status, 0) << r.output;
        // Each rank owns chips, and every rank's chips send to and receive from another rank's.
        EXPECT_NE(r.output.find("space-parallel chip over " + std::to_string(ranks) + " ranks"), std::string::npos)
            << r.output;
        EXPECT_EQ(r.output.find("exchanged between ranks: 0 messages"), std::string::npos) << r.output;
        EXPECT_EQ(without_timing(read_json(out)), without_timing(expected)) << ranks << " ranks";
    }
}

// Tick sampling: the ranks run the same drawn ticks of each image together.
TEST_F(SpaceParallel, SampledTicksMatchOneProcess) {
    const std::string one = tmp("sampled1.json"), two = tmp("sampled2.json");
    const std::string args = " --sample-ticks 3";
    const CliRun r1 = run(simulate_args(one, "-q", 5) + args);
    ASSERT_EQ(r1.status, 0) << r1.output;
    std::filesystem::remove(two);
    const CliRun r2 = run_mpi(2, simulate_args(two, "-q", 5) + args);
    ASSERT_EQ(r2.status, 0) << r2.output;
    const json expected = read_json(one);
    ASSERT_FALSE(expected["sampling"].is_null());
    EXPECT_EQ(without_timing(read_json(two)), without_timing(expected));
}

TEST_F(SpaceParallel, MoreRanksThanChipsIsAClearError) {
    const CliRun r = run_mpi(2, "simulate " + kConfig + " --snn " + snn_ +
                                    " --images 1 --steps 2 -q --set hardware.distribute=chips");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("2 ranks but the mapping has 1 chip(s)"), std::string::npos) << r.output;
}

TEST_F(SpaceParallel, TracesAreRefusedWithSeveralRanks) {
    const CliRun r = run_mpi(2, simulate_args(tmp("t.json")) + " --aer-out " + tmp("t.aer"));
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("not with hardware.distribute=chips under mpirun"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace neuroemu::cli_test
