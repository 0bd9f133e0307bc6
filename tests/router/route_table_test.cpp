// RouteHash, the large meshes' multicast tables: every entry added is found with its ports ORed, nothing else is,
// and a source's table refuses more entries than it was sized for.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

#include "router/route_table.h"

namespace neuroemu {
namespace {

TEST(RouteHash, FindsWhatWasAddedAndNothingElse) {
    std::mt19937_64 rng(7);
    const size_t sources = 300, routers = 5000;
    std::map<std::pair<size_t, size_t>, uint8_t> want;
    std::vector<size_t> entries(sources, 0);
    std::vector<std::pair<std::pair<size_t, size_t>, uint8_t>> adds;
    for (size_t s = 0; s < sources; ++s) {
        const size_t n = s % 7 == 0 ? 0 : 1 + rng() % 200;  // some sources without entries
        for (size_t k = 0; k < n; ++k) {
            const size_t r = rng() % routers;
            const auto ports = static_cast<uint8_t>(1u << (rng() % 5));
            if (!want.count({r, s})) ++entries[s];
            want[{r, s}] |= ports;
            adds.push_back({{r, s}, ports});
        }
    }
    RouteHash table(entries);
    for (const auto& [key, ports] : adds) ASSERT_TRUE(table.add(key.first, key.second, ports));
    EXPECT_EQ(table.sources(), sources);
    for (const auto& [key, ports] : want) EXPECT_EQ(table.find(key.first, key.second), ports);
    size_t missing = 0;
    for (size_t s = 0; s < sources; ++s)
        for (size_t r = 0; r < routers; r += 7)
            if (!want.count({r, s})) {
                EXPECT_EQ(table.find(r, s), RouteHash::kMissing);
                ++missing;
            }
    EXPECT_GT(missing, 0u);
}

TEST(RouteHash, RefusesMoreEntriesThanSized) {
    RouteHash table(std::vector<size_t>{2, 0});
    EXPECT_TRUE(table.add(10, 0, 1));
    EXPECT_TRUE(table.add(10, 0, 2));  // the same router: ORed, no new entry
    EXPECT_TRUE(table.add(11, 0, 4));
    EXPECT_FALSE(table.add(12, 0, 8));
    EXPECT_FALSE(table.add(0, 1, 1));
    EXPECT_EQ(table.find(10, 0), 3);
    EXPECT_EQ(table.find(11, 0), 4);
    EXPECT_EQ(table.find(12, 0), RouteHash::kMissing);
    EXPECT_EQ(table.find(0, 1), RouteHash::kMissing);
}

}  // namespace
}  // namespace neuroemu
