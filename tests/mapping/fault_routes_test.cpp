// Routing around dead routers and links (mapping/routing.h: RouteFaults, west_first_tree, route_steps with faults)
// on hand-made meshes of one core per router, against XY routes walked here and detours counted by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "mapping/routing.h"

namespace neuroemu {
namespace {

using Pair = std::pair<int32_t, int32_t>;

// A width x height mesh with core k at (k % width, k / width), the host at (0, 0), and every core sending to every
// other core (all-to-all), one packet per step each.
Mapping mesh_mapping(int32_t width, int32_t height, const std::string& multicast) {
    Mapping m;
    m.chip.noc.multicast = multicast;
    m.mesh.chip_width = width, m.mesh.chip_height = height, m.mesh.chips_x = 1, m.mesh.chips_y = 1;
    const int32_t n = width * height;
    for (int32_t k = 0; k < n; ++k) {
        Core c;
        c.x = k % width, c.y = k / width;
        m.cores.push_back(c);
    }
    m.routes.offset.push_back(0);
    for (int32_t s = 0; s <= n; ++s) {  // the host (source n) sends nothing
        if (s < n)
            for (int32_t d = 0; d < n; ++d)
                if (d != s) m.routes.dest.push_back(d);
        m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));
    }
    m.source_packets.assign(static_cast<size_t>(n) + 1, 1.0);
    return m;
}

// Link `dir` (0 E, 1 W, 2 N, 3 S) of router (x, y), as chip.faults.dead_links numbers it.
int64_t link(const Mapping& m, int32_t x, int32_t y, int dir) { return (int64_t{y} * m.mesh.width() + x) * 4 + dir; }

// The unicast path (source mode) of source s to core d, from route_steps' list: the run of steps ending at d.
std::vector<RouteStep> path_to(const std::vector<RouteStep>& steps, const Core& d) {
    std::vector<RouteStep> path;
    for (const RouteStep& st : steps) {
        path.push_back(st);
        if (st.ports == kLocal) {
            if (st.x == d.x && st.y == d.y) return path;
            path.clear();
        }
    }
    return {};
}

// Checks that `path` starts at `src`, follows its ports, avoids every dead element of `f`, ends with kLocal and
// never turns into west after a hop that was not west (the west-first rule that keeps it deadlock-free).
void expect_west_first(const RouteFaults& f, MeshPoint src, const std::vector<RouteStep>& path) {
    ASSERT_FALSE(path.empty());
    EXPECT_EQ(path.front().x, src.x);
    EXPECT_EQ(path.front().y, src.y);
    bool turned = false;
    for (size_t i = 0; i < path.size(); ++i) {
        const RouteStep& st = path[i];
        EXPECT_FALSE(f.router_dead(st.x, st.y));
        if (i + 1 == path.size()) {
            EXPECT_EQ(st.ports, kLocal);
            break;
        }
        EXPECT_FALSE(f.hop_blocked(st.x, st.y, st.ports)) << "a dead hop at (" << st.x << ", " << st.y << ")";
        EXPECT_FALSE(st.ports == kWest && turned) << "a turn into west at (" << st.x << ", " << st.y << ")";
        if (st.ports != kWest) turned = true;
        const RouteStep& next = path[i + 1];
        EXPECT_EQ(next.x, st.x + (st.ports == kEast) - (st.ports == kWest));
        EXPECT_EQ(next.y, st.y + (st.ports == kNorth) - (st.ports == kSouth));
    }
}

// The (source, destination) pairs each source cannot reach.
std::set<Pair> cut_pairs(const Mapping& m, const RouteFaults& f) {
    const auto multicast = make_multicast(m.chip.noc.multicast);
    std::set<Pair> cut;
    std::vector<RouteStep> steps;
    std::vector<int32_t> lost;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        route_steps(m, *multicast, &f, s, steps, &lost);
        for (int32_t d : lost) cut.insert({static_cast<int32_t>(s), d});
    }
    return cut;
}

// Without dead elements every branch of the west-first tree is the XY route (so rerouted trees differ from XY only
// where something is dead).
TEST(FaultRoutes, WithoutFaultsTheWestFirstTreeIsXy) {
    const Mapping m = mesh_mapping(6, 5, "source");
    const RouteFaults none(m, FaultSpec{});
    for (const Core& s : m.cores) {
        const WestFirstTree tree = west_first_tree(none, 6, 5, {s.x, s.y});
        for (const Core& d : m.cores) {
            // Walk the tree back from d, and XY forward from s.
            std::vector<Pair> back;
            for (MeshPoint p{d.x, d.y};;) {
                back.push_back({p.x, p.y});
                const uint8_t via = tree.via[static_cast<size_t>(p.y * 6 + p.x)];
                if (via == 0) break;
                p.x -= (via == kEast) - (via == kWest), p.y -= (via == kNorth) - (via == kSouth);
            }
            std::vector<Pair> xy;
            for (int32_t x = s.x, y = s.y;;) {
                xy.insert(xy.begin(), {x, y});
                if (x != d.x) x += d.x > x ? 1 : -1;
                else if (y != d.y) y += d.y > y ? 1 : -1;
                else break;
            }
            EXPECT_EQ(back, xy) << "(" << s.x << "," << s.y << ") -> (" << d.x << "," << d.y << ")";
        }
    }
}

// (0, 2) -> (4, 2) on a 5 x 5 mesh with the wire (2, 2)-(3, 2) dead: XY takes 4 hops east; the detour follows XY
// to (2, 2), steps down a row, runs 2 hops east and comes back up: 2 + 1 + 2 + 1 = 6 hops. (Of the equal detours the
// tie-break, vertical before east and north before south, picks the one that leaves the row last, below it.)
TEST(FaultRoutes, ADeadLinkOnTheXyRouteIsAvoidedByTheHandCountedDetour) {
    Mapping m = mesh_mapping(5, 5, "source");
    FaultSpec f;
    f.dead_links = {link(m, 3, 2, 1)};  // (3, 2)'s west link: the same wire
    const RouteFaults faults(m, f);
    const int32_t s = 2 * 5 + 0, d = 2 * 5 + 4;
    EXPECT_TRUE(faults.rerouted(s));
    EXPECT_TRUE(faults.xy_route_blocked({0, 2}, {4, 2}));
    const auto multicast = make_multicast("source");
    std::vector<RouteStep> steps;
    std::vector<int32_t> cut;
    route_steps(m, *multicast, &faults, s, steps, &cut);
    EXPECT_TRUE(cut.empty());
    const std::vector<RouteStep> path = path_to(steps, m.cores[d]);
    expect_west_first(faults, {0, 2}, path);
    EXPECT_EQ(path.size(), 7u);  // 6 hops
    const uint8_t ports[] = {kEast, kEast, kSouth, kEast, kEast, kNorth, kLocal};
    const int32_t xs[] = {0, 1, 2, 2, 3, 4, 4}, ys[] = {2, 2, 2, 1, 1, 1, 2};
    for (size_t i = 0; i < 7 && i < path.size(); ++i)
        EXPECT_TRUE(path[i].ports == ports[i] && path[i].x == xs[i] && path[i].y == ys[i]) << "step " << i;
    // The link loads see the detour: source s alone, one packet per step to d.
    m.routes = Destinations{};
    m.routes.offset.assign(static_cast<size_t>(s) + 1, 0);
    m.routes.dest = {d};
    while (m.routes.offset.size() < m.cores.size() + 2) m.routes.offset.push_back(1);
    EXPECT_EQ(route(m).hops_per_step, 4.0);
    EXPECT_EQ(route(m, &faults).hops_per_step, 6.0);
    EXPECT_EQ(route(m, &faults).link_packets[static_cast<size_t>((2 * 5 + 2) * 4 + 0)], 0.0);
}

// A wall of dead links between columns 1 and 2 splits the mesh: exactly the pairs on opposite sides are cut, in both
// multicast modes, and every other route is west-first and avoids the wall.
TEST(FaultRoutes, AWallCutsExactlyThePairsAcrossIt) {
    for (const char* mode : {"source", "tree"}) {
        const Mapping m = mesh_mapping(5, 4, mode);
        FaultSpec f;
        for (int32_t y = 0; y < 4; ++y) f.dead_links.push_back(link(m, 1, y, 0));
        const RouteFaults faults(m, f);
        std::set<Pair> want;
        for (int32_t s = 0; s < 20; ++s)
            for (int32_t d = 0; d < 20; ++d)
                if (s != d && (m.cores[static_cast<size_t>(s)].x <= 1) != (m.cores[static_cast<size_t>(d)].x <= 1))
                    want.insert({s, d});
        EXPECT_EQ(cut_pairs(m, faults), want) << mode;
    }
}

// West-first cannot turn back west: a dead wire on the source's row, west of it, cuts off exactly the destinations
// west of the wire for the sources east of it on that row; everything else is reached (around the wire).
TEST(FaultRoutes, ADeadWireWestOfTheSourceCutsWhatWestFirstCannotReach) {
    const Mapping m = mesh_mapping(5, 4, "source");
    FaultSpec f;
    f.dead_links = {link(m, 1, 2, 0)};  // (1, 2)-(2, 2)
    const RouteFaults faults(m, f);
    std::set<Pair> want;
    for (int32_t s = 0; s < 20; ++s)
        for (int32_t d = 0; d < 20; ++d) {
            const Core &a = m.cores[static_cast<size_t>(s)], &b = m.cores[static_cast<size_t>(d)];
            if (s != d && a.y == 2 && a.x >= 2 && b.x <= 1) want.insert({s, d});
        }
    EXPECT_EQ(cut_pairs(m, faults), want);
}

// A dead router: its own core neither sends nor receives; every other pair is routed around it, west-first, and a
// tree still visits each router once.
TEST(FaultRoutes, ADeadRoutersCoreIsCutOffAndTheRestGoesAround) {
    for (const char* mode : {"source", "tree"}) {
        const Mapping m = mesh_mapping(5, 5, mode);
        FaultSpec f;
        f.dead_routers = {2 * 5 + 2};
        const RouteFaults faults(m, f);
        // Besides the dead core's pairs, what west-first cannot reach: the sources east of it on its row (13, 14)
        // stop their westward run at it and may not turn into west later, so they lose columns 0 to 2.
        std::set<Pair> want;
        for (int32_t k = 0; k < 25; ++k)
            if (k != 12) want.insert({12, k}), want.insert({k, 12});
        for (int32_t s : {13, 14})
            for (int32_t d = 0; d < 25; ++d)
                if (d % 5 <= 2 && d != 12) want.insert({s, d});
        EXPECT_EQ(cut_pairs(m, faults), want) << mode;
        const auto multicast = make_multicast(mode);
        std::vector<RouteStep> steps;
        for (int32_t s = 0; s < 25; ++s) {
            if (s == 12) continue;
            route_steps(m, *multicast, &faults, s, steps, nullptr);
            const MeshPoint src{m.cores[static_cast<size_t>(s)].x, m.cores[static_cast<size_t>(s)].y};
            if (std::string(mode) == "source") {
                for (int32_t d = 0; d < 25; ++d)
                    if (d != s && !want.count({s, d})) expect_west_first(faults, src, path_to(steps, m.cores[static_cast<size_t>(d)]));
                continue;
            }
            std::set<Pair> seen;
            int delivered = 0;
            for (const RouteStep& st : steps) {
                EXPECT_TRUE(seen.insert({st.x, st.y}).second) << "source " << s << " visits a router twice";
                EXPECT_FALSE(st.ports & kWest && st.y != src.y) << "source " << s << ": west off the source's row";
                delivered += (st.ports & kLocal) != 0;
            }
            EXPECT_EQ(delivered, s == 13 || s == 14 ? 23 - 14 : 23) << "source " << s;
        }
    }
}

// Sources whose XY routes cross nothing dead keep their XY routes exactly, and with chip.faults.reroute off every
// pair whose XY route crosses a dead element is cut (the XY routes walked here).
// Every core of `m` sends to the cores at most 2 hops away only.
void local_routes(Mapping& m) {
    m.routes = Destinations{};
    m.routes.offset.push_back(0);
    for (size_t s = 0; s <= m.cores.size(); ++s) {
        for (size_t d = 0; s < m.cores.size() && d < m.cores.size(); ++d)
            if (d != s && std::abs(m.cores[s].x - m.cores[d].x) + std::abs(m.cores[s].y - m.cores[d].y) <= 2)
                m.routes.dest.push_back(static_cast<int32_t>(d));
        m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));
    }
}

TEST(FaultRoutes, UntouchedSourcesKeepXyAndRerouteOffCutsTheXyCrossings) {
    Mapping m = mesh_mapping(5, 5, "tree");
    local_routes(m);
    FaultSpec f;
    f.dead_routers = {3 * 5 + 1};
    f.dead_links = {link(m, 3, 1, 2)};
    const RouteFaults faults(m, f);
    const auto multicast = make_multicast("tree");
    std::vector<RouteStep> with, without;
    int untouched = 0;
    for (int64_t s = 0; s < 25; ++s) {
        const auto b = m.routes.dest.begin() + m.routes.offset[static_cast<size_t>(s)];
        const auto e = m.routes.dest.begin() + m.routes.offset[static_cast<size_t>(s) + 1];
        if (s == 3 * 5 + 1 || faults.rerouted(s) || std::find(b, e, 3 * 5 + 1) != e) continue;  // the dead core
        ++untouched;
        route_steps(m, *multicast, &faults, s, with, nullptr);
        route_steps(m, *multicast, s, without);
        ASSERT_EQ(with.size(), without.size());
        for (size_t i = 0; i < with.size(); ++i)
            EXPECT_TRUE(with[i].x == without[i].x && with[i].y == without[i].y && with[i].ports == without[i].ports);
    }
    EXPECT_GT(untouched, 0);
    EXPECT_LT(untouched, 25);
    f.reroute = false;
    const RouteFaults off(m, f);
    std::set<Pair> want;
    for (int32_t s = 0; s < 25; ++s)
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const int32_t d = m.routes.dest[static_cast<size_t>(i)];
            const Core &a = m.cores[static_cast<size_t>(s)], &b = m.cores[static_cast<size_t>(d)];
            bool blocked = false;
            for (int32_t x = a.x, y = a.y;;) {
                blocked = blocked || (x == 1 && y == 3);
                int32_t nx = x, ny = y;
                if (x != b.x) nx += b.x > x ? 1 : -1;
                else if (y != b.y) ny += b.y > y ? 1 : -1;
                else break;
                blocked = blocked || (x == 3 && std::min(y, ny) == 1 && nx == 3 && ny != y);
                x = nx, y = ny;
            }
            if (blocked) want.insert({s, d});
        }
    EXPECT_EQ(cut_pairs(m, off), want);
}

// pair_path finds each pair's route inside a source's tree (tree mode) as the unicast path of source mode lists it,
// with and without dead elements, and nothing for a pair cut off.
TEST(FaultRoutes, PairPathsInTheTreeAreTheUnicastPaths) {
    for (const bool faulty : {false, true}) {
        Mapping tree = mesh_mapping(6, 5, "tree"), unicast = mesh_mapping(6, 5, "source");
        FaultSpec f;
        if (faulty) {
            f.dead_routers = {2 * 6 + 3};
            f.dead_links = {link(tree, 1, 1, 0), link(tree, 4, 3, 2), link(tree, 2, 4, 3)};
        }
        const RouteFaults tf(tree, f), uf(unicast, f);
        const auto tm = make_multicast("tree"), um = make_multicast("source");
        std::vector<RouteStep> ts, us;
        std::vector<int32_t> cut;
        int compared = 0;
        for (int32_t s = 0; s < 30; ++s) {
            route_steps(tree, *tm, &tf, s, ts, &cut);
            route_steps(unicast, *um, &uf, s, us, nullptr);
            const MeshPoint src{tree.cores[static_cast<size_t>(s)].x, tree.cores[static_cast<size_t>(s)].y};
            for (int32_t d = 0; d < 30; ++d) {
                if (d == s) continue;
                const Core& c = tree.cores[static_cast<size_t>(d)];
                const std::vector<RouteStep> a = pair_path(ts, src, {c.x, c.y}), b = path_to(us, c);
                const bool lost = std::find(cut.begin(), cut.end(), d) != cut.end();
                EXPECT_EQ(a.empty(), lost) << s << " -> " << d;
                ASSERT_EQ(a.size(), b.size()) << s << " -> " << d;
                for (size_t i = 0; i < a.size(); ++i)
                    EXPECT_TRUE(a[i].x == b[i].x && a[i].y == b[i].y && a[i].ports == b[i].ports) << s << " -> " << d;
                compared += !lost;
            }
        }
        EXPECT_GT(compared, 700);
    }
}

TEST(FaultRoutes, AnUnknownLinkIsAConfigErrorNamingTheKey) {
    const Mapping m = mesh_mapping(3, 3, "tree");
    FaultSpec f;
    f.dead_links = {36};
    try {
        const RouteFaults faults(m, f);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("chip.faults.dead_links"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace neuroemu
