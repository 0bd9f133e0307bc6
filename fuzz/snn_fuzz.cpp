// `.snn` files (model/snn.h load_snn): a ModelError or a model that validates.
#include "common/error.h"
#include "fuzz/fuzz_target.h"
#include "model/snn.h"

int neuroemu::fuzz::snn(const uint8_t* data, size_t size) {
    const std::string path = temp_file(data, size, ".snn");
    try {
        const SnnModel model = load_snn(path);
        validate(model, path);  // the reader's contract: what it returns is valid
    } catch (const ModelError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(snn)
