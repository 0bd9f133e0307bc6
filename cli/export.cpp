// `neuroemu export`: any network neuroemu loads (converted from ONNX or a zoo topology, a .snn file, a NIR file)
// written as a NIR graph (docs/nir.md), for the NIR ecosystem's simulators and chips.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "experiment/model_run.h"
#include "nir/nir_import.h"

namespace neuroemu {

namespace {

bool has_suffix(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int run_export(const CommonOptions& opts, const std::string& output) {
    if (output.empty()) throw ConfigError("export: name the NIR file to write with -o FILE.nir");
    SnnModel model;
    nlohmann::json settings_doc = nullptr;
    if (has_suffix(opts.target, ".snn")) {  // a converted model as it is; no settings needed
        model = load_snn(opts.target);
    } else {
        const Settings settings = load_experiment(opts);
        model = experiment::spiking_model(settings, "", /*calibrate=*/true, opts.verbosity());
        settings_doc = settings_json(settings);
    }
    nir::export_nir(model, output);
    fmt::print("{} '{}': {} populations, {} synapses -> {}\n", model.source_format == "nir" ? "NIR network" : "S-ResNet",
               model.name, model.populations.size(), thousands(model.synapse_count()), output);
    if (!opts.json_file.empty())
        write_json_file(opts.json_file, {{"command", "export"}, {"output", output}, {"snn", snn_summary_json(model)},
                                         {"settings", settings_doc}});
    return 0;
}

}  // namespace

Command add_export_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("export", "write the network (converted, a .snn file, or a NIR file) as a "
                                                 "NIR graph (docs/nir.md)");
    add_common_options(cmd, common);
    auto output = std::make_shared<std::string>();
    cmd->add_option("-o,--output", *output, "the NIR file to write (FILE.nir)")->required();
    return {cmd, [&common, output] { return run_export(common, *output); }};
}

}  // namespace neuroemu
