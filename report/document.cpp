#include "report/document.h"

#include <cmath>
#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace neuroemu::report {
namespace {

const double kNoNumber = std::numeric_limits<double>::quiet_NaN();  // printed as not available (report/format.h)


using nlohmann::json;

// A position in the document: the value (nullptr when the key is missing) and its key path for messages.
class Node {
public:
    Node(const json* value, std::string path) : value_(value), path_(std::move(path)) {}

    [[noreturn]] void fail(const std::string& expected) const {
        const std::string where = path_.empty() ? "top level" : path_;
        if (value_ == nullptr) throw DataError(fmt::format("report document: {}: missing key (expected {})", where, expected));
        throw DataError(fmt::format("report document: {}: expected {}, got {}", where, expected, type_name()));
    }

    const std::string& path() const { return path_; }
    bool is_null() const { return value_ != nullptr && value_->is_null(); }
    bool present() const { return value_ != nullptr; }

    Node operator[](const char* key) const {
        if (value_ == nullptr || !value_->is_object()) fail("an object");
        const auto it = value_->find(key);
        return Node(it == value_->end() ? nullptr : &*it, path_.empty() ? key : path_ + "." + key);
    }

    double number() const {
        if (value_ == nullptr || !value_->is_number()) fail("a number");
        return value_->get<double>();
    }

    std::optional<double> number_or_null() const {
        if (is_null()) return std::nullopt;
        if (value_ == nullptr || !value_->is_number()) fail("a number or null");
        return value_->get<double>();
    }

    double integer() const {
        if (value_ == nullptr || !value_->is_number()) fail("an integer");
        const double v = value_->get<double>();
        if (!std::isfinite(v) || std::floor(v) != v || v < 0) fail("a non-negative integer");
        return v;
    }

    std::string string() const {
        if (value_ == nullptr || !value_->is_string()) fail("a string");
        return value_->get<std::string>();
    }

    std::optional<std::string> string_or_null() const {
        if (is_null()) return std::nullopt;
        if (value_ == nullptr || !value_->is_string()) fail("a string or null");
        return value_->get<std::string>();
    }

    bool boolean() const {
        if (value_ == nullptr || !value_->is_boolean()) fail("true or false");
        return value_->get<bool>();
    }

    std::vector<Node> array() const {
        if (value_ == nullptr || !value_->is_array()) fail("an array");
        std::vector<Node> items;
        for (size_t i = 0; i < value_->size(); ++i) items.emplace_back(&(*value_)[i], fmt::format("{}[{}]", path_, i));
        return items;
    }

    // Object members, sorted by key (nlohmann::json's order).
    std::vector<std::pair<std::string, Node>> members() const {
        if (value_ == nullptr || !value_->is_object()) fail("an object");
        std::vector<std::pair<std::string, Node>> out;
        for (auto it = value_->begin(); it != value_->end(); ++it)
            out.emplace_back(it.key(), Node(&it.value(), path_.empty() ? it.key() : path_ + "." + it.key()));
        return out;
    }

    // Any value as text: strings as they are, everything else as compact JSON.
    std::string text() const {
        if (value_ == nullptr) fail("a value");
        if (value_->is_string()) return value_->get<std::string>();
        return value_->dump(-1, ' ', false, json::error_handler_t::replace);
    }

private:
    std::string type_name() const { return value_->is_null() ? "null" : value_->type_name(); }

    const json* value_;
    std::string path_;
};

std::vector<double> numbers(const Node& node) {
    std::vector<double> out;
    for (const Node& item : node.array()) out.push_back(item.number());
    return out;
}

Grid read_grid(const Node& node, double width, double height) {
    const std::vector<Node> rows = node.array();
    if (static_cast<double>(rows.size()) != height)
        throw DataError(fmt::format("report document: {}: expected {} rows (mesh.height), got {}", node.path(),
                                    height, rows.size()));
    Grid grid;
    for (const Node& row : rows) {
        const std::vector<Node> cells = row.array();
        if (static_cast<double>(cells.size()) != width)
            throw DataError(fmt::format("report document: {}: expected {} values (mesh.width), got {}", row.path(),
                                        width, cells.size()));
        grid.emplace_back();
        for (const Node& cell : cells) grid.back().push_back(cell.number_or_null());
    }
    return grid;
}

Headline read_headline(const Node& n) {
    Headline h;
    h.accuracy_snn = n["accuracy_snn"].number_or_null();
    h.accuracy_ann = n["accuracy_ann"].number_or_null();
    if (n["accuracy_snn_fault_free"].present()) h.accuracy_snn_fault_free = n["accuracy_snn_fault_free"].number_or_null();
    h.steps = n["steps"].integer();
    h.images = n["images"].integer();
    h.cores = n["cores"].integer();
    h.fits = n["fits"].boolean();
    if (n["fit_error"].present()) h.fit_error = n["fit_error"].string_or_null();
    h.energy_snn_j = n["energy_snn_j"].number();
    h.energy_snn_sop_j = n["energy_snn_sop_j"].number();
    h.energy_ann_j = n["energy_ann_j"].number_or_null().value_or(kNoNumber);  // null: no ANN (a NIR network)
    h.ratio_ann_to_snn = n["ratio_ann_to_snn"].number_or_null();
    h.ratio_ann_to_snn_sop = n["ratio_ann_to_snn_sop"].number_or_null();
    h.latency_s = n["latency_s"].number_or_null();
    h.latency_cycles = n["latency_cycles"].number_or_null();
    h.cycles_per_tick_mean = n["cycles_per_tick_mean"].number_or_null();
    return h;
}

Accuracy read_accuracy(const Node& n) {
    Accuracy a;
    a.steps = n["steps"].integer();
    a.images = n["images"].integer();
    a.snn_curve = numbers(n["snn_curve"]);
    if (static_cast<double>(a.snn_curve.size()) != a.steps)
        throw DataError(fmt::format("report document: accuracy.snn_curve: expected {} values (accuracy.steps), got {}",
                                    a.steps, a.snn_curve.size()));
    a.ann = n["ann"].number_or_null();
    for (const Node& c : n["checkpoints"].array()) a.checkpoints.push_back({c["step"].integer(), c["top1"].number()});
    return a;
}

Layer read_layer(const Node& n) {
    Layer l;
    l.name = n["name"].string();
    l.kind = n["kind"].string();
    l.neurons = n["neurons"].integer();
    l.firing_rate = n["firing_rate"].number_or_null();
    l.spikes_per_image = n["spikes_per_image"].number_or_null();
    l.sops_per_image = n["sops_per_image"].number_or_null();
    l.sop_share = n["sop_share"].number_or_null();
    return l;
}

void read_side(const Node& n, EnergySide& side) {
    side.total_j = n["total_j"].number();
    for (const Node& t : n["terms"].array()) {
        EnergyTerm term;
        term.key = t["key"].string();
        term.label = t["label"].string();
        term.count = t["count"].number();
        term.unit = t["unit"].string();
        term.coefficient_j = t["coefficient_j"].number();
        term.coefficient_key = t["coefficient_key"].string();
        term.coefficient_unit = t["coefficient_unit"].present() ? t["coefficient_unit"].string() : "J/" + term.unit;
        term.energy_j = t["energy_j"].number();
        term.source = t["source"].string();
        side.terms.push_back(std::move(term));
    }
}

MeshMaps read_mesh(const Node& n) {
    MeshMaps m;
    m.width = n["width"].integer();
    m.height = n["height"].integer();
    m.chips = n["chips"].integer();
    m.core_utilisation = read_grid(n["core_utilisation"], m.width, m.height);
    m.synapse_utilisation = read_grid(n["synapse_utilisation"], m.width, m.height);
    if (!n["router_flits"].is_null()) m.router_flits = read_grid(n["router_flits"], m.width, m.height);
    if (!n["link_flits_max"].is_null()) m.link_flits_max = read_grid(n["link_flits_max"], m.width, m.height);
    if (m.router_flits || m.link_flits_max) m.link_flits_source = n["link_flits_source"].string();
    else if (n["link_flits_source"].present()) m.link_flits_source = n["link_flits_source"].string_or_null().value_or("");
    return m;
}

Ticks read_ticks(const Node& n) {
    Ticks t;
    t.clock_hz = n["clock_hz"].number();
    t.images = n["images"].integer();
    t.cycles_per_tick = numbers(n["cycles_per_tick"]);
    t.mean = n["mean"].number_or_null();
    t.max = n["max"].number();
    if (n["sampling"].present()) {
        const Node s = n["sampling"];
        TickSampling sampling;
        sampling.description = s["description"].string();
        sampling.exact = s["exact"].boolean();
        sampling.max_tick_cycles = s["max_tick_cycles"]["value"].number();
        for (const Node& f : s["figures"].array())
            sampling.figures.push_back({f["label"].string(), f["unit"].string(), f["estimate"].number(),
                                        f["low"].number(), f["high"].number(), f["exact"].boolean()});
        t.sampling = sampling;
    }
    return t;
}

PaperEnergyRow read_paper_row(const Node& n) {
    PaperEnergyRow r;
    r.network = n["network"].string();
    // The ANN's figures are null for a network without one (a NIR network): shown as not available.
    r.gmac = n["gmac"].number_or_null().value_or(kNoNumber);
    r.paper_gflop = n["paper_gflop"].number_or_null().value_or(kNoNumber);
    r.paper_gsop = n["paper_gsop"].number();
    r.flops_per_mac = n["flops_per_mac"].number_or_null().value_or(kNoNumber);
    r.energy_ann_j = n["energy_ann_j"].number_or_null().value_or(kNoNumber);
    r.energy_snn_j = n["energy_snn_j"].number();
    r.ratio = n["ratio"].number_or_null().value_or(kNoNumber);
    r.more_than_9x = !n["more_than_9x"].is_null() && n["more_than_9x"].boolean();
    return r;
}

const char* const kNoHardware = "no hardware simulation in this run (--hw-images 0)";

}  // namespace

std::string Report::why_not_measured(const std::string& path) const {
    for (const auto& [key, why] : not_measured)
        if (key == path) return why;
    return "no value in the report document";
}

Report read_report(const nlohmann::json& doc) {
    const Node root(&doc, "");
    if (!doc.is_object()) root.fail("an object");
    Report report;
    if (root["command"].present() && root["command"].string() != "report")
        throw DataError(fmt::format("report document: command: expected \"report\", got \"{}\"", root["command"].string()));
    if (root["format"].integer() != 1)
        throw DataError(fmt::format("report document: format: expected 1, got {}", root["format"].integer()));
    report.title = root["title"].string();
    report.config = root["config"].string();
    if (root["input"].present()) report.input = root["input"].string();
    if (root["not_measured"].present() && !root["not_measured"].is_null())
        for (const auto& [key, node] : root["not_measured"].members())
            report.not_measured.emplace_back(key, node.string());
    const auto add_default = [&report](const std::string& path, const std::string& why) {
        for (const auto& entry : report.not_measured)
            if (entry.first == path) return;
        report.not_measured.emplace_back(path, why);
    };
    report.headline = read_headline(root["headline"]);
    if (!root["accuracy"].is_null()) report.accuracy = read_accuracy(root["accuracy"]);
    for (const Node& layer : root["layers"].array()) report.layers.push_back(read_layer(layer));
    read_side(root["energy"]["snn"], report.energy_snn);
    const Node ann = root["energy"]["ann"];
    if (ann.is_null()) {  // no ANN: a NIR network (energy.ann_absent says why)
        report.energy_ann.total_j = report.energy_ann.macs = report.energy_ann.flops = kNoNumber;
        report.energy_ann.flops_per_mac = kNoNumber;
        add_default("energy.ann", root["energy"]["ann_absent"].present() ? root["energy"]["ann_absent"].string()
                                                                          : "no ANN in this run");
    } else {
        read_side(ann, report.energy_ann);
        report.energy_ann.macs = ann["macs"].number();
        report.energy_ann.flops_per_mac = ann["flops_per_mac"].number();
        report.energy_ann.flops = ann["flops"].number();
    }
    if (!root["mesh"].is_null()) report.mesh = read_mesh(root["mesh"]);
    if (!root["ticks"].is_null()) report.ticks = read_ticks(root["ticks"]);
    for (const Node& row : root["paper_energy"].array()) report.paper_energy.push_back(read_paper_row(row));
    if (root["this_run_energy"].present() && !root["this_run_energy"].is_null()) {
        report.this_run_energy = read_paper_row(root["this_run_energy"]);
        report.this_run_chip_j = root["this_run_energy"]["energy_chip_j"].number();
    }
    for (const auto& [key, node] : root["settings"].members()) report.settings.emplace_back(key, node.text());

    add_default("accuracy", "the functional engine was not run");
    add_default("accuracy.ann", "the ANN was not evaluated on the same images");
    add_default("mesh", report.headline.fit_error ? "the network was not mapped: " + *report.headline.fit_error
                                             : "the network was not mapped");
    add_default("mesh.router_flits", kNoHardware);
    add_default("mesh.link_flits_max", kNoHardware);
    add_default("ticks", kNoHardware);
    add_default("headline.latency_s", kNoHardware);
    add_default("paper_energy", "the paper's comparison was not computed");
    return report;
}

json energy_terms_json(const std::vector<EnergyTerm>& terms) {
    json out = json::array();
    for (const EnergyTerm& term : terms)
        out.push_back({{"key", term.key},
                       {"label", term.label},
                       {"count", term.count},
                       {"unit", term.unit},
                       {"coefficient_j", term.coefficient_j},
                       {"coefficient_unit", term.coefficient_unit},
                       {"coefficient_key", term.coefficient_key},
                       {"energy_j", term.energy_j},
                       {"source", term.source}});
    return out;
}

std::vector<PaperEnergyRow> rows_with_this_run(const Report& report) {
    std::vector<PaperEnergyRow> rows = report.paper_energy;
    if (report.this_run_energy) rows.push_back(*report.this_run_energy);
    return rows;
}

std::string this_run_note(const Report& report) {
    if (!report.this_run_energy) return "";
    return fmt::format(" The last row is this run: its network's own MACs and the SOPs per inference the functional "
                       "engine counted (in the GFLOP and GSOP columns), priced the same way; with routing, events and "
                       "static power, the modelled chip spends {:.4g} J per inference.",
                       report.this_run_chip_j);
}

}  // namespace neuroemu::report
