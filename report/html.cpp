// The HTML page: shell, style and the headline panel. The sections are in html_sections.cpp.
#include <fmt/format.h>

#include "report/format.h"
#include "report/renderers.h"
#include "report/svg.h"

namespace neuroemu::report {
namespace html_parts {

std::string esc(const std::string& text) { return svg::escape(text); }

std::string Table::render() const {
    std::string out = fmt::format("<div class=\"table-wrap\"><table{}>\n<thead><tr>",
                                  css_class.empty() ? "" : " class=\"" + css_class + "\"");
    const auto is_numeric = [this](size_t c) { return c < numeric.size() && numeric[c]; };
    for (size_t c = 0; c < headers.size(); ++c)
        out += fmt::format("<th{}>{}</th>", is_numeric(c) ? " class=\"num\"" : "", esc(headers[c]));
    out += "</tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
        out += "<tr>";
        for (size_t c = 0; c < row.size(); ++c)
            out += fmt::format("<td{}>{}</td>", is_numeric(c) ? " class=\"num\"" : "", esc(row[c]));
        out += "</tr>\n";
    }
    return out + "</tbody></table></div>\n";
}

std::string missing(const std::string& why) {
    return fmt::format("<p class=\"missing\">not measured in this run: {}</p>\n", esc(why));
}

std::string section(const std::string& id, const std::string& title, const std::string& body) {
    return fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", esc(id), esc(title), body);
}

std::string figure(const std::string& svg, const std::string& caption) {
    return "<figure>\n" + svg + (caption.empty() ? "" : "<figcaption>" + esc(caption) + "</figcaption>\n") +
           "</figure>\n";
}

}  // namespace html_parts

namespace {

using html_parts::esc;

const char* const kStyle = R"css(
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #f3f4f6; --accent: #4e79a7; --good: #59a14f;
        --bad: #e15759; --warn: #f59e0b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background: linear-gradient(135deg, #1f3a5f 0%, #4e79a7 100%); color: #fff; padding: 28px 0 84px; }
header.top .inner, main { max-width: 1240px; margin: 0 auto; padding: 0 32px; }
header.top h1 { margin: 0 0 4px; font-size: 28px; font-weight: 700; letter-spacing: -0.01em; }
header.top p { margin: 0; opacity: 0.85; font-size: 14px; }
main { margin-top: -64px; padding-bottom: 48px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 16px; margin-bottom: 24px; }
.card { background: #fff; border-radius: 12px; padding: 16px 20px; box-shadow: 0 4px 14px rgba(17, 24, 39, 0.08);
        border-top: 4px solid var(--accent); }
.card.good { border-top-color: var(--good); } .card.bad { border-top-color: var(--bad); }
.card.muted { border-top-color: #9ca3af; }
.card .label { font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.card .value { font-size: 28px; font-weight: 700; line-height: 1.25; margin: 4px 0 2px; font-variant-numeric: tabular-nums; }
.card .sub { font-size: 13px; color: var(--muted); }
.card .sub b { color: var(--fg); font-weight: 600; }
section { background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(17, 24, 39, 0.08);
          padding: 20px 28px 24px; margin-bottom: 20px; }
h2 { font-size: 19px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 18px 0 8px; color: #374151; }
p.note { color: var(--muted); font-size: 13px; margin: 6px 0 12px; }
p.missing { color: #92400e; background: #fffbeb; border-left: 4px solid var(--warn); padding: 10px 14px;
            border-radius: 6px; margin: 8px 0; }
.figures { display: flex; flex-wrap: wrap; gap: 16px 28px; align-items: flex-start; }
figure { margin: 0; max-width: 100%; overflow-x: auto; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 2px; }
svg.chart { display: block; max-width: 100%; height: auto; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; margin: 6px 0 4px; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f9fafb; font-weight: 600; color: #374151; white-space: nowrap; }
tbody tr:hover { background: #f9fafb; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.settings td:first-child { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
table.compact { width: auto; min-width: 260px; }
tr.total td { font-weight: 700; border-top: 2px solid #d1d5db; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 4px 0 12px; font-size: 14px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; font-weight: 600; font-size: 17px; }
footer { color: var(--muted); font-size: 12px; text-align: center; padding: 8px 0 24px; }
@media print { body { background: #fff; } header.top { padding-bottom: 24px; } main { margin-top: 0; }
               section, .card { box-shadow: none; border: 1px solid var(--line); } }
)css";

struct Card {
    std::string label, value, sub, tone;  // tone: "", "good", "bad", "muted"; sub is HTML
};

std::string render_card(const Card& c) {
    return fmt::format("<div class=\"card{}\"><div class=\"label\">{}</div><div class=\"value\">{}</div>"
                       "<div class=\"sub\">{}</div></div>\n",
                       c.tone.empty() ? "" : " " + c.tone, esc(c.label), esc(c.value), c.sub);
}

std::string headline(const Report& report) {
    const Headline& h = report.headline;
    std::vector<Card> cards;
    std::string beside = "ANN not evaluated";  // what the accuracy card says under its figure
    if (!h.accuracy_snn)
        beside = esc(report.why_not_measured("headline.accuracy_snn"));
    else if (h.accuracy_ann)
        beside = "ANN <b>" + esc(percent(h.accuracy_ann)) + "</b>";
    if (h.accuracy_snn && h.accuracy_snn_fault_free)
        beside += " · without chip.faults <b>" + esc(percent(h.accuracy_snn_fault_free)) + "</b>";
    cards.push_back({"SNN accuracy", h.accuracy_snn ? percent(h.accuracy_snn) : "not meaningful",
                     beside + fmt::format(" · {} steps, {} images", esc(integer(h.steps)), esc(integer(h.images))),
                     ""});
    cards.push_back({"SNN energy (chip)", si(h.energy_snn_j, "J"),
                     "per inference · SOP-only (paper): <b>" + esc(si(h.energy_snn_sop_j, "J")) + "</b>", "good"});
    cards.push_back({"ANN energy (FPGA)", si(h.energy_ann_j, "J"), "per inference (FLOPs × E<sub>flop</sub>)", "muted"});
    cards.push_back({"Energy ANN / SNN", ratio(h.ratio_ann_to_snn),
                     "paper's SOP-only comparison: <b>" + esc(ratio(h.ratio_ann_to_snn_sop)) + "</b>", "good"});
    if (h.latency_s || h.latency_cycles)
        cards.push_back({"Latency", si(h.latency_s, "s"),
                         "<b>" + esc(si(h.latency_cycles, "cycles")) + "</b> · " +
                             esc(si(h.cycles_per_tick_mean, "cycles")) + " per tick (mean)",
                         ""});
    else
        cards.push_back({"Latency", "n/a",
                         "not measured in this run: " + esc(report.why_not_measured("headline.latency_s")), "muted"});
    if (h.fits)
        cards.push_back({"Cores", integer(h.cores), "the network fits on the chip", "good"});
    else
        cards.push_back({"Cores", integer(h.cores), "does not fit: " + esc(h.fit_error.value_or("no reason given")), "bad"});
    std::string out = "<div class=\"cards\" id=\"headline\">\n";
    for (const Card& c : cards) out += render_card(c);
    return out + "</div>\n";
}

}  // namespace

std::string render_html(const Report& report) {
    std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
    out += "<title>" + esc(report.title) + " · neuroemu report</title>\n<style>" + kStyle +
           "</style>\n</head>\n<body>\n";
    out += "<header class=\"top\"><div class=\"inner\">\n<h1>" + esc(report.title) + "</h1>\n";
    out += "<p>neuroemu report" + (report.config.empty() ? std::string() : " · " + esc(report.config)) +
           (report.input.empty() ? std::string() : " · input: " + esc(report.input)) +
           " · every energy is per inference (one image classified)</p>\n</div></header>\n<main>\n";
    out += headline(report);
    out += html_accuracy(report) + html_layers(report) + html_energy(report) + html_mesh(report) + html_ticks(report) +
           html_paper_energy(report) + html_settings(report);
    out += "</main>\n<footer>Rendered from report.json (format 1). Charts are inline SVG: hover a mark for its exact "
           "value.</footer>\n</body>\n</html>\n";
    return out;
}

}  // namespace neuroemu::report
