// The assembled chip model behind ChipModel (internal to hw/): the mesh of routers, one core model per mapped core,
// the host, the tick controller and the tracers; the routers' environment (multicast tables or XY routes, local
// sinks). docs/hardware-model.md describes the timing.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "hw/aer_trace.h"
#include "hw/chip_model.h"
#include "hw/chip_regions.h"
#include "hw/core_model.h"
#include "hw/host.h"
#include "hw/tick_controller.h"
#include "hw/vcd_trace.h"
#include "mapping/routing.h"
#include "router/router.h"

namespace neuroemu {

class Chip : public RouterEnv {
public:
    Chip(const Mapping& mapping, const SnnModel& snn, const HwOptions& options);
    ~Chip() override;

    uint8_t route(const Router& r, const Packet& p) const override;
    void eject(Router& r, const Packet& p, int64_t tail) override;
    void input_freed(Router& r, int port, int flits, int64_t at) override;
    void arrive_across(Router& to, int port, const Packet& p, int64_t at) override;
    void credit_across(Router& to, int port, int flits, int64_t at) override;
    void cycle_begins(int64_t now) override;

    // A packet left `source` (a core index, or cores.size() for the host) at p.injected: counted, recorded in the
    // AER trace, and its deliveries owed to the destination cores' layers.
    void injected(int source, const Packet& p);
    // Queues one event of unit (c, y, x) of `source`: one multicast packet, or one unicast packet per destination.
    void enqueue_spike(int source, int layer, int32_t c, int32_t y, int32_t x, std::deque<Packet>& out);
    // At the start of every tick: routers, cores and host back to a fresh chip's idle state (docs/hardware-model.md,
    // "Ticks are independent").
    void reset_for_tick();
    // The global number of the tick in progress (or of the next one), counted from 0 over the whole run.
    int64_t global_tick() const { return options.first_tick + stats.ticks; }
    // Which routers still hold packets, for a deadlock report.
    std::string blocked_report() const;
    int host_source() const { return static_cast<int>(mapping.cores.size()); }
    // chip.faults (docs/hardware-model.md "Faults"): whether core k never fires, the factor on its update time.
    bool core_stuck(size_t k) const { return !stuck_.empty() && stuck_[k]; }
    double core_slow_factor(size_t k) const { return slow_.empty() ? 1.0 : slow_[k]; }
    // Counts an arrival at a core whose bits flipped on the way: dropped when the check detects it, else counted
    // corrupt by the oracle (which knows the true packet). Either way the core does not integrate it.
    void corrupt_arrival(const Packet& p);

    // Multi-chip systems (docs/hardware-model.md, "Space-parallel chip"): chips interact only through messages
    // due the inter-chip latency L after they are sent, so the simulation runs in windows of L cycles, exchanging
    // the messages at each window's end (with several ranks: between the ranks that own the chips).
    int chips() const { return chips_; }
    bool multi_chip() const { return chips_ > 1; }
    bool distributed() const { return ranks_ > 1; }
    int64_t lookahead() const { return mapping.chip.noc.inter_chip_link_cycles; }
    int32_t chip_of_core(size_t k) const { return core_chip_[k]; }
    int32_t host_chip() const { return host_chip_; }
    bool mine(int32_t chip) const { return regions.rank_of_chip[static_cast<size_t>(chip)] == rank_; }
    // Queues `m` (due, kind, to_chip and payload set) from chip `from`.
    void post(int32_t from, ChipMessage m);
    // A message over the inter-chip link into router `to`'s port `port`, due at `at` (payload left to set).
    ChipMessage across(const Router& to, int port, int32_t kind, int64_t at) const;
    // Runs cycles [now, end), the received messages applied at the start of their cycles (cycle_begins); stops
    // early when the tick watchdog fires.
    void run_until(int64_t end);
    // At a window's end: hands every queued message to the rank owning its chip and returns every rank's
    // `mine` (one collective; all ranks call it together).
    std::vector<WindowSummary> exchange(const WindowSummary& mine);
    // Before exchange(): the next cycle something is due here (calendar, messages received or queued; INT64_MAX:
    // none), and whether a message received or queued still has work in it (anything but credits).
    int64_t next_event() const;
    bool messages_hold_work() const;
    ChipRegions regions;
    int64_t windows = 0, exchanged_bytes = 0, exchanged_messages = 0;  // the space-parallel run's cost (bench/)

    // chip.faults.dead_*: the mapping without the routes that cross a dead router or link (null when none is dead).
    // Declared before `mapping`, which refers to it then.
    struct PrunedMapping {
        std::unique_ptr<const Mapping> mapping;
        std::vector<std::pair<int32_t, int32_t>> lost;  // (source, destination core) pairs cut off
        std::unique_ptr<const RouteFaults> faults;      // the dead elements, for route_steps on `mapping`
    };
    PrunedMapping pruned;
    const Mapping& mapping;
    const SnnModel& snn;
    const HwOptions options;
    HwStats stats;
    std::vector<std::vector<int>> input_projection;  // per layer, per input: SNN projection index, -1 for none
    std::vector<std::unique_ptr<Router>> routers;
    std::vector<std::unique_ptr<CoreModel>> cores;
    std::unique_ptr<Host> host;
    std::unique_ptr<TickController> tick_controller;
    std::unique_ptr<VcdTracer> vcd;  // --trace
    std::unique_ptr<AerWriter> aer;  // --aer-out
    std::vector<AerRecord> aer_records;  // HwOptions::aer_in_memory

private:
    void match_projections();
    void build_route_tables();
    void build_detours();
    Packet make_packet(int source, int layer, int32_t c, int32_t y, int32_t x, int32_t dest) const;

    // chip.noc.multicast, resolved once: one packet forked in the routers (tables) or one per destination.
    const bool tree_multicast_;
    // Tree mode: per router and source the output ports, as a dense array [source * routers + router]
    // (kNoRoute where the router is not on the source's tree) when it takes at most 64 MiB, else as a hash.
    std::vector<uint8_t> route_table_;
    size_t route_sources_ = 0;
    std::unique_ptr<RouteHash> sparse_routes_;
    // Source mode with rerouted sources (mapping/routing.h, route_steps): (source, destination router, router)
    // -> the port of a unicast packet on its detour; every other packet takes its XY port.
    struct DetourKey {
        size_t source, dest, router;
        bool operator==(const DetourKey& o) const { return source == o.source && dest == o.dest && router == o.router; }
    };
    struct DetourHash {
        size_t operator()(const DetourKey& k) const {
            return (k.source * 0x9E3779B97F4A7C15ull) ^ (k.dest * 0xC2B2AE3D27D4EB4Full) ^ (k.router + (k.router << 17));
        }
    };
    std::unordered_map<DetourKey, uint8_t, DetourHash> detours_;
    std::vector<CoreModel*> core_at_;  // per router: its core, if any
    void set_up_faults();
    std::vector<uint8_t> stuck_;  // per core, when any core is stuck
    std::vector<double> slow_;    // per core, when any core is slow
    std::vector<int32_t> lost_per_source_;  // per source: destinations cut off by dead elements (when any)
    void apply(const ChipMessage& m);
    int chips_ = 1, ranks_ = 1, rank_ = 0;
    std::vector<int32_t> core_chip_;  // per core: its chip
    int32_t host_chip_ = 0;
    std::vector<int64_t> sent_;       // per chip: messages sent (their seq)
    std::vector<ChipMessage> outbox_, inbox_;  // inbox_: sorted by ChipMessage::before from inbox_next_ on
    size_t inbox_next_ = 0;
    std::vector<std::pair<std::pair<int32_t, int32_t>, int32_t>> owed_elsewhere_;  // (chip, layer) -> deliveries
};

}  // namespace neuroemu
