#include "hw/chip_regions.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "common/error.h"

namespace neuroemu {

namespace {

// Packets per step between each pair of chips (symmetric): a source's packet counts once per other chip it reaches.
std::vector<double> chip_traffic(const Mapping& mapping, int chips) {
    std::vector<double> w(static_cast<size_t>(chips) * static_cast<size_t>(chips), 0.0);
    const auto chip_of_source = [&](size_t s) {
        return s < mapping.cores.size() ? mapping.mesh.chip_of(mapping.cores[s].x, mapping.cores[s].y)
                                        : mapping.mesh.chip_of(mapping.host_x, mapping.host_y);
    };
    std::vector<uint8_t> reached(static_cast<size_t>(chips));
    for (size_t s = 0; s + 1 < mapping.routes.offset.size(); ++s) {
        const double rate = s < mapping.source_packets.size() ? mapping.source_packets[s] : 0.0;
        std::fill(reached.begin(), reached.end(), 0);
        for (auto i = mapping.routes.offset[s]; i < mapping.routes.offset[s + 1]; ++i) {
            const Core& d = mapping.cores[static_cast<size_t>(mapping.routes.dest[static_cast<size_t>(i)])];
            reached[static_cast<size_t>(mapping.mesh.chip_of(d.x, d.y))] = 1;
        }
        const auto a = static_cast<size_t>(chip_of_source(s));
        for (size_t b = 0; b < reached.size(); ++b)
            if (reached[b] && b != a) {
                w[a * static_cast<size_t>(chips) + b] += rate;
                w[b * static_cast<size_t>(chips) + a] += rate;
            }
    }
    return w;
}

double cut_of(const std::vector<int32_t>& rank_of, const std::vector<double>& w) {
    const size_t n = rank_of.size();
    double cut = 0;
    for (size_t a = 0; a < n; ++a)
        for (size_t b = a + 1; b < n; ++b)
            if (rank_of[a] != rank_of[b]) cut += w[a * n + b];
    return cut;
}

// Every balanced assignment (ranks numbered in order of first use, so each grouping is seen once).
std::vector<int32_t> exhaustive(int chips, int ranks, const std::vector<double>& w) {
    const int lo = chips / ranks, hi = (chips + ranks - 1) / ranks;
    std::vector<int32_t> cur(static_cast<size_t>(chips), -1), best;
    std::vector<int> size(static_cast<size_t>(ranks), 0);
    double best_cut = 0;
    std::function<void(int, int)> place = [&](int c, int used) {
        if (c == chips) {
            for (int s : size)
                if (s < lo) return;
            const double cut = cut_of(cur, w);
            if (best.empty() || cut < best_cut) best = cur, best_cut = cut;
            return;
        }
        for (int r = 0; r < std::min(used + 1, ranks); ++r) {
            if (size[static_cast<size_t>(r)] == hi) continue;
            cur[static_cast<size_t>(c)] = r;
            ++size[static_cast<size_t>(r)];
            place(c + 1, std::max(used, r + 1));
            --size[static_cast<size_t>(r)];
        }
    };
    place(0, 0);
    return best;
}

// Row-major blocks, then the best pairwise swap between ranks while one lowers the cut.
std::vector<int32_t> greedy(int chips, int ranks, const std::vector<double>& w) {
    std::vector<int32_t> rank_of(static_cast<size_t>(chips));
    for (int r = 0; r < ranks; ++r) {
        const int first = static_cast<int>(static_cast<int64_t>(chips) * r / ranks);
        const int last = static_cast<int>(static_cast<int64_t>(chips) * (r + 1) / ranks);
        for (int c = first; c < last; ++c) rank_of[static_cast<size_t>(c)] = r;
    }
    for (double cut = cut_of(rank_of, w);;) {
        double best = cut;
        int ba = -1, bb = -1;
        for (int a = 0; a < chips; ++a)
            for (int b = a + 1; b < chips; ++b) {
                if (rank_of[static_cast<size_t>(a)] == rank_of[static_cast<size_t>(b)]) continue;
                std::swap(rank_of[static_cast<size_t>(a)], rank_of[static_cast<size_t>(b)]);
                const double c = cut_of(rank_of, w);
                std::swap(rank_of[static_cast<size_t>(a)], rank_of[static_cast<size_t>(b)]);
                if (c < best) best = c, ba = a, bb = b;
            }
        if (ba < 0) return rank_of;
        std::swap(rank_of[static_cast<size_t>(ba)], rank_of[static_cast<size_t>(bb)]);
        cut = best;
    }
}

}  // namespace

ChipRegions choose_regions(const Mapping& mapping, int ranks) {
    const int chips = mapping.mesh.chips_x * mapping.mesh.chips_y;
    if (ranks > chips)
        throw ConfigError(fmt::format("hardware.distribute: chips: {} ranks but the mapping has {} chip(s) "
                                      "(chip.noc.chips); each rank owns at least one whole chip",
                                      ranks, chips));
    const std::vector<double> w = chip_traffic(mapping, chips);
    ChipRegions regions;
    regions.rank_of_chip = chips <= 12 ? exhaustive(chips, ranks, w) : greedy(chips, ranks, w);
    regions.cut_packets_per_step = cut_of(regions.rank_of_chip, w);
    for (size_t k = 0; k < w.size(); ++k)
        if (k / static_cast<size_t>(chips) < k % static_cast<size_t>(chips)) regions.total_packets_per_step += w[k];
    return regions;
}

std::string ChipRegions::describe() const {
    int ranks = 0;
    for (int32_t r : rank_of_chip) ranks = std::max(ranks, r + 1);
    std::string out;
    for (int r = 0; r < ranks; ++r) {
        out += fmt::format("{}rank {}: chips", r ? "; " : "", r);
        for (size_t c = 0; c < rank_of_chip.size(); ++c)
            if (rank_of_chip[c] == r) out += fmt::format(" {}", c);
    }
    return out + fmt::format("; cut {:.1f} of {:.1f} packets per step between chips", cut_packets_per_step,
                             total_packets_per_step);
}

}  // namespace neuroemu
