// The `cifar10` reader: CIFAR-10's binary version, data_batch_1.bin .. data_batch_5.bin (Train, in that order)
// and test_batch.bin (Test), in dataset.path or its cifar-10-batches-bin/ (as the tarball unpacks).
#include "data/reader/cifar.h"
#include "data/reader/reader.h"

namespace neuroemu {
namespace {

class Cifar10Reader final : public DatasetReader {
public:
    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        const CifarFormat format{{10}, 0, "cifar-10-batches-bin"};
        const std::vector<std::string> files =
            request.split == Split::Train
                ? std::vector<std::string>{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                           "data_batch_4.bin", "data_batch_5.bin"}
                : std::vector<std::string>{"test_batch.bin"};
        return std::make_unique<InMemorySource>(read_cifar(cifar_folder(request.dir, format), files, format));
    }
};

}  // namespace

void register_cifar10(Family<DatasetReader>& family) {
    family.add({"cifar10",
                "CIFAR-10 binary: data_batch_{1..5}.bin (train), test_batch.bin (test), in dataset.path or its "
                "cifar-10-batches-bin/.",
                {}},
               [](const Settings&) { return std::make_unique<Cifar10Reader>(); });
}

}  // namespace neuroemu
