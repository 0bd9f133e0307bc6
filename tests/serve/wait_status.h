// The bounded wait on a server's `status` that tests need because input arrives asynchronously over UDP.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clients/cpp/serve_client.h"

namespace neuroemu::serve::testing {

// Polls `status` until `done` holds; a bound (10 s), not a timing assertion: a server that never gets there
// fails the test instead of hanging it.
inline nlohmann::json wait_status(client::Control& control, const std::function<bool(const nlohmann::json&)>& done) {
    const nlohmann::json request = {{"op", "status"}};
    for (int i = 0; i < 2000; ++i) {
        nlohmann::json s = control.request(request);
        if (done(s)) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const nlohmann::json last = control.request(request);
    ADD_FAILURE() << "status never reached the expected state: " << last.dump();
    return last;
}

// Waits until the server has received `n` datagrams.
inline nlohmann::json wait_datagrams(client::Control& control, int64_t n) {
    return wait_status(control, [n](const nlohmann::json& s) { return s["input"]["datagrams"].get<int64_t>() >= n; });
}

}  // namespace neuroemu::serve::testing
