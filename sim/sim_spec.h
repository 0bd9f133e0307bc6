// The `simulation` section: how the engines run (threads, batching).
#pragma once

#include <vector>

#include "common/config.h"
#include "sim/ann_engine.h"

namespace neuroemu {

std::vector<ParamSpec> simulation_params();
AnnOptions ann_options(const Settings& settings);

}  // namespace neuroemu
