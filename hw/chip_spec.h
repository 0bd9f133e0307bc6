// The `chip` section: the neuromorphic chip the S-ResNet is placed on. Parsed into a plain spec here; the
// mapper and the SystemC model are built from this spec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"

namespace neuroemu {

struct ChipSpec {
    std::string name;
    int64_t neurons_per_core = 256;      // ROLLS: 256 silicon neurons per core
    int64_t synapses_per_core = 131072;  // ROLLS: 256x256 plastic + 256x256 non-plastic synapses
};

std::vector<ParamSpec> chip_params();
ChipSpec chip_spec(const Settings& settings);

// Cores needed to hold `neurons`, counting neurons only (the mapper's fan-in and synapse limits only add).
int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons);

}  // namespace neuroemu
