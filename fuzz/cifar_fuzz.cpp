// CIFAR binary batches (data/reader/cifar.h read_cifar): the bytes as one CIFAR-10 file and as one CIFAR-100 file.
#include "common/error.h"
#include "data/reader/cifar.h"
#include "fuzz/fuzz_target.h"

int neuroemu::fuzz::cifar(const uint8_t* data, size_t size) {
    const std::string path = temp_file(data, size, "-cifar.bin");
    const std::string folder = path.substr(0, path.rfind('/'));
    const std::string file = path.substr(path.rfind('/') + 1);
    const neuroemu::CifarFormat formats[] = {{{10}, 0, "cifar-10-batches-bin"},
                                             {{20, 100}, 1, "cifar-100-binary"}};
    for (const auto& format : formats) {
        try {
            read_cifar(folder, {file}, format);
        } catch (const DataError&) {
        }
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(cifar)
