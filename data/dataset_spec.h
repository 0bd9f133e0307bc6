// The `dataset` section: where the images come from and how pixels become network input.
#pragma once

#include <memory>
#include <vector>

#include "common/config.h"
#include "data/idx_dataset.h"
#include "data/reader/reader.h"

namespace neuroemu {

std::vector<ParamSpec> dataset_params();

// Opens a split with the reader dataset.format names; `model_input` is the model's input shape (synthetic
// input is generated in it). Throws DataError for bad files.
std::unique_ptr<ImageSource> open_dataset(const Settings& settings, Split split,
                                          const std::vector<int64_t>& model_input = {}, int64_t max_images = 0);

// Loads the first `max_images` (0 = all) images of a split into memory.
ImageSet load_dataset(const Settings& settings, Split split, int64_t max_images,
                      const std::vector<int64_t>& model_input = {});

// Checks mean/std against the image channels and returns them.
InputNormalisation input_normalisation(const Settings& settings, int64_t channels);

}  // namespace neuroemu
