// Configuration: parameter declarations, YAML validation and validated settings.
//
// Each pipeline stage declares its keys (name, type, default, unit, meaning, allowed range) next to the code
// that uses them, as a list of ParamSpec. The CLI assembles them into one Schema, which validates a YAML
// experiment file plus `--set key=value` overrides into Settings and generates docs/config.md. Unknown keys,
// wrong types and out-of-range values are ConfigErrors carrying file:line:column and the key path.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace neuroemu {

enum class ParamKind { Bool, Int, Real, String, Path, Enum, IntList, RealList };

struct ParamSpec {
    std::string key;           // dotted path, e.g. "model.input"
    ParamKind kind = ParamKind::String;
    std::string default_yaml;  // default as YAML text; "" means "unset" (the key is optional)
    std::string unit;          // physical unit, "" when dimensionless
    std::string help;          // one sentence: what it means
    double min = -std::numeric_limits<double>::infinity();  // Int/Real values and list elements
    double max = std::numeric_limits<double>::infinity();
    std::vector<std::string> choices;  // Enum
    size_t min_items = 0, max_items = 1u << 20;  // lists

    ParamSpec(std::string key_, ParamKind kind_, std::string default_yaml_, std::string unit_, std::string help_)
        : key(std::move(key_)), kind(kind_), default_yaml(std::move(default_yaml_)), unit(std::move(unit_)),
          help(std::move(help_)) {}
    ParamSpec& range(double lo, double hi) { return min = lo, max = hi, *this; }
    ParamSpec& one_of(std::vector<std::string> names) { return choices = std::move(names), *this; }
    ParamSpec& items(size_t lo, size_t hi) { return min_items = lo, max_items = hi, *this; }
};

struct SectionSpec {
    std::string name;
    std::string help;
};

using ParamValue =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

class Settings {
public:
    bool has(const std::string& key) const;  // set (by default, file or --set) and not null
    bool get_bool(const std::string& key) const;
    int64_t get_int(const std::string& key) const;
    double get_real(const std::string& key) const;
    const std::string& get_string(const std::string& key) const;
    // A Path value resolved against the directory of the file that set it.
    std::string get_path(const std::string& key) const;
    const std::vector<int64_t>& get_ints(const std::string& key) const;
    const std::vector<double>& get_reals(const std::string& key) const;
    // Where the value came from: "file.yaml:3:10", "--set key=value" or "default".
    const std::string& where(const std::string& key) const;
    // The file that set the value, "" for defaults and --set.
    const std::string& source_file(const std::string& key) const;
    // Every key with its value as YAML-like text, in key order (for reports and --json).
    std::map<std::string, std::string> dump() const;

    struct Entry {
        ParamValue value;
        std::string where = "default";
        std::string file;
        std::string base_dir;
    };
    void put(const std::string& key, Entry entry) { entries_[key] = std::move(entry); }

private:
    const Entry& entry(const std::string& key) const;
    std::map<std::string, Entry> entries_;
};

class Schema {
public:
    Schema(std::vector<SectionSpec> sections, std::vector<ParamSpec> params);

    const ParamSpec* find(const std::string& key) const;
    const std::vector<ParamSpec>& params() const { return params_; }
    const std::vector<SectionSpec>& sections() const { return sections_; }

    // Defaults, then the YAML file (if `yaml_file` is not empty), then each "key=value" override in order.
    Settings load(const std::string& yaml_file, const std::vector<std::string>& overrides = {}) const;
    // Same from YAML text; `source` names it in messages, `base_dir` resolves relative paths.
    Settings parse(const std::string& yaml_text, const std::string& source, const std::string& base_dir,
                   const std::vector<std::string>& overrides = {}) const;

    // The reference documentation (docs/config.md), generated from the declarations.
    std::string markdown() const;

private:
    std::vector<SectionSpec> sections_;
    std::vector<ParamSpec> params_;
};

std::string param_kind_name(ParamKind kind);

// The name in `names` closest to `word` by edit distance, if within two edits; "" otherwise. For "did you mean".
std::string closest_name(const std::string& word, const std::vector<std::string>& names);

// A value given outside YAML (a command-line option's text), converted and checked exactly as `spec` declares, so
// an option that sets a key has that key's bounds. Throws ConfigError "<where>: expected <what spec allows>, got
// '<text>'".
ParamValue parse_param_text(const ParamSpec& spec, const std::string& text, const std::string& where);

}  // namespace neuroemu
