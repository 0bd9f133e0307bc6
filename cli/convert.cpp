// `neuroemu convert`: ANN -> S-ResNet, written as a .snn file (docs/snn-format.md).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "convert/convert_spec.h"
#include "experiment/model_run.h"
#include "nir/nir_import.h"
#include "sim/batch_statistics.h"

namespace neuroemu {

nlohmann::json snn_summary_json(const SnnModel& model) {
    nlohmann::json pops = nlohmann::json::array(), projs = nlohmann::json::array();
    int64_t neurons = 0;
    for (const auto& p : model.populations) {
        const float lmax = p.lambda.empty() ? 0.0f : *std::max_element(p.lambda.begin(), p.lambda.end());
        pops.push_back({{"name", p.name},
                        {"kind", to_string(p.kind)},
                        {"neuron_model", p.kind == PopulationKind::IF ? nlohmann::json(p.neuron.model) : nlohmann::json(nullptr)},
                        {"shape", p.shape},
                        {"neurons", p.kind == PopulationKind::IF ? p.size() : 0},
                        {"spiking", p.spiking},
                        {"lambda", p.lambda.size() == 1 ? nlohmann::json(p.lambda[0]) : nlohmann::json(p.lambda)},
                        {"lambda_max", lmax}});
        if (p.kind == PopulationKind::IF) neurons += p.size();
    }
    for (const auto& p : model.projections)
        projs.push_back({{"name", p.name},
                         {"kind", to_string(p.kind)},
                         {"source", model.populations[static_cast<size_t>(p.source)].name},
                         {"target", model.populations[static_cast<size_t>(p.target)].name},
                         {"shortcut", p.shortcut},
                         {"synapses", synapse_count(model, p)}});
    const auto& record = model.record;
    return {{"name", model.name},
            {"format_version", SnnModel::kFormatVersion},
            {"source_format", model.source_format},
            {"dt_s", model.dt_s > 0 ? nlohmann::json(model.dt_s) : nlohmann::json(nullptr)},
            {"discretisation", model.discretisation == Discretisation::Exact ? "exact" : "euler"},
            {"populations", pops},
            {"projections", projs},
            {"if_neurons", neurons},
            {"synapses", model.synapse_count()},
            {"reset", model.reset == ResetMode::Subtract ? "subtract" : "zero"},
            {"v_init", model.v_init},
            {"conversion",
             {{"percentile", record.percentile},
              {"calibration_images", record.calibration_images},
              {"channel_wise", record.channel_wise},
              {"shortcut_normalisation", record.shortcut_normalisation},
              {"zeta", record.zeta}}}};
}

nlohmann::json compensation_json(const ConversionReport& rep) {
    if (!rep.compensated) return nullptr;
    nlohmann::json trials = nlohmann::json::array();
    for (const auto& t : rep.search.trials)
        trials.push_back({{"zeta", t.zeta}, {"accuracy", t.accuracy},
                          {"rate_error", t.error >= 0 ? nlohmann::json(t.error) : nlohmann::json(nullptr)}});
    return {{"fit", {{"p", rep.fit.p}, {"q", rep.fit.q}, {"r2", rep.fit.r2}, {"adj_r2", rep.fit.adj_r2},
                     {"ok", rep.fit.ok}, {"depth", rep.fit.depth}, {"error", rep.fit.error}}},
            {"tau_max", std::isfinite(rep.search.tau_max) ? nlohmann::json(rep.search.tau_max) : nlohmann::json(nullptr)},
            {"trials", trials},
            {"zeta", rep.search.best}};
}

namespace {

// `output` empty: no .snn file (only --nir's).
int run_convert(const CommonOptions& opts, const std::string& output, const std::string& nir_output) {
    const int verbosity = opts.verbosity();
    const Settings settings = load_experiment(opts);
    const Network net = load_network(settings);
    Network folded;
    ConversionReport report;
    const SnnModel model = convert_from_settings(settings, net, folded, report, verbosity);
    if (!output.empty()) save_snn(model, output);
    if (!nir_output.empty()) nir::export_nir(model, nir_output);
    const std::string written = output.empty() ? nir_output : nir_output.empty() ? output : output + " and " + nir_output;
    int64_t neurons = 0;
    for (const auto& p : model.populations)
        if (p.kind == PopulationKind::IF) neurons += p.size();
    fmt::print("S-ResNet '{}': {} populations, {} IF neurons, {} synapses -> {}\n", model.name, model.populations.size(),
               thousands(neurons), thousands(model.synapse_count()), written);
    if (verbosity > 0) experiment::print_compensation(report);
    if (verbosity > 1)
        for (const auto& p : model.populations)
            fmt::print("  {:<28} {:<9} {:<14} λ {}\n", p.name, to_string(p.kind), shape_str(p.shape),
                       p.lambda.size() == 1 ? fmt::format("{:.4g}", p.lambda[0]) : fmt::format("per channel ({})", p.lambda.size()));
    if (!opts.json_file.empty())
        write_json_file(opts.json_file, {{"command", "convert"},
                                         {"output", output.empty() ? nlohmann::json(nullptr) : nlohmann::json(output)},
                                         {"nir_output", nir_output.empty() ? nlohmann::json(nullptr) : nlohmann::json(nir_output)},
                                         {"model", model_summary_json(net)},
                                         {"snn", snn_summary_json(model)},
                                         {"compensation", compensation_json(report)},
                                         {"settings", settings_json(settings)}});
    return 0;
}

}  // namespace

Command add_convert_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("convert", "convert the ANN into an S-ResNet and save it (.snn)");
    add_common_options(cmd, common);
    auto output = std::make_shared<std::string>("model.snn");
    auto nir_output = std::make_shared<std::string>();
    CLI::Option* o = cmd->add_option("-o,--output", *output, "where to write the converted model (with --nir and no "
                                                              "-o: no .snn file)")->capture_default_str();
    cmd->add_option("--nir", *nir_output, "also write the converted model as a NIR graph (FILE.nir, docs/nir.md)");
    return {cmd, [&common, output, nir_output, o] {
                return run_convert(common, nir_output->empty() || o->count() ? *output : std::string(), *nir_output);
            }};
}

}  // namespace neuroemu
