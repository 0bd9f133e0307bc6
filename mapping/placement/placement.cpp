#include "mapping/placement/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/error.h"

namespace neuroemu {

// The built-in implementations, one file each (mapping/placement/*.cpp); see common/registry.h for why they are
// registered by these calls rather than by static objects.
void register_curve(Family<Placement>& family);
void register_row_major(Family<Placement>& family);

Family<Placement>& placements() {
    static Family<Placement> family(
        "placement", "mapping.placement",
        "Start of placement, the positions the refinement passes (mapping.refine_passes) then improve.");
    static const bool builtins = (register_curve(family), register_row_major(family), true);
    (void)builtins;
    return family;
}

namespace {

void check(const PlacementProblem& p) {
    if (p.width < 0 || p.height < 0 || p.cores < 0 || p.cores >= std::numeric_limits<int32_t>::max())
        throw InternalError(fmt::format("placement: {} cores on a {} x {} mesh", p.cores, p.width, p.height));
    if (p.cores > int64_t{p.width} * p.height)
        throw InternalError(fmt::format("placement: {} cores do not fit a {} x {} mesh", p.cores, p.width, p.height));
    if (!p.routes || !p.packets) throw InternalError("placement: routes or packets missing");
    const Destinations& r = *p.routes;
    if (r.sources() != p.cores + 1 || static_cast<int64_t>(p.packets->size()) != p.cores + 1)
        throw InternalError(fmt::format("placement: {} cores but {} route sources and {} packet rates", p.cores,
                                        r.sources(), p.packets->size()));
    if (r.offset.front() != 0 || r.offset.back() != static_cast<int64_t>(r.dest.size()) ||
        !std::is_sorted(r.offset.begin(), r.offset.end()))
        throw InternalError("placement: route offsets do not partition the destination list");
    for (int64_t s = 0; s <= p.cores; ++s) {
        const double pk = (*p.packets)[s];
        if (!std::isfinite(pk) || pk < 0) throw InternalError(fmt::format("placement: source {} sends {}", s, pk));
        for (int64_t i = r.offset[s]; i < r.offset[s + 1]; ++i) {
            // Sorted and distinct: the refiner looks links up by binary search.
            if (r.dest[i] < 0 || r.dest[i] >= p.cores || (i > r.offset[s] && r.dest[i] <= r.dest[i - 1]))
                throw InternalError(fmt::format("placement: source {} has destinations out of order or range", s));
        }
    }
}

// Improvement passes. f_c(q), the cost of the links of core c (both directions) with c at router q and every
// other source where it is, is separable in x and y. A link of weight w to a source at offset d adds w|q - d|;
// for q within two routers of c, with d clamped to [-2, 2] that is w|q - clamp(d)| plus a constant that cancels
// in differences. So a core's table, the link weights binned by the clamped offsets of their far ends, prices
// every move around it. A move shifts the moved core's weight between two bins of each neighbour's table; only the
// moved cores' own tables need a rebuild, done when next read.
class Refiner {
public:
    Refiner(const PlacementProblem& p, std::vector<Position>& pos)
        : p_(p), out_(*p.routes), packets_(*p.packets), pos_(pos), cores_(static_cast<int32_t>(p.cores)),
          grid_(static_cast<size_t>(int64_t{p.width} * p.height), -1), tables_(cores_),
          stale_(static_cast<size_t>(cores_) + 1, 1) {
        for (int32_t c = 0; c < cores_; ++c) grid_[cell(pos_[c].x, pos_[c].y)] = c;
        // Reverse CSR: the sources (the host too) sending to each core, in increasing source order.
        in_offset_.assign(static_cast<size_t>(cores_) + 1, 0);
        for (int32_t d : out_.dest) ++in_offset_[d + 1];
        for (int32_t c = 0; c < cores_; ++c) in_offset_[c + 1] += in_offset_[c];
        in_src_.resize(out_.dest.size());
        std::vector<int64_t> fill(in_offset_.begin(), in_offset_.end() - 1);
        for (int32_t s = 0; s <= cores_; ++s)
            for (int64_t i = out_.offset[s]; i < out_.offset[s + 1]; ++i) in_src_[fill[out_.dest[i]]++] = s;
    }

    // One pass over the cores in index order, each taking its best strictly improving move or swap within two
    // routers (ties: the first in the window's row order); false when no core moved.
    bool pass() {
        bool moved = false;
        for (int32_t a = 0; a < cores_; ++a) {
            const Table& ta = table(a);
            double gain_x[5], gain_y[5];  // change of f_a moving by k - 2 along x, along y
            for (int k = 0; k < 5; ++k) gain_x[k] = change(ta.hx, k), gain_y[k] = change(ta.hy, k);
            const double weight_a = ta.weight;
            const Position pa = pos_[a];
            double best = 0;
            int32_t best_dx = 0, best_dy = 0, best_b = -1;
            for (int32_t dy = -2; dy <= 2; ++dy) {
                for (int32_t dx = -2; dx <= 2; ++dx) {
                    const int32_t qx = pa.x + dx, qy = pa.y + dy;
                    if ((dx == 0 && dy == 0) || qx < 0 || qy < 0 || qx >= p_.width || qy >= p_.height) continue;
                    const int32_t b = grid_[cell(qx, qy)];
                    double delta = gain_x[dx + 2] + gain_y[dy + 2], scale = weight_a;
                    if (b >= 0) {
                        const Table& tb = table(b);
                        delta += change(tb.hx, 2 - dx) + change(tb.hy, 2 - dy);
                        scale += tb.weight;
                    }
                    // Rounding must not pass for a gain (nor make two cores trade places back and forth).
                    const double tol = 1e-9 * scale;
                    if (delta >= best || delta >= -tol) continue;
                    if (b >= 0) {
                        // Each table priced the a-b link as shrinking to zero length, yet a swap keeps its
                        // length: add back what both subtracted.
                        delta += 2 * link(a, b) * (std::abs(dx) + std::abs(dy));
                        if (delta >= best || delta >= -tol) continue;
                    }
                    best = delta, best_dx = dx, best_dy = dy, best_b = b;
                }
            }
            if (best_dx == 0 && best_dy == 0) continue;
            const Position q{pa.x + best_dx, pa.y + best_dy};
            grid_[cell(q.x, q.y)] = a;
            grid_[cell(pa.x, pa.y)] = best_b;
            pos_[a] = q;
            stale_[a] = 1;
            if (best_b >= 0) pos_[best_b] = pa, stale_[best_b] = 1;
            shift(a, pa, q);
            if (best_b >= 0) shift(best_b, q, pa);
            moved = true;
        }
        return moved;
    }

private:
    struct Table {
        double hx[5], hy[5];  // link weights (packets per step) by far end's offset from the core, clamped to +-2
        double weight;        // all its link weights: the scale of its costs
    };

    size_t cell(int32_t x, int32_t y) const { return static_cast<size_t>(int64_t{y} * p_.width + x); }

    // Change along one axis of f when the core moves by k - 2 routers.
    static double change(const double* h, int k) {
        double sum = 0;
        for (int j = 0; j < 5; ++j) sum += h[j] * (std::abs(k - j) - std::abs(2 - j));
        return sum;
    }

    static int32_t bin_of(int32_t offset) { return std::clamp(offset, -2, 2) + 2; }

    static void bin(Table& t, Position at, Position other, double w) {
        t.hx[bin_of(other.x - at.x)] += w;
        t.hy[bin_of(other.y - at.y)] += w;
    }

    const Table& table(int32_t c) {
        if (!stale_[c]) return tables_[c];
        stale_[c] = 0;
        Table& t = tables_[c] = Table{};
        const Position pc = pos_[c];
        for (int64_t i = out_.offset[c]; i < out_.offset[c + 1]; ++i)
            if (out_.dest[i] != c) bin(t, pc, pos_[out_.dest[i]], packets_[c]), t.weight += packets_[c];
        for (int64_t i = in_offset_[c]; i < in_offset_[c + 1]; ++i) {
            const int32_t s = in_src_[i];
            if (s != c) bin(t, pc, pos_[s], packets_[s]), t.weight += packets_[s];
        }
        return t;
    }

    // Packets per step between cores a and b, both directions.
    double link(int32_t a, int32_t b) const {
        auto sends = [&](int32_t s, int32_t d) {
            return std::binary_search(out_.dest.begin() + out_.offset[s], out_.dest.begin() + out_.offset[s + 1], d);
        };
        return (sends(a, b) ? packets_[a] : 0.0) + (sends(b, a) ? packets_[b] : 0.0);
    }

    // Core c moved from `from` to `to`: moves its weight in each neighbour's table. Stale tables (the moved cores',
    // and the host's, which is never built) are skipped: they are rebuilt from the positions when read.
    void shift(int32_t c, Position from, Position to) {
        auto update = [&](int32_t n, double w) {
            const Position pn = pos_[n];
            const int32_t fx = bin_of(from.x - pn.x), tx = bin_of(to.x - pn.x);
            const int32_t fy = bin_of(from.y - pn.y), ty = bin_of(to.y - pn.y);
            if ((fx == tx && fy == ty) || stale_[n]) return;  // mostly far neighbours: same bins
            Table& t = tables_[n];
            if (fx != tx) t.hx[fx] -= w, t.hx[tx] += w;
            if (fy != ty) t.hy[fy] -= w, t.hy[ty] += w;
        };
        for (int64_t i = out_.offset[c]; i < out_.offset[c + 1]; ++i) update(out_.dest[i], packets_[c]);
        for (int64_t i = in_offset_[c]; i < in_offset_[c + 1]; ++i) update(in_src_[i], packets_[in_src_[i]]);
    }

    const PlacementProblem& p_;
    const Destinations& out_;
    const std::vector<double>& packets_;
    std::vector<Position>& pos_;  // cores, then the host
    int32_t cores_;
    std::vector<int32_t> grid_;   // core at each router, -1 when empty
    std::vector<int64_t> in_offset_;
    std::vector<int32_t> in_src_;
    std::vector<Table> tables_;
    std::vector<uint8_t> stale_;  // table to rebuild; the host's (index cores) stays set
};

}  // namespace

std::vector<Position> place_cores(const PlacementProblem& problem, const MapOptions& options) {
    check(problem);
    const int64_t cores = problem.cores;
    const std::unique_ptr<Placement> fallback = options.placement ? nullptr : placements().make(kDefaultPlacement);
    std::vector<Position> pos = (options.placement ? *options.placement : *fallback).start(problem);
    if (static_cast<int64_t>(pos.size()) != cores)
        throw InternalError(fmt::format("placement: {} start positions for {} cores", pos.size(), cores));
    if (problem.order) {
        const auto& order = *problem.order;
        if (static_cast<int64_t>(order.size()) != cores)
            throw InternalError(fmt::format("placement: order of {} cores for {}", order.size(), cores));
        std::vector<Position> start(pos.size());
        std::vector<bool> taken(pos.size(), false);
        for (size_t i = 0; i < order.size(); ++i) {
            const int64_t c = order[i];
            if (c < 0 || c >= cores || taken[static_cast<size_t>(c)])
                throw InternalError("placement: order is not a permutation of the cores");
            taken[static_cast<size_t>(c)] = true;
            start[static_cast<size_t>(c)] = pos[i];
        }
        pos = std::move(start);
    }
    pos.push_back({problem.host_x, problem.host_y});
    if (options.refine_passes > 0 && cores > 0) {
        Refiner refiner(problem, pos);
        for (int i = 0; i < options.refine_passes; ++i)
            if (!refiner.pass()) break;  // a local optimum: later passes would not move either
    }
    pos.pop_back();
    return pos;
}

double placement_cost(const PlacementProblem& problem, const std::vector<Position>& positions) {
    check(problem);
    if (static_cast<int64_t>(positions.size()) != problem.cores)
        throw InternalError(fmt::format("placement_cost: {} positions for {} cores", positions.size(), problem.cores));
    const Destinations& r = *problem.routes;
    double total = 0;
    for (int64_t s = 0; s <= problem.cores; ++s) {
        const Position ps = s < problem.cores ? positions[s] : Position{problem.host_x, problem.host_y};
        int64_t hops = 0;  // exact per source, so the sum rounds once per source
        for (int64_t i = r.offset[s]; i < r.offset[s + 1]; ++i) {
            const Position pd = positions[r.dest[i]];
            hops += std::abs(int64_t{ps.x} - pd.x) + std::abs(int64_t{ps.y} - pd.y);
        }
        total += (*problem.packets)[s] * static_cast<double>(hops);
    }
    return total;
}

}  // namespace neuroemu
