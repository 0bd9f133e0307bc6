// The mapper against brute force: every unit on exactly one core, every synapse stored once (counted unit by
// unit and checked against the SNN's own synapse counts), no core over a limit, every spike's route reaching
// exactly the cores that hold its targets, deterministic output; and the "does not fit" errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "convert/convert.h"
#include "common/memory_limit.h"
#include "mapping/map_file.h"
#include "mapping/mapping.h"
#include "mapping/routing.h"
#include "model/zoo.h"
#include "tests/support/recurrent_model.h"

namespace neuroemu {
namespace {

SnnModel zoo_snn(const std::string& arch, std::vector<int64_t> input, MaxPoolMode pool = MaxPoolMode::Gate) {
    ZooSpec z;
    z.arch = arch;
    z.input_chw = std::move(input);
    z.classes = 10;
    ConversionOptions o;
    o.normalise = false;
    o.max_pool = pool;
    return build_snn(fold_batchnorm(build_zoo(z)), Calibration{}, o);
}

struct Dims {
    int64_t c, h, w;
};

Dims source_dims(const MapGraph& g, int s) {
    if (s == kHostSource) return {g.host_channels, g.host_height, g.host_width};
    const auto& l = g.layers[static_cast<size_t>(s)];
    return {l.channels, l.height, l.width};
}

// The layer whose input `in` is.
const MapLayer& layer_reading(const MapGraph& g, const UnitInput& in) {
    for (const MapLayer& l : g.layers)
        if (&in >= l.inputs.data() && &in < l.inputs.data() + l.inputs.size()) return l;
    throw std::logic_error("input of no layer");
}

// Calls fn(sc, sy, sx) for every source unit that target unit (c, y, x) reads through `in`, by brute force.
template <typename Fn>
void for_each_input(const MapGraph& g, const UnitInput& in, int64_t c, int64_t y, int64_t x, Fn&& fn) {
    const Dims s = source_dims(g, in.source);
    const Window2d& w = in.window;
    switch (in.pattern) {
        case InputPattern::Conv:
        case InputPattern::Window:
            for (int64_t sc = in.c0; sc < in.c1; ++sc) {
                if (in.pattern == InputPattern::Window && sc != c) continue;
                for (int64_t ky = 0; ky < w.kernel_h; ++ky)
                    for (int64_t kx = 0; kx < w.kernel_w; ++kx) {
                        const int64_t sy = y * w.stride_h - w.pad_top + ky, sx = x * w.stride_w - w.pad_left + kx;
                        if (sy >= 0 && sy < s.h && sx >= 0 && sx < s.w) fn(sc, sy, sx);
                    }
            }
            break;
        case InputPattern::OneToOne: fn(c, y, x); break;
        case InputPattern::Dense:
            for (int64_t sc = in.c0; sc < in.c1; ++sc)
                for (int64_t sy = 0; sy < s.h; ++sy)
                    for (int64_t sx = 0; sx < s.w; ++sx) fn(sc, sy, sx);
            break;
        case InputPattern::Explicit: {  // every source unit whose synapse list names this target
            const MapLayer& t = layer_reading(g, in);
            const int64_t target = (c * t.height + y) * t.width + x;
            for (int64_t sc = in.c0; sc < in.c1; ++sc)
                for (int64_t sy = 0; sy < s.h; ++sy)
                    for (int64_t sx = 0; sx < s.w; ++sx) {
                        const auto u = static_cast<size_t>((sc * s.h + sy) * s.w + sx);
                        for (int32_t k = in.synapses->ptr[u]; k < in.synapses->ptr[u + 1]; ++k)
                            if (in.synapses->target[static_cast<size_t>(k)] == target) fn(sc, sy, sx);
                    }
            break;
        }
    }
}

// Which core holds each unit of each layer, from the cores' slices alone; fails on a unit held twice or never.
std::vector<std::vector<int32_t>> unit_owners(const Mapping& m) {
    std::vector<std::vector<int32_t>> owner(m.graph.layers.size());
    for (size_t li = 0; li < m.graph.layers.size(); ++li)
        owner[li].assign(static_cast<size_t>(m.graph.layers[li].units()), -1);
    for (size_t k = 0; k < m.cores.size(); ++k) {
        const Core& c = m.cores[k];
        const MapLayer& l = m.graph.layers[static_cast<size_t>(c.layer)];
        for (int64_t ch = c.c0; ch < c.c1; ++ch)
            for (int64_t y = c.y0; y < c.y1; ++y)
                for (int64_t x = c.x0; x < c.x1; ++x) {
                    auto& o = owner[static_cast<size_t>(c.layer)][static_cast<size_t>((ch * l.height + y) * l.width + x)];
                    EXPECT_EQ(o, -1) << "unit of " << l.name << " on two cores";
                    o = static_cast<int32_t>(k);
                }
    }
    for (size_t li = 0; li < owner.size(); ++li)
        for (int32_t o : owner[li]) EXPECT_GE(o, 0) << "a unit of " << m.graph.layers[li].name << " is on no core";
    return owner;
}

// Follows the route steps of every source: each port leads to a later step, deliveries are exactly the
// destination cores' routers (once each), and a tree visits each router once.
void check_routes(const Mapping& m) {
    std::vector<RouteStep> steps;
    const bool tree = m.chip.noc.multicast == "tree";
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        route_steps(m, s, steps);
        std::multiset<std::pair<int32_t, int32_t>> want, got;
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const Core& d = m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])];
            want.insert({d.x, d.y});
        }
        if (want.empty()) {
            EXPECT_TRUE(steps.empty());
            continue;
        }
        const int32_t sx = s < static_cast<int64_t>(m.cores.size()) ? m.cores[static_cast<size_t>(s)].x : m.host_x;
        const int32_t sy = s < static_cast<int64_t>(m.cores.size()) ? m.cores[static_cast<size_t>(s)].y : m.host_y;
        // Pending arrivals: routers a port points at that no step has taken up yet.
        std::multiset<std::pair<int32_t, int32_t>> pending;
        std::set<std::pair<int32_t, int32_t>> seen;
        bool at_source = true;
        for (const RouteStep& st : steps) {
            const std::pair<int32_t, int32_t> here{st.x, st.y};
            if (at_source || (!tree && here == std::pair<int32_t, int32_t>{sx, sy} && pending.empty())) {
                EXPECT_EQ(here, (std::pair<int32_t, int32_t>{sx, sy})) << "source " << s;
                at_source = false;
            } else {
                auto it = pending.find(here);
                ASSERT_NE(it, pending.end()) << "source " << s << " reaches (" << st.x << "," << st.y << ") from nowhere";
                pending.erase(it);
            }
            if (tree) {
                EXPECT_TRUE(seen.insert(here).second) << "tree of source " << s << " visits a router twice";
            }
            EXPECT_GE(st.x, 0);
            EXPECT_LT(st.x, m.mesh.width());
            EXPECT_GE(st.y, 0);
            EXPECT_LT(st.y, m.mesh.height());
            if (st.ports & kEast) pending.insert({st.x + 1, st.y});
            if (st.ports & kWest) pending.insert({st.x - 1, st.y});
            if (st.ports & kNorth) pending.insert({st.x, st.y + 1});
            if (st.ports & kSouth) pending.insert({st.x, st.y - 1});
            if (st.ports & kLocal) got.insert(here);
        }
        EXPECT_TRUE(pending.empty()) << "source " << s << ": a port leads nowhere";
        EXPECT_EQ(got, want) << "source " << s << " delivers to the wrong routers";
    }
}

// Everything the property test asks for, on one mapped model.
void check_mapping(const SnnModel& model, const Mapping& m) {
    const ChipSpec& chip = m.chip;
    const auto owner = unit_owners(m);

    // Limits, and synapses counted unit by unit.
    std::map<std::string, int64_t> per_projection;
    for (size_t k = 0; k < m.cores.size(); ++k) {
        const Core& c = m.cores[k];
        const MapLayer& l = m.graph.layers[static_cast<size_t>(c.layer)];
        EXPECT_LE(c.units, chip.core.neurons) << l.name;
        EXPECT_LE(c.synapses, chip.core.synapses) << l.name;
        EXPECT_LE(c.max_fan_in, chip.core.fan_in) << l.name;
        const int64_t bias = l.bias && chip.core.bias == BiasStorage::Synapse ? 1 : 0;
        int64_t synapses = 0, max_fan_in = 0;
        for (int64_t ch = c.c0; ch < c.c1; ++ch)
            for (int64_t y = c.y0; y < c.y1; ++y)
                for (int64_t x = c.x0; x < c.x1; ++x) {
                    int64_t fan_in = bias;
                    for (const auto& in : l.inputs) {
                        int64_t n = 0;
                        for_each_input(m.graph, in, ch, y, x, [&](int64_t, int64_t, int64_t) { ++n; });
                        fan_in += n;
                        if (!in.projection.empty()) per_projection[in.projection] += n;
                    }
                    synapses += fan_in;
                    max_fan_in = std::max(max_fan_in, fan_in);
                }
        EXPECT_LE(max_fan_in, c.max_fan_in) << l.name;  // the core's figure is exact or an upper bound
        EXPECT_LE(max_fan_in, chip.core.fan_in) << l.name;
        if (!chip.core.weight_sharing) {
            EXPECT_EQ(synapses, c.synapses) << l.name << " core " << k;
        }
    }
    // Each SNN synapse is stored once: the per-unit counts add up to the model's own count per projection.
    for (const auto& p : model.projections)
        EXPECT_EQ(per_projection[p.name], synapse_count(model, p)) << "projection " << p.name;

    // Routes: the destination set of each source is exactly the set of cores holding one of its targets.
    std::vector<std::set<int32_t>> need(m.cores.size() + 1);
    for (size_t li = 0; li < m.graph.layers.size(); ++li) {
        const MapLayer& l = m.graph.layers[li];
        for (const auto& in : l.inputs)
            for (int64_t ch = 0; ch < l.channels; ++ch)
                for (int64_t y = 0; y < l.height; ++y)
                    for (int64_t x = 0; x < l.width; ++x) {
                        const int32_t target = owner[li][static_cast<size_t>((ch * l.height + y) * l.width + x)];
                        for_each_input(m.graph, in, ch, y, x, [&](int64_t sc, int64_t sy, int64_t sx) {
                            if (in.source == kHostSource) {
                                need.back().insert(target);
                                return;
                            }
                            const MapLayer& s = m.graph.layers[static_cast<size_t>(in.source)];
                            need[static_cast<size_t>(owner[static_cast<size_t>(in.source)][static_cast<size_t>(
                                     (sc * s.height + sy) * s.width + sx)])]
                                .insert(target);
                        });
                    }
    }
    ASSERT_EQ(m.routes.sources(), static_cast<int64_t>(m.cores.size()) + 1);
    for (size_t s = 0; s < need.size(); ++s) {
        const std::set<int32_t> have(m.routes.dest.begin() + m.routes.offset[s], m.routes.dest.begin() + m.routes.offset[s + 1]);
        EXPECT_EQ(have, need[s]) << "destinations of source " << s;
    }

    // Placement: inside the mesh, one core per router.
    std::set<std::pair<int32_t, int32_t>> used;
    for (const Core& c : m.cores) {
        EXPECT_TRUE(c.x >= 0 && c.x < m.mesh.width() && c.y >= 0 && c.y < m.mesh.height());
        EXPECT_TRUE(used.insert({c.x, c.y}).second) << "two cores at (" << c.x << "," << c.y << ")";
    }
    check_routes(m);
}

void expect_same(const Mapping& a, const Mapping& b) {
    ASSERT_EQ(a.cores.size(), b.cores.size());
    for (size_t i = 0; i < a.cores.size(); ++i) {
        EXPECT_EQ(a.cores[i].x, b.cores[i].x);
        EXPECT_EQ(a.cores[i].y, b.cores[i].y);
        EXPECT_EQ(a.cores[i].c0, b.cores[i].c0);
        EXPECT_EQ(a.cores[i].y0, b.cores[i].y0);
        EXPECT_EQ(a.cores[i].synapses, b.cores[i].synapses);
    }
    EXPECT_EQ(a.routes.offset, b.routes.offset);
    EXPECT_EQ(a.routes.dest, b.routes.dest);
}

// Explicit (Sparse) and recurrent projections under the same brute-force checks, with and without partial sums.
TEST(Mapper, SparseRecurrentModelKeepsEveryInvariant) {
    const SnnModel model = test::recurrent_model(0.3, true);  // with a recurrent Linear projection too
    for (int64_t fan_in : {512, 12}) {
        ChipSpec chip;
        chip.core.neurons = 16;
        chip.core.fan_in = fan_in;
        SCOPED_TRACE(fan_in);
        check_mapping(model, map_network(model, chip, MapOptions{}));
    }
}

TEST(Mapper, RandomNetworksAndChipsKeepEveryInvariant) {
    struct Net {
        std::string arch;
        std::vector<int64_t> input;
        MaxPoolMode pool;
    };
    const std::vector<Net> nets = {{"resnet8", {1, 12, 12}, MaxPoolMode::Gate},
                                   {"plain8", {1, 10, 10}, MaxPoolMode::Gate},
                                   {"resnet18", {3, 24, 24}, MaxPoolMode::Gate},
                                   {"resnet18", {3, 20, 20}, MaxPoolMode::Current}};
    std::mt19937 rng(7);
    auto pick = [&](std::vector<int64_t> v) { return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)]; };
    for (int trial = 0; trial < 8; ++trial) {
        const Net& net = nets[static_cast<size_t>(trial) % nets.size()];
        const SnnModel model = zoo_snn(net.arch, net.input, net.pool);
        ChipSpec chip;
        chip.core.neurons = pick({16, 37, 64, 256});
        chip.core.fan_in = pick({64, 100, 512});
        chip.core.synapses = chip.core.neurons * chip.core.fan_in * pick({1, 2}) / 2 + chip.core.fan_in;
        chip.core.bias = trial % 3 == 0 ? BiasStorage::Register : BiasStorage::Synapse;
        chip.noc.multicast = trial % 2 ? "source" : "tree";
        if (trial % 4 == 3) chip.noc.width = 5, chip.noc.height = 4, chip.noc.chips = 0;
        MapOptions opt;
        opt.refine_passes = static_cast<int>(pick({0, 2}));
        std::vector<double> rates(model.populations.size());
        for (auto& r : rates) r = std::uniform_real_distribution<double>(0.0, 0.2)(rng);
        SCOPED_TRACE(::testing::Message() << "trial " << trial << " " << net.arch << " neurons " << chip.core.neurons
                                          << " fan-in " << chip.core.fan_in << " synapses " << chip.core.synapses);
        const Mapping m = map_network(model, chip, opt, &rates);
        check_mapping(model, m);
        expect_same(m, map_network(model, chip, opt, &rates));
        const RoutingStats rs = route(m);
        // Conservation: deliveries equal packets x destinations; tree hops never exceed unicast hops.
        double deliveries = 0;
        for (int64_t s = 0; s < m.routes.sources(); ++s)
            deliveries += m.source_packets[static_cast<size_t>(s)] *
                          static_cast<double>(m.routes.offset[static_cast<size_t>(s) + 1] - m.routes.offset[static_cast<size_t>(s)]);
        EXPECT_NEAR(rs.deliveries_per_step, deliveries, 1e-6 * (1 + deliveries));
        EXPECT_LE(rs.hops_per_step, rs.unicast_hops_per_step + 1e-6 * (1 + deliveries));
        if (chip.noc.multicast == "source") {
            EXPECT_NEAR(rs.hops_per_step, rs.unicast_hops_per_step, 1e-6 * (1 + deliveries));
        }
    }
}

TEST(Mapper, WeightSharingStoresEachKernelOnce) {
    const SnnModel model = zoo_snn("resnet8", {1, 12, 12});
    ChipSpec crossbar, shared;
    shared.core.weight_sharing = true;
    const Mapping a = map_network(model, crossbar, {}), b = map_network(model, shared, {});
    check_mapping(model, b);
    for (const Core& c : b.cores) {
        const MapLayer& l = b.graph.layers[static_cast<size_t>(c.layer)];
        int64_t expect = l.bias && shared.core.bias == BiasStorage::Synapse ? c.units : 0;
        for (const auto& in : l.inputs) {
            if (in.pattern == InputPattern::Conv)
                expect += (c.c1 - c.c0) * (in.c1 - in.c0) * in.window.kernel_h * in.window.kernel_w;
        }
        const bool conv_only = std::all_of(l.inputs.begin(), l.inputs.end(),
                                           [](const UnitInput& in) { return in.pattern == InputPattern::Conv; });
        if (conv_only) {
            EXPECT_EQ(c.synapses, expect) << l.name;
        }
    }
    int64_t sa = 0, sb = 0;
    for (const Core& c : a.cores) sa += c.synapses;
    for (const Core& c : b.cores) sb += c.synapses;
    EXPECT_LT(sb, sa / 4);
}

TEST(Mapper, FanInSplitAddsPartialSumUnitsWithinTheLimit) {
    const SnnModel model = zoo_snn("resnet8", {1, 12, 12});
    ChipSpec chip;
    chip.core.fan_in = 200;  // 32 x 9 = 288 and 64 x 9 = 576 inputs must be split
    const Mapping m = map_network(model, chip, {});
    int partials = 0;
    for (const auto& l : m.graph.layers) {
        if (l.kind != UnitKind::Partial) continue;
        ++partials;
        ASSERT_EQ(l.inputs.size(), 1u);
        EXPECT_LE(l.inputs[0].fan_in, chip.core.fan_in) << l.name;
        EXPECT_EQ(l.binding, "fan-in");
    }
    EXPECT_GT(partials, 0);
    check_mapping(model, m);
}

// The MappingError message of mapping `model` on `chip`, failing the test when none is thrown.
std::string mapping_error(const SnnModel& model, const ChipSpec& chip, const MapOptions& options = {}) {
    try {
        map_network(model, chip, options);
    } catch (const MappingError& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected MappingError";
    return "";
}

TEST(Mapper, DoesNotFitNamesTheLayerAndTheResource) {
    using ::testing::HasSubstr;
    const SnnModel model = zoo_snn("resnet8", {1, 12, 12});
    ChipSpec chip;
    chip.core.fan_in = 200;
    MapOptions fail;
    fail.fan_in = FanInStrategy::Fail;
    const std::string fan_in = mapping_error(model, chip, fail);
    EXPECT_THAT(fan_in, HasSubstr("does not fit"));
    EXPECT_THAT(fan_in, HasSubstr("chip.core.fan_in"));
    EXPECT_THAT(fan_in, HasSubstr("layer '"));
    // A kernel tap count above the fan-in cannot be split by channel.
    chip.core.fan_in = 8;
    EXPECT_THAT(mapping_error(model, chip), HasSubstr("one input channel"));
    // One unit's synapses beyond a core's synapse memory.
    ChipSpec tiny;
    tiny.core.synapses = 100;
    EXPECT_THAT(mapping_error(model, tiny), HasSubstr("chip.core.synapses"));
    // A fixed mesh too small for the cores.
    ChipSpec small;
    small.noc.width = 2, small.noc.height = 2, small.noc.chips = 1;
    EXPECT_THAT(mapping_error(model, small), HasSubstr("chip.noc.chips"));
}

TEST(Mapper, MeshSizing) {
    ChipSpec auto_size;
    Mesh m = size_mesh(auto_size, 10);
    EXPECT_EQ(m.width(), 4);
    EXPECT_EQ(m.height(), 3);
    ChipSpec fixed;
    fixed.noc.width = 4, fixed.noc.height = 2, fixed.noc.chips = 0;
    m = size_mesh(fixed, 30);  // 4 chips of 8 cores: a 2 x 2 grid
    EXPECT_EQ(m.chips_x * m.chips_y, 4);
    EXPECT_EQ(m.width(), 8);
    EXPECT_EQ(m.height(), 4);
    EXPECT_EQ(m.chip_of(4, 0), 1);
    EXPECT_EQ(m.chip_of(0, 2), 2);
    fixed.noc.chips = 6;  // exactly six chips, as square as possible: 3 x 2
    m = size_mesh(fixed, 30);
    EXPECT_EQ(m.chips_x, 3);
    EXPECT_EQ(m.chips_y, 2);
}

TEST(Mapper, HugeMeshesAreRefusedWithEstimateAndLimitBeforeAllocating) {
    // The largest chip the YAML ranges accept, 32768 x 32768 cores: 2^30 routers x 40 bytes of routing state
    // (2 int32 + 4 float64) = 42949672960 bytes, against a budget of 1 GiB.
    ChipSpec big;
    big.noc.width = 1 << 15, big.noc.height = 1 << 15, big.noc.chips = 1;
    {
        ScopedMemoryLimit budget(INT64_C(1) << 30);
        try {
            size_mesh(big, 10);
            FAIL() << "expected MappingError";
        } catch (const MappingError& e) {
            EXPECT_THAT(e.what(), ::testing::HasSubstr("a 32768 x 32768 mesh (1073741824 routers, 40 bytes of routing state "
                                            "each) needs an estimated 42949672960 bytes"));
            EXPECT_THAT(e.what(), ::testing::HasSubstr("memory limit of 1073741824 bytes"));
        }
    }
    // 1024 x 1024 chips of 1024 x 1024 cores (every field in range): a 2^20-a-side mesh, 2^40 routers, 44 TB.
    big.noc.width = 1 << 10, big.noc.height = 1 << 10, big.noc.chips = 1 << 20;
    try {
        size_mesh(big, 10);
        FAIL() << "expected MappingError";
    } catch (const MappingError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("needs an estimated 43980465111040 bytes"));
    }
    // A prime number of chips lines them up in one row: 32768 x 1048573 routers wide, which overflowed int32.
    big.noc.width = 1 << 15, big.noc.height = 1 << 15, big.noc.chips = 1048573;
    EXPECT_THROW(
        try { size_mesh(big, 10); } catch (const MappingError& e) {
            EXPECT_THAT(e.what(), ::testing::HasSubstr("a 34359640064 x 32768 mesh is beyond what neuroemu models"));
            throw;
        },
        MappingError);
}

TEST(Mapper, TilesFollowTrafficWhenCoresTie) {
    // With all units fitting one core per layer either way, the tile is the whole layer: one destination.
    const SnnModel model = zoo_snn("resnet8", {1, 8, 8});
    ChipSpec big;
    big.core.neurons = 4096;
    big.core.synapses = 1 << 24;
    big.core.fan_in = 1 << 20;
    const Mapping m = map_network(model, big, {});
    for (const auto& l : m.graph.layers) EXPECT_EQ(l.cores, 1) << l.name;
    check_mapping(model, m);
}

TEST(Mapper, InterChipHopsAreCounted) {
    const SnnModel model = zoo_snn("resnet8", {1, 12, 12});
    ChipSpec chip;
    chip.core.neurons = 64;
    chip.noc.width = 4, chip.noc.height = 4, chip.noc.chips = 0;
    const Mapping m = map_network(model, chip, {});
    ASSERT_GT(m.mesh.chips_x * m.mesh.chips_y, 1);
    const RoutingStats rs = route(m);
    // Brute force: links whose ends lie on different chips.
    double inter = 0;
    std::vector<RouteStep> steps;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        route_steps(m, s, steps);
        for (const auto& st : steps) {
            const double p = m.source_packets[static_cast<size_t>(s)];
            if ((st.ports & kEast) && (st.x + 1) % chip.noc.width == 0) inter += p;
            if ((st.ports & kWest) && st.x % chip.noc.width == 0) inter += p;
            if ((st.ports & kNorth) && (st.y + 1) % chip.noc.height == 0) inter += p;
            if ((st.ports & kSouth) && st.y % chip.noc.height == 0) inter += p;
        }
    }
    EXPECT_GT(inter, 0);
    EXPECT_NEAR(rs.inter_chip_hops_per_step, inter, 1e-9 * inter);
}

TEST(Mapper, MappingFileRoundTripOfARealMapping) {
    const SnnModel model = zoo_snn("resnet18", {3, 24, 24});
    ChipSpec chip;
    chip.core.neurons = 64;
    chip.noc.width = 6, chip.noc.height = 5, chip.noc.chips = 0;
    const Mapping m = map_network(model, chip, {});
    const std::string path = ::testing::TempDir() + "/neuroemu_real.map";
    save_mapping(m, path);
    const Mapping back = load_mapping(path);
    expect_same(m, back);
    EXPECT_EQ(back.mesh.chips_x, m.mesh.chips_x);
    EXPECT_EQ(back.graph.layers.size(), m.graph.layers.size());
    EXPECT_EQ(back.source_packets, m.source_packets);
    const RoutingStats a = route(m), b = route(back);
    EXPECT_EQ(a.table_entries, b.table_entries);
    EXPECT_EQ(a.link_packets, b.link_packets);
}

}  // namespace
}  // namespace neuroemu
