// The `hotspot` traffic: a share (--hotspot-fraction) of every other node's packets to the centre node, the rest
// uniform; the centre's own packets uniform.
#include "router/traffic/traffic.h"

namespace neuroemu {
namespace {

class Hotspot final : public TrafficPattern {
public:
    int32_t hotspot_node(const TrafficMesh& mesh) const override {
        return (mesh.height / 2) * mesh.width + mesh.width / 2;
    }
    int32_t destination(int32_t node, const TrafficMesh& mesh, std::mt19937_64& rng) const override {
        const int32_t centre = hotspot_node(mesh);
        if (node != centre && unit_open0(rng) <= mesh.hotspot_fraction) return centre;
        return uniform_destination(node, mesh, rng);
    }
    void add_loads(ChannelLoads& loads, const TrafficMesh& mesh) const override {
        const int32_t centre = hotspot_node(mesh);
        const double f = mesh.hotspot_fraction;
        for (int32_t s = 0; s < mesh.nodes(); ++s)
            if (s != centre) loads.flow(s, centre, f);
        loads.uniform_from(centre, f);
        loads.prefix();
        loads.uniform_all(1.0 - f);
    }
};

}  // namespace

void register_hotspot(Family<TrafficPattern>& family) {
    family.add({"hotspot", "a share of the packets (--hotspot-fraction) to the centre node (width / 2, height / 2), "
                           "the rest uniform.", {}},
               [](const Settings&) { return std::make_unique<Hotspot>(); });
}

}  // namespace neuroemu
