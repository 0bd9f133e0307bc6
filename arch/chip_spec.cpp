#include "arch/chip_spec.h"

#include <fmt/format.h>

#include "arch/chip_fields.h"
#include "common/error.h"

namespace neuroemu {
namespace {

ChipValue setting(const Settings& settings, const ChipField& f) {
    const std::string key = f.config_key();
    switch (f.kind) {
        case ParamKind::Bool: return settings.get_bool(key);
        case ParamKind::Int: return settings.get_int(key);
        case ParamKind::Real: return settings.get_real(key);
        default: return settings.get_string(key);
    }
}

// The rules that tie fields together, which one field's range cannot express.
void check_across_fields(const ChipSpec& chip, const Settings& settings) {
    if ((chip.noc.width == 0) != (chip.noc.height == 0))
        throw ConfigError(settings.where(chip.noc.width == 0 ? "chip.noc.width" : "chip.noc.height") +
                          ": chip.noc.width and chip.noc.height must both be 0 (sized to fit) or both be set");
    // Virtual cut-through: a packet moves only into a buffer that holds all of it (docs/hardware-model.md).
    const int64_t flits = chip.noc.flits_per_event();
    if (chip.noc.buffer_depth < flits)
        throw ConfigError(fmt::format("{}: chip.noc.buffer_depth {} cannot hold one {}-flit AER packet ({} bits at "
                                      "chip.noc.flit_bits {}); buffers must hold a whole packet",
                                      settings.where("chip.noc.buffer_depth"), chip.noc.buffer_depth, flits,
                                      kAerEventBits, chip.noc.flit_bits));
    if (chip.core.input_queue < flits)
        throw ConfigError(fmt::format("{}: chip.core.input_queue {} cannot hold one {}-flit AER packet ({} bits at "
                                      "chip.noc.flit_bits {})",
                                      settings.where("chip.core.input_queue"), chip.core.input_queue, flits,
                                      kAerEventBits, chip.noc.flit_bits));
    if (chip.noc.width == 0 && chip.noc.chips != 1)
        throw ConfigError(settings.where("chip.noc.chips") +
                          ": chip.noc.chips other than 1 needs a fixed chip.noc.width and chip.noc.height");
}

}  // namespace

std::vector<ParamSpec> chip_params() {
    const ChipSpec defaults;
    std::vector<ParamSpec> out;
    for (const ChipField& f : chip_fields()) {
        ParamSpec p(f.config_key(), f.kind, chip_value_text(f.get(defaults)), f.unit, f.help);
        p.range(f.min, f.max);
        if (!f.words.empty()) p.one_of(f.words);
        out.push_back(std::move(p));
    }
    return out;
}

ChipSpec chip_spec(const Settings& settings) {
    ChipSpec chip;
    // The schema has already checked every value against the field's kind and range.
    for (const ChipField& f : chip_fields()) f.set(chip, setting(settings, f));
    check_across_fields(chip, settings);
    return chip;
}

int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons) {
    return (neurons + chip.core.neurons - 1) / chip.core.neurons;
}

const char* to_string(BiasStorage b) { return word_of(b, kBiasStorageWords); }

}  // namespace neuroemu
