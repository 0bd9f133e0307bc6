// The `source` multicast: the source core sends one unicast packet per destination core, each routed alone.
#include "router/multicast/multicast.h"

namespace neuroemu {
namespace {

class SourceMulticast final : public Multicast {
public:
    bool forks_in_routers() const override { return false; }
    void steps(const std::vector<MeshPoint>& dests, MeshPoint src, std::vector<RouteStep>& out) const override {
        for (const MeshPoint& d : dests) routing_->path(src, d, out);
    }

private:
    std::unique_ptr<Routing> routing_ = routings().make(kDefaultRouting);
};

}  // namespace

void register_source(Family<Multicast>& family) {
    family.add({"source", "one unicast packet per destination core, routed alone.", {}},
               [](const Settings&) { return std::make_unique<SourceMulticast>(); });
}

}  // namespace neuroemu
