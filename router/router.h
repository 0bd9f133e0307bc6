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

#include "arch/chip_spec.h"
#include "arch/fault_spec.h"
#include "router/route_table.h"
#include "router/routing/routing.h"

namespace neuroemu {

// One AER event on the mesh.
struct Packet {
    int32_t source = -1;     // source core (or traffic source); Mapping::cores.size() for the host
    int32_t layer = -1;      // source layer (MapGraph index), -1 for the host
    int32_t c = 0, y = 0, x = 0;  // source unit
    int32_t dest = -1;       // unicast destination core (or router index in synthetic traffic); -1 multicast
    int32_t flits = 1;
    int32_t hops = 0;        // links traversed so far
    int64_t tick = 0;
    int64_t injected = 0;    // cycle it entered the source router
    // Bits flipped on the way (chip.faults): bit i < 32 of the address, bit 32 + j of the check (arch/fault_spec.h).
    uint64_t flips = 0;
};

// Ports: outputs 0-3 go east, west, north (+y), south (-y); output 4 is the local sink. Inputs 0-3 come from the
// east, west, north, south neighbour; input 4 from the local source, input 5 from the host.
constexpr int kOutLocal = 4;
constexpr int kInLocal = 4, kInHost = 5;
constexpr int kRouterInputs = 6, kRouterOutputs = 5;

// What the network counts (for reports and the energy model).
struct NocCounters {
    int64_t packet_hops = 0;      // packet link traversals
    int64_t flit_hops = 0;        // flits x links
    int64_t inter_chip_packet_hops = 0;  // of which over chip-to-chip links
    int64_t buffer_write_flits = 0;  // flits written into input buffers
    int64_t stall_cycles = 0;     // cycles ready packet heads waited for an output or for credits
    int64_t bit_flips = 0;        // bits flipped on router-to-router links (chip.faults.flit_error_rate)
    std::vector<int64_t> router_flits;          // per router: flits forwarded (all outputs)
    std::vector<int32_t> router_max_occupancy_flits;  // per router: most flits buffered at once
    std::vector<int64_t> link_flits;            // per router x 4 outgoing links (E, W, N, S)
    void resize(size_t routers);
};

class Router;

// Something else the routers' calendar runs (RouterEnv::wake): a core, the host, the tick controller. Within a cycle
// the calendar runs the routers due first, then the agents due, each in the order they were woken.
class CycleAgent {
public:
    virtual ~CycleAgent() = default;
    virtual void run_cycle(int64_t now) = 0;

private:
    friend class RouterEnv;
    int64_t scheduled_ = std::numeric_limits<int64_t>::max();  // the earliest cycle it is due to run
};

// The system around the routers: routing decisions for multicast, the local sinks, the clock.
class RouterEnv {
public:
    RouterEnv(const ChipSpec& spec, size_t routers);
    virtual ~RouterEnv();
    // Output ports (routing.h Port bits: E, W, N, S, local) packet `p` takes at router `r`.
    virtual uint8_t route(const Router& r, const Packet& p) const = 0;
    // The packet's tail has reached the local sink of `r` at cycle `tail`.
    virtual void eject(Router& r, const Packet& p, int64_t tail) = 0;
    // With split_chips(): a packet (hops counted) and a credit crossing an inter-chip link, due at `at`; the
    // environment delivers them (Router::accept, Router::credit) at a fixed point of cycle `at`.
    virtual void arrive_across(Router&, int /*port*/, const Packet&, int64_t /*at*/) {}
    virtual void credit_across(Router&, int /*port*/, int /*flits*/, int64_t /*at*/) {}
    // The earliest cycle in the calendar (INT64_MAX: none).
    int64_t next_due() const { return next_; }
    // Input port kInLocal or kInHost of `r` has `flits` more room from cycle `at`.
    virtual void input_freed(Router& r, int port, int flits, int64_t at) = 0;

    const ChipSpec& chip;
    sc_core::sc_time period;
    NocCounters counters;
    // The current cycle: while the routers run, the cycle they run at; otherwise from the kernel's time (always a
    // whole number of periods: integer rounding gives what dividing by the period and rounding did).
    int64_t now() const {
        if (running_at_ >= 0) return running_at_;
        return static_cast<int64_t>((sc_core::sc_time_stamp().value() + period_half_) / period_value_);
    }
    sc_core::sc_time cycles(int64_t n) const { return period * static_cast<double>(n); }

    // Runs router `r` at cycle `at` (at least now). The routers share one timer: a busy network costs one kernel
    // event per active cycle, not one per packet and credit.
    inline void wake(Router& r, int64_t at);
    // Runs agent `a` at cycle `at` (at least now), after the routers due then: one calendar, one kernel event per
    // active cycle for routers and agents together.
    inline void wake(CycleAgent& a, int64_t at);

protected:
    // Optional: route() as a table [Packet::source * routers + router index] -> output ports, for the routers to
    // read instead of calling route(); an entry kNoRoute (or a source past the table) still calls route(). Only for
    // an environment whose route() does nothing else. (By source: a source's packets, which follow its tree one
    // after another, read a few cache lines of its row.)
    static constexpr uint8_t kNoRoute = 0xff;
    static_assert(RouteHash::kMissing == kNoRoute, "a missing hash entry reads as no route");
    void set_route_table(const uint8_t* table, size_t sources) {
        route_table_ = table;
        route_sources_ = sources;
        route_routers_ = counters.router_flits.size();
    }
    // The same as a hash (RouteHash::kMissing == kNoRoute), for meshes whose dense table would be too large.
    void set_route_table(const RouteHash* table) { route_hash_ = table; }
    // Packets and credits over inter-chip links go through arrive_across / credit_across, and a credit takes the
    // link's latency (it crosses the same link) instead of one cycle: the chips of a multi-chip system then
    // interact only with that latency (docs/hardware-model.md, "Space-parallel chip").
    void split_chips() { split_chips_ = true; }
    // Transient bit flips on router-to-router links (chip.faults, docs/hardware-model.md "Faults"): each of a
    // packet's `bits` bits flips with probability `rate` on each link it crosses. Off (rate 0) by default.
    void set_link_faults(double rate, uint64_t seed, int bits);
    // The flips' salt for the tick in progress (its global number): the same spike flips differently in every tick,
    // and the flips do not depend on how the ticks are shared among ranks.
    void set_fault_tick(int64_t tick) { fault_tick_ = static_cast<uint64_t>(tick); }
    // The calendar must not run cycle `at` or later (a window of the space-parallel run ends there): a guard.
    void stop_before(int64_t at) { stop_before_ = at; }
    // Calls cycle_begins(at) at the start of cycle `at` (at least now), before the routers and agents due then;
    // one such call is pending at a time, the earliest asked for.
    void wake_cycle_begin(int64_t at) {
        if (at >= begin_at_) return;
        begin_at_ = at;
        arm(at, now());
    }
    virtual void cycle_begins(int64_t /*now*/) {}

private:
    friend class Router;
    struct Scheduler;
    // Puts `x` (a Router or a CycleAgent) into `wheel`, or `far` when `at` is kWheel or more cycles ahead.
    template <class T>
    inline void schedule(T& x, int64_t at, int64_t now, std::vector<T*>* wheel, uint64_t& used,
                         std::map<int64_t, std::vector<T*>>& far);
    void arm(int64_t at, int64_t now) {
        if (at == running_at_) return;  // the loop in run_due picks it up
        if (at < next_) notify_due(at, now);
    }
    void notify_due(int64_t at, int64_t now);
    void run_due();
    const uint8_t* route_table_ = nullptr;
    size_t route_sources_ = 0, route_routers_ = 0;
    const RouteHash* route_hash_ = nullptr;
    std::unique_ptr<Scheduler> scheduler_;
    uint64_t period_value_ = 1, period_half_ = 0;  // the period in kernel time units
    // The calendar: cycle -> routers to run then, in the order woken (an entry whose router has been woken for an
    // earlier cycle since is stale and skipped). Cycles less than kWheel ahead of the cycle they were woken at go to
    // a wheel of kWheel slots (slot = cycle mod kWheel; every cycle in the calendar is now or later, so a slot
    // holds one cycle), farther ones to `far_`; `far_` entries of a cycle are all older than its wheel entries.
    static constexpr int kWheel = 64;
    std::vector<Router*> wheel_[kWheel];
    uint64_t wheel_used_ = 0;                          // bit s: wheel_[s] is not empty
    std::map<int64_t, std::vector<Router*>> far_;
    // The same for the agents, run after the routers of each cycle.
    std::vector<CycleAgent*> agent_wheel_[kWheel];
    uint64_t agent_wheel_used_ = 0;
    std::map<int64_t, std::vector<CycleAgent*>> agent_far_;
    int64_t next_ = std::numeric_limits<int64_t>::max();  // the cycle the timer is set for
    int64_t running_at_ = -1;                             // the cycle being run, -1 between runs
    bool split_chips_ = false;
    double flip_rate_ = 0;  // per bit; 0: no flips
    LinkFlips flips_;
    uint64_t fault_tick_ = 0;
    // The bits of `p` that flip on output `o` of router `router` (LinkFlips, arch/fault_spec.h), counted.
    uint64_t link_flips(size_t router, int o, const Packet& p);
    int64_t stop_before_ = std::numeric_limits<int64_t>::max();
    int64_t begin_at_ = std::numeric_limits<int64_t>::max();  // the pending cycle_begins call
};

// A process's wake-up event, notified for cycles. It mirrors the kernel's rule that a timed notification later than
// the one pending is ignored, and skips those calls (they change nothing in the kernel); every other notification
// goes to the kernel as before, in the same order. A timed notification for a cycle before now has fired; after a
// delta notification (cycle <= now) the pending state is not known any more, and every call goes to the kernel.
struct CycleWake {
    sc_core::sc_event event;
    int64_t timed_at = -1;  // the cycle of the pending timed notification, when known; at most now: none
    bool unknown = false;
    void notify(const RouterEnv& env, int64_t at, int64_t now) {
        if (at <= now) {
            event.notify(sc_core::SC_ZERO_TIME);
            unknown = true;
            return;
        }
        if (!unknown && timed_at > now && at >= timed_at) return;
        event.notify(env.cycles(at - now));
        if (!unknown) timed_at = at;
    }
    void cancel() {  // nothing is pending afterwards
        event.cancel();
        timed_at = -1;
        unknown = false;
    }
};

class Router : public sc_core::sc_module {
public:
    struct Entry {
        Packet p;
        int64_t ready = 0;         // cycle its head has passed the pipeline
        int64_t waiting_since = -1;
        uint8_t todo = 0;          // output ports still to send on (bit i = output i)
    };
    // An input buffer: a ring of at most buffer-depth packets (each holds at least one flit), contiguous in memory.
    class Fifo {
    public:
        void reserve(size_t packets) {
            ring_.resize(packets);
            cap_ = static_cast<uint32_t>(packets);
        }
        bool empty() const { return size_ == 0; }
        size_t size() const { return size_; }
        Entry& front() { return ring_[head_]; }
        const Entry& front() const { return ring_[head_]; }
        // The slot the next push_back fills (credits guarantee room).
        Entry& back_slot() {
            const uint32_t k = head_ + size_;
            return ring_[k >= cap_ ? k - cap_ : k];
        }
        void push_back(const Entry& e) {
            back_slot() = e;
            ++size_;
        }
        void pushed() { ++size_; }  // after filling back_slot()
        void pop_front() {
            if (++head_ == cap_) head_ = 0;
            --size_;
        }

    private:
        std::vector<Entry> ring_;
        uint32_t cap_ = 0, head_ = 0, size_ = 0;
    };

    // `local_credits`: room of the local sink (a core's input queue), flits.
    Router(sc_core::sc_module_name name, RouterEnv& env, int32_t x, int32_t y, size_t index, int64_t local_credits);

    // Wires output `dir` (0-3) to `next`; `inter_chip` when the link leaves the chip.
    void connect(int dir, Router* next, bool inter_chip);
    // A packet whose head arrives on input `port` at cycle `arrive` (the sender has reserved the room).
    void accept(int port, const Packet& p, int64_t arrive);
    // Output `port` has `flits` more credits from cycle `at` (the next buffer or the local sink freed room).
    void credit(int port, int flits, int64_t at);
    // At a tick barrier (the router is empty): applies the credits still pending, frees the outputs and resets the
    // round-robin pointers, so that the next tick does not depend on the ticks before it (docs/hardware-model.md,
    // "Ticks are independent"). Throws InternalError when a packet is still buffered.
    void reset_for_tick();

    int32_t x, y;
    size_t index;
    int32_t occupancy() const { return occupancy_; }
    const Fifo& input(int port) const { return in_[port]; }
    int32_t credits(int port) const { return out_credits_[port]; }

private:
    void run(int64_t now);
    void arrive(int port, const Packet& p, int32_t hops, int64_t arrive);
    bool waits_for_credits(int port) const;  // a ready head is held back for lack of credits on output `port`

    friend class RouterEnv;
    RouterEnv& env_;
    int64_t scheduled_ = std::numeric_limits<int64_t>::max();  // the earliest cycle it is due to run
    unsigned nonempty_ = 0;   // bit i: in_[i] holds a packet
    // Outputs some head that has been held back for credits still wants (waits_for_credits), as of the end of the
    // last run; heads change only while the router runs, so it holds until the next.
    unsigned credit_waiters_ = 0;
    bool running_ = false;
    int32_t occupancy_ = 0;
    int32_t pipeline_ = 0, buffer_depth_ = 0;
    int64_t out_busy_[kRouterOutputs] = {};
    int32_t out_credits_[kRouterOutputs] = {};
    int out_rr_[kRouterOutputs] = {};
    int64_t link_[kRouterOutputs] = {};  // cycles per flit on each output (the local port streams at link_cycles)
    Router* next_[4] = {};
    bool inter_chip_[4] = {};
    struct Credit {
        int64_t at;
        int port, flits;
    };
    // Credits returned but not yet applied: the first few inside the router (no cache line of a heap vector to
    // fetch per credit at a 50,000-router mesh), the rest in `more_`. Unordered (applying them commutes).
    class CreditList {
    public:
        size_t size() const { return n_; }
        Credit& operator[](size_t k) { return k < kInline ? inline_[k] : more_[k - kInline]; }
        const Credit& operator[](size_t k) const { return k < kInline ? inline_[k] : more_[k - kInline]; }
        void push_back(const Credit& c) {
            if (n_ < kInline)
                inline_[n_] = c;
            else
                more_.push_back(c);
            ++n_;
        }
        void remove(size_t k) {  // replaces entry k by the last one
            (*this)[k] = (*this)[n_ - 1];
            if (n_ > kInline) more_.pop_back();
            --n_;
        }

    private:
        static constexpr size_t kInline = 6;
        size_t n_ = 0;
        Credit inline_[kInline];
        std::vector<Credit> more_;
    };
    CreditList pending_;
    // Last: the scalars above, read by every arrival, credit and run, share a few cache lines.
    Fifo in_[kRouterInputs];
};

template <class T>
inline void RouterEnv::schedule(T& x, int64_t at, int64_t now, std::vector<T*>* wheel, uint64_t& used,
                                std::map<int64_t, std::vector<T*>>& far) {
    x.scheduled_ = at;
    if (at - now < kWheel) {
        const auto s = static_cast<size_t>(at) & (kWheel - 1);
        wheel[s].push_back(&x);
        used |= uint64_t{1} << s;
    } else {
        far[at].push_back(&x);
    }
    arm(at, now);
}

inline void RouterEnv::wake(Router& r, int64_t at) {
    const int64_t now = this->now();
    if (at < now) at = now;
    if (r.scheduled_ >= now && r.scheduled_ <= at) return;  // it runs by then anyway
    schedule(r, at, now, wheel_, wheel_used_, far_);
}

inline void RouterEnv::wake(CycleAgent& a, int64_t at) {
    const int64_t now = this->now();
    if (at < now) at = now;
    if (a.scheduled_ >= now && a.scheduled_ <= at) return;  // it runs by then anyway
    schedule(a, at, now, agent_wheel_, agent_wheel_used_, agent_far_);
}

}  // namespace neuroemu
