// The report as Markdown: the same formatted numbers as the HTML page, in tables.
#include <fmt/format.h>

#include "report/format.h"
#include "report/renderers.h"

namespace neuroemu::report {
namespace {

// Pipes and newlines would break a table cell.
std::string cell(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '|') out += "\\|";
        else if (c == '\n' || c == '\r') out += ' ';
        else out += c;
    }
    return out;
}

std::string table(const std::vector<std::string>& headers, const std::vector<bool>& numeric,
                  const std::vector<std::vector<std::string>>& rows) {
    std::string out = "|";
    for (const std::string& h : headers) out += " " + cell(h) + " |";
    out += "\n|";
    for (size_t c = 0; c < headers.size(); ++c) out += c < numeric.size() && numeric[c] ? "---:|" : "---|";
    out += "\n";
    for (const auto& row : rows) {
        out += "|";
        for (const std::string& v : row) out += " " + cell(v) + " |";
        out += "\n";
    }
    return out + "\n";
}

std::string not_measured(const std::string& why) { return "_not measured in this run: " + why + "_\n\n"; }

std::string headline(const Report& report) {
    const Headline& h = report.headline;
    std::vector<std::vector<std::string>> rows = {
        {"accuracy, SNN (top-1)",
         h.accuracy_snn ? percent(h.accuracy_snn) : "not meaningful: " + report.why_not_measured("headline.accuracy_snn")},
        {"accuracy, SNN without chip.faults (top-1)",
         h.accuracy_snn_fault_free ? percent(h.accuracy_snn_fault_free) : "the same: no faults that lose events"},
        {"accuracy, ANN (top-1)",
         h.accuracy_ann ? percent(h.accuracy_ann) : "not measured: " + report.why_not_measured("accuracy.ann")},
        {"time steps", integer(h.steps)},
        {"images", integer(h.images)},
        {"energy per inference, SNN on the chip", si(h.energy_snn_j, "J")},
        {"energy per inference, SNN, SOPs only (paper)", si(h.energy_snn_sop_j, "J")},
        {"energy per inference, ANN on the FPGA", si(h.energy_ann_j, "J")},
        {"ANN / SNN energy", ratio(h.ratio_ann_to_snn)},
        {"ANN / SNN energy, SOPs only (paper)", ratio(h.ratio_ann_to_snn_sop)},
    };
    if (h.latency_s || h.latency_cycles) {
        rows.push_back({"latency per inference", si(h.latency_s, "s")});
        rows.push_back({"latency per inference (cycles)", si(h.latency_cycles, "cycles")});
        rows.push_back({"cycles per tick (mean)", si(h.cycles_per_tick_mean, "cycles")});
    } else {
        rows.push_back({"latency per inference", "not measured: " + report.why_not_measured("headline.latency_s")});
    }
    rows.push_back({"cores", integer(h.cores)});
    rows.push_back({"fits on the chip", h.fits ? "yes" : "no: " + h.fit_error.value_or("no reason given")});
    return "## Headline\n\n" + table({"figure", "value"}, {false, true}, rows);
}

std::string accuracy(const Report& report) {
    std::string out = "## Accuracy vs time step\n\n";
    if (!report.accuracy) return out + not_measured(report.why_not_measured("accuracy"));
    const Accuracy& a = *report.accuracy;
    out += fmt::format("{} images, {} time steps; every step's top-1 is in accuracy.csv.\n\n", integer(a.images),
                       integer(a.steps));
    std::vector<std::vector<std::string>> rows;
    for (const Checkpoint& c : a.checkpoints) rows.push_back({integer(c.step), percent(c.top1)});
    if (a.ann) rows.push_back({"ANN", percent(a.ann)});
    return out + table({"time step", "SNN top-1"}, {true, true}, rows);
}

std::string layers(const Report& report) {
    std::vector<std::vector<std::string>> rows;
    for (const Layer& l : report.layers)
        rows.push_back({l.name, l.kind, integer(l.neurons), plain(l.firing_rate), si(l.spikes_per_image, "spikes"),
                        si(l.sops_per_image, "SOP"), percent(l.sop_share, 1)});
    return "## Layers\n\n" + table({"layer", "kind", "neurons", "firing rate (spikes/neuron/step)", "spikes per image",
                                    "SOPs per image", "share of SOPs"},
                                   {false, false, true, true, true, true, true}, rows);
}

std::string energy(const Report& report) {
    std::vector<std::vector<std::string>> rows;
    const auto add = [&rows](const std::string& side, const EnergySide& s) {
        for (const EnergyTerm& t : s.terms)
            rows.push_back({side, t.label, si(t.count, t.unit), coefficient(t.coefficient_j, t.coefficient_unit),
                            si(t.energy_j, "J"), t.source, "`" + t.coefficient_key + "`"});
    };
    add("SNN", report.energy_snn);
    add("ANN", report.energy_ann);
    std::string out = "## Energy per inference\n\n" +
                      table({"side", "term", "count", "coefficient", "energy", "source", "coefficient key"},
                            {false, false, true, true, true, false, false}, rows);
    out += table({"total per inference", "energy"}, {false, true},
                 {{"SNN on the chip (sum of its terms)", si(report.energy_snn.total_j, "J")},
                  {"SNN, SOPs only (the paper's method)", si(report.headline.energy_snn_sop_j, "J")},
                  {"ANN on the FPGA", si(report.energy_ann.total_j, "J")}});
    return out + "ANN: " + si(report.energy_ann.macs, "MAC") + " × " + plain(report.energy_ann.flops_per_mac) +
           " FLOP/MAC = " + si(report.energy_ann.flops, "FLOP") + ".\n\n";
}

// The figures extrapolated from sampled ticks, each with its interval.
std::string tick_sampling(const Ticks& t) {
    if (!t.sampling) return "";
    const TickSampling& s = *t.sampling;
    std::vector<std::vector<std::string>> rows;
    for (const SampledFigureRow& f : s.figures)
        rows.push_back({f.label, si(f.estimate, f.unit), f.exact ? "exact" : si(f.low, f.unit) + " to " + si(f.high, f.unit)});
    rows.push_back({s.exact ? "max tick" : "max tick (a lower bound)", si(s.max_tick_cycles, "cycles"), s.exact ? "exact" : ""});
    return "### Tick sampling\n\n" + s.description + ".\n\n" +
           table({"figure per inference", "estimate", "interval"}, {false, true, true}, rows);
}

std::string mesh_and_ticks(const Report& report) {
    std::string out = "## Mesh\n\n";
    if (!report.mesh) {
        out += not_measured(report.why_not_measured("mesh"));
    } else {
        const MeshMaps& m = *report.mesh;
        out += fmt::format("{} × {} cores, {} chip(s); per-core utilisation and link load are in mesh.csv", integer(m.width),
                           integer(m.height), integer(m.chips));
        out += m.router_flits || m.link_flits_max
                   ? " (link load: " + m.link_flits_source + ").\n\n"
                   : ".\n\nLink load: " + not_measured(report.why_not_measured("mesh.router_flits"));
    }
    out += "## Cycles per tick\n\n";
    if (!report.ticks) return out + not_measured(report.why_not_measured("ticks"));
    const Ticks& t = *report.ticks;
    return out + table({"figure", "value"}, {false, true},
                       {{"mean", si(t.mean, "cycles")},
                        {"max", si(t.max, "cycles")},
                        {"ticks simulated", integer(static_cast<double>(t.cycles_per_tick.size()))},
                        {"images", integer(t.images)},
                        {"clock", si(t.clock_hz, "Hz")}}) +
                 "Every tick is in ticks.csv.\n\n" + tick_sampling(t);
}

std::string paper_energy(const Report& report) {
    std::string out = "## The paper's energy comparison (§4.4)\n\n";
    if (report.paper_energy.empty()) return out + not_measured(report.why_not_measured("paper_energy"));
    std::vector<std::vector<std::string>> rows;
    for (const PaperEnergyRow& p : rows_with_this_run(report))
        rows.push_back({p.network, plain(p.gmac), plain(p.paper_gflop), plain(p.paper_gsop, 4), plain(p.flops_per_mac),
                        si(p.energy_ann_j, "J"), si(p.energy_snn_j, "J"), ratio(p.ratio), p.more_than_9x ? "yes" : "no"});
    out += "ImageNet networks: MACs from the model zoo, SOPs as the paper reports them, priced with this chip's "
           "coefficients." + this_run_note(report) + "\n\n";
    return out + table({"network", "GMAC", "paper GFLOP", "paper GSOP", "FLOP/MAC", "energy ANN", "energy SNN",
                        "ANN / SNN", "more than 9×"},
                       {false, true, true, true, true, true, true, true, false}, rows);
}

std::string settings(const Report& report) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [key, value] : report.settings) rows.push_back({"`" + key + "`", value});
    return "## Settings\n\n" + table({"key", "value"}, {false, false}, rows);
}

}  // namespace

std::string render_markdown(const Report& report) {
    std::string out = "# " + report.title + "\n\n";
    if (!report.config.empty()) out += "Experiment: `" + report.config + "`. ";
    if (!report.input.empty()) out += "Input: " + report.input + ". ";
    out += "Every energy is per inference (one image classified).\n\n";
    return out + headline(report) + accuracy(report) + layers(report) + energy(report) + mesh_and_ticks(report) +
           paper_energy(report) + settings(report);
}

}  // namespace neuroemu::report
