#include "experiment/report_document.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "experiment/hardware_run.h"
#include "model/zoo.h"
#include "report/document.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

namespace {

using nlohmann::json;

// A [height][width] matrix over the mesh with `value(core)` where a core sits, null elsewhere.
template <class F>
json mesh_matrix(const Mapping& mapping, F value) {
    const int32_t w = mapping.mesh.width(), h = mapping.mesh.height();
    std::vector<std::vector<json>> rows(static_cast<size_t>(h), std::vector<json>(static_cast<size_t>(w), nullptr));
    for (const Core& c : mapping.cores) rows[static_cast<size_t>(c.y)][static_cast<size_t>(c.x)] = value(c);
    return rows;
}

// A [height][width] matrix of per-router values (index y * width + x).
json router_matrix(const Mapping& mapping, const std::vector<double>& per_router) {
    const int32_t w = mapping.mesh.width(), h = mapping.mesh.height();
    json rows = json::array();
    for (int32_t y = 0; y < h; ++y) {
        json row = json::array();
        for (int32_t x = 0; x < w; ++x)
            row.push_back(per_router[static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)]);
        rows.push_back(row);
    }
    return rows;
}

// The busiest of each router's four outgoing links, from per-link loads (router x 4).
template <class T>
std::vector<double> busiest_link(const std::vector<T>& links, double scale) {
    std::vector<double> out(links.size() / 4, 0.0);
    for (size_t router = 0; router < out.size(); ++router)
        for (size_t k = 0; k < 4; ++k)
            out[router] = std::max(out[router], static_cast<double>(links[4 * router + k]) * scale);
    return out;
}

json paper_table_json(const EnergySpec& energy, uint64_t seed) {
    json rows = json::array();
    for (const PaperNetwork& net : paper_networks()) {
        ZooSpec zoo;
        zoo.arch = net.zoo;
        zoo.input_chw = {3, 224, 224};
        zoo.classes = 1000;
        zoo.seed = seed;
        const PaperEnergyRow row = paper_energy_row(energy, net, static_cast<double>(totals(build_zoo(zoo)).macs));
        rows.push_back({{"network", row.network},
                        {"gmac", row.gmac},
                        {"paper_gflop", row.paper_gflop},
                        {"paper_gsop", row.paper_gsop},
                        {"flops_per_mac", row.flops_per_mac},
                        {"energy_ann_j", row.energy_ann_j},
                        {"energy_snn_j", row.energy_snn_j},
                        {"ratio", row.ratio()},
                        {"more_than_9x", row.ratio() > 9.0}});
    }
    return rows;
}

const char* const kNoAnn = "none: a NIR network (model.nir) is spiking from the start; it has no ANN to compare with";

// This run's network in the paper table's terms: its own MACs, the engine's SOPs per inference.
json this_run_energy_json(const ExperimentResult& result, const Settings& settings) {
    const SnnResult& snn = result.functional.result;
    const double images = static_cast<double>(std::max<int64_t>(1, snn.images));
    const double ann_j = result.energy_ann.total_j(), sop_j = result.energy_snn_sop.total_j();
    const std::string input = snn.labelled ? settings.get_string("dataset.name") : "synthetic input";
    if (!result.functional.has_ann)  // a NIR network: no ANN to compare with (null, never a zero that reads as one)
        return {{"network", fmt::format("this run: {} (T = {}, {})", result.functional.model.name, snn.steps, input)},
                {"ann", kNoAnn}, {"gmac", nullptr}, {"paper_gflop", nullptr},
                {"paper_gsop", static_cast<double>(snn.sops) / images / 1e9}, {"flops_per_mac", nullptr},
                {"energy_ann_j", nullptr}, {"energy_snn_j", sop_j}, {"energy_chip_j", result.energy_snn.total_j()},
                {"ratio", nullptr}, {"more_than_9x", nullptr}};
    return {{"network", fmt::format("this run: {} (T = {}, {})", result.functional.model.name, snn.steps, input)},
            {"gmac", result.ann_macs / 1e9},
            {"paper_gflop", result.ann_macs * static_cast<double>(result.energy.flops_per_mac) / 1e9},
            {"paper_gsop", static_cast<double>(snn.sops) / images / 1e9},  // as energy_snn_j: without input MACs
            {"flops_per_mac", result.energy.flops_per_mac},
            {"energy_ann_j", ann_j},
            {"energy_snn_j", sop_j},
            {"energy_chip_j", result.energy_snn.total_j()},
            {"ratio", sop_j > 0 ? ann_j / sop_j : 0.0},
            {"more_than_9x", sop_j > 0 && ann_j / sop_j > 9.0}};
}

const char* const kSyntheticAccuracy =
    "synthetic input (dataset.format: synthetic): the labels mean nothing, so accuracy would not be a result";

std::string input_description(const SnnResult& snn, const Settings& settings) {
    if (!snn.labelled)
        return fmt::format("{} synthetic image(s) of the model's input shape, seed {} (dataset.format: synthetic; "
                           "accuracy not meaningful)", snn.images, settings.get_int("seed"));
    return fmt::format("{} test image(s) of {} (dataset.format: {})", snn.images, settings.get_string("dataset.name"),
                       settings.get_string("dataset.format"));
}

json headline_json(const ExperimentResult& result) {
    const SnnResult& snn = result.functional.result;
    const double images = static_cast<double>(std::max<int64_t>(1, snn.images));
    const double ann_top1 = snn.ann_correct >= 0 ? static_cast<double>(snn.ann_correct) / images : NAN;
    const std::optional<HwStats>& hw = result.hardware;
    const std::optional<HwEstimates>& est = result.hardware_estimates;  // extrapolated to every tick when sampled
    const double snn_j = result.energy_snn.total_j(), sop_j = result.energy_snn_sop.total_j();
    const double ann_j = result.energy_ann.total_j();
    const bool meaningful = snn.labelled, has_ann = result.functional.has_ann;
    return {{"accuracy_snn", meaningful ? json(snn.accuracy(snn.steps)) : json(nullptr)},
            {"accuracy_ann", meaningful && snn.ann_correct >= 0 ? json(ann_top1) : json(nullptr)},
            {"accuracy_snn_fault_free",
             meaningful && result.fault_free ? json(result.fault_free->accuracy(snn.steps)) : json(nullptr)},
            {"steps", snn.steps},
            {"images", snn.images},
            {"cores", result.mapping ? json(result.mapping->cores.size()) : json(nullptr)},
            {"fits", result.mapping.has_value()},
            {"fit_error", result.fit_error.empty() ? json(nullptr) : json(result.fit_error)},
            {"energy_snn_j", snn_j},
            {"energy_snn_sop_j", sop_j},
            {"energy_ann_j", has_ann ? json(ann_j) : json(nullptr)},
            {"ratio_ann_to_snn", has_ann ? json(ann_j / snn_j) : json(nullptr)},
            {"ratio_ann_to_snn_sop", has_ann ? json(ann_j / sop_j) : json(nullptr)},
            {"latency_s", result.counts.seconds ? json(*result.counts.seconds) : json(nullptr)},
            {"latency_cycles", est ? json(est->per_image(kTickCycles).estimate) : json(nullptr)},
            {"cycles_per_tick_mean", hw && hw->ticks ? json(est->cycles_per_tick().estimate) : json(nullptr)}};
}

json accuracy_curve(const SnnResult& snn) {
    json curve = json::array();
    for (int64_t t = 1; t <= snn.steps; ++t) curve.push_back(snn.accuracy(t));
    return curve;
}

// chip.faults that lose events: the run without them, and what the faulty run lost over all its images by cause
// (the chip's counters, as `simulate` reports them for the images it runs).
json chip_faults_json(const ExperimentResult& result) {
    if (!result.fault_free || !result.fault_losses) return nullptr;
    return {{"fault_free_curve", accuracy_curve(*result.fault_free)}, {"lost", fault_losses_json(*result.fault_losses)}};
}

json accuracy_json(const ExperimentResult& result, const Settings& settings, const json& accuracy_ann) {
    const SnnResult& snn = result.functional.result;
    json checkpoints = json::array();
    for (int64_t t : accuracy_checkpoints(settings, snn.steps))
        checkpoints.push_back({{"step", t}, {"top1", snn.accuracy(t)}});
    return {{"steps", snn.steps}, {"images", snn.images}, {"snn_curve", accuracy_curve(snn)}, {"ann", accuracy_ann},
            {"checkpoints", checkpoints}, {"chip_faults", chip_faults_json(result)}};
}

json layers_json(const SnnResult& snn) {
    const double images = static_cast<double>(std::max<int64_t>(1, snn.images));
    const double all_sops = static_cast<double>(std::max<int64_t>(1, snn.sops));
    json layers = json::array();
    for (const auto& p : snn.populations)
        layers.push_back({{"name", p.name},
                          {"kind", p.kind},
                          {"neurons", p.neurons},
                          {"firing_rate", p.firing_rate},
                          {"spikes_per_image", static_cast<double>(p.spikes) / images},
                          {"sops_per_image", static_cast<double>(p.sops_in) / images},
                          {"sop_share", static_cast<double>(p.sops_in) / all_sops}});
    return layers;
}

json mesh_json(const ExperimentResult& result) {
    const Mapping& mapping = *result.mapping;
    const auto neurons_per_core = static_cast<double>(result.chip.core.neurons);
    const auto synapses_per_core = static_cast<double>(result.chip.core.synapses);
    const double hw_n = result.hardware_images();
    json router_flits = nullptr, link_max = nullptr;
    std::string link_source = "mapper estimate";
    if (result.hardware) {
        const NocCounters& noc = result.hardware->noc;
        std::vector<double> per_router(noc.router_flits.size());
        for (size_t i = 0; i < per_router.size(); ++i) per_router[i] = static_cast<double>(noc.router_flits[i]) / hw_n;
        router_flits = router_matrix(mapping, per_router);
        link_max = router_matrix(mapping, busiest_link(noc.link_flits, 1.0 / hw_n));
        link_source = "hardware model";
    } else {
        const double flits_per_step = static_cast<double>(result.functional.result.steps) *
                                      static_cast<double>(result.chip.noc.flits_per_event());
        link_max = router_matrix(mapping, busiest_link(result.routes->link_packets, flits_per_step));
    }
    return {{"width", mapping.mesh.width()},
            {"height", mapping.mesh.height()},
            {"chips", int64_t{mapping.mesh.chips_x} * mapping.mesh.chips_y},
            {"core_utilisation", mesh_matrix(mapping, [&](const Core& c) { return static_cast<double>(c.units) / neurons_per_core; })},
            {"synapse_utilisation", mesh_matrix(mapping, [&](const Core& c) { return static_cast<double>(c.synapses) / synapses_per_core; })},
            {"router_flits", router_flits},
            {"link_flits_max", link_max},
            {"link_flits_source", link_source}};
}

json ticks_json(const ExperimentResult& result, const json& mean) {
    const HwStats& hw = *result.hardware;
    const int64_t max_tick = hw.tick_cycles.empty() ? 0 : *std::max_element(hw.tick_cycles.begin(), hw.tick_cycles.end());
    json ticks = {{"clock_hz", result.chip.clock_hz},
                  {"images", hw.images},
                  {"cycles_per_tick", hw.tick_cycles},
                  {"mean", mean},
                  {"max", max_tick},
                  {"faults", fault_counters_json(hw)}};
    const HwEstimates& est = *result.hardware_estimates;
    if (est.plan.requested_sampling())  // the simulated ticks' steps, and the figures extrapolated to every tick
        ticks.update({{"steps", hw.tick_steps},
                      {"sampling", sampling_json(est, hw, result.chip.clock_hz, result.energy_snn_interval)}});
    return ticks;
}

json energy_json(const ExperimentResult& result) {
    const double macs = result.ann_macs;
    if (!result.functional.has_ann)
        return {{"snn", {{"total_j", result.energy_snn.total_j()}, {"terms", report::energy_terms_json(result.energy_snn.terms)}}},
                {"ann", nullptr}, {"ann_absent", kNoAnn}};
    return {{"snn", {{"total_j", result.energy_snn.total_j()}, {"terms", report::energy_terms_json(result.energy_snn.terms)}}},
            {"ann", {{"total_j", result.energy_ann.total_j()},
                     {"macs", macs},
                     {"flops_per_mac", result.energy.flops_per_mac},
                     {"flops", macs * static_cast<double>(result.energy.flops_per_mac)},
                     {"terms", report::energy_terms_json(result.energy_ann.terms)}}}};
}

}  // namespace

json settings_json(const Settings& settings) {
    json doc = json::object();
    for (const auto& [key, value] : settings.dump()) doc[key] = value;
    return doc;
}

json report_document(const ExperimentResult& result, const Settings& settings, const std::string& config) {
    const SnnResult& snn = result.functional.result;
    const json headline = headline_json(result);
    const bool mapped = result.mapping.has_value();
    const uint64_t seed = static_cast<uint64_t>(settings.get_int("seed"));
    return {{"command", "report"},
            {"format", 1},
            {"title", fmt::format("{} on {}", result.functional.model.name, result.chip.name)},
            {"config", config},
            {"input", input_description(snn, settings)},
            {"headline", headline},
            {"accuracy", snn.labelled ? accuracy_json(result, settings, headline["accuracy_ann"]) : json(nullptr)},
            {"layers", layers_json(snn)},
            {"energy", energy_json(result)},
            {"mesh", mapped ? mesh_json(result) : json(nullptr)},
            {"ticks", mapped && result.hardware ? ticks_json(result, headline["cycles_per_tick_mean"]) : json(nullptr)},
            {"paper_energy", settings.get_bool("report.paper_table") ? paper_table_json(result.energy, seed) : json::array()},
            {"this_run_energy", this_run_energy_json(result, settings)},
            {"settings", settings_json(settings)},
            {"not_measured", snn.labelled ? json::object() : json{{"headline.accuracy_snn", kSyntheticAccuracy},
                                                                 {"accuracy", kSyntheticAccuracy},
                                                                 {"accuracy.ann", kSyntheticAccuracy}}}};
}

}  // namespace neuroemu::experiment
