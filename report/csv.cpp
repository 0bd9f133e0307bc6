// The report's tables as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted),
// numbers at full precision so they parse back to the document's values.
#include <fmt/format.h>

#include "common/csv.h"
#include "report/format.h"
#include "report/renderers.h"

namespace neuroemu::report {
namespace {

class Csv {
public:
    explicit Csv(const std::vector<std::string>& header) { row(header); }
    void row(const std::vector<std::string>& fields) {
        for (size_t i = 0; i < fields.size(); ++i) text_ += (i ? "," : "") + csv_field(fields[i]);
        text_ += "\r\n";
    }
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

std::string boolean(bool v) { return v ? "true" : "false"; }

std::string cell_at(const std::optional<Grid>& grid, size_t y, size_t x) {
    if (!grid || y >= grid->size() || x >= (*grid)[y].size()) return "";
    return exact((*grid)[y][x]);
}

std::string headline_csv(const Report& report) {
    const Headline& h = report.headline;
    Csv csv({"key", "value"});
    csv.row({"title", report.title});
    csv.row({"config", report.config});
    csv.row({"accuracy_snn", exact(h.accuracy_snn)});
    csv.row({"accuracy_ann", exact(h.accuracy_ann)});
    csv.row({"accuracy_snn_fault_free", exact(h.accuracy_snn_fault_free)});
    csv.row({"steps", exact(h.steps)});
    csv.row({"images", exact(h.images)});
    csv.row({"cores", exact(h.cores)});
    csv.row({"fits", boolean(h.fits)});
    csv.row({"fit_error", h.fit_error.value_or("")});
    csv.row({"energy_snn_j", exact(h.energy_snn_j)});
    csv.row({"energy_snn_sop_j", exact(h.energy_snn_sop_j)});
    csv.row({"energy_ann_j", exact(h.energy_ann_j)});
    csv.row({"ratio_ann_to_snn", exact(h.ratio_ann_to_snn)});
    csv.row({"ratio_ann_to_snn_sop", exact(h.ratio_ann_to_snn_sop)});
    csv.row({"latency_s", exact(h.latency_s)});
    csv.row({"latency_cycles", exact(h.latency_cycles)});
    csv.row({"cycles_per_tick_mean", exact(h.cycles_per_tick_mean)});
    return csv.text();
}

std::string accuracy_csv(const Report& report) {
    Csv csv({"step", "snn_top1"});
    if (report.accuracy)
        for (size_t t = 0; t < report.accuracy->snn_curve.size(); ++t)
            csv.row({std::to_string(t + 1), exact(report.accuracy->snn_curve[t])});
    return csv.text();
}

std::string layers_csv(const Report& report) {
    Csv csv({"name", "kind", "neurons", "firing_rate", "spikes_per_image", "sops_per_image", "sop_share"});
    for (const Layer& l : report.layers)
        csv.row({l.name, l.kind, exact(l.neurons), exact(l.firing_rate), exact(l.spikes_per_image),
                 exact(l.sops_per_image), exact(l.sop_share)});
    return csv.text();
}

std::string energy_csv(const Report& report) {
    Csv csv({"side", "key", "label", "count", "unit", "coefficient_j", "energy_j", "source", "coefficient_key"});
    const auto add = [&csv](const std::string& side, const EnergySide& s) {
        for (const EnergyTerm& t : s.terms)
            csv.row({side, t.key, t.label, exact(t.count), t.unit, exact(t.coefficient_j), exact(t.energy_j), t.source,
                     t.coefficient_key});
    };
    add("snn", report.energy_snn);
    add("ann", report.energy_ann);
    return csv.text();
}

std::string mesh_csv(const Report& report) {
    Csv csv({"x", "y", "core_utilisation", "synapse_utilisation", "router_flits", "link_flits_max"});
    if (!report.mesh) return csv.text();
    const MeshMaps& m = *report.mesh;
    const std::optional<Grid> core = m.core_utilisation, synapse = m.synapse_utilisation;
    for (size_t y = 0; y < m.core_utilisation.size(); ++y)
        for (size_t x = 0; x < m.core_utilisation[y].size(); ++x)
            csv.row({std::to_string(x), std::to_string(y), cell_at(core, y, x), cell_at(synapse, y, x),
                     cell_at(m.router_flits, y, x), cell_at(m.link_flits_max, y, x)});
    return csv.text();
}

std::string ticks_csv(const Report& report) {
    Csv csv({"tick", "cycles"});
    if (report.ticks)
        for (size_t t = 0; t < report.ticks->cycles_per_tick.size(); ++t)
            csv.row({std::to_string(t + 1), exact(report.ticks->cycles_per_tick[t])});
    return csv.text();
}

std::string paper_energy_csv(const Report& report) {
    Csv csv({"network", "gmac", "paper_gflop", "paper_gsop", "flops_per_mac", "energy_ann_j", "energy_snn_j", "ratio",
             "more_than_9x"});
    for (const PaperEnergyRow& p : report.paper_energy)
        csv.row({p.network, exact(p.gmac), exact(p.paper_gflop), exact(p.paper_gsop), exact(p.flops_per_mac),
                 exact(p.energy_ann_j), exact(p.energy_snn_j), exact(p.ratio), boolean(p.more_than_9x)});
    return csv.text();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> render_csv(const Report& report) {
    return {{"headline.csv", headline_csv(report)}, {"accuracy.csv", accuracy_csv(report)},
            {"layers.csv", layers_csv(report)},     {"energy.csv", energy_csv(report)},
            {"mesh.csv", mesh_csv(report)},         {"ticks.csv", ticks_csv(report)},
            {"paper_energy.csv", paper_energy_csv(report)}};
}

}  // namespace neuroemu::report
