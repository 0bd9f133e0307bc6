// The one declaration of every field of the chip description (ChipSpec): its key, kind, unit, meaning, allowed
// range or words, and how to read and write it in a ChipSpec. The `chip.*` configuration keys (chip_params),
// their parsing (chip_spec), the `.map` file's chip header and its range checks are all derived from this table;
// the defaults are ChipSpec's member initialisers. Adding a field is one entry here (and its struct member).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "arch/chip_spec.h"
#include "common/config.h"

namespace neuroemu {

// A field's value: Bool, Int, Real, String; an Enum field's value is its word.
using ChipValue = std::variant<bool, int64_t, double, std::string>;

struct ChipField {
    std::string key;  // under `chip.`, e.g. "core.neurons"; the `.map` header nests the same path
    ParamKind kind = ParamKind::Int;
    std::string unit;  // "" when dimensionless
    std::string help;  // one sentence for docs/config.md; an Enum's help names every word in backquotes
    double min = -std::numeric_limits<double>::infinity();  // Int and Real
    double max = std::numeric_limits<double>::infinity();
    std::vector<std::string> words;  // Enum: the allowed words, in documentation order
    std::function<ChipValue(const ChipSpec&)> get;
    std::function<void(ChipSpec&, const ChipValue&)> set;  // `value` must already pass check_chip_value

    std::string config_key() const { return "chip." + key; }
    ChipField& range(double lo, double hi) { return min = lo, max = hi, *this; }
};

// Every field, in the order of docs/config.md.
const std::vector<ChipField>& chip_fields();

// What the field accepts: "an integer in [1, 16777216]", "one of tree, source", "true or false".
std::string chip_value_expected(const ChipField& field);
// "" when `value` has the field's type and lies in its range or words; otherwise chip_value_expected(field).
std::string check_chip_value(const ChipField& field, const ChipValue& value);

// A value as YAML text: the configuration default of the field, and the form of values in messages.
std::string chip_value_text(const ChipValue& value);

}  // namespace neuroemu
