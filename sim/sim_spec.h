// The `simulation` section: how the engines run (threads, batching, time steps, input encoding).
#pragma once

#include <vector>

#include "common/config.h"
#include "sim/ann_engine.h"
#include "sim/snn_engine.h"

namespace neuroemu {

std::vector<ParamSpec> simulation_params();
AnnOptions ann_options(const Settings& settings);
SnnOptions snn_options(const Settings& settings);

// Steps at which the accuracy table is printed: simulation.checkpoints, or powers of two up to T, and T.
std::vector<int64_t> accuracy_checkpoints(const Settings& settings, int64_t steps);

}  // namespace neuroemu
