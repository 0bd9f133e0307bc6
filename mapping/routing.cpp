#include "mapping/routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <unordered_map>

namespace neuroemu {

namespace {

using Point = MeshPoint;

int direction_index(uint8_t bit) { return bit == kEast ? 0 : bit == kWest ? 1 : bit == kNorth ? 2 : 3; }

// One hop from `p` by `port` (kEast..kSouth).
Point step(Point p, uint8_t port) {
    return {p.x + (port == kEast) - (port == kWest), p.y + (port == kNorth) - (port == kSouth)};
}

uint8_t opposite(uint8_t port) {
    return port == kEast ? kWest : port == kWest ? kEast : port == kNorth ? kSouth : kNorth;
}

// Source s's destination routers, sorted by (x, y).
void destinations(const Mapping& mapping, int64_t s, std::vector<Point>& points) {
    points.clear();
    const auto& offset = mapping.routes.offset;
    for (int64_t i = offset[static_cast<size_t>(s)]; i < offset[static_cast<size_t>(s) + 1]; ++i) {
        const Core& c = mapping.cores[static_cast<size_t>(mapping.routes.dest[static_cast<size_t>(i)])];
        points.push_back({c.x, c.y});
    }
    std::sort(points.begin(), points.end(), [](Point a, Point b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
}

// The steps of the branches of `tree` from `src` to `dests` (all reached): the union, each router once with its
// ports, parents before children (tree mode), or each destination's path in turn (source mode).
void tree_branches(const WestFirstTree& tree, int32_t width, Point src, const std::vector<Point>& dests, bool forks,
                   std::vector<RouteStep>& out) {
    const auto at = [width](Point p) { return static_cast<size_t>(p.y) * static_cast<size_t>(width) + static_cast<size_t>(p.x); };
    const auto path_to = [&](Point d, std::vector<Point>& path) {  // d back to src
        path.clear();
        for (Point p = d;; p = step(p, opposite(tree.via[at(p)]))) {
            path.push_back(p);
            if (p.x == src.x && p.y == src.y) return;
        }
    };
    std::vector<Point> path;
    if (!forks) {
        for (const Point& d : dests) {
            path_to(d, path);
            for (size_t i = path.size(); i-- > 0;)
                out.push_back({path[i].x, path[i].y, i == 0 ? uint8_t{kLocal} : tree.via[at(path[i - 1])]});
        }
        return;
    }
    std::vector<std::pair<size_t, uint8_t>> ports;  // (router, ports), merged below
    for (const Point& d : dests) {
        path_to(d, path);
        ports.push_back({at(d), kLocal});
        for (size_t i = 1; i < path.size(); ++i) ports.push_back({at(path[i]), tree.via[at(path[i - 1])]});
    }
    // Parents before children: by distance from the source, then by router index (deterministic).
    std::sort(ports.begin(), ports.end(), [&](const auto& a, const auto& b) {
        const int32_t ha = tree.hops[a.first], hb = tree.hops[b.first];
        return ha != hb ? ha < hb : a.first < b.first;
    });
    for (size_t i = 0; i < ports.size(); ++i) {
        if (i > 0 && ports[i].first == ports[i - 1].first) {
            out.back().ports |= ports[i].second;
            continue;
        }
        const auto r = static_cast<int32_t>(ports[i].first);
        out.push_back({r % width, r / width, ports[i].second});
    }
}

}  // namespace

MeshPoint source_position(const Mapping& mapping, int64_t s) {
    if (s == static_cast<int64_t>(mapping.cores.size())) return {mapping.host_x, mapping.host_y};
    const Core& c = mapping.cores[static_cast<size_t>(s)];
    return {c.x, c.y};
}

RouteFaults::RouteFaults(const Mapping& mapping, const FaultSpec& faults)
    : width_(mapping.mesh.width()), height_(mapping.mesh.height()), reroute_(faults.reroute) {
    if (faults.dead_routers.empty() && faults.dead_links.empty()) return;
    any_ = true;
    const auto routers = static_cast<size_t>(mapping.mesh.routers());
    dead_router_.assign(routers, 0);
    dead_link_.assign(routers * 4, 0);
    for (int64_t r : faults.dead_routers) {
        if (r < 0 || static_cast<size_t>(r) >= routers)
            throw ConfigError(fmt::format("chip.faults.dead_routers: router {} does not exist: the mesh has {} routers "
                                          "(0 to {}, y * width + x)", r, routers, routers - 1));
        dead_router_[static_cast<size_t>(r)] = 1;
    }
    for (int64_t l : faults.dead_links) {
        if (l < 0 || static_cast<size_t>(l) >= routers * 4)
            throw ConfigError(fmt::format("chip.faults.dead_links: link {} does not exist: the mesh has {} routers, "
                                          "links 0 to {} (router * 4 + direction)", l, routers, routers * 4 - 1));
        dead_link_[static_cast<size_t>(l)] = 1;
    }
    if (!reroute_) return;
    rerouted_.assign(static_cast<size_t>(mapping.routes.sources()), 0);
    for (int64_t s = 0; s < mapping.routes.sources(); ++s) {
        const Point src = source_position(mapping, s);
        for (int64_t i = mapping.routes.offset[static_cast<size_t>(s)]; i < mapping.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const Core& c = mapping.cores[static_cast<size_t>(mapping.routes.dest[static_cast<size_t>(i)])];
            // A pair with a dead end cannot be helped: it does not make the source take detours.
            if (!router_dead(src.x, src.y) && !router_dead(c.x, c.y) && xy_route_blocked(src, {c.x, c.y})) {
                rerouted_[static_cast<size_t>(s)] = 1;
                break;
            }
        }
    }
}

bool RouteFaults::router_dead(int32_t x, int32_t y) const {
    return any_ && dead_router_[static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)];
}

bool RouteFaults::hop_blocked(int32_t x, int32_t y, uint8_t port) const {
    const Point n = step({x, y}, port);
    if (n.x < 0 || n.y < 0 || n.x >= width_ || n.y >= height_) return true;
    if (!any_) return false;
    const auto at = [this](Point p) { return static_cast<size_t>(p.y) * static_cast<size_t>(width_) + static_cast<size_t>(p.x); };
    const auto dir = static_cast<size_t>(direction_index(port));
    return dead_router_[at(n)] || dead_link_[at({x, y}) * 4 + dir] || dead_link_[at(n) * 4 + (dir ^ 1)];
}

bool RouteFaults::xy_route_blocked(MeshPoint src, MeshPoint dest) const {
    if (!any_) return false;
    for (Point p = src;;) {
        if (router_dead(p.x, p.y)) return true;
        const uint8_t port = xy_port(p.x, p.y, dest.x, dest.y);
        if (port == kLocal) return false;
        if (hop_blocked(p.x, p.y, port)) return true;
        p = step(p, port);
    }
}

WestFirstTree west_first_tree(const RouteFaults& faults, int32_t width, int32_t height, MeshPoint src) {
    const auto routers = static_cast<size_t>(width) * static_cast<size_t>(height);
    const auto at = [width](Point p) { return static_cast<size_t>(p.y) * static_cast<size_t>(width) + static_cast<size_t>(p.x); };
    WestFirstTree tree{std::vector<int32_t>(routers, -1), std::vector<uint8_t>(routers, 0)};
    if (faults.router_dead(src.x, src.y)) return tree;
    // Level k lists the routers k hops away; the west run along the source's row seeds level k with its k-th router.
    std::vector<std::vector<Point>> level(1, {src});
    tree.hops[at(src)] = 0;
    for (Point p = src; !faults.hop_blocked(p.x, p.y, kWest);) {
        p = step(p, kWest);
        tree.hops[at(p)] = static_cast<int32_t>(level.size());
        tree.via[at(p)] = kWest;
        level.push_back({p});
    }
    // Among parents at the same distance the earlier port here wins: vertical before east, so XY when nothing is dead.
    constexpr uint8_t kOrder[] = {kNorth, kSouth, kEast};
    const auto rank = [](uint8_t via) { return via == kWest ? -1 : via == kNorth ? 0 : via == kSouth ? 1 : 2; };
    for (size_t k = 0; k < level.size(); ++k) {
        std::sort(level[k].begin(), level[k].end(), [&](Point a, Point b) { return at(a) < at(b); });
        for (const Point p : level[k]) {
            for (const uint8_t port : kOrder) {
                if (faults.hop_blocked(p.x, p.y, port)) continue;
                const Point n = step(p, port);
                int32_t& hops = tree.hops[at(n)];
                if (hops == -1) {
                    hops = static_cast<int32_t>(k + 1);
                    tree.via[at(n)] = port;
                    if (level.size() == k + 1) level.emplace_back();
                    level[k + 1].push_back(n);
                } else if (hops == static_cast<int32_t>(k + 1) && rank(port) < rank(tree.via[at(n)])) {
                    tree.via[at(n)] = port;
                }
            }
        }
    }
    return tree;
}

void route_steps(const Mapping& mapping, const Multicast& multicast, const RouteFaults* faults, int64_t s,
                 std::vector<RouteStep>& out, std::vector<int32_t>* cut) {
    if (cut) cut->clear();
    if (!faults || !faults->any()) {
        route_steps(mapping, multicast, s, out);
        return;
    }
    out.clear();
    const Point src = source_position(mapping, s);
    WestFirstTree tree;
    if (faults->rerouted(s)) tree = west_first_tree(*faults, mapping.mesh.width(), mapping.mesh.height(), src);
    const auto width = static_cast<size_t>(mapping.mesh.width());
    const auto reachable = [&](Point d) {
        return faults->rerouted(s) ? tree.hops[static_cast<size_t>(d.y) * width + static_cast<size_t>(d.x)] >= 0
                                   : !faults->xy_route_blocked(src, d);
    };
    if (cut)  // in the mapping's order of the routes
        for (int64_t i = mapping.routes.offset[static_cast<size_t>(s)]; i < mapping.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const int32_t d = mapping.routes.dest[static_cast<size_t>(i)];
            const Core& c = mapping.cores[static_cast<size_t>(d)];
            if (!reachable({c.x, c.y})) cut->push_back(d);
        }
    std::vector<Point> dests, kept;
    destinations(mapping, s, dests);
    for (const Point& d : dests)
        if (reachable(d)) kept.push_back(d);
    if (faults->rerouted(s))
        tree_branches(tree, mapping.mesh.width(), src, kept, multicast.forks_in_routers(), out);
    else
        multicast.steps(kept, src, out);
}

std::vector<RouteStep> pair_path(const std::vector<RouteStep>& steps, MeshPoint src, MeshPoint dest) {
    const auto key = [](Point p) { return (static_cast<uint64_t>(static_cast<uint32_t>(p.x)) << 32) | static_cast<uint32_t>(p.y); };
    std::unordered_map<uint64_t, uint8_t> ports;  // per router: the union of its ports
    for (const RouteStep& st : steps) ports[key({st.x, st.y})] |= st.ports;
    // Depth-first from the source; the union is a tree, so the first route found is the pair's.
    std::vector<RouteStep> path;
    std::vector<std::pair<Point, size_t>> stack{{src, 0}};  // (router, next of E W N S to try)
    constexpr uint8_t kDirs[] = {kEast, kWest, kNorth, kSouth};
    while (!stack.empty()) {
        auto& [at, next] = stack.back();
        const auto it = ports.find(key(at));
        if (it == ports.end()) return {};
        if (at.x == dest.x && at.y == dest.y && (it->second & kLocal)) {
            for (size_t i = 0; i + 1 < stack.size(); ++i) {
                const Point a = stack[i].first, b = stack[i + 1].first;
                path.push_back({a.x, a.y, b.x > a.x ? kEast : b.x < a.x ? kWest : b.y > a.y ? kNorth : kSouth});
            }
            path.push_back({dest.x, dest.y, kLocal});
            return path;
        }
        while (next < 4 && !(it->second & kDirs[next])) ++next;
        if (next == 4 || stack.size() > ports.size()) {
            stack.pop_back();
            continue;
        }
        const Point n = step(at, kDirs[next++]);
        stack.push_back({n, 0});
    }
    return {};
}

void route_steps(const Mapping& mapping, int64_t s, std::vector<RouteStep>& out) {
    route_steps(mapping, *make_multicast(mapping.chip.noc.multicast), s, out);
}

void route_steps(const Mapping& mapping, const Multicast& multicast, int64_t s, std::vector<RouteStep>& out) {
    out.clear();
    std::vector<Point> dests;
    destinations(mapping, s, dests);
    multicast.steps(dests, source_position(mapping, s), out);
}

namespace {

// Adds the table entries and link loads of one source's `steps` (from `src`, `p` packets per step) to `routes`.
// `in_port` (per router, all 0 on entry and on return): scratch for the ports by which a rerouted tree enters them.
void add_steps(const Mapping& mapping, bool tree, bool rerouted, Point src, double p, const std::vector<RouteStep>& steps,
               std::vector<uint8_t>& in_port, RoutingStats& routes) {
    const auto width = static_cast<size_t>(mapping.mesh.width());
    const auto at = [width](int32_t x, int32_t y) { return static_cast<size_t>(y) * width + static_cast<size_t>(x); };
    if (tree && rerouted)
        for (const RouteStep& st : steps)
            for (uint8_t bit : {kEast, kWest, kNorth, kSouth})
                if (st.ports & bit) {
                    const Point n = step({st.x, st.y}, bit);
                    in_port[at(n.x, n.y)] = bit;
                }
    for (const RouteStep& st : steps) {
        const size_t router = at(st.x, st.y);
        if (tree) {
            // Multicast tables are keyed by source; a router that only passes packets straight on needs no
            // entry with default routing (as in SpiNNaker).
            ++routes.table_entries[router];
            const uint8_t in = rerouted ? in_port[router]
                               : st.y == src.y ? (st.x > src.x ? kEast : st.x < src.x ? kWest : 0)
                                               : (st.y > src.y ? kNorth : kSouth);
            if (in == 0 || st.ports != in) ++routes.table_entries_default[router];
        }
        for (uint8_t bit : {kEast, kWest, kNorth, kSouth}) {
            if (!(st.ports & bit)) continue;
            routes.link_packets[router * 4 + static_cast<size_t>(direction_index(bit))] += p;
            routes.hops_per_step += p;
            const Point n = step({st.x, st.y}, bit);
            if (mapping.mesh.chip_of(st.x, st.y) != mapping.mesh.chip_of(n.x, n.y)) routes.inter_chip_hops_per_step += p;
        }
    }
    if (tree && rerouted)
        for (const RouteStep& st : steps) in_port[at(st.x, st.y)] = 0;
}

}  // namespace

RoutingStats route(const Mapping& mapping, const RouteFaults* faults) {
    RoutingStats routes;
    const auto routers = static_cast<size_t>(mapping.mesh.routers());
    routes.table_entries.assign(routers, 0);
    routes.table_entries_default.assign(routers, 0);
    routes.link_packets.assign(routers * 4, 0.0);
    const std::unique_ptr<Multicast> multicast = make_multicast(mapping.chip.noc.multicast);
    const bool tree = multicast->forks_in_routers();
    std::vector<RouteStep> steps;
    std::vector<int32_t> cut;
    std::vector<uint8_t> in_port(faults && faults->any() ? routers : 0, 0);
    for (int64_t s = 0; s < mapping.routes.sources(); ++s) {
        const auto begin = mapping.routes.offset[static_cast<size_t>(s)];
        const auto end = mapping.routes.offset[static_cast<size_t>(s) + 1];
        if (begin == end) continue;
        const double p = mapping.source_packets[static_cast<size_t>(s)];
        const Point src = source_position(mapping, s);
        route_steps(mapping, *multicast, faults, s, steps, &cut);
        const auto fanout = static_cast<double>(end - begin - static_cast<int64_t>(cut.size()));
        if (fanout == 0) continue;
        std::sort(cut.begin(), cut.end());
        routes.packets_per_step += tree ? p : p * fanout;
        routes.deliveries_per_step += p * fanout;
        for (auto i = begin; i < end; ++i) {
            const int32_t di = mapping.routes.dest[static_cast<size_t>(i)];
            if (std::binary_search(cut.begin(), cut.end(), di)) continue;
            const Core& d = mapping.cores[static_cast<size_t>(di)];
            routes.unicast_hops_per_step += p * (std::abs(d.x - src.x) + std::abs(d.y - src.y));
        }
        add_steps(mapping, tree, faults && faults->rerouted(s), src, p, steps, in_port, routes);
    }
    for (size_t i = 0; i < routers; ++i) {
        routes.total_entries += routes.table_entries[i];
        routes.total_entries_default += routes.table_entries_default[i];
    }
    for (size_t i = 0; i < routes.link_packets.size(); ++i) {
        if (routes.link_packets[i] <= 0) continue;
        ++routes.links_used;
        if (routes.link_packets[i] > routes.worst_link_packets) {
            routes.worst_link_packets = routes.link_packets[i];
            routes.worst_link_x = static_cast<int32_t>((i / 4) % static_cast<size_t>(mapping.mesh.width()));
            routes.worst_link_y = static_cast<int32_t>((i / 4) / static_cast<size_t>(mapping.mesh.width()));
            routes.worst_link_port = static_cast<uint8_t>(1u << (i % 4));
        }
    }
    return routes;
}

}  // namespace neuroemu
