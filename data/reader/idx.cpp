// The `idx` reader: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz in one folder (MNIST, Fashion-MNIST; the
// format itself is read by data/idx_dataset.cpp).
#include "data/reader/reader.h"

namespace neuroemu {
namespace {

class IdxReader final : public DatasetReader {
public:
    ImageSet read(const std::string& dir, Split split, int64_t max_images) const override {
        const std::string prefix = dir + (split == Split::Train ? "/train" : "/t10k");
        return load_idx(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", max_images);
    }
};

}  // namespace

void register_idx(Family<DatasetReader>& family) {
    family.add({"idx", "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, gzip-compressed (MNIST, Fashion-MNIST).",
                {}},
               [](const Settings&) { return std::make_unique<IdxReader>(); });
}

}  // namespace neuroemu
