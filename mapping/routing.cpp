#include "mapping/routing.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace neuroemu {

namespace {

using Point = MeshPoint;

Point source_position(const Mapping& m, int64_t s) {
    if (s == static_cast<int64_t>(m.cores.size())) return {m.host_x, m.host_y};
    const Core& c = m.cores[static_cast<size_t>(s)];
    return {c.x, c.y};
}

int direction_index(uint8_t bit) { return bit == kEast ? 0 : bit == kWest ? 1 : bit == kNorth ? 2 : 3; }

}  // namespace

void route_steps(const Mapping& m, int64_t s, std::vector<RouteStep>& out) {
    route_steps(m, *make_multicast(m.chip.noc.multicast), s, out);
}

void route_steps(const Mapping& m, const Multicast& multicast, int64_t s, std::vector<RouteStep>& out) {
    out.clear();
    std::vector<Point> dests;
    for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
        const Core& c = m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])];
        dests.push_back({c.x, c.y});
    }
    std::sort(dests.begin(), dests.end(), [](Point a, Point b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
    multicast.steps(dests, source_position(m, s), out);
}

RoutingStats route(const Mapping& m) {
    RoutingStats r;
    const int32_t width = m.mesh.width();
    const auto routers = static_cast<size_t>(m.mesh.routers());
    r.table_entries.assign(routers, 0);
    r.table_entries_default.assign(routers, 0);
    r.link_packets.assign(routers * 4, 0.0);
    const std::unique_ptr<Multicast> multicast = make_multicast(m.chip.noc.multicast);
    const bool tree = multicast->forks_in_routers();
    std::vector<RouteStep> steps;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        const auto begin = m.routes.offset[static_cast<size_t>(s)], end = m.routes.offset[static_cast<size_t>(s) + 1];
        if (begin == end) continue;
        const double p = m.source_packets[static_cast<size_t>(s)];
        const Point src = source_position(m, s);
        route_steps(m, *multicast, s, steps);
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
