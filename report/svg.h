// Charts as inline SVG text: no script, no external file, so a report opens offline in any browser and renders
// the same in headless Chromium. Each chart is a complete <svg> element with a title, labelled axes with units,
// and a <title> tooltip on every mark giving its exact value.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace neuroemu::svg {

struct Series {
    std::string name;                 // legend entry
    std::vector<double> x, y;         // same length
    std::string color;                // CSS colour; "" = from the default palette
    bool markers = false;             // draw a point at every sample as well as the line
};

struct Axes {
    std::string title;                // above the plot
    std::string x_label, y_label;     // with units, e.g. "time step", "top-1 accuracy (%)"
    bool log_x = false, log_y = false;
    std::optional<double> y_min, y_max, x_min, x_max;  // default: from the data
    int width = 640, height = 360;    // pixels
    std::string value_unit;           // unit of the plotted values for tooltips and value labels ("J" -> "13.4 µJ")
};

// Lines through (x, y) per series; a horizontal reference line per entry of `hlines` (e.g. the ANN accuracy).
struct HLine {
    double y = 0;
    std::string label;
};
std::string line_chart(const Axes& axes, const std::vector<Series>& series, const std::vector<HLine>& hlines = {});

// One bar per category (vertical bars; category labels rotated when they do not fit).
std::string bar_chart(const Axes& axes, const std::vector<std::string>& categories, const std::vector<double>& values,
                      const std::string& color = "");

// Horizontal stacked bars: one bar per row, one segment per part (parts[i][j] = row i, part j), with a legend of
// part names. Used for energy breakdowns (SNN vs ANN).
std::string stacked_bars(const Axes& axes, const std::vector<std::string>& rows, const std::vector<std::string>& parts,
                         const std::vector<std::vector<double>>& values);

// A heat map over a width x height grid, values[y][x]; std::nullopt cells (no core) drawn as empty (class
// "empty"), every other cell is a <rect class="cell">. A colour scale bar shows the range and `unit`; the range is
// the data's unless v_min / v_max fix it (e.g. 0..100 % for utilisation).
std::string heat_map(const std::string& title, const std::vector<std::vector<std::optional<double>>>& values,
                     const std::string& unit, int cell_px = 0 /* 0 = fit into ~480 px */,
                     std::optional<double> v_min = std::nullopt, std::optional<double> v_max = std::nullopt);

// Points with a highlighted subset (e.g. a Pareto front, drawn as connected, emphasised points); `labels` (same
// length as x, or empty) become tooltips.
std::string scatter(const Axes& axes, const std::vector<double>& x, const std::vector<double>& y,
                    const std::vector<bool>& highlight, const std::vector<std::string>& labels = {});

// Escapes &, <, >, " and ' for text inside SVG/HTML.
std::string escape(const std::string& text);

}  // namespace neuroemu::svg
