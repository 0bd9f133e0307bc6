#include "experiment/model_run.h"

#include <fmt/format.h>

#include "common/progress.h"
#include "data/dataset_spec.h"
#include "sim/batch_statistics.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity) {
    if (!snn_file.empty()) {
        folded = fold_batchnorm(net);
        return load_snn(snn_file);
    }
    SnnModel model = convert_from_settings(settings, net, folded, report, verbosity);
    if (verbosity > 0) print_compensation(report);
    return model;
}

void print_compensation(const ConversionReport& report) {
    if (!report.compensated) return;
    if (report.fit.ok)
        fmt::print("propagation error fit Ē = p·q^l over {} layers: p = {:.6f}, q = {:.4f}, adjusted R² = {:.4f}\n",
                   report.fit.depth.size(), report.fit.p, report.fit.q, report.fit.adj_r2);
    else
        fmt::print("propagation error fit: fewer than three layers with positive error; searching around q = 1\n");
    std::string tried;
    bool errors = false;
    for (const auto& trial : report.search.trials) {
        tried += fmt::format(" {:.3f}:{:.2f}%", trial.zeta, 100.0 * trial.accuracy);
        if (trial.error >= 0) tried += fmt::format(":{:.5f}", trial.error), errors = true;
    }
    fmt::print("ζ trials (ζ:accuracy{}):{}\nchosen ζ = {:.4f} (τ_max = {:.3f})\n", errors ? "[:propagation error]" : "",
               tried, report.search.best, report.search.tau_max);
}

FunctionalRun run_functional(const Settings& settings, const std::string& snn_file, int verbosity) {
    FunctionalRun run;
    run.net = load_network(settings);
    run.model = snn_for_run(settings, run.net, snn_file, run.folded, run.conversion, verbosity);
    run.test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"),
                            run.model.populations.at(0).shape);
    run.options = snn_options(settings);
    const SnnEngine engine(run.model);
    Progress progress("snn", run.test.count, verbosity > 0 && Progress::stderr_is_terminal());
    run.result = engine.evaluate(run.test, input_normalisation(settings, run.test.channels), run.options, &progress,
                                 settings.get_bool("simulation.compare_ann") ? &run.folded : nullptr);
    return run;
}

AnnRun run_ann(const Settings& settings, int verbosity) {
    AnnRun run;
    run.net = load_network(settings);
    run.test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"), run.net.input_shape());
    run.options = ann_options(settings);
    const AnnEngine engine(run.net);
    Progress progress("ann", run.test.count, verbosity > 0 && Progress::stderr_is_terminal());
    run.result = engine.evaluate(run.test, input_normalisation(settings, run.test.channels), run.options, &progress);
    return run;
}

}  // namespace neuroemu::experiment
