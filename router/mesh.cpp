#include "router/mesh.h"

#include <fmt/format.h>

namespace neuroemu {

std::vector<std::unique_ptr<Router>> build_mesh(RouterEnv& env, int32_t width, int32_t height, const std::string& prefix,
                                                int64_t local_credits, const InterChipLink& inter_chip) {
    std::vector<std::unique_ptr<Router>> routers;
    routers.reserve(static_cast<size_t>(width) * static_cast<size_t>(height));
    for (int32_t y = 0; y < height; ++y)
        for (int32_t x = 0; x < width; ++x)
            routers.push_back(std::make_unique<Router>(fmt::format("{}_{}_{}", prefix, x, y).c_str(), env, x, y,
                                                       routers.size(), local_credits));
    const auto at = [&](int32_t x, int32_t y) {
        return routers[static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)].get();
    };
    for (int32_t y = 0; y < height; ++y)
        for (int32_t x = 0; x < width; ++x) {
            // Output d: 0 east, 1 west, 2 north, 3 south (router.h).
            const int32_t nx[4] = {x + 1, x - 1, x, x}, ny[4] = {y, y, y + 1, y - 1};
            for (int d = 0; d < 4; ++d)
                if (nx[d] >= 0 && nx[d] < width && ny[d] >= 0 && ny[d] < height)
                    at(x, y)->connect(d, at(nx[d], ny[d]), inter_chip(x, y, nx[d], ny[d]));
        }
    return routers;
}

}  // namespace neuroemu
