// `neuroemu report`: accuracy, firing rates, SOPs, mapping, hardware timing and energy of one experiment in one
// document (docs/report-format.md), rendered to HTML, Markdown and CSV (report/render.h).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/pipeline.h"
#include "cli/schema.h"
#include "common/error.h"
#include "common/progress.h"
#include "convert/convert.h"
#include "convert/convert_spec.h"
#include "data/dataset_spec.h"
#include "energy/energy.h"
#include "mapping/map_spec.h"
#include "mapping/routing.h"
#include "model/model_spec.h"
#include "model/zoo.h"
#include "report/format.h"
#include "report/render.h"
#include "sim/sim_spec.h"

namespace neuroemu {

using report::si;

std::vector<ParamSpec> report_params() {
    return {
        ParamSpec("report.hw_images", ParamKind::Int, "1", "images",
                  "Test images the SystemC hardware model runs for latency, cycles per tick, link loads and the "
                  "routing and static energy; 0 = none (routing energy from the mapper's estimate, no static "
                  "term, no latency).")
            .range(0, 1e9),
        ParamSpec("report.paper_table", ParamKind::Bool, "true", "",
                  "Include the paper's §4.4 ImageNet comparison (builds zoo ResNet-18/34/50 to count their MACs).")
    };
}

namespace {

using nlohmann::json;

json nullable(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json terms_json(const EnergyBreakdown& b) {
    json terms = json::array();
    for (const auto& t : b.terms)
        terms.push_back({{"key", t.key},
                         {"label", t.label},
                         {"count", t.count},
                         {"unit", t.unit},
                         {"coefficient_j", t.coefficient_j},
                         {"coefficient_unit", t.coefficient_unit},
                         {"coefficient_key", t.coefficient_key},
                         {"energy_j", t.energy_j},
                         {"source", t.source}});
    return terms;
}

// A [height][width] matrix over the mesh with `value(core)` where a core sits, null elsewhere.
template <class F>
json mesh_matrix(const Mapping& m, F value) {
    const int32_t w = m.mesh.width(), h = m.mesh.height();
    std::vector<std::vector<json>> rows(static_cast<size_t>(h), std::vector<json>(static_cast<size_t>(w), nullptr));
    for (const Core& c : m.cores) rows[static_cast<size_t>(c.y)][static_cast<size_t>(c.x)] = value(c);
    return rows;
}

// A [height][width] matrix of per-router values (index y * width + x).
json router_matrix(const Mapping& m, const std::vector<double>& per_router) {
    const int32_t w = m.mesh.width(), h = m.mesh.height();
    json rows = json::array();
    for (int32_t y = 0; y < h; ++y) {
        json row = json::array();
        for (int32_t x = 0; x < w; ++x) row.push_back(per_router[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)]);
        rows.push_back(row);
    }
    return rows;
}

// The busiest of each router's four outgoing links, from per-link loads (router x 4).
template <class T>
std::vector<double> busiest_link(const std::vector<T>& links, double scale) {
    std::vector<double> out(links.size() / 4, 0.0);
    for (size_t r = 0; r < out.size(); ++r)
        for (size_t k = 0; k < 4; ++k) out[r] = std::max(out[r], static_cast<double>(links[4 * r + k]) * scale);
    return out;
}

json paper_table_json(const EnergySpec& e, uint64_t seed) {
    json rows = json::array();
    for (const PaperNetwork& net : paper_networks()) {
        ZooSpec z;
        z.arch = net.zoo;
        z.input_chw = {3, 224, 224};
        z.classes = 1000;
        z.seed = seed;
        const PaperEnergyRow r = paper_energy_row(e, net, static_cast<double>(totals(build_zoo(z)).macs));
        rows.push_back({{"network", r.network},
                        {"gmac", r.gmac},
                        {"paper_gflop", r.paper_gflop},
                        {"paper_gsop", r.paper_gsop},
                        {"flops_per_mac", r.flops_per_mac},
                        {"energy_ann_j", r.energy_ann_j},
                        {"energy_snn_j", r.energy_snn_j},
                        {"ratio", r.ratio()},
                        {"more_than_9x", r.ratio() > 9.0}});
    }
    return rows;
}

}  // namespace

int run_report(const CommonOptions& opts, const ReportOptions& cmd) {
    std::vector<std::string> extra;
    if (cmd.steps) extra.push_back(fmt::format("simulation.steps={}", *cmd.steps));
    if (cmd.images) extra.push_back(fmt::format("dataset.images={}", *cmd.images));
    if (cmd.hw_images) extra.push_back(fmt::format("report.hw_images={}", *cmd.hw_images));
    if (cmd.output.empty() && opts.json_file.empty())
        throw ConfigError("report: give -o DIR (HTML, Markdown, CSV and JSON) or --json FILE");
    const Settings settings = load_experiment(opts, extra);
    const ChipSpec chip = chip_spec(settings);
    const EnergySpec energy = energy_spec(settings);
    const int64_t hw_images = settings.get_int("report.hw_images");

    // The S-ResNet.
    const Network net = load_model(settings);
    Network folded;
    ConversionReport conversion;
    const SnnModel model = snn_for_run(settings, net, cmd.snn, folded, conversion, opts.verbosity);

    // Accuracy, firing rates and SOPs: the functional engine.
    const ImageSet test = load_dataset(settings, Split::Test, settings.get_int("dataset.images"));
    const SnnOptions so = snn_options(settings);
    SnnResult r;
    {
        const SnnEngine engine(model);
        Progress progress("snn", test.count, opts.verbosity > 0 && Progress::stderr_is_terminal());
        r = engine.evaluate(test, input_normalisation(settings, test.channels), so, &progress,
                            settings.get_bool("simulation.compare_ann") ? &folded : nullptr);
    }
    const double images = static_cast<double>(std::max<int64_t>(1, r.images));
    const double steps = static_cast<double>(r.steps);

    // The mapping, with the rates just measured; a network that does not fit is a result, not an error.
    std::optional<Mapping> mapping;
    std::string fit_error;
    try {
        const Rates rates = measured_rates(r, so, test);
        mapping = map_network(model, chip, map_options(settings), &rates.population, rates.host);
    } catch (const MappingError& e) {
        fit_error = e.what();
    }

    // Timing, flit-hops and link loads: the SystemC hardware model on the first hw_images test images.
    std::optional<HwStats> hw;
    if (mapping && hw_images > 0) {
        const ImageSet hw_test = load_dataset(settings, Split::Test, hw_images);
        HwOptions ho;
        ho.encoding = so.encoding;
        ChipModel chip_model(*mapping, model, ho);
        carry_engine_spikes(chip_model, settings, model, hw_test, opts.verbosity);
        hw = chip_model.stats();
    }

    // Counts per inference and the energy.
    EnergyCounts counts;
    counts.sops = static_cast<double>(r.sops) / images;
    counts.input_sops = static_cast<double>(r.input_macs) / images;
    counts.spikes = static_cast<double>(r.spikes) / images;
    double neurons = 0;
    for (const auto& p : r.populations)
        if (p.kind != "input") neurons += static_cast<double>(p.neurons);
    counts.neuron_updates = neurons * steps;
    std::optional<RoutingStats> routes;
    if (mapping) {
        counts.cores = static_cast<int64_t>(mapping->cores.size());
        routes = route(*mapping);
    }
    const double flits_per_packet = static_cast<double>(chip.noc.flits_per_event());
    double hw_n = 1;
    if (hw) {
        hw_n = static_cast<double>(std::max<int64_t>(1, hw->images));
        counts.extra_sops = static_cast<double>(hw->partial_sum_sops) / hw_n;
        counts.spikes = static_cast<double>(hw->spikes) / hw_n;
        counts.spikes_source = "hardware model (events generated: spikes, partial sums, graded events)";
        counts.neuron_updates = static_cast<double>(hw->neuron_updates) / hw_n;
        counts.neuron_updates_source = "hardware model (neuron slots x ticks)";
        counts.flit_hops = static_cast<double>(hw->noc.flit_hops) / hw_n;
        counts.flit_hops_source = fmt::format("hardware model ({} image{})", hw->images, hw->images == 1 ? "" : "s");
        counts.buffer_writes = static_cast<double>(hw->noc.buffer_writes) / hw_n;
        counts.seconds = static_cast<double>(hw->cycles) / hw_n / chip.clock_hz;
        counts.seconds_source = "latency (hardware model)";
    } else if (routes) {
        counts.flit_hops = routes->hops_per_step * steps * flits_per_packet;
        counts.flit_hops_source = "mapper estimate (measured firing rates x XY route hops)";
    }
    const EnergyBreakdown snn = snn_energy(energy, counts);
    const EnergyBreakdown snn_sop = snn_energy_sop_only(energy, counts);
    const double macs = static_cast<double>(totals(net).macs);
    const EnergyBreakdown ann = ann_energy(energy, macs);

    // The document.
    const double ann_top1 = r.ann_correct >= 0 ? static_cast<double>(r.ann_correct) / images : NAN;
    const std::optional<double> latency_s = counts.seconds;
    json headline = {
        {"accuracy_snn", r.accuracy(r.steps)},
        {"accuracy_ann", r.ann_correct >= 0 ? json(ann_top1) : json(nullptr)},
        {"steps", r.steps},
        {"images", r.images},
        {"cores", mapping ? json(mapping->cores.size()) : json(nullptr)},
        {"fits", mapping.has_value()},
        {"fit_error", fit_error.empty() ? json(nullptr) : json(fit_error)},
        {"energy_snn_j", snn.total_j()},
        {"energy_snn_sop_j", snn_sop.total_j()},
        {"energy_ann_j", ann.total_j()},
        {"ratio_ann_to_snn", ann.total_j() / snn.total_j()},
        {"ratio_ann_to_snn_sop", ann.total_j() / snn_sop.total_j()},
        {"latency_s", nullable(latency_s)},
        {"latency_cycles", hw ? json(static_cast<double>(hw->cycles) / hw_n) : json(nullptr)},
        {"cycles_per_tick_mean",
         hw && hw->ticks ? json(static_cast<double>(hw->cycles) / static_cast<double>(hw->ticks)) : json(nullptr)}};

    json curve = json::array(), checkpoints = json::array(), layers = json::array();
    for (int64_t t = 1; t <= r.steps; ++t) curve.push_back(r.accuracy(t));
    for (int64_t t : accuracy_checkpoints(settings, r.steps)) checkpoints.push_back({{"step", t}, {"top1", r.accuracy(t)}});
    const double all_sops = static_cast<double>(std::max<int64_t>(1, r.sops));
    for (const auto& p : r.populations)
        layers.push_back({{"name", p.name},
                          {"kind", p.kind},
                          {"neurons", p.neurons},
                          {"firing_rate", p.firing_rate},
                          {"spikes_per_image", static_cast<double>(p.spikes) / images},
                          {"sops_per_image", static_cast<double>(p.sops_in) / images},
                          {"sop_share", static_cast<double>(p.sops_in) / all_sops}});

    json mesh = nullptr, ticks = nullptr;
    if (mapping) {
        const Mapping& m = *mapping;
        const auto neurons_per_core = static_cast<double>(chip.core.neurons);
        const auto synapses_per_core = static_cast<double>(chip.core.synapses);
        json router_flits = nullptr, link_max = nullptr;
        std::string link_source = "mapper estimate";
        if (hw) {
            std::vector<double> rf(hw->noc.router_flits.size());
            for (size_t i = 0; i < rf.size(); ++i) rf[i] = static_cast<double>(hw->noc.router_flits[i]) / hw_n;
            router_flits = router_matrix(m, rf);
            link_max = router_matrix(m, busiest_link(hw->noc.link_flits, 1.0 / hw_n));
            link_source = "hardware model";
        } else {
            link_max = router_matrix(m, busiest_link(routes->link_packets, steps * flits_per_packet));
        }
        mesh = {{"width", m.mesh.width()},
                {"height", m.mesh.height()},
                {"chips", int64_t{m.mesh.chips_x} * m.mesh.chips_y},
                {"core_utilisation", mesh_matrix(m, [&](const Core& c) { return static_cast<double>(c.units) / neurons_per_core; })},
                {"synapse_utilisation", mesh_matrix(m, [&](const Core& c) { return static_cast<double>(c.synapses) / synapses_per_core; })},
                {"router_flits", router_flits},
                {"link_flits_max", link_max},
                {"link_flits_source", link_source}};
        if (hw) {
            const int64_t max_tick = hw->tick_cycles.empty() ? 0 : *std::max_element(hw->tick_cycles.begin(), hw->tick_cycles.end());
            ticks = {{"clock_hz", chip.clock_hz},
                     {"images", hw->images},
                     {"cycles_per_tick", hw->tick_cycles},
                     {"mean", headline["cycles_per_tick_mean"]},
                     {"max", max_tick}};
        }
    }

    const uint64_t seed = static_cast<uint64_t>(settings.get_int("seed"));
    json doc = {{"command", "report"},
                {"format", 1},
                {"title", fmt::format("{} on {}", model.name, chip.name)},
                {"config", opts.target},
                {"headline", headline},
                {"accuracy", {{"steps", r.steps}, {"images", r.images}, {"snn_curve", curve},
                              {"ann", headline["accuracy_ann"]}, {"checkpoints", checkpoints}}},
                {"layers", layers},
                {"energy", {{"snn", {{"total_j", snn.total_j()}, {"terms", terms_json(snn)}}},
                            {"ann", {{"total_j", ann.total_j()}, {"macs", macs}, {"flops_per_mac", energy.flops_per_mac},
                                     {"flops", macs * static_cast<double>(energy.flops_per_mac)},
                                     {"terms", terms_json(ann)}}}}},
                {"mesh", mesh},
                {"ticks", ticks},
                {"paper_energy", settings.get_bool("report.paper_table") ? paper_table_json(energy, seed) : json::array()},
                {"settings", settings_json(settings)}};

    // Headline on stdout.
    fmt::print("{}: S-ResNet top-1 {:.2f}% after {} steps on {} images{}\n", doc["title"].get<std::string>(),
               100.0 * r.accuracy(r.steps), r.steps, r.images,
               r.ann_correct >= 0 ? fmt::format(" (ANN {:.2f}%)", 100.0 * ann_top1) : std::string());
    if (opts.verbosity > 0) {
        std::string line;
        for (const auto& c : checkpoints)
            line += fmt::format("  T={}: {:.2f}%", c.at("step").get<int64_t>(), 100.0 * c.at("top1").get<double>());
        fmt::print("accuracy vs time step:{}\n", line);
    }
    if (mapping)
        fmt::print("chip: {} cores on a {} x {} mesh{}\n", thousands(static_cast<int64_t>(mapping->cores.size())),
                   mapping->mesh.width(), mapping->mesh.height(),
                   latency_s ? fmt::format("; latency {} per inference ({:.0f} cycles per tick)", si(*latency_s, "s"),
                                           headline["cycles_per_tick_mean"].get<double>())
                             : std::string("; not simulated (report.hw_images = 0)"));
    else
        fmt::print("chip: does not fit: {}\n", fit_error);
    fmt::print("energy per inference: S-ResNet {} on the chip ({} of it synaptic operations, the paper's method), "
               "ANN {} on the FPGA: {:.3g}x the chip's, {:.3g}x the SOPs'\n",
               si(snn.total_j(), "J"), si(snn_sop.total_j(), "J"), si(ann.total_j(), "J"),
               ann.total_j() / snn.total_j(), ann.total_j() / snn_sop.total_j());
    if (opts.verbosity > 0)
        for (const auto& t : snn.terms)
            fmt::print("  {:<50} {:>10} {:<8} x {:>18} = {:>9}  ({})\n", t.label, fmt::format("{:.4g}", t.count), t.unit,
                       report::coefficient(t.coefficient_j, t.coefficient_unit), si(t.energy_j, "J"), t.source);

    if (!cmd.output.empty()) {
        report::write_report(doc, cmd.output);
        fmt::print("report: {}/report.html (also report.md, report.json, CSV files)\n", cmd.output);
    }
    if (!opts.json_file.empty()) write_json_file(opts.json_file, doc);
    return 0;
}

}  // namespace neuroemu
