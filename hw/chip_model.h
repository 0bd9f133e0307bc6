// The SystemC hardware model of a mapped chip (docs/hardware-model.md): cores with event queues, synaptic-operation
// engines and AER encoders; input-buffered mesh routers with XY routing, multicast forks, round-robin arbitration
// and credit back-pressure; a tick controller that runs each time step as a data-flow wave through the layers and
// closes it with a global barrier. Event-driven: a module runs only when a packet, a credit or a timer concerns it.
//
// The spikes come from the functional engine (SpikeObserver): the barrier makes timing invisible to them, so the
// chip carries exactly the engine's spikes and the model measures what carrying them costs.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/fault_spec.h"
#include "hw/aer_trace.h"
#include "hw/spike_trace.h"
#include "hw/vcd_trace.h"
#include "mapping/mapping.h"
#include "router/router.h"
#include "sim/snn_engine.h"

namespace neuroemu {

class Chip;

struct HwOptions {
    FaultSpec faults;                     // chip.faults (none by default; docs/hardware-model.md "Faults")
    std::string core_model = "rolls";    // the core model, by name (hw/core_model.h: core_models())
    int64_t max_tick_cycles = 100000000;  // a tick that has not drained by then is reported as stuck
    std::string vcd_path;                 // VCD trace file ("" = none; hw/vcd_trace.h)
    std::optional<std::vector<int32_t>> vcd_cores;    // traced cores (default: the first 16)
    std::optional<std::vector<int32_t>> vcd_routers;  // traced routers, y * width + x (default: the traced cores')
    TickWindow vcd_window;                // traced ticks (default: the first image)
    std::string aer_path;                 // AER packet trace to write ("" = none; hw/aer_trace.h)
    // hardware.distribute = chips under mpirun: the ranks own whole chips of a multi-chip system and run them
    // together (docs/hardware-model.md, "Space-parallel chip"); every rank builds the same ChipModel.
    bool space_parallel = false;
    // A part of a time-parallel run (experiment/hardware_run.h): the global number of this chip's first tick (for
    // the VCD window, the VCD tick variable and AER records), and the ticks of the run's first image (the default
    // VCD window; 0: the first image this chip runs).
    int64_t first_tick = 0;
    int64_t first_image_ticks = 0;
    // Keep the AER records in memory (ChipModel::aer_records) instead of writing aer_path.
    bool aer_in_memory = false;
};

// The additive counters recorded per simulated tick (HwStats::tick_counts), for tick sampling's estimates.
enum TickCounter : size_t {
    kTickCycles, kTickPackets, kTickDeliveries, kTickHops, kTickFlitHops, kTickInterChipHops, kTickBufferWrites,
    kTickStallCycles, kTickSops, kTickPartialSumSops, kTickNeuronUpdates, kTickEvents, kTickLatencySum,
    kTickArrivals,  // arrivals at destination cores, corrupt ones too (each verifies the packet's check)
    kTickCounters
};
// Their names as in `simulate --json` (counters, cycles.total, packet_latency_cycles.sum).
const char* tick_counter_name(size_t counter);
using TickCounts = std::array<int64_t, kTickCounters>;

// What the faults did (chip.faults). Conservation: the deliveries owed by the injected packets (the sum of
// HwStats::core_packets_expected) = packets_delivered + deliveries_detected + deliveries_undetected.
struct FaultCounters {
    int64_t deliveries_detected = 0;    // arrived with flipped bits that the check detected: dropped
    int64_t deliveries_undetected = 0;  // arrived with flipped bits the check missed: the oracle's count, not integrated
    int64_t events_stuck = 0;           // events of stuck cores, never sent
    // Deliveries whose route crosses a dead router or link: never sent to that core, never owed (so not in the
    // conservation sum above), counted here per event of the source.
    int64_t deliveries_undeliverable = 0;
    FaultCounters& operator+=(const FaultCounters& o) {
        deliveries_undeliverable += o.deliveries_undeliverable;
        deliveries_detected += o.deliveries_detected, deliveries_undetected += o.deliveries_undetected;
        events_stuck += o.events_stuck;
        return *this;
    }
};

// Counters of a run (totals over all images and simulated ticks unless said otherwise).
struct HwStats {
    int64_t images = 0, ticks = 0;
    int64_t cycles = 0;                      // all ticks
    std::vector<int64_t> tick_cycles;        // per tick, in order (all images)
    int64_t max_tick_cycles = 0;
    int64_t packets_injected = 0;            // into the mesh (host included)
    int64_t packets_delivered = 0;           // arrivals at destination cores (a multicast counts per core), intact
    int64_t sops = 0;                        // synaptic operations of SNN projections in the cores
    int64_t partial_sum_sops = 0;            // operations on partial-sum links and spike-gate counters
    int64_t neuron_updates = 0;              // state variables updated at tick ends (neurons x the model's)
    // SOPs of recurrent projections' events sent in an image's last step: the barrier drains them (in `sops`,
    // `core_sops`) but the engine never integrates them, so `sops_by_projection_index` leaves them out.
    int64_t recurrent_drained_sops = 0;
    int64_t events_generated = 0;            // AER events of cores and host (spikes, partial sums, currents)
    int64_t packet_latency_sum_cycles = 0, packet_latency_max_cycles = 0;  // injection to delivery, over deliveries
    std::vector<int64_t> core_sops;          // per core
    std::vector<int64_t> core_packets_expected;   // per core: deliveries owed to it by the packets injected
    std::vector<int64_t> core_packets_delivered;  // per core: packets it received, corrupt ones too (= expected when done)
    FaultCounters faults;                    // chip.faults
    // chip.faults.dead_*: the (source, destination core) pairs that cannot be reached, source = cores.size() for the
    // host; the same on every rank and part of a run.
    std::vector<std::pair<int32_t, int32_t>> undeliverable_routes;
    NocCounters noc;                         // hops, buffer writes, stalls, per-router and per-link loads
    std::vector<int64_t> sops_by_projection_index;  // by SNN projection index (engine order), as the engine counts
    std::vector<int64_t> correct_at_step;    // images classified right after step t (the engine's decision)
    std::vector<int64_t> tick_steps;         // per simulated tick, in order: its step within its image (1-based)
    std::vector<TickCounts> tick_counts;     // per simulated tick: what it added to each TickCounter
    double wall_seconds = 0;                 // wall time of the hardware simulation
    double cpu_seconds = 0;                  // CPU time of the thread that ran it (its cost on a shared machine)
};

// A tick that could not drain: which routers still hold packets.
class DeadlockError : public Error {
public:
    using Error::Error;
};

struct ChipRegions;

// What the space-parallel run exchanged (all ranks together): windows of the inter-chip latency, and the bytes and
// messages sent between ranks (bench/mpi_space.sh).
struct SpaceParallelCost {
    int64_t windows = 0, bytes = 0, messages = 0;
};

class ChipModel {
public:
    // The model of `mapping` for `snn` (the model the mapping was made from: populations matched by index).
    ChipModel(const Mapping& mapping, const SnnModel& snn, const HwOptions& options);
    ~ChipModel();
    ChipModel(const ChipModel&) = delete;
    ChipModel& operator=(const ChipModel&) = delete;

    // Runs one image's ticks on the chip; may be called repeatedly (SystemC time continues).
    void run(const SpikeTrace& trace);
    // Runs one image's ticks with the events read back from an AER trace (AerReader::next_image) instead of the
    // engine's spikes: each core sends what it sent when the trace was recorded. No classification
    // (stats().correct_at_step stays as it was). Images must be replayed in order on a fresh chip to reproduce
    // the recorded timing.
    void replay(const RecordedImage& image);
    // Closes the VCD file and ends the AER trace; the stats stay readable. Throws DataError when a file cannot
    // be written.
    void finish();
    const HwStats& stats() const;
    // Forgets the per-tick records (tick_cycles, tick_steps, tick_counts) and the running maximum packet latency, so
    // that a chip run tick after tick for as long as `neuroemu serve` runs does not grow: after the next run(),
    // tick_counts holds its ticks only and packet_latency_max_cycles their maximum. Totals are kept.
    void clear_tick_history();
    // Multi-chip systems: which rank owns which chips; the exchange's cost (a collective: every rank calls it).
    const ChipRegions& regions() const;
    SpaceParallelCost space_parallel_cost() const;
    // The records of every packet injected, when HwOptions::aer_in_memory (cycles from this chip's start).
    const std::vector<AerRecord>& aer_records() const;

    // Cycles for a packet of `flits` flits to go `hops` links at zero load, from entering the source router to
    // its tail entering the destination core (docs/hardware-model.md).
    static int64_t zero_load_latency(const ChipSpec& chip, int64_t hops, int64_t flits, int64_t inter_chip_hops = 0);

private:
    std::unique_ptr<Chip> chip_;
};

}  // namespace neuroemu
