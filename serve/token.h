// The access token of a server reachable from other hosts (--allow-remote): checked by the control channel and the
// live page alike.
#pragma once

#include <string_view>

namespace neuroemu::serve {

// Compares without an early exit, so the time taken does not tell how much of a guessed token was right.
inline bool same_token(std::string_view given, std::string_view expected) {
    if (expected.empty()) return given.empty();
    unsigned diff = given.size() == expected.size() ? 0u : 1u;
    for (size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(expected[i % expected.size()]);
    return diff == 0;
}

}  // namespace neuroemu::serve
