#include "mapping/placement/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>
#include <utility>

#include "common/error.h"

namespace neuroemu {
namespace {

// A placement problem that owns its routes and packet rates.
struct Net {
    int32_t width = 0, height = 0;
    int64_t cores = 0;
    Destinations routes;
    std::vector<double> packets;
    int32_t host_x = 0, host_y = 0;

    PlacementProblem problem() const {
        PlacementProblem p;
        p.width = width, p.height = height, p.cores = cores;
        p.routes = &routes, p.packets = &packets;
        p.host_x = host_x, p.host_y = host_y;
        return p;
    }
};

// dests[s] for s in [0, cores] (the last is the host), sorted and deduplicated here.
Net make_net(int32_t width, int32_t height, std::vector<std::vector<int32_t>> dests, std::vector<double> packets) {
    Net n;
    n.width = width, n.height = height, n.cores = static_cast<int64_t>(dests.size()) - 1;
    n.routes.offset.push_back(0);
    for (auto& d : dests) {
        std::sort(d.begin(), d.end());
        d.erase(std::unique(d.begin(), d.end()), d.end());
        n.routes.dest.insert(n.routes.dest.end(), d.begin(), d.end());
        n.routes.offset.push_back(static_cast<int64_t>(n.routes.dest.size()));
    }
    n.packets = std::move(packets);
    return n;
}

// Layer-like traffic: each core sends mostly to cores of nearby index, sometimes far; the host feeds the first
// few. `self` lets a core list itself (a link of length zero wherever it goes).
Net random_net(uint32_t seed, int32_t width, int32_t height, int64_t cores, int max_dests, bool self = false) {
    std::mt19937 rng(seed);
    std::vector<std::vector<int32_t>> dests(static_cast<size_t>(cores) + 1);
    std::vector<double> packets(static_cast<size_t>(cores) + 1);
    for (int64_t s = 0; s < cores; ++s) {
        const int k = std::uniform_int_distribution<int>(0, max_dests)(rng);
        for (int i = 0; i < k; ++i) {
            int64_t d = std::uniform_int_distribution<int>(0, 9)(rng) == 0
                            ? std::uniform_int_distribution<int64_t>(0, cores - 1)(rng)
                            : s + std::uniform_int_distribution<int64_t>(-8, 8)(rng);
            d = std::clamp<int64_t>(d, 0, cores - 1);
            if (d != s || self) dests[s].push_back(static_cast<int32_t>(d));
        }
        packets[s] = std::uniform_int_distribution<int>(0, 4)(rng) == 0
                         ? 0.0
                         : std::uniform_real_distribution<double>(0.01, 3.0)(rng);
    }
    for (int64_t d = 0; d < std::min<int64_t>(cores, 5); ++d) dests[cores].push_back(static_cast<int32_t>(d));
    packets[cores] = 2.5;
    Net n = make_net(width, height, std::move(dests), std::move(packets));
    n.host_x = width - 1, n.host_y = height / 2;
    return n;
}

MapOptions opts(int passes, bool curve = true) {
    MapOptions o;
    o.refine_passes = passes;
    o.placement = placements().make(curve ? "curve" : "row_major");
    return o;
}

int32_t hops(Position a, Position b) { return std::abs(a.x - b.x) + std::abs(a.y - b.y); }

void expect_valid(const Net& n, const std::vector<Position>& pos) {
    ASSERT_EQ(static_cast<int64_t>(pos.size()), n.cores);
    std::set<std::pair<int32_t, int32_t>> used;
    for (const Position& p : pos) {
        EXPECT_TRUE(p.x >= 0 && p.x < n.width && p.y >= 0 && p.y < n.height) << p.x << "," << p.y;
        EXPECT_TRUE(used.insert({p.x, p.y}).second) << "router " << p.x << "," << p.y << " used twice";
    }
}

bool same(const std::vector<Position>& a, const std::vector<Position>& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](Position p, Position q) { return p.x == q.x && p.y == q.y; });
}

const std::vector<std::pair<int32_t, int32_t>> kMeshes = {{1, 1}, {1, 9}, {9, 1}, {2, 2}, {3, 3}, {5, 4},
                                                          {4, 5}, {8, 8}, {7, 6}, {12, 10}, {13, 17}, {20, 3}};

TEST(Placement, GilbertCurveVisitsEveryCellOnce) {
    std::vector<std::pair<int32_t, int32_t>> sizes = {{1, 1}, {1, 100}, {100, 1}, {448, 448}, {999, 777}, {2, 1000}};
    for (int32_t w = 1; w <= 24; ++w)
        for (int32_t h = 1; h <= 24; ++h) sizes.push_back({w, h});
    for (const auto& [w, h] : sizes) {
        const std::vector<Position> c = gilbert_curve(w, h);
        ASSERT_EQ(static_cast<int64_t>(c.size()), int64_t{w} * h) << w << "x" << h;
        std::vector<char> seen(c.size(), 0);
        for (const Position& p : c) {
            ASSERT_TRUE(p.x >= 0 && p.x < w && p.y >= 0 && p.y < h) << w << "x" << h;
            ASSERT_FALSE(seen[static_cast<size_t>(p.y) * w + p.x]++) << w << "x" << h << " twice " << p.x << "," << p.y;
        }
        EXPECT_TRUE(c[0].x == 0 && c[0].y == 0) << w << "x" << h;
    }
    EXPECT_TRUE(gilbert_curve(0, 5).empty());
    EXPECT_THROW(gilbert_curve(-1, 5), InternalError);
}

// Consecutive cells are 4-neighbours, but for at most one diagonal step, and that only where the longer side is
// odd and the shorter even (parity may then force it); never a jump.
TEST(Placement, GilbertCurveStepsToNeighbours) {
    auto steps = [](int32_t w, int32_t h, int& diagonal, int& jumps) {
        const std::vector<Position> c = gilbert_curve(w, h);
        diagonal = jumps = 0;
        for (size_t i = 1; i < c.size(); ++i) {
            const int32_t dx = std::abs(c[i].x - c[i - 1].x), dy = std::abs(c[i].y - c[i - 1].y);
            if (dx + dy != 1) ++(dx <= 1 && dy <= 1 ? diagonal : jumps);
        }
    };
    int diagonal = 0, jumps = 0;
    for (const auto& [w, h] : std::vector<std::pair<int32_t, int32_t>>{
             {8, 8}, {16, 16}, {12, 10}, {10, 12}, {64, 32}, {448, 448}, {1, 50}, {50, 1}, {9, 9}, {2, 7}}) {
        steps(w, h, diagonal, jumps);
        EXPECT_EQ(diagonal + jumps, 0) << w << "x" << h;
    }
    for (int32_t w = 1; w <= 40; ++w) {
        for (int32_t h = 1; h <= 40; ++h) {
            steps(w, h, diagonal, jumps);
            EXPECT_EQ(jumps, 0) << w << "x" << h;
            EXPECT_LE(diagonal, 1) << w << "x" << h;
            const int32_t longer = std::max(w, h), shorter = std::min(w, h);
            if (longer % 2 == 0 || shorter % 2 == 1) {
                EXPECT_EQ(diagonal, 0) << w << "x" << h;
            }
        }
    }
}

TEST(Placement, CoresGetDistinctRoutersInsideTheMesh) {
    uint32_t seed = 1;
    for (const auto& [w, h] : kMeshes) {
        const int64_t routers = int64_t{w} * h;
        for (int64_t cores : {int64_t{1}, (routers + 1) / 2, routers}) {
            const Net n = random_net(seed++, w, h, cores, 6);
            for (bool curve : {true, false})
                for (int passes : {0, 4}) expect_valid(n, place_cores(n.problem(), opts(passes, curve)));
        }
    }
    const Net empty = make_net(3, 3, {{}}, {1.0});
    EXPECT_TRUE(place_cores(empty.problem(), opts(4)).empty());
    EXPECT_EQ(placement_cost(empty.problem(), {}), 0.0);
}

TEST(Placement, StartFollowsTheCurveOrRowMajorOrder) {
    const Net n = random_net(7, 12, 10, 100, 5);
    const std::vector<Position> curve = gilbert_curve(12, 10), start = place_cores(n.problem(), opts(0));
    const std::vector<Position> rows = place_cores(n.problem(), opts(0, false));
    for (size_t i = 0; i < 100; ++i) {
        EXPECT_TRUE(start[i].x == curve[i].x && start[i].y == curve[i].y) << i;
        EXPECT_TRUE(rows[i].x == static_cast<int32_t>(i % 12) && rows[i].y == static_cast<int32_t>(i / 12)) << i;
    }
    // A chain 0 -> 1 -> ... -> 63 on an 8 x 8 mesh: the curve makes every hop one link long.
    std::vector<std::vector<int32_t>> chain(65);
    for (int32_t i = 0; i + 1 < 64; ++i) chain[i] = {i + 1};
    const Net c = make_net(8, 8, chain, std::vector<double>(65, 2.0));
    EXPECT_EQ(placement_cost(c.problem(), place_cores(c.problem(), opts(0))), 63 * 2.0);
}

TEST(Placement, IsDeterministic) {
    for (uint32_t seed : {11u, 12u, 13u}) {
        const Net n = random_net(seed, 13, 17, 200, 12);
        for (bool curve : {true, false}) {
            const std::vector<Position> a = place_cores(n.problem(), opts(4, curve));
            EXPECT_TRUE(same(a, place_cores(n.problem(), opts(4, curve)))) << seed;
            EXPECT_TRUE(same(a, place_cores(random_net(seed, 13, 17, 200, 12).problem(), opts(4, curve)))) << seed;
        }
    }
}

// Every accepted move lowers the exact cost, recomputed from scratch: the cost after k passes never rises with k,
// including for dense traffic, full meshes and cores that list themselves.
TEST(Placement, EachPassLowersOrKeepsTheCost) {
    uint32_t seed = 100;
    for (const auto& [w, h] : kMeshes) {
        const int64_t routers = int64_t{w} * h;
        for (int64_t cores : {(routers + 2) / 3, routers}) {
            for (bool self : {false, true}) {
                const Net n = random_net(seed++, w, h, cores, 20, self);
                for (bool curve : {true, false}) {
                    double last = placement_cost(n.problem(), place_cores(n.problem(), opts(0, curve)));
                    for (int passes = 1; passes <= 6; ++passes) {
                        const double cost = placement_cost(n.problem(), place_cores(n.problem(), opts(passes, curve)));
                        EXPECT_LE(cost, last * (1 + 1e-12)) << w << "x" << h << ", " << cores << " cores, " << passes;
                        last = cost;
                    }
                }
            }
        }
    }
}

// Once no pass moves, no single move or swap within two routers lowers the exact cost: the incremental
// evaluation misses no gain, for linked and unlinked pairs alike.
TEST(Placement, ConvergedPlacementIsALocalOptimum) {
    for (uint32_t seed : {21u, 22u, 23u}) {
        for (int64_t cores : {24, 36}) {
            const Net n = random_net(seed, 6, 6, cores, 15, seed == 23);
            std::vector<Position> pos = place_cores(n.problem(), opts(1000, false));
            ASSERT_TRUE(same(pos, place_cores(n.problem(), opts(1001, false))));
            const double base = placement_cost(n.problem(), pos);
            for (int64_t a = 0; a < cores; ++a) {
                for (int32_t dy = -2; dy <= 2; ++dy) {
                    for (int32_t dx = -2; dx <= 2; ++dx) {
                        const Position p = pos[a], q{p.x + dx, p.y + dy};
                        if (q.x < 0 || q.y < 0 || q.x >= n.width || q.y >= n.height) continue;
                        std::vector<Position> moved = pos;
                        for (Position& other : moved)
                            if (other.x == q.x && other.y == q.y) other = p;
                        moved[a] = q;
                        EXPECT_GE(placement_cost(n.problem(), moved), base * (1 - 1e-12))
                            << "seed " << seed << " core " << a << " by " << dx << "," << dy;
                    }
                }
            }
        }
    }
}

// The host at (3, 0) of a 4 x 2 mesh feeds a chain 2 -> 1 -> 0 that row-major order lays out on (2, 0), (1, 0),
// (0, 0): every link is one hop, the optimum, so no pass may change the cost. Swapping two linked cores keeps
// their link's length; an evaluation that counted that link as vanishing would see gains and lengthen the chain.
TEST(Placement, SwapsOfLinkedCoresKeepTheirLinkLength) {
    Net n = make_net(4, 2, {{}, {0}, {1}, {2}}, {0.0, 100.0, 100.0, 1.0});
    n.host_x = 3;
    EXPECT_EQ(placement_cost(n.problem(), place_cores(n.problem(), opts(0, false))), 201.0);
    for (int passes = 1; passes <= 4; ++passes) {
        const std::vector<Position> pos = place_cores(n.problem(), opts(passes, false));
        expect_valid(n, pos);
        EXPECT_EQ(placement_cost(n.problem(), pos), 201.0) << passes;
    }
}

// A chain visiting the cores as 0, 15, 1, 14, 2, ... on a 16 x 16 mesh: row-major order lays them out along
// row 0, so every hop is long, and moving core 0 off the row towards core 15 is already a gain.
TEST(Placement, RefinementShortensAScatteredChain) {
    std::vector<int32_t> order;
    for (int32_t i = 0; i < 8; ++i) order.push_back(i), order.push_back(15 - i);
    std::vector<std::vector<int32_t>> dests(17);
    for (size_t i = 0; i + 1 < order.size(); ++i) dests[order[i]] = {order[i + 1]};
    const Net n = make_net(16, 16, dests, std::vector<double>(17, 1.0));
    const double start = placement_cost(n.problem(), place_cores(n.problem(), opts(0, false)));
    const double refined = placement_cost(n.problem(), place_cores(n.problem(), opts(4, false)));
    EXPECT_EQ(start, 15 + 14 + 13 + 12 + 11 + 10 + 9 + 8 + 7 + 6 + 5 + 4 + 3 + 2 + 1);
    EXPECT_LT(refined, start);
    EXPECT_LT(refined, 0.5 * start);
}

// The host at the corner (4, 4) of a 5 x 5 mesh sends 100 packets per step to core 0, which sends one to core 1.
// The optimum: core 0 at the host's router, core 1 next to it (cost 1). Row-major starts them at (0, 0) and
// (1, 0); each pass brings core 0 two routers closer on both axes, and core 1 follows.
TEST(Placement, CoreFedByTheHostMovesToTheHost) {
    Net n = make_net(5, 5, {{1}, {}, {0}}, {1.0, 0.0, 100.0});
    n.host_x = 4, n.host_y = 4;
    EXPECT_EQ(placement_cost(n.problem(), place_cores(n.problem(), opts(0, false))), 800.0 + 1.0);
    const std::vector<Position> pos = place_cores(n.problem(), opts(4, false));
    EXPECT_TRUE(pos[0].x == 4 && pos[0].y == 4) << pos[0].x << "," << pos[0].y;
    EXPECT_EQ(hops(pos[0], pos[1]), 1);
    EXPECT_EQ(placement_cost(n.problem(), pos), 1.0);
}

TEST(Placement, RejectsInconsistentProblems) {
    const Net ok = random_net(5, 4, 4, 16, 4);
    EXPECT_NO_THROW(place_cores(ok.problem(), opts(4)));

    Net n = random_net(5, 4, 4, 16, 4);
    n.width = 3;  // 16 cores, 12 routers
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);
    EXPECT_THROW(placement_cost(n.problem(), std::vector<Position>(16)), InternalError);

    PlacementProblem p = ok.problem();
    p.cores = 15;  // routes and packets list 17 sources
    EXPECT_THROW(place_cores(p, opts(4)), InternalError);
    p = ok.problem();
    p.routes = nullptr;
    EXPECT_THROW(place_cores(p, opts(4)), InternalError);

    n = ok;
    n.packets.pop_back();
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);
    n = ok;
    n.packets[3] = -1;
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);
    n = ok;
    n.routes.dest.push_back(16);  // core 16 does not exist
    ++n.routes.offset.back();
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);
    n = make_net(4, 4, {{1, 2}, {}, {}, {}}, {1.0, 1.0, 1.0, 1.0});
    n.routes.dest = {2, 1};  // unsorted
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);
    n.routes.dest = {1, 1};  // duplicate
    EXPECT_THROW(place_cores(n.problem(), opts(4)), InternalError);

    EXPECT_THROW(placement_cost(ok.problem(), std::vector<Position>(15)), InternalError);
}

}  // namespace
}  // namespace neuroemu
