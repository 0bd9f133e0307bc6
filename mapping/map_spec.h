// The `mapping` section: how `neuroemu map` partitions, places and estimates traffic.
#pragma once

#include <vector>

#include "common/config.h"
#include "mapping/mapping.h"

namespace neuroemu {

std::vector<ParamSpec> mapping_params();
MapOptions map_options(const Settings& settings);

}  // namespace neuroemu
