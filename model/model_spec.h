// The `model` section: which network to load (an ONNX file, a zoo topology, or a NIR spiking network).
#pragma once

#include <vector>

#include "common/config.h"
#include "model/network.h"

namespace neuroemu {

std::vector<ParamSpec> model_params();

// Whether the settings' model is a NIR spiking network (model.nir; experiment/model_run.h imports it). Throws
// ConfigError unless exactly one of model.onnx, model.zoo and model.nir is set.
bool nir_model(const Settings& settings);

// Imports model.onnx or builds model.zoo (seeded by the top-level `seed`). Throws ConfigError unless exactly
// one is set, or for model.nir (a spiking network has no ANN), ModelError for a bad model.
Network load_model(const Settings& settings);

}  // namespace neuroemu
