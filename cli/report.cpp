// `neuroemu report`: accuracy, firing rates, SOPs, mapping, hardware timing and energy of one experiment in one
// document (docs/report-format.md), rendered to HTML, Markdown and CSV (report/render.h). The experiment and its
// document come from experiment/; this file prints the headline and writes the files.
#include <fmt/format.h>

#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "experiment/experiment.h"
#include "experiment/report_document.h"
#include "mpi/world.h"
#include "report/format.h"
#include "report/render.h"

namespace neuroemu {

namespace {

using nlohmann::json;
using report::si;

struct ReportOptions {
    EngineOptions engine;
    std::string output;                       // -o DIR: report.html, report.md, report.json and CSV files
    std::optional<std::string> hw_images;     // --hw-images N (report.hw_images)
    std::optional<std::string> sample_ticks;  // --sample-ticks K (hardware.sample_ticks)
};

void print_accuracy(const experiment::ExperimentResult& result, const json& doc, int verbosity) {
    const SnnResult& snn = result.functional.result;
    if (!snn.labelled) {
        fmt::print("{}: {} on {}, {} steps\n", doc["title"].get<std::string>(),
                   result.functional.has_ann ? "S-ResNet" : "spiking network (NIR)", doc["input"].get<std::string>(),
                   snn.steps);
        return;
    }
    const double ann_top1 = snn.ann_correct >= 0 ? doc["headline"]["accuracy_ann"].get<double>() : 0.0;
    fmt::print("{}: {} top-1 {:.2f}% after {} steps on {} images{}\n", doc["title"].get<std::string>(),
               result.functional.has_ann ? "S-ResNet" : "spiking network (NIR)", 100.0 * snn.accuracy(snn.steps), snn.steps, snn.images,
               snn.ann_correct >= 0 ? fmt::format(" (ANN {:.2f}%)", 100.0 * ann_top1) : std::string());
    if (result.fault_free)  // chip.faults that lose events: the figure above is the faulty chip's
        fmt::print("  with chip.faults (the fault-aware engine); without them {:.2f}%\n",
                   100.0 * result.fault_free->accuracy(snn.steps));
    if (verbosity > 0) {
        std::string line;
        for (const auto& c : doc["accuracy"]["checkpoints"])
            line += fmt::format("  T={}: {:.2f}%", c.at("step").get<int64_t>(), 100.0 * c.at("top1").get<double>());
        fmt::print("accuracy vs time step:{}\n", line);
    }
}

void print_chip_and_energy(const experiment::ExperimentResult& result, const json& doc, int verbosity) {
    const json& headline = doc["headline"];
    const std::optional<double>& latency_s = result.counts.seconds;
    if (result.mapping)
        fmt::print("chip: {} cores on a {} x {} mesh{}\n", thousands(static_cast<int64_t>(result.mapping->cores.size())),
                   result.mapping->mesh.width(), result.mapping->mesh.height(),
                   latency_s ? fmt::format("; latency {} per inference ({:.0f} cycles per tick)", si(*latency_s, "s"),
                                           headline["cycles_per_tick_mean"].get<double>())
                             : std::string("; not simulated (report.hw_images = 0)"));
    else
        fmt::print("chip: does not fit: {}\n", result.fit_error);
    if (doc["ticks"].is_object() && doc["ticks"].contains("sampling")) print_sampling(doc["ticks"]["sampling"]);
    const double snn_j = result.energy_snn.total_j(), sop_j = result.energy_snn_sop.total_j();
    const double ann_j = result.energy_ann.total_j();
    if (!result.functional.has_ann)
        fmt::print("energy per inference: spiking network {} on the chip ({} of it synaptic operations); no ANN "
                   "comparison: a NIR network has no ANN\n", si(snn_j, "J"), si(sop_j, "J"));
    else
        fmt::print("energy per inference: S-ResNet {} on the chip ({} of it synaptic operations, the paper's method), "
               "ANN {} on the FPGA: {:.3g}x the chip's, {:.3g}x the SOPs'\n",
               si(snn_j, "J"), si(sop_j, "J"), si(ann_j, "J"), ann_j / snn_j, ann_j / sop_j);
    if (verbosity > 0)
        for (const auto& t : result.energy_snn.terms)
            fmt::print("  {:<50} {:>10} {:<8} x {:>18} = {:>9}  ({})\n", t.label, fmt::format("{:.4g}", t.count), t.unit,
                       report::coefficient(t.coefficient_j, t.coefficient_unit), si(t.energy_j, "J"), t.source);
}

int run_report(const CommonOptions& opts, const ReportOptions& cmd) {
    std::vector<std::string> extra = engine_overrides(cmd.engine);
    add_int_override(extra, "--hw-images", "report.hw_images", cmd.hw_images);
    add_int_override(extra, "--sample-ticks", "hardware.sample_ticks", cmd.sample_ticks);
    if (cmd.output.empty() && opts.json_file.empty())
        throw ConfigError("report: give -o DIR (HTML, Markdown, CSV and JSON) or --json FILE");
    const Settings settings = load_experiment(opts, extra);
    const experiment::ExperimentResult result =
        experiment::run_experiment(settings, {cmd.engine.snn, opts.verbosity()});
    if (!mpi::root()) return 0;  // under mpirun the ranks shared the hardware run; rank 0 writes the report
    const json doc = experiment::report_document(result, settings, opts.target);

    print_accuracy(result, doc, opts.verbosity());
    print_chip_and_energy(result, doc, opts.verbosity());
    if (!cmd.output.empty()) {
        report::write_report(doc, cmd.output);
        fmt::print("report: {}/report.html (also report.md, report.json, CSV files)\n", cmd.output);
    }
    if (!opts.json_file.empty()) write_json_file(opts.json_file, doc);
    return 0;
}

}  // namespace

Command add_report_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("report", "accuracy, firing rates, mapping, timing and energy (SNN vs ANN) "
                                       "as an HTML report with Markdown, JSON and CSV");
    add_common_options(cmd, common);
    auto options = std::make_shared<ReportOptions>();
    cmd->add_option("-o,--output", options->output, "directory for report.html, report.md, report.json, *.csv");
    add_engine_options(cmd, options->engine);
    add_setting_option(cmd, "--hw-images", "report.hw_images", options->hw_images,
                       "test images the SystemC hardware model runs (0: none)");
    add_sample_ticks_option(cmd, options->sample_ticks);
    return {cmd, [&common, options] { return run_report(common, *options); }, /*distributed=*/true};
}

}  // namespace neuroemu
