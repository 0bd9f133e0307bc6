// `neuroemu noc`: the network-on-chip alone under synthetic traffic (router/noc_traffic.h): latency, throughput and
// saturation of a mesh of the chip's routers, against the zero-load latency and the ideal (channel-load) throughput.
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "arch/chip_spec.h"
#include "router/noc_traffic.h"

namespace neuroemu {

namespace {

// Options arrive as text so that every bad value is a ConfigError (exit 2) naming the option.
double parse_real(const std::string& option, const std::string& text, double lo, double hi, const std::string& expect) {
    const char* s = text.c_str();
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s, &end);
    if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v < lo || v > hi)
        throw ConfigError(fmt::format("{}: '{}' is not {}", option, text, expect));
    return v;
}

int64_t parse_int(const std::string& option, const std::string& text, int64_t lo, int64_t hi,
                  const std::string& expect) {
    const char* s = text.c_str();
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || v < lo || v > hi)
        throw ConfigError(fmt::format("{}: '{}' is not {}", option, text, expect));
    return v;
}

}  // namespace

int run_noc(const CommonOptions& opts, const NocCommandOptions& cmd) {
    const Settings settings = load_experiment(opts);
    const ChipSpec chip = chip_spec(settings);
    // The mesh: --mesh, else the chip's own size when the configuration fixes one, else 8 x 8.
    MeshSize mesh{8, 8};
    std::string mesh_from = "default";
    if (!cmd.mesh.empty()) {
        mesh = parse_mesh(cmd.mesh, "--mesh");
        mesh_from = "--mesh";
    } else if (chip.noc.width > 0 && chip.noc.width <= kMaxMeshSide && chip.noc.height <= kMaxMeshSide) {
        mesh = {static_cast<int32_t>(chip.noc.width), static_cast<int32_t>(chip.noc.height)};
        mesh_from = "chip.noc.width/height";
    }
    TrafficOptions o;
    o.pattern = traffic_pattern(cmd.traffic, "--traffic");
    if (cmd.rate.empty()) throw ConfigError("--rate R is required: packets per node per cycle, 0 to 1");
    o.rate = parse_real("--rate", cmd.rate, 0.0, 1.0, "an injection rate in [0, 1] packets per node per cycle");
    // One AER event, as in the chip model, unless told otherwise.
    o.packet_flits = cmd.packet_flits.empty()
                         ? static_cast<int32_t>(chip.noc.flits_per_event())
                         : static_cast<int32_t>(parse_int("--packet-flits", cmd.packet_flits, 1, 1 << 20,
                                                          "a packet size of 1 or more flits"));
    o.warmup_cycles = parse_int("--warmup", cmd.warmup, 0, int64_t{1} << 40, "a number of cycles (0 or more)");
    o.measure_cycles = parse_int("--cycles", cmd.cycles, 1, int64_t{1} << 40, "a number of cycles (1 or more)");
    o.drain_cycles = parse_int("--drain", cmd.drain, 0, int64_t{1} << 40, "a number of cycles (0 = automatic)");
    o.hotspot_fraction = parse_real("--hotspot-fraction", cmd.hotspot_fraction, 0.0, 1.0, "a fraction in [0, 1]");
    o.seed = static_cast<uint64_t>(settings.get_int("seed"));
    const int64_t drain_bound = o.drain_cycles > 0 ? o.drain_cycles : std::max<int64_t>(o.measure_cycles, 10000);

    // Checks the pattern against the mesh and the packet against the buffers before anything is elaborated.
    const TrafficAnalysis a =
        analyse_traffic(chip, mesh.width, mesh.height, o.pattern, o.packet_flits, o.hotspot_fraction);
    NocSim sim(chip, mesh.width, mesh.height);
    const TrafficResult r = sim.run(o);
    if (r.lost != 0 || r.duplicates != 0 || r.misrouted != 0)
        throw InternalError(fmt::format("packets not conserved: {} injected, {} delivered, {} duplicates, {} misrouted",
                                        r.injected, r.delivered, r.duplicates, r.misrouted));
    const double hop_rate = r.seconds > 0 ? static_cast<double>(r.packet_hops) / r.seconds : 0.0;
    const bool hot = a.hotspot_node >= 0;

    if (opts.verbosity > 0) {
        fmt::print("noc: {} x {} mesh ({}), {} traffic{} at {} packets/node/cycle, {}-flit packets, seed {}\n",
                   mesh.width, mesh.height, mesh_from, o.pattern,
                   hot ? fmt::format(" ({:.0f}% to node ({}, {}))", 100 * o.hotspot_fraction,
                                     a.hotspot_node % mesh.width, a.hotspot_node / mesh.width)
                       : "",
                   o.rate, o.packet_flits, o.seed);
        fmt::print("router ({}): buffers {} flits, pipeline {} cycles, links {} cycle{} per flit; {:.0f} MHz\n",
                   chip.name, chip.noc.buffer_depth, chip.noc.pipeline_cycles, chip.noc.link_cycles,
                   chip.noc.link_cycles == 1 ? "" : "s", chip.clock_hz / 1e6);
        fmt::print("cycles: {} warm-up, {} measured, drained in {} (bound {}); {} simulated\n",
                   thousands(o.warmup_cycles), thousands(o.measure_cycles), thousands(r.drain_cycles),
                   thousands(drain_bound), thousands(r.cycles));
    }
    fmt::print(
        "offered {:.4f} packets = {:.4f} flits/node/cycle; accepted {:.4f} flits/node/cycle (ideal: channels "
        "{:.4f}, with credit loops {:.4f})\n",
        r.offered_packets_per_node_cycle, r.offered_flits_per_node_cycle, r.accepted_flits_per_node_cycle,
        a.channel_bound_flits_per_node_cycle, a.credit_bound_flits_per_node_cycle);
    fmt::print(
        "latency mean {:.2f} cycles, max {} (network only: mean {:.2f}, max {}); zero-load {:.2f} at {:.3f} hops\n",
        r.latency_mean_cycles, r.latency_max_cycles, r.network_latency_mean_cycles, r.network_latency_max_cycles,
        a.zero_load_latency_cycles, a.mean_hops);
    fmt::print(
        "hops mean {:.3f} (expected {:.3f}); packets {} generated, {} injected, {} delivered each once; {} "
        "tagged, {} delivered\n",
        r.hops_mean, a.mean_hops, thousands(r.generated), thousands(r.injected), thousands(r.delivered),
        thousands(r.tagged), thousands(r.tagged_delivered));
    fmt::print("saturated: {}\n", r.saturated ? "yes: " + r.saturation_reason : "no");
    if (opts.verbosity > 0)
        fmt::print("simulation: {:.3f} s, {} packet-hops, {:.2f} M packet-hops/s\n", r.seconds,
                   thousands(r.packet_hops), hop_rate / 1e6);

    if (!opts.json_file.empty()) {
        const nlohmann::json null;
        nlohmann::json doc = {
            {"command", "noc"},
            {"chip",
             {{"name", chip.name},
              {"clock_hz", chip.clock_hz},
              {"buffer_depth", chip.noc.buffer_depth},
              {"flit_bits", chip.noc.flit_bits},
              {"pipeline_cycles", chip.noc.pipeline_cycles},
              {"link_cycles", chip.noc.link_cycles}}},
            {"mesh", {{"width", mesh.width}, {"height", mesh.height}, {"nodes", r.nodes}}},
            {"traffic",
             {{"pattern", o.pattern},
              {"rate", o.rate},
              {"packet_flits", o.packet_flits},
              {"hotspot_fraction", hot ? nlohmann::json(o.hotspot_fraction) : null},
              {"hotspot_node", hot ? nlohmann::json({a.hotspot_node % mesh.width, a.hotspot_node / mesh.width}) : null},
              {"injecting_nodes", r.injecting_nodes},
              {"seed", o.seed}}},
            {"cycles",
             {{"warmup", o.warmup_cycles},
              {"measure", o.measure_cycles},
              {"drain_bound", drain_bound},
              {"drain", r.drain_cycles},
              {"total", r.cycles}}},
            {"offered",
             {{"packets_per_node_cycle", r.offered_packets_per_node_cycle},
              {"flits_per_node_cycle", r.offered_flits_per_node_cycle}}},
            {"accepted",
             {{"packets_per_node_cycle", r.accepted_packets_per_node_cycle},
              {"flits_per_node_cycle", r.accepted_flits_per_node_cycle}}},
            {"latency_cycles",
             {{"mean", r.latency_mean_cycles},
              {"max", r.latency_max_cycles},
              {"network_mean", r.network_latency_mean_cycles},
              {"network_max", r.network_latency_max_cycles},
              {"zero_load", a.zero_load_latency_cycles}}},
            {"hops", {{"mean", r.hops_mean}, {"expected", a.mean_hops}}},
            {"bounds",
             {{"channel_flits_per_node_cycle", a.channel_bound_flits_per_node_cycle},
              {"credit_flits_per_node_cycle", a.credit_bound_flits_per_node_cycle},
              {"max_link_load", a.max_link_load}}},
            {"packets",
             {{"generated", r.generated},
              {"injected", r.injected},
              {"delivered", r.delivered},
              {"tagged", r.tagged},
              {"tagged_delivered", r.tagged_delivered},
              {"duplicates", r.duplicates},
              {"misrouted", r.misrouted},
              {"lost", r.lost},
              {"discarded", r.discarded},
              {"source_queue_max", r.source_queue_max_packets}}},
            {"saturated", r.saturated},
            {"saturation_reason", r.saturated ? nlohmann::json(r.saturation_reason) : null},
            {"simulation",
             {{"seconds", r.seconds},
              {"packet_hops", r.packet_hops},
              {"flit_hops", r.flit_hops},
              {"stall_cycles", r.stall_cycles},
              {"packet_hops_per_s", hop_rate}}},
            {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

}  // namespace neuroemu
