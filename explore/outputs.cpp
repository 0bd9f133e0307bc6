#include "explore/outputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/csv.h"
#include "common/file_io.h"
#include "explore/pareto.h"
#include "report/svg.h"

namespace neuroemu::explore {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) { write_file_atomic(path.string(), text); }

template <typename T>
std::string opt_text(const std::optional<T>& v) {
    return v ? fmt::format("{}", *v) : std::string();
}

template <typename T>
nlohmann::json opt_json(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// A swept value as JSON: a number or boolean when its text is one, else the text.
nlohmann::json value_json(const std::string& text) {
    if (text == "true" || text == "false") return text == "true";
    char* end = nullptr;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && *end == '\0') return static_cast<int64_t>(i);
    const double d = std::strtod(text.c_str(), &end);
    if (!text.empty() && *end == '\0' && std::isfinite(d)) return d;
    return text;
}

nlohmann::json point_json(const SweepPlan& plan, const RunSummary& summary, size_t row) {
    const PlannedPoint& pp = plan.points[row];
    const PointResult& result = summary.results[row];
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [k, v] : pp.point.values) values[k] = value_json(v);
    return {{"index", pp.point.index},
            {"hash", pp.hash},
            {"values", values},
            {"status", to_string(result.status)},
            {"reason", result.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.reason)},
            {"accuracy", opt_json(result.accuracy)},
            {"energy_j", opt_json(result.energy_j)},
            {"energy_ann_j", opt_json(result.energy_ann_j)},
            {"latency_s", opt_json(result.latency_s)},
            {"cores", opt_json(result.cores)},
            {"cached", result.cached},
            {"seconds", result.seconds}};
}

nlohmann::json objectives_json(const SweepSpec& spec) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : spec.objectives) out.push_back({{"metric", to_string(o.metric)}, {"goal", o.maximise ? "max" : "min"}});
    return out;
}

nlohmann::json points_doc(const SweepPlan& plan, const RunSummary& summary, const std::vector<size_t>& rows) {
    nlohmann::json points = nlohmann::json::array();
    for (size_t row : rows) points.push_back(point_json(plan, summary, row));
    return {{"sweep", plan.spec.file},
            {"experiment", plan.spec.experiment},
            {"mode", to_string(plan.spec.mode)},
            {"hw_images", plan.spec.hw_images},
            {"keys", plan.spec.swept_keys()},
            {"objectives", objectives_json(plan.spec)},
            {"points", points}};
}

std::string label(const SweepPlan& plan, const RunSummary& summary, size_t row) {
    const PointResult& result = summary.results[row];
    std::string text = fmt::format("point {}: {}", plan.points[row].point.index, fmt::join(plan.points[row].point.overrides(), ", "));
    if (result.energy_j) text += fmt::format("; energy {:.4g} J", *result.energy_j);
    if (result.latency_s) text += fmt::format("; latency {:.4g} ms", 1e3 * *result.latency_s);
    if (result.accuracy) text += fmt::format("; accuracy {:.2f}%", 100 * *result.accuracy);
    if (result.cores) text += fmt::format("; {} cores", *result.cores);
    return text;
}

// A scatter of energy against another metric over the points that have both, with that pair's own Pareto front
// highlighted (the front of all objectives, projected onto two axes, would not read as a front).
struct Chart {
    std::string svg;
    int height = 0;
};

// The SI prefix that keeps the largest energy between 1 and 1000.
std::pair<double, std::string> energy_unit(const RunSummary& summary) {
    double most = 0;
    for (const auto& result : summary.results)
        if (result.status == Status::Ok && result.energy_j && std::isfinite(*result.energy_j)) most = std::max(most, *result.energy_j);
    if (most >= 1) return {1, "J"};
    if (most >= 1e-3) return {1e3, "mJ"};
    if (most >= 1e-6) return {1e6, "µJ"};
    return {1e9, "nJ"};
}

// Energies (and latencies, with a swept clock) span decades: log axes where the values do.
Chart energy_chart(const SweepPlan& plan, const RunSummary& summary, Metric other, bool other_max, const std::string& x_label,
                   double x_scale, const std::string& title) {
    const auto [e_scale, e_unit] = energy_unit(summary);
    std::vector<double> x, y;
    std::vector<std::string> labels;
    std::vector<std::vector<double>> values;
    for (size_t row = 0; row < summary.results.size(); ++row) {
        const PointResult& result = summary.results[row];
        const auto e = result.energy_j, o = result.metric(other);
        if (result.status != Status::Ok || !e || !o || !std::isfinite(*e) || !std::isfinite(*o)) continue;
        x.push_back(*o * x_scale);
        y.push_back(*e * e_scale);
        labels.push_back(label(plan, summary, row));
        values.push_back({*o, *e});
    }
    std::vector<bool> highlight(x.size(), false);
    for (size_t i : pareto_front(values, {other_max, false})) highlight[i] = true;
    svg::Axes axes;
    axes.title = title;
    axes.x_label = x_label;
    axes.y_label = "energy per inference (" + e_unit + ")";
    const auto spans_decades = [](const std::vector<double>& v) {
        if (v.empty()) return false;
        const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        return *lo > 0 && *hi / *lo >= 20;
    };
    axes.log_y = spans_decades(y);
    axes.log_x = other == Metric::LatencyS && spans_decades(x);
    return {svg::scatter(axes, x, y, highlight, labels), axes.height};
}

std::vector<Chart> charts(const SweepPlan& plan, const RunSummary& summary) {
    std::vector<Chart> out;
    if (plan.spec.mode == Mode::Hardware)
        out.push_back(energy_chart(plan, summary, Metric::LatencyS, false, "latency per inference (ms)", 1e3,
                                   "Energy against latency (highlighted: their Pareto front)"));
    out.push_back(energy_chart(plan, summary, Metric::Accuracy, true, "top-1 accuracy (%)", 100,
                               "Energy against accuracy (highlighted: their Pareto front)"));
    return out;
}

// The charts stacked in one SVG document (nested <svg> elements placed by their y attribute).
std::string stacked_svg(const std::vector<Chart>& charts) {
    int height = 0, width = 640;
    std::string body;
    for (const Chart& c : charts) {
        std::string svg = c.svg;
        const auto open = svg.find("<svg");
        if (open != std::string::npos) svg.insert(open + 4, fmt::format(" x=\"0\" y=\"{}\"", height));
        body += svg;
        height += c.height;
    }
    return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\">\n"
                       "{2}</svg>\n",
                       width, height, body);
}

std::string html_table(const SweepPlan& plan, const RunSummary& summary, const std::vector<size_t>& rows) {
    std::string out = "<table>\n<tr><th>point</th>";
    for (const auto& k : plan.spec.swept_keys()) out += "<th>" + svg::escape(k) + "</th>";
    out += "<th>status</th><th>accuracy (%)</th><th>energy (µJ)</th><th>ANN energy (µJ)</th><th>latency (ms)</th>"
           "<th>cores</th></tr>\n";
    for (size_t row : rows) {
        const PointResult& result = summary.results[row];
        out += fmt::format("<tr><td>{}</td>", plan.points[row].point.index);
        for (const auto& kv : plan.points[row].point.values) out += "<td>" + svg::escape(kv.second) + "</td>";
        const std::string status = result.reason.empty() ? to_string(result.status) : to_string(result.status) + ": " + result.reason;
        auto cell = [](const std::optional<double>& v, double scale, const char* fmt_spec) {
            return v ? fmt::format(fmt::runtime(fmt_spec), *v * scale) : std::string("–");
        };
        out += fmt::format("<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                           svg::escape(status), cell(result.accuracy, 100, "{:.2f}"), cell(result.energy_j, 1e6, "{:.4g}"),
                           cell(result.energy_ann_j, 1e6, "{:.4g}"), cell(result.latency_s, 1e3, "{:.4g}"),
                           result.cores ? fmt::format("{}", *result.cores) : "–");
    }
    return out + "</table>\n";
}

std::string html_page(const SweepPlan& plan, const RunSummary& summary, const std::vector<size_t>& front,
                      const std::vector<Chart>& plots) {
    std::vector<std::string> goals;
    for (const auto& o : plan.spec.objectives) goals.push_back(fmt::format("{} {}", to_string(o.metric), o.maximise ? "max" : "min"));
    std::vector<size_t> all(summary.results.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    std::string page =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>neuroemu explore: " +
        svg::escape(plan.spec.file) +
        "</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;"
        "font-size:90%}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}"
        "svg{display:block;margin:1em 0}</style></head><body>\n";
    page += fmt::format("<h1>Design-space exploration: {}</h1>\n", svg::escape(plan.spec.file));
    page += fmt::format("<p>Mode {}, experiment {}. {} points: {} ok, {} do not fit, {} failed ({} computed in the last "
                        "run, {} from the cache).</p>\n",
                        to_string(plan.spec.mode), svg::escape(plan.spec.experiment.empty() ? "(defaults)" : plan.spec.experiment),
                        summary.points, summary.ok, summary.does_not_fit, summary.failed, summary.computed, summary.cached);
    for (const Chart& c : plots) page += c.svg;
    page += fmt::format("<h2>Pareto front ({} of {} points; objectives: {})</h2>\n", front.size(), summary.points,
                        fmt::join(goals, ", "));
    page += html_table(plan, summary, front);
    page += "<h2>All points</h2>\n" + html_table(plan, summary, all);
    return page + "</body></html>\n";
}

}  // namespace

std::vector<size_t> sweep_front(const SweepPlan& plan, const RunSummary& summary) {
    std::vector<size_t> rows;
    std::vector<std::vector<double>> values;
    std::vector<bool> maximise;
    for (const auto& o : plan.spec.objectives) maximise.push_back(o.maximise);
    for (size_t row = 0; row < summary.results.size(); ++row) {
        const PointResult& result = summary.results[row];
        if (result.status != Status::Ok) continue;
        std::vector<double> v;
        for (const auto& o : plan.spec.objectives) {
            const auto value = result.metric(o.metric);
            if (!value || !std::isfinite(*value)) break;
            v.push_back(*value);
        }
        if (v.size() != maximise.size()) continue;
        rows.push_back(row);
        values.push_back(std::move(v));
    }
    std::vector<size_t> front;
    for (size_t i : pareto_front(values, maximise)) front.push_back(rows[i]);
    return front;
}

std::string points_csv(const SweepPlan& plan, const RunSummary& summary, const std::vector<size_t>& rows) {
    std::string out = "index,hash";
    for (const auto& k : plan.spec.swept_keys()) out += "," + csv_field(k);
    out += ",status,reason,accuracy,energy_j,energy_ann_j,latency_s,cores\n";
    for (size_t row : rows) {
        const PlannedPoint& pp = plan.points[row];
        const PointResult& result = summary.results[row];
        out += fmt::format("{},{}", pp.point.index, pp.hash);
        for (const auto& kv : pp.point.values) out += "," + csv_field(kv.second);
        out += fmt::format(",{},{},{},{},{},{},{}\n", to_string(result.status), csv_field(result.reason), opt_text(result.accuracy),
                           opt_text(result.energy_j), opt_text(result.energy_ann_j), opt_text(result.latency_s), opt_text(result.cores));
    }
    return out;
}

OutputFiles write_outputs(const SweepPlan& plan, const RunSummary& summary, const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError(fmt::format("{}: cannot create the output directory: {}", dir, ec.message()));
    const fs::path d(dir);
    OutputFiles f{(d / "points.csv").string(),  (d / "points.json").string(), (d / "pareto.csv").string(),
                  (d / "pareto.json").string(), (d / "pareto.svg").string(),  (d / "explore.html").string()};
    std::vector<size_t> all(summary.results.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    const std::vector<size_t> front = sweep_front(plan, summary);
    write_file(f.points_csv, points_csv(plan, summary, all));
    write_file(f.points_json, points_doc(plan, summary, all).dump(2) + "\n");
    write_file(f.pareto_csv, points_csv(plan, summary, front));
    write_file(f.pareto_json, points_doc(plan, summary, front).dump(2) + "\n");
    const std::vector<Chart> plots = charts(plan, summary);
    write_file(f.pareto_svg, stacked_svg(plots));
    write_file(f.html, html_page(plan, summary, front, plots));
    return f;
}

}  // namespace neuroemu::explore
