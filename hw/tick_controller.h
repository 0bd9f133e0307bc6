// The chip's time steps ("ticks"): each runs as a data-flow wave through the mapped layers. A layer fires (its cores
// update their neurons and send) once every source layer has finished sending and every event owed to it has been
// integrated; the tick closes with a global barrier when all layers have sent and all events are integrated. A
// watchdog ends a tick that does not drain within HwOptions::max_tick_cycles.
#pragma once

#include <cstdint>
#include <systemc>
#include <utility>
#include <vector>

#include "hw/aer_trace.h"
#include "hw/chip_model.h"
#include "hw/spike_trace.h"
#include "router/router.h"

namespace neuroemu {

class Chip;

class TickController : public sc_core::sc_module, public CycleAgent {
public:
    SC_HAS_PROCESS(TickController);
    TickController(sc_core::sc_module_name name, Chip& chip);

    // Runs one image's ticks from the engine's spikes or from a recorded AER trace; throws DeadlockError when a
    // tick does not drain.
    void run_image(const SpikeTrace& trace);
    void run_image(const RecordedImage& recorded);

    // Events from the chip's modules (the per-event ones inline: they run for every packet).
    void owe_delivery(int32_t dest_core) {  // a packet injected this tick will be delivered to `dest_core`
        ++expected_[static_cast<size_t>(core_layer_[static_cast<size_t>(dest_core)])];
    }
    void processed(int layer) {  // a core of `layer` integrated one event
        --expected_[static_cast<size_t>(layer)];
        check_ready(layer);
        maybe_end_tick();
    }
    void layer_sent(int layer);            // a core of `layer` sent its last event of the tick
    void source_done(int source);          // a layer (or the host: layers.size()) finished sending
    void host_sent();                      // the host sent its last event of the tick

    void run_cycle(int64_t) override { start_tick(); }
    int64_t step() const { return step_; }  // the engine's step of the tick in progress, 1-based, within its image

private:
    void run(int64_t steps);
    void start_tick();
    void check_ready(int layer) {
        const auto l = static_cast<size_t>(layer);
        if (fired_[l] || sources_pending_[l] > 0 || expected_[l] > 0) return;
        fired_[l] = 1;
        fire_layer(layer);
    }
    void fire_layer(int layer);
    void queue_engine_events(int layer);
    void maybe_end_tick() {
        if (tick_open_ && layers_sent_ >= n_layers_ && !host_sending_) end_tick_if_drained();
    }
    void end_tick_if_drained();
    void record_tick_counts();
    void on_watchdog();
    // The recorded events of sources [first, last) this tick (replay).
    std::pair<const SourcedEvent*, const SourcedEvent*> recorded_events(int32_t first, int32_t last) const;

    Chip& chip_;
    std::vector<int32_t> consumers_offset_, consumers_;  // per layer (host last): layers reading it
    std::vector<int32_t> source_layers_;                 // per layer: distinct sources (host counts)
    std::vector<int32_t> core_layer_;                    // per core: its layer
    int64_t n_layers_ = 0;
    sc_core::sc_event watchdog_;
    int64_t watchdog_tick_ = -1;

    // The image and tick in progress.
    const SpikeTrace* trace_ = nullptr;        // the engine's spikes, or
    const RecordedImage* recorded_ = nullptr;  // the events read back from an AER trace
    int64_t image_steps_ = 0;                  // ticks the image in progress simulates
    int64_t first_image_steps_ = 0;
    int64_t tick_index_ = 0;                   // 1-based, among the image's simulated ticks
    int64_t step_ = 0;                         // the engine's step of that tick (= tick_index_ unless sampled)
    TickCounts counts_at_last_tick_{};         // the counters when the previous tick closed
    int64_t tick_start_ = 0;
    int64_t next_tick_at_ = 0;  // the cycle after the last barrier: every tick starts there (even a new image's)
    std::vector<int32_t> sources_pending_;  // per layer: sources not yet done sending this tick
    std::vector<int64_t> expected_;         // per layer: deliveries not yet processed
    std::vector<int32_t> cores_sending_;    // per layer: cores still injecting
    std::vector<uint8_t> fired_;            // per layer: its cores got their events this tick
    int64_t layers_sent_ = 0;
    bool host_sending_ = false;
    bool stuck_ = false;
    bool tick_open_ = false;  // between start_tick and the barrier
};

}  // namespace neuroemu
