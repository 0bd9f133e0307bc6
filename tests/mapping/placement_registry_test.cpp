// The placement family: its documented names, and an implementation that exists only in this file, chosen from
// YAML like the built-in ones (no other file knows of it).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arch/chip_spec.h"
#include "mapping/map_spec.h"
#include "mapping/placement/placement.h"
#include "router/multicast/multicast.h"
#include "router/routing/routing.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

// Cores along the mesh's last row, right to left, from a declared column offset.
class ReversedRow final : public Placement {
public:
    explicit ReversedRow(int32_t offset) : offset_(offset) {}
    std::vector<Position> start(const PlacementProblem& p) const override {
        std::vector<Position> pos;
        for (int64_t i = 0; i < p.cores; ++i)
            pos.push_back({static_cast<int32_t>(p.width - 1 - offset_ - i), p.height - 1});
        return pos;
    }

private:
    int32_t offset_;
};

const Registrar<Placement> kReversedRow(
    placements(),
    {"test_reversed_row", "the last row, right to left (a test).",
     {ParamSpec("mapping.test_offset_cores", ParamKind::Int, "0", "cores", "Columns left free on the right.")
          .range(0, 100)}},
    [](const Settings& s) { return std::make_unique<ReversedRow>(static_cast<int32_t>(s.get_int("mapping.test_offset_cores"))); });

Schema mapping_schema() {
    auto params = mapping_params();
    return Schema({{"mapping", "m"}}, params);
}

TEST(PlacementRegistry, EveryDocumentedNameIsRegistered) {
    for (const char* name : {"curve", "row_major"}) EXPECT_TRUE(placements().has(name)) << name;
    for (const char* name : {"tree", "source"}) EXPECT_TRUE(multicasts().has(name)) << name;
    EXPECT_TRUE(routings().has("xy"));
}

TEST(PlacementRegistry, ChipMulticastWordsAreTheRegisteredNames) {
    int found = 0;
    for (const auto& p : chip_params()) {
        if (p.key != "chip.noc.multicast") continue;
        EXPECT_EQ(p.choices, multicasts().names());
        ++found;
    }
    EXPECT_EQ(found, 1);
}

TEST(PlacementRegistry, AnImplementationDefinedInATestIsSelectableFromYaml) {
    const Settings s = mapping_schema().parse("mapping:\n  placement: test_reversed_row\n  test_offset_cores: 1\n",
                                              "x.yaml", "", {"mapping.refine_passes=0"});
    const MapOptions options = map_options(s);
    Destinations routes;
    routes.offset = {0, 0, 0, 0};
    const std::vector<double> packets(3, 0.0);
    PlacementProblem problem;
    problem.width = 4, problem.height = 2, problem.cores = 2;
    problem.routes = &routes, problem.packets = &packets;
    const auto pos = place_cores(problem, options);
    ASSERT_EQ(pos.size(), 2u);
    EXPECT_EQ(pos[0].x, 2);
    EXPECT_EQ(pos[0].y, 1);
    EXPECT_EQ(pos[1].x, 1);
}

TEST(PlacementRegistry, UnknownPlacementIsAConfigErrorWithTheNamesAndASuggestion) {
    try {
        mapping_schema().parse("", "", "", {"mapping.placement=curv"});
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("expected one of curve, row_major, test_reversed_row, got 'curv' "
                                        "(did you mean 'curve'?)"));
    }
    EXPECT_THROW(placements().make("spiral"), ConfigError);
}

}  // namespace
}  // namespace neuroemu
