// The ROLLS-style core (Qiao et al. 2015; docs/hardware-model.md): an input queue between the router and the
// synapse engine, which integrates one event at a time in ceil(SOPs / chip.core.sops_per_cycle) cycles (at least
// one, the lookup); at its layer's firing the neuron array updates chip.core.neuron_updates_per_cycle neurons per
// cycle, then the AER encoder sends one event per cycle as router credits allow.
#pragma once

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
    void run_cycle(int64_t now) override;

private:
    struct Arrival {
        Packet p;
        int64_t at;
    };
    void integrate(const Packet& p);  // the synapse engine takes event `p`

    const std::vector<int>& input_projection_;  // per input of its layer: SNN projection index, -1 for none
    std::deque<Arrival> queue_;  // events from the router, waiting for the synapse engine
    uint32_t queue_flits_ = 0;   // flits in queue_
    bool engine_busy_ = false;
    int64_t engine_done_ = 0;
    AerEncoder encoder_;
    std::vector<TargetBox> boxes_;
};

}  // namespace neuroemu
