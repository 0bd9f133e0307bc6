// A Session with an analytic network, so that the server's tests know every output without the engine: input
// [1, 4, 4]; population "hidden" [4]: unit i spikes when an input of index % 4 == i spiked this tick; population
// "out" [3] (the readout): its potential k counts the input spikes of index % 3 == k since the last reset, and unit
// k spikes in a tick when it received input. The decision is the first maximum of the readout.
#pragma once

#include <algorithm>
#include <set>

#include "serve/session.h"

namespace neuroemu::serve::testing {

class FakeSession : public Session {
public:
    explicit FakeSession(std::vector<int> published = {2}, std::string name = "fake") : published_(std::move(published)) {
        model_.name = std::move(name);
        model_.output = 2;
        pops_ = {{"input", "input", {1, 4, 4}, 16}, {"hidden", "if", {4}, 4}, {"out", "if", {3}, 3}};
        reset();
    }

    // The reference: what a sample's decision is after these ticks from a reset network.
    static int64_t decision_of(const std::vector<std::vector<InputSpike>>& ticks) {
        std::vector<float> readout(3, 0.0f);
        for (const auto& t : ticks)
            for (const auto& s : t) readout[static_cast<size_t>(s.index % 3)] += s.count;
        return std::max_element(readout.begin(), readout.end()) - readout.begin();
    }

    const SnnModel& model() const override { return model_; }
    const std::vector<PopulationInfo>& populations() const override { return pops_; }
    const std::vector<int>& published() const override { return published_; }
    int64_t input_size() const override { return 16; }
    int64_t classes() const override { return 3; }
    int64_t cores() const override { return 2; }
    int32_t mesh_width() const override { return 2; }
    int32_t mesh_height() const override { return 1; }
    std::vector<std::array<int32_t, 2>> core_xy() const override { return {{0, 0}, {1, 0}}; }
    std::string fit_error() const override { return ""; }
    const Settings& settings() const override { return settings_; }

    void reset() override {
        result_.step = 0;
        result_.readout.assign(3, 0.0f);
    }

    const TickResult& step(const std::vector<InputSpike>& input) override {
        TickResult& r = result_;
        r.tick = ++tick_;
        ++r.step;
        r.input_spikes = 0;
        std::set<int32_t> hidden, out;
        for (const auto& s : input) {
            r.input_spikes += s.count;
            r.readout[static_cast<size_t>(s.index % 3)] += s.count;
            hidden.insert(s.index % 4);
            out.insert(s.index % 3);
        }
        const std::vector<int32_t> spikes[3] = {{}, {hidden.begin(), hidden.end()}, {out.begin(), out.end()}};
        r.population_spikes = {r.input_spikes, static_cast<int64_t>(hidden.size()), static_cast<int64_t>(out.size())};
        r.published_spikes.clear();
        for (int p : published_) r.published_spikes.push_back(spikes[p]);
        r.sops = r.input_spikes * 7;
        r.decision = std::max_element(r.readout.begin(), r.readout.end()) - r.readout.begin();
        r.core_spikes = {r.population_spikes[1], r.population_spikes[2]};
        return r;
    }
    int64_t tick() const override { return tick_; }
    int64_t step_in_window() const override { return result_.step; }

private:
    SnnModel model_;
    std::vector<PopulationInfo> pops_;
    std::vector<int> published_;
    Settings settings_;
    TickResult result_;
    int64_t tick_ = 0;
};

}  // namespace neuroemu::serve::testing
