// The `dataset` section: where the images come from and how pixels become network input.
#pragma once

#include <vector>

#include "common/config.h"
#include "data/idx_dataset.h"
#include "data/reader/reader.h"

namespace neuroemu {

std::vector<ParamSpec> dataset_params();

// Loads the first `max_images` (0 = all) images of a split. Throws ConfigError for mean/std lists that do not
// fit, DataError for bad files.
ImageSet load_dataset(const Settings& settings, Split split, int64_t max_images);

// Checks mean/std against the image channels and returns them.
InputNormalisation input_normalisation(const Settings& settings, int64_t channels);

}  // namespace neuroemu
