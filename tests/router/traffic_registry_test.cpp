// The traffic, routing and multicast families: documented names, and a traffic pattern that exists only in this
// file, accepted by --traffic and analysed like the built-in ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "router/multicast/multicast.h"
#include "router/noc_traffic.h"
#include "router/routing/routing.h"
#include "router/traffic/traffic.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;

// Every node but 0 sends everything to node 0.
class ToNodeZero final : public TrafficPattern {
public:
    bool injects(int32_t node, const TrafficMesh&) const override { return node != 0; }
    int32_t destination(int32_t, const TrafficMesh&, std::mt19937_64&) const override { return 0; }
    void add_loads(ChannelLoads& loads, const TrafficMesh& mesh) const override {
        for (int32_t s = 1; s < mesh.nodes(); ++s) loads.flow(s, 0, 1.0);
        loads.prefix();
    }
};

const Registrar<TrafficPattern> kToNodeZero(traffic_patterns(), {"test_to_node_zero", "all to node 0.", {}},
                                            [](const Settings&) { return std::make_unique<ToNodeZero>(); });

TEST(TrafficRegistry, EveryDocumentedNameIsRegistered) {
    for (const char* name : {"uniform", "transpose", "hotspot"}) EXPECT_TRUE(traffic_patterns().has(name)) << name;
    EXPECT_TRUE(routings().has("xy"));
    EXPECT_EQ(multicasts().names(), (std::vector<std::string>{"tree", "source"}));
}

TEST(TrafficRegistry, APatternDefinedInATestIsAcceptedAndAnalysed) {
    EXPECT_EQ(traffic_pattern("TEST_TO_NODE_ZERO"), "test_to_node_zero");
    // A 3 x 1 row: nodes 1 and 2 send west to node 0, one and two hops; the link leaving node 1 westward carries both.
    const TrafficAnalysis a = analyse_traffic(ChipSpec{}, 3, 1, "test_to_node_zero", 1);
    EXPECT_EQ(a.injecting_nodes, 2);
    EXPECT_DOUBLE_EQ(a.mean_hops, 1.5);
    EXPECT_DOUBLE_EQ(a.max_link_load, 2.0);
    EXPECT_EQ(a.hotspot_node, -1);
}

TEST(TrafficRegistry, UnknownPatternListsTheNamesWithASuggestion) {
    try {
        traffic_pattern("transpos");
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("--traffic: 'transpos' is not a traffic pattern (did you mean 'transpose'?); "
                                        "expected one of uniform, transpose, hotspot"));
    }
}

TEST(TrafficRegistry, XyPathGoesAlongXThenY) {
    std::vector<RouteStep> path;
    routings().make("xy")->path({0, 0}, {2, 1}, path);
    ASSERT_EQ(path.size(), 4u);
    EXPECT_EQ(path[0].ports, kEast);
    EXPECT_EQ(path[1].ports, kEast);
    EXPECT_EQ(path[2].ports, kNorth);
    EXPECT_EQ(path[3].ports, kLocal);
    EXPECT_EQ(path[3].x, 2);
    EXPECT_EQ(path[3].y, 1);
}

TEST(TrafficRegistry, MulticastTreeForksWhereSourceSendsOnePacketPerDestination) {
    const std::vector<MeshPoint> dests = {{1, 0}, {2, 0}};
    std::vector<RouteStep> tree, source;
    make_multicast("tree")->steps(dests, {0, 0}, tree);
    make_multicast("source")->steps(dests, {0, 0}, source);
    EXPECT_TRUE(make_multicast("tree")->forks_in_routers());
    EXPECT_FALSE(make_multicast("source")->forks_in_routers());
    EXPECT_EQ(tree.size(), 3u);    // routers 0, 1, 2 once each; router 1 delivers and forwards
    EXPECT_EQ(tree[1].ports, kEast | kLocal);
    EXPECT_EQ(source.size(), 5u);  // 0 -> 1 (2 steps), 0 -> 1 -> 2 (3 steps)
}

}  // namespace
}  // namespace neuroemu
