// Renders the report document (docs/report-format.md) as a self-contained HTML page, Markdown and CSV files.
// Every number shown comes from the document: the renderers format, they never recompute.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace neuroemu::report {

// One HTML5 page with inline CSS and inline SVG charts: no script, no external file, opens offline.
std::string html(const nlohmann::json& doc);

// The same numbers as Markdown tables.
std::string markdown(const nlohmann::json& doc);

// File name -> content (RFC 4180, full precision): headline.csv, accuracy.csv, layers.csv, energy.csv, mesh.csv,
// ticks.csv, paper_energy.csv.
std::vector<std::pair<std::string, std::string>> csv_files(const nlohmann::json& doc);

// Creates `dir` and writes report.json (pretty), report.html, report.md and the CSV files, each atomically
// (a temporary file renamed into place). Everything is rendered before the first file is written, so a bad
// document (DataError) leaves `dir` untouched; an I/O failure throws ConfigError naming the path and the reason.
void write_report(const nlohmann::json& doc, const std::string& dir);

}  // namespace neuroemu::report
