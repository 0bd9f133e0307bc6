// Integers as little-endian bytes whatever the host's order: the file and wire formats (AER traces, the serve
// protocol) are defined byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace neuroemu {

template <class T>
void put_le(void* to, T value) {
    static_assert(std::is_integral_v<T>, "integers only");
    using U = std::make_unsigned_t<T>;
    const U v = static_cast<U>(value);
    auto* p = static_cast<unsigned char*>(to);
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

template <class T>
T get_le(const void* from) {
    static_assert(std::is_integral_v<T>, "integers only");
    using U = std::make_unsigned_t<T>;
    const auto* p = static_cast<const unsigned char*>(from);
    U v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<U>(static_cast<U>(p[i]) << (8 * i));
    return static_cast<T>(v);
}

}  // namespace neuroemu
