// The session with the SystemC chip model (serve/session.h, SessionOptions::chip). SystemC elaborates one design
// per process, so this executable holds the chip cases only, and the reference (ChipModel::run on the whole
// trace of the same image, as `simulate` runs it) runs in a child process: the DISABLED_ case below, which writes
// its figures to the file named by NEUROEMU_SESSION_CHIP_OUT.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "cli/schema.h"
#include "common/error.h"
#include "data/dataset_spec.h"
#include "experiment/mapping_run.h"
#include "experiment/model_run.h"
#include "hw/chip_model.h"
#include "serve/session.h"
#include "sim/sim_spec.h"
#include "tests/serve/poisson_input.h"

namespace neuroemu::serve {
namespace {

const std::string kDefault = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";
const std::vector<std::string> kSets = {"simulation.encoding=poisson", "simulation.steps=6", "dataset.images=1",
                                        "seed=5"};

struct ChipFigures {
    int64_t cycles = 0, packets = 0, deliveries = 0, latency_sum_cycles = 0, latency_max_cycles = 0;
};

ImageSet first_image(const Settings& settings, const std::vector<int64_t>& shape) {
    ImageSet set;
    experiment::for_each_test_chunk(settings, shape, 1, [&](const ImageSet& chunk) { set = chunk; });
    return set;
}

// The reference, in its own process: the image's whole trace from the batch engine, run on a fresh chip.
TEST(SessionChip, DISABLED_WholeTraceReference) {
    const char* out = std::getenv("NEUROEMU_SESSION_CHIP_OUT");
    if (!out) GTEST_SKIP() << "run by TicksAddUpToTheWholeTrace";
    const Settings settings = neuroemu_schema().load(kDefault, kSets);
    const experiment::MapRun run = experiment::prepare_mapping(settings, "", true, 0);
    ChipModel chip(run.mapping, run.model, HwOptions{});
    const ImageSet set = first_image(settings, run.model.populations[0].shape);
    SnnOptions options = snn_options(settings);
    TraceRecorder recorder(static_cast<int>(run.model.populations.size()), options.steps);
    options.observer = &recorder;
    SnnEngine(run.model).evaluate(set, input_normalisation(settings, set.channels), options);
    chip.run(recorder.traces().at(0));
    const HwStats& s = chip.stats();
    std::ofstream(out) << s.cycles << " " << s.packets_injected << " " << s.packets_delivered << " "
                       << s.packet_latency_sum_cycles << " " << s.packet_latency_max_cycles << "\n";
}

ChipFigures whole_trace_reference() {
    const std::string file = (std::filesystem::temp_directory_path() /
                              ("session_chip_" + std::to_string(::getpid()) + ".txt")).string();
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    ::setenv("NEUROEMU_SESSION_CHIP_OUT", file.c_str(), 1);
    const int rc = std::system((self + " --gtest_also_run_disabled_tests "
                                "--gtest_filter=SessionChip.DISABLED_WholeTraceReference > /dev/null").c_str());
    ::unsetenv("NEUROEMU_SESSION_CHIP_OUT");
    EXPECT_EQ(rc, 0) << "the reference process failed";
    ChipFigures f;
    std::ifstream in(file);
    in >> f.cycles >> f.packets >> f.deliveries >> f.latency_sum_cycles >> f.latency_max_cycles;
    EXPECT_TRUE(in) << "no figures in " << file;
    std::filesystem::remove(file);
    return f;
}

// Each tick runs alone on the chip (a tick starts idle), so the ticks' cycles, packets, deliveries and latencies
// add up to what the chip measures running the image's whole trace.
TEST(SessionChip, TicksAddUpToTheWholeTrace) {
    SessionOptions o;
    o.config = kDefault;
    o.set = kSets;
    o.chip = true;
    const auto session = Session::load(o);
    const ImageSet set = first_image(session->settings(), session->model().populations[0].shape);
    const SnnOptions options = snn_options(session->settings());
    const auto input = test::poisson_input_hwc(set, 0, input_normalisation(session->settings(), set.channels),
                                               options.seed, options.steps);
    const auto& shape = session->model().populations[0].shape;
    ChipFigures sum;
    for (const auto& step : input) {
        std::vector<InputSpike> events;
        for (int32_t j : step) events.push_back({test::hwc_to_chw(j, shape[0], shape[1] * shape[2]), 1});
        const TickResult& r = session->step(events);
        EXPECT_TRUE(r.chip);
        EXPECT_GT(r.cycles, 0);
        EXPECT_GT(r.packets, 0);
        EXPECT_GE(r.deliveries, r.packets);
        EXPECT_GE(r.latency_max_cycles * r.deliveries, r.latency_sum_cycles) << "the maximum bounds the mean";
        sum.cycles += r.cycles, sum.packets += r.packets, sum.deliveries += r.deliveries;
        sum.latency_sum_cycles += r.latency_sum_cycles;
        sum.latency_max_cycles = std::max(sum.latency_max_cycles, r.latency_max_cycles);
    }
    // A second chip in this process cannot be elaborated: the error says so.
    try {
        Session::load(o);
        ADD_FAILURE() << "a second chip session was built";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("once per process"));
    }
    const ChipFigures whole = whole_trace_reference();
    EXPECT_GT(whole.packets, 0);
    EXPECT_EQ(sum.packets, whole.packets);
    EXPECT_EQ(sum.deliveries, whole.deliveries);
    EXPECT_EQ(sum.latency_sum_cycles, whole.latency_sum_cycles);
    EXPECT_EQ(sum.latency_max_cycles, whole.latency_max_cycles);
    EXPECT_EQ(sum.cycles, whole.cycles);
}

}  // namespace
}  // namespace neuroemu::serve
