// ONNX importer on arbitrary bytes (model/onnx_import.h): a ModelError or nothing.
#include "common/error.h"
#include "fuzz/fuzz_target.h"
#include "model/onnx_import.h"

int neuroemu::fuzz::onnx(const uint8_t* data, size_t size) {
    try {
        import_onnx_bytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx");
    } catch (const ModelError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(onnx)
