// The `row_major` placement: the mesh filled row by row in core order, a baseline for the curve.
#include "mapping/placement/placement.h"

namespace neuroemu {
namespace {

class RowMajorPlacement final : public Placement {
public:
    std::vector<Position> start(const PlacementProblem& problem) const override {
        std::vector<Position> pos(static_cast<size_t>(problem.cores));
        for (int64_t i = 0; i < problem.cores; ++i)
            pos[static_cast<size_t>(i)] = {static_cast<int32_t>(i % problem.width), static_cast<int32_t>(i / problem.width)};
        return pos;
    }
};

}  // namespace

void register_row_major(Family<Placement>& family) {
    family.add({"row_major", "fills the mesh row by row (a baseline).", {}},
               [](const Settings&) { return std::make_unique<RowMajorPlacement>(); });
}

}  // namespace neuroemu
