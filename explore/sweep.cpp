#include "explore/sweep.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/yaml_text.h"

namespace neuroemu::explore {
namespace {


std::string join_path(const std::string& dir, const std::string& rel) {
    if (rel.empty() || rel[0] == '/' || dir.empty()) return rel;
    return dir + "/" + rel;
}

// A YAML value as the text of a `--set key=value` override.
std::string set_text(const YAML::Node& node) {
    if (node.IsNull()) return "null";
    if (node.IsScalar()) return node.Scalar();
    YAML::Emitter out;
    out << YAML::Flow << node;
    return out.c_str();
}

// A top-level section that may be read from its own file (`chip: chips/rolls.yaml`).
bool is_section(const Schema& schema, const std::string& key) {
    if (key.find('.') != std::string::npos) return false;
    for (const auto& s : schema.sections())
        if (s.name == key) return true;
    return false;
}

// The schema's own message for `key=value`, without its "--set key=value: " prefix (the caller names the place).
void check_assignment(const Schema& schema, const std::string& assignment, const std::string& where,
                      const std::string& field) {
    try {
        schema.load("", {assignment});
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        const std::string prefix = "--set " + assignment + ": ";
        if (msg.compare(0, prefix.size(), prefix) == 0) msg = msg.substr(prefix.size());
        throw ConfigError(fmt::format("{}: {}: {}", where, field, msg));
    }
}

// Checks that `key` is a configuration key (or a section name) the schema knows.
void check_key(const Schema& schema, const std::string& key, const std::string& where, const std::string& field) {
    if (key == "report.hw_images")
        throw ConfigError(fmt::format("{}: {}: the sweep's own `hw_images` field sets the images the hardware model "
                                      "runs",
                                      where, field));
    if (schema.find(key) || is_section(schema, key)) return;
    check_assignment(schema, key + "=null", where, field);  // the schema's "unknown key ... did you mean" message
    throw ConfigError(fmt::format("{}: {}: '{}' is not a configuration key", where, field, key));
}

class Parser {
public:
    Parser(const Schema& schema, std::string source, std::string base_dir)
        : schema_(schema), file_(std::move(source)), dir_(std::move(base_dir)) {}

    SweepSpec parse(const std::string& text) {
        YAML::Node root;
        try {
            root = YAML::Load(text);
        } catch (const YAML::ParserException& e) {
            throw ConfigError(fmt::format("{}: invalid YAML: {}", yaml_at(file_, e.mark), e.msg));
        }
        if (!root.IsMap())
            throw ConfigError(fmt::format("{}: a sweep file is a mapping with keys {}; got {}", yaml_at(file_, root.Mark()),
                                          fmt::join(kTopKeys, ", "), yaml_describe(root)));
        spec_.file = file_;
        std::map<std::string, YAML::Node> top = fields(root, "", kTopKeys);
        if (top.count("mode")) spec_.mode = parse_mode(top["mode"]);
        if (top.count("experiment")) experiment(top["experiment"]);
        if (top.count("set")) set_section(top["set"], "");
        hw_images(top);
        if (top.count("grid")) grid(top["grid"]);
        if (top.count("random")) random(top["random"]);
        if (spec_.grid.empty() && spec_.random.empty())
            throw ConfigError(fmt::format("{}: nothing to sweep: give `grid` and/or `random`", yaml_at(file_, root.Mark())));
        check_disjoint();
        objectives(top.count("objectives") ? top["objectives"] : YAML::Node());
        if (top.count("jobs")) spec_.jobs = integer(top["jobs"], "jobs", 0, kMaxJobs);
        return spec_;
    }

private:
    static inline const std::vector<std::string> kTopKeys = {"experiment", "set",     "mode",       "hw_images",
                                                             "grid",       "random",  "objectives", "jobs"};

    std::string where(const YAML::Node& n) const { return yaml_at(file_, n.Mark()); }

    // The entries of a mapping, keyed by name; unknown and duplicate names are errors.
    std::map<std::string, YAML::Node> fields(const YAML::Node& map, const std::string& field,
                                             const std::vector<std::string>& allowed) const {
        std::map<std::string, YAML::Node> out;
        for (const auto& kv : map) {
            const std::string name = kv.first.Scalar();
            const std::string full = field.empty() ? name : field + "." + name;
            if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
                throw ConfigError(fmt::format("{}: unknown key '{}'; allowed{}: {}", where(kv.first), full,
                                              field.empty() ? " at top level" : " in '" + field + "'",
                                              fmt::join(allowed, ", ")));
            if (!out.emplace(name, kv.second).second)
                throw ConfigError(fmt::format("{}: duplicate key '{}'", where(kv.first), full));
        }
        return out;
    }

    std::string scalar(const YAML::Node& n, const std::string& field, const std::string& expected) const {
        if (!n.IsScalar() || n.Scalar().empty())
            throw ConfigError(fmt::format("{}: {}: expected {}, got {}", where(n), field, expected, yaml_describe(n)));
        return n.Scalar();
    }

    int64_t integer(const YAML::Node& n, const std::string& field, int64_t lo, int64_t hi) const {
        int64_t v = 0;
        bool ok = n.IsScalar();
        if (ok) {
            try {
                v = n.as<int64_t>();
            } catch (const YAML::Exception&) {
                ok = false;
            }
        }
        if (!ok || v < lo || v > hi)
            throw ConfigError(fmt::format("{}: {}: expected an integer in [{}, {}], got {}", where(n), field, lo, hi,
                                          yaml_describe(n)));
        return v;
    }

    double real(const YAML::Node& n, const std::string& field) const {
        double v = 0;
        bool ok = n.IsScalar();
        if (ok) {
            try {
                v = n.as<double>();
            } catch (const YAML::Exception&) {
                ok = false;
            }
        }
        if (!ok || !std::isfinite(v))
            throw ConfigError(fmt::format("{}: {}: expected a finite number, got {}", where(n), field, yaml_describe(n)));
        return v;
    }

    bool boolean(const YAML::Node& n, const std::string& field) const {
        bool v = false;
        bool ok = n.IsScalar();
        if (ok) {
            try {
                v = n.as<bool>();
            } catch (const YAML::Exception&) {
                ok = false;
            }
        }
        if (!ok) throw ConfigError(fmt::format("{}: {}: expected true or false, got {}", where(n), field, yaml_describe(n)));
        return v;
    }

    Mode parse_mode(const YAML::Node& n) const {
        const std::string m = scalar(n, "mode", "hardware or functional");
        if (m == "hardware") return Mode::Hardware;
        if (m == "functional") return Mode::Functional;
        throw ConfigError(fmt::format("{}: mode: expected hardware or functional, got '{}'", where(n), m));
    }

    void experiment(const YAML::Node& n) {
        spec_.experiment = join_path(dir_, scalar(n, "experiment", "the path of an experiment file"));
        if (!std::ifstream(spec_.experiment))
            throw ConfigError(fmt::format("{}: experiment: cannot open '{}'", where(n), spec_.experiment));
    }

    void hw_images(std::map<std::string, YAML::Node>& top) {
        if (spec_.mode == Mode::Functional) {
            if (top.count("hw_images"))
                throw ConfigError(fmt::format("{}: hw_images: applies to mode: hardware only (functional mode "
                                              "simulates no hardware)",
                                              where(top["hw_images"])));
            spec_.hw_images = 0;
        } else if (top.count("hw_images")) {
            spec_.hw_images = integer(top["hw_images"], "hw_images", 1, 1000000000);
        }
    }

    // The value of a swept or fixed key as override text: paths and section files resolved against the sweep
    // file's directory, then checked by the schema.
    std::string value_text(const std::string& key, const YAML::Node& value, const std::string& field) const {
        std::string text = set_text(value);
        const ParamSpec* p = schema_.find(key);
        if ((is_section(schema_, key) || (p && p->kind == ParamKind::Path)) && value.IsScalar())
            text = join_path(dir_, text);
        check_assignment(schema_, key + "=" + text, where(value), field);
        return text;
    }

    // `set`: flat dotted keys, or nested mappings of them.
    void set_section(const YAML::Node& n, const std::string& prefix) {
        if (!n.IsMap())
            throw ConfigError(fmt::format("{}: {}: expected a mapping of configuration keys, got {}", where(n),
                                          prefix.empty() ? "set" : "set." + prefix, yaml_describe(n)));
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
            if (!seen.insert(key).second)
                throw ConfigError(fmt::format("{}: duplicate key 'set.{}'", where(kv.first), key));
            if (kv.second.IsMap() && !schema_.find(key)) {
                set_section(kv.second, key);
                continue;
            }
            check_key(schema_, key, where(kv.first), "set." + key);
            spec_.sets.push_back(key + "=" + value_text(key, kv.second, "set." + key));
            fixed_.insert(key);
        }
    }

    void grid(const YAML::Node& n) {
        if (!n.IsMap() || n.size() == 0)
            throw ConfigError(fmt::format("{}: grid: expected a mapping of configuration keys to lists of values, got {}",
                                          where(n), n.IsMap() ? "an empty mapping" : yaml_describe(n)));
        std::set<std::string> seen;
        for (const auto& kv : n) {
            const std::string key = kv.first.Scalar();
            const std::string field = "grid." + key;
            if (!seen.insert(key).second) throw ConfigError(fmt::format("{}: duplicate key '{}'", where(kv.first), field));
            check_key(schema_, key, where(kv.first), field);
            const YAML::Node& values = kv.second;
            if (!values.IsSequence())
                throw ConfigError(fmt::format("{}: {}: expected a list of values, got {}", where(values), field,
                                              yaml_describe(values)));
            if (values.size() == 0)
                throw ConfigError(fmt::format("{}: {}: empty list; give at least one value", where(values), field));
            GridAxis axis{key, {}, {}};
            for (const auto& v : values) {
                axis.values.push_back(value_text(key, v, field));
                axis.where.push_back(where(v));
            }
            spec_.grid.push_back(std::move(axis));
        }
    }

    void random(const YAML::Node& n) {
        if (!n.IsMap())
            throw ConfigError(fmt::format("{}: random: expected a mapping with points, seed and keys, got {}", where(n),
                                          yaml_describe(n)));
        auto f = fields(n, "random", {"points", "seed", "keys"});
        if (!f.count("points"))
            throw ConfigError(fmt::format("{}: random: missing 'points' (how many points to draw)", where(n)));
        if (!f.count("keys"))
            throw ConfigError(fmt::format("{}: random: missing 'keys' (the keys to draw and their ranges)", where(n)));
        spec_.random_points = integer(f["points"], "random.points", 1, 1000000);
        if (f.count("seed")) spec_.random_seed = static_cast<uint64_t>(integer(f["seed"], "random.seed", 0, INT64_MAX));
        const YAML::Node& keys = f["keys"];
        if (!keys.IsMap() || keys.size() == 0)
            throw ConfigError(fmt::format("{}: random.keys: expected a mapping of configuration keys to ranges or "
                                          "lists of choices, got {}",
                                          where(keys), keys.IsMap() ? "an empty mapping" : yaml_describe(keys)));
        std::set<std::string> seen;
        for (const auto& kv : keys) {
            const std::string key = kv.first.Scalar();
            const std::string field = "random.keys." + key;
            if (!seen.insert(key).second) throw ConfigError(fmt::format("{}: duplicate key '{}'", where(kv.first), field));
            check_key(schema_, key, where(kv.first), field);
            spec_.random.push_back(random_key(key, kv.second, field));
        }
    }

    RandomKey random_key(const std::string& key, const YAML::Node& n, const std::string& field) const {
        RandomKey r;
        r.key = key;
        r.where = where(n);
        if (n.IsSequence()) {
            if (n.size() == 0)
                throw ConfigError(fmt::format("{}: {}: empty list; give at least one choice", where(n), field));
            for (const auto& v : n) r.choices.push_back(value_text(key, v, field));
            return r;
        }
        const ParamSpec* p = schema_.find(key);
        if (!n.IsMap())
            throw ConfigError(fmt::format("{}: {}: expected a range {{min, max, log, integer}} or a list of choices, "
                                          "got {}",
                                          where(n), field, yaml_describe(n)));
        if (!p || (p->kind != ParamKind::Int && p->kind != ParamKind::Real))
            throw ConfigError(fmt::format("{}: {}: a range needs a numeric key, and '{}' is {}; give a list of "
                                          "choices",
                                          where(n), field, key, p ? param_kind_name(p->kind) : "a section"));
        auto f = fields(n, field, {"min", "max", "log", "integer"});
        for (const char* bound : {"min", "max"})
            if (!f.count(bound))
                throw ConfigError(fmt::format("{}: {}: missing '{}'", where(n), field, bound));
        r.min = real(f["min"], field + ".min");
        r.max = real(f["max"], field + ".max");
        if (f.count("log")) r.log = boolean(f["log"], field + ".log");
        r.integer = p->kind == ParamKind::Int || (f.count("integer") && boolean(f["integer"], field + ".integer"));
        if (r.min > r.max)
            throw ConfigError(fmt::format("{}: {}: min ({}) > max ({})", where(f["min"]), field, r.min, r.max));
        if (r.log && r.min <= 0)
            throw ConfigError(fmt::format("{}: {}: log needs min > 0, got {}", where(f["min"]), field, r.min));
        if (r.integer) {
            r.min = std::ceil(r.min), r.max = std::floor(r.max);
            if (r.min > r.max)
                throw ConfigError(fmt::format("{}: {}: no integer in [{}, {}]", where(n), field, f["min"].Scalar(),
                                              f["max"].Scalar()));
            // Printed as int64 below: a bound beyond it would be undefined behaviour (found by fuzz/sweep_fuzz.cpp).
            constexpr double kInt64 = 9223372036854775808.0;  // 2^63
            if (r.min < -kInt64 || r.max >= kInt64)
                throw ConfigError(fmt::format("{}: {}: integer range [{}, {}] beyond 64-bit integers", where(n), field,
                                              f["min"].Scalar(), f["max"].Scalar()));
        }
        for (const char* bound : {"min", "max"}) {
            const double v = std::string(bound) == "min" ? r.min : r.max;
            const std::string text = r.integer ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{}", v);
            check_assignment(schema_, key + "=" + text, where(f[bound]), field + "." + bound);
        }
        return r;
    }

    void check_disjoint() const {
        std::set<std::string> swept;
        for (const auto& a : spec_.grid) swept.insert(a.key);
        for (const auto& r : spec_.random) {
            if (swept.count(r.key))
                throw ConfigError(fmt::format("{}: random.keys.{}: also swept in grid; sweep a key in one place",
                                              r.where, r.key));
            swept.insert(r.key);
        }
        for (const auto& k : swept)
            if (fixed_.count(k))
                throw ConfigError(fmt::format("{}: '{}' is both fixed in `set` and swept; remove one", file_, k));
    }

    void objectives(const YAML::Node& n) {
        if (!n.IsDefined() || n.IsNull()) {
            spec_.objectives = {{Metric::EnergyJ, false}};
            if (spec_.mode == Mode::Hardware) spec_.objectives.push_back({Metric::LatencyS, false});
            spec_.objectives.push_back({Metric::Accuracy, true});
            spec_.objectives.push_back({Metric::Cores, false});
            return;
        }
        if (!n.IsMap() || n.size() == 0)
            throw ConfigError(fmt::format("{}: objectives: expected a mapping of metrics ({}) to min or max, got {}",
                                          where(n), "energy_j, latency_s, accuracy, cores",
                                          n.IsMap() ? "an empty mapping" : yaml_describe(n)));
        const std::vector<std::string> names = {"energy_j", "latency_s", "accuracy", "cores"};
        const std::vector<Metric> metrics = {Metric::EnergyJ, Metric::LatencyS, Metric::Accuracy, Metric::Cores};
        fields(n, "objectives", names);  // unknown and duplicate metrics
        for (const auto& kv : n) {
            const std::string name = kv.first.Scalar();
            const size_t i = static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
            if (metrics[i] == Metric::LatencyS && spec_.mode == Mode::Functional)
                throw ConfigError(fmt::format("{}: objectives.latency_s: needs mode: hardware (functional mode "
                                              "measures no latency)",
                                              where(kv.first)));
            const std::string dir = scalar(kv.second, "objectives." + name, "min or max");
            if (dir != "min" && dir != "max")
                throw ConfigError(fmt::format("{}: objectives.{}: expected min or max, got '{}'", where(kv.second),
                                              name, dir));
            spec_.objectives.push_back({metrics[i], dir == "max"});
        }
    }

    const Schema& schema_;
    std::string file_, dir_;
    SweepSpec spec_;
    std::set<std::string> fixed_;
};

// A uniform double in [0, 1) from the generator's next 53 bits: the same on every platform, unlike
// std::uniform_real_distribution.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::string draw(const RandomKey& r, std::mt19937_64& rng) {
    const double u = unit(rng);
    if (!r.choices.empty()) {
        const size_t n = r.choices.size();
        return r.choices[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
    }
    if (r.integer) {
        // Whole numbers in [min, max]: uniform, or log-uniform over [min, max + 1).
        const double v = r.log ? std::exp(std::log(r.min) + u * (std::log(r.max + 1) - std::log(r.min)))
                               : r.min + u * (r.max - r.min + 1);
        return fmt::format("{}", static_cast<int64_t>(std::clamp(std::floor(v), r.min, r.max)));
    }
    double v = r.log ? std::exp(std::log(r.min) + u * (std::log(r.max) - std::log(r.min))) : r.min + u * (r.max - r.min);
    v = std::stod(fmt::format("{:.6g}", v));  // six significant digits keep the tables readable
    return fmt::format("{}", std::clamp(v, r.min, r.max));
}

std::string keyed_hash(const std::string& header, const std::map<std::string, std::string>& dump,
                       bool (*skip)(const std::string&)) {
    uint64_t h = fnv1a64(header);
    for (const auto& [key, value] : dump) {
        if (skip(key)) continue;
        h = fnv1a64(key, h);
        h = fnv1a64("=", h);
        h = fnv1a64(value, h);
        h = fnv1a64("\n", h);
    }
    return hex64(h);
}

}  // namespace

std::string to_string(Mode mode) { return mode == Mode::Hardware ? "hardware" : "functional"; }

std::string to_string(Metric metric) {
    switch (metric) {
        case Metric::Accuracy: return "accuracy";
        case Metric::EnergyJ: return "energy_j";
        case Metric::LatencyS: return "latency_s";
        case Metric::Cores: return "cores";
    }
    return "?";
}

std::vector<std::string> SweepSpec::swept_keys() const {
    std::vector<std::string> keys;
    for (const auto& a : grid) keys.push_back(a.key);
    for (const auto& r : random) keys.push_back(r.key);
    return keys;
}

std::vector<std::string> Point::overrides() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : values) out.push_back(k + "=" + v);
    return out;
}

SweepSpec parse_sweep(const std::string& file, const Schema& schema) {
    std::ifstream in(file);
    if (!in) throw ConfigError(fmt::format("{}: cannot open sweep file", file));
    std::stringstream text;
    text << in.rdbuf();
    const auto slash = file.rfind('/');
    return parse_sweep_text(text.str(), file, slash == std::string::npos ? std::string() : file.substr(0, slash),
                            schema);
}

SweepSpec parse_sweep_text(const std::string& text, const std::string& source, const std::string& base_dir,
                           const Schema& schema) {
    return Parser(schema, source, base_dir).parse(text);
}

std::vector<Point> expand(const SweepSpec& spec) {
    // Random draws first, so that they do not depend on the grid.
    std::vector<std::vector<std::string>> draws;
    if (!spec.random.empty()) {
        std::mt19937_64 rng(spec.random_seed);
        for (int64_t d = 0; d < spec.random_points; ++d) {
            std::vector<std::string> row;
            for (const auto& r : spec.random) row.push_back(draw(r, rng));
            draws.push_back(std::move(row));
        }
    } else {
        draws.emplace_back();
    }
    size_t grid_points = 1;
    for (const auto& a : spec.grid) grid_points *= a.values.size();
    std::vector<Point> points;
    points.reserve(grid_points * draws.size());
    for (size_t g = 0; g < grid_points; ++g) {
        // Row-major: the last grid key varies fastest.
        std::vector<size_t> idx(spec.grid.size());
        size_t rest = g;
        for (size_t k = spec.grid.size(); k-- > 0;) {
            idx[k] = rest % spec.grid[k].values.size();
            rest /= spec.grid[k].values.size();
        }
        for (const auto& row : draws) {
            Point p;
            p.index = points.size();
            for (size_t k = 0; k < spec.grid.size(); ++k) p.values.emplace_back(spec.grid[k].key, spec.grid[k].values[idx[k]]);
            for (size_t k = 0; k < spec.random.size(); ++k) p.values.emplace_back(spec.random[k].key, row[k]);
            points.push_back(std::move(p));
        }
    }
    return points;
}

std::string hex64(uint64_t value) { return fmt::format("{:016x}", value); }

std::string file_digest(const std::string& path) {
    if (path.empty()) return "";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(fmt::format("{}: cannot read the model file", path));
    uint64_t h = fnv1a64("");
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h = fnv1a64(std::string_view(buf.data(), static_cast<size_t>(in.gcount())), h);
    }
    return hex64(h);
}

bool ignored_in_hash(const std::string& key) { return key == "simulation.threads"; }

bool ignored_in_conversion_hash(const std::string& key) {
    return ignored_in_hash(key) || key.compare(0, 5, "chip.") == 0 || key.compare(0, 8, "mapping.") == 0;
}

std::string point_hash(const Settings& settings, Mode mode, int64_t hw_images, const std::string& model_digest) {
    const std::string header = fmt::format("neuroemu explore point {}\nmode={}\nhw_images={}\nmodel={}\n", kCacheFormat,
                                           to_string(mode), hw_images, model_digest);
    return keyed_hash(header, settings.dump(), ignored_in_hash);
}

std::string conversion_hash(const Settings& settings, const std::string& model_digest) {
    const std::string header = fmt::format("neuroemu explore conversion {}\nmodel={}\n", kCacheFormat, model_digest);
    return keyed_hash(header, settings.dump(), ignored_in_conversion_hash);
}

SweepPlan plan_sweep(const SweepSpec& spec, const Schema& schema) {
    SweepPlan plan;
    plan.spec = spec;
    std::map<std::string, std::string> digests;  // model path -> digest
    for (Point& p : expand(spec)) {
        PlannedPoint pp;
        pp.overrides = spec.sets;
        for (const auto& o : p.overrides()) pp.overrides.push_back(o);
        Settings settings;
        try {
            settings = schema.load(spec.experiment, pp.overrides);
        } catch (const ConfigError& e) {
            throw ConfigError(fmt::format("{}: point {} ({}): {}", spec.file, p.index, fmt::join(p.overrides(), ", "),
                                          e.what()));
        }
        const std::string model = settings.has("model.onnx") ? settings.get_path("model.onnx")
                                  : settings.has("model.nir") ? settings.get_path("model.nir") : "";
        auto it = digests.find(model);
        if (it == digests.end()) it = digests.emplace(model, file_digest(model)).first;
        pp.hash = point_hash(settings, spec.mode, spec.hw_images, it->second);
        if (!settings.has("model.nir")) pp.conversion = conversion_hash(settings, it->second);  // NIR: none
        pp.point = std::move(p);
        plan.points.push_back(std::move(pp));
    }
    return plan;
}

}  // namespace neuroemu::explore
