// The functional engine's spikes carried by the SystemC chip model (`simulate`, `report`, explore's points).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/config.h"
#include "data/idx_dataset.h"
#include "hw/aer_trace.h"
#include "hw/chip_model.h"
#include "hw/sampled_stats.h"
#include "model/snn.h"

namespace neuroemu::experiment {

// The `hardware` section: tick sampling (hw/tick_sample.h).
std::vector<ParamSpec> hardware_params();
// The tick sample of a run with these settings (hardware.sample_ticks, simulation.steps, seed).
TickSamplePlan tick_sample_plan(const Settings& settings);

// Runs test images [0, test.count) through the functional engine and carries their spikes on `chip` (with tick
// sampling, only the sampled ticks of each image), then closes it (ChipModel::finish). Checks that the chip's cores
// performed exactly the engine's synaptic operations of the simulated ticks, projection by projection, and made its
// decisions (InternalError otherwise). With chip.faults that lose events the engine runs fault-aware (`mapping`:
// the chip's, experiment/fault_losses.h) and the chip's losses by cause must equal the engine's. Returns the figures per inference extrapolated to all ticks (exact when every
// tick was simulated).
HwEstimates carry_engine_spikes(ChipModel& chip, const Mapping& mapping, const Settings& settings,
                                const SnnModel& model, const ImageSet& test, int verbosity);

// What carrying the engine's spikes measured: the chip's counters and the figures per inference.
struct HardwareRun {
    HwStats stats;
    HwEstimates estimates;
    // hardware.distribute: chips under mpirun: which rank owns which chips; a multi-chip system (any number of
    // ranks): what the windows of the inter-chip latency exchanged.
    std::string regions;
    SpaceParallelCost cost;
};

// Builds the chip of `mapping` with `options` and carries the test images' spikes on it (carry_engine_spikes).
// Under mpirun with hardware.distribute: ticks (docs/cli.md, "simulate and report under mpirun") the ranks share
// the run's ticks: each runs a contiguous block of them on a chip of its own, rank 0 merges the counters in tick
// order and writes the VCD (options.vcd_path) and AER (options.aer_path) files as one process would, and every rank
// returns the merged result. stats.wall_seconds is then the slowest rank's, stats.cpu_seconds the sum over ranks.
HardwareRun run_engine_on_chip(const Mapping& mapping, const SnnModel& model, const HwOptions& options,
                               const Settings& settings, const ImageSet& test, int verbosity);

// The fault counters of `stats` (chip.faults, docs/hardware-model.md "Faults") for `simulate --json` and the report:
// deliveries owed, delivered intact, detected and dropped, corrupt and undetected (the oracle's count), the
// fraction lost (not integrated), bits flipped on links, events of stuck cores never sent.
nlohmann::json fault_counters_json(const HwStats& stats);
// What faults lost, by cause: `detected_dropped`, `corrupt_undetected`, `stuck_core_events`, `undeliverable` (part of
// fault_counters_json; also the fault-aware functional run's losses in the report).
nlohmann::json fault_losses_json(const FaultCounters& lost);

// The `sampling` object of `simulate --json` and of the report's `ticks` (docs/cli.md): the sample (K of T ticks,
// the strata, the ticks of each image), the totals over all images and `figures` per inference, each with its
// interval ("exact" when every tick was simulated), and the measured maxima, lower bounds when sampled.
// `energy_j` is the chip's energy per inference with its interval, when priced.
nlohmann::json sampling_json(const HwEstimates& estimates, const HwStats& stats, double clock_hz,
                             const std::optional<SampledFigure>& energy_j = std::nullopt);

// What a replay of a recorded AER trace read (`simulate --aer-in`).
struct ReplayInfo {
    std::string file;
    AerSummary trace;     // the whole file
    int64_t images = 0;   // replayed
    int64_t packets = 0;  // records of the replayed images
    bool recorded_tree = true, same_placement = true;
};

// Checks the trace `reader` read against `mapping` (AerReader::scan) and what it was recorded with.
ReplayInfo scan_trace(AerReader& reader, const Mapping& mapping, const std::string& file);

// Replays the first `replay.images` images of the trace on `chip` (each core sends what it sent in the
// recording), counting their packets into `replay`, then closes the chip.
void replay_trace(ChipModel& chip, AerReader& reader, ReplayInfo& replay, int verbosity);

}  // namespace neuroemu::experiment
