#include "mapping/routing.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace neuroemu {

namespace {

using Point = MeshPoint;

Point source_position(const Mapping& mapping, int64_t s) {
    if (s == static_cast<int64_t>(mapping.cores.size())) return {mapping.host_x, mapping.host_y};
    const Core& c = mapping.cores[static_cast<size_t>(s)];
    return {c.x, c.y};
}

int direction_index(uint8_t bit) { return bit == kEast ? 0 : bit == kWest ? 1 : bit == kNorth ? 2 : 3; }

}  // namespace

void route_steps(const Mapping& mapping, int64_t s, std::vector<RouteStep>& out) {
    route_steps(mapping, *make_multicast(mapping.chip.noc.multicast), s, out);
}

void route_steps(const Mapping& mapping, const Multicast& multicast, int64_t s, std::vector<RouteStep>& out) {
    out.clear();
    std::vector<Point> dests;
    const auto& offset = mapping.routes.offset;
    for (int64_t i = offset[static_cast<size_t>(s)]; i < offset[static_cast<size_t>(s) + 1]; ++i) {
        const Core& c = mapping.cores[static_cast<size_t>(mapping.routes.dest[static_cast<size_t>(i)])];
        dests.push_back({c.x, c.y});
    }
    std::sort(dests.begin(), dests.end(), [](Point a, Point b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
    multicast.steps(dests, source_position(mapping, s), out);
}

RoutingStats route(const Mapping& mapping) {
    RoutingStats routes;
    const int32_t width = mapping.mesh.width();
    const auto routers = static_cast<size_t>(mapping.mesh.routers());
    routes.table_entries.assign(routers, 0);
    routes.table_entries_default.assign(routers, 0);
    routes.link_packets.assign(routers * 4, 0.0);
    const std::unique_ptr<Multicast> multicast = make_multicast(mapping.chip.noc.multicast);
    const bool tree = multicast->forks_in_routers();
    std::vector<RouteStep> steps;
    for (int64_t s = 0; s < mapping.routes.sources(); ++s) {
        const auto begin = mapping.routes.offset[static_cast<size_t>(s)];
        const auto end = mapping.routes.offset[static_cast<size_t>(s) + 1];
        if (begin == end) continue;
        const double p = mapping.source_packets[static_cast<size_t>(s)];
        const Point src = source_position(mapping, s);
        route_steps(mapping, *multicast, s, steps);
        const auto fanout = static_cast<double>(end - begin);
        routes.packets_per_step += tree ? p : p * fanout;
        routes.deliveries_per_step += p * fanout;
        for (auto i = begin; i < end; ++i) {
            const Core& d = mapping.cores[static_cast<size_t>(mapping.routes.dest[static_cast<size_t>(i)])];
            routes.unicast_hops_per_step += p * (std::abs(d.x - src.x) + std::abs(d.y - src.y));
        }
        for (const RouteStep& st : steps) {
            const size_t router = static_cast<size_t>(st.y) * static_cast<size_t>(width) + static_cast<size_t>(st.x);
            if (tree) {
                // Multicast tables are keyed by source; a router that only passes packets straight on needs no
                // entry with default routing (as in SpiNNaker).
                ++routes.table_entries[router];
                const uint8_t in = st.y == src.y ? (st.x > src.x ? kEast : st.x < src.x ? kWest : 0)
                                                 : (st.y > src.y ? kNorth : kSouth);
                if (in == 0 || st.ports != in) ++routes.table_entries_default[router];
            }
            for (uint8_t bit : {kEast, kWest, kNorth, kSouth}) {
                if (!(st.ports & bit)) continue;
                routes.link_packets[router * 4 + static_cast<size_t>(direction_index(bit))] += p;
                routes.hops_per_step += p;
                const int32_t nx = st.x + (bit == kEast) - (bit == kWest), ny = st.y + (bit == kNorth) - (bit == kSouth);
                if (mapping.mesh.chip_of(st.x, st.y) != mapping.mesh.chip_of(nx, ny))
                    routes.inter_chip_hops_per_step += p;
            }
        }
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
            routes.worst_link_x = static_cast<int32_t>((i / 4) % static_cast<size_t>(width));
            routes.worst_link_y = static_cast<int32_t>((i / 4) / static_cast<size_t>(width));
            routes.worst_link_port = static_cast<uint8_t>(1u << (i % 4));
        }
    }
    return routes;
}

}  // namespace neuroemu
