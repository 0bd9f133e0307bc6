// The fault-aware functional run (chip.faults, docs/hardware-model.md "Faults"): which synaptic input events the
// faulty chip loses, decided from the mapping exactly as the chip model decides them, for the spiking engine
// (sim/snn_engine.h, SnnOptions::losses) to leave out. The chip's decisions are pure functions of a packet's
// identity (tick, source core, source unit, destination, router, output: LinkFlips, arch/fault_spec.h) and of the
// static routes (DeliveryLinks, mapping/delivery_links.h), so no chip model runs here.
//
// Lost: a delivery of a source core's event to a destination core whose route crosses a dead router or link
// (undeliverable), every event of a stuck core (never sent), and a delivery with flipped bits (detected and dropped,
// or undetected: the oracle's count; either way not integrated). A spike u reaching neuron n through partial-sum
// unit p (fan-in splitting, docs/mapping.md) on core P is lost when u's delivery to P is lost or p's event of that
// tick to n's core is; p sends only when some input reached it, its packet keyed by its own core and unit.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "arch/fault_spec.h"
#include "hw/chip_model.h"
#include "mapping/delivery_links.h"
#include "mapping/mapping.h"
#include "model/snn.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

class FaultLosses : public InputLosses {
public:
    // Throws ConfigError for a core index outside the mapping, or for what the fault-aware run does not model
    // (spike gates, max pooling before the neuron, recurrent projections) when `faults` can lose events.
    FaultLosses(const Mapping& mapping, const SnnModel& model, const FaultSpec& faults);
    // Another thread's loss state over the same mapping and faults: it shares the routes' links (read only, the
    // large part), and keeps its own tick, scratch and counters.
    FaultLosses(const FaultLosses&) = default;

    // Whether `faults` can lose anything (flips, stuck cores, dead routers or links); slow cores cannot.
    static bool loses(const FaultSpec& faults);
    // The next evaluate() runs one image whose step 1 is global tick `first` (the chip's numbering over the run),
    // `steps` steps; only steps [count_from, count_to] (1-based) count into counters() (the ticks a chip carries).
    void set_image(int64_t first, int64_t steps, int64_t count_from, int64_t count_to) {
        first_tick_ = first, steps_ = steps, count_from_ = count_from, count_to_ = count_to;
    }
    // What was lost in the counted steps, by cause, as the chip counts it (HwStats::faults).
    const FaultCounters& counters() const { return counters_; }

    void begin_step(int64_t image, int64_t step) override;
    void sent(int pop, const SpikeEvent* events, size_t n) override;
    int64_t lost(int projection, const SpikeEvent& s, std::vector<SpikeEvent>& targets) override;
    void end_step() override;

private:
    struct Target {                      // a map layer reading a projection
        int layer = -1;                  // the neuron (or readout) layer, or a partial-sum layer
        const UnitInput* input = nullptr;
        int neuron_layer = -1;           // partial-sum layer: the layer it sums into; -1: direct
    };
    // Whether the delivery over route r (index into Mapping::routes.dest) of source s's event (c, y, x) is lost.
    bool delivery_lost(int32_t s, size_t r, int32_t c, int32_t y, int32_t x) const;
    uint64_t flips(int32_t s, size_t r, int32_t c, int32_t y, int32_t x) const;
    // Counts the deliveries of one event by fate, as the chip does (Chip::enqueue_spike, RollsCore).
    void count_event(int32_t s, int32_t c, int32_t y, int32_t x);
    // The route from source s to core d (InternalError when there is none).
    size_t route_to(int32_t s, int32_t d) const;
    int64_t lost_direct(const Target& t, int32_t src, int source_layer, const SpikeEvent& s, std::vector<SpikeEvent>& out);
    int64_t lost_partial(const Target& t, int32_t src, int source_layer, const SpikeEvent& s, std::vector<SpikeEvent>& out);
    // Whether partial-sum unit (c, y, x) of core kp loses its event of this tick to its neuron's core: decided once
    // per unit and tick (every input spike reaching the unit asks).
    bool partial_event_lost(int32_t kp, const MapLayer& neuron, int32_t c, int32_t y, int32_t x);
    int32_t source_core(int source_layer, const SpikeEvent& s) const;
    void check_modelled() const;

    const Mapping& mapping_;
    const SnnModel& model_;
    std::shared_ptr<const DeliveryLinks> routes_;
    LinkFlips flips_;
    FaultCheck check_;
    bool tree_ = true;
    std::vector<uint8_t> stuck_;                // per core
    std::vector<int> layer_of_pop_;             // per population: the layer sending its spikes (kHostSource: pop 0)
    std::vector<int> source_layer_;             // per projection: the map layer of its source
    std::vector<std::vector<Target>> targets_;  // per projection
    std::vector<std::vector<uint8_t>> touched_; // per core (partial-sum cores only): positions reached this tick
    std::vector<int32_t> touched_cores_;        // partial-sum cores reached this tick
    std::vector<uint8_t> listed_;               // per core: in touched_cores_
    // Per core (partial-sum cores only), per unit (channel-major): (tick + 1) << 1 | lost, for the tick it was decided.
    std::vector<std::vector<uint64_t>> unit_fate_;
    std::vector<TargetBox> boxes_;
    int64_t first_tick_ = 0, steps_ = 1, count_from_ = 1, count_to_ = INT64_MAX, step_ = 0;
    bool counting() const { return step_ >= count_from_ && step_ <= count_to_; }
    uint64_t tick_ = 0;
    FaultCounters counters_;
};

}  // namespace neuroemu::experiment
