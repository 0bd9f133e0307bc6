// One libFuzzer target per parser (issue 20): each fuzz/<parser>_fuzz.cpp defines neuroemu::fuzz::<parser>(), which
// feeds the bytes to the parser's public entry point and swallows the project's documented error types
// (ConfigError, ModelError, DataError); anything else escapes and is a finding. The same functions, compiled with
// g++, replay the crash reproducers in tests/data/fuzz/<parser>/ in the ordinary test suite
// (tests/fuzz/replay_test.cpp); NEUROEMU_LIBFUZZER (the NEUROEMU_FUZZ=ON build) adds the LLVMFuzzerTestOneInput.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace neuroemu::fuzz {

int onnx(const uint8_t* data, size_t size);
int snn(const uint8_t* data, size_t size);
int map(const uint8_t* data, size_t size);
int nir(const uint8_t* data, size_t size);
int config(const uint8_t* data, size_t size);
int idx(const uint8_t* data, size_t size);
int cifar(const uint8_t* data, size_t size);
int image(const uint8_t* data, size_t size);
int datagram(const uint8_t* data, size_t size);
int control(const uint8_t* data, size_t size);
int aer(const uint8_t* data, size_t size);
int sweep(const uint8_t* data, size_t size);

// For parsers that read a path: the bytes written to a file of this process (one per suffix, overwritten by the
// next input), so that parallel fuzzing jobs do not share it.
inline std::string temp_file(const uint8_t* data, size_t size, const std::string& suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/neuroemu_fuzz_" + std::to_string(::getpid()) + suffix;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path;
}

}  // namespace neuroemu::fuzz

#ifdef NEUROEMU_LIBFUZZER
#define NEUROEMU_FUZZ_TARGET(name)                                                   \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {        \
        return neuroemu::fuzz::name(data, size);                                     \
    }
#else
#define NEUROEMU_FUZZ_TARGET(name)
#endif
