// Faults in the SystemC chip model (chip.faults, docs/hardware-model.md "Faults") on the shipped ResNet-8: every
// delivery owed by an injected packet is delivered, dropped by the check, or counted corrupt by the oracle. SystemC
// allows one elaboration per process: each test builds its chips in forked children (ctest runs every test case in
// its own process), which send their counters back through a pipe.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "hw/chip_model.h"
#include "mapping/mapping.h"

namespace neuroemu {
namespace {

using test::Fixture;
using test::shipped_resnet8;

constexpr int64_t kSteps = 6;

enum Counter : size_t {
    kOwed, kArrived, kDelivered, kDetected, kUndetected, kFlips, kStuck, kInjected, kEvents, kCycles, kPacketHops,
    kFlitHops, kUndeliverable, kLostRoutes, kCounters
};

std::vector<int64_t> counters_of(const HwStats& s) {
    std::vector<int64_t> v(kCounters);
    v[kOwed] = std::accumulate(s.core_packets_expected.begin(), s.core_packets_expected.end(), int64_t{0});
    v[kArrived] = std::accumulate(s.core_packets_delivered.begin(), s.core_packets_delivered.end(), int64_t{0});
    v[kDelivered] = s.packets_delivered;
    v[kDetected] = s.faults.deliveries_detected;
    v[kUndetected] = s.faults.deliveries_undetected;
    v[kFlips] = s.noc.bit_flips;
    v[kStuck] = s.faults.events_stuck;
    v[kInjected] = s.packets_injected;
    v[kEvents] = s.events_generated;
    v[kCycles] = s.cycles;
    v[kPacketHops] = s.noc.packet_hops;
    v[kFlitHops] = s.noc.flit_hops;
    v[kUndeliverable] = s.faults.deliveries_undeliverable;
    v[kLostRoutes] = static_cast<int64_t>(s.undeliverable_routes.size());
    return v;
}

// The counters of one image of `s` on a chip of `spec` with `faults`, run in a child process.
std::vector<int64_t> run_in_child(const Fixture& s, const ChipSpec& spec, const FaultSpec& faults) {
    int fds[2];
    if (pipe(fds) != 0) return {};
    const pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int code = 1;
        try {
            const Mapping m = map_network(s.model, spec, MapOptions{});
            HwOptions ho;
            ho.faults = faults;
            ChipModel chip(m, s.model, ho);
            test::run_images(s, chip, kSteps);
            chip.finish();
            const std::vector<int64_t> v = counters_of(chip.stats());
            const auto bytes = static_cast<ssize_t>(v.size() * sizeof(int64_t));
            code = write(fds[1], v.data(), static_cast<size_t>(bytes)) == bytes ? 0 : 1;
        } catch (const std::exception& e) {
            const std::string what = e.what();
            code = write(fds[1], what.data(), what.size()) >= 0 ? 2 : 3;
        }
        close(fds[1]);
        _exit(code);
    }
    close(fds[1]);
    std::string bytes;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) bytes.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child's chip failed: " << bytes;
    std::vector<int64_t> v(kCounters, -1);
    if (bytes.size() == v.size() * sizeof(int64_t)) std::copy_n(bytes.data(), bytes.size(), reinterpret_cast<char*>(v.data()));
    return v;
}

FaultSpec flips(double rate, FaultCheck check, int64_t seed = 1) {
    FaultSpec f;
    f.flit_error_rate = rate, f.check = check, f.seed = seed;
    return f;
}

// Conservation: owed = delivered + detected + undetected, and every owed delivery reached its core.
void expect_conserved(const std::vector<int64_t>& v) {
    EXPECT_EQ(v[kOwed], v[kDelivered] + v[kDetected] + v[kUndetected]);
    EXPECT_EQ(v[kArrived], v[kOwed]);
    EXPECT_GT(v[kOwed], 0);
}

TEST(Faults, BitFlipsWithCrc8AreDetectedAndConserved) {
    const Fixture s = shipped_resnet8(1);
    const std::vector<int64_t> v = run_in_child(s, ChipSpec{}, flips(2e-3, FaultCheck::Crc8));
    expect_conserved(v);
    EXPECT_GT(v[kFlips], 0);
    EXPECT_GT(v[kDetected], 0);
    EXPECT_GT(v[kDelivered], 0);
    // CRC-8 catches every error of up to 3 bits; at this rate heavier errors are rare.
    EXPECT_LT(v[kUndetected] * 20, v[kDetected] + 1);
    // Tree multicast: one packet per event.
    EXPECT_EQ(v[kInjected], v[kEvents]);
}

TEST(Faults, WithoutACheckEveryCorruptDeliveryIsTheOraclesAndNoneIsIntegrated) {
    const Fixture s = shipped_resnet8(1);
    const std::vector<int64_t> clean = run_in_child(s, ChipSpec{}, FaultSpec{});
    const std::vector<int64_t> v = run_in_child(s, ChipSpec{}, flips(2e-3, FaultCheck::None));
    expect_conserved(v);
    expect_conserved(clean);
    EXPECT_EQ(v[kDetected], 0);
    EXPECT_GT(v[kUndetected], 0);
    EXPECT_EQ(clean[kDelivered], clean[kOwed]);
    EXPECT_EQ(clean[kFlips], 0);
    // Flips change no route: the neurons send the engine's spikes either way, but a partial-sum unit whose every
    // input was lost has nothing to send, so faults can only lower what is owed.
    EXPECT_LE(v[kOwed], clean[kOwed]);
    EXPECT_LE(v[kPacketHops], clean[kPacketHops]);
    EXPECT_GT(v[kOwed], clean[kOwed] * 9 / 10);
}

TEST(Faults, TheSeedDecidesTheFlips) {
    const Fixture s = shipped_resnet8(1);
    const std::vector<int64_t> a = run_in_child(s, ChipSpec{}, flips(1e-3, FaultCheck::Parity, 5));
    const std::vector<int64_t> b = run_in_child(s, ChipSpec{}, flips(1e-3, FaultCheck::Parity, 5));
    const std::vector<int64_t> c = run_in_child(s, ChipSpec{}, flips(1e-3, FaultCheck::Parity, 6));
    EXPECT_EQ(a, b);
    EXPECT_NE(a[kFlips], c[kFlips]);
    expect_conserved(c);
}

// The check's bits travel in the packet: 32 address bits + 16 CRC bits on 32-bit flits are 2 flits per packet.
TEST(Faults, TheChecksBitsCostFlits) {
    const Fixture s = shipped_resnet8(1);
    const std::vector<int64_t> v = run_in_child(s, ChipSpec{}, flips(0, FaultCheck::Crc16));
    expect_conserved(v);
    EXPECT_EQ(v[kDelivered], v[kOwed]);
    EXPECT_EQ(v[kFlitHops], 2 * v[kPacketHops]);
}

TEST(Faults, StuckCoresSendNothingAndSlowCoresTakeLonger) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    FaultSpec stuck, slow;
    for (int32_t k = 0; k < static_cast<int32_t>(m.cores.size()); k += 3) stuck.stuck_cores.push_back(k);
    for (int32_t k = 0; k < static_cast<int32_t>(m.cores.size()); ++k) slow.slow_cores.push_back(k);
    slow.slow_factor = 50;
    const std::vector<int64_t> clean = run_in_child(s, ChipSpec{}, FaultSpec{});
    const std::vector<int64_t> a = run_in_child(s, ChipSpec{}, stuck);
    const std::vector<int64_t> b = run_in_child(s, ChipSpec{}, slow);
    expect_conserved(a);
    EXPECT_GT(a[kStuck], 0);
    EXPECT_EQ(a[kInjected] + a[kStuck], a[kEvents]);  // every queued event was sent or held by a stuck core
    EXPECT_LT(a[kInjected], clean[kInjected]);
    EXPECT_EQ(b[kInjected], clean[kInjected]);
    EXPECT_GT(b[kCycles], clean[kCycles]);
}

// How many (source, destination core) pairs of the mapping's routes satisfy `pred(source x, source y, destination)`
// (the source's router: its core's, or the host's).
int64_t count_pairs(const Mapping& m, const std::function<bool(int32_t, int32_t, const Core&)>& pred) {
    int64_t n = 0;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        const bool host = static_cast<size_t>(s) == m.cores.size();
        const int32_t sx = host ? m.host_x : m.cores[static_cast<size_t>(s)].x;
        const int32_t sy = host ? m.host_y : m.cores[static_cast<size_t>(s)].y;
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i)
            n += pred(sx, sy, m.cores[static_cast<size_t>(m.routes.dest[static_cast<size_t>(i)])]);
    }
    return n;
}

// The (source, destination) pairs whose XY route passes router (dead_x, dead_y) (endpoints included), or, with
// `link`, crosses the wire between it and its east neighbour in either direction; walked here: x first, then y.
int64_t routes_through(const Mapping& m, int32_t dead_x, int32_t dead_y, bool link = false) {
    return count_pairs(m, [&](int32_t sx, int32_t sy, const Core& d) {
        bool through = false;
        int32_t x = sx, y = sy;
        for (;;) {
            if (!link) through = through || (x == dead_x && y == dead_y);
            if (x != d.x) {
                const int32_t nx = x + (d.x > x ? 1 : -1);
                if (link && y == dead_y && std::min(x, nx) == dead_x) through = true;
                x = nx;
            } else if (y != d.y) {
                y += d.y > y ? 1 : -1;
            } else {
                break;
            }
        }
        return through;
    });
}

TEST(Faults, WithoutRerouteADeadRouterCutsOffExactlyTheRoutesThroughIt) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    // A router in the middle of the mesh, carrying traffic.
    const int32_t x = m.mesh.width() / 2, y = m.mesh.height() / 2;
    const int64_t expected = routes_through(m, x, y);
    ASSERT_GT(expected, 0);
    FaultSpec dead;
    dead.dead_routers = {int64_t{y} * m.mesh.width() + x};
    dead.reroute = false;
    const std::vector<int64_t> clean = run_in_child(s, ChipSpec{}, FaultSpec{});
    const std::vector<int64_t> v = run_in_child(s, ChipSpec{}, dead);
    EXPECT_EQ(v[kLostRoutes], expected);
    EXPECT_GT(v[kUndeliverable], 0);
    // What is owed arrives (no flips: all of it intact); what was cut off was never sent.
    expect_conserved(v);
    EXPECT_EQ(v[kDelivered], v[kOwed]);
    EXPECT_LE(v[kOwed] + v[kUndeliverable], clean[kOwed]);
    EXPECT_LT(v[kOwed], clean[kOwed]);
}

TEST(Faults, WithoutRerouteADeadLinkCutsOffExactlyTheUnicastRoutesOverIt) {
    const Fixture s = shipped_resnet8(1);
    ChipSpec spec;
    spec.noc.multicast = "source";
    const Mapping m = map_network(s.model, spec, MapOptions{});
    const int32_t x = m.mesh.width() / 2 - 1, y = m.mesh.height() / 2;
    const int64_t expected = routes_through(m, x, y, true);
    ASSERT_GT(expected, 0);
    FaultSpec dead;
    dead.dead_links = {(int64_t{y} * m.mesh.width() + x + 1) * 4 + 1};  // the east neighbour's west link: same wire
    dead.reroute = false;
    const std::vector<int64_t> v = run_in_child(s, spec, dead);
    EXPECT_EQ(v[kLostRoutes], expected);
    EXPECT_GT(v[kUndeliverable], 0);
    expect_conserved(v);
    EXPECT_EQ(v[kDelivered], v[kOwed]);
}

// What west-first rerouting (chip.faults.reroute, the default) cannot deliver around a dead element at row y,
// between columns x and x + 1 (a dead wire (x, y)-(x + 1, y)) or at (x + 1, y) (a dead router): a source on row y
// east of it must go west first and cannot pass it, and may not turn into west later, so the destinations in the
// columns up to the wire (x), or up to the dead router's (x + 1), are lost to it; with a dead router, also every
// pair with its core at either end. Everything else
// goes around (the mesh has rows above and below, and columns on both sides). Derived by hand, walked here.
int64_t west_first_cut(const Mapping& m, int32_t x, int32_t y, bool router) {
    return count_pairs(m, [&](int32_t sx, int32_t sy, const Core& d) {
        const bool at_dead = router && ((sx == x + 1 && sy == y) || (d.x == x + 1 && d.y == y));
        const int32_t wall = router ? x + 1 : x;  // the last column a source east of it cannot reach
        return at_dead || (sy == y && sx > wall && d.x <= wall);
    });
}

// Chip.faults.reroute: the dead wire's and the dead router's routes go around them in both multicast modes; only
// what west-first cannot reach is lost, everything sent is delivered (conservation), and the run ends (the detours
// keep to the west-first turns, so the credit loops cannot close into a cycle).
TEST(Faults, DeadElementsAreRoutedAroundAndOnlyWhatWestFirstCannotReachIsLost) {
    const Fixture s = shipped_resnet8(1);
    for (const char* mode : {"tree", "source"}) {
        ChipSpec spec;
        spec.noc.multicast = mode;
        const Mapping m = map_network(s.model, spec, MapOptions{});
        const int32_t x = m.mesh.width() / 2 - 1, y = m.mesh.height() / 2;
        FaultSpec wire, router;
        wire.dead_links = {(int64_t{y} * m.mesh.width() + x) * 4 + 0};
        router.dead_routers = {int64_t{y} * m.mesh.width() + x + 1};
        const std::vector<int64_t> a = run_in_child(s, spec, wire);
        const std::vector<int64_t> b = run_in_child(s, spec, router);
        EXPECT_EQ(a[kLostRoutes], west_first_cut(m, x, y, false)) << mode;
        EXPECT_EQ(b[kLostRoutes], west_first_cut(m, x, y, true)) << mode;
        EXPECT_LT(a[kLostRoutes], routes_through(m, x, y, true)) << mode;  // fewer than without rerouting
        EXPECT_LT(b[kLostRoutes], routes_through(m, x + 1, y)) << mode;
        for (const auto& v : {a, b}) {
            expect_conserved(v);
            EXPECT_EQ(v[kDelivered], v[kOwed]) << mode;
        }
    }
}

// Several dead routers and links around the middle of the mesh, detours in every direction: the run ends with
// every owed delivery delivered.
TEST(Faults, ManyDetoursDoNotDeadlock) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    const int64_t w = m.mesh.width(), cx = w / 2, cy = m.mesh.height() / 2;
    FaultSpec f;
    f.dead_routers = {cy * w + cx, (cy + 1) * w + cx - 1};
    f.dead_links = {((cy - 1) * w + cx) * 4 + 0, ((cy + 1) * w + cx + 1) * 4 + 3, (cy * w + cx - 2) * 4 + 2};
    const std::vector<int64_t> v = run_in_child(s, ChipSpec{}, f);
    expect_conserved(v);
    EXPECT_EQ(v[kDelivered], v[kOwed]);
    f.reroute = false;
    const std::vector<int64_t> cut = run_in_child(s, ChipSpec{}, f);
    EXPECT_LT(v[kLostRoutes], cut[kLostRoutes]);  // routes did detour
    EXPECT_GT(v[kOwed], cut[kOwed]);
}

TEST(Faults, AnUnknownCoreIsAConfigErrorNamingTheKey) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    HwOptions ho;
    ho.faults.stuck_cores = {static_cast<int32_t>(m.cores.size())};
    try {
        ChipModel chip(m, s.model, ho);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("chip.faults.stuck_cores"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace neuroemu
