// A network-on-chip router as a SystemC module (run by its environment's shared timer): input-buffered (one FIFO per input port, chip.noc.buffer_depth
// flits), XY dimension-order routing or a multicast table supplied by its environment, forks a multicast packet to
// several outputs, round-robin arbitration per output, credit-based back-pressure (a packet leaves only when the
// next buffer has room for all its flits, so nothing is ever dropped). Event-driven: it runs only when a packet
// head clears the pipeline, an output frees up or a credit returns. Timing model: docs/hardware-model.md.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <systemc>
#include <vector>

#include "hw/chip_spec.h"

namespace neuroemu {

// One AER event on the mesh.
struct Packet {
    int32_t source = -1;     // source core (or traffic source); Mapping::cores.size() for the host
    int32_t layer = -1;      // source layer (MapGraph index), -1 for the host
    int32_t c = 0, y = 0, x = 0;  // source unit
    int32_t dest = -1;       // unicast destination core (or router index in synthetic traffic); -1 multicast
    int32_t flits = 1;
    int64_t tick = 0;
    int64_t injected = 0;    // cycle it entered the source router
    int32_t hops = 0;        // links traversed so far
};

// Ports: outputs 0-3 go east, west, north (+y), south (-y); output 4 is the local sink. Inputs 0-3 come from the
// east, west, north, south neighbour; input 4 from the local source, input 5 from the host.
constexpr int kOutLocal = 4;
constexpr int kInLocal = 4, kInHost = 5;
constexpr int kRouterInputs = 6, kRouterOutputs = 5;

// What the network counts (for reports and the energy model).
struct NocCounters {
    int64_t hops = 0;             // packet link traversals
    int64_t flit_hops = 0;        // flits x links
    int64_t inter_chip_hops = 0;
    int64_t buffer_writes = 0;    // flits written into input buffers
    int64_t stall_cycles = 0;     // cycles ready packet heads waited for an output or for credits
    std::vector<int64_t> router_flits;          // per router: flits forwarded (all outputs)
    std::vector<int32_t> router_max_occupancy;  // per router: most flits buffered at once
    std::vector<int64_t> link_flits;            // per router x 4 outgoing links (E, W, N, S)
    void resize(size_t routers);
};

class Router;

// The system around the routers: routing decisions for multicast, the local sinks, the clock.
class RouterEnv {
public:
    RouterEnv(const ChipSpec& chip, size_t routers);
    virtual ~RouterEnv();
    // Output ports (routing.h Port bits: E, W, N, S, local) packet `p` takes at router `r`.
    virtual uint8_t route(const Router& r, const Packet& p) const = 0;
    // The packet's tail has reached the local sink of `r` at cycle `tail`.
    virtual void eject(Router& r, const Packet& p, int64_t tail) = 0;
    // Input port kInLocal or kInHost of `r` has `flits` more room from cycle `at`.
    virtual void input_freed(Router& r, int port, int flits, int64_t at) = 0;

    const ChipSpec& chip;
    sc_core::sc_time period;
    NocCounters counters;
    int64_t now() const { return static_cast<int64_t>(sc_core::sc_time_stamp() / period + 0.5); }
    sc_core::sc_time cycles(int64_t n) const { return period * static_cast<double>(n); }

    // Runs router `r` at cycle `at` (at least now). The routers share one timer: a busy network costs one kernel
    // event per active cycle, not one per packet and credit.
    void wake(Router& r, int64_t at);

private:
    struct Scheduler;
    void run_due();
    std::unique_ptr<Scheduler> scheduler_;
    std::map<int64_t, std::vector<Router*>> calendar_;  // cycle -> routers to run then
    int64_t next_ = std::numeric_limits<int64_t>::max();  // the cycle the timer is set for
    int64_t running_at_ = -1;                             // the cycle being run, -1 between runs
};

class Router : public sc_core::sc_module {
public:
    struct Entry {
        Packet p;
        int64_t ready = 0;         // cycle its head has passed the pipeline
        uint8_t todo = 0;          // output ports still to send on (bit i = output i)
        int64_t waiting_since = -1;
    };
    // An input buffer: a ring of at most buffer-depth packets (each holds at least one flit), contiguous in memory.
    class Fifo {
    public:
        void reserve(size_t packets) { ring_.resize(packets); }
        bool empty() const { return size_ == 0; }
        size_t size() const { return size_; }
        Entry& front() { return ring_[head_]; }
        const Entry& front() const { return ring_[head_]; }
        void push_back(const Entry& e) {
            ring_[(head_ + size_) % ring_.size()] = e;  // credits guarantee room
            ++size_;
        }
        void pop_front() {
            head_ = (head_ + 1) % ring_.size();
            --size_;
        }

    private:
        std::vector<Entry> ring_;
        size_t head_ = 0, size_ = 0;
    };

    // `local_credits`: room of the local sink (a core's input queue), flits.
    Router(sc_core::sc_module_name name, RouterEnv& env, int32_t x, int32_t y, size_t index, int64_t local_credits);

    // Wires output `dir` (0-3) to `next`; `inter_chip` when the link leaves the chip.
    void connect(int dir, Router* next, bool inter_chip);
    // A packet whose head arrives on input `port` at cycle `arrive` (the sender has reserved the room).
    void accept(int port, const Packet& p, int64_t arrive);
    // Output `port` has `flits` more credits from cycle `at` (the next buffer or the local sink freed room).
    void credit(int port, int flits, int64_t at);

    int32_t x, y;
    size_t index;
    int32_t occupancy() const { return occupancy_; }
    const Fifo& input(int port) const { return in_[port]; }
    int32_t credits(int port) const { return out_credits_[port]; }

private:
    void run();
    void send(int o, Entry& h, int64_t now);
    bool waits_for_credits(int port) const;  // a ready head is held back for lack of credits on output `port`

    friend class RouterEnv;
    RouterEnv& env_;
    int64_t scheduled_ = std::numeric_limits<int64_t>::max();  // the earliest cycle it is due to run
    Fifo in_[kRouterInputs];
    int32_t occupancy_ = 0;
    int64_t out_busy_[kRouterOutputs] = {};
    int32_t out_credits_[kRouterOutputs] = {};
    int out_rr_[kRouterOutputs] = {};
    Router* next_[4] = {};
    bool inter_chip_[4] = {};
    struct Credit {
        int64_t at;
        int port, flits;
    };
    std::vector<Credit> pending_;
};

// Output port bits toward router (dx, dy) from (x, y) under XY routing (kLocal when there).
uint8_t xy_port(int32_t x, int32_t y, int32_t dx, int32_t dy);

}  // namespace neuroemu
