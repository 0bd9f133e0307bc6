// The `transpose` traffic: node (x, y) sends to (y, x) on a square mesh; the diagonal injects nothing.
#include <fmt/format.h>

#include "common/error.h"
#include "router/traffic/traffic.h"

namespace neuroemu {
namespace {

int32_t transpose_of(int32_t node, int32_t w) { return (node % w) * w + node / w; }

class Transpose final : public TrafficPattern {
public:
    void check(const TrafficMesh& mesh) const override {
        if (mesh.width != mesh.height)
            throw ConfigError(fmt::format("--traffic transpose needs a square mesh, not {}x{}: (x, y) -> (y, x)",
                                          mesh.width, mesh.height));
    }
    bool injects(int32_t node, const TrafficMesh& mesh) const override {
        return transpose_of(node, mesh.width) != node;
    }
    int32_t destination(int32_t node, const TrafficMesh& mesh, std::mt19937_64&) const override {
        return transpose_of(node, mesh.width);
    }
    void add_loads(ChannelLoads& loads, const TrafficMesh& mesh) const override {
        for (int32_t s = 0; s < mesh.nodes(); ++s)
            if (injects(s, mesh)) loads.flow(s, transpose_of(s, mesh.width), 1.0);
        loads.prefix();
    }
};

}  // namespace

void register_transpose(Family<TrafficPattern>& family) {
    family.add({"transpose", "(x, y) -> (y, x) on a square mesh; the nodes on the diagonal inject nothing.", {}},
               [](const Settings&) { return std::make_unique<Transpose>(); });
}

}  // namespace neuroemu
