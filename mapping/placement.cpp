#include "mapping/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/error.h"

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

std::vector<Position> gilbert_curve(int32_t width, int32_t height) {
    return curve_prefix(width, height, std::numeric_limits<size_t>::max());
}

std::vector<Position> place_cores(const PlacementProblem& problem, const MapOptions& options) {
    check(problem);
    const int64_t cores = problem.cores;
    std::vector<Position> pos;
    if (options.curve) {
        pos = curve_prefix(problem.width, problem.height, static_cast<size_t>(cores));
    } else {
        pos.resize(static_cast<size_t>(cores));
        for (int64_t i = 0; i < cores; ++i)
            pos[i] = {static_cast<int32_t>(i % problem.width), static_cast<int32_t>(i / problem.width)};
    }
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
