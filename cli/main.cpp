// neuroemu: ResNet -> spiking ResNet -> neuromorphic chip. See docs/cli.md.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/schema.h"
#include "common/error.h"

namespace {

void add_common(CLI::App* cmd, neuroemu::CommonOptions& opts, bool* quiet, bool* verbose) {
    cmd->add_option("target", opts.target, "experiment YAML file, or an ONNX model (stands for model.onnx)");
    cmd->add_option("--json", opts.json_file, "also write machine-readable results to FILE (keys: docs/cli.md)");
    cmd->add_option("--set", opts.sets, "override a configuration key: key.path=value (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    cmd->add_option("--seed", opts.seed, "seed of every pseudo-random choice (overrides the `seed` key)");
    cmd->add_flag("-q,--quiet", *quiet, "print only the result");
    cmd->add_flag("-v,--verbose", *verbose, "print timing and details");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"neuroemu: convert a ResNet into a spiking ResNet, map it onto ROLLS-style neuromorphic cores, "
                 "simulate it and report accuracy, speed and energy."};
    app.require_subcommand(0, 1);
    bool config_reference = false;
    app.add_flag("--config-reference", config_reference, "print the configuration reference (docs/config.md)");

    neuroemu::CommonOptions opts;
    bool quiet = false, verbose = false;
    CLI::App* info = app.add_subcommand("info", "per-layer shapes, parameters, MACs and IF neurons of a model");
    add_common(info, opts, &quiet, &verbose);
    CLI::App* list = app.add_subcommand("list", "the families of interchangeable implementations (placement, "
                                        "multicast, ...), their names and parameters");
    std::string list_json;
    list->add_option("--json", list_json, "also write the listing to FILE");
    CLI::App* evaluate = app.add_subcommand("evaluate", "accuracy on the test set");
    add_common(evaluate, opts, &quiet, &verbose);
    neuroemu::EvaluateOptions eval;
    evaluate->add_flag("--ann", eval.ann, "evaluate the reference ANN (float32) instead of the S-ResNet");
    evaluate->add_option("--steps", eval.steps, "time steps T of the spiking simulation (overrides simulation.steps)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    evaluate->add_option("--snn", eval.snn, "a converted model from `neuroemu convert` (default: convert in memory)");
    evaluate->add_option("--images", eval.images, "number of test images (overrides dataset.images)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));

    CLI::App* convert = app.add_subcommand("convert", "convert the ANN into an S-ResNet and save it (.snn)");
    add_common(convert, opts, &quiet, &verbose);
    neuroemu::ConvertOptions conv;
    convert->add_option("-o,--output", conv.output, "where to write the converted model")->capture_default_str();

    CLI::App* map = app.add_subcommand("map", "partition the S-ResNet over cores, place and route it on the chip");
    add_common(map, opts, &quiet, &verbose);
    neuroemu::MapCommandOptions mapping;
    map->add_option("--snn", mapping.snn, "a converted model from `neuroemu convert` (default: from the config)");
    map->add_option("-o,--output", mapping.output, "where to write the mapping file (docs/mapping-format.md); "
                    "'' writes none")
        ->capture_default_str();

    CLI::App* simulate = app.add_subcommand("simulate", "run the mapped S-ResNet on the SystemC hardware model");
    add_common(simulate, opts, &quiet, &verbose);
    neuroemu::SimulateOptions sim;
    simulate->add_option("--snn", sim.snn, "a converted model from `neuroemu convert` (default: from the config)");
    simulate->add_option("--map", sim.map, "a mapping from `neuroemu map` (default: mapped from the config)");
    simulate->add_option("--images", sim.images, "number of test images (overrides dataset.images)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    simulate->add_option("--steps", sim.steps, "time steps T (overrides simulation.steps)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    simulate->add_option("--trace", sim.trace, "write a VCD trace (GTKWave) of core, router and link activity");
    simulate->add_option("--trace-cores", sim.trace_cores, "cores in the VCD trace, e.g. 0-15,40 (default: 0-15)")
        ->type_name("LIST");
    simulate->add_option("--trace-routers", sim.trace_routers,
                         "routers in the VCD trace, index y*width+x, e.g. 0-3 (default: the traced cores' routers)")
        ->type_name("LIST");
    simulate->add_option("--trace-window", sim.trace_window,
                         "ticks in the VCD trace: A:B is ticks A to B-1 counted from 0 over all images, A: to the end "
                         "(default: the first image)")
        ->type_name("A:B");
    simulate->add_option("--aer-out", sim.aer_out, "record every packet the chip carries (traces/README.md; .gz: gzip)");
    simulate->add_option("--aer-in", sim.aer_in, "drive the chip from a recorded AER trace instead of the spiking engine");

    CLI::App* report = app.add_subcommand("report", "accuracy, firing rates, mapping, timing and energy (SNN vs ANN) "
                                          "as an HTML report with Markdown, JSON and CSV");
    add_common(report, opts, &quiet, &verbose);
    neuroemu::ReportOptions report_opts;
    report->add_option("-o,--output", report_opts.output, "directory for report.html, report.md, report.json, *.csv");
    report->add_option("--snn", report_opts.snn, "a converted model from `neuroemu convert` (default: from the config)");
    report->add_option("--images", report_opts.images, "test images for the functional engine (overrides dataset.images)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    report->add_option("--steps", report_opts.steps, "time steps T (overrides simulation.steps)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    report->add_option("--hw-images", report_opts.hw_images,
                       "test images the SystemC hardware model runs (overrides report.hw_images; 0: none)")
        ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));

    CLI::App* noc = app.add_subcommand("noc", "the network-on-chip alone under synthetic traffic: latency, throughput, "
                                       "saturation");
    add_common(noc, opts, &quiet, &verbose);
    neuroemu::NocCommandOptions noc_opts;
    noc->add_option("--mesh", noc_opts.mesh, "mesh WIDTHxHEIGHT (default: chip.noc.width x height if set, else 8x8)");
    noc->add_option("--traffic", noc_opts.traffic, "uniform, transpose or hotspot")->capture_default_str();
    noc->add_option("--rate", noc_opts.rate, "injection rate R in [0, 1], packets per node per cycle (Bernoulli)")
        ->type_name("R");
    noc->add_option("--packet-flits", noc_opts.packet_flits, "flits per packet (default: one 32-bit AER event)")
        ->type_name("F");
    noc->add_option("--warmup", noc_opts.warmup, "warm-up cycles before the measurement window")
        ->type_name("C")
        ->capture_default_str();
    noc->add_option("--cycles", noc_opts.cycles, "measurement window, cycles (its packets are tagged)")
        ->type_name("C")
        ->capture_default_str();
    noc->add_option("--drain", noc_opts.drain, "most cycles after the window for the tagged packets (0: automatic)")
        ->type_name("C")
        ->capture_default_str();
    noc->add_option("--hotspot-fraction", noc_opts.hotspot_fraction, "hotspot: share of packets to the centre node")
        ->capture_default_str();

    CLI::App* explore = app.add_subcommand("explore", "design-space exploration: grid or random sweeps over configuration "
                                           "keys, cached and resumable, with the Pareto front");
    neuroemu::ExploreOptions explore_opts;
    explore->add_option("sweep", explore_opts.sweep, "sweep file (docs/explore.md)")->required();
    explore->add_option("-o,--output", explore_opts.output, "output directory (default: <sweep name>.out next to it)");
    explore->add_option("--cache", explore_opts.cache, "cache directory (default: DIR/cache)");
    explore->add_option("--jobs", explore_opts.jobs, "points evaluated at once (default: the sweep's jobs; 0: all cores)")
        ->check(CLI::Range(int64_t{0}, int64_t{4096}));
    explore->add_option("--json", explore_opts.json_file, "also write the summary and the paths written to FILE");
    explore->add_flag("--dry-run", explore_opts.dry_run, "validate the sweep and list its points, cached or not; run "
                      "nothing");
    explore->add_flag("-q,--quiet", quiet, "print only the result");
    explore->add_flag("-v,--verbose", verbose, "print timing and details");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    opts.verbosity = quiet ? 0 : verbose ? 2 : 1;
    try {
        if (config_reference) {
            std::cout << neuroemu::neuroemu_schema().markdown();
            return 0;
        }
        if (info->parsed()) return neuroemu::run_info(opts);
        if (list->parsed()) return neuroemu::run_list(list_json);
        if (evaluate->parsed()) return neuroemu::run_evaluate(opts, eval);
        if (convert->parsed()) return neuroemu::run_convert(opts, conv);
        if (map->parsed()) return neuroemu::run_map(opts, mapping);
        if (simulate->parsed()) return neuroemu::run_simulate(opts, sim);
        if (noc->parsed()) return neuroemu::run_noc(opts, noc_opts);
        if (explore->parsed()) return neuroemu::run_explore(explore_opts, opts.verbosity);
        if (report->parsed()) return neuroemu::run_report(opts, report_opts);
        std::cout << app.help();
        return 0;
    } catch (const neuroemu::ConfigError& e) {
        fmt::print(stderr, "neuroemu: error: {}\n", e.what());
        return 2;
    } catch (const neuroemu::InternalError& e) {
        fmt::print(stderr, "neuroemu: internal error (please report): {}\n", e.what());
        return 70;
    } catch (const neuroemu::Error& e) {
        fmt::print(stderr, "neuroemu: error: {}\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "neuroemu: error: out of memory\n");
        return 1;
    }
}
