// Building blocks shared by the charts of svg.h: scales with readable ticks, the palette, the frame (title,
// grid, axes) and number formatting for SVG attributes. Internal to the report library.
#pragma once

#include <string>
#include <vector>

#include "report/svg.h"

namespace neuroemu::svg::detail {

// The plot area inside an SVG, in pixels.
struct Rect {
    double left = 0, top = 0, width = 0, height = 0;
    double right() const { return left + width; }
    double bottom() const { return top + height; }
};

// Maps data values to pixels, linear or log10; `ticks` are the values to label.
struct Scale {
    double lo = 0, hi = 1, from = 0, to = 1;
    bool log = false;
    std::vector<double> ticks;
    double operator()(double v) const;
    bool accepts(double v) const;  // finite, and positive on a log scale
};

// A scale over [lo, hi] (data range) mapped onto [from, to] pixels, widened to readable tick values unless the
// ends were fixed by the caller.
Scale make_scale(double lo, double hi, bool log, double from, double to, bool fix_lo = false, bool fix_hi = false);

// "0.25", "9.6 k", "1 M", "100 n": short tick labels.
std::string tick_label(double v);
// A value for a tooltip: with the axes' value unit as SI ("13.4 µJ"), else up to six significant digits.
std::string value_text(double v, const std::string& unit, int significant = 4);
// A pixel coordinate for an attribute.
std::string px(double v);

const std::string& palette(size_t i);
// Viridis, t in [0, 1].
std::string viridis(double t);

std::string open_svg(double width, double height, const std::string& css_class, const std::string& title);
std::string close_svg();
// Title text centred above the plot.
std::string title_text(double width, const std::string& title);
// Grid lines, tick labels and axis label for a horizontal (bottom) or vertical (left) value axis.
std::string x_axis(const Scale& x, const Rect& plot, const std::string& label);
std::string y_axis(const Scale& y, const Rect& plot, const std::string& label);
// A horizontal legend: one swatch and name per entry, starting at (x, y); returns its markup.
std::string legend(double x, double y, double max_width, const std::vector<std::string>& names,
                   const std::vector<std::string>& colors, bool dashed_last = false);

// Minimum and maximum of the finite values (and positive ones on a log scale); false when there are none.
bool data_range(const std::vector<double>& values, bool log, double& lo, double& hi);

}  // namespace neuroemu::svg::detail
