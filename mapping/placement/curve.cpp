// The `curve` placement: cores in topological order (layer after layer) along a generalised Hilbert
// (space-filling) curve, so that consecutive cores land on nearby routers.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "common/error.h"
#include "mapping/placement/placement.h"

namespace neuroemu {
namespace {

int32_t sign(int32_t v) { return (v > 0) - (v < 0); }

// floor(v / 2), where the reference algorithm splits (Python's //): on a reversed (negative) axis truncation would
// move the split by a cell, giving a different (equally valid) curve from the reference's.
int32_t floor_half(int32_t v) { return v >= 0 ? v / 2 : -((1 - v) / 2); }

// Generalised Hilbert curve (gilbert2d, after J. Cerveny): appends the cells of the rectangle with corner (x, y),
// major axis (ax, ay) and minor axis (bx, by) (each axis along x or y, its sign the direction), entering at the
// corner and leaving at the far end of the major axis. Stops once `out` holds `limit` cells.
void gilbert(int32_t x, int32_t y, int32_t ax, int32_t ay, int32_t bx, int32_t by, std::vector<Position>& out,
             size_t limit) {
    if (out.size() >= limit) return;
    const int32_t w = std::abs(ax + ay), h = std::abs(bx + by);
    const int32_t dax = sign(ax), day = sign(ay), dbx = sign(bx), dby = sign(by);
    if (h == 1 || w == 1) {  // a single row or column: walk it
        const int32_t n = h == 1 ? w : h, sx = h == 1 ? dax : dbx, sy = h == 1 ? day : dby;
        for (int32_t i = 0; i < n && out.size() < limit; ++i) out.push_back({x + i * sx, y + i * sy});
        return;
    }
    int32_t ax2 = floor_half(ax), ay2 = floor_half(ay), bx2 = floor_half(bx), by2 = floor_half(by);
    const int32_t w2 = std::abs(ax2 + ay2), h2 = std::abs(bx2 + by2);
    if (2 * int64_t{w} > 3 * int64_t{h}) {
        // Long and thin: two halves along the major axis, each crossed corner to corner. A half of odd length
        // with an even minor side would force a diagonal step, so the first half is made even.
        if (w2 % 2 != 0 && w > 2) ax2 += dax, ay2 += day;
        gilbert(x, y, ax2, ay2, bx, by, out, limit);
        gilbert(x + ax2, y + ay2, ax - ax2, ay - ay2, bx, by, out, limit);
    } else {
        // A U: up part of the minor axis over the first half of the major one, along the whole major axis on
        // the rest, back down over the second half. The first leg is made even for the same reason.
        if (h2 % 2 != 0 && h > 2) bx2 += dbx, by2 += dby;
        gilbert(x, y, bx2, by2, ax2, ay2, out, limit);
        gilbert(x + bx2, y + by2, ax, ay, bx - bx2, by - by2, out, limit);
        gilbert(x + (ax - dax) + (bx2 - dbx), y + (ay - day) + (by2 - dby), -bx2, -by2, -(ax - ax2), -(ay - ay2),
                out, limit);
    }
}

std::vector<Position> curve_prefix(int32_t width, int32_t height, size_t limit) {
    if (width < 0 || height < 0) throw InternalError(fmt::format("gilbert_curve: {} x {} grid", width, height));
    std::vector<Position> out;
    if (width == 0 || height == 0) return out;
    limit = std::min(limit, static_cast<size_t>(int64_t{width} * height));
    out.reserve(limit);
    if (width >= height) gilbert(0, 0, width, 0, 0, height, out, limit);
    else gilbert(0, 0, 0, height, width, 0, out, limit);
    return out;
}

class CurvePlacement final : public Placement {
public:
    std::vector<Position> start(const PlacementProblem& problem) const override {
        return curve_prefix(problem.width, problem.height, static_cast<size_t>(problem.cores));
    }
};

}  // namespace

std::vector<Position> gilbert_curve(int32_t width, int32_t height) {
    return curve_prefix(width, height, std::numeric_limits<size_t>::max());
}

void register_curve(Family<Placement>& family) {
    family.add({"curve", "lays cores out in layer order along a generalised Hilbert curve.", {}},
               [](const Settings&) { return std::make_unique<CurvePlacement>(); });
}

}  // namespace neuroemu
