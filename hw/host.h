// The host: injects the input events (constant-current pixels once per image, or Poisson spikes every step) into
// the mesh at the mapping's host router.
#pragma once

#include <cstdint>

#include "hw/aer_encoder.h"
#include "router/router.h"

namespace neuroemu {

class Chip;

class Host : public CycleAgent {
public:
    Host(Chip& chip, Router& router);
    void credit(int flits, int64_t at);
    // Sends this tick's events from cycle `at` on; returns false when there are none.
    bool start_sending(int64_t at);
    AerEncoder& encoder() { return encoder_; }
    // At a tick barrier: every credit returned, no send pending.
    void reset_for_tick() { encoder_.reset_for_tick(); }
    void run_cycle(int64_t now) override;

private:
    Chip& chip_;
    Router& router_;
    AerEncoder encoder_;
};

}  // namespace neuroemu
