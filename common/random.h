// The project's one seed mixer: SplitMix64 (Steele, Lea, Flood 2014). Turns a counter or a combination of seeds
// into well-mixed 64-bit values, the same on every host and standard library.
#pragma once

#include <cstdint>

namespace neuroemu {

// The SplitMix64 output function of `x`.
constexpr uint64_t splitmix64_mix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// The next value of the SplitMix64 generator whose state is `state` (advanced).
inline uint64_t splitmix64(uint64_t& state) {
    const uint64_t out = splitmix64_mix(state);
    state += 0x9E3779B97F4A7C15ull;
    return out;
}

// A uniform double in [0, 1) from the next value of `state`.
inline double unit_uniform(uint64_t& state) { return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53; }

}  // namespace neuroemu
