// Built-in ResNet topologies with seeded pseudo-random weights, for mapping and design-space studies at full
// scale without trained weights.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/network.h"

namespace neuroemu {

struct ZooSpec {
    std::string arch;                  // one of zoo_architectures()
    std::vector<int64_t> input_chw;    // e.g. {3, 224, 224}
    int64_t classes = 10;
    uint64_t seed = 1;
};

// torchvision: resnet18/34/50/101/152. He et al. 2016 CIFAR-style (3x3 stem, stages of 16/32/64 channels,
// 1x1 conv + BN projection shortcuts): resnet8/20/32/44/56/110 and the same depths without shortcuts, plainN.
const std::vector<std::string>& zoo_architectures();

// Throws ModelError for an unknown architecture or an input too small for it.
Network build_zoo(const ZooSpec& spec);

}  // namespace neuroemu
