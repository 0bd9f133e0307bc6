// The `uniform` traffic: every packet to any other node, equally likely.
#include "router/traffic/traffic.h"

namespace neuroemu {
namespace {

class Uniform final : public TrafficPattern {
public:
    int32_t destination(int32_t node, const TrafficMesh& mesh, std::mt19937_64& rng) const override {
        return uniform_destination(node, mesh, rng);
    }
    void add_loads(ChannelLoads& loads, const TrafficMesh&) const override {
        loads.prefix();
        loads.uniform_all(1.0);
    }
};

}  // namespace

void register_uniform(Family<TrafficPattern>& family) {
    family.add({"uniform", "every other node equally likely.", {}},
               [](const Settings&) { return std::make_unique<Uniform>(); });
}

}  // namespace neuroemu
