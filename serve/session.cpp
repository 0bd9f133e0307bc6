#include "serve/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>

#include "cli/schema.h"
#include "common/error.h"
#include "experiment/mapping_run.h"
#include "hw/chip_model.h"
#include "sim/encoding/encoding.h"
#include "sim/snn_engine.h"

namespace neuroemu::serve {
namespace {

// SystemC elaborates one design per process: a second chip model cannot be built.
std::atomic<bool> chip_elaborated{false};

// The model and, when it fits the config's chip, its mapping, made as `map` and `simulate` make them.
experiment::MapRun model_and_mapping(const Settings& settings, const SessionOptions& options, std::string& fit_error) {
    try {
        return experiment::prepare_mapping(settings, options.snn_file, true, options.verbosity);
    } catch (const MappingError& e) {
        fit_error = e.what();
        return experiment::prepare_mapping(settings, options.snn_file, true, options.verbosity, false);
    }
}

std::vector<PopulationInfo> population_info(const SnnModel& model) {
    std::vector<PopulationInfo> out;
    for (const Population& p : model.populations) out.push_back({p.name, to_string(p.kind), p.shape, p.size()});
    return out;
}

// The output population when it fires; a non-spiking readout (the paper's: its membrane potentials decide, and go
// out in CLASSIFICATION) would publish nothing, so then the spiking populations that feed it, found through any
// non-spiking ones between (pooling currents).
std::vector<int> default_published(const SnnModel& model) {
    if (model.populations[static_cast<size_t>(model.output)].spiking) return {model.output};
    std::vector<int> out, todo = {model.output};
    std::vector<char> seen(model.populations.size(), 0);
    while (!todo.empty()) {
        const int target = todo.back();
        todo.pop_back();
        for (const Projection& pr : model.projections) {
            if (pr.target != target || seen[static_cast<size_t>(pr.source)]) continue;
            seen[static_cast<size_t>(pr.source)] = 1;
            const Population& src = model.populations[static_cast<size_t>(pr.source)];
            if (src.spiking || pr.source == 0) out.push_back(pr.source);
            else todo.push_back(pr.source);
        }
    }
    std::sort(out.begin(), out.end());
    return out.empty() ? std::vector<int>{model.output} : out;
}

// Population indices by name; empty: default_published. ConfigError naming the unknown one and the choices.
std::vector<int> published_populations(const SnnModel& model, const std::vector<std::string>& names) {
    if (names.empty()) return default_published(model);
    std::vector<int> out;
    for (const std::string& name : names) {
        const auto it = std::find_if(model.populations.begin(), model.populations.end(),
                                     [&](const Population& p) { return p.name == name; });
        if (it == model.populations.end()) {
            std::vector<std::string> all;
            for (const Population& p : model.populations) all.push_back(p.name);
            throw ConfigError(fmt::format("published population '{}' is not in model '{}'; its populations: {}", name,
                                          model.name, fmt::join(all, ", ")));
        }
        out.push_back(static_cast<int>(it - model.populations.begin()));
    }
    return out;
}

// Per population: the mapped layer whose cores hold its units (partial-sum groups hold none of its spikes), or -1.
std::vector<int> layers_of_populations(const Mapping& mapping, size_t populations) {
    std::vector<int> out(populations, -1);
    for (size_t l = 0; l < mapping.graph.layers.size(); ++l) {
        const MapLayer& layer = mapping.graph.layers[l];
        if (layer.part < 0 && layer.population >= 0 && static_cast<size_t>(layer.population) < populations)
            out[static_cast<size_t>(layer.population)] = static_cast<int>(l);
    }
    return out;
}

class EngineSession final : public Session {
public:
    explicit EngineSession(const SessionOptions& options);

    const SnnModel& model() const override { return engine_->model(); }
    const std::vector<PopulationInfo>& populations() const override { return populations_; }
    const std::vector<int>& published() const override { return published_; }
    int64_t input_size() const override { return model().populations[0].size(); }
    int64_t classes() const override { return model().populations[static_cast<size_t>(model().output)].size(); }
    int64_t cores() const override { return mapping_ ? static_cast<int64_t>(mapping_->cores.size()) : 0; }
    int32_t mesh_width() const override { return mapping_ ? mapping_->mesh.width() : 0; }
    int32_t mesh_height() const override { return mapping_ ? mapping_->mesh.height() : 0; }
    std::vector<std::array<int32_t, 2>> core_xy() const override;
    std::string fit_error() const override { return fit_error_; }
    const Settings& settings() const override { return settings_; }

    void reset() override { stepper_->reset(); }
    const TickResult& step(const std::vector<InputSpike>& input) override;
    int64_t tick() const override { return tick_; }
    int64_t step_in_window() const override { return stepper_->steps(); }

private:
    void to_engine_input(const std::vector<InputSpike>& input);
    void count_core_spikes();
    void run_chip();
    int32_t flat_index(int pop, const SpikeEvent& e) const;

    Settings settings_;
    std::string fit_error_;
    std::optional<Mapping> mapping_;
    std::unique_ptr<SnnEngine> engine_;
    std::unique_ptr<SnnStepper> stepper_;
    std::unique_ptr<ChipModel> chip_;
    std::vector<PopulationInfo> populations_;
    std::vector<int> published_;
    std::vector<int> layer_of_population_;  // into mapping_->graph.layers, or -1
    TickResult result_;
    int64_t tick_ = 0;
    std::vector<int32_t> input_hwc_;   // scratch: this tick's input neurons, [H][W][C] indices, ascending
    std::vector<SpikeEvent> events_;   // scratch
    SpikeTrace trace_;                 // scratch: the one tick the chip runs
};

EngineSession::EngineSession(const SessionOptions& options)
    : settings_(neuroemu_schema().load(options.config, options.set)) {
    // Served input arrives as spike events whatever the config's encoding says (that one is for batch runs): a
    // constant-current config is served with its input population spiking, as with simulation.encoding: poisson.
    const auto encoding = make_input_encoding(settings_.get_string("simulation.encoding"));
    experiment::MapRun run = model_and_mapping(settings_, options, fit_error_);
    if (fit_error_.empty()) mapping_ = std::move(run.mapping);
    engine_ = std::make_unique<SnnEngine>(run.model);
    stepper_ = std::make_unique<SnnStepper>(*engine_, encoding->constant_current() ? nullptr : encoding.get());
    populations_ = population_info(model());
    published_ = published_populations(model(), options.published);
    layer_of_population_.assign(populations_.size(), -1);
    if (mapping_) layer_of_population_ = layers_of_populations(*mapping_, populations_.size());
    if (options.chip) {
        if (!mapping_)
            throw ConfigError(fmt::format("the chip model needs a mapping, but the model does not fit the chip: {}",
                                          fit_error_));
        if (chip_elaborated.exchange(true))
            throw ConfigError("the SystemC chip model can be built once per process (SystemC elaborates one design): "
                              "a second session with the chip model needs another process");
        chip_ = std::make_unique<ChipModel>(*mapping_, model(), HwOptions{});
    }
    result_.population_spikes.assign(populations_.size(), 0);
    result_.published_spikes.resize(published_.size());
    result_.core_spikes.assign(static_cast<size_t>(cores()), 0);
    result_.chip = chip_ != nullptr;
    trace_.steps = 1;
    trace_.events.assign(1, std::vector<std::vector<SpikeEvent>>(populations_.size()));
    trace_.correct.assign(1, 0);
}

std::vector<std::array<int32_t, 2>> EngineSession::core_xy() const {
    std::vector<std::array<int32_t, 2>> out;
    if (mapping_)
        for (const Core& c : mapping_->cores) out.push_back({c.x, c.y});
    return out;
}

// [C][H][W] flat indices with counts -> the engine's [H][W][C] indices, a count as repeated index, ascending.
void EngineSession::to_engine_input(const std::vector<InputSpike>& input) {
    const int64_t channels = model().populations[0].shape[0];  // [C, H, W], or [N]: N channels of one pixel
    const int64_t pixels = input_size() / channels;
    input_hwc_.clear();
    for (const InputSpike& s : input) {
        if (s.index < 0 || s.index >= input_size())
            throw DataError(fmt::format("input spike index {} is outside the input population [0, {})", s.index,
                                        input_size()));
        const auto hwc = static_cast<int32_t>(s.index % pixels * channels + s.index / pixels);
        input_hwc_.insert(input_hwc_.end(), s.count, hwc);
    }
    std::sort(input_hwc_.begin(), input_hwc_.end());
}

int32_t EngineSession::flat_index(int pop, const SpikeEvent& e) const {
    const auto& shape = model().populations[static_cast<size_t>(pop)].shape;
    if (shape.size() != 3) return e.c;
    return static_cast<int32_t>((e.c * shape[1] + e.y) * shape[2] + e.x);
}

const TickResult& EngineSession::step(const std::vector<InputSpike>& input) {
    const auto start = std::chrono::steady_clock::now();
    to_engine_input(input);
    if (stepper_->steps() >= kMaxSnnSteps) stepper_->reset();
    stepper_->step(input_hwc_.data(), input_hwc_.size());
    TickResult& r = result_;
    r.tick = ++tick_;
    r.step = stepper_->steps();
    r.input_spikes = static_cast<int64_t>(input_hwc_.size());
    for (size_t p = 0; p < populations_.size(); ++p)
        r.population_spikes[p] = static_cast<int64_t>(stepper_->spike_count(static_cast<int>(p)));
    for (size_t k = 0; k < published_.size(); ++k) {
        stepper_->spikes(published_[k], events_);
        auto& out = r.published_spikes[k];
        out.clear();
        for (const SpikeEvent& e : events_) out.push_back(flat_index(published_[k], e));
        std::sort(out.begin(), out.end());
    }
    r.sops = stepper_->sops();
    r.decision = stepper_->decision();
    stepper_->readout(r.readout);
    count_core_spikes();
    if (chip_) run_chip();
    r.engine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

// Each unit's spike to the core that holds it (cores are c-major tiles of their layer: mapping/mapping.h core_of).
void EngineSession::count_core_spikes() {
    std::fill(result_.core_spikes.begin(), result_.core_spikes.end(), 0);
    if (!mapping_) return;
    for (size_t p = 0; p < populations_.size(); ++p) {
        const int l = layer_of_population_[p];
        if (l < 0 || stepper_->spike_count(static_cast<int>(p)) == 0) continue;
        const MapLayer& layer = mapping_->graph.layers[static_cast<size_t>(l)];
        stepper_->spikes(static_cast<int>(p), events_);
        for (const SpikeEvent& e : events_) ++result_.core_spikes[static_cast<size_t>(core_of(layer, e.c, e.y, e.x))];
    }
}

// The tick on the chip: a one-step trace of this tick's spikes (a tick starts with the chip idle, so it runs alone
// as it would within its window); its figures are the tick's own records.
void EngineSession::run_chip() {
    for (size_t p = 0; p < populations_.size(); ++p) stepper_->spikes(static_cast<int>(p), trace_.events[0][p]);
    trace_.correct[0] = 0;
    chip_->clear_tick_history();
    chip_->run(trace_);
    const HwStats& stats = chip_->stats();
    if (stats.tick_counts.size() != 1) throw InternalError("the chip model ran a one-tick trace in other than one tick");
    const TickCounts& t = stats.tick_counts.back();
    result_.cycles = t[kTickCycles];
    result_.packets = t[kTickPackets];
    result_.deliveries = t[kTickDeliveries];
    result_.latency_sum_cycles = t[kTickLatencySum];
    result_.latency_max_cycles = stats.packet_latency_max_cycles;
}

}  // namespace

std::unique_ptr<Session> Session::load(const SessionOptions& options) {
    return std::make_unique<EngineSession>(options);
}

}  // namespace neuroemu::serve
