// Image classification data in IDX format (MNIST, Fashion-MNIST), gzip-compressed or plain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuroemu {

struct ImageSet {
    int64_t count = 0;
    int64_t channels = 1, height = 0, width = 0;
    std::vector<uint8_t> pixels;  // count x channels x height x width, row-major
    std::vector<int32_t> labels;  // count: class indices
    bool labelled = true;         // false: the labels mean nothing (synthetic input), accuracy is not meaningful
    int64_t first = 0;            // the first image's index in its dataset (Poisson input is seeded by it)

    int64_t image_size() const { return channels * height * width; }
    // Images [first, first + n) as a set of their own.
    ImageSet slice(int64_t first, int64_t n) const;
};

// Reads at most `max_images` (0 = all) images and their labels. Throws DataError naming the file for a
// missing, truncated or malformed file, or when the two files disagree.
ImageSet load_idx(const std::string& images_path, const std::string& labels_path, int64_t max_images = 0);

// Network input for image `index`: pixel/255, then (x - mean[c]) / std[c] when mean/std are given (one value
// for all channels, or one per channel).
struct InputNormalisation {
    std::vector<double> mean, std;
};
void image_to_input(const ImageSet& set, int64_t index, const InputNormalisation& norm, float* out);

}  // namespace neuroemu
