// The sections of the HTML page, one function each; each shows its data or says why it was not measured.
#include <fmt/format.h>

#include "report/format.h"
#include "report/renderers.h"
#include "report/svg.h"

namespace neuroemu::report {

using html_parts::esc;
using html_parts::figure;
using html_parts::missing;
using html_parts::section;
using html_parts::Table;

namespace {

// A definition list of label -> formatted value.
std::string facts(const std::vector<std::pair<std::string, std::string>>& items) {
    std::string out = "<dl class=\"facts\">\n";
    for (const auto& [label, value] : items) out += "<dt>" + esc(label) + "</dt><dd>" + esc(value) + "</dd>\n";
    return out + "</dl>\n";
}

std::string energy_table(const Report& report) {
    Table t{{"side", "term", "count", "coefficient", "energy", "source", "coefficient key"},
            {false, false, true, true, true, false, false},
            {},
            "energy"};
    const auto add_side = [&t](const std::string& side, const EnergySide& s) {
        for (const EnergyTerm& term : s.terms)
            t.rows.push_back({side, term.label, si(term.count, term.unit), coefficient(term.coefficient_j, term.coefficient_unit),
                              si(term.energy_j, "J"), term.source, term.coefficient_key});
    };
    add_side("SNN", report.energy_snn);
    add_side("ANN", report.energy_ann);
    std::string out = t.render();
    // Totals as their own small table so the term rows stay a plain list.
    Table totals{{"total per inference", "energy"}, {false, true}, {}, "compact totals"};
    totals.rows.push_back({"SNN on the chip (sum of its terms)", si(report.energy_snn.total_j, "J")});
    totals.rows.push_back({"SNN, SOPs only (the paper's method)", si(report.headline.energy_snn_sop_j, "J")});
    totals.rows.push_back({"ANN on the FPGA", si(report.energy_ann.total_j, "J")});
    return out + totals.render();
}

}  // namespace

std::string html_accuracy(const Report& report) {
    if (!report.accuracy)
        return section("accuracy", "Accuracy vs time step", missing(report.why_not_measured("accuracy")));
    const Accuracy& a = *report.accuracy;
    svg::Series snn{"SNN top-1", {}, {}, "", false};
    for (size_t t = 0; t < a.snn_curve.size(); ++t) {
        snn.x.push_back(static_cast<double>(t + 1));
        snn.y.push_back(a.snn_curve[t] * 100.0);
    }
    std::vector<svg::HLine> ann;
    if (a.ann) ann.push_back({*a.ann * 100.0, "ANN top-1 (" + percent(a.ann) + ")"});
    svg::Axes axes;
    axes.title = "Top-1 accuracy after each time step";
    axes.x_label = "time step";
    axes.y_label = "top-1 accuracy (%)";
    axes.value_unit = "";
    axes.y_min = 0;
    axes.y_max = 100;
    axes.width = 720;
    axes.height = 380;
    std::string body = fmt::format("<p class=\"note\">Functional engine, {} images, {} time steps. {}</p>\n",
                                   esc(integer(a.images)), esc(integer(a.steps)),
                                   a.ann ? "Dashed line: the ANN on the same images."
                                         : esc("ANN: not measured in this run: " +
                                               report.why_not_measured("accuracy.ann")));
    body += "<div class=\"figures\">\n";
    body += a.snn_curve.empty() ? missing("the accuracy curve is empty") : figure(svg::line_chart(axes, {snn}, ann));
    if (!a.checkpoints.empty()) {
        Table t{{"time step", "SNN top-1"}, {true, true}, {}, "compact checkpoints"};
        for (const Checkpoint& c : a.checkpoints) t.rows.push_back({integer(c.step), percent(c.top1)});
        if (a.ann) t.rows.push_back({"ANN", percent(a.ann)});
        body += "<div>\n<h3>Checkpoints</h3>\n" + t.render() + "</div>\n";
    }
    body += "</div>\n";
    return section("accuracy", "Accuracy vs time step", body);
}

std::string html_layers(const Report& report) {
    if (report.layers.empty()) return section("layers", "Layers", missing("the document lists no layers"));
    std::vector<std::string> names;
    std::vector<double> rates, sops;
    Table t{{"layer", "kind", "neurons", "firing rate (spikes/neuron/step)", "spikes per image", "SOPs per image",
             "share of SOPs"},
            {false, false, true, true, true, true, true},
            {},
            "layers"};
    for (const Layer& l : report.layers) {
        names.push_back(l.name);
        rates.push_back(l.firing_rate.value_or(std::nan("")));
        sops.push_back(l.sops_per_image.value_or(std::nan("")));
        t.rows.push_back({l.name, l.kind, integer(l.neurons), plain(l.firing_rate), si(l.spikes_per_image, "spikes"),
                          si(l.sops_per_image, "SOP"), percent(l.sop_share, 1)});
    }
    svg::Axes rate_axes;
    rate_axes.title = "Firing rate per layer";
    rate_axes.y_label = "spikes per neuron per step";
    rate_axes.width = 520;
    svg::Axes sop_axes = rate_axes;
    sop_axes.title = "Synaptic operations received per layer";
    sop_axes.y_label = "SOPs per image";
    sop_axes.value_unit = "SOP";
    std::string body = "<div class=\"figures\">\n" + figure(svg::bar_chart(rate_axes, names, rates)) +
                       figure(svg::bar_chart(sop_axes, names, sops, "#76b7b2")) + "</div>\n";
    return section("layers", "Layers: firing rates and synaptic operations", body + t.render());
}

std::string html_energy(const Report& report) {
    std::vector<std::string> parts;
    std::vector<std::vector<double>> values(2);
    for (const EnergyTerm& t : report.energy_snn.terms) {
        parts.push_back("SNN " + t.label);
        values[0].push_back(t.energy_j);
        values[1].push_back(0);
    }
    for (const EnergyTerm& t : report.energy_ann.terms) {
        parts.push_back("ANN " + t.label);
        values[0].push_back(0);
        values[1].push_back(t.energy_j);
    }
    svg::Axes axes;
    axes.title = "Energy per inference: SNN on the chip vs ANN on the FPGA";
    axes.x_label = "energy per inference (J)";
    axes.value_unit = "J";
    axes.width = 900;
    std::string body = "<p class=\"note\">" +
                       esc("ANN / SNN energy: " + ratio(report.headline.ratio_ann_to_snn) +
                           ". On a common linear scale the SNN bar is short; its breakdown follows on its own "
                           "scale, and the table lists every term.") +
                       "</p>\n";
    body += figure(svg::stacked_bars(axes, {"SNN (chip)", "ANN (FPGA)"}, parts, values));
    std::vector<std::string> snn_parts;
    std::vector<std::vector<double>> snn_values(1);
    for (const EnergyTerm& t : report.energy_snn.terms) {
        snn_parts.push_back(t.label);
        snn_values[0].push_back(t.energy_j);
    }
    svg::Axes snn_axes = axes;
    snn_axes.title = "SNN energy per inference by term";
    if (!snn_parts.empty()) body += figure(svg::stacked_bars(snn_axes, {"SNN (chip)"}, snn_parts, snn_values));
    body += "<h3>Every term</h3>\n" + energy_table(report);
    body += "<p class=\"note\">" +
            esc("ANN: " + si(report.energy_ann.macs, "MAC") + " × " + plain(report.energy_ann.flops_per_mac) +
                " FLOP/MAC = " + si(report.energy_ann.flops, "FLOP") + ".") +
            "</p>\n";
    return section("energy", "Energy per inference", body);
}

std::string html_mesh(const Report& report) {
    if (!report.mesh) return section("mesh", "The chip's mesh", missing(report.why_not_measured("mesh")));
    const MeshMaps& m = *report.mesh;
    const auto percent_grid = [](const Grid& g) {
        Grid out = g;
        for (auto& row : out)
            for (auto& v : row)
                if (v) *v *= 100.0;
        return out;
    };
    std::string body = facts({{"mesh", integer(m.width) + " × " + integer(m.height) + " cores"},
                              {"chips", integer(m.chips)},
                              {"cores used", integer(report.headline.cores)}});
    body += "<div class=\"figures\">\n";
    body += figure(svg::heat_map("Core utilisation (neuron slots used)", percent_grid(m.core_utilisation), "%", 0, 0.0, 100.0));
    body += figure(svg::heat_map("Synapse utilisation (entries used)", percent_grid(m.synapse_utilisation), "%", 0, 0.0,
                                 100.0));
    body += "</div>\n<h3>Link load</h3>\n";
    if (!m.router_flits && !m.link_flits_max)
        return section("mesh", "The chip's mesh", body + missing(report.why_not_measured("mesh.router_flits")));
    body += "<p class=\"note\">" + esc("Source: " + m.link_flits_source + ". Flits per inference.") + "</p>\n";
    body += "<div class=\"figures\">\n";
    body += m.router_flits ? figure(svg::heat_map("Flits forwarded by each router", *m.router_flits, "flits"))
                           : missing(report.why_not_measured("mesh.router_flits"));
    body += m.link_flits_max ? figure(svg::heat_map("Busiest outgoing link of each router", *m.link_flits_max, "flits"))
                             : missing(report.why_not_measured("mesh.link_flits_max"));
    return section("mesh", "The chip's mesh", body + "</div>\n");
}

// The figures extrapolated from sampled ticks, each with its interval.
std::string html_tick_sampling(const Ticks& t) {
    if (!t.sampling) return "";
    const TickSampling& s = *t.sampling;
    std::vector<std::pair<std::string, std::string>> items;
    for (const SampledFigureRow& f : s.figures)
        items.push_back({f.label, si(f.estimate, f.unit) + (f.exact ? " (exact)" : " [" + si(f.low, f.unit) + ", " +
                                                                            si(f.high, f.unit) + "]")});
    items.push_back({s.exact ? "max tick" : "max tick (a lower bound)", si(s.max_tick_cycles, "cycles")});
    return "<h3>Tick sampling</h3>\n<p>" + esc(s.description) + ".</p>\n" + facts(items);
}

std::string html_ticks(const Report& report) {
    if (!report.ticks) return section("ticks", "Cycles per tick", missing(report.why_not_measured("ticks")));
    const Ticks& t = *report.ticks;
    std::string body = facts({{"mean", si(t.mean, "cycles")},
                              {"max", si(t.max, "cycles")},
                              {"ticks simulated", integer(static_cast<double>(t.cycles_per_tick.size()))},
                              {"images", integer(t.images)},
                              {"clock", si(t.clock_hz, "Hz")},
                              {"latency per inference", si(report.headline.latency_s, "s")}});
    if (t.cycles_per_tick.empty()) return section("ticks", "Cycles per tick", body + missing("no tick was recorded"));
    svg::Series s{"cycles per tick", {}, t.cycles_per_tick, "#f28e2b", false};
    for (size_t i = 0; i < t.cycles_per_tick.size(); ++i) s.x.push_back(static_cast<double>(i + 1));
    svg::Axes axes;
    axes.title = "Clock cycles of each tick (hardware model)";
    axes.x_label = "tick";
    axes.y_label = "cycles";
    axes.value_unit = "cycles";
    axes.y_min = 0;
    axes.width = 900;
    axes.height = 320;
    s.name = "";
    return section("ticks", "Cycles per tick", body + figure(svg::line_chart(axes, {s})) + html_tick_sampling(t));
}

std::string html_paper_energy(const Report& report) {
    const std::string title = "The paper's energy comparison (§4.4)";
    if (report.paper_energy.empty())
        return section("paper-energy", title, missing(report.why_not_measured("paper_energy")));
    Table t{{"network", "GMAC", "paper GFLOP", "paper GSOP", "FLOP/MAC", "energy ANN", "energy SNN", "ANN / SNN",
             "more than 9×"},
            {false, true, true, true, true, true, true, true, false},
            {},
            "paper"};
    for (const PaperEnergyRow& p : rows_with_this_run(report))
        t.rows.push_back({p.network, plain(p.gmac), plain(p.paper_gflop), plain(p.paper_gsop, 4), plain(p.flops_per_mac),
                          si(p.energy_ann_j, "J"), si(p.energy_snn_j, "J"), ratio(p.ratio), p.more_than_9x ? "yes" : "no"});
    const std::string note = "<p class=\"note\">ImageNet networks: MACs from the model zoo, SOPs as the paper reports "
                             "them, priced with this chip's coefficients." + esc(this_run_note(report)) + "</p>\n";
    return section("paper-energy", title, note + t.render());
}

std::string html_settings(const Report& report) {
    Table t{{"key", "value"}, {false, false}, {}, "settings"};
    for (const auto& [key, value] : report.settings) t.rows.push_back({key, value});
    return fmt::format("<section id=\"settings\">\n<details>\n<summary>Settings ({} keys)</summary>\n{}</details>\n"
                       "</section>\n",
                       report.settings.size(), t.render());
}

}  // namespace neuroemu::report
