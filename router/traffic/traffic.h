// Synthetic traffic patterns for `neuroemu noc`: the family `traffic` (one implementation per file in this
// folder), chosen by `--traffic`. A pattern says which nodes inject, where each packet goes, and which flows its
// analysis adds; NocSim resolves it once per run (one call per generated packet, none per flit).
#pragma once

#include <cstdint>
#include <random>

#include "common/registry.h"
#include "router/traffic/channel_loads.h"

namespace neuroemu {

// The mesh a pattern runs on. Nodes are router indices y * width + x.
struct TrafficMesh {
    int32_t width = 0, height = 0;
    double hotspot_fraction = 0.2;  // --hotspot-fraction: share of a node's packets to the hotspot
    int32_t nodes() const { return width * height; }
};

class TrafficPattern {
public:
    virtual ~TrafficPattern() = default;
    // Throws ConfigError (naming --traffic) when the pattern cannot run on this mesh.
    virtual void check(const TrafficMesh&) const {}
    // Whether `node` generates packets at all.
    virtual bool injects(int32_t, const TrafficMesh&) const { return true; }
    // The node receiving the pattern's concentrated share, -1 when none.
    virtual int32_t hotspot_node(const TrafficMesh&) const { return -1; }
    // One packet's destination from `node` (never `node` itself), drawing from the node's generator as needed.
    virtual int32_t destination(int32_t node, const TrafficMesh& mesh, std::mt19937_64& rng) const = 0;
    // Adds the pattern's flows at one packet per injecting node per cycle, prefix sums included.
    virtual void add_loads(ChannelLoads& loads, const TrafficMesh& mesh) const = 0;
};

Family<TrafficPattern>& traffic_patterns();
inline const char* const kDefaultTrafficPattern = "uniform";

// A uniform integer in [0, n) from one 64-bit draw (Lemire's multiply-shift: no modulo bias worth naming).
inline int64_t below(std::mt19937_64& rng, int64_t n) {
    return static_cast<int64_t>((static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(n)) >> 64);
}

// A uniform double in (0, 1].
inline double unit_open0(std::mt19937_64& rng) { return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53; }

// Any node but `node`, equally likely.
inline int32_t uniform_destination(int32_t node, const TrafficMesh& mesh, std::mt19937_64& rng) {
    const auto d = static_cast<int32_t>(below(rng, mesh.nodes() - 1));
    return d >= node ? d + 1 : d;
}

}  // namespace neuroemu
