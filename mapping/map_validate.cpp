// validate_mapping: the consistency of a mapping, checked before a `.map` file is written and after one is read.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "arch/chip_fields.h"
#include "common/error.h"
#include "mapping/map_file.h"

namespace neuroemu {
namespace {

// Units per layer, as the .snn format bounds a population (model/snn.cpp); keeps units() and slice arithmetic far
// from int64 overflow whatever a file says.
constexpr int64_t kMaxUnits = INT64_C(1) << 32;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// Throws validate_mapping's DataError, "<where>: <what>"; `what` names the item ("core 17: ...").
struct Fail {
    const std::string& where;
    [[noreturn]] void operator()(const std::string& what) const { throw DataError(fmt::format("{}: {}", where, what)); }
};

void at_least(const Fail& fail, const char* item, const char* field, int64_t v, int64_t lo) {
    if (v < lo) fail(fmt::format("{}: {} {} must be >= {}", item, field, v, lo));
}

// The chip description's own ranges and words (arch/chip_fields.h), as the configuration checks them.
void check_chip(const ChipSpec& chip, const Fail& fail) {
    for (const ChipField& f : chip_fields()) {
        const ChipValue v = f.get(chip);
        const std::string expected = check_chip_value(f, v);
        if (!expected.empty()) fail(fmt::format("{}: {} is not {}", f.config_key(), chip_value_text(v), expected));
    }
}

// Returns the mesh's routers along x and y.
std::pair<int64_t, int64_t> check_mesh(const Mapping& mapping, const Fail& fail) {
    const Mesh& mesh = mapping.mesh;
    at_least(fail, "mesh", "chip_width", mesh.chip_width, 1);
    at_least(fail, "mesh", "chip_height", mesh.chip_height, 1);
    at_least(fail, "mesh", "chips_x", mesh.chips_x, 1);
    at_least(fail, "mesh", "chips_y", mesh.chips_y, 1);
    // Mesh::width() multiplies in int32.
    const int64_t width = int64_t{mesh.chip_width} * mesh.chips_x, height = int64_t{mesh.chip_height} * mesh.chips_y;
    if (width > kInt32Max || height > kInt32Max) fail(fmt::format("mesh: {} x {} routers is too large", width, height));
    if (mapping.host_x < 0 || mapping.host_x >= width || mapping.host_y < 0 || mapping.host_y >= height)
        fail(fmt::format("mesh: host position ({}, {}) is outside the {} x {} mesh", mapping.host_x, mapping.host_y,
                         width, height));
    return {width, height};
}

// An explicit input's synapse list: rows for every source unit, targets inside the layer, ascending per row.
template <typename InputFail>
void check_explicit(const MapGraph& graph, int64_t i, const UnitInput& in, const InputFail& input_fail) {
    if (in.pattern != InputPattern::Explicit) {
        if (in.synapses) input_fail("a synapse list belongs to an explicit input only");
        return;
    }
    if (!in.synapses) input_fail("an explicit input needs its synapse list");
    const ExplicitSynapses& e = *in.synapses;
    const MapLayer& l = graph.layers[static_cast<size_t>(i)];
    const int64_t source_units =
        in.source == kHostSource ? graph.host_channels * graph.host_height * graph.host_width
                                 : graph.layers[static_cast<size_t>(in.source)].units();
    if (static_cast<int64_t>(e.ptr.size()) != source_units + 1 || e.ptr.front() != 0 ||
        static_cast<int64_t>(e.target.size()) != e.ptr.back())
        input_fail(fmt::format("synapse rows: {} row offsets and {} targets, expected {} offsets from 0 ending at the "
                               "target count",
                               e.ptr.size(), e.target.size(), source_units + 1));
    for (size_t u = 0; u + 1 < e.ptr.size(); ++u) {
        if (e.ptr[u + 1] < e.ptr[u]) input_fail(fmt::format("synapse row {} ends before it starts", u));
        for (int32_t k = e.ptr[u]; k < e.ptr[u + 1]; ++k) {
            const int32_t t = e.target[static_cast<size_t>(k)];
            if (t < 0 || t >= l.units() || (k > e.ptr[u] && t <= e.target[static_cast<size_t>(k) - 1]))
                input_fail(fmt::format("synapse row {}: target {} must be a unit of the layer (0 to {}), ascending "
                                       "within the row",
                                       u, t, l.units() - 1));
        }
    }
}

void check_input(const MapGraph& graph, int64_t i, size_t k, const Fail& fail) {
    const UnitInput& in = graph.layers[static_cast<size_t>(i)].inputs[k];
    auto input_fail = [&](const std::string& what) { fail(fmt::format("layer {} input {}: {}", i, k, what)); };
    const auto layers = static_cast<int64_t>(graph.layers.size());
    if (in.source != kHostSource && in.recurrent && (in.source < 0 || in.source >= layers))
        input_fail(fmt::format("source {} must be the host or a layer (0 to {}) for a recurrent input", in.source,
                               layers - 1));
    if (in.source != kHostSource && !in.recurrent && (in.source < 0 || in.source >= i))
        input_fail(fmt::format("source {} must be the host or an earlier layer (0 to {}); only a recurrent input "
                               "may read its own or a later layer",
                               in.source, i - 1));
    const Window2d& w = in.window;
    if (w.kernel_h < 1 || w.kernel_w < 1 || w.stride_h < 1 || w.stride_w < 1)
        input_fail(fmt::format("kernel {} x {} and stride {} x {} must be >= 1", w.kernel_h, w.kernel_w, w.stride_h,
                               w.stride_w));
    if (w.pad_top < 0 || w.pad_left < 0 || w.pad_bottom < 0 || w.pad_right < 0)
        input_fail(
            fmt::format("pads {} {} {} {} must not be negative", w.pad_top, w.pad_left, w.pad_bottom, w.pad_right));
    const int64_t source_channels =
        in.source == kHostSource ? graph.host_channels : graph.layers[static_cast<size_t>(in.source)].channels;
    if (in.c0 < 0 || in.c0 > in.c1 || in.c1 > source_channels)
        input_fail(fmt::format("channels {} to {} are not a range inside the source's {} channels", in.c0, in.c1,
                               source_channels));
    if (in.fan_in < 0) input_fail(fmt::format("fan_in {} must not be negative", in.fan_in));
    check_explicit(graph, i, in, input_fail);
}

// The layers, whose core ranges must cover `cores` cores in order.
void check_layers(const MapGraph& graph, int64_t cores, const Fail& fail) {
    at_least(fail, "graph", "host channels", graph.host_channels, 0);
    at_least(fail, "graph", "host height", graph.host_height, 0);
    at_least(fail, "graph", "host width", graph.host_width, 0);
    if (!(std::isfinite(graph.host_rate) && graph.host_rate >= 0))
        fail(fmt::format("graph: host rate {} must be a finite number >= 0", graph.host_rate));

    const int64_t layers = static_cast<int64_t>(graph.layers.size());
    if (layers > std::numeric_limits<int>::max()) fail(fmt::format("{} layers are too many", layers));
    int64_t next_core = 0;
    for (int64_t i = 0; i < layers; ++i) {
        const MapLayer& l = graph.layers[static_cast<size_t>(i)];
        auto layer_fail = [&](const std::string& what) { fail(fmt::format("layer {}: {}", i, what)); };
        if (l.channels < 1 || l.height < 1 || l.width < 1 || l.channels > kMaxUnits || l.height > kMaxUnits ||
            l.width > kMaxUnits || l.height > kMaxUnits / l.channels || l.width > kMaxUnits / (l.channels * l.height))
            layer_fail(fmt::format("shape {} x {} x {} must be at least 1 x 1 x 1 and hold at most {} units",
                                   l.channels, l.height, l.width, kMaxUnits));
        if (l.population < -1) layer_fail(fmt::format("population {} must be >= -1", l.population));
        if (l.part < -1) layer_fail(fmt::format("part {} must be >= -1", l.part));
        if (!(std::isfinite(l.rate) && l.rate >= 0))
            layer_fail(fmt::format("rate {} must be a finite number >= 0", l.rate));
        if (l.tile_c < 0 || l.tile_h < 0 || l.tile_w < 0 || l.tiles_c < 0 || l.tiles_h < 0 || l.tiles_w < 0)
            layer_fail(fmt::format("tile {} x {} x {} and tiles {} x {} x {} must not be negative", l.tile_c, l.tile_h,
                                   l.tile_w, l.tiles_c, l.tiles_h, l.tiles_w));
        // The layers' core ranges follow each other in layer order, so core i's layer is found by one scan.
        if (l.first_core != next_core)
            layer_fail(
                fmt::format("first core {} but the layers before it end at core {} (core ranges follow the "
                            "layer order without gaps or overlaps)",
                            l.first_core, next_core));
        if (l.cores < 1 || l.cores > cores - next_core)
            layer_fail(fmt::format("{} cores from core {}, but there are {} cores", l.cores, l.first_core, cores));
        next_core += l.cores;
    }
    // Inputs once every layer's shape is known (a recurrent input may read a later layer).
    for (int64_t i = 0; i < layers; ++i)
        for (size_t k = 0; k < graph.layers[static_cast<size_t>(i)].inputs.size(); ++k) check_input(graph, i, k, fail);
    if (next_core != cores) fail(fmt::format("{} cores, but the layers' core ranges hold {}", cores, next_core));
}

void check_cores(const Mapping& mapping, int64_t width, int64_t height, const Fail& fail) {
    const MapGraph& graph = mapping.graph;
    const int64_t layers = static_cast<int64_t>(graph.layers.size());
    const int64_t cores = static_cast<int64_t>(mapping.cores.size());
    if (cores > int64_t{width} * height)
        fail(fmt::format("{} cores do not fit the {} x {} mesh", cores, width, height));
    int64_t layer = 0;
    for (int64_t i = 0; i < cores; ++i) {
        const Core& c = mapping.cores[static_cast<size_t>(i)];
        auto core_fail = [&](const std::string& what) { fail(fmt::format("core {}: {}", i, what)); };
        while (graph.layers[static_cast<size_t>(layer)].first_core +
                   graph.layers[static_cast<size_t>(layer)].cores <=
               i)
            ++layer;
        if (c.layer < 0 || c.layer >= layers)
            core_fail(fmt::format("layer {} out of range ({} layers)", c.layer, layers));
        const MapLayer& l = graph.layers[static_cast<size_t>(layer)];
        if (c.layer != layer)
            core_fail(fmt::format("layer {}, but cores {} to {} belong to layer {}", c.layer, l.first_core,
                                  l.first_core + l.cores - 1, layer));
        auto slice = [&](const char* axis, int64_t lo, int64_t hi, int64_t size) {
            if (lo < 0 || lo >= hi || hi > size)
                core_fail(
                    fmt::format("{} {} to {} is not a non-empty slice of layer {}'s {}", axis, lo, hi, layer, size));
        };
        slice("channels", c.c0, c.c1, l.channels);
        slice("rows", c.y0, c.y1, l.height);
        slice("columns", c.x0, c.x1, l.width);
        if (c.units < 0 || c.synapses < 0 || c.max_fan_in < 0)
            core_fail(fmt::format("units {}, synapses {} and max_fan_in {} must not be negative", c.units, c.synapses,
                                  c.max_fan_in));
        if (!(std::isfinite(c.packets_per_step) && c.packets_per_step >= 0))
            core_fail(fmt::format("packets_per_step {} must be a finite number >= 0", c.packets_per_step));
        if (c.x < 0 || c.x >= width || c.y < 0 || c.y >= height)
            core_fail(fmt::format("position ({}, {}) is outside the {} x {} mesh", c.x, c.y, width, height));
    }
}

// Distinct positions: sorting (router, core) pairs costs the same for a sparse or a dense mesh.
void check_distinct_positions(const Mapping& mapping, int64_t width, const Fail& fail) {
    const int64_t cores = static_cast<int64_t>(mapping.cores.size());
    std::vector<std::pair<int64_t, int64_t>> at;
    at.reserve(static_cast<size_t>(cores));
    for (int64_t i = 0; i < cores; ++i) {
        const Core& c = mapping.cores[static_cast<size_t>(i)];
        at.emplace_back(int64_t{c.y} * width + c.x, i);
    }
    std::sort(at.begin(), at.end());
    for (size_t k = 1; k < at.size(); ++k)
        if (at[k].first == at[k - 1].first) {
            const Core& c = mapping.cores[static_cast<size_t>(at[k].second)];
            fail(fmt::format("core {}: position ({}, {}) is also core {}'s", at[k].second, c.x, c.y, at[k - 1].second));
        }
}

void check_routes(const Mapping& mapping, const Fail& fail) {
    const int64_t cores = static_cast<int64_t>(mapping.cores.size());
    const Destinations& r = mapping.routes;
    if (static_cast<int64_t>(r.offset.size()) != cores + 2)
        fail(fmt::format("routes: {} offsets, expected {} (the cores, then the host, then the end)", r.offset.size(),
                         cores + 2));
    if (r.offset.front() != 0 || r.offset.back() != static_cast<int64_t>(r.dest.size()))
        fail(fmt::format("routes: offsets run from {} to {}, expected 0 to {} (the destinations)", r.offset.front(),
                         r.offset.back(), r.dest.size()));
    if (static_cast<int64_t>(mapping.source_packets.size()) != cores + 1)
        fail(fmt::format("routes: {} source packet rates, expected {} (the cores, then the host)",
                         mapping.source_packets.size(), cores + 1));
    for (int64_t s = 0; s <= cores; ++s) {
        auto route_fail = [&](const std::string& what) { fail(fmt::format("route {}: {}", s, what)); };
        const int64_t begin = r.offset[static_cast<size_t>(s)], end = r.offset[static_cast<size_t>(s) + 1];
        if (end < begin) route_fail(fmt::format("offsets decrease ({} then {})", begin, end));
        const double p = mapping.source_packets[static_cast<size_t>(s)];
        if (!(std::isfinite(p) && p >= 0))
            route_fail(fmt::format("packets_per_step {} must be a finite number >= 0", p));
        int64_t previous = -1;
        for (int64_t k = begin; k < end; ++k) {
            const int64_t d = r.dest[static_cast<size_t>(k)];
            if (d < 0 || d >= cores) route_fail(fmt::format("destination {} out of range ({} cores)", d, cores));
            if (d <= previous)
                route_fail(fmt::format("destinations not ascending: {} after {} (sorted, each once)", d, previous));
            previous = d;
        }
    }
}

}  // namespace

void validate_mapping(const Mapping& mapping, const std::string& where) {
    const Fail fail{where};
    check_chip(mapping.chip, fail);
    const auto [width, height] = check_mesh(mapping, fail);
    check_layers(mapping.graph, static_cast<int64_t>(mapping.cores.size()), fail);
    check_cores(mapping, width, height, fail);
    check_distinct_positions(mapping, width, fail);
    check_routes(mapping, fail);
}

}  // namespace neuroemu
