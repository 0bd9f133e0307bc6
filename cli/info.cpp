// `neuroemu info`: what the model is and what it becomes on the chip.
#include <fmt/format.h>

#include <algorithm>

#include "cli/commands.h"
#include "cli/output.h"
#include "arch/chip_spec.h"
#include "experiment/model_run.h"
#include "model/model_spec.h"

namespace neuroemu {

namespace {

void print_layers(const Network& net) {
    size_t name_w = 5;
    for (const auto& l : net.layers()) name_w = std::max(name_w, l.name.size());
    fmt::print("{:>4}  {:<{}}  {:<13}  {:<16}  {:>12}  {:>15}  {:>11}\n", "#", "layer", name_w, "op", "output shape",
               "params", "MACs", "IF neurons");
    for (int id = 0; id < net.size(); ++id) {
        const Layer& l = net.layer(id);
        const int64_t neurons = if_neuron_count(net, id);
        fmt::print("{:>4}  {:<{}}  {:<13}  {:<16}  {:>12}  {:>15}  {:>11}\n", id, l.name, name_w, op_name(l.kind),
                   shape_str(l.shape), param_count(l) ? thousands(param_count(l)) : "",
                   mac_count(l) ? thousands(mac_count(l)) : "", neurons ? thousands(neurons) : "");
    }
}

// A NIR network: no ANN layers, MACs or parameters to show; its populations and projections as imported.
int run_info_nir(const CommonOptions& opts, const Settings& settings) {
    const SnnModel model = experiment::load_nir_model(settings);
    const ChipSpec chip = chip_spec(settings);
    int64_t neurons = 0;
    for (const auto& p : model.populations)
        if (p.kind == PopulationKind::IF) neurons += p.size();
    const int64_t cores = cores_lower_bound(chip, neurons);
    if (opts.verbosity() > 0) {
        fmt::print("NIR network {}: {} populations, {} projections (no ANN)\n\n", model.name, model.populations.size(),
                   model.projections.size());
        for (const auto& p : model.populations)
            fmt::print("  {:<24} {:<10} {:<14} {:>10}\n", p.name,
                       p.kind == PopulationKind::IF ? p.neuron.model : to_string(p.kind), shape_str(p.shape),
                       thousands(p.size()));
        for (const auto& p : model.projections)
            fmt::print("  {:<24} {:<10} {} -> {}{}: {} synapses\n", p.name, to_string(p.kind),
                       model.populations[static_cast<size_t>(p.source)].name,
                       model.populations[static_cast<size_t>(p.target)].name, p.recurrent ? " (recurrent)" : "",
                       thousands(synapse_count(model, p)));
        fmt::print("\n");
    }
    fmt::print("total: {} neurons, {} synapses; at least {} cores of {} neurons on chip {}\n", thousands(neurons),
               thousands(model.synapse_count()), thousands(cores), chip.core.neurons, chip.name);
    if (!opts.json_file.empty())
        write_json_file(opts.json_file, {{"command", "info"}, {"model", nullptr}, {"snn_model", snn_summary_json(model)},
                                         {"chip", {{"name", chip.name}, {"neurons_per_core", chip.core.neurons},
                                                   {"cores_lower_bound", cores}}},
                                         {"settings", settings_json(settings)}});
    return 0;
}

int run_info(const CommonOptions& opts) {
    const int verbosity = opts.verbosity();
    const Settings settings = load_experiment(opts);
    if (nir_model(settings)) return run_info_nir(opts, settings);
    const Network net = load_model(settings);
    const ChipSpec chip = chip_spec(settings);
    const NetworkTotals t = totals(net);
    const int64_t cores = cores_lower_bound(chip, t.if_neurons);
    if (verbosity > 0) {
        fmt::print("model {}: input {} -> output {}, {} layers\n\n", net.name(), shape_str(net.input_shape()),
                   shape_str(net.layer(net.output_id()).shape), net.size());
        print_layers(net);
        fmt::print("\n");
    }
    fmt::print("total: {} params, {} MACs ({} FLOPs), {} IF neurons after conversion\n", thousands(t.params),
               thousands(t.macs), thousands(2 * t.macs), thousands(t.if_neurons));
    if (verbosity > 0)
        fmt::print("chip {}: at least {} cores of {} neurons (neuron count alone; synapse and fan-in limits come "
                   "with mapping)\n",
                   chip.name, thousands(cores), chip.core.neurons);
    if (!opts.json_file.empty()) {
        nlohmann::json doc = {{"command", "info"},
                              {"model", model_summary_json(net)},
                              {"chip", {{"name", chip.name},
                                        {"neurons_per_core", chip.core.neurons},
                                        {"cores_lower_bound", cores}}},
                              {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

}  // namespace

Command add_info_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("info", "per-layer shapes, parameters, MACs and IF neurons of a model (a NIR network: its populations and projections)");
    add_common_options(cmd, common);
    return {cmd, [&common] { return run_info(common); }};
}

}  // namespace neuroemu
