// The routes of a Mapping's sources (routing and multicast themselves live in router/routing and
// router/multicast): per router its table entries (one per source whose packets it forwards or delivers), per
// link its load in packets per time step.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/fault_spec.h"
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

// chip.faults.dead_routers and dead_links (arch/fault_spec.h) resolved on a mapping's mesh, with the sources whose
// routes they touch. Built once per mapping from the mapping's full routes; a mapping with routes removed (the chip
// model's pruned one) keeps using the same object, so that every source keeps the routing chosen here.
class RouteFaults {
public:
    // Throws ConfigError naming the key for a router or link outside the mesh.
    RouteFaults(const Mapping& mapping, const FaultSpec& faults);
    bool any() const { return any_; }
    // chip.faults.reroute: whether sources whose XY routes cross a dead element take west-first detours.
    bool reroute() const { return reroute_; }
    bool router_dead(int32_t x, int32_t y) const;
    // Whether the hop out of router (x, y) by `port` (kEast..kSouth) leaves the mesh, crosses a dead link or enters a
    // dead router.
    bool hop_blocked(int32_t x, int32_t y, uint8_t port) const;
    // Whether source s (a core, or cores.size() for the host) is routed around dead elements (west-first tree):
    // chip.faults.reroute is on and an XY route of it between two live routers crosses a dead element.
    bool rerouted(int64_t s) const { return !rerouted_.empty() && rerouted_[static_cast<size_t>(s)]; }
    // Whether the XY route from `src` to `dest` passes a dead router (its ends included) or crosses a dead link.
    bool xy_route_blocked(MeshPoint src, MeshPoint dest) const;

private:
    int32_t width_ = 0, height_ = 0;
    bool any_ = false, reroute_ = true;
    std::vector<uint8_t> dead_router_, dead_link_;  // per router; per router x 4 directions (E, W, N, S)
    std::vector<uint8_t> rerouted_;                 // per source (when reroute() and anything is dead)
};

// Where source s's packets enter the mesh: its core's router, or the host's for s = cores.size().
MeshPoint source_position(const Mapping& mapping, int64_t s);

// The west-first route tree from `src` (docs/hardware-model.md "Faults"): first west along the source's row as far
// as the links allow, then only east, north or south (never a turn into west), a breadth-first search that enters
// each live router at most once and prefers, among parents at the same distance, the vertical hop (north, then
// south) over the east hop; without dead elements each branch is then the XY route. Per router (y * width + x):
// its distance in hops (-1: unreachable) and the port bit by which the tree enters it (0 at the source).
struct WestFirstTree {
    std::vector<int32_t> hops;
    std::vector<uint8_t> via;
};
WestFirstTree west_first_tree(const RouteFaults& faults, int32_t width, int32_t height, MeshPoint src);

// The routers that the packets of source `s` (a core, or cores.size() for the host) pass, in order from the
// source, into `out` (cleared first). Tree mode lists each router of the XY multicast tree once; source mode
// lists every unicast route one after another (a router can appear once per destination).
void route_steps(const Mapping& mapping, int64_t s, std::vector<RouteStep>& out);
// The same with the multicast resolved once by the caller (for loops over every source).
void route_steps(const Mapping& mapping, const Multicast& multicast, int64_t s, std::vector<RouteStep>& out);
// THE route computation with dead routers and links (`faults` null or without dead elements: the XY routes above):
// every consumer of a chip's actual routes (the chip model's tables and unicast detours, its undeliverable pairs, the
// link loads of the report, the functional engine's loss oracle) takes them from here. Source s's routes into `out`
// as above, and the destination cores it cannot reach into `cut` (cleared first; may be null):
// - chip.faults.reroute off, or no XY route of s crosses a dead element: the XY routes of the destinations whose XY
//   route is intact; the others are cut.
// - rerouted (faults->rerouted(s)): the branches of s's west-first tree (west_first_tree) to its destinations, each
//   router once in tree mode (parents before children), each destination's path in turn in source mode (sorted by
//   (x, y), like the XY routes); destinations the tree does not reach (a dead source or destination router, or a
//   cut the west-first turns cannot go around) are cut.
void route_steps(const Mapping& mapping, const Multicast& multicast, const RouteFaults* faults, int64_t s,
                 std::vector<RouteStep>& out, std::vector<int32_t>* cut);

// The route of one (source, destination) pair inside route_steps' output for that source (tree or source mode: the
// union of a source's routes is a tree either way): the routers from `src` to `dest`, each with the one port the
// pair's packets leave it by (kLocal at `dest`); empty when `steps` does not deliver to `dest`. For per-pair users
// (the functional engine's loss oracle: which links a delivery crosses).
std::vector<RouteStep> pair_path(const std::vector<RouteStep>& steps, MeshPoint src, MeshPoint dest);

// Link loads and table entries of the mapping's routes; with `faults`, of the routes route_steps gives with them
// (the cut deliveries are not counted).
RoutingStats route(const Mapping& mapping, const RouteFaults* faults = nullptr);

}  // namespace neuroemu
