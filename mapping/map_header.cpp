// The `.map` file's JSON header: model, chip (from the field table, arch/chip_fields.h), mesh, host, graph and
// layers. Names are JSON strings, hence UTF-8.
#include <fmt/format.h>

#include <array>
#include <limits>
#include <optional>

#include "arch/chip_fields.h"
#include "mapping/map_file_parts.h"

namespace neuroemu {
namespace {

using ordered_json = nlohmann::ordered_json;

// ---- writing --------------------------------------------------------------------------------------------------

// The `chip` section as in a YAML experiment file: "core.neurons" is chip.core.neurons.
ordered_json chip_json(const ChipSpec& chip) {
    ordered_json out = ordered_json::object();
    for (const ChipField& f : chip_fields()) {
        ordered_json* at = &out;
        size_t begin = 0;
        for (size_t dot; (dot = f.key.find('.', begin)) != std::string::npos; begin = dot + 1)
            at = &(*at)[f.key.substr(begin, dot - begin)];
        (*at)[f.key.substr(begin)] = std::visit([](const auto& v) { return ordered_json(v); }, f.get(chip));
    }
    return out;
}

ordered_json input_json(const UnitInput& in) {
    const Window2d& w = in.window;
    ordered_json out = {{"source", in.source == kHostSource ? ordered_json("host") : ordered_json(in.source)},
            {"pattern", to_string(in.pattern)},
            {"kernel", {w.kernel_h, w.kernel_w}},
            {"stride", {w.stride_h, w.stride_w}},
            {"pads", {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right}},
            {"ceil_mode", w.ceil_mode},
            {"channels", {in.c0, in.c1}},
            {"fan_in", in.fan_in},
            {"projection", in.projection}};
    if (in.recurrent) out["recurrent"] = true;  // written only when set: files without recurrence keep their bytes
    return out;
}

ordered_json layer_json(const MapLayer& l) {
    ordered_json inputs = ordered_json::array();
    for (const UnitInput& in : l.inputs) inputs.push_back(input_json(in));
    return {{"name", l.name},
            {"kind", to_string(l.kind)},
            {"population", l.population},
            {"part", l.part},
            {"shape", {l.channels, l.height, l.width}},
            {"bias", l.bias},
            {"rate", l.rate},
            {"tile", {l.tile_c, l.tile_h, l.tile_w}},
            {"tiles", {l.tiles_c, l.tiles_h, l.tiles_w}},
            {"first_core", l.first_core},
            {"cores", l.cores},
            {"binding", l.binding},
            {"inputs", std::move(inputs)}};
}

// ---- reading --------------------------------------------------------------------------------------------------

// `header: <path>`, the place of a header value in errors.
auto at(const std::string& path) {
    return [path] { return "header: " + path; };
}

template <typename T, size_t N>
std::array<T, N> integers(const JsonReader& r, const json& obj, const char* key, const std::string& path) {
    const std::string here = path + "." + key;
    const json& list = r.list(r.field(obj, key, "header: " + path), N, at(here));
    std::array<T, N> out{};
    for (size_t k = 0; k < N; ++k) out[k] = r.integer<T>(list[k], at(fmt::format("{}[{}]", here, k)));
    return out;
}

template <typename T>
T integer(const JsonReader& r, const json& obj, const char* key, const std::string& path) {
    return r.integer<T>(r.field(obj, key, "header: " + path), at(path + "." + key));
}

// A chip field's JSON value as the field's kind, in the field's range or words.
ChipValue chip_value(const JsonReader& r, const ChipField& f, const json& v, const std::string& path) {
    std::optional<ChipValue> out;
    if (f.kind == ParamKind::Bool && v.is_boolean()) out = v.get<bool>();
    if (f.kind == ParamKind::Int && v.is_number_integer() &&
        (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
        out = v.get<int64_t>();
    if (f.kind == ParamKind::Real && v.is_number()) out = v.get<double>();
    if ((f.kind == ParamKind::String || f.kind == ParamKind::Enum) && v.is_string()) out = v.get<std::string>();
    if (!out || !check_chip_value(f, *out).empty())
        r.fail("header: " + path, fmt::format("expected {}, found {}", chip_value_expected(f), describe(v)));
    return *out;
}

// Fields of `obj` (at `path`, relative `prefix`) that no chip field declares.
void refuse_unknown_chip_fields(const JsonReader& r, const json& obj, const std::string& path,
                                const std::string& prefix) {
    for (const auto& item : obj.items()) {
        const std::string key = prefix + item.key();
        bool known = false, parent = false;
        for (const ChipField& f : chip_fields()) {
            known = known || f.key == key;
            parent = parent || f.key.rfind(key + ".", 0) == 0;
        }
        if (parent && item.value().is_object())
            refuse_unknown_chip_fields(r, item.value(), path + "." + item.key(), key + ".");
        else if (!known && !parent)
            r.fail("header: " + path, fmt::format("unexpected field '{}'", item.key()));
    }
}

ChipSpec read_chip(const JsonReader& r, const json& chip) {
    ChipSpec spec;
    for (const ChipField& f : chip_fields()) {
        const json* v = &chip;
        std::string path = "chip";
        size_t begin = 0;
        for (size_t dot = 0; dot != std::string::npos; begin = dot + 1) {
            dot = f.key.find('.', begin);
            const std::string part = f.key.substr(begin, dot == std::string::npos ? dot : dot - begin);
            v = &r.field(*v, part.c_str(), "header: " + path);
            path += "." + part;
        }
        f.set(spec, chip_value(r, f, *v, path));
    }
    refuse_unknown_chip_fields(r, chip, "chip", "");
    return spec;
}

UnitInput read_input(const JsonReader& r, const json& v, const std::string& path) {
    r.only(v,
           {"source", "pattern", "kernel", "stride", "pads", "ceil_mode", "channels", "fan_in", "projection",
            "recurrent"},
           "header: " + path);
    UnitInput in;
    const json& source = r.field(v, "source", "header: " + path);
    // The host is spelt "host" only: a negative number is a damaged field, not kHostSource.
    if (source == "host") {
        in.source = kHostSource;
    } else {
        in.source = r.integer<int>(source, at(path + ".source"));
        if (in.source < 0)
            r.fail("header: " + path + ".source", fmt::format("expected \"host\" or a layer index, "
                                                              "found {}",
                                                              in.source));
    }
    in.pattern = r.choice(r.field(v, "pattern", "header: " + path),
                          {InputPattern::Conv, InputPattern::Window, InputPattern::OneToOne, InputPattern::Dense,
                           InputPattern::Explicit},
                          at(path + ".pattern"));
    Window2d& w = in.window;
    std::tie(w.kernel_h, w.kernel_w) = std::tuple_cat(integers<int, 2>(r, v, "kernel", path));
    std::tie(w.stride_h, w.stride_w) = std::tuple_cat(integers<int, 2>(r, v, "stride", path));
    std::tie(w.pad_top, w.pad_left, w.pad_bottom, w.pad_right) = std::tuple_cat(integers<int, 4>(r, v, "pads", path));
    w.ceil_mode = r.flag(r.field(v, "ceil_mode", "header: " + path), at(path + ".ceil_mode"));
    std::tie(in.c0, in.c1) = std::tuple_cat(integers<int64_t, 2>(r, v, "channels", path));
    in.fan_in = integer<int64_t>(r, v, "fan_in", path);
    in.projection = r.text(r.field(v, "projection", "header: " + path), at(path + ".projection"));
    if (v.contains("recurrent")) in.recurrent = r.flag(v["recurrent"], at(path + ".recurrent"));
    return in;
}

MapLayer read_layer(const JsonReader& r, const json& v, const std::string& path) {
    r.only(v,
           {"name", "kind", "population", "part", "shape", "bias", "rate", "tile", "tiles", "first_core", "cores",
            "binding", "inputs"},
           "header: " + path);
    MapLayer l;
    l.name = r.text(r.field(v, "name", "header: " + path), at(path + ".name"));
    l.kind = r.choice(r.field(v, "kind", "header: " + path),
                      {UnitKind::Neuron, UnitKind::Readout, UnitKind::Gate, UnitKind::Current, UnitKind::Partial},
                      at(path + ".kind"));
    l.population = integer<int>(r, v, "population", path);
    l.part = integer<int>(r, v, "part", path);
    std::tie(l.channels, l.height, l.width) = std::tuple_cat(integers<int64_t, 3>(r, v, "shape", path));
    l.bias = r.flag(r.field(v, "bias", "header: " + path), at(path + ".bias"));
    l.rate = r.real(r.field(v, "rate", "header: " + path), at(path + ".rate"));
    std::tie(l.tile_c, l.tile_h, l.tile_w) = std::tuple_cat(integers<int64_t, 3>(r, v, "tile", path));
    std::tie(l.tiles_c, l.tiles_h, l.tiles_w) = std::tuple_cat(integers<int64_t, 3>(r, v, "tiles", path));
    l.first_core = integer<int64_t>(r, v, "first_core", path);
    l.cores = integer<int64_t>(r, v, "cores", path);
    l.binding = r.text(r.field(v, "binding", "header: " + path), at(path + ".binding"));
    const json& inputs = r.list(r.field(v, "inputs", "header: " + path), -1, at(path + ".inputs"));
    for (size_t k = 0; k < inputs.size(); ++k)
        l.inputs.push_back(read_input(r, inputs[k], fmt::format("{}.inputs[{}]", path, k)));
    return l;
}

}  // namespace

nlohmann::ordered_json mapping_header(const Mapping& mapping) {
    const MapGraph& graph = mapping.graph;
    ordered_json layers = ordered_json::array();
    for (const MapLayer& l : graph.layers) layers.push_back(layer_json(l));
    return {{"model", mapping.model},
            {"chip", chip_json(mapping.chip)},
            {"mesh",
             {{"chip_width", mapping.mesh.chip_width},
              {"chip_height", mapping.mesh.chip_height},
              {"chips_x", mapping.mesh.chips_x},
              {"chips_y", mapping.mesh.chips_y}}},
            {"host", {{"x", mapping.host_x}, {"y", mapping.host_y}}},
            {"graph",
             {{"model", graph.model},
              {"host_channels", graph.host_channels},
              {"host_height", graph.host_height},
              {"host_width", graph.host_width},
              {"host_rate", graph.host_rate}}},
            {"layers", std::move(layers)}};
}

void read_mapping_header(const JsonReader& r, const json& h, Mapping& mapping) {
    mapping.model = r.text(r.field(h, "model", "header"), at("model"));
    mapping.chip = read_chip(r, r.field(h, "chip", "header"));

    const json& mesh = r.field(h, "mesh", "header");
    r.only(mesh, {"chip_width", "chip_height", "chips_x", "chips_y"}, "header: mesh");
    mapping.mesh.chip_width = integer<int32_t>(r, mesh, "chip_width", "mesh");
    mapping.mesh.chip_height = integer<int32_t>(r, mesh, "chip_height", "mesh");
    mapping.mesh.chips_x = integer<int32_t>(r, mesh, "chips_x", "mesh");
    mapping.mesh.chips_y = integer<int32_t>(r, mesh, "chips_y", "mesh");
    const json& host = r.field(h, "host", "header");
    r.only(host, {"x", "y"}, "header: host");
    mapping.host_x = integer<int32_t>(r, host, "x", "host");
    mapping.host_y = integer<int32_t>(r, host, "y", "host");

    const json& graph = r.field(h, "graph", "header");
    r.only(graph, {"model", "host_channels", "host_height", "host_width", "host_rate"}, "header: graph");
    MapGraph& g = mapping.graph;
    g.model = r.text(r.field(graph, "model", "header: graph"), at("graph.model"));
    g.host_channels = integer<int64_t>(r, graph, "host_channels", "graph");
    g.host_height = integer<int64_t>(r, graph, "host_height", "graph");
    g.host_width = integer<int64_t>(r, graph, "host_width", "graph");
    g.host_rate = r.real(r.field(graph, "host_rate", "header: graph"), at("graph.host_rate"));

    const json& layers = r.list(r.field(h, "layers", "header"), -1, at("layers"));
    for (size_t i = 0; i < layers.size(); ++i)
        g.layers.push_back(read_layer(r, layers[i], fmt::format("layers[{}]", i)));
}

}  // namespace neuroemu
