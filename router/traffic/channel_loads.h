// Exact expected channel loads of a synthetic traffic pattern on a mesh under XY routing, for `neuroemu noc`'s
// analysis (no simulation). Patterns add their flows; the bounds are read off the busiest channel.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace neuroemu {

// Expected packets per cycle on every channel when each injecting node generates one packet per cycle, built
// from the XY routes of the pattern's flows (difference arrays along rows and columns, closed forms for uniform).
struct ChannelLoads {
    int32_t w, h;
    int64_t n;
    std::vector<double> east, west, north, south;  // the link leaving router (x, y) in that direction
    std::vector<double> inject, eject;
    double hop_sum = 0, weight_sum = 0;
    bool summed = false;

    ChannelLoads(int32_t w_, int32_t h_) : w(w_), h(h_), n(int64_t{w_} * h_) {
        // Rows use stride w + 1, columns h + 1, so that a difference can close one past the end.
        east.assign(static_cast<size_t>(h) * static_cast<size_t>(w + 1), 0.0);
        west = east;
        north.assign(static_cast<size_t>(w) * static_cast<size_t>(h + 1), 0.0);
        south = north;
        inject.assign(static_cast<size_t>(n), 0.0);
        eject = inject;
    }
    size_t row(int32_t y, int32_t c) const {
        return static_cast<size_t>(y) * static_cast<size_t>(w + 1) + static_cast<size_t>(c);
    }
    size_t col(int32_t x, int32_t r) const {
        return static_cast<size_t>(x) * static_cast<size_t>(h + 1) + static_cast<size_t>(r);
    }

    // `wt` packets per cycle from s to d along the XY route (x first, then y).
    void flow(int32_t s, int32_t d, double wt) {
        const int32_t sx = s % w, sy = s / w, dx = d % w, dy = d / w;
        if (dx > sx) east[row(sy, sx)] += wt, east[row(sy, dx)] -= wt;
        if (dx < sx) west[row(sy, dx + 1)] += wt, west[row(sy, sx + 1)] -= wt;
        if (dy > sy) north[col(dx, sy)] += wt, north[col(dx, dy)] -= wt;
        if (dy < sy) south[col(dx, dy + 1)] += wt, south[col(dx, sy + 1)] -= wt;
        inject[static_cast<size_t>(s)] += wt;
        eject[static_cast<size_t>(d)] += wt;
        hop_sum += wt * (std::abs(dx - sx) + std::abs(dy - sy));
        weight_sum += wt;
    }
    // Node s sends `wt` packets per cycle spread evenly over all other nodes.
    void uniform_from(int32_t s, double wt) {
        const double each = wt / static_cast<double>(n - 1);
        for (int32_t d = 0; d < n; ++d)
            if (d != s) flow(s, d, each);
    }
    void prefix() {
        for (int32_t y = 0; y < h; ++y)
            for (int32_t c = 1; c <= w; ++c)
                east[row(y, c)] += east[row(y, c - 1)], west[row(y, c)] += west[row(y, c - 1)];
        for (int32_t x = 0; x < w; ++x)
            for (int32_t r = 1; r <= h; ++r)
                north[col(x, r)] += north[col(x, r - 1)], south[col(x, r)] += south[col(x, r - 1)];
        summed = true;
    }
    // Every node sends `wt` packets per cycle spread evenly over all other nodes: closed forms, after prefix().
    // A link between columns c and c + 1 of row y carries what the row's c + 1 nodes left of it send to the
    // (w - 1 - c) * h nodes right of it; a link between rows r and r + 1 of column x, under XY, what the w (r + 1)
    // nodes below send to the h - 1 - r nodes of column x above it.
    void uniform_all(double wt) {
        const double per = wt / static_cast<double>(n - 1);
        for (int32_t y = 0; y < h; ++y)
            for (int32_t c = 0; c < w; ++c) {
                east[row(y, c)] += per * (c + 1) * (w - 1 - c) * h;
                west[row(y, c)] += per * (w - c) * c * h;  // leaving column c westward
            }
        for (int32_t x = 0; x < w; ++x)
            for (int32_t r = 0; r < h; ++r) {
                north[col(x, r)] += per * w * (r + 1) * (h - 1 - r);
                south[col(x, r)] += per * w * (h - r) * r;
            }
        for (auto& v : inject) v += wt;
        for (auto& v : eject) v += wt;
        // Mean |x1 - x2| over all ordered pairs of columns is (w^2 - 1) / 3w; over distinct nodes the pair sum is
        // the same and the count n (n - 1) instead of n^2.
        const double pair_mean =
            (static_cast<double>(w) * w - 1) / (3.0 * w) + (static_cast<double>(h) * h - 1) / (3.0 * h);
        hop_sum += wt * static_cast<double>(n) * static_cast<double>(n) * pair_mean / static_cast<double>(n - 1);
        weight_sum += wt * static_cast<double>(n);
    }
    double max_link() const {
        double m = 0;
        for (int32_t y = 0; y < h; ++y)
            for (int32_t c = 0; c < w; ++c) m = std::max({m, east[row(y, c)], west[row(y, c)]});
        for (int32_t x = 0; x < w; ++x)
            for (int32_t r = 0; r < h; ++r) m = std::max({m, north[col(x, r)], south[col(x, r)]});
        return m;
    }
};

}  // namespace neuroemu
