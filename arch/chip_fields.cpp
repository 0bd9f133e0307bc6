#include "arch/chip_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "router/multicast/multicast.h"

namespace neuroemu {
namespace {

// A scalar field read and written through `ref`, the one place that names its ChipSpec member.
template <typename T>
ChipField scalar(const char* key, ParamKind kind, T& (*ref)(ChipSpec&), const char* unit, const char* help) {
    ChipField f;
    f.key = key, f.kind = kind, f.unit = unit, f.help = help;
    // `ref` only reads through the const object here.
    f.get = [ref](const ChipSpec& c) -> ChipValue { return ref(const_cast<ChipSpec&>(c)); };
    f.set = [ref](ChipSpec& c, const ChipValue& v) { ref(c) = std::get<T>(v); };
    return f;
}

// A field whose value is one of the words of `table`.
template <typename E, size_t N>
ChipField choice(const char* key, E& (*ref)(ChipSpec&), const EnumWord<E> (&table)[N], const char* help) {
    ChipField f;
    f.key = key, f.kind = ParamKind::Enum, f.help = help, f.words = words_of(table);
    f.get = [ref, &table](const ChipSpec& c) -> ChipValue {
        return std::string(word_of(ref(const_cast<ChipSpec&>(c)), table));
    };
    f.set = [ref, &table](ChipSpec& c, const ChipValue& v) { ref(c) = *enum_of(std::get<std::string>(v), table); };
    return f;
}

// A field whose value names an implementation of `family` (common/registry.h): its words and help come from the
// family's registrations.
ChipField registered(const char* key, std::string& (*ref)(ChipSpec&), const FamilyInfo& family) {
    ChipSpec defaults;
    ChipField f = scalar(key, ParamKind::Enum, ref, "", family.selector(ref(defaults)).help.c_str());
    f.words = family.names();
    return f;
}

std::vector<ChipField> declare_fields() {
    using K = ParamKind;
    return {
        scalar("name", K::String, +[](ChipSpec& c) -> std::string& { return c.name; }, "",
               "Name of the chip description, for reports."),
        scalar("clock_hz", K::Real, +[](ChipSpec& c) -> double& { return c.clock_hz; }, "Hz",
               "Clock of the digital logic: routers, links and synaptic-operation engines.")
            .range(1, 1e12),
        scalar("core.neurons", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.neurons; }, "neurons",
               "Neurons per core (ROLLS, Qiao et al. 2015: 256). Partial-sum units and spike gates take a neuron "
               "slot too.")
            .range(1, 1 << 24),
        scalar("core.synapses", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.synapses; }, "synapses",
               "Synapse memory entries per core (ROLLS: 256x256 plastic + 256x256 non-plastic = 128K).")
            .range(1, 1e12),
        scalar("core.fan_in", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.fan_in; }, "synapses",
               "Most distinct inputs one neuron may have (ROLLS: 256 + 256).")
            .range(1, 1e9),
        scalar("core.weight_bits", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.weight_bits; }, "bits",
               "Bits per synapse entry; sizes the synapse memory in reports (the mapper does not quantise).")
            .range(1, 64),
        scalar("core.weight_sharing", K::Bool, +[](ChipSpec& c) -> bool& { return c.core.weight_sharing; }, "",
               "A core stores each convolution kernel once for all its neurons (false: a crossbar, one entry per "
               "synapse)."),
        choice("core.bias", +[](ChipSpec& c) -> BiasStorage& { return c.core.bias; }, kBiasStorageWords,
               "How a neuron's constant bias current is held: `register` (outside synapse memory) or `synapse` "
               "(one synapse entry and one input per neuron, driven each step by a core-local source)."),
        scalar("core.sops_per_cycle", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.sops_per_cycle; },
               "SOPs/cycle",
               "Synaptic operations per cycle of a core's synapse engine (a crossbar drives a whole row: 256).")
            .range(1, 1 << 20),
        scalar("core.neuron_updates_per_cycle", K::Int,
               +[](ChipSpec& c) -> int64_t& { return c.core.neuron_updates_per_cycle; }, "neurons/cycle",
               "Neurons a core updates (threshold, fire, reset) per cycle before it sends a step's spikes.")
            .range(1, 1 << 20),
        scalar("core.input_queue", K::Int, +[](ChipSpec& c) -> int64_t& { return c.core.input_queue; }, "flits",
               "Event queue between a core's router port and its synapse engine.")
            .range(1, 1 << 20),
        scalar("noc.width", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.width; }, "cores",
               "Cores per chip along x of the 2-D mesh; 0 (with height 0) = a near-square mesh sized to fit.")
            .range(0, 1 << 15),
        scalar("noc.height", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.height; }, "cores",
               "Cores per chip along y; 0 = sized to fit.")
            .range(0, 1 << 15),
        scalar("noc.chips", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.chips; }, "chips",
               "Chips joined by inter-chip links in a near-square grid; 0 = as many as the network needs (needs a "
               "fixed width and height).")
            .range(0, 1 << 20),
        scalar("noc.buffer_depth", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.buffer_depth; }, "flits",
               "Input buffer of each router port.")
            .range(1, 1 << 20),
        scalar("noc.flit_bits", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.flit_bits; }, "bits",
               "Flit and link width.")
            .range(1, 4096),
        scalar("noc.pipeline_cycles", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.pipeline_cycles; },
               "cycles", "Router pipeline delay per hop.")
            .range(0, 1 << 20),
        scalar("noc.link_cycles", K::Int, +[](ChipSpec& c) -> int64_t& { return c.noc.link_cycles; }, "cycles",
               "On-chip link traversal per flit.")
            .range(1, 1 << 20),
        scalar("noc.inter_chip_link_cycles", K::Int,
               +[](ChipSpec& c) -> int64_t& { return c.noc.inter_chip_link_cycles; }, "cycles",
               "Chip-to-chip link traversal per flit.")
            .range(1, 1 << 20),
        registered("noc.multicast", +[](ChipSpec& c) -> std::string& { return c.noc.multicast; }, multicasts()),
    };
}

std::string range_text(const ChipField& f) {
    const bool lo = std::isfinite(f.min), hi = std::isfinite(f.max);
    if (lo && hi) return fmt::format(" in [{}, {}]", f.min, f.max);
    if (lo) return fmt::format(" >= {}", f.min);
    if (hi) return fmt::format(" <= {}", f.max);
    return "";
}

// The shorter of the plain and the exponent form that reads back to `v` ("1e8" rather than "100000000").
std::string real_text(double v) {
    const std::string plain = fmt::format("{}", v);
    for (int digits = 0; digits < 17; ++digits) {
        std::string e = fmt::format("{:.{}e}", v, digits);
        if (std::strtod(e.c_str(), nullptr) != v) continue;
        const size_t at = e.find('e');
        const int exponent = std::atoi(e.c_str() + at + 1);
        e = e.substr(0, at) + "e" + std::to_string(exponent);
        return e.size() < plain.size() ? e : plain;
    }
    return plain;
}

}  // namespace

const std::vector<ChipField>& chip_fields() {
    static const std::vector<ChipField> fields = declare_fields();
    return fields;
}

std::string chip_value_expected(const ChipField& f) {
    switch (f.kind) {
        case ParamKind::Bool: return "true or false";
        case ParamKind::Int: return "an integer" + range_text(f);
        case ParamKind::Real: return "a finite number" + range_text(f);
        case ParamKind::Enum: return fmt::format("one of {}", fmt::join(f.words, ", "));
        default: return "a string";
    }
}

std::string check_chip_value(const ChipField& f, const ChipValue& value) {
    bool ok = false;
    switch (f.kind) {
        case ParamKind::Bool: ok = std::holds_alternative<bool>(value); break;
        case ParamKind::Int: {
            const auto* v = std::get_if<int64_t>(&value);
            ok = v != nullptr && static_cast<double>(*v) >= f.min && static_cast<double>(*v) <= f.max;
            break;
        }
        case ParamKind::Real: {
            const auto* v = std::get_if<double>(&value);
            ok = v != nullptr && std::isfinite(*v) && *v >= f.min && *v <= f.max;
            break;
        }
        case ParamKind::Enum: {
            const auto* v = std::get_if<std::string>(&value);
            ok = v != nullptr && std::find(f.words.begin(), f.words.end(), *v) != f.words.end();
            break;
        }
        default: ok = std::holds_alternative<std::string>(value); break;
    }
    return ok ? "" : chip_value_expected(f);
}

std::string chip_value_text(const ChipValue& value) {
    struct Text {
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return real_text(d); }
        std::string operator()(const std::string& s) const { return s; }
    };
    return std::visit(Text{}, value);
}

}  // namespace neuroemu
