// The routes of a Mapping's sources (routing and multicast themselves live in router/routing and
// router/multicast): per router its table entries (one per source whose packets it forwards or delivers), per
// link its load in packets per time step.
#pragma once

#include <cstdint>
#include <vector>

#include "mapping/mapping.h"
#include "router/multicast/multicast.h"
#include "router/routing/routing.h"

namespace neuroemu {

struct RoutingStats {
    std::vector<int32_t> table_entries;          // per router (y * width + x): sources routed through it
    std::vector<int32_t> table_entries_default;  // the same without straight-through entries (default routing)
    std::vector<double> link_packets;            // per router x 4 outgoing links (E, W, N, S): packets per step
    double packets_per_step = 0;                 // packets injected (multicast tree: one per spike)
    double deliveries_per_step = 0;              // packets arriving at destination cores
    double hops_per_step = 0;                    // link traversals
    double inter_chip_hops_per_step = 0;         // of which over chip-to-chip links
    double unicast_hops_per_step = 0;            // sum of packets x Manhattan distance to each destination
    int64_t total_entries = 0, total_entries_default = 0;
    int64_t links_used = 0;
    double worst_link_packets = 0;               // the most loaded link, packets per step
    int32_t worst_link_x = 0, worst_link_y = 0;  // its router
    uint8_t worst_link_port = 0;                 // and direction
};

// The routers that the packets of source `s` (a core, or cores.size() for the host) pass, in order from the
// source, into `out` (cleared first). Tree mode lists each router of the XY multicast tree once; source mode
// lists every unicast route one after another (a router can appear once per destination).
void route_steps(const Mapping& mapping, int64_t s, std::vector<RouteStep>& out);
// The same with the multicast resolved once by the caller (for loops over every source).
void route_steps(const Mapping& mapping, const Multicast& multicast, int64_t s, std::vector<RouteStep>& out);

RoutingStats route(const Mapping& mapping);

}  // namespace neuroemu
