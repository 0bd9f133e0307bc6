// Dataset readers: the family `dataset_reader` (one implementation per file in this folder, chosen by
// `dataset.format`). A reader opens one split of a dataset as an ImageSource: its size and image shape are known
// up front, images are decoded on demand, so a 50,000-image validation set never sits in memory at once
// (data/image_stream.h reads a source ahead in bounded chunks).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"
#include "data/idx_dataset.h"

namespace neuroemu {

enum class Split { Train, Test };

// One opened split.
class ImageSource {
public:
    virtual ~ImageSource() = default;
    virtual int64_t count() const = 0;  // images in the split (after documented skips)
    virtual int64_t channels() const = 0;
    virtual int64_t height() const = 0;
    virtual int64_t width() const = 0;
    // Images [first, first + n) in order, decoded and preprocessed to channels x height x width uint8 pixels, with
    // ImageSet::first = first (requires 0 <= first, first + n <= count()). May decode in parallel; safe to call from one thread at a
    // time. Throws DataError naming the file for an image that cannot be decoded.
    virtual ImageSet read(int64_t first, int64_t n) const = 0;
    // False when labels mean nothing (synthetic input): accuracy is then reported as not meaningful.
    virtual bool labelled() const { return true; }
    // Files skipped while opening, with why (documented, counted skips; empty when none).
    virtual std::vector<std::string> skipped() const { return {}; }
};

// What a reader opens: the folder, the split, and the input shape the model expects ([channels, height, width];
// readers that generate images use it, readers that preprocess to a fixed size may check it).
struct DatasetRequest {
    std::string dir;
    Split split = Split::Test;
    std::vector<int64_t> model_input;  // empty when unknown
    int64_t max_images = 0;            // images the caller will read at most (0 = all): a reader may read fewer
};

class DatasetReader {
public:
    virtual ~DatasetReader() = default;
    virtual std::unique_ptr<ImageSource> open(const DatasetRequest& request) const = 0;
};

Family<DatasetReader>& dataset_readers();
inline const char* const kDefaultDatasetReader = "idx";

// An ImageSource over an ImageSet already in memory (IDX files, tests).
class InMemorySource final : public ImageSource {
public:
    explicit InMemorySource(ImageSet set) : set_(std::move(set)) {}
    int64_t count() const override { return set_.count; }
    int64_t channels() const override { return set_.channels; }
    int64_t height() const override { return set_.height; }
    int64_t width() const override { return set_.width; }
    ImageSet read(int64_t first, int64_t n) const override { return set_.slice(first, n); }
    bool labelled() const override { return set_.labelled; }

private:
    ImageSet set_;
};

}  // namespace neuroemu
