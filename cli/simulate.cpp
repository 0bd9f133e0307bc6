// `neuroemu simulate`: the converted model on its mapped chip, in the SystemC hardware model
// (docs/hardware-model.md). --trace writes a VCD file, --aer-out records every packet, --aer-in drives the chip
// from such a recording instead of the functional engine (docs/cli.md, traces/README.md).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/probes.h"
#include "common/error.h"
#include "data/dataset_spec.h"
#include "experiment/fault_losses.h"
#include "experiment/hardware_run.h"
#include "experiment/mapping_run.h"
#include "experiment/model_run.h"
#include "hw/chip_model.h"
#include "hw/chip_regions.h"
#include "mpi/world.h"
#include "mapping/map_file.h"
#include "mpi/world.h"
#include "router/multicast/multicast.h"
#include "serve/session.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

struct SimulateOptions {
    EngineOptions engine;
    std::string map;                // --map FILE: a mapping from `neuroemu map`; otherwise mapped here
    std::string trace;              // --trace FILE.vcd
    std::optional<std::string> trace_cores;    // --trace-cores LIST (e.g. 0-15,40); default: the first 16
    std::optional<std::string> trace_routers;  // --trace-routers LIST (y * width + x); default: the traced cores'
    std::optional<std::string> trace_window;   // --trace-window A:B, global ticks [A, B); default: the first image
    std::string aer_out;            // --aer-out FILE: record every packet (traces/README.md)
    std::string aer_in;             // --aer-in FILE: drive the chip from a recorded trace
    std::optional<std::string> sample_ticks;  // --sample-ticks K (hardware.sample_ticks)
    ProbeOptions probe;             // --probe, --probe-csv, --probe-image, --input-spikes
};

// The VCD scope and the AER output from the command line (indices checked against the mapping).
HwOptions hw_options(const SimulateOptions& cmd, const Mapping& mapping) {
    HwOptions ho;
    ho.vcd_path = cmd.trace;
    if (cmd.trace.empty() && (cmd.trace_cores || cmd.trace_routers || cmd.trace_window))
        throw ConfigError("--trace-cores, --trace-routers and --trace-window choose what --trace FILE.vcd records: "
                          "give --trace too");
    if (cmd.trace_cores)
        ho.vcd_cores = parse_index_list(*cmd.trace_cores, static_cast<int64_t>(mapping.cores.size()), "--trace-cores");
    if (cmd.trace_routers) ho.vcd_routers = parse_index_list(*cmd.trace_routers, mapping.mesh.routers(), "--trace-routers");
    if (cmd.trace_window) ho.vcd_window = parse_tick_window(*cmd.trace_window, "--trace-window");
    ho.aer_path = cmd.aer_out;
    if (!cmd.aer_in.empty() && !cmd.aer_out.empty()) {
        std::error_code ec;
        if (cmd.aer_in == cmd.aer_out || std::filesystem::equivalent(cmd.aer_in, cmd.aer_out, ec))
            throw ConfigError(fmt::format("--aer-out {} would overwrite the trace that --aer-in reads", cmd.aer_out));
    }
    return ho;
}

nlohmann::json file_json(const std::string& path) {
    if (path.empty()) return nullptr;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    return {{"file", path}, {"bytes", ec ? nlohmann::json(nullptr) : nlohmann::json(bytes)}};
}

std::string size_text(const std::string& path) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    return ec ? std::string("size unknown") : fmt::format("{} bytes", thousands(static_cast<int64_t>(bytes)));
}


// One simulation as printed and written: what ran and what the chip counted. A replay has no classification.
struct SimulatedRun {
    const Mapping& mapping;
    const SnnModel& model;
    const HwStats& stats;
    const HwOptions& hw_options;
    int64_t steps = 0;
    const experiment::ReplayInfo* replay = nullptr;
    const HwEstimates* estimates = nullptr;  // engine runs: the figures extrapolated to every tick
    bool labelled = true;                    // false: synthetic input, classification is not meaningful

    bool sampled() const { return estimates && estimates->plan.requested_sampling(); }
    nlohmann::json sampling() const {
        return sampled() ? experiment::sampling_json(*estimates, stats, mapping.chip.clock_hz) : nlohmann::json(nullptr);
    }

    double images() const { return static_cast<double>(std::max<int64_t>(1, stats.images)); }
    int64_t hw_correct() const { return stats.correct_at_step.empty() ? 0 : stats.correct_at_step.back(); }
    double cycles_per_image() const { return static_cast<double>(stats.cycles) / images(); }
    double mean_tick() const {
        return stats.ticks ? static_cast<double>(stats.cycles) / static_cast<double>(stats.ticks) : 0.0;
    }
    double hop_rate() const {
        return stats.wall_seconds > 0 ? static_cast<double>(stats.noc.packet_hops) / stats.wall_seconds : 0.0;
    }
    double packet_latency_mean() const {
        if (stats.packets_delivered == 0) return 0.0;
        return static_cast<double>(stats.packet_latency_sum_cycles) / static_cast<double>(stats.packets_delivered);
    }
};

void print_classification(const SimulatedRun& run) {
    const HwStats& stats = run.stats;
    const bool tree = make_multicast(run.mapping.chip.noc.multicast)->forks_in_routers();
    if (const experiment::ReplayInfo* replay = run.replay) {
        fmt::print("replayed {} of the {} images in {} ({} packets recorded); classification: not available, the "
                   "spikes come from the trace, not from the functional engine\n",
                   replay->images, replay->trace.images, replay->file, thousands(replay->packets));
        if (replay->recorded_tree != tree)
            fmt::print("note: recorded with {}, replayed with {}: packet counts differ from the recording\n",
                       replay->recorded_tree ? "multicast trees" : "unicast packets", tree ? "multicast trees" : "unicast packets");
        else if (replay->packets != stats.packets_injected)
            fmt::print("note: the chip carried {} packets, the trace holds {}\n", thousands(stats.packets_injected),
                       thousands(replay->packets));
        if (!replay->same_placement)
            fmt::print("note: the cores are placed differently from the recording, so the cycles differ from it\n");
    } else if (!run.labelled) {
        fmt::print("classification: not meaningful on synthetic input (the labels mean nothing); the functional "
                   "engine's decisions, carried spike for spike\n");
    } else {
        const bool lossy = experiment::FaultLosses::loses(run.hw_options.faults);
        fmt::print("classification: top-1 {:.2f}% ({}/{}), the {} engine's decisions, carried spike for spike\n",
                   100.0 * static_cast<double>(run.hw_correct()) / run.images(), run.hw_correct(), stats.images,
                   lossy ? "fault-aware" : "functional");
    }
}

void print_counters(const SimulatedRun& run) {
    const HwStats& stats = run.stats;
    const double images = run.images(), clock = run.mapping.chip.clock_hz;
    const auto per_image = [&](int64_t total) { return thousands(static_cast<int64_t>(static_cast<double>(total) / images)); };
    const double link_flits_max = static_cast<double>(*std::max_element(stats.noc.link_flits.begin(), stats.noc.link_flits.end()));
    const auto& occupancy = stats.noc.router_max_occupancy_flits;
    const int32_t occupancy_max = *std::max_element(occupancy.begin(), occupancy.end());
    const int64_t core_sops_max = *std::max_element(stats.core_sops.begin(), stats.core_sops.end());
    fmt::print("latency per inference: {:.0f} cycles = {:.3f} ms at {:.0f} MHz; cycles per tick mean {:.1f}, max {}\n",
               run.cycles_per_image(), 1e3 * run.cycles_per_image() / clock, clock / 1e6, run.mean_tick(),
               stats.max_tick_cycles);
    fmt::print("per image: {} packets, {} deliveries, {} hops ({} inter-chip), {} SOPs in cores ({} more on partial "
               "sums and gates), {} neuron updates\n",
               per_image(stats.packets_injected), per_image(stats.packets_delivered), per_image(stats.noc.packet_hops),
               per_image(stats.noc.inter_chip_packet_hops), per_image(stats.sops), per_image(stats.partial_sum_sops),
               per_image(stats.neuron_updates));
    fmt::print("packet latency mean {:.1f} cycles, max {}; stall cycles {}; busiest link {:.0f} flits per image; "
               "fullest router buffer {} flits; busiest core {} SOPs per image\n",
               run.packet_latency_mean(), stats.packet_latency_max_cycles, thousands(stats.noc.stall_cycles),
               link_flits_max / images, occupancy_max, per_image(core_sops_max));
}

void print_traces(const SimulatedRun& run, int verbosity) {
    const HwStats& stats = run.stats;
    const HwOptions& ho = run.hw_options;
    if (verbosity > 0)
        fmt::print("simulation: {:.2f} s ({:.2f} s CPU), {:.3g} ticks/s, {:.2f} M packet-hops/s\n", stats.wall_seconds,
                   stats.cpu_seconds, stats.wall_seconds > 0 ? static_cast<double>(stats.ticks) / stats.wall_seconds : 0.0,
                   run.hop_rate() / 1e6);
    if (!ho.vcd_path.empty()) {
        const std::vector<int32_t> cores = ho.vcd_cores ? *ho.vcd_cores : default_vcd_scope(run.mapping).cores;
        const size_t routers = ho.vcd_routers ? ho.vcd_routers->size() : routers_of(run.mapping, cores).size();
        const int64_t to = std::min(ho.vcd_window.to < 0 ? run.steps : ho.vcd_window.to, stats.ticks);
        fmt::print("VCD trace {}: {} cores, {} routers, ticks {}-{} ({})\n", ho.vcd_path, cores.size(), routers,
                   ho.vcd_window.from, to - 1, size_text(ho.vcd_path));
    }
    if (!ho.aer_path.empty())
        fmt::print("AER trace {}: {} packets ({})\n", ho.aer_path, thousands(stats.packets_injected), size_text(ho.aer_path));
}

// chip.faults: only when something was injected.
void print_faults(const HwStats& stats) {
    const FaultCounters& f = stats.faults;
    if (stats.noc.bit_flips == 0 && f.events_stuck == 0 && f.deliveries_detected + f.deliveries_undetected == 0 &&
        stats.undeliverable_routes.empty())
        return;
    fmt::print("faults: {} bits flipped on links; deliveries {} intact, {} detected and dropped, {} corrupt undetected "
               "(not integrated), {} undeliverable ({} routes cut by dead routers or links); {} events of stuck cores "
               "not sent\n",
               thousands(stats.noc.bit_flips), thousands(stats.packets_delivered), thousands(f.deliveries_detected),
               thousands(f.deliveries_undetected), thousands(f.deliveries_undeliverable),
               thousands(static_cast<int64_t>(stats.undeliverable_routes.size())), thousands(f.events_stuck));
}

void print_run(const SimulatedRun& run, int verbosity) {
    fmt::print("chip {}: {} cores on a {} x {} mesh; {} images x {} steps\n", run.mapping.chip.name,
               thousands(static_cast<int64_t>(run.mapping.cores.size())), run.mapping.mesh.width(),
               run.mapping.mesh.height(), run.stats.images, run.steps);
    print_classification(run);
    if (run.sampled() && !run.estimates->exact()) {
        fmt::print("counters of the {} simulated ticks: {} cycles, {} packets, {} hops\n", run.stats.ticks,
                   thousands(run.stats.cycles), thousands(run.stats.packets_injected), thousands(run.stats.noc.packet_hops));
    } else {
        print_counters(run);
    }
    if (run.sampled()) print_sampling(run.sampling());
    print_faults(run.stats);
    print_traces(run, verbosity);
}

nlohmann::json classification_json(const SimulatedRun& run) {
    if (run.replay || !run.labelled) return {{"top1", nullptr}, {"correct", nullptr}, {"accuracy_curve", nullptr}};
    nlohmann::json curve = nlohmann::json::array();
    for (int64_t v : run.stats.correct_at_step) curve.push_back(static_cast<double>(v) / run.images());
    return {{"top1", static_cast<double>(run.hw_correct()) / run.images()},
            {"correct", run.hw_correct()},
            {"accuracy_curve", curve}};
}

nlohmann::json counters_json(const HwStats& stats) {
    return {{"packets", stats.packets_injected}, {"deliveries", stats.packets_delivered}, {"hops", stats.noc.packet_hops},
            {"flit_hops", stats.noc.flit_hops}, {"inter_chip_hops", stats.noc.inter_chip_packet_hops}, {"sops", stats.sops},
            {"partial_sum_and_gate_sops", stats.partial_sum_sops}, {"neuron_updates", stats.neuron_updates},
            {"events_generated", stats.events_generated}, {"buffer_writes_flits", stats.noc.buffer_write_flits},
            {"stall_cycles", stats.noc.stall_cycles}};
}

nlohmann::json replay_json(const experiment::ReplayInfo* replay) {
    if (!replay) return nullptr;
    return {{"file", replay->file},
            {"images", replay->images},
            {"images_in_file", replay->trace.images},
            {"packets_recorded", replay->packets},
            {"recorded_multicast", replay->recorded_tree ? "tree" : "source"},
            {"same_placement", replay->same_placement}};
}

nlohmann::json simulate_json(const SimulatedRun& run, const Settings& settings) {
    const HwStats& stats = run.stats;
    const ChipSpec& chip = run.mapping.chip;
    nlohmann::json doc = {
        {"command", "simulate"},
        {"model", run.model.name},
        {"chip", {{"name", chip.name}, {"clock_hz", chip.clock_hz}, {"cores", run.mapping.cores.size()},
                  {"mesh", {run.mapping.mesh.width(), run.mapping.mesh.height()}},
                  {"multicast", chip.noc.multicast}}},
        {"images", stats.images},
        {"steps", run.steps}};
    doc.update(classification_json(run));
    doc.update({{"cycles", {{"total", stats.cycles}, {"per_image", run.cycles_per_image()}, {"per_tick_mean", run.mean_tick()},
                            {"per_tick_max", stats.max_tick_cycles}, {"per_tick", stats.tick_cycles}}},
                {"latency_s_per_image", run.cycles_per_image() / chip.clock_hz},
                {"counters", counters_json(stats)},
                {"faults", experiment::fault_counters_json(stats)},
                {"packet_latency_cycles", {{"mean", run.packet_latency_mean()}, {"max", stats.packet_latency_max_cycles}}},
                {"per_core_sops", stats.core_sops},
                {"per_router_flits", stats.noc.router_flits},
                {"per_router_max_occupancy_flits", stats.noc.router_max_occupancy_flits},
                {"per_link_flits", stats.noc.link_flits},
                {"seconds", stats.wall_seconds},
                {"cpu_seconds", stats.cpu_seconds},
                {"packet_hops_per_s", run.hop_rate()},
                {"vcd", file_json(run.hw_options.vcd_path)},
                {"aer_out", file_json(run.hw_options.aer_path)},
                {"replay", replay_json(run.replay)},
                {"settings", settings_json(settings)}});
    if (run.sampled()) doc["sampling"] = run.sampling();
    return doc;
}

void finish_run(const CommonOptions& opts, const SimulatedRun& run, const Settings& settings) {
    print_run(run, opts.verbosity());
    if (!opts.json_file.empty()) write_json_file(opts.json_file, simulate_json(run, settings));
}

experiment::MapRun mapping_for(const CommonOptions& opts, const SimulateOptions& cmd, const Settings& settings) {
    experiment::MapRun run =
        experiment::prepare_mapping(settings, cmd.engine.snn, true, opts.verbosity(), cmd.map.empty());
    if (!cmd.map.empty()) run.mapping = experiment::load_checked_mapping(cmd.map, run.model);  // made earlier
    return run;
}

int run_engine(const CommonOptions& opts, const SimulateOptions& cmd) {
    std::vector<std::string> sets = engine_overrides(cmd.engine);
    add_int_override(sets, "--sample-ticks", "hardware.sample_ticks", cmd.sample_ticks);
    const Settings settings = load_experiment(opts, sets);
    if (settings.get_int("hardware.sample_ticks") > 0 && !cmd.aer_out.empty())
        throw ConfigError("--aer-out records every tick of every image: not with tick sampling (hardware.sample_ticks)");
    const experiment::MapRun run = mapping_for(opts, cmd, settings);
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"),
                                       run.model.populations.at(0).shape);
    const SnnOptions snn = snn_options(settings);
    HwOptions ho = hw_options(cmd, run.mapping);
    ho.faults = fault_spec(settings);  // as run_engine_on_chip sets them; the printout names the engine
    const experiment::HardwareRun hw =
        experiment::run_engine_on_chip(run.mapping, run.model, ho, settings, test, opts.verbosity());
    if (!mpi::root()) return 0;  // under mpirun every rank has the merged run; rank 0 prints and writes it
    const bool space_parallel = !hw.regions.empty();
    if (space_parallel && opts.verbosity() > 0)
        fmt::print("space-parallel chip over {} ranks: {}\n", mpi::size(), hw.regions);
    if (hw.cost.windows > 0 && opts.verbosity() > (space_parallel ? 0 : 1))
        fmt::print("windows of {} cycles: {} ({:.1f} per tick); exchanged between ranks: {} messages, {} bytes "
                   "({:.1f} bytes per window)\n",
                   run.mapping.chip.noc.inter_chip_link_cycles, hw.cost.windows,
                   static_cast<double>(hw.cost.windows) / static_cast<double>(std::max<int64_t>(1, hw.stats.ticks)),
                   hw.cost.messages, hw.cost.bytes,
                   static_cast<double>(hw.cost.bytes) / static_cast<double>(hw.cost.windows));
    finish_run(opts, {run.mapping, run.model, hw.stats, ho, snn.steps, nullptr, &hw.estimates, test.labelled}, settings);
    return 0;
}

// --aer-in: the chip driven by a recorded trace. The mapping is made as for the recording, with the steps per image
// the trace was recorded with (they decide the measured firing rates, hence the placement).
int run_replay(const CommonOptions& opts, const SimulateOptions& cmd) {
    if (!mpi::root()) return 0;  // a replay runs on rank 0 alone (docs/cli.md)
    if (mpi::distributed())
        fmt::print(stderr, "neuroemu: simulate --aer-in runs on rank 0 only; the other {} rank(s) have nothing to do\n",
                   mpi::size() - 1);
    AerReader reader(cmd.aer_in);
    const int64_t steps = reader.header().steps;
    const auto steps_option = setting_int("--steps", "simulation.steps", cmd.engine.steps);
    const auto images_option = setting_int("--images", "dataset.images", cmd.engine.images);
    if (cmd.sample_ticks)
        throw ConfigError("--sample-ticks: a replay (--aer-in) runs every recorded tick");
    if (steps_option && *steps_option != steps)
        throw ConfigError(fmt::format("--steps {}: {} was recorded with {} steps per image", *steps_option, cmd.aer_in, steps));
    const Settings settings = load_experiment(opts, {"simulation.steps=" + std::to_string(steps)});
    const experiment::MapRun run = mapping_for(opts, cmd, settings);
    experiment::ReplayInfo info = experiment::scan_trace(reader, run.mapping, cmd.aer_in);
    if (images_option) {
        if (*images_option > info.trace.images)
            throw ConfigError(fmt::format("--images {}: {} holds {} images", *images_option, cmd.aer_in, info.trace.images));
        info.images = *images_option;
    }
    const HwOptions ho = hw_options(cmd, run.mapping);
    ChipModel chip(run.mapping, run.model, ho);
    experiment::replay_trace(chip, reader, info, opts.verbosity());
    finish_run(opts, {run.mapping, run.model, chip.stats(), ho, steps, &info}, settings);
    return 0;
}

// --probe without --input-spikes: the probed image's traces, recorded by the functional engine on the same images
// with the same seed (the chip model carries exactly the engine's spikes, so they are the chip's too).
void write_probes(const CommonOptions& opts, const SimulateOptions& cmd) {
    if (cmd.probe.csv.empty() && !cmd.probe.any_probe()) return;
    const Settings settings = load_experiment(opts, engine_overrides(cmd.engine));
    const auto configure = [&cmd](const SnnModel& model, SnnOptions& options) {
        options.probes = parse_probes(cmd.probe, model);
        options.probe_image = probe_image(cmd.probe);
    };
    const experiment::FunctionalRun run = experiment::run_functional(settings, cmd.engine.snn, 0, experiment::Shard::All, configure);
    if (run.result.probe.image < 0)
        throw ConfigError(fmt::format("--probe-image {}: the run has {} image(s)", probe_image(cmd.probe), run.result.images));
    write_probe_csv(cmd.probe.csv, run.result.probe, run.model);
}

// --input-spikes: the network stepped through the file, tick by tick on the chip model, as `serve --chip` steps it
// (serve/session.h), the probes recorded by the functional stepper on the same input.
int run_stepped(const CommonOptions& opts, const SimulateOptions& cmd) {
    if (!cmd.map.empty() || !cmd.trace.empty() || !cmd.aer_out.empty() || cmd.sample_ticks || cmd.engine.steps ||
        cmd.engine.images)
        throw ConfigError("simulate --input-spikes runs the file's steps on a chip mapped here: drop "
                          "--map/--trace/--aer-out/--sample-ticks/--steps/--images");
    serve::SessionOptions so;
    so.config = opts.target.empty() ? (std::filesystem::path(configs_dir()) / "default.yaml").string() : opts.target;
    so.set = target_overrides(so.config);
    so.set.insert(so.set.end(), opts.sets.begin(), opts.sets.end());
    if (const auto seed = setting_int("--seed", "seed", opts.seed)) so.set.push_back(fmt::format("seed={}", *seed));
    so.snn_file = cmd.engine.snn;
    so.chip = true;
    so.verbosity = opts.verbose ? 2 : 0;
    const auto session = serve::Session::load(so);
    const SnnModel& model = session->model();
    const auto steps = read_input_spikes(cmd.probe.input_spikes, model.populations.at(0).size());
    int64_t spikes = 0, sops = 0, cycles = 0, packets = 0, deliveries = 0, latency_max = 0, decision = -1;
    std::vector<serve::InputSpike> input;
    for (const auto& counts : steps) {
        input.clear();
        for (size_t i = 0; i < counts.size(); ++i)
            if (counts[i] > 0) input.push_back({static_cast<int32_t>(i), static_cast<uint16_t>(counts[i])});
        const serve::TickResult& t = session->step(input);
        for (size_t p = 1; p < t.population_spikes.size(); ++p) spikes += t.population_spikes[p];
        sops += t.sops, cycles += t.cycles, packets += t.packets, deliveries += t.deliveries;
        latency_max = std::max(latency_max, t.latency_max_cycles);
        decision = t.decision;
    }
    fmt::print("{} on the chip model, stepped through {} ({} ticks): {} spikes, {} SOPs, {} packets, {} deliveries, "
               "{} cycles (max packet latency {} cycles); decision {}\n",
               model.name, cmd.probe.input_spikes, steps.size(), thousands(spikes), thousands(sops), thousands(packets),
               thousands(deliveries), thousands(cycles), latency_max, decision);
    if (!cmd.probe.csv.empty()) {
        const SnnEngine engine(model);
        write_probe_csv(cmd.probe.csv, run_input_spikes(engine, steps, parse_probes(cmd.probe, model)).trace, model);
    }
    if (!opts.json_file.empty())
        write_json_file(opts.json_file, {{"command", "simulate"}, {"input_spikes", cmd.probe.input_spikes},
                                         {"stepped", {{"ticks", steps.size()}, {"spikes", spikes}, {"sops", sops},
                                                      {"packets", packets}, {"deliveries", deliveries},
                                                      {"cycles", cycles}, {"latency_max_cycles", latency_max},
                                                      {"decision", decision}}}});
    return 0;
}

int run_simulate(const CommonOptions& opts, const SimulateOptions& cmd) {
    if (!cmd.aer_in.empty() && (!cmd.probe.input_spikes.empty() || cmd.probe.any_probe()))
        throw ConfigError("simulate --aer-in replays packets: no --probe or --input-spikes with it");
    if (!cmd.aer_in.empty()) return run_replay(opts, cmd);
    if (!cmd.probe.input_spikes.empty()) return mpi::root() ? run_stepped(opts, cmd) : 0;
    if (mpi::root()) write_probes(opts, cmd);
    if (mpi::distributed() && !mpi::root()) {  // every rank runs its share (hardware.distribute); rank 0 prints
        CommonOptions quiet = opts;
        quiet.quiet = true;
        quiet.verbose = false;
        return run_engine(quiet, cmd);
    }
    return run_engine(opts, cmd);
}

void add_trace_options(CLI::App* cmd, SimulateOptions& options) {
    cmd->add_option("--trace", options.trace, "write a VCD trace (GTKWave) of core, router and link activity");
    cmd->add_option("--trace-cores", options.trace_cores, "cores in the VCD trace, e.g. 0-15,40 (default: 0-15)")
        ->type_name("LIST");
    cmd->add_option("--trace-routers", options.trace_routers,
                    "routers in the VCD trace, index y*width+x, e.g. 0-3 (default: the traced cores' routers)")
        ->type_name("LIST");
    cmd->add_option("--trace-window", options.trace_window,
                    "ticks in the VCD trace: A:B is ticks A to B-1 counted from 0 over all images, A: to the end "
                    "(default: the first image)")
        ->type_name("A:B");
    cmd->add_option("--aer-out", options.aer_out, "record every packet the chip carries (traces/README.md; .gz: gzip)");
    cmd->add_option("--aer-in", options.aer_in, "drive the chip from a recorded AER trace instead of the spiking engine");
}

}  // namespace

Command add_simulate_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("simulate", "run the mapped S-ResNet on the SystemC hardware model");
    add_common_options(cmd, common);
    auto options = std::make_shared<SimulateOptions>();
    add_engine_options(cmd, options->engine);
    cmd->add_option("--map", options->map, "a mapping from `neuroemu map` (default: mapped from the config)");
    add_trace_options(cmd, *options);
    add_sample_ticks_option(cmd, options->sample_ticks);
    add_probe_options(cmd, options->probe);
    Command command{cmd, [&common, options] { return run_simulate(common, *options); }};
    command.distributed = true;
    return command;
}

}  // namespace neuroemu
