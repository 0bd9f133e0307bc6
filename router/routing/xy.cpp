// The `xy` routing: dimension order, along the row to the destination's column, then along the column.
// Deadlock-free on a mesh without virtual channels (no turn from y back to x).
#include "router/routing/routing.h"

namespace neuroemu {
namespace {

class XyRouting final : public Routing {
public:
    uint8_t port(MeshPoint at, MeshPoint dest) const override { return xy_port(at.x, at.y, dest.x, dest.y); }
};

}  // namespace

void register_xy(Family<Routing>& family) {
    family.add({"xy", "dimension order: along x to the destination's column, then along y.", {}},
               [](const Settings&) { return std::make_unique<XyRouting>(); });
}

}  // namespace neuroemu
