// The ROLLS-style core (Qiao et al. 2015; docs/hardware-model.md): an input queue between the router and the
// synapse engine, which integrates one event at a time in ceil(SOPs / chip.core.sops_per_cycle) cycles (at least
// one, the lookup); at its layer's firing the neuron array updates chip.core.neuron_updates_per_cycle neurons per
// cycle, then the AER encoder sends one event per cycle as router credits allow.
#pragma once

#include <algorithm>
#include <deque>
#include <vector>

#include "hw/aer_encoder.h"
#include "hw/core_model.h"

namespace neuroemu {

class RollsCore : public CoreModel {
public:
    RollsCore(Chip& chip, int32_t index, Router& router);

    void accept(const Packet& p, int64_t at) override;
    void credit(int flits, int64_t at) override;
    bool fire(int64_t now) override;
    std::deque<Packet>& outbox() override { return encoder_.outbox(); }
    void reset_for_tick() override;
    void run_cycle(int64_t now) override;

private:
    struct Arrival {
        Packet p;
        int64_t at;
    };
    void integrate(const Packet& p);  // the synapse engine takes event `p`

    const std::vector<int>& input_projection_;  // per input of its layer: SNN projection index, -1 for none
    int64_t updates_per_fire_ = 0;              // units x the neuron model's state variables
    // A FIFO in one growing ring: no allocation per event (a std::deque allocates and frees a block every few).
    class ArrivalQueue {
    public:
        bool empty() const { return size_ == 0; }
        const Arrival& front() const { return ring_[head_]; }
        void push_back(const Arrival& a) {
            if (size_ == ring_.size()) grow();
            const size_t k = head_ + size_;
            ring_[k >= ring_.size() ? k - ring_.size() : k] = a;
            ++size_;
        }
        void pop_front() {
            if (++head_ == ring_.size()) head_ = 0;
            --size_;
        }

    private:
        void grow() {
            std::vector<Arrival> bigger(std::max<size_t>(4, 2 * ring_.size()));
            for (size_t k = 0; k < size_; ++k) bigger[k] = ring_[(head_ + k) % ring_.size()];
            ring_.swap(bigger);
            head_ = 0;
        }
        std::vector<Arrival> ring_;
        size_t head_ = 0, size_ = 0;
    };
    ArrivalQueue queue_;  // events from the router, waiting for the synapse engine
    uint32_t queue_flits_ = 0;   // flits in queue_
    bool engine_busy_ = false;
    int64_t engine_done_ = 0;
    AerEncoder encoder_;
    std::vector<TargetBox> boxes_;
};

}  // namespace neuroemu
