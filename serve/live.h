// The live page's data: `LiveView` aggregates what each tick did (fed by the server's engine thread) into JSON
// frames that the page server (serve/page_server.h) sends to the browsers watching the run, ~10 per second.
// Memory is bounded whatever the run length: a sliding window of ticks, a bounded spike raster (oldest dropped
// and counted), counters. The frame format is documented in docs/serve.md ("The live page").
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/session.h"

namespace neuroemu::serve {

// What does not change while a model is loaded.
struct LiveLayout {
    std::string model;                                // shown in the page's header
    std::vector<std::string> population_names;        // model order
    std::vector<int64_t> population_sizes;            // neurons per population
    std::vector<int> published;                       // population indices whose spikes form the raster
    std::vector<std::array<int32_t, 2>> core_xy;      // per core: its mesh (x, y); empty without a mapping
    int32_t mesh_width = 0, mesh_height = 0;
};

// The layout of a loaded session (the populations, what it publishes, its mapping's cores).
LiveLayout live_layout(const Session& session, const std::string& model_name);

struct LiveOptions {
    int64_t window_ticks = 100;          // firing rates and core activity: over the last this many ticks
    int64_t max_raster_spikes = 4096;    // per published population kept between two frames; oldest dropped
    double rate_window_s = 1.0;          // ticks per second: measured over about this long, between frames
};

// The end of a sample (a CLASSIFICATION): its decision and true label (-1: unknown).
struct SampleOutcome {
    int64_t decision = -1;
    int64_t label = -1;
};

// Per tick, besides the engine's TickResult: what the server knows.
struct TickExtras {
    std::optional<SampleOutcome> outcome;   // the tick ended a sample
    int64_t deadline_misses = -1;           // so far, when the server paces ticks (-1: not paced)
    int64_t tick = 0;  // the server's tick (goes on across model loads); 0: the TickResult's (the session's)
};

class LiveView {
public:
    using Clock = std::chrono::steady_clock;

    explicit LiveView(LiveLayout layout = {}, LiveOptions options = {});

    // A new model (or the first): forgets the window, the raster and the accuracy.
    void set_layout(LiveLayout layout);
    // From the engine thread, once per tick. Vectors shorter or longer than the layout's are cut or padded with
    // zeros (a TickResult of another model never reads out of bounds).
    void record(const TickResult& result, const TickExtras& extras = {});
    // Also from the engine thread: a sample ended outside record() (e.g. a classify request).
    void record_outcome(const SampleOutcome& outcome);

    // The next frame: consumes the raster gathered since the previous one. `now` measures ticks per second.
    nlohmann::json frame_json(Clock::time_point now = Clock::now());
    std::string frame(Clock::time_point now = Clock::now()) { return frame_json(now).dump(); }

private:
    struct WindowTick {  // one tick in the sliding window
        std::vector<int64_t> population_spikes, core_spikes;
        int64_t chip_cycles = 0;
    };
    struct Raster {  // one published population's spikes since the last frame
        std::deque<std::array<int64_t, 2>> spikes;  // (tick, unit), oldest first
        int64_t dropped = 0;
    };

    void reset_locked();
    void count_outcome_locked(const SampleOutcome& outcome);
    void push_window_locked(const TickResult& result);
    void push_raster_locked(const TickResult& result, int64_t tick);
    nlohmann::json populations_json_locked() const;
    nlohmann::json cores_json_locked() const;
    nlohmann::json raster_json_locked();
    double ticks_per_second_locked(Clock::time_point now);

    mutable std::mutex mutex_;
    LiveLayout layout_;
    LiveOptions options_;
    std::deque<WindowTick> window_;             // at most options_.window_ticks
    std::vector<int64_t> population_sums_, core_sums_;  // over the window
    int64_t cycles_sum_ = 0, chip_ticks_in_window_ = 0;
    std::vector<Raster> rasters_;               // per published population
    std::deque<std::pair<Clock::time_point, int64_t>> rate_samples_;  // (frame time, ticks recorded)
    int64_t ticks_recorded_ = 0, tick_ = 0, step_ = 0, decision_ = -1, input_spikes_ = 0;
    int64_t samples_ = 0, labelled_ = 0, correct_ = 0, deadline_misses_ = -1;
    bool chip_ = false;                         // the last tick ran the chip model
    int64_t last_cycles_ = 0, last_packets_ = 0, last_latency_max_cycles_ = 0;
    int64_t frames_ = 0;
};

}  // namespace neuroemu::serve
