#include "serve/live.h"

#include <algorithm>
#include <stdexcept>

namespace neuroemu::serve {
namespace {

// Frames taken faster than expected (many per rate window) must not grow the rate samples without bound.
constexpr size_t kMaxRateSamples = 256;

// `values` resized to `size`: cut, or padded with zeros.
void copy_fitted(const std::vector<int64_t>& values, size_t size, std::vector<int64_t>& out) {
    out.assign(size, 0);
    std::copy_n(values.begin(), std::min(size, values.size()), out.begin());
}

void add_to(std::vector<int64_t>& sums, const std::vector<int64_t>& values, int64_t sign) {
    for (size_t i = 0; i < sums.size() && i < values.size(); ++i) sums[i] += sign * values[i];
}

nlohmann::json count_or_null(int64_t value) { return value < 0 ? nlohmann::json(nullptr) : nlohmann::json(value); }

}  // namespace

LiveLayout live_layout(const Session& session, const std::string& model_name) {
    LiveLayout layout;
    layout.model = model_name;
    for (const PopulationInfo& p : session.populations()) {
        layout.population_names.push_back(p.name);
        layout.population_sizes.push_back(p.size);
    }
    layout.published = session.published();
    if (session.cores() > 0) {
        layout.core_xy = session.core_xy();
        layout.mesh_width = session.mesh_width();
        layout.mesh_height = session.mesh_height();
    }
    return layout;
}

LiveView::LiveView(LiveLayout layout, LiveOptions options) : options_(options) {
    if (options_.window_ticks < 1) throw std::invalid_argument("LiveOptions.window_ticks: expected >= 1");
    if (options_.max_raster_spikes < 0) throw std::invalid_argument("LiveOptions.max_raster_spikes: expected >= 0");
    if (!(options_.rate_window_s > 0)) throw std::invalid_argument("LiveOptions.rate_window_s: expected > 0");
    set_layout(std::move(layout));
}

void LiveView::set_layout(LiveLayout layout) {
    if (layout.population_sizes.size() != layout.population_names.size())
        throw std::invalid_argument("LiveLayout.population_sizes: expected one size per population name");
    for (int p : layout.published)
        if (p < 0 || static_cast<size_t>(p) >= layout.population_names.size())
            throw std::invalid_argument("LiveLayout.published: population index " + std::to_string(p) +
                                        " is not in [0, " + std::to_string(layout.population_names.size()) + ")");
    std::lock_guard lock(mutex_);
    layout_ = std::move(layout);
    reset_locked();
}

void LiveView::reset_locked() {
    window_.clear();
    population_sums_.assign(layout_.population_names.size(), 0);
    core_sums_.assign(layout_.core_xy.size(), 0);
    cycles_sum_ = chip_ticks_in_window_ = 0;
    rasters_.assign(layout_.published.size(), Raster{});
    rate_samples_.clear();
    ticks_recorded_ = tick_ = step_ = input_spikes_ = 0;
    decision_ = -1;
    samples_ = labelled_ = correct_ = 0;
    deadline_misses_ = -1;
    chip_ = false;
    last_cycles_ = last_packets_ = last_latency_max_cycles_ = 0;
}

void LiveView::record(const TickResult& result, const TickExtras& extras) {
    std::lock_guard lock(mutex_);
    ++ticks_recorded_;
    tick_ = extras.tick > 0 ? extras.tick : result.tick;
    step_ = result.step;
    decision_ = result.decision;
    input_spikes_ = result.input_spikes;
    deadline_misses_ = extras.deadline_misses;
    chip_ = result.chip;
    last_cycles_ = result.cycles;
    last_packets_ = result.packets;
    last_latency_max_cycles_ = result.latency_max_cycles;
    push_window_locked(result);
    push_raster_locked(result, tick_);
    if (extras.outcome) count_outcome_locked(*extras.outcome);
}

void LiveView::record_outcome(const SampleOutcome& outcome) {
    std::lock_guard lock(mutex_);
    count_outcome_locked(outcome);
}

void LiveView::count_outcome_locked(const SampleOutcome& outcome) {
    ++samples_;
    if (outcome.label >= 0) {
        ++labelled_;
        correct_ += outcome.decision == outcome.label;
    }
}

void LiveView::push_window_locked(const TickResult& result) {
    WindowTick entry;
    if (static_cast<int64_t>(window_.size()) >= options_.window_ticks) {
        WindowTick& oldest = window_.front();
        add_to(population_sums_, oldest.population_spikes, -1);
        add_to(core_sums_, oldest.core_spikes, -1);
        cycles_sum_ -= oldest.chip_cycles;
        chip_ticks_in_window_ -= oldest.chip_cycles >= 0;
        entry = std::move(oldest);  // its vectors' capacity is reused: no allocation per tick
        window_.pop_front();
    }
    copy_fitted(result.population_spikes, population_sums_.size(), entry.population_spikes);
    copy_fitted(result.core_spikes, core_sums_.size(), entry.core_spikes);
    entry.chip_cycles = result.chip ? result.cycles : -1;
    add_to(population_sums_, entry.population_spikes, 1);
    add_to(core_sums_, entry.core_spikes, 1);
    if (result.chip) {
        cycles_sum_ += result.cycles;
        ++chip_ticks_in_window_;
    }
    window_.push_back(std::move(entry));
}

void LiveView::push_raster_locked(const TickResult& result, int64_t tick) {
    for (size_t r = 0; r < rasters_.size() && r < result.published_spikes.size(); ++r) {
        Raster& raster = rasters_[r];
        for (int32_t unit : result.published_spikes[r]) {
            if (options_.max_raster_spikes == 0) {
                ++raster.dropped;
                continue;
            }
            if (static_cast<int64_t>(raster.spikes.size()) >= options_.max_raster_spikes) {
                raster.spikes.pop_front();
                ++raster.dropped;
            }
            raster.spikes.push_back({tick, unit});
        }
    }
}

nlohmann::json LiveView::populations_json_locked() const {
    nlohmann::json out = nlohmann::json::array();
    const double ticks = static_cast<double>(window_.size());
    for (size_t p = 0; p < layout_.population_names.size(); ++p) {
        const double neurons = static_cast<double>(layout_.population_sizes[p]);
        const double rate = ticks > 0 && neurons > 0 ? static_cast<double>(population_sums_[p]) / (neurons * ticks) : 0.0;
        out.push_back({{"name", layout_.population_names[p]},
                       {"size", layout_.population_sizes[p]},
                       {"spikes", population_sums_[p]},
                       {"rate", rate}});
    }
    return out;
}

nlohmann::json LiveView::cores_json_locked() const {
    nlohmann::json x = nlohmann::json::array(), y = nlohmann::json::array();
    for (const auto& xy : layout_.core_xy) {
        x.push_back(xy[0]);
        y.push_back(xy[1]);
    }
    return {{"width", layout_.mesh_width}, {"height", layout_.mesh_height}, {"x", std::move(x)},
            {"y", std::move(y)}, {"spikes", core_sums_}};
}

nlohmann::json LiveView::raster_json_locked() {
    nlohmann::json out = nlohmann::json::array();
    for (size_t r = 0; r < rasters_.size(); ++r) {
        const int population = layout_.published[r];
        nlohmann::json spikes = nlohmann::json::array();
        for (const auto& s : rasters_[r].spikes) spikes.push_back({s[0], s[1]});
        out.push_back({{"population", layout_.population_names[static_cast<size_t>(population)]},
                       {"index", population},
                       {"size", layout_.population_sizes[static_cast<size_t>(population)]},
                       {"spikes", std::move(spikes)},
                       {"dropped", rasters_[r].dropped}});
        rasters_[r] = Raster{};
    }
    return out;
}

double LiveView::ticks_per_second_locked(Clock::time_point now) {
    rate_samples_.emplace_back(now, ticks_recorded_);
    const auto horizon = now - std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(options_.rate_window_s));
    // Keep the newest sample at or before the horizon: the rate spans the whole window once it has run that long.
    while (rate_samples_.size() > 2 && rate_samples_[1].first <= horizon) rate_samples_.pop_front();
    while (rate_samples_.size() > kMaxRateSamples) rate_samples_.pop_front();
    const auto& [first_time, first_ticks] = rate_samples_.front();
    const double seconds = std::chrono::duration<double>(now - first_time).count();
    return seconds > 0 ? static_cast<double>(ticks_recorded_ - first_ticks) / seconds : 0.0;
}

nlohmann::json LiveView::frame_json(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    nlohmann::json frame = {{"type", "frame"},
                            {"version", 1},
                            {"frame", ++frames_},
                            {"model", layout_.model},
                            {"tick", tick_},
                            {"step", step_},
                            {"decision", decision_},
                            {"input_spikes", input_spikes_},
                            {"ticks_recorded", ticks_recorded_},
                            {"ticks_per_s", ticks_per_second_locked(now)},
                            {"window_ticks", static_cast<int64_t>(window_.size())},
                            {"populations", populations_json_locked()},
                            {"raster", raster_json_locked()},
                            {"cores", cores_json_locked()},
                            {"deadline_misses", count_or_null(deadline_misses_)}};
    frame["accuracy"] = {{"samples", samples_},
                         {"labelled", labelled_},
                         {"correct", correct_},
                         {"value", labelled_ > 0 ? nlohmann::json(static_cast<double>(correct_) / labelled_)
                                                 : nlohmann::json(nullptr)}};
    frame["chip"] = nullptr;
    if (chip_) {
        const double mean = chip_ticks_in_window_ > 0 ? static_cast<double>(cycles_sum_) / chip_ticks_in_window_ : 0;
        frame["chip"] = {{"cycles", last_cycles_},
                         {"mean_cycles", mean},
                         {"packets", last_packets_},
                         {"latency_max_cycles", last_latency_max_cycles_}};
    }
    return frame;
}

}  // namespace neuroemu::serve
