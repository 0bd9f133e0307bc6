// splitmix64 (Steele, Lea & Flood), the project's small seeded generator: the same numbers on every platform (the
// standard library's distributions differ between implementations). Used by the Poisson encoding (sim/), the
// synthetic traffic's seeds (router/) and tick sampling's draws (hw/).
#pragma once

#include <cstdint>

namespace neuroemu {

// The value form: a 64-bit mix of x (as a seed derivation or hash).
inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// The generator: the next number of the sequence `state` is at, advancing it.
inline uint64_t splitmix64_next(uint64_t& state) {
    const uint64_t r = splitmix64(state);
    state += 0x9E3779B97F4A7C15ull;
    return r;
}

}  // namespace neuroemu
