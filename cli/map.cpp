// `neuroemu map`: partition the S-ResNet over cores, place them on the mesh, route, write the mapping file and
// report what binds (docs/mapping.md).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/pipeline.h"
#include "convert/convert.h"
#include "convert/convert_spec.h"
#include "data/dataset_spec.h"
#include "mapping/map_file.h"
#include "mapping/map_spec.h"
#include "mapping/routing.h"
#include "model/model_spec.h"
#include "sim/sim_spec.h"

namespace neuroemu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

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

struct Totals {
    int64_t if_neurons = 0, units = 0, partial_units = 0, gate_units = 0, synapses = 0;
    int64_t neuron_bound = 0, unit_bound = 0, synapse_bound = 0;
    std::string binding;
    std::map<std::string, int64_t> cores_by_binding;
};

Totals totals_of(const Mapping& m) {
    Totals t;
    for (const auto& l : m.graph.layers) {
        t.units += l.units();
        if (l.kind == UnitKind::Neuron || l.kind == UnitKind::Readout) t.if_neurons += l.units();
        if (l.kind == UnitKind::Partial) t.partial_units += l.units();
        if (l.kind == UnitKind::Gate || l.kind == UnitKind::Current) t.gate_units += l.units();
        t.cores_by_binding[l.binding] += l.cores;
    }
    for (const auto& c : m.cores) t.synapses += c.synapses;
    t.neuron_bound = ceil_div(t.if_neurons, m.chip.core.neurons);
    t.unit_bound = ceil_div(t.units, m.chip.core.neurons);
    t.synapse_bound = ceil_div(t.synapses, m.chip.core.synapses);
    // The binding resource: the one whose lower bound on cores is largest.
    t.binding = "neurons";
    int64_t b = t.neuron_bound;
    if (t.unit_bound > b && t.partial_units > 0) t.binding = "fan-in", b = t.unit_bound;
    if (t.synapse_bound > b) t.binding = "synapses";
    return t;
}

nlohmann::json layer_json(const Mapping& m, const MapLayer& l) {
    int64_t max_syn = 0, max_fan = 0, units = 0;
    for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
        const Core& c = m.cores[static_cast<size_t>(k)];
        max_syn = std::max(max_syn, c.synapses), max_fan = std::max(max_fan, c.max_fan_in), units += c.units;
    }
    nlohmann::json inputs = nlohmann::json::array();
    for (const auto& in : l.inputs)
        inputs.push_back({{"source", in.source == kHostSource ? std::string("host")
                                                              : m.graph.layers[static_cast<size_t>(in.source)].name},
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
void print_layers(const Mapping& m, bool by_population) {
    struct Row {
        const MapLayer* root = nullptr;
        int64_t partial_layers = 0, partial_units = 0, cores = 0, max_syn = 0, max_fan = 0;
    };
    std::vector<Row> rows;
    for (const auto& l : m.graph.layers) {
        if (rows.empty() || !by_population || rows.back().root) rows.emplace_back();
        Row& r = rows.back();
        if (l.kind == UnitKind::Partial && by_population) ++r.partial_layers, r.partial_units += l.units();
        else r.root = &l;
        r.cores += l.cores;
        for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
            r.max_syn = std::max(r.max_syn, m.cores[static_cast<size_t>(k)].synapses);
            r.max_fan = std::max(r.max_fan, m.cores[static_cast<size_t>(k)].max_fan_in);
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

}  // namespace

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

Rates measured_rates(const SnnResult& res, const SnnOptions& options, const ImageSet& test) {
    Rates r;
    r.source = "measured";
    r.images = res.images;
    r.steps = res.steps;
    r.population.assign(res.populations.size(), -1.0);
    for (size_t i = 0; i < res.populations.size(); ++i) r.population[i] = res.populations[i].firing_rate;
    if (!options.encoding->constant_current()) {  // the input spikes at each pixel's value
        double sum = 0;
        for (uint8_t p : test.pixels) sum += p / 255.0;
        r.host = test.pixels.empty() ? 0.0 : sum / static_cast<double>(test.pixels.size());
    } else {
        r.host = 1.0 / static_cast<double>(options.steps);  // a constant current is sent once per image
    }
    return r;
}

static Rates measure_rates(const Settings& settings, const SnnModel& model, int verbosity) {
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("mapping.traffic_images"));
    const SnnOptions options = snn_options(settings);
    const SnnEngine engine(model);
    const SnnResult res = engine.evaluate(test, input_normalisation(settings, test.channels), options);
    Rates r = measured_rates(res, options, test);
    r.population.resize(model.populations.size(), -1.0);
    if (verbosity > 0)
        fmt::print("firing rates measured on {} test images x {} steps ({:.1f} s)\n", r.images, r.steps, res.seconds);
    return r;
}

MapRun prepare_mapping(const Settings& settings, const std::string& snn_file, bool need_data, int verbosity,
                       bool build_mapping) {
    const auto t_start = Clock::now();
    const ChipSpec chip = chip_spec(settings);
    const MapOptions options = map_options(settings);
    const std::string traffic = settings.get_string("mapping.traffic");
    MapRun run;
    if (!snn_file.empty()) run.model = load_snn(snn_file);
    const bool trained = settings.has("model.onnx") || !snn_file.empty();
    const bool measure = build_mapping && (traffic == "measured" || (traffic == "auto" && trained));
    if (run.model.populations.empty()) {
        const Network net = load_model(settings);
        if (measure || need_data) {
            Network folded;
            ConversionReport report;
            run.model = convert_from_settings(settings, net, folded, report, verbosity);
        } else {
            ConversionOptions co = conversion_options(settings);
            co.normalise = false;  // the structure is all mapping needs; rates are estimated
            run.model = build_snn(fold_batchnorm(net), Calibration{}, co);
        }
    }
    run.seconds_model = seconds_since(t_start);
    if (measure) run.rates = measure_rates(settings, run.model, verbosity);
    run.seconds_rates = seconds_since(t_start) - run.seconds_model;
    if (!build_mapping) return run;

    MapTimes times;
    run.mapping = map_network(run.model, chip, options, measure ? &run.rates.population : nullptr,
                              measure ? run.rates.host : -1.0, &times);
    run.seconds_partition = times.partition_s;
    run.seconds_connect = times.connect_s;
    run.seconds_place = times.place_s;
    return run;
}

int run_map(const CommonOptions& opts, const MapCommandOptions& cmd) {
    const auto t_start = Clock::now();
    const Settings settings = load_experiment(opts);
    const ChipSpec chip = chip_spec(settings);
    const MapOptions options = map_options(settings);

    MapRun run = prepare_mapping(settings, cmd.snn, false, opts.verbosity);
    const SnnModel& model = run.model;
    const Rates& rates = run.rates;
    Mapping& m = run.mapping;
    const double t_model = run.seconds_model, t_rates = run.seconds_rates, t_partition = run.seconds_partition,
                 t_connect = run.seconds_connect, t_place = run.seconds_place;
    auto t0 = Clock::now();
    const RoutingStats rs = route(m);
    const double t_route = seconds_since(t0);
    t0 = Clock::now();
    if (!cmd.output.empty()) save_mapping(m, cmd.output);
    const double t_write = seconds_since(t0);

    const Totals t = totals_of(m);
    const auto n_cores = static_cast<int64_t>(m.cores.size());
    std::vector<double> neuron_fill, synapse_fill;
    std::vector<int64_t> synapses_per_core;
    for (const auto& c : m.cores) {
        synapses_per_core.push_back(c.synapses);
        neuron_fill.push_back(static_cast<double>(c.units) / static_cast<double>(chip.core.neurons));
        synapse_fill.push_back(static_cast<double>(c.synapses) / static_cast<double>(chip.core.synapses));
    }
    int32_t max_entries = 0, max_entries_default = 0;
    for (size_t i = 0; i < rs.table_entries.size(); ++i) {
        max_entries = std::max(max_entries, rs.table_entries[i]);
        max_entries_default = std::max(max_entries_default, rs.table_entries_default[i]);
    }
    const double routers = static_cast<double>(m.mesh.routers());
    const int64_t flits_per_packet = chip.noc.flits_per_event();
    const double mean_fill = n_cores ? static_cast<double>(t.units) / static_cast<double>(n_cores * chip.core.neurons) : 0;
    const double mean_syn = n_cores ? static_cast<double>(t.synapses) / (static_cast<double>(n_cores) * static_cast<double>(chip.core.synapses)) : 0;
    const double seconds = seconds_since(t_start);

    if (opts.verbosity > 0) {
        fmt::print("model {} -> chip {}: {} neurons, {} synapses, fan-in {} per core; bias as {}; weight sharing {}\n",
                   model.name, chip.name, thousands(chip.core.neurons), thousands(chip.core.synapses),
                   thousands(chip.core.fan_in), to_string(chip.core.bias), chip.core.weight_sharing ? "on" : "off");
        if (rates.source == "measured")
            fmt::print("traffic from measured firing rates ({} images x {} steps)\n\n", rates.images, rates.steps);
        else
            fmt::print("traffic from an estimated rate of {} spikes per neuron per step (mapping.estimated_rate)\n\n",
                       options.estimated_rate);
        print_layers(m, opts.verbosity < 2);
        fmt::print("\n");
    }
    fmt::print("cores: {} on a {} x {} mesh ({} chip{} of {} x {})\n", thousands(n_cores), m.mesh.width(),
               m.mesh.height(), m.mesh.chips_x * m.mesh.chips_y, m.mesh.chips_x * m.mesh.chips_y == 1 ? "" : "s",
               m.mesh.chip_width, m.mesh.chip_height);
    fmt::print("  lower bounds: {} from IF neurons ({}), {} from all units incl. {} partial-sum and {} gate/current "
               "units, {} from synapse memory ({} entries)\n",
               thousands(t.neuron_bound), thousands(t.if_neurons), thousands(t.unit_bound), thousands(t.partial_units),
               thousands(t.gate_units), thousands(t.synapse_bound), thousands(t.synapses));
    std::string by;
    for (const auto& [k, v] : t.cores_by_binding) by += fmt::format("{}{} {}", by.empty() ? "" : ", ", thousands(v), k);
    fmt::print("  binding resource: {}; cores by what bounds their layer: {}\n", t.binding, by);
    fmt::print("  neuron slots used {:.1f}%, synapse memory used {:.1f}% ({:.1f} MiB at {} bits)\n", 100 * mean_fill,
               100 * mean_syn, static_cast<double>(t.synapses) * static_cast<double>(chip.core.weight_bits) / 8.0 / 1048576.0,
               chip.core.weight_bits);
    fmt::print("routing ({} multicast, XY): table entries per router mean {:.1f}, max {}; with default routing mean "
               "{:.1f}, max {}\n",
               chip.noc.multicast, static_cast<double>(rs.total_entries) / routers, max_entries,
               static_cast<double>(rs.total_entries_default) / routers, max_entries_default);
    fmt::print("traffic per time step: {:.0f} packets, {:.0f} deliveries, {:.0f} hops ({:.0f} as unicasts), {:.0f} "
               "inter-chip; worst link {:.1f} packets ({} flits) at router ({}, {}) {}\n",
               rs.packets_per_step, rs.deliveries_per_step, rs.hops_per_step, rs.unicast_hops_per_step,
               rs.inter_chip_hops_per_step, rs.worst_link_packets,
               fmt::format("{:.1f}", rs.worst_link_packets * static_cast<double>(flits_per_packet)), rs.worst_link_x,
               rs.worst_link_y, port_name(rs.worst_link_port));
    if (opts.verbosity > 0) {
        fmt::print("\n");
        print_histogram("neuron slots used per core:", histogram10(neuron_fill));
        print_histogram("synapse memory used per core:", histogram10(synapse_fill));
        std::vector<double> entries;
        for (int32_t e : rs.table_entries) entries.push_back(max_entries ? static_cast<double>(e) / max_entries : 0.0);
        print_histogram(fmt::format("routing-table entries per router (fraction of the largest, {}):", max_entries),
                        histogram10(entries));
    }
    if (!cmd.output.empty() && opts.verbosity > 0) fmt::print("mapping written to {}\n", cmd.output);
    if (opts.verbosity > 1)
        fmt::print("time: model {:.2f} s, rates {:.2f} s, partition {:.2f} s, connect {:.2f} s, place {:.2f} s, route "
                   "{:.2f} s, write {:.2f} s; total {:.2f} s\n",
                   t_model, t_rates, t_partition, t_connect, t_place, t_route, t_write, seconds);

    if (!opts.json_file.empty()) {
        nlohmann::json layers = nlohmann::json::array();
        for (const auto& l : m.graph.layers) layers.push_back(layer_json(m, l));
        nlohmann::json doc = {
            {"command", "map"},
            {"model", model.name},
            {"output", cmd.output.empty() ? nlohmann::json(nullptr) : nlohmann::json(cmd.output)},
            {"chip", {{"name", chip.name},
                      {"neurons_per_core", chip.core.neurons},
                      {"synapses_per_core", chip.core.synapses},
                      {"fan_in", chip.core.fan_in},
                      {"weight_bits", chip.core.weight_bits},
                      {"weight_sharing", chip.core.weight_sharing},
                      {"bias", to_string(chip.core.bias)},
                      {"multicast", chip.noc.multicast}}},
            {"mesh", {{"width", m.mesh.width()}, {"height", m.mesh.height()}, {"chips_x", m.mesh.chips_x},
                      {"chips_y", m.mesh.chips_y}, {"chip_width", m.mesh.chip_width},
                      {"chip_height", m.mesh.chip_height}, {"host", {m.host_x, m.host_y}}}},
            {"traffic_source", rates.source},
            {"cores", n_cores},
            {"bounds", {{"if_neurons", t.if_neurons}, {"units", t.units}, {"partial_units", t.partial_units},
                        {"gate_units", t.gate_units}, {"synapses", t.synapses},
                        {"cores_from_neurons", t.neuron_bound}, {"cores_from_units", t.unit_bound},
                        {"cores_from_synapses", t.synapse_bound}}},
            {"binding", t.binding},
            {"cores_by_binding", t.cores_by_binding},
            {"utilisation", {{"neuron_slots", mean_fill}, {"synapse_memory", mean_syn},
                             {"neuron_histogram", histogram10(neuron_fill)},
                             {"synapse_histogram", histogram10(synapse_fill)},
                             {"synapse_memory_bits", t.synapses * chip.core.weight_bits},
                             {"synapses_per_core", synapses_per_core}}},
            {"routing", {{"entries_total", rs.total_entries}, {"entries_max", max_entries},
                         {"entries_mean", static_cast<double>(rs.total_entries) / routers},
                         {"entries_default_total", rs.total_entries_default},
                         {"entries_default_max", max_entries_default},
                         {"entries_per_router", rs.table_entries}}},
            {"traffic_per_step", {{"packets", rs.packets_per_step}, {"deliveries", rs.deliveries_per_step},
                                  {"hops", rs.hops_per_step}, {"unicast_hops", rs.unicast_hops_per_step},
                                  {"inter_chip_hops", rs.inter_chip_hops_per_step}, {"links_used", rs.links_used},
                                  {"flits_per_packet", flits_per_packet},
                                  {"worst_link", {{"packets", rs.worst_link_packets}, {"x", rs.worst_link_x},
                                                  {"y", rs.worst_link_y}, {"port", port_name(rs.worst_link_port)}}}}},
            {"layers", layers},
            {"seconds", {{"model", t_model}, {"rates", t_rates}, {"partition", t_partition}, {"connect", t_connect},
                         {"place", t_place}, {"route", t_route}, {"write", t_write}, {"total", seconds}}},
            {"settings", settings_json(settings)}};
        write_json_file(opts.json_file, doc);
    }
    return 0;
}

}  // namespace neuroemu
