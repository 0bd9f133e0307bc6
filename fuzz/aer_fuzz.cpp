// AER traces, plain and gzip (hw/aer_trace.h AerReader): the header, then scan() against the mapping the seed
// traces were recorded with (fuzz/seeds/tiny.map), then every image. A DataError or nothing.
#include "common/error.h"
#include "fuzz/fuzz_target.h"
#include "hw/aer_trace.h"
#include "mapping/map_file.h"

int neuroemu::fuzz::aer(const uint8_t* data, size_t size) {
    static const Mapping mapping = load_mapping(NEUROEMU_FUZZ_SEEDS_DIR "/tiny.map");
    const std::string path = temp_file(data, size, ".aer");  // gzread reads plain files as they are
    try {
        AerReader reader(path);
        reader.scan(mapping);
        RecordedImage image;
        while (reader.next_image(image)) {
        }
    } catch (const DataError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(aer)
