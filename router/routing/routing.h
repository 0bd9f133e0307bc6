// Routing on the 2-D mesh: which output port a packet takes at each router. Plain C++ (no SystemC, no mapping),
// shared by the mapper (tables, link loads) and the SystemC router.
//
// The family `routing` (one implementation per file in this folder): today dimension-order XY only, so the hot
// paths call `xy_port` directly (inline, one per packet per router); a second algorithm would be resolved once
// per run into the router's environment, never looked up per flit.
#pragma once

#include <cstdint>
#include <vector>

#include "common/registry.h"

namespace neuroemu {

// Ports of a router: the four mesh directions and the local core.
enum Port : uint8_t { kEast = 1, kWest = 2, kNorth = 4, kSouth = 8, kLocal = 16 };

const char* port_name(uint8_t port);

struct MeshPoint {
    int32_t x = 0, y = 0;
};

// One router on a packet's route and the ports the packet leaves it by (kLocal: delivered there).
struct RouteStep {
    int32_t x = 0, y = 0;
    uint8_t ports = 0;
};

// Output port toward router (dx, dy) from (x, y) under XY routing (kLocal when there): along x first, then y.
inline uint8_t xy_port(int32_t x, int32_t y, int32_t dx, int32_t dy) {
    if (dx > x) return kEast;
    if (dx < x) return kWest;
    if (dy > y) return kNorth;
    if (dy < y) return kSouth;
    return kLocal;
}

// A deterministic unicast routing algorithm.
class Routing {
public:
    virtual ~Routing() = default;
    // The output port at router `at` of a packet bound for router `dest`.
    virtual uint8_t port(MeshPoint at, MeshPoint dest) const = 0;
    // Appends the routers from `src` to `dest` with the port taken at each (kLocal at `dest`).
    void path(MeshPoint src, MeshPoint dest, std::vector<RouteStep>& out) const;
};

Family<Routing>& routings();
inline const char* const kDefaultRouting = "xy";

}  // namespace neuroemu
