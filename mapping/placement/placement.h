// Placement of cores on the mesh, minimising sum over sources of packets/step x Manhattan hops to each of its
// destination cores. A Placement (the family `placement`, chosen by mapping.placement; one file per
// implementation in this folder) gives the start positions, e.g. a generalised Hilbert (space-filling) curve on
// which cores in topological order (layer after layer) land on consecutive, nearby routers. Then deterministic
// improvement passes move each core to, or swap it with, a nearby router whenever that lowers the cost.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "common/registry.h"
#include "mapping/mapping.h"

namespace neuroemu {

struct PlacementProblem {
    int32_t width = 0, height = 0;  // mesh routers along x and y (global, all chips)
    int64_t cores = 0;              // sources [0, cores) are placed, at most width x height
    const Destinations* routes = nullptr;       // routes->sources() == cores + 1: the last source is the host
    const std::vector<double>* packets = nullptr;  // packets per step of each source (size cores + 1)
    int32_t host_x = 0, host_y = 0;  // fixed position of the host source
    const std::vector<int64_t>* order = nullptr;  // the order cores take the start positions in (a permutation
                                                  // of [0, cores)); null: index order
};

struct Position {
    int32_t x = 0, y = 0;
};

// Where placement starts; the refinement passes are shared by every implementation.
class Placement {
public:
    virtual ~Placement() = default;
    // problem.cores distinct positions inside the mesh, in the order cores take them (see problem.order); the
    // same input must give the same output.
    virtual std::vector<Position> start(const PlacementProblem& problem) const = 0;
};

Family<Placement>& placements();
inline const char* const kDefaultPlacement = "curve";

// Positions of the `cores` cores, all distinct and inside the mesh; the same input gives the same output.
std::vector<Position> place_cores(const PlacementProblem& problem, const MapOptions& options);

// sum over sources s (host included) of packets[s] x sum over destinations d of |x_s - x_d| + |y_s - y_d|.
double placement_cost(const PlacementProblem& problem, const std::vector<Position>& positions);

// The cells of a width x height grid (the `curve` placement's order) in generalised-Hilbert-curve order (consecutive cells are neighbours when
// the dimensions allow; every cell exactly once).
std::vector<Position> gilbert_curve(int32_t width, int32_t height);

}  // namespace neuroemu
