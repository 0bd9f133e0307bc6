// The live page on the real server: a Server with the analytic FakeSession (tests/serve/fake_session.h), events in
// over UDP, `run` over the control channel, and the frames read over the page's WebSocket (a Beast client) against
// the FakeSession's hand-computable outputs.
#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <filesystem>
#include <chrono>

#include "clients/cpp/serve_client.h"
#include "serve/live_page.h"
#include "tests/serve/fake_session.h"
#include "tests/serve/wait_status.h"

namespace neuroemu::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using nlohmann::json;
using testing::FakeSession;

const protocol::InputShape kShape{1, 4, 4, 3};

// Frames from the page's socket until `done` holds for one (raster spikes gathered over all of them).
struct PageClient {
    asio::io_context io;
    websocket::stream<asio::ip::tcp::socket> ws{io};
    json spikes = json::array();

    PageClient(uint16_t port, const std::string& target) {
        ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
        timeval tv{10, 0};
        setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ws.handshake("127.0.0.1:" + std::to_string(port), target);
    }
    json until(const std::function<bool(const json&)>& done) {
        for (int i = 0; i < 500; ++i) {
            beast::flat_buffer buffer;
            ws.read(buffer);
            json frame = json::parse(beast::buffers_to_string(buffer.data()));
            for (const auto& s : frame["raster"][0]["spikes"]) spikes.push_back(s);
            if (done(frame)) return frame;
        }
        ADD_FAILURE() << "no frame reached the expected state";
        return {};
    }
};

std::string model_dir() {
    const fs::path dir = fs::temp_directory_path() / ("neuroemu_live_page_models_" + std::to_string(getpid()));
    fs::create_directories(dir);
    return dir.string();
}

TEST(LivePageOnTheServer, FramesFollowTheServedTicksAndSamples) {
    ServerOptions options;
    options.start_paused = true;
    options.model_dir = model_dir();
    Server server(options, std::make_unique<FakeSession>(), nullptr);
    FakeSession layout_source;
    LivePageOptions page_options;
    page_options.period = std::chrono::milliseconds(20);
    LivePage page(server, live_layout(layout_source, "fake"), page_options);
    server.start();
    PageClient browser(page.port(), "/ws");

    // Sample 1 (tick 1): inputs 0, 3, 6 all feed readout 0: decision 0, label 0, correct. Sample 2 (tick 2, after a
    // reset): inputs 1, 4 feed readout 1: decision 1, label 2, wrong. The references come from the FakeSession.
    const std::vector<std::vector<InputSpike>> ticks = {{{0, 1}, {3, 1}, {6, 1}}, {{1, 1}, {4, 1}}};
    ASSERT_EQ(FakeSession::decision_of({ticks[0]}), 0);
    ASSERT_EQ(FakeSession::decision_of({ticks[1]}), 1);
    client::EventSender sender("127.0.0.1", server.udp_port());
    sender.send_tick(1, ticks[0], protocol::kLabel | protocol::kEnd, 0, kShape);
    sender.send_tick(2, ticks[1], protocol::kReset | protocol::kLabel | protocol::kEnd, 2, kShape);
    client::Control control("127.0.0.1", server.control_port());
    testing::wait_datagrams(control, 2);
    ASSERT_EQ(control.request({{"op", "run"}, {"ticks", 2}})["ok"], true);

    const json frame = browser.until([](const json& f) { return f["ticks_recorded"] == 2; });
    ASSERT_FALSE(frame.is_null());
    EXPECT_EQ(frame["model"], "fake");
    EXPECT_EQ(frame["tick"], 2);
    EXPECT_EQ(frame["step"], 1) << "sample 2 reset the network";
    EXPECT_EQ(frame["accuracy"], json({{"samples", 2}, {"labelled", 2}, {"correct", 1}, {"value", 0.5}}));
    EXPECT_TRUE(frame["deadline_misses"].is_null()) << "not paced";
    // Over both ticks: input 3 + 2 spikes of 16 neurons; hidden units (index % 4) {0, 3, 2} then {1, 0}: 5 of 4;
    // out units (index % 3) {0} then {1}: 2 of 3.
    EXPECT_DOUBLE_EQ(frame["populations"][0]["rate"].get<double>(), 5.0 / (16 * 2));
    EXPECT_DOUBLE_EQ(frame["populations"][1]["rate"].get<double>(), 5.0 / (4 * 2));
    EXPECT_DOUBLE_EQ(frame["populations"][2]["rate"].get<double>(), 2.0 / (3 * 2));
    EXPECT_EQ(frame["cores"]["spikes"], json({5, 2}));  // core 0 holds "hidden", core 1 "out"
    EXPECT_EQ(browser.spikes, json({{1, 0}, {2, 1}}));

    // A classify request's labelled sample counts too: inputs 2, 5 feed readout 2, labelled 2: correct.
    ASSERT_EQ(control.request({{"op", "classify"}, {"ticks", 1}, {"events", {{2, 5}}}, {"label", 2}})["decision"], 2);
    const json after = browser.until([](const json& f) { return f["accuracy"]["samples"] == 3; });
    EXPECT_EQ(after["accuracy"]["correct"], 2);
    server.stop();
    page.stop();
}

TEST(LivePageOnTheServer, TheServersTokenGuardsThePage) {
    ServerOptions options;
    options.start_paused = true;
    options.model_dir = model_dir();
    options.allow_remote = true;  // still on loopback: the token is what is tested
    options.token = "page-token";
    Server server(options, std::make_unique<FakeSession>(), nullptr);
    FakeSession layout_source;
    LivePage page(server, live_layout(layout_source, "fake"));
    server.start();
    asio::io_context io;
    websocket::stream<asio::ip::tcp::socket> ws{io};
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), page.port()});
    beast::error_code ec;
    ws.handshake("127.0.0.1", "/ws", ec);
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
    PageClient with_token(page.port(), "/ws?token=page-token");
    EXPECT_EQ(with_token.until([](const json&) { return true; })["model"], "fake");
    server.stop();
}

}  // namespace
}  // namespace neuroemu::serve
