#include "mapping/fault_routes.h"

#include <fmt/format.h>

#include <memory>

#include "router/multicast/multicast.h"

namespace neuroemu {

namespace {

struct DeadElements {
    std::vector<uint8_t> router, link;  // per router; per router x 4 directions
    bool any = false;
};

DeadElements dead_elements(const Mapping& m, const FaultSpec& f) {
    const auto routers = static_cast<size_t>(m.mesh.routers());
    DeadElements d;
    d.any = !f.dead_routers.empty() || !f.dead_links.empty();
    if (!d.any) return d;
    d.router.assign(routers, 0);
    d.link.assign(routers * 4, 0);
    for (int64_t r : f.dead_routers) {
        if (r < 0 || static_cast<size_t>(r) >= routers)
            throw ConfigError(fmt::format("chip.faults.dead_routers: router {} does not exist: the mesh has {} routers "
                                          "(0 to {}, y * width + x)", r, routers, routers - 1));
        d.router[static_cast<size_t>(r)] = 1;
    }
    for (int64_t l : f.dead_links) {
        if (l < 0 || static_cast<size_t>(l) >= routers * 4)
            throw ConfigError(fmt::format("chip.faults.dead_links: link {} does not exist: the mesh has {} routers, "
                                          "links 0 to {} (router * 4 + direction)", l, routers, routers * 4 - 1));
        d.link[static_cast<size_t>(l)] = 1;
    }
    return d;
}

// Whether link `h` is dead or leads into a dead router (both directions of a wire die together).
bool blocked(const Mesh& mesh, const DeadElements& d, const LinkHop& h) {
    const int32_t dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
    const auto width = static_cast<uint64_t>(mesh.width());
    const auto x = static_cast<int32_t>(h.router % width), y = static_cast<int32_t>(h.router / width);
    const int32_t nx = x + dx[h.output], ny = y + dy[h.output];
    if (nx < 0 || ny < 0 || nx >= mesh.width() || ny >= mesh.height()) return false;
    const size_t next = static_cast<size_t>(ny) * width + static_cast<size_t>(nx);
    return d.router[next] || d.link[h.router * 4 + static_cast<size_t>(h.output)] ||
           d.link[next * 4 + static_cast<size_t>(h.output ^ 1)];
}

}  // namespace

FaultRoutes::FaultRoutes(const Mapping& m, const FaultSpec& f, bool links) {
    const DeadElements dead = dead_elements(m, f);
    any_dead_ = dead.any;
    const std::unique_ptr<Multicast> multicast = make_multicast(m.chip.noc.multicast);
    const auto width = static_cast<uint64_t>(m.mesh.width());
    std::vector<RouteStep> steps;
    std::vector<LinkHop> path;
    cut_.assign(m.routes.dest.size(), 0);
    hop_offset_.assign(1, 0);
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        const bool host = static_cast<size_t>(s) == m.cores.size();
        const MeshPoint src = host ? MeshPoint{m.host_x, m.host_y}
                                   : MeshPoint{m.cores[static_cast<size_t>(s)].x, m.cores[static_cast<size_t>(s)].y};
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const Core& c = m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])];
            steps.clear();
            multicast->steps({MeshPoint{c.x, c.y}}, src, steps);
            path.clear();
            for (const RouteStep& st : steps)
                for (int dir = 0; dir < 4; ++dir)
                    if (st.ports & (1u << dir))
                        path.push_back({static_cast<uint64_t>(st.y) * width + static_cast<uint64_t>(st.x), dir});
            if (dead.any) {
                bool ok = !dead.router[static_cast<size_t>(src.y) * width + static_cast<size_t>(src.x)];
                for (const LinkHop& h : path) ok = ok && !blocked(m.mesh, dead, h);
                cut_[static_cast<size_t>(i)] = ok ? 0 : 1;
            }
            if (links) hops_.insert(hops_.end(), path.begin(), path.end());
            hop_offset_.push_back(hops_.size());
        }
    }
}

}  // namespace neuroemu
