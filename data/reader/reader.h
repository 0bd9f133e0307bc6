// Dataset readers: the family `dataset_reader` (one implementation per file in this folder), each turning a
// dataset folder into an ImageSet. Today IDX (MNIST, Fashion-MNIST); image folders come next, with the key that
// chooses between them.
#pragma once

#include <cstdint>
#include <string>

#include "common/registry.h"
#include "data/idx_dataset.h"

namespace neuroemu {

enum class Split { Train, Test };

class DatasetReader {
public:
    virtual ~DatasetReader() = default;
    // The first `max_images` (0 = all) images of `split` in folder `dir`. Throws DataError naming the file.
    virtual ImageSet read(const std::string& dir, Split split, int64_t max_images) const = 0;
};

Family<DatasetReader>& dataset_readers();
inline const char* const kDefaultDatasetReader = "idx";

}  // namespace neuroemu
