#include "mapping/routing.h"

#include <algorithm>
#include <cstdlib>

namespace neuroemu {

const char* port_name(uint8_t port) {
    switch (port) {
        case kEast: return "east";
        case kWest: return "west";
        case kNorth: return "north";
        case kSouth: return "south";
        case kLocal: return "local";
        default: return "?";
    }
}

namespace {

struct Point {
    int32_t x, y;
};

Point source_position(const Mapping& m, int64_t s) {
    if (s == static_cast<int64_t>(m.cores.size())) return {m.host_x, m.host_y};
    const Core& c = m.cores[static_cast<size_t>(s)];
    return {c.x, c.y};
}

// The XY multicast tree: along the source's row to every destination column, then up and down each column.
// Parents come before children.
void tree_steps(const std::vector<Point>& dests, Point src, std::vector<RouteStep>& out) {
    if (dests.empty()) return;
    int32_t min_x = src.x, max_x = src.x;
    for (const Point& d : dests) min_x = std::min(min_x, d.x), max_x = std::max(max_x, d.x);
    // dests sorted by (x, y): each column's destinations are one run.
    auto column = [&](int32_t x) {
        auto lo = std::lower_bound(dests.begin(), dests.end(), x, [](const Point& p, int32_t v) { return p.x < v; });
        auto hi = std::upper_bound(dests.begin(), dests.end(), x, [](int32_t v, const Point& p) { return v < p.x; });
        return std::make_pair(lo, hi);
    };
    auto visit_row_router = [&](int32_t x) {
        uint8_t ports = 0;
        if (x >= src.x && x < max_x) ports |= kEast;
        if (x <= src.x && x > min_x) ports |= kWest;
        auto [lo, hi] = column(x);
        if (lo == hi) {
            out.push_back({x, src.y, ports});
            return;
        }
        const int32_t y_lo = lo->y, y_hi = (hi - 1)->y;
        if (y_hi > src.y) ports |= kNorth;
        if (y_lo < src.y) ports |= kSouth;
        for (auto it = lo; it != hi; ++it)
            if (it->y == src.y) ports |= kLocal;
        out.push_back({x, src.y, ports});
        // Up the column, then down; destinations in the run are sorted by y.
        auto it = lo;
        while (it != hi && it->y <= src.y) ++it;
        for (int32_t y = src.y + 1; y <= y_hi; ++y) {
            uint8_t p = y < y_hi ? kNorth : 0;
            if (it != hi && it->y == y) p |= kLocal, ++it;
            out.push_back({x, y, p});
        }
        auto down = hi;
        while (down != lo && (down - 1)->y >= src.y) --down;  // (down-1) is the highest destination below
        for (int32_t y = src.y - 1; y >= y_lo; --y) {
            uint8_t p = y > y_lo ? kSouth : 0;
            if (down != lo && (down - 1)->y == y) p |= kLocal, --down;
            out.push_back({x, y, p});
        }
    };
    visit_row_router(src.x);
    for (int32_t x = src.x + 1; x <= max_x; ++x) visit_row_router(x);
    for (int32_t x = src.x - 1; x >= min_x; --x) visit_row_router(x);
}

// One XY route per destination.
void unicast_steps(const std::vector<Point>& dests, Point src, std::vector<RouteStep>& out) {
    for (const Point& d : dests) {
        int32_t x = src.x, y = src.y;
        while (x != d.x) {
            const uint8_t p = d.x > x ? kEast : kWest;
            out.push_back({x, y, p});
            x += d.x > x ? 1 : -1;
        }
        while (y != d.y) {
            const uint8_t p = d.y > y ? kNorth : kSouth;
            out.push_back({x, y, p});
            y += d.y > y ? 1 : -1;
        }
        out.push_back({x, y, kLocal});
    }
}

int direction_index(uint8_t bit) { return bit == kEast ? 0 : bit == kWest ? 1 : bit == kNorth ? 2 : 3; }

}  // namespace

void route_steps(const Mapping& m, int64_t s, std::vector<RouteStep>& out) {
    out.clear();
    std::vector<Point> dests;
    for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
        const Core& c = m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])];
        dests.push_back({c.x, c.y});
    }
    std::sort(dests.begin(), dests.end(), [](Point a, Point b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
    const Point src = source_position(m, s);
    if (m.chip.noc.multicast == MulticastMode::Tree)
        tree_steps(dests, src, out);
    else
        unicast_steps(dests, src, out);
}

RoutingStats route(const Mapping& m) {
    RoutingStats r;
    const int32_t width = m.mesh.width();
    const auto routers = static_cast<size_t>(m.mesh.routers());
    r.table_entries.assign(routers, 0);
    r.table_entries_default.assign(routers, 0);
    r.link_packets.assign(routers * 4, 0.0);
    const bool tree = m.chip.noc.multicast == MulticastMode::Tree;
    std::vector<RouteStep> steps;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        const auto begin = m.routes.offset[static_cast<size_t>(s)], end = m.routes.offset[static_cast<size_t>(s) + 1];
        if (begin == end) continue;
        const double p = m.source_packets[static_cast<size_t>(s)];
        const Point src = source_position(m, s);
        route_steps(m, s, steps);
        const auto fanout = static_cast<double>(end - begin);
        r.packets_per_step += tree ? p : p * fanout;
        r.deliveries_per_step += p * fanout;
        for (auto i = begin; i < end; ++i) {
            const Core& d = m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])];
            r.unicast_hops_per_step += p * (std::abs(d.x - src.x) + std::abs(d.y - src.y));
        }
        for (const RouteStep& st : steps) {
            const size_t router = static_cast<size_t>(st.y) * static_cast<size_t>(width) + static_cast<size_t>(st.x);
            if (tree) {
                // Multicast tables are keyed by source; a router that only passes packets straight on needs no
                // entry with default routing (as in SpiNNaker).
                ++r.table_entries[router];
                const uint8_t in = st.y == src.y ? (st.x > src.x ? kEast : st.x < src.x ? kWest : 0)
                                                 : (st.y > src.y ? kNorth : kSouth);
                if (in == 0 || st.ports != in) ++r.table_entries_default[router];
            }
            for (uint8_t bit : {kEast, kWest, kNorth, kSouth}) {
                if (!(st.ports & bit)) continue;
                r.link_packets[router * 4 + static_cast<size_t>(direction_index(bit))] += p;
                r.hops_per_step += p;
                const int32_t nx = st.x + (bit == kEast) - (bit == kWest), ny = st.y + (bit == kNorth) - (bit == kSouth);
                if (m.mesh.chip_of(st.x, st.y) != m.mesh.chip_of(nx, ny)) r.inter_chip_hops_per_step += p;
            }
        }
    }
    for (size_t i = 0; i < routers; ++i) {
        r.total_entries += r.table_entries[i];
        r.total_entries_default += r.table_entries_default[i];
    }
    for (size_t i = 0; i < r.link_packets.size(); ++i) {
        if (r.link_packets[i] <= 0) continue;
        ++r.links_used;
        if (r.link_packets[i] > r.worst_link_packets) {
            r.worst_link_packets = r.link_packets[i];
            r.worst_link_x = static_cast<int32_t>((i / 4) % static_cast<size_t>(width));
            r.worst_link_y = static_cast<int32_t>((i / 4) / static_cast<size_t>(width));
            r.worst_link_port = static_cast<uint8_t>(1u << (i % 4));
        }
    }
    return r;
}

}  // namespace neuroemu
