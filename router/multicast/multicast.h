// How one spike reaches several destination cores: the family `multicast`, chosen by chip.noc.multicast (one
// implementation per file in this folder). Resolved once per mapping or chip model, never per packet.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "router/routing/routing.h"

namespace neuroemu {

class Multicast {
public:
    virtual ~Multicast() = default;
    // true: one packet per spike, forked in the routers (a table entry per source per router on its tree);
    // false: the source sends one unicast packet per destination core.
    virtual bool forks_in_routers() const = 0;
    // The routers the packets of one spike from `src` pass, with the ports they leave by, appended to `out`.
    // `dests` are the destination routers sorted by (x, y). A router may appear more than once when several
    // packets pass it.
    virtual void steps(const std::vector<MeshPoint>& dests, MeshPoint src, std::vector<RouteStep>& out) const = 0;
};

Family<Multicast>& multicasts();
// The implementation `name` (chip.noc.multicast); throws ConfigError listing the registered names.
std::unique_ptr<Multicast> make_multicast(const std::string& name);

}  // namespace neuroemu
