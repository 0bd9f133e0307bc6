// `neuroemu serve --http 0` as a process on the shipped ResNet-20: the page at /, and the frames over /ws against
// what the control channel says (hello's model, populations and mesh; run's ticks; classify's decision; a load).
#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <functional>
#include <future>
#include <string>

#include "clients/cpp/serve_client.h"
#include "serve/page_server.h"
#include "tests/serve/serve_process.h"

namespace neuroemu::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;

void receive_timeout(asio::ip::tcp::socket& socket) {
    timeval tv{30, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

TEST(LivePageCli, ServeHttpServesThePageAndItsFrames) {
    serve_test::ServeProcess served(std::string(NEUROEMU_SOURCE_DIR) +
                                        "/configs/default.yaml --set simulation.encoding=poisson --listen 127.0.0.1:0 "
                                        "--http 0 --paused",
                                    "live_page_cli", "serve." + std::to_string(getpid()));
    ASSERT_TRUE(served.started()) << "neuroemu serve did not start: " << served.err();
    ASSERT_TRUE(served.ports()["http"].is_number()) << served.ports().dump();
    const uint16_t http_port = served.ports()["http"];
    asio::io_context io;

    {
        asio::ip::tcp::socket socket(io);
        socket.connect({asio::ip::make_address("127.0.0.1"), http_port});
        receive_timeout(socket);
        http::request<http::empty_body> request{http::verb::get, "/", 11};
        request.set(http::field::host, "127.0.0.1");
        http::write(socket, request);
        beast::flat_buffer buffer;
        http::response<http::string_body> response;
        http::read(socket, buffer, response);
        EXPECT_EQ(response.result(), http::status::ok);
        EXPECT_EQ(response.body(), std::string(live_page_html()));
    }

    websocket::stream<asio::ip::tcp::socket> ws(io);
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), http_port});
    receive_timeout(ws.next_layer());
    ws.handshake("127.0.0.1", "/ws");
    auto next_frame = [&](const std::function<bool(const json&)>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
        while (std::chrono::steady_clock::now() < deadline) {
            beast::flat_buffer buffer;
            ws.read(buffer);
            json frame = json::parse(beast::buffers_to_string(buffer.data()));
            if (done(frame)) return frame;
        }
        ADD_FAILURE() << "no frame reached the expected state";
        return json();
    };

    // `load` converts the default model again: under ASan on a loaded 2-core machine that took over 30 s.
    client::Control control("127.0.0.1", served.ports()["control"], 180000);
    const json hello = control.request({{"op", "hello"}});
    json frame = next_frame([](const json&) { return true; });
    EXPECT_EQ(frame["model"], hello["model"]["name"]);
    ASSERT_EQ(frame["populations"].size(), hello["model"]["populations"].size());
    for (size_t p = 0; p < frame["populations"].size(); ++p) {
        EXPECT_EQ(frame["populations"][p]["name"], hello["model"]["populations"][p]["name"]);
        EXPECT_EQ(frame["populations"][p]["size"], hello["model"]["populations"][p]["size"]);
    }
    EXPECT_EQ(frame["cores"]["spikes"].size(), hello["model"]["cores"].get<size_t>());
    EXPECT_EQ(json({frame["cores"]["width"], frame["cores"]["height"]}), hello["model"]["mesh"]);
    // ResNet-20's readout does not fire: by default the spiking layer feeding it is published, and rastered.
    ASSERT_EQ(hello["model"]["published"].size(), 1u);
    EXPECT_NE(hello["model"]["published"][0], hello["model"]["output"]);
    EXPECT_EQ(frame["raster"][0]["population"], hello["model"]["published"][0]);

    ASSERT_EQ(control.request({{"op", "run"}, {"ticks", 5}})["ok"], true);
    frame = next_frame([](const json& f) { return f["ticks_recorded"] == 5; });
    EXPECT_EQ(frame["tick"], 5);
    EXPECT_EQ(frame["populations"][0]["spikes"], 0) << "no input was sent";

    const json classified = control.request(
        {{"op", "classify"}, {"ticks", 2}, {"events", {{100, 200, 300}, {400, 500}}}, {"label", 3}});
    ASSERT_EQ(classified["ok"], true) << classified.dump();
    frame = next_frame([](const json& f) { return f["accuracy"]["samples"] == 1; });
    EXPECT_EQ(frame["accuracy"]["labelled"], 1);
    EXPECT_EQ(frame["accuracy"]["correct"], classified["decision"] == 3 ? 1 : 0);

    // A model loaded anew starts the page's figures afresh. The page keeps reading while the model loads, as a
    // browser does: a client that reads nothing answers none of the server's pings and is closed as idle after 30 s,
    // which a load under ASan or TSan on a loaded machine can exceed.
    std::future<json> loading = std::async(std::launch::async, [&control] {
        return control.request({{"op", "load"}, {"config", "default.yaml"}});
    });
    frame = next_frame([](const json& f) { return f["ticks_recorded"] == 0; });
    const json loaded = loading.get();
    ASSERT_EQ(loaded["ok"], true) << loaded.dump();
    EXPECT_EQ(frame["accuracy"]["samples"], 0);
    EXPECT_EQ(frame["model"], loaded["model"]["name"]);
    ASSERT_EQ(control.request({{"op", "run"}, {"ticks", 2}})["ok"], true);
    EXPECT_EQ(next_frame([](const json& f) { return f["ticks_recorded"] == 2; })["tick"], 7) << "the tick goes on";
    served.signal(SIGINT);
    EXPECT_EQ(served.wait_exit(), 0) << served.err();
}

}  // namespace
}  // namespace neuroemu::serve
