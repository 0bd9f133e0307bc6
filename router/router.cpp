#include "router/router.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

#include "router/routing/routing.h"

namespace neuroemu {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
}  // namespace

void NocCounters::resize(size_t routers) {
    router_flits.assign(routers, 0);
    router_max_occupancy_flits.assign(routers, 0);
    link_flits.assign(routers * 4, 0);
}

// The routers' shared timer: one SystemC process that runs the routers due at the current cycle.
struct RouterEnv::Scheduler : sc_core::sc_module {
    RouterEnv& env;
    sc_core::sc_event due;
    SC_HAS_PROCESS(Scheduler);
    Scheduler(sc_core::sc_module_name name, RouterEnv& e) : sc_module(name), env(e) {
        SC_METHOD(run);
        sensitive << due;
        dont_initialize();
    }
    void run() { env.run_due(); }
};

RouterEnv::RouterEnv(const ChipSpec& spec, size_t routers)
    : chip(spec), period(1e9 / spec.clock_hz, sc_core::SC_NS),
      scheduler_(std::make_unique<Scheduler>("router_scheduler", *this)) {
    period_value_ = std::max<uint64_t>(1, period.value());
    period_half_ = period_value_ / 2;
    counters.resize(routers);
}

RouterEnv::~RouterEnv() = default;

void RouterEnv::set_link_faults(double rate, uint64_t seed, int bits) {
    flips_ = LinkFlips(rate, seed, bits);
    flip_rate_ = rate;
}

uint64_t RouterEnv::link_flips(size_t router, int o, const Packet& p) {
    const uint64_t flips = flips_(fault_tick_, p.source, p.c, p.y, p.x, p.dest, router, o);
    counters.bit_flips += __builtin_popcountll(flips);
    return flips;
}

void RouterEnv::notify_due(int64_t at, int64_t now) {
    next_ = at;
    scheduler_->due.notify(cycles(at - now));
}

void RouterEnv::run_due() {
    const auto stamp = static_cast<int64_t>((sc_core::sc_time_stamp().value() + period_half_) / period_value_);
    const int64_t now = stamp;
    if (now >= stop_before_) throw InternalError(fmt::format("the calendar ran cycle {} past its window", now));
    struct Running {  // the cycle is set while the routers run (also if one throws)
        int64_t& at;
        Running(int64_t& a, int64_t n) : at(a) { at = n; }
        ~Running() { at = -1; }
    } running(running_at_, now);
    next_ = kNever;
    // Every cycle in the calendar is now or later. First the routers due, then the agents due; each runs once per
    // wake, in the order woken (first those woken when the cycle was far ahead, then the wheel's). Routers or agents
    // woken for this cycle while it runs join the loop; should an agent wake a router for this cycle, the routers
    // run again before the remaining agents.
    const auto s = static_cast<size_t>(now) & (kWheel - 1);
    std::vector<Router*>& slot = wheel_[s];
    std::vector<CycleAgent*>& agents = agent_wheel_[s];
    if (!far_.empty() && far_.begin()->first == now) {  // (stale entries are skipped below)
        std::vector<Router*>& due = far_.begin()->second;
        slot.insert(slot.begin(), due.begin(), due.end());
        far_.erase(far_.begin());
    }
    if (!agent_far_.empty() && agent_far_.begin()->first == now) {
        std::vector<CycleAgent*>& due = agent_far_.begin()->second;
        agents.insert(agents.begin(), due.begin(), due.end());
        agent_far_.erase(agent_far_.begin());
    }
    if (begin_at_ == now) {
        begin_at_ = kNever;
        cycle_begins(now);
    }
    size_t k = 0, ka = 0;
    for (;;) {
        for (; k < slot.size(); ++k) {  // grows while it runs
            Router* r = slot[k];
            if (r->scheduled_ != now) continue;  // woken earlier since, and already run
            r->scheduled_ = kNever;
            r->run(now);
        }
        for (; ka < agents.size() && k == slot.size(); ++ka) {
            CycleAgent* a = agents[ka];
            if (a->scheduled_ != now) continue;
            a->scheduled_ = kNever;
            a->run_cycle(now);
        }
        if (k == slot.size() && ka == agents.size()) break;
    }
    slot.clear();
    agents.clear();
    wheel_used_ &= ~(uint64_t{1} << s);
    agent_wheel_used_ &= ~(uint64_t{1} << s);
    int64_t next = kNever;
    const uint64_t used = wheel_used_ | agent_wheel_used_;
    if (used) {
        // Bit j of the rotated mask is the slot of cycle now + j.
        const uint64_t rot = (used >> s) | (s ? used << (kWheel - s) : 0);
        next = now + __builtin_ctzll(rot);
    }
    if (!far_.empty()) next = std::min(next, far_.begin()->first);
    if (!agent_far_.empty()) next = std::min(next, agent_far_.begin()->first);
    next = std::min(next, begin_at_);
    if (next != kNever) {
        next_ = next;
        scheduler_->due.notify(cycles(next_ - now));
    }
}

Router::Router(sc_core::sc_module_name name, RouterEnv& env, int32_t x_, int32_t y_, size_t index_,
               int64_t local_credits)
    : sc_module(name), x(x_), y(y_), index(index_), env_(env) {
    const NocSpec& noc = env.chip.noc;
    for (int o = 0; o < 4; ++o) out_credits_[o] = static_cast<int32_t>(noc.buffer_depth);
    out_credits_[kOutLocal] = static_cast<int32_t>(local_credits);
    // Every input (neighbours, the local core, the host) is granted at most buffer_depth flits of credit.
    for (auto& q : in_) q.reserve(static_cast<size_t>(noc.buffer_depth));
    pipeline_ = static_cast<int32_t>(noc.pipeline_cycles);
    buffer_depth_ = static_cast<int32_t>(noc.buffer_depth);
    for (auto& l : link_) l = noc.link_cycles;
}

void Router::connect(int dir, Router* next, bool inter_chip) {
    next_[dir] = next;
    inter_chip_[dir] = inter_chip;
    link_[dir] = inter_chip ? env_.chip.noc.inter_chip_link_cycles : env_.chip.noc.link_cycles;
}

void Router::accept(int port, const Packet& p, int64_t arrive) { this->arrive(port, p, p.hops, arrive); }

// accept() of `p` with `hops` links behind it.
void Router::arrive(int port, const Packet& p, int32_t hops, int64_t arrive) {
    Fifo& q = in_[port];
    if (q.size() == static_cast<size_t>(buffer_depth_)) {
        Packet copy = p;
        copy.hops = hops;
        env_.route(*this, copy);
        throw InternalError(fmt::format("router ({}, {}): input {} overflows (a sender ignored its credits)", x, y, port));
    }
    Entry& e = q.back_slot();
    e.p = p;
    e.p.hops = hops;
    uint8_t todo = RouterEnv::kNoRoute;
    if (env_.route_table_) {
        if (static_cast<uint32_t>(p.source) < env_.route_sources_)
            todo = env_.route_table_[static_cast<uint32_t>(p.source) * env_.route_routers_ + index];
    } else if (env_.route_hash_ && static_cast<uint32_t>(p.source) < env_.route_hash_->sources()) {
        todo = env_.route_hash_->find(index, static_cast<uint32_t>(p.source));
    }
    if (todo == RouterEnv::kNoRoute) todo = env_.route(*this, e.p);
    e.ready = arrive + pipeline_;
    e.waiting_since = -1;
    e.todo = todo;
    q.pushed();
    nonempty_ |= 1u << port;
    occupancy_ += p.flits;
    env_.counters.buffer_write_flits += p.flits;
    int32_t& most = env_.counters.router_max_occupancy_flits[index];
    most = std::max(most, occupancy_);
    env_.wake(*this, e.ready);
}

void Router::credit(int port, int flits, int64_t at) {
    pending_.push_back({at, port, flits});
    // Credits are applied lazily by the next run at or after `at`; wake for them only when a head waits on them.
    if (running_ ? waits_for_credits(port) : (credit_waiters_ >> port) & 1u) env_.wake(*this, at);
}

void Router::reset_for_tick() {
    if (nonempty_ != 0 || occupancy_ != 0)
        throw InternalError(fmt::format("router ({}, {}) holds packets at a tick barrier", x, y));
    for (size_t k = 0; k < pending_.size(); ++k) out_credits_[pending_[k].port] += pending_[k].flits;
    while (pending_.size() > 0) pending_.remove(pending_.size() - 1);
    for (int o = 0; o < kRouterOutputs; ++o) {
        out_busy_[o] = 0;
        out_rr_[o] = 0;
    }
    credit_waiters_ = 0;
}

bool Router::waits_for_credits(int port) const {
    for (const auto& q : in_)
        if (!q.empty() && q.front().waiting_since >= 0 && (q.front().todo & (1u << port))) return true;
    return false;
}

void Router::run(int64_t now) {
    running_ = true;
    for (size_t k = 0; k < pending_.size();) {
        if (pending_[k].at <= now) {
            out_credits_[pending_[k].port] += pending_[k].flits;
            pending_.remove(k);
        } else {
            ++k;
        }
    }
    // Each free output takes the next ready head that wants it, round-robin over the inputs; a multicast head
    // forks to all its free outputs in the same cycle and leaves its buffer when every copy is out.
    unsigned popped = 0;
    // Masks of the inputs whose head is ready, and per output of those whose ready head wants it, so that each
    // output looks only at its candidates (same order and outcome as scanning every input).
    unsigned ready = 0, wanted = 0, want[kRouterOutputs] = {};
    for (unsigned m = nonempty_; m; m &= m - 1) {
        const int i = __builtin_ctz(m);
        const Entry& h = in_[i].front();
        if (h.ready > now) continue;
        ready |= 1u << i;
        wanted |= h.todo;
        for (unsigned todo = h.todo; todo; todo &= todo - 1) want[__builtin_ctz(todo)] |= 1u << i;
    }
    NocCounters& c = env_.counters;
    for (unsigned outs = wanted; outs && ready; outs &= outs - 1) {
        const int o = __builtin_ctz(outs);
        if (out_busy_[o] > now) continue;
        const unsigned cand = want[o] & ready;
        if (!cand) continue;
        const int r = out_rr_[o];
        unsigned rot = ((cand >> r) | (cand << (kRouterInputs - r))) & ((1u << kRouterInputs) - 1);
        for (; rot; rot &= rot - 1) {
            int i = r + __builtin_ctz(rot);
            if (i >= kRouterInputs) i -= kRouterInputs;
            Entry& h = in_[i].front();
            const int flits = h.p.flits;
            if (out_credits_[o] < flits) {
                if (h.waiting_since < 0) h.waiting_since = now;
                continue;
            }
            // Send the head on output o.
            const int64_t link = link_[o];
            out_busy_[o] = now + flits * link;
            out_credits_[o] -= flits;
            c.router_flits[index] += flits;
            if (o < 4) {
                ++c.packet_hops;
                c.flit_hops += flits;
                c.link_flits[index * 4 + static_cast<size_t>(o)] += flits;
                if (inter_chip_[o]) ++c.inter_chip_packet_hops;
                // Cut-through: the head is there after one link traversal.
                const Packet* sent = &h.p;
                Packet flipped;
                if (env_.flip_rate_ > 0) {
                    flipped = h.p;
                    flipped.flips ^= env_.link_flips(index, o, h.p);
                    sent = &flipped;
                }
                if (inter_chip_[o] && env_.split_chips_) {
                    Packet p = *sent;
                    ++p.hops;
                    env_.arrive_across(*next_[o], o ^ 1, p, now + link);
                } else {
                    next_[o]->arrive(o ^ 1, *sent, sent->hops + 1, now + link);
                }
            } else {
                env_.eject(*this, h.p, now + flits * link);  // the tail is in the sink after all flits
            }
            out_rr_[o] = i + 1 == kRouterInputs ? 0 : i + 1;
            h.todo = static_cast<uint8_t>(h.todo & ~(1u << o));
            if (!h.todo) {
                // Stalled from the first cycle it was held back for credits until its last copy left.
                if (h.waiting_since >= 0) c.stall_cycles += now - h.waiting_since;
                Fifo& q = in_[i];
                q.pop_front();
                occupancy_ -= flits;
                popped |= 1u << i;  // the next packet of this input starts next cycle at the earliest
                ready &= ~(1u << i);
                if (!q.empty())
                    q.front().ready = std::max(q.front().ready, now + 1);
                else
                    nonempty_ &= ~(1u << i);
                if (i < 4 && inter_chip_[i] && env_.split_chips_)
                    env_.credit_across(*next_[i], i ^ 1, flits, now + link_[i]);
                else if (i < 4)
                    next_[i]->credit(i ^ 1, flits, now + 1);
                else
                    env_.input_freed(*this, i, flits, now + 1);
            }
            break;
        }
    }
    int64_t t = kNever;
    unsigned waiters = 0;
    for (unsigned m = nonempty_; m; m &= m - 1) {
        const int i = __builtin_ctz(m);
        const Entry& h = in_[i].front();
        if (h.waiting_since >= 0) waiters |= h.todo;
        if (h.ready > now) {
            t = std::min(t, h.ready);
            continue;
        }
        for (unsigned todo = h.todo; todo; todo &= todo - 1) {
            const int o = __builtin_ctz(todo);
            if (out_busy_[o] > now) t = std::min(t, out_busy_[o]);
        }
        if (popped & (1u << i)) t = std::min(t, now + 1);
        // A head short of credits is woken by the credit when it comes.
    }
    credit_waiters_ = waiters;
    running_ = false;
    if (waiters)
        for (size_t k = 0; k < pending_.size(); ++k)
            if ((waiters >> pending_[k].port) & 1u) t = std::min(t, pending_[k].at);
    if (t != kNever) env_.wake(*this, t);
}

}  // namespace neuroemu
