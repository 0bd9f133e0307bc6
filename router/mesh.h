// The 2-D mesh of routers, wired once for every user (the chip model and `neuroemu noc`): routers in row-major order
// (index y * width + x, named PREFIX_x_y), each output E, W, N, S wired to its neighbour's input.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "router/router.h"

namespace neuroemu {

// Whether the link from router (x, y) to its neighbour (nx, ny) leaves the chip (slower inter-chip timing).
using InterChipLink = std::function<bool(int32_t x, int32_t y, int32_t nx, int32_t ny)>;

std::vector<std::unique_ptr<Router>> build_mesh(RouterEnv& env, int32_t width, int32_t height, const std::string& prefix,
                                                int64_t local_credits, const InterChipLink& inter_chip);

}  // namespace neuroemu
