#include "report/svg_frame.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>

#include "report/format.h"

namespace neuroemu::svg::detail {
namespace {

const char* const kAxisColor = "#6b7280";
const char* const kGridColor = "#e5e7eb";
const char* const kTextColor = "#374151";

// 1, 2, 5 x 10^k steps giving about `count` intervals over [lo, hi].
double nice_step(double span, int count) {
    const double raw = span / std::max(1, count);
    const double decade = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= m * decade) return m * decade;
    return 10.0 * decade;
}

std::string trim_zeros(std::string text) {
    const size_t dot = text.find('.');
    if (dot == std::string::npos) return text;
    size_t end = text.find_first_not_of("0123456789", dot + 1);
    if (end == std::string::npos) end = text.size();
    size_t last = end;
    while (last > dot + 1 && text[last - 1] == '0') --last;
    if (last == dot + 1) --last;
    return text.substr(0, last) + text.substr(end);
}

}  // namespace

double Scale::operator()(double v) const {
    const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    const double t = ((log ? std::log10(v) : v) - a) / (b == a ? 1.0 : b - a);
    return from + t * (to - from);
}

bool Scale::accepts(double v) const { return std::isfinite(v) && (!log || v > 0); }

Scale make_scale(double lo, double hi, bool log, double from, double to, bool fix_lo, bool fix_hi) {
    Scale s;
    s.log = log;
    s.from = from;
    s.to = to;
    if (log) {
        if (!(lo > 0)) lo = 1;
        if (!(hi > lo)) hi = lo * 10;
        const double a = std::floor(std::log10(lo)), b = std::ceil(std::log10(hi));
        s.lo = fix_lo ? lo : std::pow(10.0, a);
        s.hi = fix_hi ? hi : std::pow(10.0, std::max(b, a + 1));
        const int first = static_cast<int>(std::ceil(std::log10(s.lo) - 1e-9));
        const int last = static_cast<int>(std::floor(std::log10(s.hi) + 1e-9));
        const int every = std::max(1, (last - first) / 8 + 1);
        for (int e = first; e <= last; e += every) s.ticks.push_back(std::pow(10.0, e));
        return s;
    }
    if (hi == lo) {
        const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
        if (!fix_lo) lo -= pad;
        if (!fix_hi) hi += pad;
        if (hi == lo) hi = lo + 1;
    }
    if (hi < lo) std::swap(lo, hi);
    const double step = nice_step(hi - lo, 5);
    s.lo = fix_lo ? lo : std::floor(lo / step + 1e-9) * step;
    s.hi = fix_hi ? hi : std::ceil(hi / step - 1e-9) * step;
    if (s.hi <= s.lo) s.hi = s.lo + step;
    for (double t = std::ceil(s.lo / step - 1e-9) * step; t <= s.hi + step * 1e-6; t += step)
        s.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    return s;
}

std::string tick_label(double v) {
    if (v == 0) return "0";
    const double m = std::fabs(v);
    if (m >= 0.01 && m < 10000) return trim_zeros(fmt::format("{:.4f}", v));
    return trim_zeros(neuroemu::report::si(v, "", 3));
}

std::string value_text(double v, const std::string& unit, int significant) {
    if (!unit.empty()) return neuroemu::report::si(v, unit, significant);
    if (!std::isfinite(v)) return "n/a";
    return fmt::format("{:.6g}", v);
}

std::string px(double v) { return trim_zeros(fmt::format("{:.1f}", v)); }

const std::string& palette(size_t i) {
    // Tableau 10: distinct, colour-blind tolerant, readable on white.
    static const std::array<std::string, 10> colors = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
    return colors[i % colors.size()];
}

std::string viridis(double t) {
    static const std::array<std::array<int, 3>, 9> stops = {{{68, 1, 84},
                                                             {71, 45, 123},
                                                             {59, 82, 139},
                                                             {44, 114, 142},
                                                             {33, 145, 140},
                                                             {40, 174, 128},
                                                             {94, 201, 98},
                                                             {173, 220, 48},
                                                             {253, 231, 37}}};
    if (!std::isfinite(t)) t = 0;
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(stops.size() - 1);
    const size_t i = std::min(static_cast<size_t>(t), stops.size() - 2);
    const double f = t - static_cast<double>(i);
    std::array<int, 3> c{};
    for (size_t k = 0; k < 3; ++k)
        c[k] = static_cast<int>(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
    return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

std::string open_svg(double width, double height, const std::string& css_class, const std::string& title) {
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart {}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
        "role=\"img\" aria-label=\"{}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\" "
        "font-size=\"12\" fill=\"{}\">\n<title>{}</title>\n<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n",
        css_class, px(width), px(height), px(width), px(height), escape(title), kTextColor, escape(title), px(width),
        px(height));
}

std::string close_svg() { return "</svg>\n"; }

std::string title_text(double width, const std::string& title) {
    if (title.empty()) return "";
    return fmt::format("<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">{}</text>\n",
                       px(width / 2), escape(title));
}

std::string x_axis(const Scale& x, const Rect& plot, const std::string& label) {
    std::string out = "<g class=\"axis x-axis\">\n";
    for (double t : x.ticks) {
        const double p = x(t);
        out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\"/>", px(p), px(plot.top),
                           px(plot.bottom()), kGridColor);
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", px(p),
                           px(plot.bottom() + 16), kAxisColor, escape(tick_label(t)));
    }
    out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\"/>\n", px(plot.left),
                       px(plot.right()), px(plot.bottom()), kAxisColor);
    if (!label.empty())
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(plot.left + plot.width / 2),
                           px(plot.bottom() + 36), escape(label));
    return out + "</g>\n";
}

std::string y_axis(const Scale& y, const Rect& plot, const std::string& label) {
    std::string out = "<g class=\"axis y-axis\">\n";
    for (double t : y.ticks) {
        const double p = y(t);
        out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\"/>", px(plot.left),
                           px(plot.right()), px(p), kGridColor);
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n", px(plot.left - 6),
                           px(p + 4), kAxisColor, escape(tick_label(t)));
    }
    out += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\"/>\n", px(plot.left),
                       px(plot.top), px(plot.bottom()), kAxisColor);
    if (!label.empty())
        out += fmt::format("<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                           px(16), px(plot.top + plot.height / 2), escape(label));
    return out + "</g>\n";
}

std::string legend(double x, double y, double max_width, const std::vector<std::string>& names,
                   const std::vector<std::string>& colors, bool dashed_last) {
    std::string out = "<g class=\"legend\">\n";
    double cx = x, cy = y;
    for (size_t i = 0; i < names.size(); ++i) {
        const double w = 26 + 6.5 * static_cast<double>(names[i].size()) + 14;
        if (cx + w > x + max_width && cx > x) {
            cx = x;
            cy += 18;
        }
        const bool dashed = dashed_last && i + 1 == names.size();
        out += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"3\"{4}/>",
                           px(cx), px(cx + 18), px(cy - 4), colors[i], dashed ? " stroke-dasharray=\"5 3\"" : "");
        out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(cx + 24), px(cy), escape(names[i]));
        cx += w;
    }
    return out + "</g>\n";
}

bool data_range(const std::vector<double>& values, bool log, double& lo, double& hi) {
    bool any = false;
    for (double v : values) {
        if (!std::isfinite(v) || (log && v <= 0)) continue;
        lo = any ? std::min(lo, v) : v;
        hi = any ? std::max(hi, v) : v;
        any = true;
    }
    return any;
}

}  // namespace neuroemu::svg::detail
