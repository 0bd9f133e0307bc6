// The server in the test's own process on ephemeral loopback ports, started paused, with a control connection
// (tests/serve/server_test.cpp, hostile_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clients/cpp/serve_client.h"
#include "serve/server.h"
#include "tests/serve/wait_status.h"

namespace neuroemu::serve::testing {

struct InProcessServer {
    InProcessServer(ServerOptions options, std::unique_ptr<Session> session, SessionFactory factory) {
        options.start_paused = true;
        server = std::make_unique<Server>(std::move(options), std::move(session), std::move(factory));
        server->start();
        control = std::make_unique<client::Control>("127.0.0.1", server->control_port());
    }
    nlohmann::json request(nlohmann::json r) { return control->request(std::move(r)); }
    nlohmann::json status() { return request({{"op", "status"}}); }
    nlohmann::json wait_status(const std::function<bool(const nlohmann::json&)>& done) {
        return testing::wait_status(*control, done);
    }
    // A new client is still served (after hostile input on the others).
    void still_answers() {
        client::Control fresh("127.0.0.1", server->control_port());
        EXPECT_EQ(fresh.request({{"op", "hello"}})["ok"], true);
    }

    std::unique_ptr<Server> server;
    std::unique_ptr<client::Control> control;
};

}  // namespace neuroemu::serve::testing
