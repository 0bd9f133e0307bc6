// The sending side of a core or the host: the events queued for this tick leave one per cycle (an AER encoder
// emits one event per cycle) into the router's input, as its credits allow. Credits come back from the router with
// the cycle from which they may be used.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

#include "router/router.h"

namespace neuroemu {

constexpr int64_t kNeverCycle = std::numeric_limits<int64_t>::max();

class AerEncoder {
public:
    explicit AerEncoder(int32_t credits_flits) : credits_flits_(credits_flits) {}

    std::deque<Packet>& outbox() { return out_; }
    bool idle() const { return out_.empty(); }

    // Credits for `flits` returned by the router, usable from cycle `at`.
    void credit(int flits, int64_t at) { pending_.emplace_back(at, flits); }
    // The first packet may leave no earlier than `at`.
    void start_at(int64_t at) { next_inject_ = at; }
    int64_t next_inject() const { return next_inject_; }

    // Adds the credits usable at `now`; returns the cycle of the earliest one still pending (kNeverCycle: none).
    int64_t apply_credits(int64_t now) {
        if (pending_.empty()) return kNeverCycle;
        int64_t next = kNeverCycle;
        size_t keep = 0;
        for (const auto& c : pending_) {
            if (c.first <= now) {
                credits_flits_ += c.second;
            } else {
                pending_[keep++] = c;
                next = std::min(next, c.first);
            }
        }
        pending_.resize(keep);
        return next;
    }
    // At a tick barrier (nothing left to send): every credit returned, no send pending.
    void reset_for_tick() {
        for (const auto& c : pending_) credits_flits_ += c.second;
        pending_.clear();
        next_inject_ = 0;
    }
    bool can_send(int64_t now) const { return !out_.empty() && next_inject_ <= now && credits_flits_ >= out_.front().flits; }
    // Takes the next packet, stamped as injected at `now`.
    Packet send(int64_t now) {
        Packet p = out_.front();
        out_.pop_front();
        p.injected = now;
        credits_flits_ -= p.flits;
        next_inject_ = now + 1;
        return p;
    }
    // When to run next for the queue's sake (kNeverCycle: nothing to send): the next free encoder cycle when the
    // head has its credits, else the earliest credit already returned (a later credit wakes the owner itself).
    int64_t next_send_cycle(int64_t now, int64_t credit_at) const {
        if (out_.empty()) return kNeverCycle;
        return credits_flits_ >= out_.front().flits ? std::max(next_inject_, now + 1) : credit_at;
    }

private:
    std::deque<Packet> out_;
    int32_t credits_flits_;
    std::vector<std::pair<int64_t, int32_t>> pending_;  // (cycle, flits) returned by the router, not yet usable
    int64_t next_inject_ = 0;
};

}  // namespace neuroemu
