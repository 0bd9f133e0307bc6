// Synthetic traffic on a standalone mesh of `Router`s (`neuroemu noc`): validates the network-on-chip alone,
// without cores or a mapped network. One traffic generator per node injects Bernoulli traffic (uniform, transpose
// or hotspot destinations) through an unbounded source queue into its router's local input; one sink per node takes
// every packet the moment it arrives. Measured as BookSim does: warm-up, a window in which generated packets are
// tagged, then a drain until every tagged packet is delivered. Method and JSON keys: docs/cli.md (`noc`).
//
// In synthetic traffic a Packet carries: `source` the generating node, `dest` the destination node (router index
// y * width + x), `c` its sequence number at the source (the pair is the packet's id), `tick` the cycle it was
// generated, `injected` the cycle it entered the source router.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "arch/chip_spec.h"
#include "router/router.h"
#include "router/traffic/traffic.h"

namespace neuroemu {

// The registered traffic pattern (router/traffic/) called `name`, in any case; anything else is a ConfigError
// naming `what` and the choices.
std::string traffic_pattern(const std::string& name, const std::string& what = "--traffic");

struct MeshSize {
    int32_t width = 0, height = 0;
};
// "WxH" (e.g. "8x8"), each side 1..kMaxMeshSide; otherwise a ConfigError naming `what`.
MeshSize parse_mesh(const std::string& text, const std::string& what = "--mesh");
constexpr int32_t kMaxMeshSide = 256;

struct TrafficOptions {
    std::string pattern = kDefaultTrafficPattern;  // a registered name (router/traffic/)
    double rate = 0.1;  // packets generated per injecting node per cycle (Bernoulli), 0..1
    int32_t packet_flits = 1;
    double hotspot_fraction = 0.2;  // hotspot: share of a node's packets that go to the centre node
    int64_t warmup_cycles = 1000;
    int64_t measure_cycles = 10000;  // the window whose generated packets are tagged and measured
    int64_t drain_cycles = 0;        // most cycles after the window for the tagged packets; 0: max(window, 10000)
    int64_t max_queued_packets = int64_t{1} << 22;  // all source queues together; beyond: saturated, stop
    uint64_t seed = 1;
};

struct TrafficResult {
    int32_t nodes = 0, injecting_nodes = 0;
    // Per node and cycle over the window, averaged over all nodes (in transpose, the diagonal counts as zero).
    double offered_packets_per_node_cycle = 0, offered_flits_per_node_cycle = 0;    // generated
    double accepted_packets_per_node_cycle = 0, accepted_flits_per_node_cycle = 0;  // tails ejected
    // Tagged packets: generation to tail ejection (source queueing included), and injection to tail ejection.
    double latency_mean_cycles = 0, network_latency_mean_cycles = 0;
    int64_t latency_max_cycles = 0, network_latency_max_cycles = 0;
    double hops_mean = 0;  // links traversed by the tagged packets
    // Whole run (warm-up, window and drain). Conservation: injected = delivered, each id once, at its `dest`.
    int64_t generated = 0, injected = 0, delivered = 0;
    int64_t duplicates = 0;  // deliveries of an id already delivered
    int64_t misrouted = 0;   // delivered at a router other than `dest`
    int64_t lost = 0;        // injected but never delivered after the network went quiet
    int64_t discarded = 0;   // generated but still in a source queue when the run stopped (never injected)
    int64_t tagged = 0, tagged_delivered = 0;
    int64_t source_queue_max_packets = 0;  // the longest source queue seen
    // Saturated: the drain bound was hit, the source queues outgrew max_queued_packets, or they grew during the
    // window by more than 1% of the packets generated in it (and more than 2 per node).
    bool saturated = false;
    std::string saturation_reason;  // empty unless saturated
    int64_t cycles = 0;             // simulated, from the start of warm-up until the network went quiet
    int64_t drain_cycles = 0;       // after the window until the last tagged tail (or the drain bound)
    int64_t packet_hops = 0, flit_hops = 0, stall_cycles = 0;  // whole run (NocCounters)
    double seconds = 0;                                        // wall time of the simulation
};

// What the traffic pattern implies on this mesh, from exact channel loads of its XY routes (no simulation).
struct TrafficAnalysis {
    int32_t injecting_nodes = 0;
    int32_t hotspot_node = -1;  // hotspot: the centre node
    double mean_hops = 0;       // expected links per packet
    // Zero-load latency at the mean hop count: P + H(L + P) + F L (docs/hardware-model.md), linear in H.
    double zero_load_latency_cycles = 0;
    // Ideal throughput, flits per node per cycle averaged over all nodes: the accepted load at which the busiest
    // channel (link, injection or ejection port) saturates when every injecting node offers the same load, with
    // channels of one flit per link_cycles; and the same with links and injection ports also limited by their
    // credit loop (a buffer slot returns L + P + 1 cycles after it was taken, P + 1 at the local input). For
    // uniform traffic the first is the bisection bound and holds at any load (every packet crosses the bisection
    // with the same probability); for transpose and hotspot, nodes off the bottleneck keep injecting once it
    // saturates, so accepted throughput past saturation may exceed it.
    double channel_bound_flits_per_node_cycle = 0;
    double credit_bound_flits_per_node_cycle = 0;
    double max_link_load = 0;  // packets per cycle on the busiest link at one packet per injecting node per cycle
};
TrafficAnalysis analyse_traffic(const ChipSpec& chip, int32_t width, int32_t height, const std::string& pattern,
                                int32_t packet_flits, double hotspot_fraction = 0.2);

// Cycles for one packet of `flits` flits over `hops` links at zero load, from entering the source router to its
// tail leaving the destination router: the source router's pipeline, then per link its traversal and the next
// router's pipeline, then the tail streams out over the local port.
int64_t noc_zero_load_latency(const ChipSpec& chip, int64_t hops, int64_t flits);

struct SinglePacket {
    int64_t latency_cycles = 0;  // generation (= injection into an empty network) to tail ejection
    int32_t hops = 0;
};

// A width x height mesh of Routers with one generator and one sink per node, elaborated once. Several
// measurements may run on one mesh, one after another (SystemC allows one elaboration per process: build every
// mesh a process needs before the first measurement). Each starts from an empty network; the routers'
// round-robin pointers carry over, so for bit-identical numbers repeat a measurement on a fresh mesh.
class NocSim {
public:
    // Throws ConfigError for a mesh outside 1..kMaxMeshSide a side.
    NocSim(const ChipSpec& chip, int32_t width, int32_t height);
    ~NocSim();
    NocSim(const NocSim&) = delete;
    NocSim& operator=(const NocSim&) = delete;

    // Throws ConfigError for bad options (rate outside [0, 1], flits < 1 or beyond the buffer depth, a pattern
    // this mesh cannot carry).
    TrafficResult run(const TrafficOptions& options);
    // One packet from node `from` to node `to` (may be equal) through an empty network.
    SinglePacket single_packet(int32_t from, int32_t to, int32_t flits);

    // Called for every delivery (also duplicates) with the router it left at and its tail cycle; for tests.
    using DeliveryObserver = std::function<void(const Packet& p, int32_t router, int64_t tail_cycle)>;
    void set_delivery_observer(DeliveryObserver observer);

    int32_t width() const;
    int32_t height() const;
    const ChipSpec& chip() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace neuroemu
