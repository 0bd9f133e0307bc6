// `neuroemu evaluate`: accuracy of the model on the test set.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "arch/fault_spec.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/probes.h"
#include "common/error.h"
#include "common/parallel.h"
#include "experiment/fault_losses.h"
#include "experiment/model_run.h"
#include "mpi/world.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

void print_population_table(const SnnModel& model, const SnnResult& result) {
    size_t name_w = 10;
    for (const auto& p : result.populations) name_w = std::max(name_w, p.name.size());
    const double images = static_cast<double>(std::max<int64_t>(1, result.images));
    fmt::print("{:<{}}  {:<8}  {:>9}  {:>8}  {:>8}  {:>12}  {:>12}  {:>10}  {:>10}\n", "population", name_w, "kind",
               "neurons", "rate", "max rate", "spikes/img", "SOPs in/img", "E=V/T", "Ē=a/λ-r");
    for (size_t i = 0; i < result.populations.size(); ++i) {
        const auto& p = result.populations[i];
        fmt::print("{:<{}}  {:<8}  {:>9}  {:>8.4f}  {:>8.4f}  {:>12}  {:>12}  {:>10}  {:>10}\n", p.name, name_w, p.kind,
                   thousands(model.populations[i].size()), p.firing_rate, p.max_rate,
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(p.spikes) / images))),
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(p.sops_in) / images))),
                   p.has_error ? fmt::format("{:.5f}", p.local_error) : "",
                   p.has_error ? fmt::format("{:.5f}", p.accumulated_error) : "");
    }
}

nlohmann::json dataset_json(const Settings& settings, int64_t images) {
    return {{"name", settings.get_string("dataset.name")}, {"format", settings.get_string("dataset.format")},
            {"split", "test"}, {"images", images}};
}

nlohmann::json snn_result_json(const SnnResult& result, const std::vector<int64_t>& checkpoints, int threads) {
    nlohmann::json curve = nlohmann::json::array(), table = nlohmann::json::array(), pops = nlohmann::json::array(),
                   projs = nlohmann::json::array();
    for (int64_t t = 1; t <= result.steps; ++t) curve.push_back(result.accuracy(t));
    for (int64_t t : checkpoints) table.push_back({{"step", t}, {"top1", result.accuracy(t)}});
    const double images = static_cast<double>(std::max<int64_t>(1, result.images));
    for (const auto& p : result.populations) {
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
    for (const auto& p : result.projections)
        projs.push_back({{"name", p.name}, {"source", result.populations[static_cast<size_t>(p.source)].name},
                         {"target", result.populations[static_cast<size_t>(p.target)].name}, {"synapses", p.synapses},
                         {"sops", p.sops}});
    const bool meaningful = result.labelled;  // synthetic input: no accuracy figure at all
    return {{"steps", result.steps},
            {"images", result.images},
            {"accuracy_meaningful", meaningful},
            {"top1", meaningful ? nlohmann::json(result.accuracy(result.steps)) : nlohmann::json(nullptr)},
            {"correct", meaningful ? nlohmann::json(result.correct_at_step.back()) : nlohmann::json(nullptr)},
            {"accuracy_curve", meaningful ? curve : nlohmann::json(nullptr)},
            {"checkpoints", meaningful ? table : nlohmann::json(nullptr)},
            {"ann_top1", meaningful && result.ann_correct >= 0 ? nlohmann::json(static_cast<double>(result.ann_correct) / images) : nlohmann::json(nullptr)},
            {"totals", {{"sops", result.sops}, {"sops_per_image", static_cast<double>(result.sops) / images},
                        {"spikes", result.spikes}, {"spikes_per_image", static_cast<double>(result.spikes) / images},
                        {"input_macs", result.input_macs}}},
            {"populations", pops},
            {"projections", projs},
            {"seconds", result.seconds},
            {"image_steps_per_s", result.seconds > 0 ? images * static_cast<double>(result.steps) / result.seconds : 0.0},
            {"threads", threads},
            {"memory", {{"workers", result.workers},
                        {"worker_state_bytes", result.worker_state_bytes},
                        {"weight_bytes", result.weight_bytes}}}};
}

void print_snn_result(const experiment::FunctionalRun& run, const std::vector<int64_t>& checkpoints, int verbosity) {
    const SnnResult& result = run.result;
    const double images = static_cast<double>(std::max<int64_t>(1, result.images));
    const double ann_top1 = static_cast<double>(result.ann_correct) / images;
    const char* const what = run.has_ann ? "S-ResNet" : "spiking network (NIR, no ANN)";
    if (!result.labelled)
        fmt::print("{} on {} synthetic images, {} steps: accuracy not meaningful (the labels mean nothing)\n",
                   what, result.images, result.steps);
    else
        fmt::print("{} top-1 accuracy {:.2f}% ({}/{}) after {} steps{}\n", what, 100.0 * result.accuracy(result.steps),
                   result.correct_at_step.back(), result.images, result.steps,
                   result.ann_correct >= 0 ? fmt::format("; ANN {:.2f}% on the same images", 100.0 * ann_top1) : std::string());
    if (verbosity > 0 && result.labelled) {
        std::string line;
        for (int64_t t : checkpoints) line += fmt::format("  T={}: {:.2f}%", t, 100.0 * result.accuracy(t));
        fmt::print("accuracy vs time step:{}\n", line);
    }
    if (verbosity > 0) {
        fmt::print("per image: {} SOPs, {} spikes over {} steps\n",
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(result.sops) / images))),
                   thousands(static_cast<int64_t>(std::llround(static_cast<double>(result.spikes) / images))), result.steps);
    }
    if (verbosity > 1) {
        print_population_table(run.model, result);
        fmt::print("simulation {:.3f} s, {:.0f} image-steps/s on {} threads\n", result.seconds,
                   result.seconds > 0 ? static_cast<double>(result.images * result.steps) / result.seconds : 0.0,
                   resolve_threads(run.options.threads));
        fmt::print("memory: {:.1f} MB per worker x {} workers, {:.1f} MB of shared weights\n",
                   static_cast<double>(result.worker_state_bytes) / 1e6, result.workers,
                   static_cast<double>(result.weight_bytes) / 1e6);
    }
}

// What stands for the ANN's summary when there is none: a NIR network is spiking from the start.
nlohmann::json no_ann_json(const Settings& settings) {
    return {{"source", "nir"}, {"file", settings.has("model.nir") ? settings.get_path("model.nir") : ""},
            {"ann", nullptr}, {"note", "a NIR network has no ANN: no conversion, no ANN comparison"}};
}

// Under mpirun every rank simulates its block of the images (experiment::run_functional); rank 0 alone prints
// and writes, the others stay quiet.
int verbosity_here(const CommonOptions& opts) { return mpi::root() ? opts.verbosity() : 0; }

// --input-spikes: the network stepped through the file's steps instead of the dataset's images.
int run_evaluate_stepped(const CommonOptions& opts, const EngineOptions& engine, const ProbeOptions& probe) {
    if (engine.steps || engine.images)
        throw ConfigError("--input-spikes FILE gives the steps (one line each) and replaces the images: drop --steps/--images");
    const Settings settings = load_experiment(opts);
    const SnnModel model = experiment::spiking_model(settings, engine.snn, true, opts.verbosity());
    const std::vector<ProbeSpec> probes = parse_probes(probe, model);
    const SnnEngine snn(model);
    const SteppedRun run = run_input_spikes(snn, read_input_spikes(probe.input_spikes, model.populations.at(0).size()), probes);
    fmt::print("{} stepped through {} ({} steps): {} spikes, {} SOPs; decision {}\n", model.name, probe.input_spikes,
               run.steps, thousands(run.spikes), thousands(run.sops), run.decision);
    if (!probe.csv.empty()) write_probe_csv(probe.csv, run.trace, model);
    if (!opts.json_file.empty()) {
        nlohmann::json pops = nlohmann::json::array();
        for (size_t i = 0; i < model.populations.size(); ++i)
            pops.push_back({{"name", model.populations[i].name}, {"spikes", run.population_spikes[i]}});
        write_json_file(opts.json_file, {{"command", "evaluate"}, {"input_spikes", probe.input_spikes},
                                         {"snn_model", snn_summary_json(model)},
                                         {"stepped", {{"steps", run.steps}, {"spikes", run.spikes}, {"sops", run.sops},
                                                      {"decision", run.decision}, {"populations", pops}}},
                                         {"probe_csv", probe.csv.empty() ? nlohmann::json(nullptr) : nlohmann::json(probe.csv)},
                                         {"settings", settings_json(settings)}});
    }
    return 0;
}

int run_evaluate_snn(const CommonOptions& opts, const EngineOptions& engine, const ProbeOptions& probe) {
    if (!probe.input_spikes.empty()) return run_evaluate_stepped(opts, engine, probe);
    const Settings settings = load_experiment(opts, engine_overrides(engine));
    const auto configure = [&probe](const SnnModel& model, SnnOptions& options) {
        options.probes = parse_probes(probe, model);
        options.probe_image = probe_image(probe);
    };
    // The probed image must be simulated where the trace is written: with probes, every rank runs all images.
    const experiment::FunctionalRun run = experiment::run_functional(
        settings, engine.snn, verbosity_here(opts), probe.any_probe() ? experiment::Shard::All : experiment::Shard::Rank,
        configure);
    if (!mpi::root()) return 0;
    // The network alone, without a chip: faults that lose events would change what a chip classifies, not this.
    if (experiment::FaultLosses::loses(fault_spec(settings)))
        fmt::print(stderr, "evaluate: chip.faults is set but evaluate runs the network without a chip, so its accuracy "
                           "is the fault-free network's; `report`, `simulate` and explore give the faulty chip's\n");
    if (!probe.csv.empty()) {
        if (run.result.probe.image < 0)
            throw ConfigError(fmt::format("--probe-image {}: the run has {} image(s)", probe_image(probe), run.result.images));
        write_probe_csv(probe.csv, run.result.probe, run.model);
    }
    const auto checkpoints = accuracy_checkpoints(settings, run.options.steps);
    print_snn_result(run, checkpoints, opts.verbosity());
    if (!opts.json_file.empty())
        write_json_file(opts.json_file,
                        {{"command", "evaluate"},
                         {"model", run.has_ann ? model_summary_json(run.net) : no_ann_json(settings)},
                         {"dataset", dataset_json(settings, run.result.images)},
                         {"snn_model", snn_summary_json(run.model)},
                         {"compensation", compensation_json(run.conversion)},
                         {"snn", snn_result_json(run.result, checkpoints, resolve_threads(run.options.threads))},
                         {"settings", settings_json(settings)}});
    return 0;
}

nlohmann::json ann_result_json(const AnnResult& result, double images_per_s, int threads) {
    return {{"accuracy_meaningful", result.labelled},
            {"top1", result.labelled ? nlohmann::json(result.top1()) : nlohmann::json(nullptr)},
            {"correct", result.labelled ? nlohmann::json(result.correct) : nlohmann::json(nullptr)},
            {"images", result.images},
            {"seconds", result.seconds},
            {"images_per_s", images_per_s},
            {"threads", threads}};
}

int run_evaluate_ann(const CommonOptions& opts, const EngineOptions& engine) {
    const Settings settings = load_experiment(opts, engine_overrides(engine));
    const experiment::AnnRun run = experiment::run_ann(settings, verbosity_here(opts), experiment::Shard::Rank);
    if (!mpi::root()) return 0;
    const AnnResult& result = run.result;
    const int threads = resolve_threads(run.options.threads);
    const double images_per_s = result.seconds > 0 ? static_cast<double>(result.images) / result.seconds : 0.0;
    if (opts.verbosity() > 0)
        fmt::print("model {} on {} test images of {}: ", run.net.name(), thousands(result.images),
                   settings.get_string("dataset.name"));
    if (result.labelled)
        fmt::print("ANN top-1 accuracy {:.2f}% ({}/{})\n", 100.0 * result.top1(), result.correct, result.images);
    else
        fmt::print("ANN on {} synthetic images: accuracy not meaningful (the labels mean nothing)\n", result.images);
    if (opts.verbosity() > 1)
        fmt::print("inference {:.3f} s, {:.0f} images/s on {} threads\n", result.seconds, images_per_s, threads);
    if (!opts.json_file.empty())
        write_json_file(opts.json_file,
                        {{"command", "evaluate"},
                         {"model", model_summary_json(run.net)},
                         {"dataset", dataset_json(settings, result.images)},
                         {"ann", ann_result_json(result, images_per_s, threads)},
                         {"settings", settings_json(settings)}});
    return 0;
}

int run_evaluate(const CommonOptions& opts, const EngineOptions& engine, const ProbeOptions& probe, bool ann) {
    if (ann && (engine.steps || !engine.snn.empty() || probe.any_probe() || !probe.input_spikes.empty()))
        throw ConfigError("evaluate: --ann evaluates the ANN alone; drop --steps/--snn/--probe/--input-spikes, or drop "
                          "--ann for the S-ResNet");
    return ann ? run_evaluate_ann(opts, engine) : run_evaluate_snn(opts, engine, probe);
}

}  // namespace

Command add_evaluate_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("evaluate", "accuracy on the test set");
    add_common_options(cmd, common);
    auto ann = std::make_shared<bool>(false);
    auto engine = std::make_shared<EngineOptions>();
    cmd->add_flag("--ann", *ann, "evaluate the reference ANN (float32) instead of the S-ResNet");
    add_engine_options(cmd, *engine);
    auto probe = std::make_shared<ProbeOptions>();
    add_probe_options(cmd, *probe);
    return {cmd, [&common, ann, engine, probe] { return run_evaluate(common, *engine, *probe, *ann); },
            /*distributed=*/true};
}

}  // namespace neuroemu
