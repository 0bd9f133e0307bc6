// The chip's time steps ("ticks"): each runs as a data-flow wave through the mapped layers. A layer fires (its cores
// update their neurons and send) once every source layer has finished sending and every event owed to it has been
// integrated; the tick closes with a global barrier when all layers have sent and all events are integrated. A
// watchdog ends a tick that does not drain within HwOptions::max_tick_cycles.
#pragma once

#include <cstdint>
#include <algorithm>
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

    // Events from the chip's modules (the per-event ones inline: they run for every packet). Each chip of a
    // multi-chip system has its own view (docs/hardware-model.md, "Space-parallel chip"): events of its own
    // chip at once, those of other chips through messages L cycles later. With one chip, c = 0 throughout.
    void owe_delivery(int32_t dest_core) {  // a packet injected on the core's chip will be delivered to it
        const auto k = static_cast<size_t>(dest_core);
        ++expected_[at(chip_of_core_[k], core_layer_[k])];
    }
    void owe_remote(int32_t chip, int32_t layer, int32_t deliveries) {  // another chip's packets, seen now
        expected_[at(chip, layer)] += deliveries;
    }
    void processed(int32_t core) {  // `core` integrated one event
        const auto k = static_cast<size_t>(core);
        const int32_t c = chip_of_core_[k];
        --expected_[at(c, core_layer_[k])];
        check_ready(c, core_layer_[k]);
        activity();
        maybe_end_tick();
    }
    void layer_sent(int32_t core);         // `core` sent its last event of the tick
    void source_done(int32_t chip, int source);  // in `chip`'s view, a layer (or the host: layers.size()) is done
    void host_sent();                      // the host sent its last event of the tick

    void run_cycle(int64_t) override { start_tick(); }
    int64_t step() const { return step_; }  // the engine's step of the tick in progress, 1-based, within its image
    // The tick in progress is the image's last engine step (recurrent events sent now are never integrated).
    bool in_last_step() const { return step_ == engine_steps_; }

private:
    void run(int64_t steps);
    void run_windows();
    void start_tick();
    size_t at(int32_t chip, int32_t layer) const {
        return static_cast<size_t>(chip) * static_cast<size_t>(n_layers_) + static_cast<size_t>(layer);
    }
    void check_ready(int32_t chip, int32_t layer) {
        const size_t i = at(chip, layer);
        if (fired_[i] || sources_pending_[i] > 0 || expected_[i] > 0 || !hosted_[i]) return;
        fired_[i] = 1;
        fire_layer(chip, layer);
    }
    void fire_layer(int32_t chip, int32_t layer);
    void queue_engine_events(int32_t chip, int32_t layer);
    void layer_done(int32_t chip, int32_t layer);  // a core of `layer` on `chip` finished sending
    void source_finished(int32_t chip, int source);  // tells every chip reading `source` (its own at once)
    void activity() {
        if (multi_chip_) note_activity();
    }
    void note_activity();
    // One chip: the tick ends at the event that drains it. Several: at a window's end (run_windows).
    void maybe_end_tick() {
        if (!multi_chip_ && tick_open_ && layers_sent_[0] >= layers_on_[0] && !host_sending_) end_tick_if_drained();
    }
    void end_tick_if_drained();
    bool my_chips_drained() const;
    void close_tick(int64_t end);
    void record_tick_counts();
    void on_watchdog();
    // The recorded events of sources [first, last) this tick (replay).
    std::pair<const SourcedEvent*, const SourcedEvent*> recorded_events(int32_t first, int32_t last) const;

    Chip& chip_;
    std::vector<int32_t> consumers_offset_, consumers_;  // per layer (host last): layers reading it
    std::vector<std::vector<int32_t>> reader_chips_;      // per layer (host last): chips with cores reading it
    std::vector<int32_t> sources_per_chip_;              // per (chip, layer): sources to wait for (a layer on k chips: k)
    std::vector<int32_t> core_layer_, chip_of_core_;     // per core: its layer, its chip
    std::vector<uint8_t> hosted_;                        // per (chip, layer): the chip has cores of the layer
    std::vector<int32_t> layers_on_;                     // per chip: layers with cores on it
    int64_t n_layers_ = 0;
    bool multi_chip_ = false;
    sc_core::sc_event watchdog_;
    int64_t watchdog_tick_ = -1;

    // The image and tick in progress.
    const SpikeTrace* trace_ = nullptr;        // the engine's spikes, or
    const RecordedImage* recorded_ = nullptr;  // the events read back from an AER trace
    int64_t image_steps_ = 0;                  // ticks the image in progress simulates
    int64_t engine_steps_ = 0;                 // the engine's steps of the image (T; image_steps_ when sampled: fewer)
    int64_t first_image_steps_ = 0;
    int64_t tick_index_ = 0;                   // 1-based, among the image's simulated ticks
    int64_t step_ = 0;                         // the engine's step of that tick (= tick_index_ unless sampled)
    TickCounts counts_at_last_tick_{};         // the counters when the previous tick closed
    int64_t tick_start_ = 0;
    int64_t last_activity_ = 0;  // several chips: the last cycle a core or the host did tick work here
    int64_t next_tick_at_ = 0;  // the cycle after the last barrier: every tick starts there (even a new image's)
    std::vector<int32_t> sources_pending_;  // per (chip, layer): sources not yet done sending this tick
    std::vector<int64_t> expected_;         // per (chip, layer): deliveries not yet processed
    std::vector<int32_t> cores_sending_;    // per (chip, layer): cores still injecting
    std::vector<uint8_t> fired_;            // per (chip, layer): its cores got their events this tick
    std::vector<int64_t> layers_sent_;      // per chip: layers whose cores there have sent
    bool host_sending_ = false;
    bool stuck_ = false;
    bool tick_open_ = false;  // between start_tick and the barrier
};

}  // namespace neuroemu
