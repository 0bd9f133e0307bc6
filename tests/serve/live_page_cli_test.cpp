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
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "clients/cpp/serve_client.h"
#include "serve/page_server.h"
#include "tests/support/cli_run.h"

extern char** environ;

namespace neuroemu::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// The server process, its ports from --port-file; killed if the test ends without stopping it.
class Served {
public:
    Served() {
        port_file_ = cli_test::build_file("live_page_cli", "ports." + std::to_string(getpid()) + ".json");
        const std::string log = cli_test::build_file("live_page_cli", "serve." + std::to_string(getpid()) + ".log");
        fs::remove(port_file_);
        std::vector<std::string> args = {NEUROEMU_EXE, "serve", std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml",
                                         "--set", "simulation.encoding=poisson", "--listen", "127.0.0.1:0",
                                         "--http", "0", "--paused", "--port-file", port_file_};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&files, 1, 2);
        if (posix_spawn(&pid_, NEUROEMU_EXE, &files, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&files);
        for (int i = 0; i < 6000 && pid_ > 0 && !fs::exists(port_file_); ++i) std::this_thread::sleep_for(10ms);
        if (fs::exists(port_file_)) ports_ = cli_test::read_json(port_file_);
        if (ports_.is_null()) ADD_FAILURE() << "neuroemu serve did not start (see " << log << ")";
    }
    ~Served() {
        if (pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    // SIGINT: the exit status once it has stopped.
    int interrupt() {
        kill(pid_, SIGINT);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    const json& ports() const { return ports_; }

private:
    pid_t pid_ = -1;
    std::string port_file_;
    json ports_;
};

void receive_timeout(asio::ip::tcp::socket& socket) {
    timeval tv{30, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

TEST(LivePageCli, ServeHttpServesThePageAndItsFrames) {
    Served served;
    ASSERT_FALSE(served.ports().is_null());
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
        for (int i = 0; i < 600; ++i) {
            beast::flat_buffer buffer;
            ws.read(buffer);
            json frame = json::parse(beast::buffers_to_string(buffer.data()));
            if (done(frame)) return frame;
        }
        ADD_FAILURE() << "no frame reached the expected state";
        return json();
    };

    client::Control control("127.0.0.1", served.ports()["control"]);
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

    // A model loaded anew starts the page's figures afresh.
    const json loaded = control.request({{"op", "load"}, {"config", "default.yaml"}});
    ASSERT_EQ(loaded["ok"], true) << loaded.dump();
    frame = next_frame([](const json& f) { return f["ticks_recorded"] == 0; });
    EXPECT_EQ(frame["accuracy"]["samples"], 0);
    EXPECT_EQ(frame["model"], loaded["model"]["name"]);
    ASSERT_EQ(control.request({{"op", "run"}, {"ticks", 2}})["ok"], true);
    EXPECT_EQ(next_frame([](const json& f) { return f["ticks_recorded"] == 2; })["tick"], 7) << "the tick goes on";
    EXPECT_EQ(served.interrupt(), 0);
}

}  // namespace
}  // namespace neuroemu::serve
