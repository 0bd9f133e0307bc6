// The `tree` multicast: one packet per spike, forked in the routers along the XY routes to its destinations.
#include <algorithm>

#include "router/multicast/multicast.h"

namespace neuroemu {
namespace {

// The XY multicast tree: along the source's row to every destination column, then up and down each column.
// Parents come before children.
void tree_steps(const std::vector<MeshPoint>& dests, MeshPoint src, std::vector<RouteStep>& out) {
    if (dests.empty()) return;
    int32_t min_x = src.x, max_x = src.x;
    for (const MeshPoint& d : dests) min_x = std::min(min_x, d.x), max_x = std::max(max_x, d.x);
    // dests sorted by (x, y): each column's destinations are one run.
    auto column = [&](int32_t x) {
        auto lo = std::lower_bound(dests.begin(), dests.end(), x, [](const MeshPoint& p, int32_t v) { return p.x < v; });
        auto hi = std::upper_bound(dests.begin(), dests.end(), x, [](int32_t v, const MeshPoint& p) { return v < p.x; });
        return std::make_pair(lo, hi);
    };
    auto visit_row_router = [&](int32_t x) {
        uint8_t ports = 0;
        if (x >= src.x && x < max_x) ports |= kEast;
        if (x <= src.x && x > min_x) ports |= kWest;
        auto [lo, hi] = column(x);
        if (lo == hi) {
            out.push_back({x, src.y, ports});
            return;
        }
        const int32_t y_lo = lo->y, y_hi = (hi - 1)->y;
        if (y_hi > src.y) ports |= kNorth;
        if (y_lo < src.y) ports |= kSouth;
        for (auto it = lo; it != hi; ++it)
            if (it->y == src.y) ports |= kLocal;
        out.push_back({x, src.y, ports});
        // Up the column, then down; destinations in the run are sorted by y.
        auto it = lo;
        while (it != hi && it->y <= src.y) ++it;
        for (int32_t y = src.y + 1; y <= y_hi; ++y) {
            uint8_t p = y < y_hi ? kNorth : 0;
            if (it != hi && it->y == y) p |= kLocal, ++it;
            out.push_back({x, y, p});
        }
        auto down = hi;
        while (down != lo && (down - 1)->y >= src.y) --down;  // (down-1) is the highest destination below
        for (int32_t y = src.y - 1; y >= y_lo; --y) {
            uint8_t p = y > y_lo ? kSouth : 0;
            if (down != lo && (down - 1)->y == y) p |= kLocal, --down;
            out.push_back({x, y, p});
        }
    };
    visit_row_router(src.x);
    for (int32_t x = src.x + 1; x <= max_x; ++x) visit_row_router(x);
    for (int32_t x = src.x - 1; x >= min_x; --x) visit_row_router(x);
}

class TreeMulticast final : public Multicast {
public:
    bool forks_in_routers() const override { return true; }
    void steps(const std::vector<MeshPoint>& dests, MeshPoint src, std::vector<RouteStep>& out) const override {
        tree_steps(dests, src, out);
    }
};

}  // namespace

void register_tree(Family<Multicast>& family) {
    family.add({"tree", "one packet forked in the routers along the XY routes (one table entry per router on the "
                        "tree).", {}},
               [](const Settings&) { return std::make_unique<TreeMulticast>(); });
}

}  // namespace neuroemu
