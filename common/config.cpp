#include "common/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/yaml_text.h"

namespace neuroemu {
namespace {

std::string range_text(const ParamSpec& p) {
    const bool lo = std::isfinite(p.min), hi = std::isfinite(p.max);
    if (lo && hi) return fmt::format("[{}, {}]", p.min, p.max);
    if (lo) return fmt::format(">= {}", p.min);
    if (hi) return fmt::format("<= {}", p.max);
    return "";
}

std::string expectation(const ParamSpec& p) {
    const std::string range = range_text(p);
    const std::string in = range.empty() ? "" : (range[0] == '[' ? " in " : " ") + range;
    const std::string items =
        p.min_items == p.max_items ? fmt::format("{}", p.min_items) : fmt::format("{} or more", p.min_items);
    switch (p.kind) {
        case ParamKind::Bool: return "true or false";
        case ParamKind::Int: return "an integer" + in;
        case ParamKind::Real: return "a finite number" + in;
        case ParamKind::String: return "a string";
        case ParamKind::Path: return "a file path";
        case ParamKind::Enum: return fmt::format("one of {}", fmt::join(p.choices, ", "));
        case ParamKind::IntList: return fmt::format("a list of {} integers{}", items, in);
        case ParamKind::RealList: return fmt::format("a list of {} finite numbers{}", items, in);
    }
    return "?";
}

template <typename T>
bool scalar_as(const YAML::Node& node, T& out) {
    if (!node.IsScalar()) return false;
    try {
        out = node.as<T>();
        return true;
    } catch (const YAML::Exception&) {
        return false;
    }
}

bool in_range(const ParamSpec& p, double v) { return std::isfinite(v) && v >= p.min && v <= p.max; }

// Converts one YAML value to the declared kind, or returns false.
bool convert(const ParamSpec& p, const YAML::Node& node, ParamValue& out) {
    switch (p.kind) {
        case ParamKind::Bool: {
            bool b = false;
            if (!scalar_as(node, b)) return false;
            out = b;
            return true;
        }
        case ParamKind::Int: {
            int64_t v = 0;
            if (!scalar_as(node, v) || !in_range(p, static_cast<double>(v))) return false;
            out = v;
            return true;
        }
        case ParamKind::Real: {
            double v = 0;
            if (!scalar_as(node, v) || !in_range(p, v)) return false;
            out = v;
            return true;
        }
        case ParamKind::String:
        case ParamKind::Path:
        case ParamKind::Enum: {
            std::string s;
            if (!scalar_as(node, s) || s.empty()) return false;
            if (p.kind == ParamKind::Enum && std::find(p.choices.begin(), p.choices.end(), s) == p.choices.end())
                return false;
            out = s;
            return true;
        }
        case ParamKind::IntList:
        case ParamKind::RealList: {
            if (!node.IsSequence() || node.size() < p.min_items || node.size() > p.max_items) return false;
            std::vector<int64_t> ints;
            std::vector<double> reals;
            for (const auto& item : node) {
                double v = 0;
                int64_t i = 0;
                if (p.kind == ParamKind::IntList ? !scalar_as(item, i) : !scalar_as(item, v)) return false;
                if (p.kind == ParamKind::IntList) v = static_cast<double>(i);
                if (!in_range(p, v)) return false;
                ints.push_back(i);
                reals.push_back(v);
            }
            if (p.kind == ParamKind::IntList)
                out = ints;
            else
                out = reals;
            return true;
        }
    }
    return false;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// " (did you mean 'tree'?)" after an Enum word that is near an allowed one; "" otherwise.
std::string suggestion(const ParamSpec& p, const YAML::Node& node) {
    if (p.kind != ParamKind::Enum || !node.IsScalar()) return "";
    const std::string best = closest_name(node.Scalar(), p.choices);
    return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

Settings::Entry leaf(const ParamSpec& p, const YAML::Node& node, const std::string& where, const std::string& file,
                     const std::string& base_dir) {
    Settings::Entry e{std::monostate{}, where, file, base_dir};
    if (node.IsNull() && p.default_yaml.empty()) return e;  // optional key explicitly left unset
    if (!convert(p, node, e.value))
        throw ConfigError(fmt::format("{}: {}: expected {}, got {}{}", where, p.key, expectation(p), yaml_describe(node),
                                      suggestion(p, node)));
    return e;
}

class Walker {
public:
    Walker(const Schema& schema, Settings& out) : schema_(schema), out_(out) {}

    void document(const YAML::Node& root, const std::string& file, const std::string& base_dir) {
        if (root.IsNull() || !root.IsDefined()) return;
        if (!root.IsMap())
            throw ConfigError(fmt::format("{}: expected a mapping of sections ({}), got {}", yaml_at(file, root.Mark()),
                                          fmt::join(children(""), ", "), yaml_describe(root)));
        map(root, "", file, base_dir);
    }

    void apply_override(const std::string& assignment) {
        const auto eq = assignment.find('=');
        const std::string where = fmt::format("--set {}", assignment);
        if (eq == std::string::npos || eq == 0)
            throw ConfigError(fmt::format("{}: expected key.path=value", where));
        const std::string key = assignment.substr(0, eq);
        const ParamSpec* p = schema_.find(key);
        if (!p && key.find('.') == std::string::npos && is_group(key)) {
            // `--set chip=configs/chips/loihi.yaml`: a whole section from a file, relative to the working
            // directory; it overrides the keys the file sets.
            const std::string path = assignment.substr(eq + 1);
            if (path.empty()) throw ConfigError(fmt::format("{}: expected the name of a file holding section '{}'", where, key));
            YAML::Node root = load_file(path, where);
            if (root.IsNull()) return;
            if (!root.IsMap())
                throw ConfigError(fmt::format("{}: expected the keys of section '{}', got {}", yaml_at(path, root.Mark()),
                                              key, yaml_describe(root)));
            const auto slash = path.rfind('/');
            map(root, key, path, slash == std::string::npos ? std::string() : path.substr(0, slash));
            return;
        }
        if (!p) throw ConfigError(fmt::format("{}: {}", where, unknown(key)));
        YAML::Node value;
        try {
            value = YAML::Load(assignment.substr(eq + 1));
        } catch (const YAML::Exception& e) {
            throw ConfigError(fmt::format("{}: value is not valid YAML: {}", where, e.msg));
        }
        out_.put(key, leaf(*p, value, where, "", ""));
    }

private:
    void map(const YAML::Node& node, const std::string& prefix, const std::string& file, const std::string& base_dir) {
        std::set<std::string> seen;
        for (const auto& kv : node) {
            const std::string where = yaml_at(file, kv.first.Mark());
            if (!kv.first.IsScalar())
                throw ConfigError(fmt::format("{}: keys must be plain names, got {}", where, yaml_describe(kv.first)));
            const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
            if (!seen.insert(key).second) throw ConfigError(fmt::format("{}: duplicate key '{}'", where, key));
            const YAML::Node& value = kv.second;
            if (const ParamSpec* p = schema_.find(key)) {
                out_.put(key, leaf(*p, value, yaml_at(file, value.Mark()), file, base_dir));
            } else if (!is_group(key)) {
                throw ConfigError(fmt::format("{}: {}", where, unknown(key)));
            } else if (value.IsMap()) {
                map(value, key, file, base_dir);
            } else if (prefix.empty() && value.IsScalar()) {
                include(value, key, file, base_dir);
            } else if (!value.IsNull()) {
                throw ConfigError(fmt::format("{}: {}: expected a mapping of keys{}, got {}", yaml_at(file, value.Mark()),
                                              key, prefix.empty() ? " or the name of a file holding them" : "",
                                              yaml_describe(value)));
            }
        }
    }

    // A whole section may live in its own file (e.g. `chip: chips/rolls.yaml`), resolved against the
    // including file's directory.
    void include(const YAML::Node& name, const std::string& section, const std::string& file,
                 const std::string& base_dir) {
        const std::string rel = name.Scalar();
        const std::string path = (rel.empty() || rel[0] == '/' || base_dir.empty()) ? rel : base_dir + "/" + rel;
        YAML::Node root = load_file(path, yaml_at(file, name.Mark()) + ": " + section);
        if (root.IsNull()) return;
        if (!root.IsMap())
            throw ConfigError(fmt::format("{}: expected the keys of section '{}', got {}", yaml_at(path, root.Mark()),
                                          section, yaml_describe(root)));
        const auto slash = path.rfind('/');
        map(root, section, path, slash == std::string::npos ? std::string() : path.substr(0, slash));
    }

    bool is_group(const std::string& key) const {
        for (const auto& s : schema_.sections())
            if (s.name == key) return true;
        for (const auto& p : schema_.params())
            if (p.key.compare(0, key.size() + 1, key + ".") == 0) return true;
        return false;
    }

    std::vector<std::string> children(const std::string& prefix) const {
        std::vector<std::string> names;
        auto add = [&](const std::string& full) {
            if (!prefix.empty() && full.compare(0, prefix.size() + 1, prefix + ".") != 0) return;
            std::string rest = prefix.empty() ? full : full.substr(prefix.size() + 1);
            rest = rest.substr(0, rest.find('.'));
            if (std::find(names.begin(), names.end(), rest) == names.end()) names.push_back(rest);
        };
        if (prefix.empty())
            for (const auto& s : schema_.sections()) add(s.name);
        for (const auto& p : schema_.params()) add(p.key);
        return names;
    }

    std::string unknown(const std::string& key) const {
        const auto dot = key.rfind('.');
        const std::string parent = dot == std::string::npos ? "" : key.substr(0, dot);
        const std::string last = dot == std::string::npos ? key : key.substr(dot + 1);
        const auto names = children(parent);
        std::string msg = fmt::format("unknown key '{}'", key);
        if (!parent.empty() && !is_group(parent)) return msg + fmt::format(" ('{}' has no keys)", parent);
        if (names.empty()) return msg + fmt::format("; section '{}' has no keys in this version", parent);
        const std::string best = closest_name(last, names);
        if (!best.empty()) msg += fmt::format(" (did you mean '{}'?)", parent.empty() ? best : parent + "." + best);
        return msg + fmt::format("; allowed{}: {}", parent.empty() ? " at top level" : " in '" + parent + "'",
                                 fmt::join(names, ", "));
    }

    static YAML::Node load_file(const std::string& path, const std::string& referrer) {
        std::ifstream in(path);
        if (!in) throw ConfigError(fmt::format("{}: cannot open '{}'", referrer, path));
        std::stringstream text;
        text << in.rdbuf();
        try {
            return YAML::Load(text.str());
        } catch (const YAML::ParserException& e) {
            throw ConfigError(fmt::format("{}: invalid YAML: {}", yaml_at(path, e.mark), e.msg));
        }
    }

    const Schema& schema_;
    Settings& out_;
};

}  // namespace

std::string closest_name(const std::string& word, const std::vector<std::string>& names) {
    std::string best;
    size_t best_d = 3;
    for (const auto& n : names)
        if (size_t d = edit_distance(word, n); d < best_d) best = n, best_d = d;
    return best;
}

std::string param_kind_name(ParamKind kind) {
    switch (kind) {
        case ParamKind::Bool: return "bool";
        case ParamKind::Int: return "int";
        case ParamKind::Real: return "real";
        case ParamKind::String: return "string";
        case ParamKind::Path: return "path";
        case ParamKind::Enum: return "enum";
        case ParamKind::IntList: return "list of int";
        case ParamKind::RealList: return "list of real";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------------------------
const Settings::Entry& Settings::entry(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) throw InternalError(fmt::format("configuration key '{}' is not declared", key));
    return it->second;
}

bool Settings::has(const std::string& key) const {
    auto it = entries_.find(key);
    return it != entries_.end() && !std::holds_alternative<std::monostate>(it->second.value);
}

template <typename T>
static const T& typed(const Settings::Entry& e, const std::string& key) {
    if (const T* v = std::get_if<T>(&e.value)) return *v;
    throw InternalError(fmt::format("configuration key '{}' is unset or read with the wrong type", key));
}

bool Settings::get_bool(const std::string& key) const { return typed<bool>(entry(key), key); }
int64_t Settings::get_int(const std::string& key) const { return typed<int64_t>(entry(key), key); }
double Settings::get_real(const std::string& key) const { return typed<double>(entry(key), key); }
const std::string& Settings::get_string(const std::string& key) const { return typed<std::string>(entry(key), key); }
const std::vector<int64_t>& Settings::get_ints(const std::string& key) const {
    return typed<std::vector<int64_t>>(entry(key), key);
}
const std::vector<double>& Settings::get_reals(const std::string& key) const {
    return typed<std::vector<double>>(entry(key), key);
}
const std::string& Settings::where(const std::string& key) const { return entry(key).where; }
const std::string& Settings::source_file(const std::string& key) const { return entry(key).file; }

std::string Settings::get_path(const std::string& key) const {
    const Entry& e = entry(key);
    const std::string& p = typed<std::string>(e, key);
    if (p[0] == '/' || e.base_dir.empty()) return p;
    return e.base_dir + "/" + p;
}

std::map<std::string, std::string> Settings::dump() const {
    std::map<std::string, std::string> out;
    for (const auto& [key, e] : entries_) {
        out[key] = std::visit(
            [](const auto& v) -> std::string {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::monostate>) return "null";
                else if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
                else if constexpr (std::is_same_v<T, std::string>) return v;
                else if constexpr (std::is_arithmetic_v<T>) return fmt::format("{}", v);
                else return fmt::format("[{}]", fmt::join(v, ", "));
            },
            e.value);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
Schema::Schema(std::vector<SectionSpec> sections, std::vector<ParamSpec> params)
    : sections_(std::move(sections)), params_(std::move(params)) {
    std::set<std::string> keys;
    for (const auto& p : params_) {
        if (!keys.insert(p.key).second) throw InternalError(fmt::format("configuration key '{}' declared twice", p.key));
        if (p.default_yaml.empty()) continue;
        ParamValue v;
        if (!convert(p, YAML::Load(p.default_yaml), v))
            throw InternalError(fmt::format("default of '{}' ({}) is not {}", p.key, p.default_yaml, expectation(p)));
    }
}

const ParamSpec* Schema::find(const std::string& key) const {
    for (const auto& p : params_)
        if (p.key == key) return &p;
    return nullptr;
}

Settings Schema::load(const std::string& yaml_file, const std::vector<std::string>& overrides) const {
    if (yaml_file.empty()) return parse("", "", "", overrides);
    std::ifstream in(yaml_file);
    if (!in) throw ConfigError(fmt::format("{}: cannot open configuration file", yaml_file));
    std::stringstream text;
    text << in.rdbuf();
    const auto slash = yaml_file.rfind('/');
    return parse(text.str(), yaml_file, slash == std::string::npos ? std::string() : yaml_file.substr(0, slash),
                 overrides);
}

Settings Schema::parse(const std::string& yaml_text, const std::string& source, const std::string& base_dir,
                       const std::vector<std::string>& overrides) const {
    Settings out;
    for (const auto& p : params_) out.put(p.key, leaf(p, YAML::Load(p.default_yaml), "default", "", ""));
    Walker w(*this, out);
    if (!yaml_text.empty()) {
        YAML::Node root;
        try {
            root = YAML::Load(yaml_text);
        } catch (const YAML::ParserException& e) {
            throw ConfigError(fmt::format("{}: invalid YAML: {}", yaml_at(source, e.mark), e.msg));
        }
        w.document(root, source, base_dir);
    }
    for (const auto& o : overrides) w.apply_override(o);
    return out;
}

std::string Schema::markdown() const {
    std::string md =
        "# Configuration reference\n\n"
        "<!-- Generated from the parameter declarations in the source: `neuroemu --config-reference > "
        "docs/config.md`. A test fails when this file and the code disagree. -->\n\n"
        "One YAML document describes one experiment. Every key below is optional and has the default shown; "
        "`--set key.path=value` overrides any key from the command line (repeatable, applied after the file). "
        "A whole section can live in its own file: `chip: chips/rolls.yaml` reads the section's keys from that "
        "file, resolved against the including file's directory; on the command line, `--set chip=configs/chips/loihi.yaml` "
        "does the same with a path relative to the working directory. Relative paths in values are resolved against "
        "the directory of the file that sets them. Unknown keys, wrong types and out-of-range values are errors "
        "that name `file:line:column` and the key.\n";
    auto table = [&](const std::string& section) {
        std::string rows;
        for (const auto& p : params_) {
            const auto dot = p.key.find('.');
            if ((dot == std::string::npos ? std::string() : p.key.substr(0, dot)) != section) continue;
            std::string allowed = p.kind == ParamKind::Enum ? fmt::format("{}", fmt::join(p.choices, ", "))
                                                            : range_text(p);
            if ((p.kind == ParamKind::IntList || p.kind == ParamKind::RealList) && p.min_items == p.max_items)
                allowed = fmt::format("{} items{}", p.min_items, allowed.empty() ? "" : ", each " + allowed);
            rows += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", p.key, param_kind_name(p.kind),
                                p.default_yaml.empty() ? "unset" : "`" + p.default_yaml + "`",
                                p.unit.empty() ? "–" : p.unit, allowed.empty() ? "–" : allowed, p.help);
        }
        if (rows.empty()) return std::string("No keys yet in this version.\n");
        return "| key | type | default | unit | allowed | meaning |\n|---|---|---|---|---|---|\n" + rows;
    };
    md += "\n## Top level\n\n" + table("");
    for (const auto& s : sections_) md += fmt::format("\n## `{}`\n\n{}\n\n", s.name, s.help) + table(s.name);
    return md;
}

ParamValue parse_param_text(const ParamSpec& spec, const std::string& text, const std::string& where) {
    ParamValue value;
    bool ok = false;
    try {
        ok = !text.empty() && convert(spec, YAML::Load(text), value);
    } catch (const YAML::Exception&) {
        ok = false;  // not even YAML: reported below like any other bad value
    }
    if (!ok) throw ConfigError(fmt::format("{}: expected {}, got '{}'", where, expectation(spec), text));
    return value;
}

}  // namespace neuroemu
