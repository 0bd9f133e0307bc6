#include "experiment/mapping_run.h"

#include <fmt/format.h>

#include <chrono>

#include "arch/chip_spec.h"
#include "common/error.h"
#include "convert/convert_spec.h"
#include "data/dataset_spec.h"
#include "experiment/model_run.h"
#include "mapping/map_file.h"
#include "mapping/map_spec.h"
#include "model/model_spec.h"
#include "sim/batch_statistics.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Rates measure_rates(const Settings& settings, const SnnModel& model, int verbosity) {
    const SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    SnnResult result;
    const InputSummary input = for_each_test_chunk(
        settings, model.populations.at(0).shape, settings.get_int("mapping.traffic_images"),
        [&](const ImageSet& chunk) {
            accumulate(result, engine.evaluate(chunk, input_normalisation(settings, chunk.channels), options));
        });
    Rates rates = measured_rates(result, options, input.mean_pixel);
    rates.population.resize(model.populations.size(), -1.0);
    if (verbosity > 0)
        fmt::print("firing rates measured on {} test images x {} steps ({:.1f} s)\n", rates.images, rates.steps,
                   result.seconds);
    return rates;
}

}  // namespace

Rates measured_rates(const SnnResult& result, const SnnOptions& options, double mean_pixel) {
    Rates rates;
    rates.source = "measured";
    rates.images = result.images;
    rates.steps = result.steps;
    rates.population.assign(result.populations.size(), -1.0);
    for (size_t i = 0; i < result.populations.size(); ++i) rates.population[i] = result.populations[i].firing_rate;
    if (!options.encoding->constant_current()) {  // the input spikes at each pixel's value
        rates.host = mean_pixel;
    } else {
        rates.host = 1.0 / static_cast<double>(options.steps);  // a constant current is sent once per image
    }
    return rates;
}

MapRun prepare_mapping(const Settings& settings, const std::string& snn_file, bool need_data, int verbosity,
                       bool build_mapping) {
    const auto t_start = Clock::now();
    const ChipSpec chip = chip_spec(settings);
    const MapOptions options = map_options(settings);
    const std::string traffic = settings.get_string("mapping.traffic");
    MapRun run;
    // A zoo network's weights are random: its rates say nothing, so `auto` estimates them. A NIR network's are trained.
    const bool trained = settings.has("model.onnx") || settings.has("model.nir") || !snn_file.empty();
    const bool measure = build_mapping && (traffic == "measured" || (traffic == "auto" && trained));
    run.model = spiking_model(settings, snn_file, measure || need_data, verbosity);
    run.seconds_model = seconds_since(t_start);
    if (measure) run.rates = measure_rates(settings, run.model, verbosity);
    run.seconds_rates = seconds_since(t_start) - run.seconds_model;
    if (!build_mapping) return run;

    MapTimes times;
    run.mapping = map_network(run.model, chip, options,
                              measure ? &run.rates.population : nullptr, measure ? run.rates.host : -1.0, &times);
    run.seconds_partition = times.partition_s;
    run.seconds_connect = times.connect_s;
    run.seconds_place = times.place_s;
    return run;
}

MappingTotals mapping_totals(const Mapping& mapping) {
    const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
    MappingTotals t;
    for (const auto& layer : mapping.graph.layers) {
        t.units += layer.units();
        if (layer.kind == UnitKind::Neuron || layer.kind == UnitKind::Readout) t.if_neurons += layer.units();
        if (layer.kind == UnitKind::Partial) t.partial_units += layer.units();
        if (layer.kind == UnitKind::Gate || layer.kind == UnitKind::Current) t.gate_units += layer.units();
        t.cores_by_binding[layer.binding] += layer.cores;
    }
    for (const auto& core : mapping.cores) t.synapses += core.synapses;
    t.neuron_bound = ceil_div(t.if_neurons, mapping.chip.core.neurons);
    t.unit_bound = ceil_div(t.units, mapping.chip.core.neurons);
    t.synapse_bound = ceil_div(t.synapses, mapping.chip.core.synapses);
    // The binding resource: the one whose lower bound on cores is largest.
    t.binding = "neurons";
    int64_t most = t.neuron_bound;
    if (t.unit_bound > most && t.partial_units > 0) t.binding = "fan-in", most = t.unit_bound;
    if (t.synapse_bound > most) t.binding = "synapses";
    return t;
}

Mapping load_checked_mapping(const std::string& file, const SnnModel& model) {
    Mapping mapping = load_mapping(file);
    for (const auto& layer : mapping.graph.layers) {
        if (layer.population < 0 || layer.population >= static_cast<int>(model.populations.size()))
            throw DataError(fmt::format("{}: layer '{}' refers to population {}, but the model has {}", file,
                                        layer.name, layer.population, model.populations.size()));
        const Population& population = model.populations[static_cast<size_t>(layer.population)];
        if (population.size() != layer.units() && layer.kind != UnitKind::Partial)
            throw DataError(fmt::format("{}: layer '{}' has {} units, but population '{}' of the model has {} neurons; "
                                        "map this model again",
                                        file, layer.name, layer.units(), population.name, population.size()));
    }
    return mapping;
}

}  // namespace neuroemu::experiment
