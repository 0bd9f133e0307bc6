#include "experiment/hardware_run.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "common/error.h"
#include "data/dataset_spec.h"
#include "sim/sim_spec.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

namespace {

// Conservation: every synaptic operation the engine counted happened in a core, projection by projection. A
// constant-current input is one event per pixel per image: the engine counts those as input MACs.
void check_conservation(const HwStats& stats, const SnnModel& model, const InputEncoding& encoding,
                        const std::vector<int64_t>& engine_sops, int64_t engine_input_macs, int64_t engine_correct) {
    int64_t chip_input_sops = 0;
    for (size_t k = 0; k < engine_sops.size(); ++k) {
        if (encoding.constant_current() && model.projections[k].source == 0) {
            chip_input_sops += stats.sops_by_projection_index[k];
            continue;
        }
        if (engine_sops[k] != stats.sops_by_projection_index[k])
            throw InternalError(fmt::format("projection '{}': the engine counted {} synaptic operations, the chip's cores {}",
                                            model.projections[k].name, engine_sops[k], stats.sops_by_projection_index[k]));
    }
    if (chip_input_sops != engine_input_macs)
        throw InternalError(fmt::format("input: the engine counted {} MACs of the constant current, the chip's cores {}",
                                        engine_input_macs, chip_input_sops));
    const int64_t hw_correct = stats.correct_at_step.empty() ? 0 : stats.correct_at_step.back();
    if (hw_correct != engine_correct) throw InternalError("the chip's decisions differ from the functional engine's");
}

}  // namespace

std::vector<ParamSpec> hardware_params() {
    std::vector<ParamSpec> params = tick_sample_params();
    params.push_back(ParamSpec("hardware.distribute", ParamKind::Enum, "ticks", "",
                               "Under mpirun (docs/cli.md): how `simulate` and `report` share the chip over the ranks. "
                               "`ticks`: each rank runs whole ticks (or sampled ticks) of its own, merged in tick "
                               "order; `chips`: each rank owns chips of a multi-chip system and runs its part of every "
                               "tick, exchanging the packets that cross chip boundaries. Identical results either way.")
                         .one_of({"ticks", "chips"}));
    return params;
}

TickSamplePlan tick_sample_plan(const Settings& settings) {
    return plan_tick_sample(settings.get_int("simulation.steps"), settings.get_int("hardware.sample_ticks"),
                            static_cast<uint64_t>(settings.get_int("seed")));
}

HwEstimates carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                                int verbosity) {
    SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    const InputNormalisation norm = input_normalisation(settings, test.channels);
    const TickSamplePlan plan = tick_sample_plan(settings);
    std::vector<int64_t> engine_sops(model.projections.size(), 0);
    int64_t engine_correct = 0, engine_input_macs = 0;
    for (int64_t i = 0; i < test.count; ++i) {
        // The spikes of the simulated ticks only (all of them unless sampled); the decisions of every step.
        TraceRecorder recorder(static_cast<int>(model.populations.size()), options.steps,
                               plan.exact ? std::vector<int64_t>{} : plan.draw(i));
        options.observer = &recorder;
        const SnnResult result = engine.evaluate(test.slice(i, 1), norm, options);
        SpikeTrace& trace = recorder.traces().at(0);
        // The engine's synaptic operations of the simulated ticks: its totals, or per step through the observer.
        for (size_t k = 0; k < result.projections.size(); ++k)
            engine_sops[k] += plan.exact ? result.projections[k].sops
                                         : (k < trace.engine_sops.size() ? trace.engine_sops[k] : 0);
        engine_correct += result.correct_at_step.back();
        engine_input_macs += result.input_macs;  // sent at tick 1, always simulated
        if (options.encoding->constant_current()) set_current_input(trace, test, i, norm);
        chip.run(trace);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
    check_conservation(chip.stats(), model, *options.encoding, engine_sops, engine_input_macs, engine_correct);
    return estimate_hardware(chip.stats(), plan, settings.get_real("hardware.confidence"));
}

namespace {

nlohmann::json figure_json(const std::string& key, const std::string& label, const std::string& unit,
                           const SampledFigure& f) {
    return {{"key", key},         {"label", label},         {"unit", unit},   {"estimate", f.estimate},
            {"low", f.low},       {"high", f.high},         {"std_error", f.std_error},
            {"dof", f.dof},       {"exact", f.exact}};
}

}  // namespace

nlohmann::json sampling_json(const HwEstimates& est, const HwStats& stats, double clock_hz,
                             const std::optional<SampledFigure>& energy_j) {
    using nlohmann::json;
    json strata = json::array(), totals = json::object(), figures = json::array();
    for (const TickStratum& s : est.plan.strata) strata.push_back({s.first, s.last});
    for (size_t c = 0; c < kTickCounters; ++c)
        totals[tick_counter_name(c)] = figure_json(tick_counter_name(c), tick_counter_name(c), "", est.totals[c]);
    const SampledFigure cycles = est.per_image(kTickCycles);
    figures.push_back(figure_json("latency_cycles", "latency per inference", "cycles", cycles));
    figures.push_back(figure_json("latency_s", "latency per inference", "s", cycles.divided_by(clock_hz)));
    figures.push_back(figure_json("cycles_per_tick", "cycles per tick (mean)", "cycles", est.cycles_per_tick()));
    const std::pair<TickCounter, const char*> per_image[] = {
        {kTickPackets, "packets per image"},          {kTickDeliveries, "deliveries per image"},
        {kTickHops, "packet hops per image"},         {kTickFlitHops, "flit hops per image"},
        {kTickInterChipHops, "inter-chip hops per image"}, {kTickBufferWrites, "buffer writes per image"},
        {kTickStallCycles, "stall cycles per image"}, {kTickSops, "SOPs in cores per image"},
        {kTickPartialSumSops, "partial-sum and gate SOPs per image"}, {kTickNeuronUpdates, "neuron updates per image"},
        {kTickEvents, "events generated per image"}};
    for (const auto& [c, label] : per_image)
        figures.push_back(figure_json(tick_counter_name(c), label, c == kTickStallCycles ? "cycles" : "", est.per_image(c)));
    figures.push_back(figure_json("packet_latency_mean", "packet latency (mean)", "cycles", est.packet_latency_mean));
    if (energy_j) figures.push_back(figure_json("energy_snn_j", "chip energy per inference", "J", *energy_j));
    return {{"exact", est.exact()},
            {"steps", est.plan.steps},
            {"sample_ticks", est.plan.requested},
            {"ticks_per_image", est.plan.ticks_per_image()},
            {"rounded", est.plan.rounded()},
            {"strata", strata},
            {"seed", est.plan.seed},
            {"confidence", est.confidence},
            {"description", est.describe()},
            {"ticks", est.ticks},
            {"totals", totals},
            {"figures", figures},
            {"max_tick_cycles", {{"value", stats.max_tick_cycles}, {"lower_bound", !est.exact()}}},
            {"max_packet_latency_cycles", {{"value", stats.packet_latency_max_cycles}, {"lower_bound", !est.exact()}}}};
}

ReplayInfo scan_trace(AerReader& reader, const Mapping& mapping, const std::string& file) {
    ReplayInfo replay;
    replay.file = file;
    replay.trace = reader.scan(mapping);
    replay.recorded_tree = reader.recorded_with_tree();
    replay.same_placement = reader.header().placement == placement_fingerprint(mapping);
    replay.images = replay.trace.images;
    return replay;
}

void replay_trace(ChipModel& chip, AerReader& reader, ReplayInfo& replay, int verbosity) {
    RecordedImage image;
    for (int64_t i = 0; i < replay.images && reader.next_image(image); ++i) {
        replay.packets += image.packets;
        chip.replay(image);
        if (verbosity > 1) fmt::print("image {}: done\n", i + 1);
    }
    chip.finish();
}

}  // namespace neuroemu::experiment
