#include "arch/chip_spec.h"

#include <fmt/format.h>

#include "arch/chip_fields.h"
#include "common/error.h"

namespace neuroemu {
namespace {

ChipValue setting(const Settings& s, const ChipField& f) {
    const std::string key = f.config_key();
    switch (f.kind) {
        case ParamKind::Bool: return s.get_bool(key);
        case ParamKind::Int: return s.get_int(key);
        case ParamKind::Real: return s.get_real(key);
        default: return s.get_string(key);
    }
}

// The rules that tie fields together, which one field's range cannot express.
void check_across_fields(const ChipSpec& c, const Settings& s) {
    if ((c.noc.width == 0) != (c.noc.height == 0))
        throw ConfigError(s.where(c.noc.width == 0 ? "chip.noc.width" : "chip.noc.height") +
                          ": chip.noc.width and chip.noc.height must both be 0 (sized to fit) or both be set");
    // Virtual cut-through: a packet moves only into a buffer that holds all of it (docs/hardware-model.md).
    const int64_t flits = c.noc.flits_per_event();
    if (c.noc.buffer_depth < flits)
        throw ConfigError(fmt::format("{}: chip.noc.buffer_depth {} cannot hold one {}-flit AER packet ({} bits at "
                                      "chip.noc.flit_bits {}); buffers must hold a whole packet",
                                      s.where("chip.noc.buffer_depth"), c.noc.buffer_depth, flits, kAerEventBits,
                                      c.noc.flit_bits));
    if (c.core.input_queue < flits)
        throw ConfigError(fmt::format("{}: chip.core.input_queue {} cannot hold one {}-flit AER packet ({} bits at "
                                      "chip.noc.flit_bits {})",
                                      s.where("chip.core.input_queue"), c.core.input_queue, flits, kAerEventBits,
                                      c.noc.flit_bits));
    if (c.noc.width == 0 && c.noc.chips != 1)
        throw ConfigError(s.where("chip.noc.chips") +
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

ChipSpec chip_spec(const Settings& s) {
    ChipSpec c;
    // The schema has already checked every value against the field's kind and range.
    for (const ChipField& f : chip_fields()) f.set(c, setting(s, f));
    check_across_fields(c, s);
    return c;
}

int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons) {
    return (neurons + chip.core.neurons - 1) / chip.core.neurons;
}

const char* to_string(BiasStorage b) { return word_of(b, kBiasStorageWords); }

}  // namespace neuroemu
