// The functional engine's spikes carried by the SystemC chip model (`simulate`, `report`, explore's points).
#pragma once

#include "common/config.h"
#include "data/idx_dataset.h"
#include "hw/aer_trace.h"
#include "hw/chip_model.h"
#include "model/snn.h"

namespace neuroemu::experiment {

// Runs test images [0, test.count) through the functional engine and carries their spikes on `chip`, then closes
// it (ChipModel::finish). Checks that the chip's cores performed exactly the engine's synaptic operations,
// projection by projection, and made its decisions (InternalError otherwise).
void carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                         int verbosity);

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
