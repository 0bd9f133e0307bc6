// The functional engine's spikes carried by the SystemC chip model (`simulate`, `report`, explore's points).
#pragma once

#include "common/config.h"
#include "data/idx_dataset.h"
#include "hw/chip_model.h"
#include "model/snn.h"

namespace neuroemu::experiment {

// Runs test images [0, test.count) through the functional engine and carries their spikes on `chip`, then closes
// it (ChipModel::finish). Checks that the chip's cores performed exactly the engine's synaptic operations,
// projection by projection, and made its decisions (InternalError otherwise).
void carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                         int verbosity);

}  // namespace neuroemu::experiment
