// The NoC alone under synthetic traffic (router/noc_traffic.h), against textbook formulas: zero-load latency, mean
// Manhattan distance, channel-load and bisection bounds, conservation of packets, determinism.
//
// SystemC allows one elaboration per process and no module may be created after the first sc_start: every mesh
// this test binary uses is built together on first use (meshes()), so the tests run in one process or one process
// each (ctest) alike. Several measurements share a mesh; each starts from an empty network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <systemc>
#include <vector>

#include "common/error.h"
#include "router/noc_traffic.h"

// libsystemc calls sc_main when its main() is the one linked; then it runs the tests. With GoogleTest's main it is
// never called.
int sc_main(int argc, char* argv[]) {
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

namespace neuroemu {
namespace {

ChipSpec rolls() { return ChipSpec{}; }  // defaults = configs/chips/rolls.yaml: buffer 4, 32-bit flits, P 3, L 1

ChipSpec with(int64_t buffer_depth, int64_t pipeline_cycles, int64_t link_cycles) {
    ChipSpec c;
    c.noc.buffer_depth = buffer_depth;
    c.noc.pipeline_cycles = pipeline_cycles;
    c.noc.link_cycles = link_cycles;
    return c;
}

struct Meshes {
    NocSim rolls8{rolls(), 8, 8};
    NocSim rolls4{rolls(), 4, 4};
    NocSim slow8{with(8, 1, 2), 8, 8};   // other timings: P = 1, L = 2, 8-flit buffers
    NocSim tight8{with(1, 3, 1), 8, 8};  // one-flit buffers
    NocSim rect{rolls(), 5, 3};
    NocSim twin_a{rolls(), 4, 4}, twin_b{rolls(), 4, 4};  // determinism: fresh meshes, same options
};
Meshes& meshes() {
    static Meshes m;
    return m;
}

// The textbook zero-load latency, written out here rather than taken from the library: the source router's
// pipeline P, then per link its traversal L and the next router's pipeline, then F flits stream into the sink.
int64_t zero_load(const ChipSpec& c, int64_t hops, int64_t flits) {
    return c.noc.pipeline_cycles + hops * (c.noc.link_cycles + c.noc.pipeline_cycles) + flits * c.noc.link_cycles;
}

double zero_load(const ChipSpec& c, double hops, int64_t flits) {
    const double p = static_cast<double>(c.noc.pipeline_cycles), l = static_cast<double>(c.noc.link_cycles);
    return p + hops * (l + p) + static_cast<double>(flits) * l;
}

// Mean Manhattan distance between distinct nodes of a w x h mesh, by brute force.
double brute_mean_distance(int w, int h) {
    double sum = 0;
    int64_t pairs = 0;
    for (int a = 0; a < w * h; ++a)
        for (int b = 0; b < w * h; ++b)
            if (a != b) sum += std::abs(a % w - b % w) + std::abs(a / w - b / w), ++pairs;
    return sum / static_cast<double>(pairs);
}

// The busiest link's load (packets per cycle at one packet per injecting node per cycle), by walking every XY route.
double brute_max_link(int w, int h, const std::string& pattern, double f) {
    const int n = w * h;
    std::map<std::pair<int, int>, double> load;  // (router, direction) -> packets per cycle
    auto walk = [&](int s, int d, double wt) {
        int x = s % w, y = s / w;
        const int dx = d % w, dy = d / w;
        while (x != dx) {
            load[{y * w + x, dx > x ? 0 : 1}] += wt;
            x += dx > x ? 1 : -1;
        }
        while (y != dy) {
            load[{y * w + x, dy > y ? 2 : 3}] += wt;
            y += dy > y ? 1 : -1;
        }
    };
    const int centre = (h / 2) * w + w / 2;
    for (int s = 0; s < n; ++s) {
        if (pattern == "transpose") {
            const int t = (s % w) * w + s / w;
            if (t != s) walk(s, t, 1.0);
            continue;
        }
        const double hot = pattern == "hotspot" && s != centre ? f : 0.0;
        if (hot > 0) walk(s, centre, hot);
        for (int d = 0; d < n; ++d)
            if (d != s) walk(s, d, (1.0 - hot) / (n - 1));
    }
    double m = 0;
    for (const auto& [k, v] : load) m = std::max(m, v);
    return m;
}

void expect_conserved(const TrafficResult& r) {
    EXPECT_EQ(r.injected, r.delivered);
    EXPECT_EQ(r.lost, 0);
    EXPECT_EQ(r.duplicates, 0);
    EXPECT_EQ(r.misrouted, 0);
    EXPECT_EQ(r.generated, r.injected + r.discarded);
}

// Counts every delivery by packet id, independently of the harness's own bookkeeping.
struct IdCounter {
    std::map<std::pair<int32_t, int32_t>, int> times;  // (source, sequence number) -> deliveries
    std::map<int32_t, int32_t> per_source;             // most ids seen per source
    int64_t wrong_router = 0;
    void attach(NocSim& sim) {
        sim.set_delivery_observer([this](const Packet& p, int32_t router, int64_t) {
            ++times[{p.source, p.c}];
            per_source[p.source] = std::max(per_source[p.source], p.c + 1);
            wrong_router += router != p.dest;
        });
    }
    // Each id delivered exactly once, and the ids of every source are 0, 1, ..., n - 1: none missing.
    void check(int64_t injected) const {
        int64_t ids = 0;
        for (const auto& [id, n] : times) EXPECT_EQ(n, 1) << "packet " << id.first << "/" << id.second;
        for (const auto& [s, n] : per_source) ids += n;
        EXPECT_EQ(ids, static_cast<int64_t>(times.size())) << "ids missing";
        EXPECT_EQ(static_cast<int64_t>(times.size()), injected);
        EXPECT_EQ(wrong_router, 0);
    }
};

// ------------------------------------------------------------------------------------------------ analysis
TEST(NocAnalysis, UniformMeanHopsIsTwoThirdsOfTheSide) {
    // Over all ordered pairs of a k x k mesh (a node with itself included) E|x1 - x2| = (k^2 - 1) / 3k per
    // dimension; the n^2 pairs' distance sum is also the sum over the n (n - 1) distinct pairs, so the mean over
    // distinct nodes is n / (n - 1) * 2 (k^2 - 1) / 3k = 2k/3 exactly.
    for (int k = 2; k <= 16; ++k) {
        const TrafficAnalysis a = analyse_traffic(rolls(), k, k, "uniform", 1);
        EXPECT_NEAR(a.mean_hops, 2.0 * k / 3.0, 1e-9) << k;
        EXPECT_NEAR(a.mean_hops, brute_mean_distance(k, k), 1e-9) << k;
    }
    for (auto [w, h] : {std::pair{5, 3}, std::pair{2, 7}, std::pair{1, 9}})
        EXPECT_NEAR(analyse_traffic(rolls(), w, h, "uniform", 1).mean_hops, brute_mean_distance(w, h),
                    1e-9);
}

TEST(NocAnalysis, BisectionBoundForUniformTraffic) {
    // Half the nodes send (n/2) / (n - 1) of their packets across the k links of the bisection, each way:
    // lambda * (k^2 / 2) * (k^2 / 2) / (k^2 - 1) <= k, so lambda <= 4 (k^2 - 1) / k^3 < 4 / k flits/node/cycle.
    for (int k = 4; k <= 16; k += 2) {
        const TrafficAnalysis a = analyse_traffic(rolls(), k, k, "uniform", 1);
        const double bound = 4.0 * (k * k - 1) / (static_cast<double>(k) * k * k);
        EXPECT_NEAR(a.channel_bound_flits_per_node_cycle, bound, 1e-9) << k;
        EXPECT_LT(a.channel_bound_flits_per_node_cycle, 4.0 / k);
        // The credit loop: 4 one-flit slots back every L + P + 1 = 5 cycles, so a link carries at most 0.8.
        EXPECT_NEAR(a.credit_bound_flits_per_node_cycle, 0.8 * bound, 1e-9) << k;
    }
    // Links of L cycles per flit carry 1/L flits per cycle.
    EXPECT_NEAR(analyse_traffic(with(4, 3, 2), 8, 8, "uniform", 1).channel_bound_flits_per_node_cycle,
                0.5 * 4.0 * 63 / 512, 1e-9);
}

TEST(NocAnalysis, ChannelLoadsMatchRouteByRouteSums) {
    for (auto [w, h] : {std::pair{4, 4}, std::pair{5, 5}, std::pair{6, 3}, std::pair{7, 7}})
        for (std::string p : {"uniform", "transpose", "hotspot"}) {
            if (p == "transpose" && w != h) continue;
            const TrafficAnalysis a = analyse_traffic(rolls(), w, h, p, 1, 0.3);
            EXPECT_NEAR(a.max_link_load, brute_max_link(w, h, p, 0.3), 1e-9) << p << " " << w << "x" << h;
        }
    // Hotspot: the centre's ejection port carries f (n - 1) + (1 - f) (n - 1) / (n - 1) packets per unit rate.
    const TrafficAnalysis hot = analyse_traffic(rolls(), 8, 8, "hotspot", 1, 0.2);
    EXPECT_EQ(hot.hotspot_node, 4 * 8 + 4);
    EXPECT_NEAR(hot.channel_bound_flits_per_node_cycle, 1.0 / (0.2 * 63 + 0.8), 1e-9);
    const TrafficAnalysis tr = analyse_traffic(rolls(), 8, 8, "transpose", 1);
    EXPECT_EQ(tr.injecting_nodes, 56);
}

TEST(NocAnalysis, ArgumentsAreCheckedWithClearMessages) {
    EXPECT_EQ(parse_mesh("8x8").width, 8);
    EXPECT_EQ(parse_mesh("16X4").height, 4);
    for (const char* bad : {"8x", "x8", "8", "0x4", "8x8x8", "-1x4", "257x2", "axb", ""})
        EXPECT_THROW(parse_mesh(bad), ConfigError) << bad;
    try {
        parse_mesh("8x");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("--mesh: '8x' is not a mesh size"));
    }
    EXPECT_EQ(traffic_pattern("Hotspot"), "hotspot");
    EXPECT_THROW(traffic_pattern("tornado"), ConfigError);
    EXPECT_EQ(noc_zero_load_latency(rolls(), 5, 2), zero_load(rolls(), int64_t{5}, int64_t{2}));
}

// ------------------------------------------------------------------------------------------------ zero load
// A single packet over every hop count of an 8 x 8 mesh, 1 and 4 flits, along routes that use every direction.
void check_single_packets(NocSim& sim, const std::vector<int32_t>& flit_counts) {
    const int32_t k = sim.width();
    for (int32_t flits : flit_counts)
        for (int32_t hops = 0; hops <= 2 * k - 2; ++hops) {
            const int32_t dx = std::min(hops, k - 1), dy = hops - dx;
            const std::pair<int32_t, int32_t> routes[] = {
                {0, dy * k + dx},                                          // east, then north
                {(k - 1) * k + (k - 1), (k - 1 - dy) * k + (k - 1 - dx)},  // west, then south
            };
            for (auto [from, to] : routes) {
                const SinglePacket s = sim.single_packet(from, to, flits);
                EXPECT_EQ(s.hops, hops) << from << " -> " << to;
                EXPECT_EQ(s.latency_cycles, zero_load(sim.chip(), int64_t{hops}, int64_t{flits}))
                    << from << " -> " << to << ", " << flits << " flits";
            }
        }
}

TEST(NocZeroLoad, SinglePacketLatencyIsPipelinePlusHopsTimesLinkAndPipelinePlusSerialisation) {
    check_single_packets(meshes().rolls8, {1, 4});
}

TEST(NocZeroLoad, HoldsForOtherPipelineAndLinkTimes) { check_single_packets(meshes().slow8, {1, 4, 8}); }

// ------------------------------------------------------------------------------------------------ uniform, low load
void check_low_load(NocSim& sim, int64_t cycles) {
    const int32_t k = sim.width();
    TrafficOptions o;
    o.rate = 0.02;
    o.measure_cycles = cycles;
    const TrafficResult r = sim.run(o);
    ASSERT_FALSE(r.saturated) << r.saturation_reason;
    expect_conserved(r);
    EXPECT_GT(r.tagged, 10000);
    EXPECT_EQ(r.tagged_delivered, r.tagged);
    const double exact = 2.0 * k / 3.0;  // see UniformMeanHopsIsTwoThirdsOfTheSide
    EXPECT_NEAR(r.hops_mean, exact, 0.03 * exact);
    // Every packet takes at least its own zero-load latency, so the mean is at least the zero-load latency at the
    // mean hop count; at 2% load contention adds little.
    const double zl = zero_load(sim.chip(), r.hops_mean, int64_t{1});
    EXPECT_GE(r.latency_mean_cycles, zl - 1e-9);
    EXPECT_LE(r.latency_mean_cycles, 1.03 * zl);
    EXPECT_GE(r.latency_mean_cycles, r.network_latency_mean_cycles);
    EXPECT_NEAR(r.offered_packets_per_node_cycle, 0.02, 0.002);
    EXPECT_NEAR(r.accepted_flits_per_node_cycle, r.offered_flits_per_node_cycle, 0.03 * r.offered_flits_per_node_cycle);
}

TEST(NocUniform, LowLoadOn4x4MatchesMeanDistanceAndZeroLoadLatency) { check_low_load(meshes().rolls4, 50000); }

TEST(NocUniform, LowLoadOn8x8MatchesMeanDistanceAndZeroLoadLatency) { check_low_load(meshes().rolls8, 20000); }

TEST(NocUniform, LowLoadOnARectangularMesh) {
    TrafficOptions o;
    o.rate = 0.05;
    o.measure_cycles = 20000;
    const TrafficResult r = meshes().rect.run(o);
    ASSERT_FALSE(r.saturated) << r.saturation_reason;
    expect_conserved(r);
    EXPECT_NEAR(r.hops_mean, brute_mean_distance(5, 3), 0.03 * brute_mean_distance(5, 3));
}

// ------------------------------------------------------------------------------------------------ saturation
TEST(NocUniform, AcceptedThroughputStaysUnderTheBisectionBoundAndSaturates) {
    NocSim& sim = meshes().rolls8;
    const double bisection = 4.0 / 8;  // flits per node per cycle, 1-cycle links
    std::vector<TrafficResult> results;
    for (double rate : {0.1, 0.2, 0.3, 0.45, 0.7, 1.0}) {
        TrafficOptions o;
        o.rate = rate;
        o.measure_cycles = 5000;
        results.push_back(sim.run(o));
        const TrafficResult& r = results.back();
        EXPECT_LE(r.accepted_flits_per_node_cycle, bisection) << rate;
        expect_conserved(r);
    }
    EXPECT_FALSE(results.front().saturated) << results.front().saturation_reason;
    EXPECT_NEAR(results.front().accepted_flits_per_node_cycle, results.front().offered_flits_per_node_cycle, 0.005);
    for (size_t i = 3; i < results.size(); ++i) EXPECT_TRUE(results[i].saturated) << i;  // 0.45 and above
}

// ------------------------------------------------------------------------------------------------ conservation
TEST(NocConservation, HeavyLoadWithOneFlitBuffers) {
    NocSim& sim = meshes().tight8;
    for (std::string p : {"uniform", "transpose", "hotspot"}) {
        IdCounter ids;
        ids.attach(sim);
        TrafficOptions o;
        o.pattern = p;
        o.rate = 0.6;
        o.measure_cycles = 3000;
        o.drain_cycles = 3000;
        const TrafficResult r = sim.run(o);
        EXPECT_TRUE(r.saturated) << p;
        EXPECT_GT(r.injected, 10000) << p;
        expect_conserved(r);
        ids.check(r.injected);
    }
}

// Virtual cut-through needs a buffer to hold a whole packet: 4-flit packets in 4-flit buffers are the tightest case.
TEST(NocConservation, HeavyLoadWithFourFlitPacketsInFourFlitBuffers) {
    NocSim& sim = meshes().rolls8;
    IdCounter ids;
    ids.attach(sim);
    TrafficOptions o;
    o.rate = 0.25;  // a flit per node per cycle offered
    o.packet_flits = 4;
    o.measure_cycles = 3000;
    const TrafficResult r = sim.run(o);
    EXPECT_TRUE(r.saturated);
    expect_conserved(r);
    ids.check(r.injected);
    EXPECT_LE(r.accepted_flits_per_node_cycle, 0.5);
    sim.set_delivery_observer(nullptr);
}

TEST(NocConservation, PacketsLargerThanABufferAreRefused) {
    TrafficOptions o;
    o.packet_flits = 4;
    try {
        meshes().tight8.run(o);
        FAIL() << "a 4-flit packet cannot fit a 1-flit buffer";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("virtual cut-through"));
        EXPECT_THAT(e.what(), testing::HasSubstr("chip.noc.buffer_depth 1"));
    }
    o.packet_flits = 1;
    for (double rate : {-0.1, 1.5, std::nan("")}) {
        o.rate = rate;
        EXPECT_THROW(meshes().tight8.run(o), ConfigError) << rate;
    }
    o.rate = 0.1;
    o.pattern = "transpose";
    EXPECT_THROW(meshes().rect.run(o), ConfigError);
}

// ------------------------------------------------------------------------------------------------ patterns
TEST(NocPatterns, TransposeDiagonalNodesAreSilent) {
    NocSim& sim = meshes().rolls8;
    int64_t from_diagonal = 0, wrong_dest = 0;
    sim.set_delivery_observer([&](const Packet& p, int32_t, int64_t) {
        const int32_t x = p.source % 8, y = p.source / 8;
        from_diagonal += x == y;
        wrong_dest += p.dest != x * 8 + y;
    });
    TrafficOptions o;
    o.pattern = "transpose";
    o.rate = 0.05;
    o.measure_cycles = 20000;
    const TrafficResult r = sim.run(o);
    sim.set_delivery_observer(nullptr);
    ASSERT_FALSE(r.saturated) << r.saturation_reason;
    expect_conserved(r);
    EXPECT_EQ(r.injecting_nodes, 56);
    EXPECT_EQ(from_diagonal, 0);
    EXPECT_EQ(wrong_dest, 0);
    EXPECT_NEAR(r.offered_packets_per_node_cycle, 0.05 * 56 / 64, 0.003);
    const TrafficAnalysis a = analyse_traffic(sim.chip(), 8, 8, "transpose", 1);
    EXPECT_NEAR(r.hops_mean, a.mean_hops, 0.03 * a.mean_hops);  // 2|x - y| averaged off the diagonal: 6
    EXPECT_NEAR(a.mean_hops, 6.0, 1e-9);
}

TEST(NocPatterns, HotspotSendsItsFractionToTheCentre) {
    NocSim& sim = meshes().rolls8;
    int64_t to_centre = 0, from_others = 0;
    sim.set_delivery_observer([&](const Packet& p, int32_t, int64_t) {
        if (p.source == 36) return;
        ++from_others;
        to_centre += p.dest == 36;
    });
    TrafficOptions o;
    o.pattern = "hotspot";
    o.rate = 0.01;
    o.measure_cycles = 40000;
    const TrafficResult r = sim.run(o);
    sim.set_delivery_observer(nullptr);
    ASSERT_FALSE(r.saturated) << r.saturation_reason;
    expect_conserved(r);
    // f of the packets, plus the uniform rest's 1 / (n - 1) share.
    EXPECT_NEAR(static_cast<double>(to_centre) / static_cast<double>(from_others), 0.2 + 0.8 / 63, 0.01);
    const TrafficAnalysis a = analyse_traffic(sim.chip(), 8, 8, "hotspot", 1, 0.2);
    EXPECT_NEAR(r.hops_mean, a.mean_hops, 0.03 * a.mean_hops);
}

// ------------------------------------------------------------------------------------------------ determinism
TEST(NocDeterminism, SameSeedSameNumbers) {
    TrafficOptions o;
    o.rate = 0.3;  // contention, so that arbitration order matters
    o.measure_cycles = 5000;
    const TrafficResult a = meshes().twin_a.run(o), b = meshes().twin_b.run(o);
    EXPECT_EQ(a.generated, b.generated);
    EXPECT_EQ(a.injected, b.injected);
    EXPECT_EQ(a.tagged, b.tagged);
    EXPECT_EQ(a.latency_max_cycles, b.latency_max_cycles);
    EXPECT_EQ(a.latency_mean_cycles, b.latency_mean_cycles);
    EXPECT_EQ(a.network_latency_mean_cycles, b.network_latency_mean_cycles);
    EXPECT_EQ(a.accepted_flits_per_node_cycle, b.accepted_flits_per_node_cycle);
    EXPECT_EQ(a.hops_mean, b.hops_mean);
    EXPECT_EQ(a.packet_hops, b.packet_hops);
    EXPECT_EQ(a.stall_cycles, b.stall_cycles);
    EXPECT_EQ(a.cycles, b.cycles);
    o.seed = 2;
    const TrafficResult c = meshes().twin_a.run(o);
    EXPECT_NE(a.latency_mean_cycles, c.latency_mean_cycles);
    EXPECT_NE(a.generated, c.generated);
}

}  // namespace
}  // namespace neuroemu
