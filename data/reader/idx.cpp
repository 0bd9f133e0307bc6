// The `idx` reader: {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz in one folder (MNIST, Fashion-MNIST; the
// format itself is read by data/idx_dataset.cpp). The files are small (60,000 28x28 images: 47 MB), so a split
// is read when opened: the first request.max_images images of it.
#include "data/reader/reader.h"

namespace neuroemu {
namespace {

class IdxReader final : public DatasetReader {
public:
    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        const std::string prefix = request.dir + (request.split == Split::Train ? "/train" : "/t10k");
        return std::make_unique<InMemorySource>(
            load_idx(prefix + "-images-idx3-ubyte.gz", prefix + "-labels-idx1-ubyte.gz", request.max_images));
    }
};

}  // namespace

void register_idx(Family<DatasetReader>& family) {
    family.add({"idx", "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, gzip-compressed (MNIST, Fashion-MNIST).",
                {}},
               [](const Settings&) { return std::make_unique<IdxReader>(); });
}

}  // namespace neuroemu
