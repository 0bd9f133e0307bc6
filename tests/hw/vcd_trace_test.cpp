// VCD tracing of the chip model: scope parsing, the variables against the chip's own counters and the AER record of
// the same run, the tick window, and a round trip through GTKWave's FST converters (vcd2fst exits 0 even on
// garbage, so the file is checked by converting it there and back). One chip per test case (SystemC elaborates once
// per process).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"
#include "fixture.h"
#include "hw/aer_trace.h"
#include "hw/vcd_merge.h"
#include "hw/vcd_trace.h"

namespace neuroemu {
namespace {

using test::Fixture;
using test::shipped_resnet8;
using test::temp_path;

// A small VCD reader: declarations (scoped names), timestamps and value changes.
struct Vcd {
    std::vector<std::string> names;  // full names (scopes joined by '.'), in declaration order
    std::string timescale;
    std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>> changes;  // by name: (time, value)
    std::set<int64_t> change_times;  // timestamps at which some variable changed (the initial dump at 0)
};

Vcd parse_vcd(const std::string& path) {
    std::istringstream in(test::file_bytes(path));
    Vcd v;
    std::vector<std::string> scope;
    std::map<std::string, std::string> by_id;
    int64_t now = 0;
    std::string tok;
    auto skip_to_end = [&](std::string* text) {
        std::string t;
        while (in >> t && t != "$end")
            if (text) *text += (text->empty() ? "" : " ") + t;
    };
    auto change = [&](const std::string& id, uint64_t value) {
        const auto it = by_id.find(id);
        if (it == by_id.end()) throw std::runtime_error(path + ": value change of undeclared id " + id);
        v.changes[it->second].push_back({now, value});
        v.change_times.insert(now);
    };
    while (in >> tok) {
        if (tok == "$scope") {
            std::string type, name;
            in >> type >> name;
            scope.push_back(name);
            skip_to_end(nullptr);
        } else if (tok == "$upscope") {
            if (!scope.empty()) scope.pop_back();
            skip_to_end(nullptr);
        } else if (tok == "$var") {
            std::string type, size, id, name;
            in >> type >> size >> id >> name;
            std::string full;
            for (const auto& s : scope) full += s + ".";
            full += name;
            by_id[id] = full;
            v.names.push_back(full);
            skip_to_end(nullptr);
        } else if (tok == "$timescale") {
            skip_to_end(&v.timescale);
        } else if (tok == "$comment" || tok == "$date" || tok == "$version") {
            skip_to_end(nullptr);
        } else if (tok[0] == '$') {  // $enddefinitions, $dumpvars, $end, ...
            continue;
        } else if (tok[0] == '#') {
            now = std::stoll(tok.substr(1));
        } else if (tok[0] == 'b' || tok[0] == 'B') {
            std::string id;
            in >> id;
            uint64_t value = 0;
            for (size_t i = 1; i < tok.size(); ++i) value = (value << 1) | (tok[i] == '1' ? 1u : 0u);
            change(id, value);
        } else if (tok[0] == 'r' || tok[0] == 'R') {
            std::string id;
            in >> id;
            change(id, 0);
        } else if (std::string("01xXzZ").find(tok[0]) != std::string::npos) {
            change(tok.substr(1), tok[0] == '1' ? 1 : 0);
        } else {
            throw std::runtime_error(path + ": unexpected token " + tok);
        }
    }
    return v;
}

uint64_t last_value(const Vcd& v, const std::string& name) {
    const auto it = v.changes.find(name);
    return it == v.changes.end() || it->second.empty() ? 0 : it->second.back().second;
}
size_t changes_after_start(const Vcd& v, const std::string& name) {
    const auto it = v.changes.find(name);
    if (it == v.changes.end()) return 0;
    size_t n = 0;
    for (const auto& c : it->second) n += c.first > 0;
    return n;
}

std::string router_name(const Mapping& m, int32_t r) {
    return "SystemC.router_" + std::to_string(r % m.mesh.width()) + "_" + std::to_string(r / m.mesh.width());
}

// Outgoing links of router r that exist: E, W, N, S.
std::vector<int> links_of(const Mapping& m, int32_t r) {
    const int32_t w = m.mesh.width(), h = m.mesh.height(), x = r % w, y = r / w;
    std::vector<int> d;
    if (x + 1 < w) d.push_back(0);
    if (x > 0) d.push_back(1);
    if (y + 1 < h) d.push_back(2);
    if (y > 0) d.push_back(3);
    return d;
}

constexpr const char* kDir[4] = {"E", "W", "N", "S"};

TEST(VcdScopeOptions, ParsesListsAndWindows) {
    EXPECT_EQ(parse_index_list("0-3,7", 10, "--trace-cores"), (std::vector<int32_t>{0, 1, 2, 3, 7}));
    EXPECT_EQ(parse_index_list(" 5 , 2-3,3 ", 10, "--trace-cores"), (std::vector<int32_t>{2, 3, 5}));
    EXPECT_TRUE(parse_index_list("", 10, "--trace-cores").empty());
    for (const char* bad : {"a", "3-1", "1,,2", "-2", "1-", "0-10", "99999999999999999999"})
        EXPECT_THROW(parse_index_list(bad, 10, "--trace-cores"), ConfigError) << bad;
    try {
        parse_index_list("0-15,40", 20, "--trace-cores");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr("--trace-cores '0-15,40': 40 does not exist (there are 20, 0-19)"));
    }
    const TickWindow w = parse_tick_window("2:5", "--trace-window");
    EXPECT_EQ(w.from, 2);
    EXPECT_EQ(w.to, 5);
    EXPECT_EQ(parse_tick_window("3:", "w").to, std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parse_tick_window(":4", "w").from, 0);
    for (const char* bad : {"", "5", "5:2", "2:2", "a:3", "-1:3", "1:x"})
        EXPECT_THROW(parse_tick_window(bad, "--trace-window"), ConfigError) << bad;
}

// The default scope (first 16 cores, their routers, the first image); every variable against the chip's counters
// and, for packets sent, against the AER trace of the same run.
// A VCD file as SystemC's writer lays it out: declarations, initial values, then "#time" and changed values per
// step, the time at closing last.
std::string vcd_file(const std::string& date, const std::string& initial, const std::string& body) {
    return "$date\n     " + date + "\n$end\n\n$timescale\n     1 ns\n$end\n\n$scope module SystemC $end\n"
           "$var wire   64  aaaaa  tick [63:0]  $end\n$scope module core_0 $end\n"
           "$var wire   64  aaaab  packets_sent [63:0]  $end\n$upscope $end\n"
           "$var wire    1  aaaac  router_0_0.link_E_busy       $end\n$upscope $end\n$enddefinitions  $end\n\n"
           "$comment\nAll initial values are dumped below at time 0 sec = 0 timescale units.\n$end\n\n$dumpvars\n" +
           initial + "$end\n\n" + body;
}

// The second part starts at time 40 with its own clock and counts: its times are shifted, its running count
// continues from the first part's total, and a value equal to the last one written is not written again.
TEST(VcdMerge, ShiftsTimesContinuesCountsAndWritesOnlyChanges) {
    const std::string a = vcd_file("A", "b0 aaaaa\nb0 aaaab\n0aaaac\n",
                                   "#10\nb1 aaaab\n1aaaac\n\n#20\n0aaaac\n\n#30\n");
    const std::string b = vcd_file("B", "b10 aaaaa\nb0 aaaab\n0aaaac\n",
                                   "#10\nb1 aaaab\n\n#15\n1aaaac\n\n#17\n0aaaac\n\n#20\n");
    const std::string empty = vcd_file("C", "", "");
    const std::string merged = merge_vcd_parts({{a, 0, true}, {b, 40, true}, {empty, 60, false}});
    EXPECT_EQ(merged, vcd_file("A", "b0 aaaaa\nb0 aaaab\n0aaaac\n",
                               "#10\nb1 aaaab\n1aaaac\n\n#20\n0aaaac\n\n"
                               "#40\nb10 aaaaa\n\n#50\nb10 aaaab\n\n#55\n1aaaac\n\n#57\n0aaaac\n\n#60\n"));
    EXPECT_EQ(merge_vcd_parts({{a, 0, true}}), a);
    EXPECT_EQ(vcd_units_per_cycle(100e6), 10);  // 10 ns
    EXPECT_EQ(vcd_units_per_cycle(300e6), 3333);  // 3.333 ns in ps
    EXPECT_THROW(merge_vcd_parts({{a, 0, true}, {"not a VCD file", 40, true}}), InternalError);
}

TEST(VcdTrace, DefaultScopeMatchesTheChipCountersAndTheAerTrace) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    HwOptions ho;
    ho.vcd_path = temp_path("default.vcd");
    ho.aer_path = temp_path("default.aer");
    std::remove(ho.vcd_path.c_str());
    std::remove(ho.aer_path.c_str());
    ChipModel chip(m, s.model, ho);
    test::run_images(s, chip, 5);
    // Crash safety: until the run finishes, both traces stream under temporary names; the final names appear whole.
    EXPECT_FALSE(std::filesystem::exists(ho.vcd_path));
    EXPECT_FALSE(std::filesystem::exists(ho.aer_path));
    chip.finish();
    for (const std::string& path : {ho.vcd_path, ho.aer_path}) {
        EXPECT_TRUE(std::filesystem::exists(path)) << path;
        for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
            EXPECT_NE(e.path().filename().string().rfind(std::filesystem::path(path).filename().string() + ".tmp", 0), 0u)
                << "left behind: " << e.path();
    }
    const HwStats& hs = chip.stats();
    const Vcd v = parse_vcd(ho.vcd_path);
    EXPECT_EQ(v.timescale, "1 ns");

    const VcdScope scope = default_vcd_scope(m);
    ASSERT_EQ(scope.cores.size(), 16u);
    EXPECT_EQ(scope.routers, routers_of(m, scope.cores));
    size_t expected = 1 + 3 * scope.cores.size();
    for (int32_t r : scope.routers) expected += 1 + links_of(m, r).size();
    EXPECT_EQ(v.names.size(), expected);
    EXPECT_EQ(std::set<std::string>(v.names.begin(), v.names.end()).size(), v.names.size());

    // Packets each source sent, from the AER trace (multicast trees: one packet per event).
    AerReader reader(ho.aer_path);
    const AerSummary sum = reader.scan(m);
    EXPECT_EQ(sum.packets, hs.packets_injected);
    std::vector<int64_t> sent(m.cores.size() + 1, 0);
    RecordedImage image;
    while (reader.next_image(image))
        for (const auto& step : image.events)
            for (const SourcedEvent& e : step) ++sent[static_cast<size_t>(e.source)];

    int senders = 0;
    for (int32_t k : scope.cores) {
        const std::string core = "SystemC.core_" + std::to_string(k) + ".";
        EXPECT_EQ(last_value(v, core + "packets_sent"), static_cast<uint64_t>(sent[static_cast<size_t>(k)])) << k;
        EXPECT_EQ(last_value(v, core + "sops"), static_cast<uint64_t>(hs.core_sops[static_cast<size_t>(k)])) << k;
        EXPECT_EQ(last_value(v, core + "queue_flits"), 0u) << k;
        if (sent[static_cast<size_t>(k)] > 0) {
            ++senders;
            EXPECT_GE(changes_after_start(v, core + "packets_sent"), 1u) << k;
        }
        if (hs.core_packets_delivered[static_cast<size_t>(k)] > 0) {
            EXPECT_GE(changes_after_start(v, core + "queue_flits"), 1u) << k;
        }
    }
    EXPECT_GT(senders, 0);
    for (int32_t r : scope.routers) {
        const std::string router = router_name(m, r);
        const auto& occupancy = v.changes.at(router + ".buffer_flits");
        uint64_t most = 0;
        for (const auto& c : occupancy) most = std::max(most, c.second);
        EXPECT_LE(most, static_cast<uint64_t>(hs.noc.router_max_occupancy_flits[static_cast<size_t>(r)])) << router;
        EXPECT_EQ(most > 0, hs.noc.router_flits[static_cast<size_t>(r)] > 0) << router;
        EXPECT_EQ(occupancy.back().second, 0u) << router;
        // A link's busy flag moves exactly when flits crossed it, and ends low.
        for (int d : links_of(m, r)) {
            const std::string link = router + ".link_" + kDir[d] + "_busy";
            const int64_t flits = hs.noc.link_flits[static_cast<size_t>(r) * 4 + static_cast<size_t>(d)];
            EXPECT_EQ(changes_after_start(v, link) > 0, flits > 0) << link << " carried " << flits << " flits";
            EXPECT_EQ(last_value(v, link), 0u) << link;
        }
    }
    // The tick counts 0..4.
    std::vector<uint64_t> ticks;
    for (const auto& c : v.changes.at("SystemC.tick")) ticks.push_back(c.second);
    EXPECT_EQ(ticks, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
    std::remove(ho.vcd_path.c_str());
    std::remove(ho.aer_path.c_str());
}

// Outside --trace-window nothing changes: every change after the initial dump lies in ticks [2, 4).
TEST(VcdTrace, WindowKeepsVariablesConstantOutsideIt) {
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    HwOptions ho;
    ho.vcd_path = temp_path("window.vcd");
    ho.vcd_cores = std::vector<int32_t>{1, 2, 3, 40};
    ho.vcd_routers = std::vector<int32_t>{0, 5};
    ho.vcd_window = parse_tick_window("2:4", "--trace-window");
    ChipModel chip(m, s.model, ho);
    test::run_images(s, chip, 5);
    chip.finish();
    const HwStats& hs = chip.stats();
    const Vcd v = parse_vcd(ho.vcd_path);
    EXPECT_EQ(v.names.size(), 1 + 3 * 4 + 2 + links_of(m, 0).size() + links_of(m, 5).size());
    // Tick t starts at the sum of the cycles of the ticks before it; a cycle is 10 ns at 100 MHz.
    std::vector<int64_t> start{0};
    for (int64_t c : hs.tick_cycles) start.push_back(start.back() + c);
    const int64_t from_ns = start[2] * 10, to_ns = start[4] * 10;
    ASSERT_GT(v.change_times.size(), 2u);
    for (int64_t t : v.change_times) {
        if (t == 0) continue;
        EXPECT_GE(t, from_ns);
        EXPECT_LT(t, to_ns);
    }
    std::vector<uint64_t> ticks;
    for (const auto& c : v.changes.at("SystemC.tick")) ticks.push_back(c.second);
    EXPECT_EQ(ticks, (std::vector<uint64_t>{0, 2, 3}));
    std::remove(ho.vcd_path.c_str());
}

// The VCD survives vcd2fst and fst2vcd: the same variables, the same timestamps with changes.
TEST(VcdTrace, RoundTripsThroughFst) {
    const bool have_gtkwave = std::system("command -v vcd2fst >/dev/null 2>&1 && command -v fst2vcd >/dev/null 2>&1") == 0;
    if (!have_gtkwave) GTEST_SKIP() << "vcd2fst/fst2vcd (Debian package gtkwave) are not installed: FST round trip not checked";
    const Fixture s = shipped_resnet8(1);
    const Mapping m = map_network(s.model, ChipSpec{}, MapOptions{});
    HwOptions ho;
    ho.vcd_path = temp_path("trip.vcd");
    ChipModel chip(m, s.model, ho);
    test::run_images(s, chip, 4);
    chip.finish();
    const std::string fst = temp_path("trip.fst"), back = temp_path("trip_back.vcd");
    ASSERT_EQ(std::system(("vcd2fst " + ho.vcd_path + " " + fst + " >/dev/null 2>&1").c_str()), 0);
    ASSERT_EQ(std::system(("fst2vcd " + fst + " > " + back + " 2>/dev/null").c_str()), 0);
    const Vcd a = parse_vcd(ho.vcd_path), b = parse_vcd(back);
    ASSERT_GT(a.names.size(), 1u);
    std::vector<std::string> na = a.names, nb = b.names;
    std::sort(na.begin(), na.end());
    std::sort(nb.begin(), nb.end());
    EXPECT_EQ(na, nb);
    EXPECT_GT(a.change_times.size(), 10u);
    EXPECT_EQ(a.change_times, b.change_times);
    // And the values: every variable's last value is the same.
    for (const auto& n : a.names) EXPECT_EQ(last_value(a, n), last_value(b, n)) << n;
    for (const auto& f : {ho.vcd_path, fst, back}) std::remove(f.c_str());
}

}  // namespace
}  // namespace neuroemu
