#include "router/routing/routing.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_xy(Family<Routing>& family);

Family<Routing>& routings() {
    static Family<Routing> family("routing", "",
                                  "Unicast routing on the mesh (fixed: XY, the only one so far; no key selects it).");
    static const bool builtins = (register_xy(family), true);
    (void)builtins;
    return family;
}

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

void Routing::path(MeshPoint src, MeshPoint dest, std::vector<RouteStep>& out) const {
    MeshPoint at = src;
    for (;;) {
        const uint8_t p = port(at, dest);
        out.push_back({at.x, at.y, p});
        if (p == kLocal) return;
        at.x += (p == kEast) - (p == kWest);
        at.y += (p == kNorth) - (p == kSouth);
    }
}

}  // namespace neuroemu
