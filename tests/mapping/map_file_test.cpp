// The mapping file (mapping/map_file.h, docs/mapping-format.md): a lossless, canonical round trip of every field of
// real and random mappings, the documented layout, older and newer formats refused with a clear error, and
// truncated or damaged files rejected with a DataError naming the file, the record, the field and what was
// expected, never a crash or a huge allocation (this suite also runs under ASan/UBSan).
#include "mapping/map_file.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/chip_fields.h"
#include "common/error.h"
#include "convert/convert.h"
#include "model/onnx_import.h"
#include "tests/support/recurrent_model.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

// Per test, so that test cases running in parallel processes never share a file.
std::string temp_path(const std::string& name) {
    return ::testing::TempDir() + "map_file_test_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() +
           "_" + name;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

Window2d window(int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, bool ceil = false) {
    Window2d w;
    w.kernel_h = kh, w.kernel_w = kw, w.stride_h = sh, w.stride_w = sw;
    w.pad_top = pt, w.pad_left = pl, w.pad_bottom = pb, w.pad_right = pr;
    w.ceil_mode = ceil;
    return w;
}

UnitInput input(int source, InputPattern pattern, Window2d w, int64_t c0, int64_t c1, int64_t fan_in,
                std::string projection) {
    UnitInput in;
    in.source = source, in.pattern = pattern, in.window = w, in.c0 = c0, in.c1 = c1, in.fan_in = fan_in;
    in.projection = std::move(projection);
    return in;
}

MapLayer layer(std::string name, UnitKind kind, int population, int part, int64_t c, int64_t h, int64_t w) {
    MapLayer l;
    l.name = std::move(name), l.kind = kind, l.population = population, l.part = part;
    l.channels = c, l.height = h, l.width = w;
    return l;
}

void tiles(MapLayer& l, int64_t tc, int64_t th, int64_t tw, int64_t nc, int64_t nh, int64_t nw, int64_t first,
           std::string binding) {
    l.tile_c = tc, l.tile_h = th, l.tile_w = tw, l.tiles_c = nc, l.tiles_h = nh, l.tiles_w = nw;
    l.first_core = first, l.cores = nc * nh * nw, l.binding = std::move(binding);
}

Core core(int layer, int64_t c0, int64_t c1, int64_t y0, int64_t y1, int64_t x0, int64_t x1, int64_t synapses,
          int64_t max_fan_in, double packets, int32_t x, int32_t y) {
    Core k;
    k.layer = layer, k.c0 = c0, k.c1 = c1, k.y0 = y0, k.y1 = y1, k.x0 = x0, k.x1 = x1;
    k.units = (c1 - c0) * (y1 - y0) * (x1 - x0), k.synapses = synapses, k.max_fan_in = max_fan_in;
    k.packets_per_step = packets, k.x = x, k.y = y;
    return k;
}

Destinations routes(const std::vector<std::vector<int32_t>>& lists) {
    Destinations d;
    d.offset.push_back(0);
    for (const auto& l : lists) {
        d.dest.insert(d.dest.end(), l.begin(), l.end());
        d.offset.push_back(static_cast<int64_t>(d.dest.size()));
    }
    return d;
}

// Every field with a non-default value: a name with a space and '#', an empty projection, all multicast and bias
// choices opposite to the defaults, a layer reading the host, a spike-gate layer with an asymmetric window and
// ceil_mode, two partial-sum layers and their readout, a 2-chip mesh, route lists with runs and singletons, and
// doubles that need all 17 digits (or are subnormal or huge).
Mapping small_mapping() {
    Mapping m;
    m.model = "resnet tiny #1";
    ChipSpec& c = m.chip;
    c.name = "rolls-like";
    c.clock_hz = 1.25e8;
    c.core.neurons = 64, c.core.synapses = 4096, c.core.fan_in = 100, c.core.weight_bits = 6;
    c.core.weight_sharing = true, c.core.bias = BiasStorage::Register;
    c.core.sops_per_cycle = 3, c.core.neuron_updates_per_cycle = 5, c.core.input_queue = 7;
    c.noc.width = 2, c.noc.height = 2, c.noc.chips = 2, c.noc.buffer_depth = 8, c.noc.flit_bits = 64;
    c.noc.pipeline_cycles = 2, c.noc.link_cycles = 3, c.noc.inter_chip_link_cycles = 40;
    c.noc.multicast = "source";
    m.mesh.chip_width = 2, m.mesh.chip_height = 2, m.mesh.chips_x = 2, m.mesh.chips_y = 1;
    m.host_x = 0, m.host_y = 1;

    MapGraph& g = m.graph;
    g.model = "graph model";
    g.host_channels = 3, g.host_height = 4, g.host_width = 4;
    g.host_rate = 0.1 + 0.2;  // 0.30000000000000004

    MapLayer conv = layer("conv 1#a", UnitKind::Neuron, 1, -1, 8, 4, 4);
    conv.bias = true, conv.rate = 1.0 / 3.0;
    conv.inputs = {input(kHostSource, InputPattern::Conv, window(3, 3, 1, 1, 1, 1, 1, 1), 0, 3, 27, "conv 1#a")};
    tiles(conv, 4, 4, 4, 2, 1, 1, 0, "neurons");
    MapLayer pool = layer("pool%x", UnitKind::Gate, 2, -1, 8, 2, 2);
    pool.rate = 0.05;
    pool.inputs = {input(0, InputPattern::Window, window(3, 2, 2, 1, 0, 1, 1, 0, true), 0, 8, 6, "pool%x")};
    tiles(pool, 8, 2, 2, 1, 1, 1, 2, "neurons");
    MapLayer p0 = layer("fc/partial0", UnitKind::Partial, 3, 0, 10, 1, 1);
    p0.rate = 1;
    p0.inputs = {input(1, InputPattern::Dense, Window2d{}, 0, 4, 16, "fc")};
    tiles(p0, 10, 1, 1, 1, 1, 1, 3, "fan-in");
    MapLayer p1 = layer("fc/partial1", UnitKind::Partial, 3, 1, 10, 1, 1);
    p1.rate = 1;
    p1.inputs = {input(1, InputPattern::Dense, Window2d{}, 4, 8, 16, "fc")};
    tiles(p1, 10, 1, 1, 1, 1, 1, 4, "fan-in");
    MapLayer fc = layer("fc", UnitKind::Readout, 3, -1, 10, 1, 1);
    fc.bias = true;
    fc.inputs = {input(2, InputPattern::OneToOne, Window2d{}, 0, 10, 1, ""),
                 input(3, InputPattern::OneToOne, Window2d{}, 0, 10, 1, "")};
    tiles(fc, 5, 1, 1, 2, 1, 1, 5, "synapses");
    g.layers = {conv, pool, p0, p1, fc};

    m.cores = {core(0, 0, 4, 0, 4, 0, 4, 1728, 27, 5e-324, 0, 0),
               core(0, 4, 8, 0, 4, 0, 4, 1728, 27, 0.1, 1, 0),
               core(1, 0, 8, 0, 2, 0, 2, 192, 6, 1e300, 1, 1),
               core(2, 0, 10, 0, 1, 0, 1, 160, 16, 1, 2, 0),
               core(3, 0, 10, 0, 1, 0, 1, 160, 16, 2.5e-05, 3, 1),
               core(4, 0, 5, 0, 1, 0, 1, 10, 2, 0, 2, 1),
               core(4, 5, 10, 0, 1, 0, 1, 10, 2, 1.7976931348623157e308, 3, 0)};
    m.routes = routes({{2}, {0, 2, 3, 4, 6}, {3, 4}, {5, 6}, {5, 6}, {}, {}, {0, 1}});
    m.source_packets = {0.5, 2.0 / 3.0, 1e-7, 1, 1, 0, 0, 4.8};
    return m;
}

uint64_t bits(double d) {
    uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
}

// Doubles compared bit for bit: the writer promises the shortest text that reads back to the same value.
#define EXPECT_SAME_DOUBLE(a, b) EXPECT_EQ(bits(a), bits(b)) << (a) << " vs " << (b)

void expect_same_window(const Window2d& a, const Window2d& b) {
    EXPECT_EQ(a.kernel_h, b.kernel_h);
    EXPECT_EQ(a.kernel_w, b.kernel_w);
    EXPECT_EQ(a.stride_h, b.stride_h);
    EXPECT_EQ(a.stride_w, b.stride_w);
    EXPECT_EQ(a.pad_top, b.pad_top);
    EXPECT_EQ(a.pad_left, b.pad_left);
    EXPECT_EQ(a.pad_bottom, b.pad_bottom);
    EXPECT_EQ(a.pad_right, b.pad_right);
    EXPECT_EQ(a.ceil_mode, b.ceil_mode);
}

void expect_same(const Mapping& a, const Mapping& b) {
    EXPECT_EQ(a.model, b.model);
    EXPECT_EQ(a.chip.name, b.chip.name);
    EXPECT_SAME_DOUBLE(a.chip.clock_hz, b.chip.clock_hz);
    EXPECT_EQ(a.chip.core.neurons, b.chip.core.neurons);
    EXPECT_EQ(a.chip.core.synapses, b.chip.core.synapses);
    EXPECT_EQ(a.chip.core.fan_in, b.chip.core.fan_in);
    EXPECT_EQ(a.chip.core.weight_bits, b.chip.core.weight_bits);
    EXPECT_EQ(a.chip.core.weight_sharing, b.chip.core.weight_sharing);
    EXPECT_EQ(a.chip.core.bias, b.chip.core.bias);
    EXPECT_EQ(a.chip.core.sops_per_cycle, b.chip.core.sops_per_cycle);
    EXPECT_EQ(a.chip.core.neuron_updates_per_cycle, b.chip.core.neuron_updates_per_cycle);
    EXPECT_EQ(a.chip.core.input_queue, b.chip.core.input_queue);
    EXPECT_EQ(a.chip.noc.width, b.chip.noc.width);
    EXPECT_EQ(a.chip.noc.height, b.chip.noc.height);
    EXPECT_EQ(a.chip.noc.chips, b.chip.noc.chips);
    EXPECT_EQ(a.chip.noc.buffer_depth, b.chip.noc.buffer_depth);
    EXPECT_EQ(a.chip.noc.flit_bits, b.chip.noc.flit_bits);
    EXPECT_EQ(a.chip.noc.pipeline_cycles, b.chip.noc.pipeline_cycles);
    EXPECT_EQ(a.chip.noc.link_cycles, b.chip.noc.link_cycles);
    EXPECT_EQ(a.chip.noc.inter_chip_link_cycles, b.chip.noc.inter_chip_link_cycles);
    EXPECT_EQ(a.chip.noc.multicast, b.chip.noc.multicast);
    EXPECT_EQ(a.mesh.chip_width, b.mesh.chip_width);
    EXPECT_EQ(a.mesh.chip_height, b.mesh.chip_height);
    EXPECT_EQ(a.mesh.chips_x, b.mesh.chips_x);
    EXPECT_EQ(a.mesh.chips_y, b.mesh.chips_y);
    EXPECT_EQ(a.host_x, b.host_x);
    EXPECT_EQ(a.host_y, b.host_y);

    EXPECT_EQ(a.graph.model, b.graph.model);
    EXPECT_EQ(a.graph.host_channels, b.graph.host_channels);
    EXPECT_EQ(a.graph.host_height, b.graph.host_height);
    EXPECT_EQ(a.graph.host_width, b.graph.host_width);
    EXPECT_SAME_DOUBLE(a.graph.host_rate, b.graph.host_rate);
    ASSERT_EQ(a.graph.layers.size(), b.graph.layers.size());
    for (size_t i = 0; i < a.graph.layers.size(); ++i) {
        SCOPED_TRACE(fmt::format("layer {}", i));
        const MapLayer& x = a.graph.layers[i];
        const MapLayer& y = b.graph.layers[i];
        EXPECT_EQ(x.name, y.name);
        EXPECT_EQ(x.kind, y.kind);
        EXPECT_EQ(x.population, y.population);
        EXPECT_EQ(x.part, y.part);
        EXPECT_EQ(x.channels, y.channels);
        EXPECT_EQ(x.height, y.height);
        EXPECT_EQ(x.width, y.width);
        EXPECT_EQ(x.bias, y.bias);
        EXPECT_SAME_DOUBLE(x.rate, y.rate);
        EXPECT_EQ(x.tile_c, y.tile_c);
        EXPECT_EQ(x.tile_h, y.tile_h);
        EXPECT_EQ(x.tile_w, y.tile_w);
        EXPECT_EQ(x.tiles_c, y.tiles_c);
        EXPECT_EQ(x.tiles_h, y.tiles_h);
        EXPECT_EQ(x.tiles_w, y.tiles_w);
        EXPECT_EQ(x.first_core, y.first_core);
        EXPECT_EQ(x.cores, y.cores);
        EXPECT_EQ(x.binding, y.binding);
        ASSERT_EQ(x.inputs.size(), y.inputs.size());
        for (size_t k = 0; k < x.inputs.size(); ++k) {
            SCOPED_TRACE(fmt::format("input {}", k));
            const UnitInput& p = x.inputs[k];
            const UnitInput& q = y.inputs[k];
            EXPECT_EQ(p.source, q.source);
            EXPECT_EQ(p.pattern, q.pattern);
            expect_same_window(p.window, q.window);
            EXPECT_EQ(p.c0, q.c0);
            EXPECT_EQ(p.c1, q.c1);
            EXPECT_EQ(p.fan_in, q.fan_in);
            EXPECT_EQ(p.projection, q.projection);
        }
    }
    ASSERT_EQ(a.cores.size(), b.cores.size());
    for (size_t i = 0; i < a.cores.size(); ++i) {
        SCOPED_TRACE(fmt::format("core {}", i));
        const Core& x = a.cores[i];
        const Core& y = b.cores[i];
        EXPECT_EQ(x.layer, y.layer);
        EXPECT_EQ(x.c0, y.c0);
        EXPECT_EQ(x.c1, y.c1);
        EXPECT_EQ(x.y0, y.y0);
        EXPECT_EQ(x.y1, y.y1);
        EXPECT_EQ(x.x0, y.x0);
        EXPECT_EQ(x.x1, y.x1);
        EXPECT_EQ(x.units, y.units);
        EXPECT_EQ(x.synapses, y.synapses);
        EXPECT_EQ(x.max_fan_in, y.max_fan_in);
        EXPECT_SAME_DOUBLE(x.packets_per_step, y.packets_per_step);
        EXPECT_EQ(x.x, y.x);
        EXPECT_EQ(x.y, y.y);
    }
    EXPECT_EQ(a.routes.offset, b.routes.offset);
    EXPECT_EQ(a.routes.dest, b.routes.dest);
    ASSERT_EQ(a.source_packets.size(), b.source_packets.size());
    for (size_t s = 0; s < a.source_packets.size(); ++s) EXPECT_SAME_DOUBLE(a.source_packets[s], b.source_packets[s]);
}

// A consistent mapping of random shape: every enum value, names of any bytes, layers sliced into tiles, cores on
// distinct routers of a multi-chip mesh, destination lists of runs and singletons, doubles of any magnitude.
Mapping random_mapping(uint32_t seed) {
    std::mt19937 rng(seed);
    auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
    auto real = [&]() {
        switch (uniform(0, 4)) {
            case 0: return 0.0;
            case 1: return std::uniform_real_distribution<double>(0, 1)(rng);
            case 2:  // any exponent, subnormals included
                return std::ldexp(std::uniform_real_distribution<double>(1, 2)(rng),
                                  static_cast<int>(uniform(-1074, 1023)));
            case 3: return static_cast<double>(uniform(0, 1000));
            default: return std::numeric_limits<double>::denorm_min() * static_cast<double>(uniform(1, 1000));
        }
    };
    auto name = [&]() {
        static const char* const pieces[] = {"conv", " ", "#", "%", "-", "/partial", "\t", "\xc3\xbc", "%2D", "\x7f",
                                             "layer1.0", "\n"};
        std::string s;
        if (uniform(0, 9) == 0) return std::string(uniform(0, 1) ? "-" : "");
        for (int64_t k = uniform(1, 4); k > 0; --k) s += pieces[uniform(0, 11)];
        return s;
    };
    Mapping m;
    m.model = name();
    m.chip.name = name();
    m.chip.clock_hz = std::uniform_real_distribution<double>(1, 1e12)(rng);
    m.chip.core.neurons = uniform(1, 1024), m.chip.core.synapses = uniform(1, INT64_C(1000000000000));
    m.chip.core.fan_in = uniform(1, 4096), m.chip.core.weight_bits = uniform(1, 64);
    m.chip.core.weight_sharing = uniform(0, 1);
    m.chip.core.bias = uniform(0, 1) ? BiasStorage::Register : BiasStorage::Synapse;
    m.chip.core.sops_per_cycle = uniform(1, 512), m.chip.core.neuron_updates_per_cycle = uniform(1, 512);
    m.chip.core.input_queue = uniform(1, 64);
    m.chip.noc.width = uniform(0, 64), m.chip.noc.height = uniform(0, 64), m.chip.noc.chips = uniform(0, 16);
    m.chip.noc.buffer_depth = uniform(1, 64), m.chip.noc.flit_bits = uniform(1, 4096);
    m.chip.noc.pipeline_cycles = uniform(0, 9), m.chip.noc.link_cycles = uniform(1, 9);
    m.chip.noc.inter_chip_link_cycles = uniform(1, 99);
    m.chip.noc.multicast = uniform(0, 1) ? "tree" : "source";
    MapGraph& g = m.graph;
    g.model = name();
    g.host_channels = uniform(1, 8), g.host_height = uniform(1, 32), g.host_width = uniform(1, 32);
    g.host_rate = real();

    const UnitKind kinds[] = {UnitKind::Neuron, UnitKind::Readout, UnitKind::Gate, UnitKind::Current,
                              UnitKind::Partial};
    const InputPattern patterns[] = {InputPattern::Conv, InputPattern::Window, InputPattern::OneToOne,
                                     InputPattern::Dense};
    const int64_t layers = uniform(1, 12);
    for (int64_t i = 0; i < layers; ++i) {
        MapLayer l = layer(name(), kinds[uniform(0, 4)], static_cast<int>(uniform(-1, 50)),
                           static_cast<int>(uniform(-1, 3)), uniform(1, 40), uniform(1, 9), uniform(1, 9));
        l.bias = uniform(0, 1), l.rate = real(), l.binding = name();
        for (int64_t k = uniform(0, 3); k > 0; --k) {
            const int source = static_cast<int>(uniform(-1, i - 1));
            const int64_t channels =
                source == kHostSource ? g.host_channels : g.layers[static_cast<size_t>(source)].channels;
            const int64_t c0 = uniform(0, channels);
            Window2d w = window(static_cast<int>(uniform(1, 7)), static_cast<int>(uniform(1, 7)),
                                static_cast<int>(uniform(1, 3)), static_cast<int>(uniform(1, 3)),
                                static_cast<int>(uniform(0, 3)), static_cast<int>(uniform(0, 3)),
                                static_cast<int>(uniform(0, 3)), static_cast<int>(uniform(0, 3)), uniform(0, 1));
            l.inputs.push_back(input(source, patterns[uniform(0, 3)], w, c0, uniform(c0, channels), uniform(0, 5000),
                                     name()));
        }
        // Tiles of random size; the last tile along an axis may be smaller.
        l.tile_c = uniform(1, l.channels), l.tile_h = uniform(1, l.height), l.tile_w = uniform(1, l.width);
        l.tiles_c = (l.channels + l.tile_c - 1) / l.tile_c, l.tiles_h = (l.height + l.tile_h - 1) / l.tile_h;
        l.tiles_w = (l.width + l.tile_w - 1) / l.tile_w;
        l.first_core = static_cast<int64_t>(m.cores.size());
        for (int64_t c = 0; c < l.tiles_c; ++c)
            for (int64_t y = 0; y < l.tiles_h; ++y)
                for (int64_t x = 0; x < l.tiles_w; ++x)
                    m.cores.push_back(core(static_cast<int>(i), c * l.tile_c, std::min(l.channels, (c + 1) * l.tile_c),
                                           y * l.tile_h, std::min(l.height, (y + 1) * l.tile_h), x * l.tile_w,
                                           std::min(l.width, (x + 1) * l.tile_w), uniform(0, 1 << 20),
                                           uniform(0, 4096), real(), 0, 0));
        l.cores = static_cast<int64_t>(m.cores.size()) - l.first_core;
        g.layers.push_back(l);
    }
    const int64_t cores = static_cast<int64_t>(m.cores.size());
    m.mesh.chip_width = static_cast<int32_t>(uniform(1, 8)), m.mesh.chip_height = static_cast<int32_t>(uniform(1, 8));
    m.mesh.chips_x = static_cast<int32_t>(uniform(1, 3));
    const int64_t per_row = int64_t{m.mesh.chip_width} * m.mesh.chip_height * m.mesh.chips_x;
    m.mesh.chips_y = static_cast<int32_t>((cores + per_row - 1) / per_row + uniform(0, 1));
    std::vector<std::pair<int32_t, int32_t>> routers;
    for (int32_t y = 0; y < m.mesh.height(); ++y)
        for (int32_t x = 0; x < m.mesh.width(); ++x) routers.emplace_back(x, y);
    std::shuffle(routers.begin(), routers.end(), rng);
    for (int64_t i = 0; i < cores; ++i)
        std::tie(m.cores[static_cast<size_t>(i)].x, m.cores[static_cast<size_t>(i)].y) =
            routers[static_cast<size_t>(i)];
    std::tie(m.host_x, m.host_y) = routers[static_cast<size_t>(uniform(0, static_cast<int64_t>(routers.size()) - 1))];

    m.routes.offset.push_back(0);
    for (int64_t s = 0; s <= cores; ++s) {
        std::vector<char> to(static_cast<size_t>(cores), 0);
        for (int64_t k = uniform(0, 4); k > 0; --k) {
            const int64_t first = uniform(0, cores - 1);
            const int64_t last = std::min(cores - 1, first + (uniform(0, 1) ? 0 : uniform(1, 30)));
            std::fill(to.begin() + first, to.begin() + last + 1, 1);
        }
        for (int64_t d = 0; d < cores; ++d)
            if (to[static_cast<size_t>(d)]) m.routes.dest.push_back(static_cast<int32_t>(d));
        m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));
        m.source_packets.push_back(real());
    }
    return m;
}

// ---- the file taken apart --------------------------------------------------------------------------------------

constexpr char kVersionLine[] = "neuroemu-mapping 2\n";
constexpr size_t kLengthBytes = 8;

std::string length_bytes(uint64_t n) {
    std::string out;
    for (size_t i = 0; i < kLengthBytes; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
    return out;
}

// A saved file as its parts, put back together with the header's length and `body.bytes` recomputed, so that a
// test damages exactly the one thing it names.
struct MapFile {
    json header;
    json body;

    std::string body_bytes() const {
        std::string out;
        json::to_cbor(body, out);
        return out;
    }
    // With `body_bytes` in place of the encoded body (a damaged or cut CBOR), declared as its size.
    std::string bytes(const std::string& raw_body) const {
        json h = header;
        h["body"]["bytes"] = raw_body.size();
        const std::string text = h.dump(1) + "\n";
        return kVersionLine + length_bytes(text.size()) + text + raw_body;
    }
    std::string bytes() const { return bytes(body_bytes()); }
};

// The header's length, as the file declares it.
size_t header_length(const std::string& bytes) {
    const size_t at = std::strlen(kVersionLine);
    uint64_t length = 0;
    for (size_t i = 0; i < kLengthBytes; ++i)
        length |= uint64_t{static_cast<unsigned char>(bytes.at(at + i))} << (8 * i);
    return static_cast<size_t>(length);
}

MapFile split(const std::string& bytes) {
    const size_t at = std::strlen(kVersionLine), length = header_length(bytes);
    MapFile f;
    f.header = json::parse(bytes.substr(at + kLengthBytes, length));
    f.body = json::from_cbor(bytes.substr(at + kLengthBytes + length));
    return f;
}

void expect_invalid(const Mapping& m, const std::string& what) {
    try {
        validate_mapping(m, "here");
        ADD_FAILURE() << "accepted; expected: " << what;
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), StartsWith("here: "));
        EXPECT_THAT(e.what(), HasSubstr(what));
    }
}

std::string saved_bytes(const Mapping& m) {
    const std::string path = temp_path("good.map");
    save_mapping(m, path);
    return read_text(path);
}

// Writes `bytes` as a mapping file; load_mapping must throw a DataError naming the file and containing `what`.
void expect_load_error(const std::string& bytes, const std::string& what) {
    const std::string path = temp_path("bad.map");
    write_text(path, bytes);
    try {
        load_mapping(path);
        ADD_FAILURE() << "loaded; expected: " << what;
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), StartsWith(path));
        EXPECT_THAT(e.what(), HasSubstr(what));
    }
}

// The mapping file of the shipped default model (configs/default.yaml's ResNet-20), as converted without
// calibration: the mapper only needs its shapes.
SnnModel default_model() {
    const Network net = import_onnx_file(std::string(NEUROEMU_SOURCE_DIR) + "/models/resnet20_fmnist.onnx");
    ConversionOptions o;
    o.normalise = false;
    return build_snn(fold_batchnorm(net), Calibration{}, o);
}

// ---- round trips ------------------------------------------------------------------------------------------------

TEST(MappingFile, RoundTripKeepsEveryField) {
    const Mapping m = small_mapping();
    validate_mapping(m, "small");
    const std::string path = temp_path("small.map");
    save_mapping(m, path);
    expect_same(m, load_mapping(path));
}

TEST(MappingFile, RealMappingsRoundTripByteForByte) {
    const SnnModel model = default_model();
    ChipSpec rolls;
    ChipSpec loihi_like;  // the other choice of every enum, as many 4 x 3 chips as needed
    loihi_like.core.neurons = 1024, loihi_like.core.bias = BiasStorage::Register;
    loihi_like.core.weight_sharing = true, loihi_like.noc.multicast = "source";
    loihi_like.noc.width = 4, loihi_like.noc.height = 3, loihi_like.noc.chips = 0;
    for (const ChipSpec& chip : {rolls, loihi_like}) {
        SCOPED_TRACE(chip.core.neurons);
        const Mapping m = map_network(model, chip, {});
        const std::string path = temp_path("real.map");
        save_mapping(m, path);
        const std::string first = read_text(path);
        const Mapping back = load_mapping(path);
        expect_same(m, back);
        save_mapping(back, path);
        EXPECT_EQ(read_text(path), first);  // the bytes are canonical
    }
}

TEST(MappingFile, WritesTheDocumentedLayout) {
    const std::string bytes = saved_bytes(small_mapping());
    ASSERT_THAT(bytes, StartsWith(kVersionLine));
    const MapFile f = split(bytes);
    std::vector<std::string> keys;
    const std::string header_and_body = bytes.substr(std::strlen(kVersionLine) + kLengthBytes);
    const std::string cbor = f.body_bytes();
    const auto ordered =
        nlohmann::ordered_json::parse(header_and_body.substr(0, header_and_body.size() - cbor.size()));
    for (const auto& item : ordered.items()) keys.push_back(item.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"format", "version", "model", "chip", "mesh", "host", "graph", "layers",
                                              "counts", "body"}));
    EXPECT_EQ(f.header["format"], "neuroemu-mapping");
    EXPECT_EQ(f.header["version"], kMappingFormatVersion);
    EXPECT_EQ(f.header["model"], "resnet tiny #1");
    EXPECT_EQ(f.header["chip"]["core"]["bias"], "register");
    EXPECT_EQ(f.header["chip"]["noc"]["flit_bits"], 64);
    EXPECT_EQ(f.header["mesh"], json({{"chip_width", 2}, {"chip_height", 2}, {"chips_x", 2}, {"chips_y", 1}}));
    EXPECT_EQ(f.header["host"], json({{"x", 0}, {"y", 1}}));
    EXPECT_EQ(f.header["graph"]["host_rate"].get<double>(), 0.1 + 0.2);
    EXPECT_EQ(f.header["layers"].size(), 5u);
    EXPECT_EQ(f.header["layers"][1]["inputs"][0],
              json::parse(R"({"source": 0, "pattern": "window", "kernel": [3, 2], "stride": [2, 1],
                              "pads": [0, 1, 1, 0], "ceil_mode": true, "channels": [0, 8], "fan_in": 6,
                              "projection": "pool%x"})"));
    EXPECT_EQ(f.header["layers"][0]["inputs"][0]["source"], "host");
    EXPECT_EQ(f.header["counts"], json({{"cores", 7}, {"sources", 8}, {"destinations", 14}}));
    EXPECT_EQ(f.header["body"]["encoding"], "cbor");
    EXPECT_EQ(f.header["body"]["bytes"], f.body_bytes().size());
    EXPECT_EQ(f.body["cores"]["layer"], json({0, 0, 1, 2, 3, 4, 4}));
    EXPECT_EQ(f.body["cores"]["x"], json({0, 1, 1, 2, 3, 2, 3}));
    EXPECT_EQ(f.body["cores"].size(), 13u);
    EXPECT_EQ(f.body["routes"]["destination_counts"], json({1, 5, 2, 2, 2, 0, 0, 2}));
    EXPECT_EQ(f.body["routes"]["destinations"], json({2, 0, 2, 3, 4, 6, 3, 4, 5, 6, 5, 6, 0, 1}));
    EXPECT_EQ(f.body["routes"]["packets_per_step"][1].get<double>(), 2.0 / 3.0);
}

// One non-default value per chip field: each must come back, under its own key of the header's `chip` object.
TEST(MappingFile, EveryChipFieldRoundTripsThroughTheHeader) {
    for (const ChipField& f : chip_fields()) {
        SCOPED_TRACE(f.key);
        Mapping m = small_mapping();
        ChipValue v = f.get(m.chip);
        switch (f.kind) {
            case ParamKind::Bool: v = !std::get<bool>(v); break;
            case ParamKind::Int: v = static_cast<int64_t>(f.max); break;
            case ParamKind::Real: v = f.max; break;
            case ParamKind::Enum:
                v = std::get<std::string>(v) == f.words.front() ? f.words.back() : f.words.front();
                break;
            default: v = std::string("chip #2"); break;
        }
        f.set(m.chip, v);
        const std::string bytes = saved_bytes(m);
        const Mapping back = load_mapping(temp_path("good.map"));
        EXPECT_EQ(f.get(back.chip), v);
        json at = split(bytes).header["chip"];
        for (size_t begin = 0, dot = 0; dot != std::string::npos; begin = dot + 1) {
            dot = f.key.find('.', begin);
            at = json(at[f.key.substr(begin, dot == std::string::npos ? dot : dot - begin)]);
        }
        EXPECT_EQ(at, std::visit([](const auto& x) { return json(x); }, v));
    }
}

TEST(MappingFile, NamesOfAnyTextRoundTrip) {
    const std::vector<std::string> names = {"", "-", "%", "%2D", "a b", "#", " lead", "trail ", "\t\r\n", "\x7f",
                                            "\xc3\xbc" "ber", std::string("nul\0byte", 8), "layer1.0/conv2", "\"q\""};
    for (const auto& n : names) {
        SCOPED_TRACE(n);
        Mapping m = small_mapping();
        m.model = n, m.chip.name = n, m.graph.model = n;
        for (auto& l : m.graph.layers) {
            l.name = n, l.binding = n;
            for (auto& in : l.inputs) in.projection = n;
        }
        saved_bytes(m);
        expect_same(m, load_mapping(temp_path("good.map")));
    }
}

TEST(MappingFile, SaveRefusesNamesThatAreNotUtf8) {
    Mapping m = small_mapping();
    m.graph.layers[2].name = "fc\xff";
    const std::string path = temp_path("latin1.map");
    std::remove(path.c_str());
    try {
        save_mapping(m, path);
        ADD_FAILURE() << "saved a name that JSON cannot hold";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), StartsWith(path + ": a name (model, chip, layer, projection or binding) is not UTF-8"));
    }
    EXPECT_FALSE(std::ifstream(path).good());
}

TEST(MappingFile, RandomMappingsRoundTrip) {
    for (uint32_t seed = 1; seed <= 40; ++seed) {
        SCOPED_TRACE(seed);
        const Mapping m = random_mapping(seed);
        validate_mapping(m, "random");
        const std::string path = temp_path("random.map");
        save_mapping(m, path);
        const std::string first = read_text(path);
        const Mapping back = load_mapping(path);
        expect_same(m, back);
        save_mapping(back, path);
        EXPECT_EQ(read_text(path), first);
    }
}

TEST(MappingFile, EmptyMappingRoundTrips) {
    // No layers, no cores: only the host's (empty) route.
    Mapping m;
    m.mesh.chip_width = 1, m.mesh.chip_height = 1;
    m.routes.offset = {0, 0};
    m.source_packets = {0};
    const std::string path = temp_path("empty.map");
    save_mapping(m, path);
    expect_same(m, load_mapping(path));
    const MapFile f = split(read_text(path));
    EXPECT_EQ(f.header["counts"], json({{"cores", 0}, {"sources", 1}, {"destinations", 0}}));
    EXPECT_EQ(f.body["routes"]["destination_counts"], json({0}));
}

// ---- other files, other versions ---------------------------------------------------------------------------------

// The first lines of a format-1 file, as neuroemu wrote them before the JSON header.
constexpr char kTextFormatFile[] = "neuroemu-mapping 1\nmodel tiny%20net\nchip rolls clock_hz 100000000 neurons 256\n";

TEST(MappingFile, RejectsOtherFilesAndVersions) {
    const std::string path = temp_path("bad.map");
    expect_load_error("", "the file ends inside its first line (truncated?)");
    expect_load_error("neuroemu-mapp", "the file ends inside its first line (truncated?)");
    expect_load_error("hello world\n", ": not a neuroemu mapping file (it should start with 'neuroemu-mapping 2'); "
                                       "make one with `neuroemu map`");
    expect_load_error("neuroemu-mapping two\n", "not a neuroemu mapping file");
    expect_load_error(kTextFormatFile, path + " was written by an older neuroemu (format 1); regenerate it with "
                                              "`neuroemu map`");
    const std::string good = saved_bytes(small_mapping());
    expect_load_error("neuroemu-mapping 3" + good.substr(std::strlen(kVersionLine) - 1),
                      path + " was written by a newer neuroemu (format 3; this one reads format 2)");
    MapFile f = split(good);
    f.header["version"] = 3;
    expect_load_error(f.bytes(), ": header: version: 3 disagrees with the first line's 2 (damaged?)");
    f = split(good);
    f.header["format"] = "neuroemu-snn";
    expect_load_error(f.bytes(), ": header: format: expected \"neuroemu-mapping\", found \"neuroemu-snn\"");
    f = split(good);
    f.header["body"]["encoding"] = "json";
    expect_load_error(f.bytes(), ": header: body.encoding: expected \"cbor\", found \"json\"");
}

// ---- truncated and damaged files --------------------------------------------------------------------------------

TEST(MappingFile, RejectsTruncationAtEverySection) {
    const std::string good = saved_bytes(small_mapping());
    const MapFile f = split(good);
    const size_t line = std::strlen(kVersionLine), header = line + kLengthBytes;
    const size_t body = header + header_length(good);
    ASSERT_EQ(body + f.body_bytes().size(), good.size());
    expect_load_error(good.substr(0, line - 1), "the file ends inside its first line (truncated?)");
    expect_load_error(good.substr(0, line + 3), ": header: the file ends inside the header length (truncated?)");
    expect_load_error(good.substr(0, header + 10),
                      fmt::format(": header: {} bytes long, but only 10 bytes follow (truncated?)", body - header));
    expect_load_error(good.substr(0, body), fmt::format(": body: the header says {} bytes, but 0 bytes follow it "
                                                        "(truncated or damaged?)",
                                                        good.size() - body));
    expect_load_error(good.substr(0, good.size() - 1), ": body: the header says");
    expect_load_error(good + "x", ": body: the header says");
    // Cut anywhere: always a DataError, whatever the cut hits. Every byte of the frame and the body; in the JSON
    // text, whose every cut the length check catches first, a sample (each file write costs milliseconds).
    for (size_t n = 0; n < good.size(); n += n < header + 8 || n >= body - 8 ? 1 : 29) {
        const std::string path = temp_path("cut.map");
        write_text(path, good.substr(0, n));
        EXPECT_THROW(load_mapping(path), DataError) << "cut at byte " << n;
    }
    // A body cut short but declared at its cut length: the CBOR decoder finds the end.
    const std::string cbor = f.body_bytes();
    for (size_t n = 0; n < cbor.size(); n += 3)
        expect_load_error(f.bytes(cbor.substr(0, n)), n == 0 ? ": body: not valid CBOR" : ": body: not valid CBOR");
}

TEST(MappingFile, RejectsHeadersThatAreNotJson) {
    const std::string good = saved_bytes(small_mapping());
    const MapFile f = split(good);
    const std::string text = "{\"format\": \"neuroemu-mapping\", \"version\": 2,,}\n";
    expect_load_error(kVersionLine + length_bytes(text.size()) + text + f.body_bytes(), ": header: not valid JSON: ");
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    expect_load_error(kVersionLine + length_bytes(deep.size()) + deep, ": header: not valid JSON: nested deeper than");
    const std::string list = "[1, 2]";
    expect_load_error(kVersionLine + length_bytes(list.size()) + list, ": header: expected an object, found a list");
}

struct Damage {
    std::function<void(MapFile&)> apply;
    std::string error;
};

void expect_damage_refused(const std::vector<Damage>& damages) {
    const std::string good = saved_bytes(small_mapping());
    for (const Damage& d : damages) {
        SCOPED_TRACE(d.error);
        MapFile f = split(good);
        d.apply(f);
        expect_load_error(f.bytes(), d.error);
    }
}

// Explicit synapse lists and recurrent inputs (tests/support/recurrent_model.h): a damaged list or flag is refused.
TEST(MappingFile, RejectsDamagedExplicitSynapsesAndRecurrentFlags) {
    ChipSpec chip;
    chip.core.neurons = 16;
    const std::string good = saved_bytes(map_network(test::recurrent_model(), chip, MapOptions{}));
    // Layer 0 is the hidden layer: its inputs are in->hidden, hidden->hidden (recurrent), out->hidden (recurrent).
    const std::vector<Damage> damages = {
        {[](MapFile& f) { f.body.erase("explicit"); }, ": body: missing field 'explicit'"},
        {[](MapFile& f) { f.body["explicit"]["ptr"].erase(f.body["explicit"]["ptr"].size() - 1); },
         "row offsets, 48 are left in explicit.ptr"},
        {[](MapFile& f) { f.body["explicit"]["target"].push_back(0); }, "0 row offsets and 1 targets left over"},
        {[](MapFile& f) { f.body["explicit"]["target"][0] = 100000; }, "must be a unit of the layer (0 to 47)"},
        {[](MapFile& f) { f.body["explicit"]["colour"] = json::array(); }, "body: explicit: unexpected field 'colour'"},
        {[](MapFile& f) { f.header["layers"][0]["inputs"][1]["recurrent"] = "yes"; }, "inputs[1].recurrent"},
        {[](MapFile& f) { f.header["layers"][0]["inputs"][1].erase("recurrent"); }, "only a recurrent input"},
    };
    for (const Damage& d : damages) {
        SCOPED_TRACE(d.error);
        MapFile f = split(good);
        d.apply(f);
        expect_load_error(f.bytes(), d.error);
    }
}

TEST(MappingFile, RejectsDamagedChipFieldsWithTheirRange) {
    expect_damage_refused({
        {[](MapFile& f) { f.header["chip"]["core"]["neurons"] = 0; },
         ": header: chip.core.neurons: expected an integer in [1, 16777216], found 0"},
        {[](MapFile& f) { f.header["chip"]["core"]["neurons"] = "many"; },
         ": header: chip.core.neurons: expected an integer in [1, 16777216], found \"many\""},
        {[](MapFile& f) { f.header["chip"]["core"]["neurons"] = 2.5; }, "found 2.5"},
        {[](MapFile& f) { f.header["chip"]["noc"]["flit_bits"] = UINT64_MAX; },
         ": header: chip.noc.flit_bits: expected an integer in [1, 4096], found 18446744073709551615"},
        {[](MapFile& f) { f.header["chip"]["clock_hz"] = 0.5; },
         ": header: chip.clock_hz: expected a finite number in [1, 1000000000000], found 0.5"},
        {[](MapFile& f) { f.header["chip"]["core"]["weight_sharing"] = 1; },
         ": header: chip.core.weight_sharing: expected true or false, found 1"},
        {[](MapFile& f) { f.header["chip"]["core"]["bias"] = "sram"; },
         ": header: chip.core.bias: expected one of register, synapse, found \"sram\""},
        {[](MapFile& f) { f.header["chip"]["noc"]["multicast"] = "flood"; },
         ": header: chip.noc.multicast: expected one of tree, source, found \"flood\""},
        {[](MapFile& f) { f.header["chip"]["name"] = 7; }, ": header: chip.name: expected a string, found 7"},
        {[](MapFile& f) { f.header["chip"]["noc"].erase("flit_bits"); },
         ": header: chip.noc: missing field 'flit_bits'"},
        {[](MapFile& f) { f.header["chip"]["noc"] = 4; }, ": header: chip.noc: expected an object, found 4"},
        {[](MapFile& f) { f.header["chip"]["core"]["colour"] = "red"; },
         ": header: chip.core: unexpected field 'colour'"},
        {[](MapFile& f) { f.header["chip"]["energy"] = json::object(); }, ": header: chip: unexpected field 'energy'"},
    });
}

TEST(MappingFile, RejectsDamagedHeaderRecords) {
    expect_damage_refused({
        {[](MapFile& f) { f.header.erase("model"); }, ": header: missing field 'model'"},
        {[](MapFile& f) { f.header["comment"] = "hi"; }, ": header: unexpected field 'comment'"},
        {[](MapFile& f) { f.header["mesh"]["chip_width"] = 0; }, ": mesh: chip_width 0 must be >= 1"},
        {[](MapFile& f) { f.header["mesh"]["chips_x"] = -1.5; },
         ": header: mesh.chips_x: expected an integer, found -1.5"},
        {[](MapFile& f) { f.header["host"]["x"] = 9; }, ": mesh: host position (9, 1) is outside the 4 x 2 mesh"},
        {[](MapFile& f) { f.header["graph"]["host_rate"] = -1; }, ": graph: host rate -1 must be a finite number"},
        {[](MapFile& f) { f.header["layers"][0]["kind"] = "blob"; },
         ": header: layers[0].kind: expected one of neuron, readout, gate, current, partial, found \"blob\""},
        {[](MapFile& f) { f.header["layers"][0]["shape"] = {8, 4}; },
         ": header: layers[0].shape: expected a list of 3, found a list of 2"},
        {[](MapFile& f) { f.header["layers"][0]["shape"][0] = -8; },
         ": layer 0: shape -8 x 4 x 4 must be at least 1 x 1 x 1"},
        {[](MapFile& f) { f.header["layers"][0]["bias"] = "yes"; },
         ": header: layers[0].bias: expected true or false, found \"yes\""},
        {[](MapFile& f) { f.header["layers"][0]["rate"] = "often"; },
         ": header: layers[0].rate: expected a number, found \"often\""},
        {[](MapFile& f) { f.header["layers"][0]["population"] = 99999999999; },
         ": header: layers[0].population: 99999999999 is out of range (-2147483648 to 2147483647)"},
        {[](MapFile& f) { f.header["layers"][0]["tiles"] = "2x1x1"; },
         ": header: layers[0].tiles: expected a list, found \"2x1x1\""},
        {[](MapFile& f) { f.header["layers"][0]["inputs"][0]["pattern"] = "pool"; },
         ": header: layers[0].inputs[0].pattern: expected one of conv, window, one_to_one, dense, explicit, found \"pool\""},
        {[](MapFile& f) { f.header["layers"][0]["inputs"][0]["kernel"][1] = -1; },
         ": layer 0 input 0: kernel 3 x -1 and stride 1 x 1 must be >= 1"},
        {[](MapFile& f) { f.header["layers"][0]["inputs"][0]["stride"] = {1, 1, 1}; },
         ": header: layers[0].inputs[0].stride: expected a list of 2, found a list of 3"},
        {[](MapFile& f) { f.header["layers"][2]["inputs"][0]["source"] = 3; },
         ": layer 2 input 0: source 3 must be the host or an earlier layer (0 to 1)"},
        {[](MapFile& f) { f.header["layers"][2]["inputs"][0]["source"] = -1; },
         ": header: layers[2].inputs[0].source: expected \"host\" or a layer index, found -1"},
        {[](MapFile& f) { f.header["layers"][2]["inputs"][0]["channels"][1] = 9; },
         ": layer 2 input 0: channels 0 to 9 are not a range inside the source's 8 channels"},
        {[](MapFile& f) { f.header["layers"][2]["inputs"][0]["extra"] = 1; },
         ": header: layers[2].inputs[0]: unexpected field 'extra'"},
        {[](MapFile& f) { f.header["layers"][2]["first_core"] = 4; },
         ": layer 2: first core 4 but the layers before it end at core 3"},
        {[](MapFile& f) { f.header["layers"][4]["cores"] = 1; }, ": 7 cores, but the layers' core ranges hold 6"},
        {[](MapFile& f) { f.header["layers"] = json::object(); }, ": header: layers: expected a list, found an object"},
    });
}

TEST(MappingFile, RejectsCountsBeforeAllocatingForThem) {
    expect_damage_refused({
        {[](MapFile& f) { f.header["counts"]["sources"] = 9; },
         ": header: counts: 7 cores and 9 sources, expected one source per core and the host"},
        {[](MapFile& f) { f.header["counts"] = {{"cores", 999999999999}, {"sources", 1000000000000},
                                                {"destinations", 14}}; },
         ": body: cores.layer: expected a list of 999999999999, found a list of 7"},
        {[](MapFile& f) { f.header["counts"]["destinations"] = INT64_C(1) << 60; },
         ": body: routes.destinations: expected a list of 1152921504606846976, found a list of 14"},
        {[](MapFile& f) { f.header["counts"]["destinations"] = -1; },
         ": header: counts.destinations: must not be negative"},
        {[](MapFile& f) { f.header["counts"]["cores"] = "7"; },
         ": header: counts.cores: expected an integer, found \"7\""},
    });
}

TEST(MappingFile, RejectsDamagedCoresAndRoutes) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    expect_damage_refused({
        {[](MapFile& f) { f.body["cores"]["synapses"][3] = 1.5; },
         ": core 3: synapses: expected an integer, found 1.5"},
        {[](MapFile& f) { f.body["cores"]["x"][3] = 99999999999; },
         ": core 3: x: 99999999999 is out of range (-2147483648 to 2147483647)"},
        {[](MapFile& f) { f.body["cores"]["layer"][3] = 40; }, ": core 3: layer 40 out of range (5 layers)"},
        {[](MapFile& f) { f.body["cores"]["layer"][3] = 1; }, ": core 3: layer 1, but cores 3 to 3 belong to layer 2"},
        {[](MapFile& f) { f.body["cores"]["c1"][3] = 11; },
         ": core 3: channels 0 to 11 is not a non-empty slice of layer 2's 10"},
        {[](MapFile& f) { f.body["cores"]["units"][1] = -64; },
         ": core 1: units -64, synapses 1728 and max_fan_in 27 must not be negative"},
        {[nan](MapFile& f) { f.body["cores"]["packets_per_step"][3] = nan; },
         ": core 3: packets_per_step nan must be a finite number >= 0"},
        {[](MapFile& f) { f.body["cores"]["x"][3] = 1, f.body["cores"]["y"][3] = 0; },
         ": core 3: position (1, 0) is also core 1's"},
        {[](MapFile& f) { f.body["cores"]["x"][3] = 4; }, ": core 3: position (4, 0) is outside the 4 x 2 mesh"},
        {[](MapFile& f) { f.body["cores"].erase("units"); }, ": body: cores: missing field 'units'"},
        {[](MapFile& f) { f.body["cores"]["x"][3] = {1, 0}; }, ": body: cores.x[3]: expected a number, found a list"},
        {[](MapFile& f) { f.body["cores"]["x"] = 3; }, ": body: cores.x: expected a list, found 3"},
        {[](MapFile& f) { f.body["routes"] = "none"; }, ": body: routes: expected an object, found \"none\""},
        {[](MapFile& f) { f.body.erase("routes"); }, ": body: missing field 'routes'"},
        {[](MapFile& f) { f.body["notes"] = json::object(); }, ": body: unexpected field 'notes'"},
        {[](MapFile& f) { f.body["cores"]["units"].erase(6); },
         ": body: cores.units: expected a list of 7, found a list of 6"},
        {[](MapFile& f) { f.body["cores"]["speed"] = json::array(); }, ": body: cores: unexpected field 'speed'"},
        {[](MapFile& f) { f.body["routes"]["destinations"][5] = 7; },
         ": route 1: destination 7 out of range (7 cores)"},
        {[](MapFile& f) { std::swap(f.body["routes"]["destinations"][2], f.body["routes"]["destinations"][3]); },
         ": route 1: destinations not ascending: 2 after 3 (sorted, each once)"},
        {[](MapFile& f) { f.body["routes"]["destinations"][0] = -2; },
         ": route 0: destination -2 out of range (7 cores)"},
        {[](MapFile& f) { f.body["routes"]["destinations"][0] = "2"; },
         ": body: routes.destinations[0]: expected an integer, found \"2\""},
        {[](MapFile& f) { f.body["routes"]["destination_counts"][1] = 99; },
         ": route 1: destination count 99 must be 0 to 13 (the destinations left of 14)"},
        {[](MapFile& f) { f.body["routes"]["destination_counts"][1] = -1; },
         ": route 1: destination count -1 must be 0 to 13"},
        {[](MapFile& f) { f.body["routes"]["destination_counts"][7] = 1; },
         ": body: routes.destination_counts: they add up to 13, but there are 14 destinations"},
        {[](MapFile& f) { f.body["routes"]["packets_per_step"][1] = -0.5; },
         ": route 1: packets_per_step -0.5 must be a finite number >= 0"},
        {[](MapFile& f) { f.body["routes"]["packets_per_step"].erase(7); },
         ": body: routes.packets_per_step: expected a list of 8, found a list of 7"},
        {[](MapFile& f) { f.body = json::array(); }, ": body: expected an object, found a list"},
    });
}

TEST(MappingFile, RejectsBodiesThatAreNotCbor) {
    const MapFile f = split(saved_bytes(small_mapping()));
    expect_load_error(f.bytes("this is not CBOR"), ": body: not valid CBOR: ");
    // Lists nested a million deep: refused at the first level the shape does not allow, not by exhausting the
    // stack.
    expect_load_error(f.bytes(std::string(1000000, '\x81') + '\x00'), ": body: expected an object, found a list");
    expect_load_error(f.bytes("\xa1\x65""cores\xa1\x61x" + std::string(1000000, '\x81') + '\x00'),
                      ": body: cores.x[0]: expected a number, found a list");
    // A list that says it holds 2^63 elements but holds none: refused at the end of the bytes, nothing reserved.
    expect_load_error(f.bytes("\xa1\x65""cores\xa1\x61x\x9b\x7f\xff\xff\xff\xff\xff\xff\xff"), ": body: not valid CBOR: ");
}

// Any single damaged byte: loaded (if it was harmless) or a DataError, never anything else.
TEST(MappingFile, AnyDamagedByteIsADataErrorOrHarmless) {
    const std::string good = saved_bytes(small_mapping());
    const std::string path = temp_path("flip.map");
    const size_t body = good.size() - split(good).body_bytes().size();
    // Every byte of the frame and the body; a sample of the JSON text, whose damage the JSON parser finds.
    for (size_t at = 0; at < good.size(); at += at < 40 || at >= body ? 1 : 7) {
        std::string bad = good;
        bad[at] = static_cast<char>(bad[at] ^ (at % 2 ? 0x01 : 0x80));
        write_text(path, bad);
        try {
            load_mapping(path);
        } catch (const DataError&) {
        }
    }
}

TEST(MappingFile, ReportsUnreadableAndUnwritableFiles) {
    EXPECT_THROW(
        {
            try {
                load_mapping(temp_path("does-not-exist.map"));
            } catch (const DataError& e) {
                EXPECT_THAT(e.what(), HasSubstr("does-not-exist.map: cannot open"));
                throw;
            }
        },
        DataError);
    EXPECT_THROW(
        {
            try {
                save_mapping(small_mapping(), "/nonexistent-dir/out.map");
            } catch (const DataError& e) {
                EXPECT_THAT(e.what(), HasSubstr("cannot write /nonexistent-dir/out.map: No such file or directory"));
                throw;
            }
        },
        DataError);
}

TEST(MappingFile, SaveRefusesAnInvalidMapping) {
    Mapping m = small_mapping();
    m.cores[3].x = m.cores[1].x, m.cores[3].y = m.cores[1].y;
    const std::string path = temp_path("invalid.map");
    std::remove(path.c_str());
    try {
        save_mapping(m, path);
        ADD_FAILURE() << "saved an invalid mapping";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), StartsWith(path + ": core 3: position (1, 0) is also core 1's"));
    }
    EXPECT_FALSE(std::ifstream(path).good());
}

TEST(MappingFile, ValidateChecksEveryChipFieldAgainstItsRange) {
    for (const ChipField& f : chip_fields()) {
        if (f.kind != ParamKind::Int) continue;
        SCOPED_TRACE(f.key);
        Mapping m = small_mapping();
        f.set(m.chip, static_cast<int64_t>(f.min) - 1);
        expect_invalid(m, fmt::format("{}: {} is not an integer in [{}, {}]", f.config_key(),
                                      static_cast<int64_t>(f.min) - 1, f.min, f.max));
        f.set(m.chip, static_cast<int64_t>(f.min));
        validate_mapping(m, "here");
    }
    Mapping m = small_mapping();
    m.chip.clock_hz = std::numeric_limits<double>::infinity();
    expect_invalid(m, "chip.clock_hz: inf is not a finite number in [1, 1000000000000]");
}

TEST(MappingFile, ValidateRejectsInconsistentMappings) {
    {
        Mapping m = small_mapping();
        m.cores[5].x = m.cores[2].x, m.cores[5].y = m.cores[2].y;
        expect_invalid(m, "core 5: position (1, 1) is also core 2's");
    }
    {
        Mapping m = small_mapping();
        m.cores[4].x = -1;
        expect_invalid(m, "core 4: position (-1, 1) is outside the 4 x 2 mesh");
    }
    {
        Mapping m = small_mapping();
        m.routes.dest[0] = 7;  // source 0 sends to core 7; there are 7 cores
        expect_invalid(m, "route 0: destination 7 out of range (7 cores)");
    }
    {
        Mapping m = small_mapping();
        std::swap(m.routes.dest[2], m.routes.dest[3]);  // source 1: 0 3 2 4 6
        expect_invalid(m, "route 1: destinations not ascending: 2 after 3");
    }
    {
        Mapping m = small_mapping();
        m.routes.offset.pop_back();
        expect_invalid(m, "routes: 8 offsets, expected 9 (the cores, then the host, then the end)");
    }
    {
        Mapping m = small_mapping();
        m.routes.offset[3] = m.routes.offset[2] - 1;
        expect_invalid(m, "route 2: offsets decrease");
    }
    {
        Mapping m = small_mapping();
        m.routes.dest.push_back(6);
        expect_invalid(m, "routes: offsets run from 0 to 14, expected 0 to 15");
    }
    {
        Mapping m = small_mapping();
        m.source_packets.pop_back();
        expect_invalid(m, "routes: 7 source packet rates, expected 8");
    }
    {
        Mapping m = small_mapping();
        m.graph.layers[2].cores = 2;  // overlaps layer 3's core
        expect_invalid(m, "layer 3: first core 4 but the layers before it end at core 5");
    }
    {
        Mapping m = small_mapping();
        m.graph.layers[4].cores = 1;  // core 6 belongs to no layer
        expect_invalid(m, "7 cores, but the layers' core ranges hold 6");
    }
    {
        Mapping m = small_mapping();
        m.cores[6].layer = 3;
        expect_invalid(m, "core 6: layer 3, but cores 5 to 6 belong to layer 4");
    }
    {
        Mapping m = small_mapping();
        m.cores[1].c1 = 9;
        expect_invalid(m, "core 1: channels 4 to 9 is not a non-empty slice of layer 0's 8");
    }
    {
        Mapping m = small_mapping();
        m.graph.layers[1].inputs[0].source = 1;
        expect_invalid(m, "layer 1 input 0: source 1 must be the host or an earlier layer (0 to 0)");
    }
    {
        Mapping m = small_mapping();
        m.graph.layers[1].rate = std::numeric_limits<double>::infinity();
        expect_invalid(m, "layer 1: rate inf must be a finite number >= 0");
    }
}

}  // namespace
}  // namespace neuroemu
