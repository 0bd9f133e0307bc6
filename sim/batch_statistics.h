// BatchNorm running statistics measured on data, for the zoo's pseudo-random networks. A trained network's
// BatchNorm layers hold the mean and variance of their inputs over the training data; seeded random weights do
// not, and without them activity dies or explodes within a few of ResNet-50's 53 layers. Setting each BatchNorm's
// statistics to those of its input on a calibration batch, layer by layer in order (each layer sees the already
// calibrated layers before it), makes every BatchNorm output γ·x̂ + β with x̂ of zero mean and unit variance on
// that data, as in a trained network: activity neither dies nor explodes with depth (tests/sim).
#pragma once

#include <cstdint>
#include <vector>

#include "common/config.h"
#include "model/network.h"

namespace neuroemu {

// `net` with every BatchNorm layer's mean and var set to the per-channel mean and (biased) variance of its input
// over `count` inputs laid out [count][C][H][W] in `inputs`. One forward pass, layer by layer.
Network with_batch_statistics(const Network& net, const std::vector<float>& inputs, int64_t count);

// The model of a run (model/model_spec.h load_model); a zoo network gets its BatchNorm statistics from
// model.zoo_statistics_images synthetic images (data/reader/synthetic.cpp) of the experiment's seed, the same
// whatever dataset the run then uses.
Network load_network(const Settings& settings);

std::vector<ParamSpec> batch_statistics_params();

}  // namespace neuroemu
