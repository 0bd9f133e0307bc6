// JPEG and PNG through the decoder (data/image_decode.h), as 3 channels and as 1.
#include "common/error.h"
#include "data/image_decode.h"
#include "fuzz/fuzz_target.h"

int neuroemu::fuzz::image(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bytes(data, data + size);
    for (int channels : {3, 1}) {
        try {
            decode_image(bytes, "fuzz.img", channels);
        } catch (const DataError&) {
        }
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(image)
