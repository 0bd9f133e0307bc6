// `neuroemu evaluate`: accuracy of the model on the test set.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/pipeline.h"
#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "data/dataset_spec.h"
#include "model/model_spec.h"
#include "convert/convert_spec.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

void print_population_table(const SnnModel& m, const SnnResult& r) {
    size_t name_w = 10;
    for (const auto& p : r.populations) name_w = std::max(name_w, p.name.size());
    const double images = static_cast<double>(std::max<int64_t>(1, r.images));
    fmt::print("{:<{}}  {:<8}  {:>9}  {:>8}  {:>8}  {:>12}  {:>12}  {:>10}  {:>10}\n", "population", name_w, "kind",
               "neurons", "rate", "max rate", "spikes/img", "SOPs in/img", "E=V/T", "Ē=a/λ-r");
    for (size_t i = 0; i < r.populations.size(); ++i) {
        const auto& p = r.populations[i];
        fmt::print("{:<{}}  {:<8}  {:>9}  {:>8.4f}  {:>8.4f}  {:>12}  {:>12}  {:>10}  {:>10}\n", p.name, name_w, p.kind,
                   thousands(m.populations[i].size()), p.firing_rate, p.max_rate,
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(p.spikes) / images))),
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(p.sops_in) / images))),
                   p.has_error ? fmt::format("{:.5f}", p.local_error) : "",
                   p.has_error ? fmt::format("{:.5f}", p.accumulated_error) : "");
    }
}

nlohmann::json snn_result_json(const SnnResult& r, const std::vector<int64_t>& checkpoints, int threads) {
    nlohmann::json curve = nlohmann::json::array(), table = nlohmann::json::array(), pops = nlohmann::json::array(),
                   projs = nlohmann::json::array();
    for (int64_t t = 1; t <= r.steps; ++t) curve.push_back(r.accuracy(t));
    for (int64_t t : checkpoints) table.push_back({{"step", t}, {"top1", r.accuracy(t)}});
    const double images = static_cast<double>(std::max<int64_t>(1, r.images));
    for (const auto& p : r.populations) {
        nlohmann::json j = {{"name", p.name},         {"kind", p.kind},         {"neurons", p.neurons},
                            {"spikes", p.spikes},     {"sops_in", p.sops_in},   {"sops_out", p.sops_out},
                            {"firing_rate", p.firing_rate}, {"max_rate", p.max_rate}};
        if (p.has_error) {
            j["local_error"] = p.local_error;
            j["accumulated_error"] = p.accumulated_error;
            j["accumulated_error_max_neuron"] = p.accumulated_error_max_neuron;
            j["rate_error_abs"] = p.rate_error_abs;
        }
        pops.push_back(j);
    }
    for (const auto& p : r.projections)
        projs.push_back({{"name", p.name}, {"source", r.populations[static_cast<size_t>(p.source)].name},
                         {"target", r.populations[static_cast<size_t>(p.target)].name}, {"synapses", p.synapses},
                         {"sops", p.sops}});
    return {{"steps", r.steps},
            {"images", r.images},
            {"top1", r.accuracy(r.steps)},
            {"correct", r.correct_at_step.back()},
            {"accuracy_curve", curve},
            {"checkpoints", table},
            {"ann_top1", r.ann_correct >= 0 ? nlohmann::json(static_cast<double>(r.ann_correct) / images) : nlohmann::json(nullptr)},
            {"totals", {{"sops", r.sops}, {"sops_per_image", static_cast<double>(r.sops) / images},
                        {"spikes", r.spikes}, {"spikes_per_image", static_cast<double>(r.spikes) / images},
                        {"input_macs", r.input_macs}}},
            {"populations", pops},
            {"projections", projs},
            {"seconds", r.seconds},
            {"image_steps_per_s", r.seconds > 0 ? images * static_cast<double>(r.steps) / r.seconds : 0.0},
            {"threads", threads}};
}

int run_evaluate_snn(const CommonOptions& opts, const EvaluateOptions& eval, const Settings& settings) {
    const Network net = load_model(settings);
    Network folded;
    ConversionReport report;
    const SnnModel model = snn_for_run(settings, net, eval.snn, folded, report, opts.verbosity);
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"));
    const SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    SnnResult r;
    {
        Progress progress("snn", test.count, opts.verbosity > 0 && Progress::stderr_is_terminal());
        r = engine.evaluate(test, input_normalisation(settings, test.channels), options, &progress,
                            settings.get_bool("simulation.compare_ann") ? &folded : nullptr);
    }
    const auto checkpoints = accuracy_checkpoints(settings, options.steps);
    const double ann_top1 = static_cast<double>(r.ann_correct) / static_cast<double>(std::max<int64_t>(1, r.images));
    fmt::print("S-ResNet top-1 accuracy {:.2f}% ({}/{}) after {} steps{}\n", 100.0 * r.accuracy(r.steps),
               r.correct_at_step.back(), r.images, r.steps,
               r.ann_correct >= 0 ? fmt::format("; ANN {:.2f}% on the same images", 100.0 * ann_top1) : std::string());
    if (opts.verbosity > 0) {
        std::string line;
        for (int64_t t : checkpoints) line += fmt::format("  T={}: {:.2f}%", t, 100.0 * r.accuracy(t));
        fmt::print("accuracy vs time step:{}\n", line);
        const double images = static_cast<double>(std::max<int64_t>(1, r.images));
        fmt::print("per image: {} SOPs, {} spikes over {} steps\n",
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(r.sops) / images))),
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(r.spikes) / images))), r.steps);
    }
    if (opts.verbosity > 1) {
        print_population_table(model, r);
        fmt::print("simulation {:.3f} s, {:.0f} image-steps/s on {} threads\n", r.seconds,
                   r.seconds > 0 ? static_cast<double>(r.images * r.steps) / r.seconds : 0.0, resolve_threads(options.threads));
    }
    if (!opts.json_file.empty())
        write_json_file(opts.json_file, {{"command", "evaluate"},
                                         {"model", model_summary_json(net)},
                                         {"dataset", {{"name", settings.get_string("dataset.name")}, {"split", "test"}, {"images", r.images}}},
                                         {"snn_model", snn_summary_json(model)},
                                         {"compensation", compensation_json(report)},
                                         {"snn", snn_result_json(r, checkpoints, resolve_threads(options.threads))},
                                         {"settings", settings_json(settings)}});
    return 0;
}

}  // namespace

int run_evaluate(const CommonOptions& opts, const EvaluateOptions& eval) {
    std::vector<std::string> extra;
    if (eval.steps) extra.push_back(fmt::format("simulation.steps={}", *eval.steps));
    if (eval.ann && (eval.steps || !eval.snn.empty()))
        throw ConfigError("evaluate: --ann evaluates the ANN alone; drop --steps/--snn, or drop --ann for the S-ResNet");
    if (!eval.ann) {
        if (eval.images) extra.push_back(fmt::format("dataset.images={}", *eval.images));
        return run_evaluate_snn(opts, eval, load_experiment(opts, extra));
    }
    if (eval.images) extra.push_back(fmt::format("dataset.images={}", *eval.images));
    const Settings settings = load_experiment(opts, extra);
    const Network net = load_model(settings);
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"));
    const AnnOptions options = ann_options(settings);
    const AnnEngine engine(net);
    AnnResult r;
    {
        Progress progress("ann", test.count, opts.verbosity > 0 && Progress::stderr_is_terminal());
        r = engine.evaluate(test, input_normalisation(settings, test.channels), options, &progress);
    }
    const double images_per_s = r.seconds > 0 ? static_cast<double>(r.images) / r.seconds : 0.0;
    if (opts.verbosity > 0)
        fmt::print("model {} on {} test images of {}: ", net.name(), thousands(r.images),
                   settings.get_string("dataset.name"));
    fmt::print("ANN top-1 accuracy {:.2f}% ({}/{})\n", 100.0 * r.top1(), r.correct, r.images);
    if (opts.verbosity > 1)
        fmt::print("inference {:.3f} s, {:.0f} images/s on {} threads\n", r.seconds, images_per_s,
                   resolve_threads(options.threads));
    if (!opts.json_file.empty()) {
        nlohmann::json doc = {{"command", "evaluate"},
                              {"model", model_summary_json(net)},
                              {"dataset", {{"name", settings.get_string("dataset.name")},
                                           {"split", "test"},
                                           {"images", r.images}}},
                              {"ann", {{"top1", r.top1()},
                                       {"correct", r.correct},
                                       {"images", r.images},
                                       {"seconds", r.seconds},
                                       {"images_per_s", images_per_s},
                                       {"threads", resolve_threads(options.threads)}}},
                              {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

}  // namespace neuroemu
