// `.map` files (mapping/map_file.h load_mapping): a DataError or a mapping that validates.
#include "common/error.h"
#include "fuzz/fuzz_target.h"
#include "mapping/map_file.h"

int neuroemu::fuzz::map(const uint8_t* data, size_t size) {
    const std::string path = temp_file(data, size, ".map");
    try {
        const Mapping mapping = load_mapping(path);
        validate_mapping(mapping, path);  // the reader's contract: what it returns is valid
    } catch (const DataError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(map)
