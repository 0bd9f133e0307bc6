#include "report/render.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "report/format.h"
#include "report/svg.h"
#include "tests/report/report_fixture.h"

namespace neuroemu::report {
namespace {

using nlohmann::json;

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
    return n;
}

// A tiny XML checker: every element opened is closed in order (void elements must self-close), comments and the
// doctype skipped, attribute values may hold '>'. Returns "" or what is wrong.
std::string check_balanced(const std::string& text) {
    std::vector<std::string> open;
    size_t i = 0;
    while ((i = text.find('<', i)) != std::string::npos) {
        if (text.compare(i, 4, "<!--") == 0) {
            i = text.find("-->", i);
            if (i == std::string::npos) return "unterminated comment";
            continue;
        }
        if (text.compare(i, 2, "<!") == 0) {
            i = text.find('>', i);
            continue;
        }
        size_t j = i + 1;
        char quote = 0;
        for (; j < text.size(); ++j) {
            if (quote) {
                if (text[j] == quote) quote = 0;
            } else if (text[j] == '"' || text[j] == '\'') {
                quote = text[j];
            } else if (text[j] == '>') {
                break;
            }
        }
        if (j >= text.size()) return "unterminated tag at " + std::to_string(i);
        const std::string tag = text.substr(i + 1, j - i - 1);
        const bool closing = !tag.empty() && tag[0] == '/';
        const bool self_closing = !tag.empty() && tag.back() == '/';
        const size_t name_start = closing ? 1 : 0;
        const size_t name_end = tag.find_first_of(" \t\n/", name_start);
        const std::string name = tag.substr(name_start, name_end == std::string::npos ? std::string::npos : name_end - name_start);
        if (name.empty()) return "empty tag name at " + std::to_string(i);
        if (closing) {
            if (open.empty() || open.back() != name)
                return "</" + name + "> closes <" + (open.empty() ? std::string("nothing") : open.back()) + ">";
            open.pop_back();
        } else if (!self_closing) {
            if (name == "style") {  // CSS is text, skip to its end
                const size_t end = text.find("</style>", j);
                if (end == std::string::npos) return "unterminated style";
                i = end + 8;
                continue;
            }
            open.push_back(name);
        }
        i = j + 1;
    }
    return open.empty() ? "" : "<" + open.back() + "> never closed";
}

// RFC 4180 reader: quoted fields, doubled quotes, CRLF records.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
            else if (c == '"') quoted = false;
            else field += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().push_back(field), field.clear();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            rows.back().push_back(field), field.clear();
            rows.emplace_back();
            ++i;
        } else {
            field += c;
        }
        any = true;
    }
    if (!field.empty() || (any && !rows.back().empty())) rows.back().push_back(field);
    if (rows.back().empty()) rows.pop_back();
    return rows;
}

std::map<std::string, std::string> csv_map(const json& doc) {
    std::map<std::string, std::string> out;
    for (auto& [name, content] : csv_files(doc)) out[name] = content;
    return out;
}

double parse_number(const std::string& text) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    EXPECT_EQ(*end, '\0') << "not a number: " << text;
    return v;
}

// The formatted headline figures a reader looks for first.
std::vector<std::string> headline_figures(const json& doc) {
    const json& h = doc["headline"];
    std::vector<std::string> out = {percent(h["accuracy_snn"].get<double>()), si(h["energy_snn_j"].get<double>(), "J"),
                                    si(h["energy_snn_sop_j"].get<double>(), "J"), si(h["energy_ann_j"].get<double>(), "J"),
                                    ratio(h["ratio_ann_to_snn"].get<double>()),
                                    ratio(h["ratio_ann_to_snn_sop"].get<double>()), integer(h["cores"].get<double>()),
                                    integer(h["steps"].get<double>()), integer(h["images"].get<double>())};
    if (!h["accuracy_ann"].is_null()) out.push_back(percent(h["accuracy_ann"].get<double>()));
    if (!h["latency_s"].is_null()) {
        out.push_back(si(h["latency_s"].get<double>(), "s"));
        out.push_back(si(h["latency_cycles"].get<double>(), "cycles"));
        out.push_back(si(h["cycles_per_tick_mean"].get<double>(), "cycles"));
    }
    return out;
}

std::string expect_data_error(const json& doc) {
    try {
        (void)html(doc);
    } catch (const DataError& e) {
        return e.what();
    }
    ADD_FAILURE() << "no DataError";
    return "";
}

TEST(Format, SiPrefixesAndUnits) {
    EXPECT_EQ(coefficient(0.004, "W/core"), "4.00 mW / core");
    EXPECT_EQ(coefficient(7.7e-14, "J/SOP"), "77.0 fJ / SOP");
    EXPECT_EQ(si(1.34e-5, "J"), "13.4 µJ");
    EXPECT_EQ(si(0.00963, "s"), "9.63 ms");
    EXPECT_EQ(si(1.74e8, "SOP"), "174 M SOP");
    EXPECT_EQ(si(721, ""), "721");
    EXPECT_EQ(si(0.0, "J"), "0 J");
    EXPECT_EQ(si(9.997e-4, "J"), "1.00 mJ");  // rounding carries into the next prefix
    EXPECT_EQ(si(-2.5e3, "W"), "-2.50 kW");
    EXPECT_EQ(si(std::nan(""), "J"), "n/a");
    EXPECT_EQ(si(INFINITY, "J"), "n/a");
    EXPECT_EQ(percent(0.934), "93.40 %");
    EXPECT_EQ(ratio(42.5), "42.5×");
    EXPECT_EQ(ratio(9.996), "10.0×");
    EXPECT_EQ(integer(3370000), "3\u2009370\u2009000");
    EXPECT_EQ(exact(0.1), "0.10000000000000001");
    EXPECT_EQ(parse_number(exact(1.0 / 3.0)), 1.0 / 3.0);
}

TEST(Html, ShowsEveryHeadlineFigureAsText) {
    const json doc = test::full_report();
    const std::string page = html(doc);
    for (const std::string& figure : headline_figures(doc)) EXPECT_NE(page.find(figure), std::string::npos) << figure;
    EXPECT_NE(page.find("93.40 %"), std::string::npos);
    EXPECT_NE(page.find("9.63 ms"), std::string::npos);
    EXPECT_NE(page.find("resnet20_fmnist on rolls"), std::string::npos);
}

TEST(Html, ListsEveryEnergyTermWithCountCoefficientEnergyAndSource) {
    const json doc = test::full_report();
    const std::string page = html(doc);
    for (const char* side : {"snn", "ann"})
        for (const json& t : doc["energy"][side]["terms"]) {
            const std::string unit = t["unit"].get<std::string>();
            for (const std::string& text :
                 {t["label"].get<std::string>(), si(t["count"].get<double>(), unit),
                  si(t["coefficient_j"].get<double>(), "J") + " / " + unit, si(t["energy_j"].get<double>(), "J"),
                  t["source"].get<std::string>(), t["coefficient_key"].get<std::string>()})
                EXPECT_NE(page.find(svg::escape(text)), std::string::npos) << text;
        }
    EXPECT_NE(page.find("174 M SOP"), std::string::npos);
}

TEST(Html, IsWellFormedAndSelfContained) {
    for (const json& doc : {test::full_report(), test::no_hardware_report()}) {
        const std::string page = html(doc);
        EXPECT_EQ(check_balanced(page), "");
        std::string stripped = page;
        const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
        for (size_t at; (at = stripped.find(xmlns)) != std::string::npos;) stripped.erase(at, xmlns.size());
        EXPECT_EQ(stripped.find("http://"), std::string::npos);
        EXPECT_EQ(stripped.find("https://"), std::string::npos);
        EXPECT_EQ(page.find("<script"), std::string::npos);
        EXPECT_EQ(page.find(" src="), std::string::npos);
        EXPECT_EQ(page.find("<link"), std::string::npos);
        EXPECT_EQ(page.find("url("), std::string::npos);
        EXPECT_EQ(page.find("@import"), std::string::npos);
    }
}

TEST(Html, DrawsEveryChartOfAFullRun) {
    const json doc = test::full_report();
    const std::string page = html(doc);
    EXPECT_EQ(count(page, "class=\"chart line-chart\""), 2u);  // accuracy, cycles per tick
    EXPECT_EQ(count(page, "class=\"chart bar-chart\""), 2u);   // firing rates, SOPs
    EXPECT_EQ(count(page, "class=\"chart stacked-bars\""), 2u);
    EXPECT_EQ(count(page, "class=\"chart heat-map\""), 4u);
    EXPECT_EQ(count(page, "not measured in this run"), 0u);
    // Heat map cells: one per non-null value of the four grids.
    size_t non_null = 0;
    for (const char* key : {"core_utilisation", "synapse_utilisation", "router_flits", "link_flits_max"})
        for (const json& row : doc["mesh"][key])
            for (const json& v : row) non_null += v.is_null() ? 0 : 1;
    EXPECT_EQ(count(page, "class=\"cell\""), non_null);
    EXPECT_EQ(count(page, "class=\"bar\""), doc["layers"].size() * 2);  // a zero (the input's SOPs) is still a bar
}

TEST(Html, SaysWhatWasNotMeasuredWithoutHardware) {
    const json doc = test::no_hardware_report();
    const std::string page = html(doc);
    EXPECT_NE(page.find("not measured in this run: no hardware simulation in this run (--hw-images 0)"), std::string::npos);
    EXPECT_EQ(count(page, "class=\"chart line-chart\""), 1u);  // accuracy only
    EXPECT_EQ(count(page, "class=\"chart heat-map\""), 2u);    // utilisation only
    for (const std::string& figure : headline_figures(doc)) EXPECT_NE(page.find(figure), std::string::npos) << figure;
    EXPECT_NE(page.find("mapper estimate"), std::string::npos);
    EXPECT_EQ(check_balanced(page), "");
}

TEST(Html, UsesTheDocumentsOwnReasonForMissingData) {
    json doc = test::no_hardware_report();
    doc["not_measured"] = {{"ticks", "the chip model was switched off by --no-hw"}};
    const std::string page = html(doc);
    EXPECT_NE(page.find("not measured in this run: the chip model was switched off by --no-hw"), std::string::npos);
}

TEST(Html, ShowsTheFitErrorWhenTheNetworkDoesNotFit) {
    json doc = test::no_hardware_report();
    doc["headline"]["fits"] = false;
    doc["headline"]["fit_error"] = "layer conv1 needs 912 cores, the chip has 721";
    doc["mesh"] = nullptr;
    const std::string page = html(doc);
    EXPECT_NE(page.find("does not fit: layer conv1 needs 912 cores, the chip has 721"), std::string::npos);
    EXPECT_NE(page.find("not measured in this run: the network was not mapped: layer conv1"), std::string::npos);
    EXPECT_EQ(count(page, "class=\"chart heat-map\""), 0u);
}

TEST(Html, RendersNanAndInfinityAsNotAvailable) {
    json doc = test::full_report();
    doc["headline"]["energy_snn_j"] = std::nan("");
    doc["headline"]["ratio_ann_to_snn"] = INFINITY;
    doc["energy"]["snn"]["terms"][1]["energy_j"] = std::nan("");
    doc["accuracy"]["snn_curve"][5] = std::nan("");
    const std::string page = html(doc);
    EXPECT_GE(count(page, ">n/a<"), 2u);
    EXPECT_EQ(page.find("nan"), std::string::npos);
    EXPECT_EQ(page.find(">inf"), std::string::npos);
    EXPECT_EQ(check_balanced(page), "");
    EXPECT_NE(markdown(doc).find("| n/a |"), std::string::npos);
}

TEST(Html, EscapesTextFromTheDocument) {
    json doc = test::full_report();
    doc["title"] = "<script>alert('x')</script> & co";
    doc["settings"]["a<b"] = "\"quoted\"";
    const std::string page = html(doc);
    EXPECT_EQ(page.find("<script>"), std::string::npos);
    EXPECT_NE(page.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"), std::string::npos);
    EXPECT_EQ(check_balanced(page), "");
}

// chip.faults that lose events: the headline's accuracy is the faulty chip's and the fault-free figure is shown
// beside it, in every format; without faults (the key null, or absent as in earlier documents) it is not.
TEST(Html, ShowsTheFaultFreeAccuracyBesideTheFaultyChips) {
    json doc = test::full_report();
    doc["headline"]["accuracy_snn_fault_free"] = 0.9512;
    EXPECT_NE(html(doc).find("without chip.faults <b>95.12 %</b>"), std::string::npos);
    EXPECT_NE(markdown(doc).find("| accuracy, SNN without chip.faults (top-1) | 95.12 % |"), std::string::npos);
    std::string headline_csv;
    for (const auto& [name, text] : csv_files(doc))
        if (name == "headline.csv") headline_csv = text;
    EXPECT_NE(headline_csv.find("accuracy_snn_fault_free,0.95120000000000005"), std::string::npos) << headline_csv;
    json null_key = test::full_report(), no_key = test::full_report();
    null_key["headline"]["accuracy_snn_fault_free"] = nullptr;
    no_key["headline"].erase("accuracy_snn_fault_free");
    for (const json& clean : {null_key, no_key}) {
        EXPECT_EQ(html(clean).find("without chip.faults"), std::string::npos);
        EXPECT_NE(markdown(clean).find("| accuracy, SNN without chip.faults (top-1) | the same: no faults that lose events |"),
                  std::string::npos);
    }
}

TEST(Markdown, ShowsTheSameFiguresAsTheHtml) {
    for (const json& doc : {test::full_report(), test::no_hardware_report()}) {
        const std::string md = markdown(doc);
        for (const std::string& figure : headline_figures(doc)) EXPECT_NE(md.find(figure), std::string::npos) << figure;
        for (const char* side : {"snn", "ann"})
            for (const json& t : doc["energy"][side]["terms"]) {
                EXPECT_NE(md.find(si(t["energy_j"].get<double>(), "J")), std::string::npos);
                EXPECT_NE(md.find(si(t["count"].get<double>(), t["unit"].get<std::string>())), std::string::npos);
                EXPECT_NE(md.find(t["source"].get<std::string>()), std::string::npos);
            }
        for (const json& l : doc["layers"]) EXPECT_NE(md.find("| " + l["name"].get<std::string>() + " |"), std::string::npos);
        EXPECT_NE(md.find("ResNet-34"), std::string::npos);
    }
    EXPECT_NE(markdown(test::no_hardware_report()).find("_not measured in this run: no hardware simulation"), std::string::npos);
}

TEST(Csv, EnergyRowsParseBackToTheDocumentsValues) {
    const json doc = test::full_report();
    const auto rows = parse_csv(csv_map(doc).at("energy.csv"));
    ASSERT_EQ(rows.size(), 1 + doc["energy"]["snn"]["terms"].size() + doc["energy"]["ann"]["terms"].size());
    EXPECT_EQ(rows[0], (std::vector<std::string>{"side", "key", "label", "count", "unit", "coefficient_j", "energy_j",
                                                 "source", "coefficient_key"}));
    size_t r = 1;
    for (const char* side : {"snn", "ann"})
        for (const json& t : doc["energy"][side]["terms"]) {
            ASSERT_EQ(rows[r].size(), 9u);
            EXPECT_EQ(rows[r][0], side);
            EXPECT_EQ(rows[r][2], t["label"].get<std::string>());  // holds a comma and quotes
            EXPECT_EQ(parse_number(rows[r][3]), t["count"].get<double>());
            EXPECT_EQ(parse_number(rows[r][5]), t["coefficient_j"].get<double>());
            EXPECT_EQ(parse_number(rows[r][6]), t["energy_j"].get<double>());
            EXPECT_EQ(rows[r][7], t["source"].get<std::string>());
            ++r;
        }
}

TEST(Csv, SeriesAndGridsParseBack) {
    const json doc = test::full_report();
    const auto files = csv_map(doc);
    const auto accuracy = parse_csv(files.at("accuracy.csv"));
    ASSERT_EQ(accuracy.size(), 1 + doc["accuracy"]["snn_curve"].size());
    for (size_t t = 1; t < accuracy.size(); ++t) {
        EXPECT_EQ(accuracy[t][0], std::to_string(t));
        EXPECT_EQ(parse_number(accuracy[t][1]), doc["accuracy"]["snn_curve"][t - 1].get<double>());
    }
    const auto ticks = parse_csv(files.at("ticks.csv"));
    ASSERT_EQ(ticks.size(), 1 + doc["ticks"]["cycles_per_tick"].size());
    for (size_t t = 1; t < ticks.size(); ++t)
        EXPECT_EQ(parse_number(ticks[t][1]), doc["ticks"]["cycles_per_tick"][t - 1].get<double>());
    const auto mesh = parse_csv(files.at("mesh.csv"));
    const json& m = doc["mesh"];
    ASSERT_EQ(mesh.size(), 1 + m["width"].get<size_t>() * m["height"].get<size_t>());
    for (size_t r = 1; r < mesh.size(); ++r) {
        const size_t x = std::stoul(mesh[r][0]), y = std::stoul(mesh[r][1]);
        const char* keys[] = {"core_utilisation", "synapse_utilisation", "router_flits", "link_flits_max"};
        for (size_t k = 0; k < 4; ++k) {
            const json& v = m[keys[k]][y][x];
            if (v.is_null()) {
                EXPECT_EQ(mesh[r][2 + k], "");
            } else {
                EXPECT_EQ(parse_number(mesh[r][2 + k]), v.get<double>());
            }
        }
    }
    const auto layers = parse_csv(files.at("layers.csv"));
    ASSERT_EQ(layers.size(), 1 + doc["layers"].size());
    for (size_t i = 0; i < doc["layers"].size(); ++i) {
        EXPECT_EQ(layers[i + 1][0], doc["layers"][i]["name"].get<std::string>());
        EXPECT_EQ(parse_number(layers[i + 1][5]), doc["layers"][i]["sops_per_image"].get<double>());
    }
    const auto paper = parse_csv(files.at("paper_energy.csv"));
    ASSERT_EQ(paper.size(), 3u);
    EXPECT_EQ(parse_number(paper[1][7]), 9.13);
    EXPECT_EQ(paper[2][8], "false");
    const auto headline = parse_csv(files.at("headline.csv"));
    std::map<std::string, std::string> values;
    for (const auto& row : headline) values[row[0]] = row[1];
    EXPECT_EQ(parse_number(values.at("energy_snn_j")), doc["headline"]["energy_snn_j"].get<double>());
    EXPECT_EQ(parse_number(values.at("latency_s")), 0.00963);
}

TEST(Csv, NullsAreEmptyFieldsAndMissingSeriesHeaderOnly) {
    const auto files = csv_map(test::no_hardware_report());
    EXPECT_EQ(files.at("ticks.csv"), "tick,cycles\r\n");
    const auto mesh = parse_csv(files.at("mesh.csv"));
    for (size_t r = 1; r < mesh.size(); ++r) EXPECT_EQ(mesh[r][4], "");
    const auto headline = parse_csv(files.at("headline.csv"));
    for (const auto& row : headline)
        if (row[0] == "latency_s" || row[0] == "accuracy_ann") {
            EXPECT_EQ(row[1], "");
        }
}

TEST(BadDocument, NamesTheKeyPath) {
    json doc = test::full_report();
    doc["energy"]["snn"]["terms"][2]["energy_j"] = "12 pJ";
    EXPECT_EQ(expect_data_error(doc), "report document: energy.snn.terms[2].energy_j: expected a number, got string");

    doc = test::full_report();
    doc["headline"].erase("steps");
    EXPECT_EQ(expect_data_error(doc), "report document: headline.steps: missing key (expected an integer)");

    doc = test::full_report();
    doc["mesh"]["core_utilisation"][3].erase(0);
    EXPECT_NE(expect_data_error(doc).find("mesh.core_utilisation[3]: expected 9 values"), std::string::npos);

    doc = test::full_report();
    doc["accuracy"]["snn_curve"].erase(0);
    EXPECT_NE(expect_data_error(doc).find("accuracy.snn_curve: expected 120 values"), std::string::npos);

    doc = test::full_report();
    doc["format"] = 2;
    EXPECT_EQ(expect_data_error(doc), "report document: format: expected 1, got 2");

    EXPECT_EQ(expect_data_error(json::array()), "report document: top level: expected an object, got array");
    EXPECT_THROW(markdown(json("text")), DataError);
    EXPECT_THROW(csv_files(nullptr), DataError);
}

// Every value of the document replaced by a wrong type, or removed: a DataError or a page, nothing else.
TEST(BadDocument, NoMutationEscapesAsAnotherException) {
    const json good = test::no_hardware_report();
    const json flat = good.flatten();
    size_t errors = 0;
    for (auto it = flat.begin(); it != flat.end(); ++it) {
        const json::json_pointer pointer(it.key());
        for (const json& replacement : {json("text"), json::object(), json::array({1, 2}), json(nullptr), json(-1.5)}) {
            json doc = good;
            doc[pointer] = replacement;
            try {
                (void)html(doc);
                (void)markdown(doc);
                (void)csv_files(doc);
            } catch (const DataError& e) {
                ++errors;
                EXPECT_NE(std::string(e.what()).find("report document: "), std::string::npos);
            } catch (const std::exception& e) {
                ADD_FAILURE() << it.key() << ": " << e.what();
            }
        }
        json doc = good;
        json& parent = doc[pointer.parent_pointer()];
        if (parent.is_array()) parent.erase(std::stoul(pointer.back()));
        else parent.erase(pointer.back());
        try {
            (void)html(doc);
        } catch (const DataError&) {
            ++errors;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "removing " << it.key() << ": " << e.what();
        }
    }
    EXPECT_GT(errors, 100u);
}

TEST(Svg, LineChartHasOnePointPerSample) {
    svg::Series s{"SNN", {}, {}, "", false};
    for (int i = 1; i <= 57; ++i) s.x.push_back(i), s.y.push_back(std::sqrt(i));
    svg::Axes axes;
    axes.title = "t";
    const std::string chart = svg::line_chart(axes, {s}, {{3.0, "ANN"}});
    EXPECT_EQ(check_balanced(chart), "");
    const std::string open = "<polyline points=\"";
    const size_t start = chart.find(open);
    ASSERT_NE(start, std::string::npos);
    const size_t end = chart.find('"', start + open.size());
    std::istringstream points(chart.substr(start + open.size(), end - start - open.size()));
    size_t n = 0;
    for (std::string p; points >> p;) {
        ++n;
        EXPECT_NE(p.find(','), std::string::npos);
    }
    EXPECT_EQ(n, 57u);
    EXPECT_EQ(count(chart, "<circle"), 57u);  // one hover target per sample
    EXPECT_EQ(count(chart, "class=\"hline\""), 1u);
    // A NaN breaks the line into two runs and loses only its own point.
    s.y[20] = std::nan("");
    const std::string broken = svg::line_chart(axes, {s});
    EXPECT_EQ(count(broken, "<polyline"), 2u);
    EXPECT_EQ(count(broken, "<circle"), 56u);
}

TEST(Svg, HeatMapDrawsOneCellPerValueAndEmptyPositions) {
    std::vector<std::vector<std::optional<double>>> grid = {{1.0, 2.0, std::nullopt}, {std::nullopt, 5.0, 6.0}};
    const std::string chart = svg::heat_map("cores", grid, "%");
    EXPECT_EQ(check_balanced(chart), "");
    EXPECT_EQ(count(chart, "class=\"cell\""), 4u);
    EXPECT_EQ(count(chart, "class=\"empty\""), 2u);
    EXPECT_NE(chart.find("<title>(2, 1): 6.000 %</title>"), std::string::npos);
}

TEST(Svg, BarsStackedBarsAndScatterAreWellFormed) {
    svg::Axes axes;
    axes.title = "a & b";
    const std::string bars = svg::bar_chart(axes, {"conv1", "layer1.0.relu1", "fc"}, {0.1, std::nan(""), 0.3});
    EXPECT_EQ(check_balanced(bars), "");
    EXPECT_EQ(count(bars, "class=\"bar\""), 2u);
    EXPECT_NE(bars.find("a &amp; b"), std::string::npos);
    axes.value_unit = "J";
    const std::string stacked = svg::stacked_bars(axes, {"SNN", "ANN"}, {"sop", "hop", "flop"},
                                                  {{1.34e-5, 1e-6, 0}, {0, 0, 5.1e-4}});
    EXPECT_EQ(check_balanced(stacked), "");
    EXPECT_EQ(count(stacked, "class=\"segment\""), 3u);
    EXPECT_NE(stacked.find(">14.4 µJ</text>"), std::string::npos);     // the SNN total, as the tables show it
    EXPECT_NE(stacked.find("SNN — sop: 13.40 µJ"), std::string::npos);  // tooltips carry a digit more
    const std::string pareto = svg::scatter(axes, {1, 2, 3, 4}, {4, 2, 3, 1}, {true, true, false, true}, {"a", "b", "c", "d"});
    EXPECT_EQ(check_balanced(pareto), "");
    EXPECT_EQ(count(pareto, "point highlighted"), 3u);
    EXPECT_EQ(count(pareto, "<circle"), 4u);
    EXPECT_EQ(count(pareto, "class=\"front\""), 1u);
    axes.log_y = true;
    EXPECT_EQ(check_balanced(svg::scatter(axes, {1, 2}, {0, 10}, {false, false})), "");  // 0 is not drawn on a log axis
}

TEST(WriteReport, WritesEveryFileAndNoTemporaries) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "neuroemu_report_test" / "out";
    std::filesystem::remove_all(dir.parent_path());
    const json doc = test::full_report();
    write_report(doc, dir.string());
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"accuracy.csv", "energy.csv", "headline.csv", "layers.csv", "mesh.csv",
                                               "paper_energy.csv", "report.html", "report.json", "report.md", "ticks.csv"}));
    std::ifstream in(dir / "report.json");
    EXPECT_EQ(json::parse(in), doc);
    std::ifstream page(dir / "report.html");
    std::stringstream text;
    text << page.rdbuf();
    EXPECT_EQ(text.str(), html(doc));
    std::filesystem::remove_all(dir.parent_path());
}

TEST(WriteReport, BadDocumentWritesNothing) {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "neuroemu_report_bad";
    std::filesystem::remove_all(dir);
    json doc = test::full_report();
    doc["layers"][0]["neurons"] = "many";
    EXPECT_THROW(write_report(doc, dir.string()), DataError);
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(WriteReport, UnwritableDirectoryIsAConfigErrorNamingThePath) {
    const std::filesystem::path file = std::filesystem::temp_directory_path() / "neuroemu_report_file";
    std::ofstream(file) << "x";
    try {
        write_report(test::full_report(), (file / "sub").string());
        ADD_FAILURE() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find((file / "sub").string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("Not a directory"), std::string::npos) << e.what();
    }
    std::filesystem::remove(file);
}

}  // namespace
}  // namespace neuroemu::report
