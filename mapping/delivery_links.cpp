#include "mapping/delivery_links.h"

#include <algorithm>
#include <memory>

#include "mapping/routing.h"
#include "router/multicast/multicast.h"

namespace neuroemu {

DeliveryLinks::DeliveryLinks(const Mapping& m, const FaultSpec& f, bool links) {
    const RouteFaults faults(m, f);
    any_dead_ = faults.any();
    const std::unique_ptr<Multicast> multicast = make_multicast(m.chip.noc.multicast);
    const auto width = static_cast<uint64_t>(m.mesh.width());
    std::vector<RouteStep> steps;
    std::vector<int32_t> cut;
    cut_.assign(m.routes.dest.size(), 0);
    hop_offset_.assign(1, 0);
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        route_steps(m, *multicast, any_dead_ ? &faults : nullptr, s, steps, &cut);
        std::sort(cut.begin(), cut.end());
        const MeshPoint src = source_position(m, s);
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const int32_t d = m.routes.dest[static_cast<size_t>(i)];
            if (std::binary_search(cut.begin(), cut.end(), d)) {
                cut_[static_cast<size_t>(i)] = 1;
            } else if (links) {
                const Core& c = m.cores[static_cast<size_t>(d)];
                for (const RouteStep& st : pair_path(steps, src, MeshPoint{c.x, c.y}))
                    for (int dir = 0; dir < 4; ++dir)
                        if (st.ports & (1u << dir))
                            hops_.push_back({static_cast<uint64_t>(st.y) * width + static_cast<uint64_t>(st.x), dir});
            }
            hop_offset_.push_back(hops_.size());
        }
    }
}

}  // namespace neuroemu
