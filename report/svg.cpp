#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "report/format.h"
#include "report/svg_frame.h"

namespace neuroemu::svg {

using detail::px;

namespace {

// Above this many samples, a line is drawn without per-sample hover targets (the page would get heavy).
const size_t kMaxHoverPoints = 2000;

std::string color_of(const std::string& requested, size_t index) {
    return requested.empty() ? detail::palette(index) : requested;
}

// Top margin: the title, and a legend row when there is one.
double top_margin(bool has_legend) { return has_legend ? 52 : 34; }

// Axis ranges from the data unless fixed by the caller.
detail::Scale value_scale(std::vector<double> values, bool log, std::optional<double> fixed_lo,
                          std::optional<double> fixed_hi, double from, double to) {
    double lo = 0, hi = 1;
    if (!detail::data_range(values, log, lo, hi)) lo = log ? 1 : 0, hi = log ? 10 : 1;
    if (fixed_lo) lo = *fixed_lo;
    if (fixed_hi) hi = *fixed_hi;
    return detail::make_scale(lo, hi, log, from, to, fixed_lo.has_value(), fixed_hi.has_value());
}

// One polyline per run of plottable samples (a NaN or a non-positive value on a log axis breaks the line).
std::string series_lines(const Series& s, const std::string& color, const detail::Scale& x, const detail::Scale& y) {
    std::string out, points;
    const size_t n = std::min(s.x.size(), s.y.size());
    const auto flush = [&]() {
        if (!points.empty())
            out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                               "stroke-linejoin=\"round\"/>\n",
                               points.substr(1), color);
        points.clear();
    };
    for (size_t i = 0; i < n; ++i) {
        if (!x.accepts(s.x[i]) || !y.accepts(s.y[i])) {
            flush();
            continue;
        }
        points += fmt::format(" {},{}", px(x(s.x[i])), px(y(s.y[i])));
    }
    flush();
    return out;
}

std::string series_points(const Series& s, const std::string& color, const detail::Scale& x, const detail::Scale& y,
                          const Axes& axes) {
    const size_t n = std::min(s.x.size(), s.y.size());
    if (!s.markers && n > kMaxHoverPoints) return "";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
        if (!x.accepts(s.x[i]) || !y.accepts(s.y[i])) continue;
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}{}{}: {}</title></circle>\n",
                           px(x(s.x[i])), px(y(s.y[i])), s.markers ? "3" : "4", s.markers ? color : "transparent",
                           escape(s.name.empty() ? "" : s.name + ", "), escape(axes.x_label.empty() ? "x " : axes.x_label + " "),
                           escape(detail::tick_label(s.x[i])), escape(detail::value_text(s.y[i], axes.value_unit)));
    }
    return out;
}

}  // namespace

std::string escape(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string line_chart(const Axes& axes, const std::vector<Series>& series, const std::vector<HLine>& hlines) {
    const double width = axes.width, height = axes.height;
    const bool has_legend = series.size() + hlines.size() > 1 || (!series.empty() && !series[0].name.empty());
    const detail::Rect plot{64, top_margin(has_legend), width - 64 - 20, height - top_margin(has_legend) - 48};
    std::vector<double> xs, ys;
    for (const Series& s : series) {
        xs.insert(xs.end(), s.x.begin(), s.x.end());
        ys.insert(ys.end(), s.y.begin(), s.y.end());
    }
    for (const HLine& h : hlines) ys.push_back(h.y);
    const detail::Scale x = value_scale(xs, axes.log_x, axes.x_min, axes.x_max, plot.left, plot.right());
    const detail::Scale y = value_scale(ys, axes.log_y, axes.y_min, axes.y_max, plot.bottom(), plot.top);

    std::string out = detail::open_svg(width, height, "line-chart", axes.title) + detail::title_text(width, axes.title);
    out += detail::y_axis(y, plot, axes.y_label) + detail::x_axis(x, plot, axes.x_label);
    std::vector<std::string> names, colors;
    for (size_t i = 0; i < series.size(); ++i) {
        const std::string color = color_of(series[i].color, i);
        out += fmt::format("<g class=\"series\" data-name=\"{}\">\n", escape(series[i].name));
        out += series_lines(series[i], color, x, y) + series_points(series[i], color, x, y, axes) + "</g>\n";
        names.push_back(series[i].name);
        colors.push_back(color);
    }
    for (size_t i = 0; i < hlines.size(); ++i) {
        const HLine& h = hlines[i];
        if (!y.accepts(h.y)) continue;
        const std::string color = "#111827";
        out += fmt::format("<g class=\"hline\"><line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" "
                           "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>{4}: {5}</title></line></g>\n",
                           px(plot.left), px(plot.right()), px(y(h.y)), color, escape(h.label),
                           escape(detail::value_text(h.y, axes.value_unit)));
        names.push_back(h.label);
        colors.push_back(color);
    }
    if (has_legend) out += detail::legend(plot.left, 40, plot.width, names, colors, !hlines.empty());
    return out + detail::close_svg();
}

std::string bar_chart(const Axes& axes, const std::vector<std::string>& categories, const std::vector<double>& values,
                      const std::string& color) {
    const size_t n = std::min(categories.size(), values.size());
    size_t longest = 1;
    for (size_t i = 0; i < n; ++i) longest = std::max(longest, categories[i].size());
    const double width = std::max<double>(axes.width, 84 + 16.0 * static_cast<double>(n));
    const double band = (width - 84) / static_cast<double>(std::max<size_t>(n, 1));
    const bool rotate = 6.5 * static_cast<double>(longest) > band - 4;
    const double label_room = rotate ? std::min(130.0, 5.0 * static_cast<double>(longest) + 14) : 18;
    const double height = axes.height + (rotate ? label_room - 18 : 0);
    const detail::Rect plot{64, top_margin(false), width - 84, height - top_margin(false) - 30 - label_room};
    const std::vector<double> vals(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<double> range = vals;
    if (!axes.log_y) range.push_back(0);
    const detail::Scale y = value_scale(range, axes.log_y, axes.y_min, axes.y_max, plot.bottom(), plot.top);
    const std::string fill = color.empty() ? detail::palette(0) : color;

    std::string out = detail::open_svg(width, height, "bar-chart", axes.title) + detail::title_text(width, axes.title);
    out += detail::y_axis(y, plot, axes.y_label);
    const double base = axes.log_y ? plot.bottom() : y(std::clamp(0.0, y.lo, y.hi));
    for (size_t i = 0; i < n; ++i) {
        const double cx = plot.left + band * (static_cast<double>(i) + 0.5);
        if (y.accepts(vals[i])) {
            const double top = std::clamp(y(vals[i]), plot.top, plot.bottom());
            out += fmt::format("<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" rx=\"1.5\">"
                               "<title>{}: {}</title></rect>\n",
                               px(cx - band * 0.36), px(std::min(top, base)), px(band * 0.72),
                               px(std::max(std::fabs(base - top), 0.5)), fill, escape(categories[i]),
                               escape(detail::value_text(vals[i], axes.value_unit)));
        }
        const double ly = plot.bottom() + 14;
        if (rotate)
            out += fmt::format("<text transform=\"translate({},{}) rotate(-45)\" text-anchor=\"end\" font-size=\"11\">"
                               "{}</text>\n",
                               px(cx + 3), px(ly - 4), escape(categories[i]));
        else
            out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n", px(cx),
                               px(ly), escape(categories[i]));
    }
    out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"#6b7280\"/>\n", px(plot.left),
                       px(plot.right()), px(base));
    if (!axes.x_label.empty())
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(plot.left + plot.width / 2),
                           px(height - 8), escape(axes.x_label));
    return out + detail::close_svg();
}

std::string stacked_bars(const Axes& axes, const std::vector<std::string>& rows, const std::vector<std::string>& parts,
                         const std::vector<std::vector<double>>& values) {
    size_t longest = 1;
    for (const std::string& r : rows) longest = std::max(longest, r.size());
    const double left = std::min(220.0, 8.0 * static_cast<double>(longest) + 20);  // bold labels
    const double row_h = 30, gap = 16, width = axes.width;
    const double legend_rows = std::ceil(static_cast<double>(parts.size()) / 4.0);
    const double top = 34 + 18 * legend_rows;
    const double height = top + static_cast<double>(rows.size()) * (row_h + gap) + 48;
    const detail::Rect plot{left, top, width - left - 90, height - top - 48};
    std::vector<double> totals(rows.size(), 0.0);
    for (size_t r = 0; r < rows.size() && r < values.size(); ++r)
        for (double v : values[r])
            if (std::isfinite(v) && v > 0) totals[r] += v;
    std::vector<double> range = totals;
    if (!axes.log_x) range.push_back(0);
    const detail::Scale x = value_scale(range, axes.log_x, axes.x_min, axes.x_max, plot.left, plot.right());

    std::string out = detail::open_svg(width, height, "stacked-bars", axes.title) + detail::title_text(width, axes.title);
    out += detail::x_axis(x, plot, axes.x_label);
    std::vector<std::string> colors;
    for (size_t p = 0; p < parts.size(); ++p) colors.push_back(detail::palette(p));
    out += detail::legend(plot.left, 40, width - plot.left - 10, parts, colors);
    for (size_t r = 0; r < rows.size(); ++r) {
        const double y0 = plot.top + gap / 2 + static_cast<double>(r) * (row_h + gap);
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-weight=\"600\">{}</text>\n",
                           px(plot.left - 8), px(y0 + row_h / 2 + 4), escape(rows[r]));
        double cumulative = 0, end_px = x.log ? plot.left : x(0);
        for (size_t p = 0; r < values.size() && p < values[r].size() && p < parts.size(); ++p) {
            const double v = values[r][p];
            if (!std::isfinite(v) || v <= 0) continue;
            const double start = x.accepts(cumulative) ? x(cumulative) : plot.left;
            cumulative += v;
            const double stop = std::min(x(cumulative), plot.right());
            out += fmt::format("<rect class=\"segment\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                               "<title>{} — {}: {}</title></rect>\n",
                               px(std::max(start, plot.left)), px(y0), px(std::max(stop - std::max(start, plot.left), 1.0)),
                               px(row_h), colors[p], escape(rows[r]), escape(parts[p]),
                               escape(detail::value_text(v, axes.value_unit)));
            end_px = std::max(end_px, std::max(start, plot.left) + std::max(stop - std::max(start, plot.left), 1.0));
        }
        out += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"600\">{}</text>\n", px(end_px + 6),
                           px(y0 + row_h / 2 + 4), escape(detail::value_text(totals[r], axes.value_unit, 3)));
    }
    return out + detail::close_svg();
}

std::string heat_map(const std::string& title, const std::vector<std::vector<std::optional<double>>>& values,
                     const std::string& unit, int cell_px, std::optional<double> v_min, std::optional<double> v_max) {
    const size_t rows = values.size();
    size_t cols = 0;
    for (const auto& row : values) cols = std::max(cols, row.size());
    const double cell = cell_px > 0 ? cell_px
                                    : std::clamp(std::floor(480.0 / static_cast<double>(std::max<size_t>({rows, cols, 1}))),
                                                 4.0, 40.0);
    std::vector<double> all;
    for (const auto& row : values)
        for (const auto& v : row)
            if (v) all.push_back(*v);
    double lo = 0, hi = 1;
    if (!detail::data_range(all, false, lo, hi)) lo = 0, hi = 1;
    if (v_min) lo = *v_min;
    if (v_max) hi = *v_max;
    const double span = hi > lo ? hi - lo : 1.0;

    const double left = 34, top = 40, grid_w = cell * static_cast<double>(cols), grid_h = cell * static_cast<double>(rows);
    const double width = std::max(left + grid_w + 120, 260.0), height = top + std::max(grid_h, 120.0) + 34;
    std::string out = detail::open_svg(width, height, "heat-map", title) + detail::title_text(width, title);
    out += "<g class=\"cells\">\n";
    for (size_t y = 0; y < rows; ++y)
        for (size_t x = 0; x < values[y].size(); ++x) {
            const double cx = left + cell * static_cast<double>(x), cy = top + cell * static_cast<double>(y);
            const auto& v = values[y][x];
            if (!v) {
                out += fmt::format("<rect class=\"empty\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f9fafb\" "
                                   "stroke=\"#e5e7eb\" stroke-width=\"0.5\"/>\n",
                                   px(cx), px(cy), px(cell), px(cell));
                continue;
            }
            const std::string fill = std::isfinite(*v) ? detail::viridis((*v - lo) / span) : "#d1d5db";
            out += fmt::format("<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
                               "stroke=\"#ffffff\" stroke-width=\"{}\"><title>({}, {}): {}</title></rect>\n",
                               px(cx), px(cy), px(cell), px(cell), fill, cell >= 8 ? "0.5" : "0", x, y,
                               escape(neuroemu::report::si(*v, unit, 4)));
        }
    out += "</g>\n";
    // Index labels: about eight per axis.
    const size_t every_x = std::max<size_t>(1, (cols + 7) / 8), every_y = std::max<size_t>(1, (rows + 7) / 8);
    for (size_t x = 0; x < cols; x += every_x)
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#6b7280\">{}</text>\n",
                           px(left + cell * (static_cast<double>(x) + 0.5)), px(top + grid_h + 13), x);
    for (size_t y = 0; y < rows; y += every_y)
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\" fill=\"#6b7280\">{}</text>\n",
                           px(left - 4), px(top + cell * (static_cast<double>(y) + 0.5) + 3), y);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#6b7280\">x</text>\n",
                       px(left + grid_w / 2), px(top + grid_h + 27));
    // Colour scale: stacked rects, no gradient ids that could clash between charts on one page.
    const double bar_x = left + grid_w + 18, bar_h = std::max(grid_h, 120.0), steps = 40;
    out += "<g class=\"scale\">\n";
    for (int i = 0; i < static_cast<int>(steps); ++i) {
        const double t = 1.0 - (i + 0.5) / steps;
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"{}\" fill=\"{}\"/>", px(bar_x),
                           px(top + bar_h * i / steps), px(bar_h / steps + 0.5), detail::viridis(t));
    }
    out += fmt::format("\n<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n", px(bar_x + 20), px(top + 9),
                       escape(neuroemu::report::si(hi, unit)));
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>\n", px(bar_x + 20), px(top + bar_h),
                       escape(neuroemu::report::si(lo, unit)));
    out += "</g>\n";
    return out + detail::close_svg();
}

std::string scatter(const Axes& axes, const std::vector<double>& x, const std::vector<double>& y,
                    const std::vector<bool>& highlight, const std::vector<std::string>& labels) {
    const size_t n = std::min(x.size(), y.size());
    const double width = axes.width, height = axes.height;
    const detail::Rect plot{64, top_margin(false), width - 84, height - top_margin(false) - 48};
    const detail::Scale sx = value_scale(std::vector<double>(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n)),
                                         axes.log_x, axes.x_min, axes.x_max, plot.left, plot.right());
    const detail::Scale sy = value_scale(std::vector<double>(y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n)),
                                         axes.log_y, axes.y_min, axes.y_max, plot.bottom(), plot.top);
    std::string out = detail::open_svg(width, height, "scatter", axes.title) + detail::title_text(width, axes.title);
    out += detail::y_axis(sy, plot, axes.y_label) + detail::x_axis(sx, plot, axes.x_label);
    const auto is_highlighted = [&](size_t i) { return i < highlight.size() && highlight[i]; };
    const auto plottable = [&](size_t i) { return sx.accepts(x[i]) && sy.accepts(y[i]); };
    std::vector<size_t> front;
    for (size_t i = 0; i < n; ++i)
        if (is_highlighted(i) && plottable(i)) front.push_back(i);
    std::sort(front.begin(), front.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    if (front.size() > 1) {
        std::string points;
        for (size_t i : front) points += fmt::format(" {},{}", px(sx(x[i])), px(sy(y[i])));
        out += fmt::format("<polyline class=\"front\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                           points.substr(1), detail::palette(1));
    }
    for (int pass = 0; pass < 2; ++pass)  // highlighted points on top
        for (size_t i = 0; i < n; ++i) {
            if (is_highlighted(i) != (pass == 1) || !plottable(i)) continue;
            const std::string tip = i < labels.size() && !labels[i].empty()
                                        ? labels[i]
                                        : detail::tick_label(x[i]) + ", " + detail::tick_label(y[i]);
            out += fmt::format("<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"{}\" "
                               "stroke=\"#ffffff\" stroke-width=\"1\"><title>{}</title></circle>\n",
                               pass == 1 ? "point highlighted" : "point", px(sx(x[i])), px(sy(y[i])),
                               pass == 1 ? "5" : "3.5", pass == 1 ? detail::palette(1) : detail::palette(0),
                               pass == 1 ? "1" : "0.6", escape(tip));
        }
    return out + detail::close_svg();
}

}  // namespace neuroemu::svg
