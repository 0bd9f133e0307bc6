// Region choice for the space-parallel chip (hw/chip_regions.h): balanced groups of whole chips that cut the fewest
// packets, checked against every grouping enumerated here, and the error for more ranks than chips.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "common/error.h"
#include "hw/chip_regions.h"

namespace neuroemu {
namespace {

// `chips_x` x `chips_y` chips of one core each; source k (core k) sends `rate[k]` packets per step to `dests[k]`.
Mapping one_core_chips(int32_t chips_x, int32_t chips_y, const std::vector<std::vector<int32_t>>& dests,
                       const std::vector<double>& rate) {
    Mapping m;
    m.mesh.chip_width = m.mesh.chip_height = 1;
    m.mesh.chips_x = chips_x, m.mesh.chips_y = chips_y;
    for (int32_t y = 0; y < chips_y; ++y)
        for (int32_t x = 0; x < chips_x; ++x) {
            Core c;
            c.layer = 0, c.x = x, c.y = y;
            m.cores.push_back(c);
        }
    m.routes.offset.push_back(0);
    for (const auto& d : dests) {
        m.routes.dest.insert(m.routes.dest.end(), d.begin(), d.end());
        m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));
    }
    m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));  // the host sends nothing
    m.source_packets = rate;
    m.source_packets.push_back(0);
    return m;
}

// The cut of every balanced grouping, by brute force over all rank labellings.
double best_cut(const Mapping& m, int ranks) {
    const auto n = m.cores.size();
    std::vector<int32_t> label(n, 0);
    double best = -1;
    for (;;) {
        std::vector<int> size(static_cast<size_t>(ranks), 0);
        for (int32_t r : label) ++size[static_cast<size_t>(r)];
        if (*std::max_element(size.begin(), size.end()) - *std::min_element(size.begin(), size.end()) <= 1) {
            double cut = 0;
            for (size_t s = 0; s < n; ++s)
                for (auto i = m.routes.offset[s]; i < m.routes.offset[s + 1]; ++i)
                    if (label[s] != label[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])]) cut += m.source_packets[s];
            if (best < 0 || cut < best) best = cut;
        }
        size_t k = 0;
        while (k < n && ++label[k] == ranks) label[k++] = 0;
        if (k == n) return best;
    }
}

TEST(ChipRegions, KeepsTheHeaviestTrafficInsideARank) {
    // Chips 0 and 3 talk a lot, 1 and 2 a lot, the rest a little: two ranks get {0, 3} and {1, 2}.
    const Mapping m = one_core_chips(2, 2, {{3, 1}, {2}, {1, 0}, {0}}, {10, 8, 9, 7});
    const ChipRegions r = choose_regions(m, 2);
    EXPECT_EQ(r.rank_of_chip[0], r.rank_of_chip[3]);
    EXPECT_EQ(r.rank_of_chip[1], r.rank_of_chip[2]);
    EXPECT_NE(r.rank_of_chip[0], r.rank_of_chip[1]);
    EXPECT_DOUBLE_EQ(r.cut_packets_per_step, best_cut(m, 2));
    EXPECT_DOUBLE_EQ(r.cut_packets_per_step, 10 + 9);  // 0 -> 1 and 2 -> 0
    EXPECT_DOUBLE_EQ(r.total_packets_per_step, 2 * 10 + 8 + 2 * 9 + 7);
}

TEST(ChipRegions, MatchesTheBestBalancedGroupingOnRandomTraffic) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 20; ++trial) {
        const int n = 6;
        std::vector<std::vector<int32_t>> dests(n);
        std::vector<double> rate(n);
        for (int s = 0; s < n; ++s) {
            rate[static_cast<size_t>(s)] = static_cast<double>(rng() % 10);
            for (int32_t d = 0; d < n; ++d)
                if (d != s && rng() % 3 == 0) dests[static_cast<size_t>(s)].push_back(d);
        }
        const Mapping m = one_core_chips(3, 2, dests, rate);
        for (int ranks : {2, 3}) {
            const ChipRegions r = choose_regions(m, ranks);
            std::vector<int> size(static_cast<size_t>(ranks), 0);
            for (int32_t k : r.rank_of_chip) ++size[static_cast<size_t>(k)];
            EXPECT_LE(*std::max_element(size.begin(), size.end()) - *std::min_element(size.begin(), size.end()), 1);
            EXPECT_DOUBLE_EQ(r.cut_packets_per_step, best_cut(m, ranks)) << "trial " << trial << ", " << ranks;
        }
    }
}

TEST(ChipRegions, ManyChipsAreBalancedAndNoWorseThanBlocks) {
    // 16 chips in a row, each sending to its right neighbour: blocks of 4 cut 3 links; swaps cannot do better.
    std::vector<std::vector<int32_t>> dests(16);
    for (int32_t s = 0; s + 1 < 16; ++s) dests[static_cast<size_t>(s)] = {s + 1};
    const Mapping m = one_core_chips(16, 1, dests, std::vector<double>(16, 1.0));
    const ChipRegions r = choose_regions(m, 4);
    for (int32_t k = 0; k < 16; ++k) EXPECT_EQ(r.rank_of_chip[static_cast<size_t>(k)], k / 4);
    EXPECT_DOUBLE_EQ(r.cut_packets_per_step, 3);
}

TEST(ChipRegions, MoreRanksThanChipsIsAConfigError) {
    const Mapping m = one_core_chips(1, 1, {{}}, {1});
    EXPECT_THROW(choose_regions(m, 2), ConfigError);
}

}  // namespace
}  // namespace neuroemu
