#include "router/router.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/error.h"

#include "mapping/routing.h"

namespace neuroemu {

namespace {
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
int opposite(int dir) { return dir ^ 1; }  // E<->W, N<->S
}  // namespace

void NocCounters::resize(size_t routers) {
    router_flits.assign(routers, 0);
    router_max_occupancy.assign(routers, 0);
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

RouterEnv::RouterEnv(const ChipSpec& c, size_t routers)
    : chip(c), period(1e9 / c.clock_hz, sc_core::SC_NS),
      scheduler_(std::make_unique<Scheduler>("router_scheduler", *this)) {
    counters.resize(routers);
}

RouterEnv::~RouterEnv() = default;

void RouterEnv::wake(Router& r, int64_t at) {
    const int64_t now = this->now();
    at = std::max(at, now);
    if (r.scheduled_ >= now && r.scheduled_ <= at) return;  // it runs by then anyway
    r.scheduled_ = at;
    calendar_[at].push_back(&r);
    if (at == running_at_) return;  // the loop in run_due picks it up
    if (at < next_) {
        next_ = at;
        scheduler_->due.notify(cycles(at - now));
    }
}

void RouterEnv::run_due() {
    const int64_t now = this->now();
    running_at_ = now;
    next_ = kNever;
    // Routers woken for this cycle while it runs join the loop; each runs once per wake, in the order woken.
    while (!calendar_.empty() && calendar_.begin()->first <= now) {
        const int64_t at = calendar_.begin()->first;
        std::vector<Router*> due = std::move(calendar_.begin()->second);
        calendar_.erase(calendar_.begin());
        for (Router* r : due) {
            if (r->scheduled_ != at) continue;  // woken earlier since, and already run
            r->scheduled_ = kNever;
            r->run();
        }
    }
    running_at_ = -1;
    if (!calendar_.empty()) {
        next_ = calendar_.begin()->first;
        scheduler_->due.notify(cycles(next_ - now));
    }
}

uint8_t xy_port(int32_t x, int32_t y, int32_t dx, int32_t dy) {
    if (dx > x) return kEast;
    if (dx < x) return kWest;
    if (dy > y) return kNorth;
    if (dy < y) return kSouth;
    return kLocal;
}

Router::Router(sc_core::sc_module_name name, RouterEnv& env, int32_t x_, int32_t y_, size_t index_,
               int64_t local_credits)
    : sc_module(name), x(x_), y(y_), index(index_), env_(env) {
    for (int o = 0; o < 4; ++o) out_credits_[o] = static_cast<int32_t>(env.chip.noc.buffer_depth);
    out_credits_[kOutLocal] = static_cast<int32_t>(local_credits);
    // Every input (neighbours, the local core, the host) is granted at most buffer_depth flits of credit.
    for (auto& q : in_) q.reserve(static_cast<size_t>(env.chip.noc.buffer_depth));
}

void Router::connect(int dir, Router* next, bool inter_chip) {
    next_[dir] = next;
    inter_chip_[dir] = inter_chip;
}

void Router::accept(int port, const Packet& p, int64_t arrive) {
    Entry e{p, arrive + env_.chip.noc.pipeline_cycles, env_.route(*this, p), -1};
    if (in_[port].size() == static_cast<size_t>(env_.chip.noc.buffer_depth))
        throw InternalError(fmt::format("router ({}, {}): input {} overflows (a sender ignored its credits)", x, y, port));
    in_[port].push_back(e);
    occupancy_ += p.flits;
    env_.counters.buffer_writes += p.flits;
    int32_t& most = env_.counters.router_max_occupancy[index];
    most = std::max(most, occupancy_);
    env_.wake(*this, e.ready);
}

void Router::credit(int port, int flits, int64_t at) {
    pending_.push_back({at, port, flits});
    // Credits are applied lazily by the next run at or after `at`; wake for them only when a head waits on them.
    if (waits_for_credits(port)) env_.wake(*this, at);
}

bool Router::waits_for_credits(int port) const {
    for (const auto& q : in_)
        if (!q.empty() && q.front().waiting_since >= 0 && (q.front().todo & (1u << port))) return true;
    return false;
}

void Router::send(int o, Entry& h, int64_t now) {
    const NocSpec& noc = env_.chip.noc;
    const int flits = h.p.flits;
    const int64_t link = o < 4 && inter_chip_[o] ? noc.inter_chip_link_cycles : noc.link_cycles;
    out_busy_[o] = now + flits * link;
    out_credits_[o] -= flits;
    NocCounters& c = env_.counters;
    c.router_flits[index] += flits;
    if (o < 4) {
        Packet p = h.p;
        ++p.hops;
        ++c.hops;
        c.flit_hops += flits;
        c.link_flits[index * 4 + static_cast<size_t>(o)] += flits;
        if (inter_chip_[o]) ++c.inter_chip_hops;
        next_[o]->accept(opposite(o), p, now + link);  // cut-through: the head is there after one link traversal
    } else {
        env_.eject(*this, h.p, now + flits * noc.link_cycles);  // the tail is in the sink after all flits
    }
}

void Router::run() {
    const int64_t now = env_.now();
    for (size_t k = 0; k < pending_.size();) {
        if (pending_[k].at <= now) {
            out_credits_[pending_[k].port] += pending_[k].flits;
            pending_[k] = pending_.back();
            pending_.pop_back();
        } else {
            ++k;
        }
    }
    // Each free output takes the next ready head that wants it, round-robin over the inputs; a multicast head
    // forks to all its free outputs in the same cycle and leaves its buffer when every copy is out.
    bool popped[kRouterInputs] = {};
    // Masks of the inputs whose head is ready, and per output of those whose ready head wants it, so that each
    // output looks only at its candidates (same order and outcome as scanning every input).
    unsigned ready = 0, want[kRouterOutputs] = {};
    for (int i = 0; i < kRouterInputs; ++i) {
        if (in_[i].empty() || in_[i].front().ready > now) continue;
        ready |= 1u << i;
        for (unsigned todo = in_[i].front().todo; todo; todo &= todo - 1) want[__builtin_ctz(todo)] |= 1u << i;
    }
    for (int o = 0; o < kRouterOutputs && ready; ++o) {
        if (out_busy_[o] > now) continue;
        unsigned cand = want[o] & ready;
        if (!cand) continue;
        const int r = out_rr_[o];
        unsigned rot = ((cand >> r) | (cand << (kRouterInputs - r))) & ((1u << kRouterInputs) - 1);
        for (; rot; rot &= rot - 1) {
            const int i = (r + __builtin_ctz(rot)) % kRouterInputs;
            Entry& h = in_[i].front();
            if (out_credits_[o] < h.p.flits) {
                if (h.waiting_since < 0) h.waiting_since = now;
                continue;
            }
            send(o, h, now);
            out_rr_[o] = (i + 1) % kRouterInputs;
            h.todo = static_cast<uint8_t>(h.todo & ~(1u << o));
            if (!h.todo) {
                // Stalled from the first cycle it was held back for credits until its last copy left.
                if (h.waiting_since >= 0) env_.counters.stall_cycles += now - h.waiting_since;
                const int flits = h.p.flits;
                in_[i].pop_front();
                occupancy_ -= flits;
                popped[i] = true;  // the next packet of this input starts next cycle at the earliest
                ready &= ~(1u << i);
                if (!in_[i].empty()) in_[i].front().ready = std::max(in_[i].front().ready, now + 1);
                if (i < 4)
                    next_[i]->credit(opposite(i), flits, now + 1);
                else
                    env_.input_freed(*this, i, flits, now + 1);
            }
            break;
        }
    }
    int64_t t = kNever;
    for (int i = 0; i < kRouterInputs; ++i) {
        if (in_[i].empty()) continue;
        const Entry& h = in_[i].front();
        if (h.ready > now) {
            t = std::min(t, h.ready);
            continue;
        }
        for (int o = 0; o < kRouterOutputs; ++o)
            if ((h.todo & (1u << o)) && out_busy_[o] > now) t = std::min(t, out_busy_[o]);
        if (popped[i]) t = std::min(t, now + 1);
        // A head short of credits is woken by the credit when it comes.
    }
    for (const Credit& c : pending_)
        if (waits_for_credits(c.port)) t = std::min(t, c.at);
    if (t != kNever) env_.wake(*this, t);
}

}  // namespace neuroemu
