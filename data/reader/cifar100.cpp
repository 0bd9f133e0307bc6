// The `cifar100` reader: CIFAR-100's binary version, train.bin (Train) and test.bin (Test), in dataset.path or
// its cifar-100-binary/ (as the tarball unpacks). Each record carries a coarse (20 superclasses) and a fine
// (100 classes) label; dataset.cifar100_labels chooses.
#include "data/reader/cifar.h"
#include "data/reader/reader.h"

namespace neuroemu {
namespace {

class Cifar100Reader final : public DatasetReader {
public:
    explicit Cifar100Reader(bool fine) : fine_(fine) {}
    std::unique_ptr<ImageSource> open(const DatasetRequest& request) const override {
        const CifarFormat format{{20, 100}, fine_ ? 1 : 0, "cifar-100-binary"};
        return std::make_unique<InMemorySource>(read_cifar(
            cifar_folder(request.dir, format), {request.split == Split::Train ? "train.bin" : "test.bin"}, format));
    }

private:
    bool fine_;
};

}  // namespace

void register_cifar100(Family<DatasetReader>& family) {
    family.add({"cifar100",
                "CIFAR-100 binary: train.bin, test.bin, in dataset.path or its cifar-100-binary/.",
                {ParamSpec("dataset.cifar100_labels", ParamKind::Enum, "fine", "",
                           "cifar100: which label of a record is the class: fine (100 classes) or coarse (20 "
                           "superclasses).")
                     .one_of({"fine", "coarse"})}},
               [](const Settings& s) {
                   return std::make_unique<Cifar100Reader>(s.get_string("dataset.cifar100_labels") == "fine");
               });
}

}  // namespace neuroemu
