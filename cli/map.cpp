// `neuroemu map`: partition the S-ResNet over cores, place them on the mesh, route, write the mapping file and
// report what binds (docs/mapping.md).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "convert/convert.h"
#include "convert/convert_spec.h"
#include "data/dataset_spec.h"
#include "experiment/experiment.h"
#include "experiment/mapping_run.h"
#include "mapping/map_file.h"
#include "mapping/map_spec.h"
#include "mapping/routing.h"
#include "model/model_spec.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A histogram of fractions in [0, 1] over ten bins (the last one closed).
std::vector<int64_t> histogram10(const std::vector<double>& fractions) {
    std::vector<int64_t> bins(10, 0);
    for (double f : fractions) ++bins[static_cast<size_t>(std::clamp(static_cast<int>(f * 10.0), 0, 9))];
    return bins;
}

void print_histogram(const std::string& title, const std::vector<int64_t>& bins) {
    const int64_t most = std::max<int64_t>(1, *std::max_element(bins.begin(), bins.end()));
    fmt::print("{}\n", title);
    for (size_t i = 0; i < bins.size(); ++i) {
        const int bar = static_cast<int>(std::lround(40.0 * static_cast<double>(bins[i]) / static_cast<double>(most)));
        fmt::print("  {:>3}-{:<4} {:>9}  {}\n", i * 10, fmt::format("{}%", (i + 1) * 10), thousands(bins[i]),
                   std::string(static_cast<size_t>(bar), '#'));
    }
}

nlohmann::json layer_json(const Mapping& mapping, const MapLayer& l) {
    int64_t max_syn = 0, max_fan = 0, units = 0;
    for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
        const Core& c = mapping.cores[static_cast<size_t>(k)];
        max_syn = std::max(max_syn, c.synapses), max_fan = std::max(max_fan, c.max_fan_in), units += c.units;
    }
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& in : l.inputs)
        inputs.push_back({{"source", in.source == kHostSource ? std::string("host")
                                                              : mapping.graph.layers[static_cast<size_t>(in.source)].name},
                          {"pattern", to_string(in.pattern)},
                          {"channels", {in.c0, in.c1}},
                          {"fan_in", in.fan_in},
                          {"projection", in.projection}});
    return {{"name", l.name},
            {"kind", to_string(l.kind)},
            {"shape", {l.channels, l.height, l.width}},
            {"units", l.units()},
            {"tile", {l.tile_c, l.tile_h, l.tile_w}},
            {"cores", l.cores},
            {"first_core", l.first_core},
            {"binding", l.binding},
            {"max_synapses_per_core", max_syn},
            {"max_fan_in", max_fan},
            {"rate", l.rate},
            {"inputs", inputs}};
}

// One row per layer, or (`by_population`) per S-ResNet population with its partial-sum layers folded in.
void print_layers(const Mapping& mapping, bool by_population) {
    struct Row {
        const MapLayer* root = nullptr;
        int64_t partial_layers = 0, partial_units = 0, cores = 0, max_syn = 0, max_fan = 0;
    };
    std::vector<Row> rows;
    for (const auto& l : mapping.graph.layers) {
        if (rows.empty() || !by_population || rows.back().root) rows.emplace_back();
        Row& r = rows.back();
        if (l.kind == UnitKind::Partial && by_population) ++r.partial_layers, r.partial_units += l.units();
        else r.root = &l;
        r.cores += l.cores;
        for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
            r.max_syn = std::max(r.max_syn, mapping.cores[static_cast<size_t>(k)].synapses);
            r.max_fan = std::max(r.max_fan, mapping.cores[static_cast<size_t>(k)].max_fan_in);
        }
    }
    size_t name_w = 5;
    for (const auto& r : rows) name_w = std::max(name_w, r.root->name.size());
    fmt::print("{:<{}}  {:<7}  {:>10}  {:>13}  {:>8}  {:>7}  {:<8}  {:>9}  {:>6}  {:>7}\n", "layer", name_w, "kind",
               "units", "tile c×h×w", by_population ? "partials" : "", "cores", "binding", "syn/core", "fan-in", "rate");
    for (const auto& r : rows) {
        const MapLayer& l = *r.root;
        fmt::print("{:<{}}  {:<7}  {:>10}  {:>13}  {:>8}  {:>7}  {:<8}  {:>9}  {:>6}  {:>7.4f}\n", l.name, name_w,
                   to_string(l.kind), thousands(l.units()), fmt::format("{}×{}×{}", l.tile_c, l.tile_h, l.tile_w),
                   r.partial_layers ? fmt::format("{}", r.partial_layers) : "", thousands(r.cores),
                   r.partial_layers ? "fan-in" : l.binding, thousands(r.max_syn), r.max_fan, l.rate);
    }
}

struct MapCommandOptions {
    std::string snn;     // --snn FILE
    std::string output;  // -o FILE; empty: no mapping file
};

// The mapping's figures as printed and written: utilisation per core, routing tables, timing.
struct MapFigures {
    experiment::MappingTotals totals;
    RoutingStats routes;
    std::vector<double> neuron_fill, synapse_fill;
    std::vector<int64_t> synapses_per_core;
    int32_t max_entries = 0, max_entries_default = 0;
    double routers = 0, flits_per_packet = 0, mean_fill = 0, mean_syn = 0;
    double seconds_route = 0, seconds_write = 0, seconds_total = 0;
};

MapFigures map_figures(const Mapping& mapping, const RoutingStats& routes) {
    const ChipSpec& chip = mapping.chip;
    MapFigures f;
    f.totals = experiment::mapping_totals(mapping);
    f.routes = routes;
    for (const auto& c : mapping.cores) {
        f.synapses_per_core.push_back(c.synapses);
        f.neuron_fill.push_back(static_cast<double>(c.units) / static_cast<double>(chip.core.neurons));
        f.synapse_fill.push_back(static_cast<double>(c.synapses) / static_cast<double>(chip.core.synapses));
    }
    for (size_t i = 0; i < routes.table_entries.size(); ++i) {
        f.max_entries = std::max(f.max_entries, routes.table_entries[i]);
        f.max_entries_default = std::max(f.max_entries_default, routes.table_entries_default[i]);
    }
    const auto n_cores = static_cast<int64_t>(mapping.cores.size());
    f.routers = static_cast<double>(mapping.mesh.routers());
    f.flits_per_packet = static_cast<double>(chip.noc.flits_per_event());
    f.mean_fill = n_cores ? static_cast<double>(f.totals.units) / static_cast<double>(n_cores * chip.core.neurons) : 0;
    f.mean_syn = n_cores ? static_cast<double>(f.totals.synapses) /
                               (static_cast<double>(n_cores) * static_cast<double>(chip.core.synapses))
                         : 0;
    return f;
}

void print_map_intro(const experiment::MapRun& run, const Settings& settings, int verbosity) {
    const ChipSpec& chip = run.mapping.chip;
    fmt::print("model {} -> chip {}: {} neurons, {} synapses, fan-in {} per core; bias as {}; weight sharing {}\n",
               run.model.name, chip.name, thousands(chip.core.neurons), thousands(chip.core.synapses),
               thousands(chip.core.fan_in), to_string(chip.core.bias), chip.core.weight_sharing ? "on" : "off");
    if (run.rates.source == "measured")
        fmt::print("traffic from measured firing rates ({} images x {} steps)\n\n", run.rates.images, run.rates.steps);
    else
        fmt::print("traffic from an estimated rate of {} spikes per neuron per step (mapping.estimated_rate)\n\n",
                   map_options(settings).estimated_rate);
    print_layers(run.mapping, verbosity < 2);
    fmt::print("\n");
}

void print_cores(const Mapping& mapping, const MapFigures& f) {
    const ChipSpec& chip = mapping.chip;
    const experiment::MappingTotals& t = f.totals;
    const int64_t chips = mapping.mesh.chips_x * mapping.mesh.chips_y;
    fmt::print("cores: {} on a {} x {} mesh ({} chip{} of {} x {})\n", thousands(static_cast<int64_t>(mapping.cores.size())),
               mapping.mesh.width(), mapping.mesh.height(), chips, chips == 1 ? "" : "s", mapping.mesh.chip_width,
               mapping.mesh.chip_height);
    fmt::print("  lower bounds: {} from IF neurons ({}), {} from all units incl. {} partial-sum and {} gate/current "
               "units, {} from synapse memory ({} entries)\n",
               thousands(t.neuron_bound), thousands(t.if_neurons), thousands(t.unit_bound), thousands(t.partial_units),
               thousands(t.gate_units), thousands(t.synapse_bound), thousands(t.synapses));
    std::string by;
    for (const auto& [k, v] : t.cores_by_binding) by += fmt::format("{}{} {}", by.empty() ? "" : ", ", thousands(v), k);
    fmt::print("  binding resource: {}; cores by what bounds their layer: {}\n", t.binding, by);
    fmt::print("  neuron slots used {:.1f}%, synapse memory used {:.1f}% ({:.1f} MiB at {} bits)\n", 100 * f.mean_fill,
               100 * f.mean_syn,
               static_cast<double>(t.synapses) * static_cast<double>(chip.core.weight_bits) / 8.0 / 1048576.0,
               chip.core.weight_bits);
}

void print_routes(const Mapping& mapping, const MapFigures& f) {
    const RoutingStats& rs = f.routes;
    fmt::print("routing ({} multicast, XY): table entries per router mean {:.1f}, max {}; with default routing mean "
               "{:.1f}, max {}\n",
               mapping.chip.noc.multicast, static_cast<double>(rs.total_entries) / f.routers, f.max_entries,
               static_cast<double>(rs.total_entries_default) / f.routers, f.max_entries_default);
    fmt::print("traffic per time step: {:.0f} packets, {:.0f} deliveries, {:.0f} hops ({:.0f} as unicasts), {:.0f} "
               "inter-chip; worst link {:.1f} packets ({} flits) at router ({}, {}) {}\n",
               rs.packets_per_step, rs.deliveries_per_step, rs.hops_per_step, rs.unicast_hops_per_step,
               rs.inter_chip_hops_per_step, rs.worst_link_packets,
               fmt::format("{:.1f}", rs.worst_link_packets * f.flits_per_packet), rs.worst_link_x, rs.worst_link_y,
               port_name(rs.worst_link_port));
}

void print_histograms(const MapFigures& f) {
    fmt::print("\n");
    print_histogram("neuron slots used per core:", histogram10(f.neuron_fill));
    print_histogram("synapse memory used per core:", histogram10(f.synapse_fill));
    std::vector<double> entries;
    for (int32_t e : f.routes.table_entries)
        entries.push_back(f.max_entries ? static_cast<double>(e) / f.max_entries : 0.0);
    print_histogram(fmt::format("routing-table entries per router (fraction of the largest, {}):", f.max_entries),
                    histogram10(entries));
}

nlohmann::json chip_json(const ChipSpec& chip) {
    return {{"name", chip.name},
            {"neurons_per_core", chip.core.neurons},
            {"synapses_per_core", chip.core.synapses},
            {"fan_in", chip.core.fan_in},
            {"weight_bits", chip.core.weight_bits},
            {"weight_sharing", chip.core.weight_sharing},
            {"bias", to_string(chip.core.bias)},
            {"multicast", chip.noc.multicast}};
}

nlohmann::json bounds_json(const experiment::MappingTotals& t) {
    return {{"if_neurons", t.if_neurons}, {"units", t.units}, {"partial_units", t.partial_units},
            {"gate_units", t.gate_units}, {"synapses", t.synapses}, {"cores_from_neurons", t.neuron_bound},
            {"cores_from_units", t.unit_bound}, {"cores_from_synapses", t.synapse_bound}};
}

nlohmann::json utilisation_json(const MapFigures& f, const ChipSpec& chip) {
    return {{"neuron_slots", f.mean_fill}, {"synapse_memory", f.mean_syn},
            {"neuron_histogram", histogram10(f.neuron_fill)}, {"synapse_histogram", histogram10(f.synapse_fill)},
            {"synapse_memory_bits", f.totals.synapses * chip.core.weight_bits},
            {"synapses_per_core", f.synapses_per_core}};
}

nlohmann::json routing_json(const MapFigures& f) {
    const RoutingStats& rs = f.routes;
    return {{"entries_total", rs.total_entries}, {"entries_max", f.max_entries},
            {"entries_mean", static_cast<double>(rs.total_entries) / f.routers},
            {"entries_default_total", rs.total_entries_default}, {"entries_default_max", f.max_entries_default},
            {"entries_per_router", rs.table_entries}};
}

nlohmann::json traffic_json(const MapFigures& f) {
    const RoutingStats& rs = f.routes;
    return {{"packets", rs.packets_per_step}, {"deliveries", rs.deliveries_per_step}, {"hops", rs.hops_per_step},
            {"unicast_hops", rs.unicast_hops_per_step}, {"inter_chip_hops", rs.inter_chip_hops_per_step},
            {"links_used", rs.links_used}, {"flits_per_packet", static_cast<int64_t>(f.flits_per_packet)},
            {"worst_link", {{"packets", rs.worst_link_packets}, {"x", rs.worst_link_x}, {"y", rs.worst_link_y},
                            {"port", port_name(rs.worst_link_port)}}}};
}

nlohmann::json map_json(const experiment::MapRun& run, const MapFigures& f, const std::string& output,
                        const Settings& settings) {
    const Mapping& mapping = run.mapping;
    const Mesh& mesh = mapping.mesh;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : mapping.graph.layers) layers.push_back(layer_json(mapping, l));
    return {{"command", "map"},
            {"model", run.model.name},
            {"output", output.empty() ? nlohmann::json(nullptr) : nlohmann::json(output)},
            {"chip", chip_json(mapping.chip)},
            {"mesh", {{"width", mesh.width()}, {"height", mesh.height()}, {"chips_x", mesh.chips_x},
                      {"chips_y", mesh.chips_y}, {"chip_width", mesh.chip_width}, {"chip_height", mesh.chip_height},
                      {"host", {mapping.host_x, mapping.host_y}}}},
            {"traffic_source", run.rates.source},
            {"cores", static_cast<int64_t>(mapping.cores.size())},
            {"bounds", bounds_json(f.totals)},
            {"binding", f.totals.binding},
            {"cores_by_binding", f.totals.cores_by_binding},
            {"utilisation", utilisation_json(f, mapping.chip)},
            {"routing", routing_json(f)},
            {"traffic_per_step", traffic_json(f)},
            {"layers", layers},
            {"seconds", {{"model", run.seconds_model}, {"rates", run.seconds_rates},
                         {"partition", run.seconds_partition}, {"connect", run.seconds_connect},
                         {"place", run.seconds_place}, {"route", f.seconds_route}, {"write", f.seconds_write},
                         {"total", f.seconds_total}}},
            {"settings", settings_json(settings)}};
}

int run_map(const CommonOptions& opts, const MapCommandOptions& cmd) {
    const auto t_start = Clock::now();
    const int verbosity = opts.verbosity();
    const Settings settings = load_experiment(opts);
    const experiment::MapRun run = experiment::prepare_mapping(settings, cmd.snn, false, verbosity);
    auto t0 = Clock::now();
    MapFigures f = map_figures(run.mapping, route(run.mapping));
    f.seconds_route = seconds_since(t0);
    t0 = Clock::now();
    if (!cmd.output.empty()) save_mapping(run.mapping, cmd.output);
    f.seconds_write = seconds_since(t0);
    f.seconds_total = seconds_since(t_start);

    if (verbosity > 0) print_map_intro(run, settings, verbosity);
    print_cores(run.mapping, f);
    print_routes(run.mapping, f);
    if (verbosity > 0) print_histograms(f);
    if (!cmd.output.empty() && verbosity > 0) fmt::print("mapping written to {}\n", cmd.output);
    if (verbosity > 1)
        fmt::print("time: model {:.2f} s, rates {:.2f} s, partition {:.2f} s, connect {:.2f} s, place {:.2f} s, route "
                   "{:.2f} s, write {:.2f} s; total {:.2f} s\n",
                   run.seconds_model, run.seconds_rates, run.seconds_partition, run.seconds_connect, run.seconds_place,
                   f.seconds_route, f.seconds_write, f.seconds_total);
    if (!opts.json_file.empty()) write_json_file(opts.json_file, map_json(run, f, cmd.output, settings));
    return 0;
}

}  // namespace

Command add_map_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("map", "partition the S-ResNet over cores, place and route it on the chip");
    add_common_options(cmd, common);
    auto options = std::make_shared<MapCommandOptions>();
    add_snn_option(cmd, options->snn);
    cmd->add_option("-o,--output", options->output,
                    "where to write the mapping file (docs/mapping-format.md); default: none");
    return {cmd, [&common, options] { return run_map(common, *options); }};
}

}  // namespace neuroemu
