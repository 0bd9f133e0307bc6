// The links each delivery of a mapping crosses under chip.faults (arch/fault_spec.h, docs/hardware-model.md
// "Faults"): for every (source, destination core) delivery of Mapping::routes, the router-to-router links of its
// route and whether dead routers or links cut it. Taken from route_steps with the faults (mapping/routing.h), the
// one route computation that also gives the chip model its tables, detours and cut pairs, so that the fault-aware
// engine (which replays the links' bit flips, experiment/fault_losses.h) sees exactly the chip's paths.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/fault_spec.h"
#include "mapping/mapping.h"

namespace neuroemu {

// One router-to-router link: output `output` (0 east, 1 west, 2 north, 3 south) of router `router` (y * width + x).
struct LinkHop {
    uint64_t router = 0;
    int output = 0;
};

class DeliveryLinks {
public:
    // `mapping`: the full mapping (before the chip removes cut routes: RouteFaults decides which sources take
    // detours from its routes). Throws ConfigError naming chip.faults.dead_routers / dead_links for an element
    // outside the mesh. `links`: also keep every route's links (else only whether it is cut).
    DeliveryLinks(const Mapping& mapping, const FaultSpec& faults, bool links);

    bool any_dead() const { return any_dead_; }
    // Route r: the r-th entry of Mapping::routes.dest (source s owns [offset[s], offset[s + 1])).
    bool cut(size_t r) const { return cut_[r] != 0; }
    // The links route r crosses, in order (pair_path: a tree's branch to a core, or the core's unicast route; the
    // ejection into the core is not a link). Empty for a cut route.
    const LinkHop* links_begin(size_t r) const { return hops_.data() + hop_offset_[r]; }
    const LinkHop* links_end(size_t r) const { return hops_.data() + hop_offset_[r + 1]; }

private:
    bool any_dead_ = false;
    std::vector<uint8_t> cut_;
    std::vector<size_t> hop_offset_;
    std::vector<LinkHop> hops_;
};

}  // namespace neuroemu
