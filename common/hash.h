// The project's one content hash: 64-bit FNV-1a. Used for the sweep cache's keys (explore/) and the AER trace's
// checksum (hw/aer_trace); stable across hosts and runs, not cryptographic.
#pragma once

#include <cstdint>
#include <string_view>

namespace neuroemu {

constexpr uint64_t kFnv1a64Offset = 14695981039346656037ull;

// Continues `hash` over `bytes`.
inline uint64_t fnv1a64(std::string_view bytes, uint64_t hash = kFnv1a64Offset) {
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

// Continues `hash` over the 8 little-endian bytes of `value`, whatever the host's byte order.
inline uint64_t fnv1a64(int64_t value, uint64_t hash) {
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(static_cast<uint64_t>(value) >> (8 * i));
    return fnv1a64(std::string_view(bytes, 8), hash);
}

}  // namespace neuroemu
