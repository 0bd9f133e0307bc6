// `neuroemu noc`: the network-on-chip alone under synthetic traffic (router/noc_traffic.h): latency, throughput and
// saturation of a mesh of the chip's routers, against the zero-load latency and the ideal (channel-load) throughput.
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <utility>

#include "arch/chip_spec.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "experiment/experiment.h"
#include "router/noc_traffic.h"

namespace neuroemu {

namespace {

// The options that size and drive the run, declared like configuration keys (unit, default, meaning, range) so
// that they are parsed and checked as every other numeric option is (cli/options.h).
struct NocParams {
    ParamSpec rate = ParamSpec("rate", ParamKind::Real, "", "packets/node/cycle",
                               "injection rate R in [0, 1], packets per node per cycle (Bernoulli)")
                         .range(0.0, 1.0);
    ParamSpec packet_flits = ParamSpec("packet-flits", ParamKind::Int, "", "flits",
                                       "flits per packet (default: one 32-bit AER event)")
                                 .range(1, 1 << 20);
    ParamSpec warmup = ParamSpec("warmup", ParamKind::Int, "1000", "cycles",
                                 "warm-up cycles before the measurement window")
                           .range(0, static_cast<double>(int64_t{1} << 40));
    ParamSpec cycles = ParamSpec("cycles", ParamKind::Int, "10000", "cycles",
                                 "measurement window, cycles (its packets are tagged)")
                           .range(1, static_cast<double>(int64_t{1} << 40));
    ParamSpec drain = ParamSpec("drain", ParamKind::Int, "0", "cycles",
                                "most cycles after the window for the tagged packets (0: automatic)")
                          .range(0, static_cast<double>(int64_t{1} << 40));
    ParamSpec hotspot_fraction = ParamSpec("hotspot-fraction", ParamKind::Real, "0.2", "",
                                           "hotspot: share of packets to the centre node")
                                     .range(0.0, 1.0);
};

const NocParams& noc_params() {
    static const NocParams params;
    return params;
}

// Values stay text until run_noc checks them, so that a bad one is a ConfigError naming its option.
struct NocCommandOptions {
    std::string mesh;                     // --mesh WxH; empty: chip.noc.width x height when set, else 8x8
    std::string traffic = "uniform";      // --traffic uniform|transpose|hotspot
    std::optional<std::string> rate, packet_flits, warmup, cycles, drain, hotspot_fraction;
};

// The mesh: --mesh, else the chip's own size when the configuration fixes one, else 8 x 8.
std::pair<MeshSize, std::string> noc_mesh(const NocCommandOptions& cmd, const ChipSpec& chip) {
    if (!cmd.mesh.empty()) return {parse_mesh(cmd.mesh, "--mesh"), "--mesh"};
    if (chip.noc.width > 0 && chip.noc.width <= kMaxMeshSide && chip.noc.height <= kMaxMeshSide)
        return {{static_cast<int32_t>(chip.noc.width), static_cast<int32_t>(chip.noc.height)}, "chip.noc.width/height"};
    return {{8, 8}, "default"};
}

TrafficOptions traffic_options(const NocCommandOptions& cmd, const ChipSpec& chip, const Settings& settings) {
    const NocParams& params = noc_params();
    TrafficOptions traffic;
    traffic.pattern = traffic_pattern(cmd.traffic, "--traffic");
    if (!cmd.rate) throw ConfigError("--rate R is required: packets per node per cycle, 0 to 1");
    traffic.rate = spec_real("--rate", params.rate, cmd.rate);
    // One AER event, as in the chip model, unless told otherwise.
    traffic.packet_flits = cmd.packet_flits
                               ? static_cast<int32_t>(spec_int("--packet-flits", params.packet_flits, cmd.packet_flits))
                               : static_cast<int32_t>(chip.noc.flits_per_event());
    traffic.warmup_cycles = spec_int("--warmup", params.warmup, cmd.warmup);
    traffic.measure_cycles = spec_int("--cycles", params.cycles, cmd.cycles);
    traffic.drain_cycles = spec_int("--drain", params.drain, cmd.drain);
    traffic.hotspot_fraction = spec_real("--hotspot-fraction", params.hotspot_fraction, cmd.hotspot_fraction);
    traffic.seed = static_cast<uint64_t>(settings.get_int("seed"));
    return traffic;
}

// One run as printed and written.
struct NocRun {
    const ChipSpec& chip;
    MeshSize mesh;
    std::string mesh_from;
    TrafficOptions traffic;
    TrafficAnalysis analysis;
    TrafficResult result;
    int64_t drain_bound = 0;

    bool hotspot() const { return analysis.hotspot_node >= 0; }
    double hop_rate() const {
        return result.seconds > 0 ? static_cast<double>(result.packet_hops) / result.seconds : 0.0;
    }
};

void print_setup(const NocRun& run) {
    const ChipSpec& chip = run.chip;
    const TrafficOptions& traffic = run.traffic;
    fmt::print("noc: {} x {} mesh ({}), {} traffic{} at {} packets/node/cycle, {}-flit packets, seed {}\n",
               run.mesh.width, run.mesh.height, run.mesh_from, traffic.pattern,
               run.hotspot() ? fmt::format(" ({:.0f}% to node ({}, {}))", 100 * traffic.hotspot_fraction,
                                           run.analysis.hotspot_node % run.mesh.width,
                                           run.analysis.hotspot_node / run.mesh.width)
                             : "",
               traffic.rate, traffic.packet_flits, traffic.seed);
    fmt::print("router ({}): buffers {} flits, pipeline {} cycles, links {} cycle{} per flit; {:.0f} MHz\n", chip.name,
               chip.noc.buffer_depth, chip.noc.pipeline_cycles, chip.noc.link_cycles,
               chip.noc.link_cycles == 1 ? "" : "s", chip.clock_hz / 1e6);
    fmt::print("cycles: {} warm-up, {} measured, drained in {} (bound {}); {} simulated\n",
               thousands(traffic.warmup_cycles), thousands(traffic.measure_cycles), thousands(run.result.drain_cycles),
               thousands(run.drain_bound), thousands(run.result.cycles));
}

void print_result(const NocRun& run, int verbosity) {
    const TrafficResult& result = run.result;
    const TrafficAnalysis& analysis = run.analysis;
    if (verbosity > 0) print_setup(run);
    fmt::print(
        "offered {:.4f} packets = {:.4f} flits/node/cycle; accepted {:.4f} flits/node/cycle (ideal: channels "
        "{:.4f}, with credit loops {:.4f})\n",
        result.offered_packets_per_node_cycle, result.offered_flits_per_node_cycle, result.accepted_flits_per_node_cycle,
        analysis.channel_bound_flits_per_node_cycle, analysis.credit_bound_flits_per_node_cycle);
    fmt::print(
        "latency mean {:.2f} cycles, max {} (network only: mean {:.2f}, max {}); zero-load {:.2f} at {:.3f} hops\n",
        result.latency_mean_cycles, result.latency_max_cycles, result.network_latency_mean_cycles, result.network_latency_max_cycles,
        analysis.zero_load_latency_cycles, analysis.mean_hops);
    fmt::print(
        "hops mean {:.3f} (expected {:.3f}); packets {} generated, {} injected, {} delivered each once; {} "
        "tagged, {} delivered\n",
        result.hops_mean, analysis.mean_hops, thousands(result.generated), thousands(result.injected), thousands(result.delivered),
        thousands(result.tagged), thousands(result.tagged_delivered));
    fmt::print("saturated: {}\n", result.saturated ? "yes: " + result.saturation_reason : "no");
    if (verbosity > 0)
        fmt::print("simulation: {:.3f} s, {} packet-hops, {:.2f} M packet-hops/s\n", result.seconds,
                   thousands(result.packet_hops), run.hop_rate() / 1e6);
}

nlohmann::json setup_json(const NocRun& run) {
    const ChipSpec& chip = run.chip;
    const TrafficOptions& traffic = run.traffic;
    const nlohmann::json null;
    const int32_t hot = run.analysis.hotspot_node;
    return {{"chip", {{"name", chip.name}, {"clock_hz", chip.clock_hz}, {"buffer_depth", chip.noc.buffer_depth},
                      {"flit_bits", chip.noc.flit_bits}, {"pipeline_cycles", chip.noc.pipeline_cycles},
                      {"link_cycles", chip.noc.link_cycles}}},
            {"mesh", {{"width", run.mesh.width}, {"height", run.mesh.height}, {"nodes", run.result.nodes}}},
            {"traffic", {{"pattern", traffic.pattern}, {"rate", traffic.rate}, {"packet_flits", traffic.packet_flits},
                         {"hotspot_fraction", run.hotspot() ? nlohmann::json(traffic.hotspot_fraction) : null},
                         {"hotspot_node", run.hotspot() ? nlohmann::json({hot % run.mesh.width, hot / run.mesh.width}) : null},
                         {"injecting_nodes", run.result.injecting_nodes}, {"seed", traffic.seed}}},
            {"cycles", {{"warmup", traffic.warmup_cycles}, {"measure", traffic.measure_cycles}, {"drain_bound", run.drain_bound},
                        {"drain", run.result.drain_cycles}, {"total", run.result.cycles}}}};
}

nlohmann::json result_json(const NocRun& run) {
    const TrafficResult& result = run.result;
    const TrafficAnalysis& analysis = run.analysis;
    return {{"offered", {{"packets_per_node_cycle", result.offered_packets_per_node_cycle},
                         {"flits_per_node_cycle", result.offered_flits_per_node_cycle}}},
            {"accepted", {{"packets_per_node_cycle", result.accepted_packets_per_node_cycle},
                          {"flits_per_node_cycle", result.accepted_flits_per_node_cycle}}},
            {"latency_cycles", {{"mean", result.latency_mean_cycles}, {"max", result.latency_max_cycles},
                                {"network_mean", result.network_latency_mean_cycles},
                                {"network_max", result.network_latency_max_cycles}, {"zero_load", analysis.zero_load_latency_cycles}}},
            {"hops", {{"mean", result.hops_mean}, {"expected", analysis.mean_hops}}},
            {"bounds", {{"channel_flits_per_node_cycle", analysis.channel_bound_flits_per_node_cycle},
                        {"credit_flits_per_node_cycle", analysis.credit_bound_flits_per_node_cycle},
                        {"max_link_load", analysis.max_link_load}}},
            {"packets", {{"generated", result.generated}, {"injected", result.injected}, {"delivered", result.delivered},
                         {"tagged", result.tagged}, {"tagged_delivered", result.tagged_delivered}, {"duplicates", result.duplicates},
                         {"misrouted", result.misrouted}, {"lost", result.lost}, {"discarded", result.discarded},
                         {"source_queue_max", result.source_queue_max_packets}}},
            {"saturated", result.saturated},
            {"saturation_reason", result.saturated ? nlohmann::json(result.saturation_reason) : nlohmann::json()},
            {"simulation", {{"seconds", result.seconds}, {"packet_hops", result.packet_hops}, {"flit_hops", result.flit_hops},
                            {"stall_cycles", result.stall_cycles}, {"packet_hops_per_s", run.hop_rate()}}}};
}

int run_noc(const CommonOptions& opts, const NocCommandOptions& cmd) {
    const Settings settings = load_experiment(opts);
    const ChipSpec chip = chip_spec(settings);
    const auto [mesh, mesh_from] = noc_mesh(cmd, chip);
    const TrafficOptions traffic = traffic_options(cmd, chip, settings);
    const int64_t drain_bound =
        traffic.drain_cycles > 0 ? traffic.drain_cycles : std::max<int64_t>(traffic.measure_cycles, 10000);
    // Checks the pattern against the mesh and the packet against the buffers before anything is elaborated.
    const TrafficAnalysis analysis = analyse_traffic(chip, mesh.width, mesh.height, traffic.pattern,
                                                     traffic.packet_flits, traffic.hotspot_fraction);
    NocSim sim(chip, mesh.width, mesh.height);
    const NocRun run{chip, mesh, mesh_from, traffic, analysis, sim.run(traffic), drain_bound};
    const TrafficResult& result = run.result;
    if (result.lost != 0 || result.duplicates != 0 || result.misrouted != 0)
        throw InternalError(fmt::format("packets not conserved: {} injected, {} delivered, {} duplicates, {} misrouted",
                                        result.injected, result.delivered, result.duplicates, result.misrouted));
    print_result(run, opts.verbosity());
    if (!opts.json_file.empty()) {
        nlohmann::json doc = setup_json(run);
        doc.update(result_json(run));
        doc.update({{"command", "noc"}, {"settings", settings_json(settings)}});
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

void add_traffic_options(CLI::App* cmd, NocCommandOptions& options) {
    const NocParams& params = noc_params();
    cmd->add_option("--mesh", options.mesh, "mesh WIDTHxHEIGHT (default: chip.noc.width x height if set, else 8x8)");
    cmd->add_option("--traffic", options.traffic, "uniform, transpose or hotspot")->capture_default_str();
    add_spec_option(cmd, "--rate", params.rate, options.rate)->type_name("R");
    add_spec_option(cmd, "--packet-flits", params.packet_flits, options.packet_flits)->type_name("F");
    add_spec_option(cmd, "--warmup", params.warmup, options.warmup)->type_name("C");
    add_spec_option(cmd, "--cycles", params.cycles, options.cycles)->type_name("C");
    add_spec_option(cmd, "--drain", params.drain, options.drain)->type_name("C");
    add_spec_option(cmd, "--hotspot-fraction", params.hotspot_fraction, options.hotspot_fraction);
}

}  // namespace

Command add_noc_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("noc", "the network-on-chip alone under synthetic traffic: latency, throughput, "
                                       "saturation");
    add_common_options(cmd, common);
    auto options = std::make_shared<NocCommandOptions>();
    add_traffic_options(cmd, *options);
    return {cmd, [&common, options] { return run_noc(common, *options); }};
}

}  // namespace neuroemu
