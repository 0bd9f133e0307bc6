// The `model` section: which network to load (an ONNX file or a zoo topology).
#pragma once

#include <vector>

#include "common/config.h"
#include "model/network.h"

namespace neuroemu {

std::vector<ParamSpec> model_params();

// Imports model.onnx or builds model.zoo (seeded by the top-level `seed`). Throws ConfigError when neither or
// both are set, ModelError for a bad model.
Network load_model(const Settings& settings);

}  // namespace neuroemu
