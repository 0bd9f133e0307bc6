// The renderers behind render.h, on the validated Report. Internal to the report library.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "report/document.h"

namespace neuroemu::report {

std::string render_html(const Report& report);
std::string render_markdown(const Report& report);
std::vector<std::pair<std::string, std::string>> render_csv(const Report& report);

// HTML pieces shared by the page and its sections.
namespace html_parts {

std::string esc(const std::string& text);

// A table; numeric columns are right-aligned. Cells are text, escaped when rendered.
struct Table {
    std::vector<std::string> headers;
    std::vector<bool> numeric;  // per column; missing entries = false
    std::vector<std::vector<std::string>> rows;
    std::string css_class;
    std::string render() const;
};

// "not measured in this run: <why>".
std::string missing(const std::string& why);

// A <section> with an id, a heading and its body.
std::string section(const std::string& id, const std::string& title, const std::string& body);

// A chart in a <figure> with an optional caption.
std::string figure(const std::string& svg, const std::string& caption = "");

}  // namespace html_parts

// The page's sections (html_sections.cpp).
std::string html_accuracy(const Report& report);
std::string html_layers(const Report& report);
std::string html_energy(const Report& report);
std::string html_mesh(const Report& report);
std::string html_ticks(const Report& report);
std::string html_paper_energy(const Report& report);
std::string html_settings(const Report& report);

}  // namespace neuroemu::report
