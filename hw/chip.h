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
#include "hw/core_model.h"
#include "hw/host.h"
#include "hw/tick_controller.h"
#include "hw/vcd_trace.h"
#include "router/router.h"

namespace neuroemu {

class Chip : public RouterEnv {
public:
    Chip(const Mapping& mapping, const SnnModel& snn, const HwOptions& options);
    ~Chip() override;

    uint8_t route(const Router& r, const Packet& p) const override;
    void eject(Router& r, const Packet& p, int64_t tail) override;
    void input_freed(Router& r, int port, int flits, int64_t at) override;

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
    Packet make_packet(int source, int layer, int32_t c, int32_t y, int32_t x, int32_t dest) const;

    // chip.noc.multicast, resolved once: one packet forked in the routers (tables) or one per destination.
    const bool tree_multicast_;
    // Tree mode: per router and source the output ports, as a dense array [source * routers + router]
    // (kNoRoute where the router is not on the source's tree) when it takes at most 64 MiB, else as a hash.
    std::vector<uint8_t> route_table_;
    size_t route_sources_ = 0;
    std::unique_ptr<RouteHash> sparse_routes_;
    std::vector<CoreModel*> core_at_;  // per router: its core, if any
};

}  // namespace neuroemu
