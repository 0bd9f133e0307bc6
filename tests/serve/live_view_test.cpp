// LiveView: the live page's frames against hand computations from synthetic ticks.
#include <gtest/gtest.h>

#include <thread>

#include "serve/live.h"

namespace neuroemu::serve {
namespace {

using namespace std::chrono_literals;
using Clock = LiveView::Clock;

// Three populations (input 4 neurons, hidden 10, output 2), the output published; 3 cores on a 2 x 2 mesh.
LiveLayout small_layout() {
    LiveLayout layout;
    layout.model = "small";
    layout.population_names = {"input", "hidden", "out"};
    layout.population_sizes = {4, 10, 2};
    layout.published = {2};
    layout.core_xy = {{0, 0}, {1, 0}, {0, 1}};
    layout.mesh_width = 2;
    layout.mesh_height = 2;
    return layout;
}

// Tick t: populations spike t, 2t and t % 2 times; core c holds c + t spikes; output unit (t % 2) spikes when odd.
TickResult tick_result(int64_t t) {
    TickResult r;
    r.tick = t;
    r.step = t;
    r.input_spikes = t;
    r.population_spikes = {t, 2 * t, t % 2};
    r.core_spikes = {t, t + 1, t + 2};
    if (t % 2 == 1) r.published_spikes = {{static_cast<int32_t>(t % 4 == 1 ? 0 : 1)}};
    else r.published_spikes = {{}};
    r.decision = t % 3;
    return r;
}

LiveOptions window_of(int64_t ticks) {
    LiveOptions options;
    options.window_ticks = ticks;
    return options;
}

TEST(LiveView, FiringRatesAreSpikesPerNeuronPerTickOverTheWindow) {
    LiveView view(small_layout(), window_of(4));
    for (int64_t t = 1; t <= 6; ++t) view.record(tick_result(t));
    const auto frame = view.frame_json();
    // The window holds ticks 3..6: input 3+4+5+6 = 18 spikes over 4 neurons x 4 ticks; hidden 36 over 10 x 4;
    // out 1+0+1+0 = 2 over 2 x 4.
    EXPECT_EQ(frame["window_ticks"], 4);
    const auto& pops = frame["populations"];
    ASSERT_EQ(pops.size(), 3u);
    EXPECT_EQ(pops[0]["name"], "input");
    EXPECT_EQ(pops[0]["spikes"], 18);
    EXPECT_DOUBLE_EQ(pops[0]["rate"].get<double>(), 18.0 / 16.0);
    EXPECT_EQ(pops[1]["spikes"], 36);
    EXPECT_DOUBLE_EQ(pops[1]["rate"].get<double>(), 36.0 / 40.0);
    EXPECT_EQ(pops[2]["spikes"], 2);
    EXPECT_DOUBLE_EQ(pops[2]["rate"].get<double>(), 2.0 / 8.0);
    EXPECT_EQ(frame["tick"], 6);
    EXPECT_EQ(frame["step"], 6);
    EXPECT_EQ(frame["decision"], 0);
    EXPECT_EQ(frame["input_spikes"], 6);
    EXPECT_EQ(frame["ticks_recorded"], 6);
}

TEST(LiveView, WindowShorterThanItsLengthAveragesOverTheTicksSeen) {
    LiveView view(small_layout(), window_of(100));
    for (int64_t t = 1; t <= 3; ++t) view.record(tick_result(t));
    const auto frame = view.frame_json();
    EXPECT_EQ(frame["window_ticks"], 3);
    EXPECT_DOUBLE_EQ(frame["populations"][1]["rate"].get<double>(), (2.0 + 4.0 + 6.0) / (10.0 * 3.0));
}

TEST(LiveView, CoreActivityIsSpikesPerCoreOverTheWindowOnTheMesh) {
    LiveView view(small_layout(), window_of(3));
    for (int64_t t = 1; t <= 5; ++t) view.record(tick_result(t));
    const auto cores = view.frame_json()["cores"];
    // Ticks 3..5: core c holds (3+c) + (4+c) + (5+c) = 12 + 3c.
    EXPECT_EQ(cores["spikes"], nlohmann::json({12, 15, 18}));
    EXPECT_EQ(cores["x"], nlohmann::json({0, 1, 0}));
    EXPECT_EQ(cores["y"], nlohmann::json({0, 0, 1}));
    EXPECT_EQ(cores["width"], 2);
    EXPECT_EQ(cores["height"], 2);
}

TEST(LiveView, RasterHoldsTheSpikesSinceTheLastFrame) {
    LiveView view(small_layout());
    for (int64_t t = 1; t <= 4; ++t) view.record(tick_result(t));
    auto raster = view.frame_json()["raster"];
    ASSERT_EQ(raster.size(), 1u);
    EXPECT_EQ(raster[0]["population"], "out");
    EXPECT_EQ(raster[0]["index"], 2);
    EXPECT_EQ(raster[0]["size"], 2);
    // Odd ticks spike: tick 1 unit 0, tick 3 unit 1.
    EXPECT_EQ(raster[0]["spikes"], nlohmann::json({{1, 0}, {3, 1}}));
    EXPECT_EQ(raster[0]["dropped"], 0);
    view.record(tick_result(5));
    raster = view.frame_json()["raster"];
    EXPECT_EQ(raster[0]["spikes"], nlohmann::json({{5, 0}}));
    EXPECT_EQ(view.frame_json()["raster"][0]["spikes"], nlohmann::json::array());
}

TEST(LiveView, RasterDropsTheOldestBeyondItsBoundAndSaysHowMany) {
    LiveOptions options;
    options.max_raster_spikes = 3;
    LiveView view(small_layout(), options);
    for (int64_t t = 1; t <= 15; ++t) view.record(tick_result(t));  // 8 spikes: ticks 1, 3, ..., 15
    const auto raster = view.frame_json()["raster"][0];
    EXPECT_EQ(raster["spikes"], nlohmann::json({{11, 1}, {13, 0}, {15, 1}}));
    EXPECT_EQ(raster["dropped"], 5);
    EXPECT_EQ(view.frame_json()["raster"][0]["dropped"], 0) << "the count is per frame";
}

TEST(LiveView, MemoryStaysBoundedOverALongRunWithoutFrames) {
    LiveOptions options;
    options.window_ticks = 10;
    options.max_raster_spikes = 100;
    LiveView view(small_layout(), options);
    TickResult r = tick_result(1);
    r.published_spikes = {{0, 1}};
    const int64_t ticks = 200000;
    for (int64_t t = 1; t <= ticks; ++t) {
        r.tick = t;
        view.record(r);
    }
    const auto frame = view.frame_json();
    EXPECT_EQ(frame["window_ticks"], 10);
    EXPECT_EQ(frame["raster"][0]["spikes"].size(), 100u);
    EXPECT_EQ(frame["raster"][0]["dropped"], 2 * ticks - 100);
    EXPECT_EQ(frame["raster"][0]["spikes"].back(), nlohmann::json({ticks, 1}));
}

TEST(LiveView, AccuracyCountsCorrectOverLabelledSamples) {
    LiveView view(small_layout());
    EXPECT_TRUE(view.frame_json()["accuracy"]["value"].is_null()) << "no labelled sample yet";
    const std::vector<SampleOutcome> outcomes = {{3, 3}, {1, 2}, {4, -1}, {0, 0}, {7, 7}};
    for (size_t i = 0; i < outcomes.size(); ++i) {
        TickExtras extras;
        extras.outcome = outcomes[i];
        if (i < 3) view.record(tick_result(static_cast<int64_t>(i) + 1), extras);
        else view.record_outcome(outcomes[i]);
    }
    const auto accuracy = view.frame_json()["accuracy"];
    EXPECT_EQ(accuracy["samples"], 5);
    EXPECT_EQ(accuracy["labelled"], 4);  // (4, -1) has no label
    EXPECT_EQ(accuracy["correct"], 3);   // (3,3), (0,0), (7,7)
    EXPECT_DOUBLE_EQ(accuracy["value"].get<double>(), 0.75);
}

TEST(LiveView, TicksPerSecondOverAboutTheRateWindow) {
    LiveView view(small_layout());
    const Clock::time_point t0{};
    EXPECT_EQ(view.frame_json(t0)["ticks_per_s"], 0.0) << "one sample: no rate yet";
    for (int64_t t = 1; t <= 50; ++t) view.record(tick_result(t));
    EXPECT_DOUBLE_EQ(view.frame_json(t0 + 500ms)["ticks_per_s"].get<double>(), 100.0);  // 50 ticks in 0.5 s
    for (int64_t t = 51; t <= 250; ++t) view.record(tick_result(t));
    // The rate window (1 s) keeps the sample at 0.5 s: 200 ticks in 1.0 s.
    EXPECT_DOUBLE_EQ(view.frame_json(t0 + 1500ms)["ticks_per_s"].get<double>(), 200.0);
    // Paused: no ticks for 2 s, the rate falls to zero.
    EXPECT_DOUBLE_EQ(view.frame_json(t0 + 3500ms)["ticks_per_s"].get<double>(), 0.0);
}

TEST(LiveView, TheServersTickWhenGivenOverridesTheSessions) {
    LiveView view(small_layout());
    TickExtras extras;
    extras.tick = 41;
    view.record(tick_result(1), extras);  // the session's tick 1 (unit 0 spikes) is the server's 41
    const auto frame = view.frame_json();
    EXPECT_EQ(frame["tick"], 41);
    EXPECT_EQ(frame["raster"][0]["spikes"], nlohmann::json({{41, 0}}));
}

TEST(LiveView, ChipFiguresAndDeadlineMissesWhenPresent) {
    LiveView view(small_layout(), window_of(2));
    auto frame = view.frame_json();
    EXPECT_TRUE(frame["chip"].is_null());
    EXPECT_TRUE(frame["deadline_misses"].is_null()) << "not paced";
    for (int64_t t = 1; t <= 3; ++t) {
        TickResult r = tick_result(t);
        r.chip = true;
        r.cycles = 100 * t;
        r.packets = 7 * t;
        r.latency_max_cycles = 9 + t;
        TickExtras extras;
        extras.deadline_misses = t - 1;
        view.record(r, extras);
    }
    frame = view.frame_json();
    EXPECT_EQ(frame["chip"]["cycles"], 300);
    EXPECT_DOUBLE_EQ(frame["chip"]["mean_cycles"].get<double>(), 250.0);  // ticks 2 and 3
    EXPECT_EQ(frame["chip"]["packets"], 21);
    EXPECT_EQ(frame["chip"]["latency_max_cycles"], 12);
    EXPECT_EQ(frame["deadline_misses"], 2);
}

TEST(LiveView, ResultsOfAnotherShapeAreCutOrPadded) {
    LiveView view(small_layout(), window_of(10));
    TickResult r;
    r.tick = 1;
    r.population_spikes = {5};                   // shorter than 3 populations
    r.core_spikes = {1, 2, 3, 4, 5, 6};          // longer than 3 cores
    r.published_spikes = {{1}, {0, 1}};          // one more published population than the layout
    view.record(r);
    const auto frame = view.frame_json();
    EXPECT_EQ(frame["populations"][0]["spikes"], 5);
    EXPECT_EQ(frame["populations"][2]["spikes"], 0);
    EXPECT_EQ(frame["cores"]["spikes"], nlohmann::json({1, 2, 3}));
    EXPECT_EQ(frame["raster"].size(), 1u);
    EXPECT_EQ(frame["raster"][0]["spikes"], nlohmann::json({{1, 1}}));
}

TEST(LiveView, NewLayoutForgetsThePreviousModel) {
    LiveView view(small_layout());
    TickExtras extras;
    extras.outcome = SampleOutcome{1, 1};
    view.record(tick_result(3), extras);
    LiveLayout other;
    other.model = "other";
    other.population_names = {"in"};
    other.population_sizes = {8};
    view.set_layout(other);
    const auto frame = view.frame_json();
    EXPECT_EQ(frame["model"], "other");
    EXPECT_EQ(frame["ticks_recorded"], 0);
    EXPECT_EQ(frame["accuracy"]["samples"], 0);
    EXPECT_EQ(frame["raster"], nlohmann::json::array());
    EXPECT_EQ(frame["cores"]["spikes"], nlohmann::json::array());
}

TEST(LiveView, BadLayoutsAndOptionsAreRejectedNamingTheField) {
    LiveLayout layout = small_layout();
    layout.published = {3};
    try {
        LiveView view(layout);
        FAIL() << "accepted a published population out of range";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("LiveLayout.published"), std::string::npos) << e.what();
    }
    layout = small_layout();
    layout.population_sizes.pop_back();
    EXPECT_THROW(LiveView{layout}, std::invalid_argument);
    EXPECT_THROW(LiveView(small_layout(), window_of(0)), std::invalid_argument);
}

// The engine thread records while the io thread takes frames: every spike is either in a frame or counted dropped.
TEST(LiveView, ConcurrentRecordAndFramesLoseNoSpikeUncounted) {
    LiveOptions options;
    options.max_raster_spikes = 64;
    LiveView view(small_layout(), options);
    const int64_t ticks = 20000;
    std::thread engine([&] {
        for (int64_t t = 1; t <= ticks; ++t) view.record(tick_result(t));
    });
    int64_t seen = 0, last_tick = 0;
    bool ordered = true;
    auto take = [&] {  // returns the ticks recorded so far
        const auto frame = view.frame_json();
        const auto& raster = frame["raster"][0];
        seen += static_cast<int64_t>(raster["spikes"].size()) + raster["dropped"].get<int64_t>();
        for (const auto& s : raster["spikes"]) {
            ordered = ordered && s[0].get<int64_t>() > last_tick;
            last_tick = s[0].get<int64_t>();
        }
        return frame["ticks_recorded"].get<int64_t>();
    };
    while (take() < ticks) {
    }
    engine.join();
    take();
    EXPECT_EQ(seen, ticks / 2) << "odd ticks spike once each";
    EXPECT_TRUE(ordered) << "frames carry each spike once, in tick order";
}

}  // namespace
}  // namespace neuroemu::serve
