// The mapping file (mapping/map_file.h, docs/mapping-format.md): a lossless round trip of every field, compact
// route lines, and damaged files rejected with a DataError naming the file, the line and what was expected, never
// a crash or a huge allocation (this suite also runs under ASan/UBSan).
#include "mapping/map_file.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/error.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

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

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    return text;
}

// 1-based number of the first line starting with `prefix`.
int line_of(const std::string& text, const std::string& prefix) {
    const auto lines = split_lines(text);
    for (size_t i = 0; i < lines.size(); ++i)
        if (lines[i].rfind(prefix, 0) == 0) return static_cast<int>(i) + 1;
    ADD_FAILURE() << "no line starts with '" << prefix << "'";
    return 0;
}

std::string with_line(const std::string& text, int line, const std::string& replacement) {
    auto lines = split_lines(text);
    lines.at(static_cast<size_t>(line) - 1) = replacement;
    return join_lines(lines);
}

// Replaces field `field` (0-based, space-separated) of line `line`.
std::string with_field(const std::string& text, int line, size_t field, const std::string& value) {
    auto lines = split_lines(text);
    std::vector<std::string> fields;
    std::istringstream in(lines.at(static_cast<size_t>(line) - 1));
    for (std::string f; in >> f;) fields.push_back(f);
    fields.at(field) = value;
    std::string joined;
    for (const auto& f : fields) joined += (joined.empty() ? "" : " ") + f;
    lines[static_cast<size_t>(line) - 1] = joined;
    return join_lines(lines);
}

// Writes `text` as a mapping file; load_mapping must throw a DataError "<path>:<line>: ..." mentioning `what`.
void expect_load_error(const std::string& text, int line, const std::string& what) {
    const std::string path = temp_path("bad.map");
    write_text(path, text);
    try {
        load_mapping(path);
        ADD_FAILURE() << "loaded; expected line " << line << ": " << what;
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), StartsWith(fmt::format("{}:{}: ", path, line)));
        EXPECT_THAT(e.what(), HasSubstr(what));
    }
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

std::string saved_text(const Mapping& m) {
    const std::string path = temp_path("good.map");
    save_mapping(m, path);
    return read_text(path);
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
    m.chip.clock_hz = real() + 1;
    m.chip.core.neurons = uniform(1, 1024), m.chip.core.synapses = uniform(1, INT64_C(1) << 40);
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

TEST(MappingFile, RoundTripKeepsEveryField) {
    const Mapping m = small_mapping();
    validate_mapping(m, "small");
    const std::string path = temp_path("small.map");
    save_mapping(m, path);
    expect_same(m, load_mapping(path));
}

TEST(MappingFile, WritesTheDocumentedLines) {
    const auto lines = split_lines(saved_text(small_mapping()));
    ASSERT_EQ(lines.size(), 36u);
    EXPECT_EQ(lines[0], "neuroemu-mapping 1");
    EXPECT_EQ(lines[1], "model resnet%20tiny%20%231");
    EXPECT_EQ(lines[2], "chip rolls-like clock_hz 125000000 neurons 64 synapses 4096 fan_in 100 weight_bits 6 "
                        "weight_sharing 1 bias register sops_per_cycle 3 neuron_updates_per_cycle 5 input_queue 7");
    EXPECT_EQ(lines[3], "noc width 2 height 2 chips 2 buffer_depth 8 flit_bits 64 pipeline_cycles 2 link_cycles 3 "
                        "inter_chip_link_cycles 40 multicast source");
    EXPECT_EQ(lines[4], "mesh 2 2 2 1 host 0 1");
    EXPECT_EQ(lines[5], "graph graph%20model host 3 4 4 rate 0.30000000000000004");
    EXPECT_EQ(lines[6], "layers 5");
    EXPECT_EQ(lines[7], "layer 0 conv%201%23a neuron population 1 part -1 shape 8 4 4 bias 1 rate 0.3333333333333333 "
                        "tile 4 4 4 tiles 2 1 1 cores 0 2 binding neurons inputs 1");
    EXPECT_EQ(lines[8], "input host conv kernel 3 3 stride 1 1 pads 1 1 1 1 ceil_mode 0 channels 0 3 fan_in 27 "
                        "projection conv%201%23a");
    EXPECT_EQ(lines[10], "input 0 window kernel 3 2 stride 2 1 pads 0 1 1 0 ceil_mode 1 channels 0 8 fan_in 6 "
                         "projection pool%25x");
    EXPECT_EQ(lines[17], "input 3 one_to_one kernel 1 1 stride 1 1 pads 0 0 0 0 ceil_mode 0 channels 0 10 fan_in 1 "
                         "projection -");
    EXPECT_EQ(lines[18], "cores 7");
    EXPECT_EQ(lines[19], "0 0 0 4 0 4 0 4 64 1728 27 5e-324 0 0");
    EXPECT_EQ(lines[25], "6 4 5 10 0 1 0 1 5 10 2 1.7976931348623157e+308 3 0");
    EXPECT_EQ(lines[26], "routes 8");
    EXPECT_EQ(lines[27], "0 0.5 2");
    EXPECT_EQ(lines[28], "1 0.6666666666666666 0 2-4 6");  // runs as ranges, singletons alone
    EXPECT_EQ(lines[29], "2 1e-07 3-4");
    EXPECT_EQ(lines[32], "5 0");  // no destinations
    EXPECT_EQ(lines[34], "7 4.8 0-1");
    EXPECT_EQ(lines[35], "end");
}

TEST(MappingFile, NamesOfAnyBytesRoundTrip) {
    const std::vector<std::string> names = {"", "-", "--", "%", "%2D", "a b", "#", " lead", "trail ", "\t\r\n",
                                            "\x7f", "\xc3\xbc" "ber", std::string("nul\0byte", 8), "layer1.0/conv2"};
    for (const auto& n : names) {
        SCOPED_TRACE(n);
        Mapping m = small_mapping();
        m.model = n, m.chip.name = n, m.graph.model = n;
        for (auto& l : m.graph.layers) {
            l.name = n, l.binding = n;
            for (auto& in : l.inputs) in.projection = n;
        }
        const std::string text = saved_text(m);
        EXPECT_EQ(split_lines(text).size(), 36u) << "a name split a line";
        expect_same(m, load_mapping(temp_path("good.map")));
    }
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
        EXPECT_EQ(read_text(path), first);  // the text is canonical
    }
}

TEST(MappingFile, EmptyMappingRoundTrips) {
    // No layers, no cores: only the host's (empty) route line.
    Mapping m;
    m.mesh.chip_width = 1, m.mesh.chip_height = 1;
    m.routes.offset = {0, 0};
    m.source_packets = {0};
    const std::string path = temp_path("empty.map");
    save_mapping(m, path);
    expect_same(m, load_mapping(path));
    EXPECT_THAT(read_text(path), HasSubstr("layers 0\ncores 0\nroutes 1\n0 0\nend\n"));
}

TEST(MappingFile, ReaderAcceptsRunsOfSpacesAndUnmergedRuns) {
    std::string text = saved_text(small_mapping());
    const int route = line_of(text, "1 0.666");
    text = with_line(text, route, "1   0.6666666666666666  0 2 3-3 4 6");
    text = with_line(text, line_of(text, "mesh"), "mesh  2 2  2 1 host 0 1");
    const std::string path = temp_path("spaces.map");
    write_text(path, text);
    expect_same(small_mapping(), load_mapping(path));
}

TEST(MappingFile, RejectsOtherFilesAndVersions) {
    const std::string good = saved_text(small_mapping());
    expect_load_error("", 1, "the file ends where 'neuroemu-mapping <version>' was expected");
    expect_load_error("hello world\n", 1, "not a neuroemu mapping file (it should start with 'neuroemu-mapping 1')");
    expect_load_error(with_line(good, 1, "neuroemu-mapping 2"), 1,
                      "unsupported mapping format version 2 (this neuroemu reads 1)");
    expect_load_error(with_line(good, 1, "neuroemu-mapping one"), 1, "version: expected an integer, found 'one'");
    expect_load_error(with_line(good, 1, "neuroemu-mapping 1 extra"), 1, "unexpected 'extra' after the last field");
}

TEST(MappingFile, RejectsMissingOrMisspeltLines) {
    const std::string good = saved_text(small_mapping());
    expect_load_error(with_line(good, 2, "modle x"), 2, "expected 'model <name>', found 'modle x'");
    const int cores = line_of(good, "cores ");
    expect_load_error(with_line(good, cores, "corez 7"), cores, "expected 'cores <count>', found 'corez 7'");
    expect_load_error(with_field(good, 3, 2, "clock"), 3, "chip: expected 'clock_hz', found 'clock'");
    expect_load_error(with_line(good, 3, "chip rolls clock_hz 1e8 neurons 64"), 3,
                      "chip: the line ends where 'synapses' was expected");
    const int layer0 = line_of(good, "layer 0");
    expect_load_error(with_field(good, layer0, 1, "1"), layer0, "layer 0: expected 'layer 0 ...', found layer 1");
    expect_load_error(with_field(good, cores + 3, 0, "7"), cores + 3, "core 2: expected core 2, found core 7");
    expect_load_error(with_line(good, cores + 3, split_lines(good)[static_cast<size_t>(cores) + 2] + " 9"), cores + 3,
                      "core 2: unexpected '9' after the last field");
    expect_load_error(with_line(good, cores + 3, "2 1 0 8 0 2"), cores + 3,
                      "core 2: the line ends where x0 was expected");
    const int routes = line_of(good, "routes");
    expect_load_error(with_field(good, routes + 3, 0, "3"), routes + 3, "route 2: expected route 2, found route 3");
}

TEST(MappingFile, RejectsTruncatedFiles) {
    const std::string good = saved_text(small_mapping());
    const int end = line_of(good, "end");
    expect_load_error(good.substr(0, good.size() - 4), end, "the file ends where 'end' was expected (truncated?)");
    expect_load_error(good.substr(0, good.size() - 1), end, "does not end with a newline (truncated?)");
    const int routes = line_of(good, "routes");
    auto lines = split_lines(good);
    lines.resize(static_cast<size_t>(routes) + 2);
    expect_load_error(join_lines(lines), routes, "routes 8, but the file has only 2 more lines (truncated?)");
    // Cut anywhere, the file is refused with a DataError: every line's end is checked, and 'end' closes the file.
    // The cuts: each line's start, its second byte, its middle and its last byte (every byte costs seconds of
    // file rewrites on a slow disk and finds nothing more).
    std::vector<size_t> cuts;
    for (size_t start = 0; start < good.size();) {
        const size_t end_of_line = good.find('\n', start);
        for (size_t n : {start, start + 1, (start + end_of_line) / 2, end_of_line}) cuts.push_back(n);
        start = end_of_line + 1;
    }
    for (size_t n : cuts) {
        const std::string path = temp_path("cut.map");
        write_text(path, good.substr(0, n));
        EXPECT_THROW(load_mapping(path), DataError) << "cut at byte " << n;
    }
}

TEST(MappingFile, RejectsTrailingGarbage) {
    const std::string good = saved_text(small_mapping());
    expect_load_error(good + "junk\n", line_of(good, "end") + 1, "unexpected text after 'end'");
    expect_load_error(good + "\n", line_of(good, "end") + 1, "unexpected text after 'end'");
    expect_load_error(with_line(good, line_of(good, "end"), "end x"), line_of(good, "end"),
                      "unexpected 'x' after the last field");
}

TEST(MappingFile, RejectsNonNumericAndOutOfRangeFields) {
    const std::string good = saved_text(small_mapping());
    const int core3 = line_of(good, "cores ") + 4;
    expect_load_error(with_field(good, core3, 9, "12x"), core3, "core 3: synapses: expected an integer, found '12x'");
    expect_load_error(with_field(good, core3, 12, "99999999999"), core3, "core 3: x 99999999999 is out of range");
    expect_load_error(with_field(good, core3, 11, "fast"), core3,
                      "core 3: packets_per_step: expected a number, found 'fast'");
    expect_load_error(with_field(good, core3, 11, "nan"), core3,
                      "core 3: packets_per_step nan must be a finite number >= 0");
    expect_load_error(with_field(good, core3, 11, "1e999"), core3, "core 3: packets_per_step 1e999 is out of range");
    const int layer0 = line_of(good, "layer 0");
    expect_load_error(with_field(good, layer0, 15, "often"), layer0, "layer 0: rate: expected a number, found 'often'");
    expect_load_error(with_field(good, layer0, 13, "yes"), layer0, "layer 0: bias: expected 0 or 1, found 'yes'");
    expect_load_error(with_field(good, layer0, 3, "blob"), layer0,
                      "layer 0: kind 'blob' is not one of neuron, readout, gate, current, partial");
    expect_load_error(with_field(good, layer0 + 1, 2, "pool"), layer0 + 1,
                      "layer 0 input 0: pattern 'pool' is not one of conv, window, one_to_one, dense");
    expect_load_error(with_field(good, 3, 15, "sram"), 3, "chip: bias 'sram' is not one of register, synapse");
    expect_load_error(with_field(good, 4, 18, "flood"), 4, "noc: multicast 'flood' is not one of tree, source");
    expect_load_error(with_field(good, 2, 1, "bad%G1"), 2, "'%' must be followed by two hex digits");
    expect_load_error(with_field(good, 2, 1, "bad%4"), 2, "'%' must be followed by two hex digits");
}

TEST(MappingFile, RejectsNegativeSizes) {
    const std::string good = saved_text(small_mapping());
    const int layer0 = line_of(good, "layer 0");
    expect_load_error(with_field(good, layer0, 9, "-8"), layer0,
                      "layer 0: shape -8 x 4 x 4 must be at least 1 x 1 x 1");
    expect_load_error(with_field(good, line_of(good, "cores "), 1, "-1"), line_of(good, "cores "),
                      "cores -1 must not be negative");
    expect_load_error(with_field(good, layer0, 30, "-1"), layer0, "layer 0: inputs -1 must not be negative");
    const int core1 = line_of(good, "cores ") + 2;
    expect_load_error(with_field(good, core1, 8, "-64"), core1, "core 1: units -64, synapses 1728 and max_fan_in 27");
    expect_load_error(with_field(good, 5, 1, "0"), 5, "mesh: chip_width 0 must be >= 1");
    expect_load_error(with_field(good, 3, 5, "0"), 3, "chip: neurons 0 must be >= 1");
    expect_load_error(with_field(good, layer0 + 1, 5, "-1"), layer0 + 1,
                      "layer 0 input 0: kernel 3 x -1 and stride 1 x 1 must be >= 1");
}

TEST(MappingFile, RejectsHugeCountsWithoutAllocating) {
    const std::string good = saved_text(small_mapping());
    const int cores = line_of(good, "cores ");
    expect_load_error(with_line(good, cores, "cores 999999999999"), cores,
                      "cores 999999999999, but the file has only 17 more lines (truncated?)");
    expect_load_error(with_line(good, 7, "layers 999999999999"), 7, "layers 999999999999, but the file has only");
    expect_load_error(with_line(good, 7, "layers 99999999999999999999"), 7,
                      "layers 99999999999999999999 is out of range");
    const int layer0 = line_of(good, "layer 0");
    expect_load_error(with_field(good, layer0, 30, "999999999"), layer0, "layer 0: inputs 999999999, but the file");
    const int routes = line_of(good, "routes");
    expect_load_error(with_line(good, routes, "routes 9"), routes, "routes 9: expected 8 sources (the 7 cores, then");
    // A count the file holds, but not the one the layers' core ranges add up to.
    const int layer4 = line_of(good, "layer 4");
    expect_load_error(with_field(good, layer4, 26, "1"), cores, "7 cores, but the layers' core ranges hold 6");
}

TEST(MappingFile, RejectsCoresInconsistentWithLayersAndMesh) {
    const std::string good = saved_text(small_mapping());
    const int core3 = line_of(good, "cores ") + 4;
    expect_load_error(with_field(good, core3, 1, "40"), core3, "core 3: layer 40 out of range (5 layers)");
    expect_load_error(with_field(good, core3, 1, "1"), core3, "core 3: layer 1, but cores 3 to 3 belong to layer 2");
    expect_load_error(with_field(good, core3, 3, "11"), core3,
                      "core 3: channels 0 to 11 is not a non-empty slice of layer 2's 10");
    expect_load_error(with_field(good, core3, 5, "0"), core3, "core 3: rows 0 to 0 is not a non-empty slice");
    expect_load_error(with_field(good, core3, 12, "4"), core3, "core 3: position (4, 0) is outside the 4 x 2 mesh");
    // Core 3 moved onto core 1's router: reported at the later core.
    std::string same = with_field(good, core3, 12, "1");
    same = with_field(same, core3, 13, "0");
    expect_load_error(same, core3, "core 3: position (1, 0) is also core 1's");
    const int layer2 = line_of(good, "layer 2");
    expect_load_error(with_field(good, layer2, 25, "4"), layer2,
                      "layer 2: first core 4 but the layers before it end at core 3");
    expect_load_error(with_field(good, layer2 + 1, 1, "3"), layer2 + 1,
                      "layer 2 input 0: source 3 must be the host or an earlier layer (0 to 1)");
    expect_load_error(with_field(good, layer2 + 1, 1, "-1"), layer2 + 1,
                      "layer 2 input 0: source -1 must be the host or an earlier layer");
    expect_load_error(with_field(good, layer2 + 1, 18, "9"), layer2 + 1,
                      "layer 2 input 0: channels 0 to 9 are not a range inside the source's 8 channels");
    expect_load_error(with_field(good, 5, 6, "9"), 5, "mesh: host position (9, 1) is outside the 4 x 2 mesh");
}

TEST(MappingFile, RejectsBadDestinations) {
    const std::string good = saved_text(small_mapping());
    const int route1 = line_of(good, "1 0.666");
    const std::string head = "1 0.6666666666666666 ";
    expect_load_error(with_line(good, route1, head + "0 2-4 7"), route1,
                      "route 1: destination 7 out of range (7 cores)");
    expect_load_error(with_line(good, route1, head + "0-99"), route1,
                      "route 1: destination 0-99 out of range (7 cores)");
    expect_load_error(with_line(good, route1, head + "99999999999999999999"), route1, "out of range (7 cores)");
    expect_load_error(with_line(good, route1, head + "2-4 0"), route1,
                      "route 1: destinations not ascending: 0 after 4 (sorted, each once)");
    expect_load_error(with_line(good, route1, head + "2 2"), route1, "route 1: destinations not ascending: 2 after 2");
    expect_load_error(with_line(good, route1, head + "0-3 3-5"), route1, "not ascending: 3-5 after 3");
    expect_load_error(with_line(good, route1, head + "4-2"), route1, "route 1: range 4-2 runs backwards");
    for (const char* bad : {"x", "-3", "3-", "1--2", "1-+2", "+1", "1-2-3", "0x1", "1.5"})
        expect_load_error(with_line(good, route1, head + bad), route1,
                          fmt::format("route 1: expected a destination core 'a' or a range 'a-b', found '{}'", bad));
    expect_load_error(with_line(good, route1, "1 -0.5 0"), route1, "route 1: packets_per_step -0.5 must be a finite");
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
