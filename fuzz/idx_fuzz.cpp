// IDX images and labels (data/idx_dataset.h load_idx): a little-endian u32 n, then n bytes of the images file,
// then the labels file.
#include <algorithm>

#include "common/error.h"
#include "data/idx_dataset.h"
#include "fuzz/fuzz_target.h"

int neuroemu::fuzz::idx(const uint8_t* data, size_t size) {
    if (size < 4) return 0;
    uint32_t n = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
    n = static_cast<uint32_t>(std::min<size_t>(n, size - 4));
    const std::string images = temp_file(data + 4, n, "-images.idx");
    const std::string labels = temp_file(data + 4 + n, size - 4 - n, "-labels.idx");
    try {
        load_idx(images, labels);
    } catch (const DataError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(idx)
