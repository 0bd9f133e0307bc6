// The live page's HTTP/WebSocket server over real sockets on 127.0.0.1 (ephemeral ports), with a Beast client:
// the page, frames over /ws, 404, 403 (token, origin), 503 beyond the client limit, header and body bounds, idle
// timeouts, and a client that never reads neither blocks another nor grows memory.
#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "serve/page_server.h"
#include "tests/support/rss.h"

namespace neuroemu::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A PageServer on its own io thread; frames are {"n": <counter>} unless `frame` is given.
class Harness {
public:
    explicit Harness(std::string token = "", PageLimits limits = {}, std::function<std::string()> frame = {},
                     std::chrono::milliseconds period = 20ms) {
        if (!frame) frame = [this] { return nlohmann::json{{"n", ++frames_}}.dump(); };
        server_ = std::make_unique<PageServer>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                               std::move(token), std::move(frame), period, limits);
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~Harness() { stop(); }
    void stop() {
        if (!thread_.joinable()) return;
        server_->stop();
        thread_.join();  // returns only once every connection and timer is done
    }
    uint16_t port() const { return server_->port(); }
    PageStats stats() const { return server_->stats(); }

private:
    asio::io_context io_;
    std::atomic<int64_t> frames_{0};
    std::unique_ptr<PageServer> server_;
    std::thread thread_;
};

// Blocking reads give up after 10 s instead of hanging the test.
void receive_timeout(tcp::socket& socket) {
    timeval tv{10, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

tcp::socket connect(asio::io_context& io, uint16_t port) {
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    receive_timeout(socket);
    return socket;
}

http::response<http::string_body> request(uint16_t port, http::request<http::string_body> req) {
    asio::io_context io;
    tcp::socket socket = connect(io, port);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
}

http::response<http::string_body> get(uint16_t port, const std::string& target) {
    return request(port, http::request<http::string_body>{http::verb::get, target, 11});
}

// A WebSocket client; `status` is the handshake's HTTP status (101 when upgraded).
struct WsClient {
    asio::io_context io;
    websocket::stream<tcp::socket> ws{io};
    unsigned status = 0;

    WsClient(uint16_t port, const std::string& target, const std::string& origin = "", int receive_buffer = 0) {
        tcp::socket& socket = ws.next_layer();
        socket.open(tcp::v4());
        if (receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
        receive_timeout(socket);
        if (!origin.empty())
            ws.set_option(websocket::stream_base::decorator(
                [origin](websocket::request_type& req) { req.set(http::field::origin, origin); }));
        // The asynchronous handshake fills the response also when the upgrade is declined (the blocking one not).
        websocket::response_type response;
        ws.async_handshake(response, "127.0.0.1:" + std::to_string(port), target, [](beast::error_code) {});
        io.run();
        io.restart();
        status = response.result_int();
    }
    nlohmann::json read() {
        beast::flat_buffer buffer;
        ws.read(buffer);
        return nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
    }
};

int64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    return -1;
}

TEST(PageServer, ServesThePageAtTheRoot) {
    Harness server;
    const auto response = get(server.port(), "/");
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_EQ(response[http::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(response.body(), std::string(live_page_html()));
    EXPECT_NE(response.body().find("<canvas id=\"raster\""), std::string::npos);
    EXPECT_NE(response.body().find("waiting for data"), std::string::npos);
    EXPECT_EQ(response.body().find("http://"), std::string::npos) << "the page loads nothing from elsewhere";
    EXPECT_EQ(response.body().find("https://"), std::string::npos);
    EXPECT_EQ(server.stats().pages_served, 1);
}

TEST(PageServer, KeepsAConnectionAliveForSeveralRequests) {
    Harness server;
    asio::io_context io;
    tcp::socket socket = connect(io, server.port());
    beast::flat_buffer buffer;
    for (const char* target : {"/", "/nothing", "/"}) {
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(socket, req);
        http::response<http::string_body> response;
        http::read(socket, buffer, response);
        EXPECT_EQ(response.result(), std::string(target) == "/" ? http::status::ok : http::status::not_found);
    }
}

TEST(PageServer, AnythingElseIsNotFound) {
    Harness server;
    for (const char* target : {"/favicon.ico", "/ws/x", "/../etc/passwd", "/live.html"})
        EXPECT_EQ(get(server.port(), target).result(), http::status::not_found) << target;
    EXPECT_EQ(server.stats().not_found, 4);
}

TEST(PageServer, WebSocketReceivesFrames) {
    Harness server;
    WsClient client(server.port(), "/ws");
    ASSERT_EQ(client.status, 101u);
    int64_t previous = 0;
    for (int i = 0; i < 5; ++i) {
        const auto frame = client.read();
        EXPECT_GT(frame["n"].get<int64_t>(), previous) << "frames arrive in order, each once";
        previous = frame["n"].get<int64_t>();
    }
    // The server counts a frame sent when its write completes, which may be after the client has read it.
    for (int i = 0; i < 500 && server.stats().frames_sent < 5; ++i) std::this_thread::sleep_for(2ms);
    EXPECT_GE(server.stats().frames_sent, 5);
}

TEST(PageServer, GetOfTheSocketPathWithoutUpgradeIsRefused) {
    Harness server;
    EXPECT_EQ(get(server.port(), "/ws").result(), http::status::upgrade_required);
}

TEST(PageServer, TokenIsRequiredForThePageAndTheSocket) {
    Harness server("s3cr%t");
    EXPECT_EQ(get(server.port(), "/").result(), http::status::forbidden);
    EXPECT_EQ(get(server.port(), "/?token=wrong").result(), http::status::forbidden);
    EXPECT_EQ(get(server.port(), "/?token=s3cr").result(), http::status::forbidden) << "a prefix is not the token";
    EXPECT_EQ(get(server.port(), "/?token=s3cr%25t").result(), http::status::ok) << "percent-decoded";
    EXPECT_EQ(get(server.port(), "/?x=1&token=s3cr%25t").result(), http::status::ok);
    EXPECT_EQ(WsClient(server.port(), "/ws").status, 403u);
    EXPECT_EQ(WsClient(server.port(), "/ws?token=nope").status, 403u);
    WsClient client(server.port(), "/ws?token=s3cr%25t");
    ASSERT_EQ(client.status, 101u);
    EXPECT_TRUE(client.read().contains("n"));
    EXPECT_EQ(server.stats().forbidden, 5);
}

TEST(PageServer, SocketFromAnotherSitesPageIsForbidden) {
    Harness server;
    const std::string self = "http://127.0.0.1:" + std::to_string(server.port());
    EXPECT_EQ(WsClient(server.port(), "/ws", "http://evil.example").status, 403u);
    EXPECT_EQ(WsClient(server.port(), "/ws", self).status, 101u);
}

TEST(PageServer, ClientsBeyondTheLimitGet503) {
    PageLimits limits;
    limits.max_ws_clients = 2;
    Harness server("", limits);
    WsClient a(server.port(), "/ws"), b(server.port(), "/ws");
    ASSERT_EQ(a.status, 101u);
    ASSERT_EQ(b.status, 101u);
    EXPECT_EQ(WsClient(server.port(), "/ws").status, 503u);
    EXPECT_EQ(server.stats().busy, 1);
    EXPECT_EQ(get(server.port(), "/").result(), http::status::ok) << "the page itself is still served";
    a.ws.close(websocket::close_code::normal);
    // Once a leaves, a new client gets its place (the server notices the close asynchronously: retry a while).
    unsigned status = 0;
    for (int attempt = 0; attempt < 200 && status != 101; ++attempt) {
        status = WsClient(server.port(), "/ws").status;
        if (status != 101) std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(status, 101u);
}

TEST(PageServer, OversizedHeaderIsRefused) {
    Harness server;
    http::request<http::string_body> req{http::verb::get, "/", 11};
    req.set("X-Padding", std::string(16 * 1024, 'a'));
    EXPECT_EQ(request(server.port(), req).result(), http::status::request_header_fields_too_large);
}

TEST(PageServer, RequestBodiesAreRefused) {
    Harness server;
    http::request<http::string_body> req{http::verb::post, "/", 11};
    req.body() = "hello";
    EXPECT_EQ(request(server.port(), req).result(), http::status::payload_too_large);
    http::request<http::string_body> put{http::verb::put, "/", 11};
    EXPECT_EQ(request(server.port(), put).result(), http::status::method_not_allowed);
}

TEST(PageServer, GarbageIsABadRequest) {
    Harness server;
    asio::io_context io;
    tcp::socket socket = connect(io, server.port());
    asio::write(socket, asio::buffer(std::string("HELLO THERE\r\n\r\n")));
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    EXPECT_EQ(response.result(), http::status::bad_request);
}

TEST(PageServer, IdleConnectionsAreClosed) {
    PageLimits limits;
    limits.http_timeout = 200ms;
    Harness server("", limits);
    asio::io_context io;
    tcp::socket idle = connect(io, server.port());
    asio::write(idle, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n")));  // never finishes its header
    char byte = 0;
    beast::error_code ec;
    idle.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_EQ(ec, asio::error::eof) << "the server closes it: " << ec.message();
}

TEST(PageServer, ConnectionsBeyondTheLimitAreClosed) {
    PageLimits limits;
    limits.max_connections = 3;
    Harness server("", limits);
    asio::io_context io;
    std::vector<tcp::socket> open;
    for (int i = 0; i < 3; ++i) open.push_back(connect(io, server.port()));
    // The server accepts in order: once it has taken the three, a fourth is closed without a word.
    for (int attempt = 0; attempt < 500 && server.stats().connections < 3; ++attempt) std::this_thread::sleep_for(2ms);
    ASSERT_EQ(server.stats().connections, 3);
    tcp::socket extra = connect(io, server.port());
    char byte = 0;
    beast::error_code ec;
    extra.read_some(asio::buffer(&byte, 1), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_EQ(server.stats().refused_connections, 1);
    open.clear();
}

// A client that never reads (a small receive buffer fills at once) while frames of 1 MiB go out every 2 ms: the
// server keeps at most one frame being written and one waiting for it, and a reading client still gets every frame.
TEST(PageServer, SlowClientNeitherBlocksOthersNorGrowsMemory) {
    const size_t frame_bytes = 1 << 20;
    std::atomic<int64_t> n{0};
    auto frame = [&] {
        std::string text = nlohmann::json{{"n", ++n}}.dump();
        text.resize(frame_bytes, ' ');  // JSON allows trailing white space
        return text;
    };
    // The slow client sends nothing, not even pongs: the idle timeout (30 s) would close it on a machine slow enough
    // (ThreadSanitizer) that the 300 frames take longer; this test is about back-pressure, not idle clients.
    PageLimits limits;
    limits.ws_idle_timeout = std::chrono::minutes(30);
    Harness server("", limits, frame, 2ms);
    WsClient slow(server.port(), "/ws", "", 4096);
    ASSERT_EQ(slow.status, 101u);
    WsClient fast(server.port(), "/ws");
    ASSERT_EQ(fast.status, 101u);
    const int64_t rss_before = rss_bytes();
    int64_t max_queued = 0, previous = 0;
    const int frames = 300;
    for (int i = 0; i < frames; ++i) {
        const auto received = fast.read();
        EXPECT_GT(received["n"].get<int64_t>(), previous);
        previous = received["n"].get<int64_t>();
        max_queued = std::max(max_queued, server.stats().queued_bytes);
    }
    const PageStats stats = server.stats();
    // Per client: one frame being written, one waiting.
    EXPECT_LE(max_queued, static_cast<int64_t>(2 * 2 * frame_bytes));
    EXPECT_GT(stats.frames_replaced, 0) << "the slow client's waiting frames were replaced";
    EXPECT_GE(stats.frames_built, frames);
    // Queueing every frame for the slow client would have held 300 MiB.
    if (::neuroemu::test::kRssMeasuresTheProgram) {
        EXPECT_LT(rss_bytes() - rss_before, int64_t{64} << 20);
    }
    EXPECT_EQ(stats.ws_clients, 2);
}

TEST(PageServer, StopClosesEverything) {
    auto server = std::make_unique<Harness>();
    WsClient client(server->port(), "/ws");
    ASSERT_EQ(client.status, 101u);
    asio::io_context io;
    tcp::socket idle = connect(io, server->port());
    server->stop();  // joins the io thread: it returns only when no connection or timer is left
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (!ec) client.ws.read(buffer, ec);  // frames sent before the stop, then the end
    EXPECT_TRUE(ec);
    EXPECT_EQ(server->stats().connections, 0);
    EXPECT_EQ(server->stats().ws_clients, 0);
}

TEST(PageServer, BadArgumentsAndBusyPortsAreClearErrors) {
    asio::io_context io;
    const tcp::endpoint any(asio::ip::make_address("127.0.0.1"), 0);
    auto frame = [] { return std::string("{}"); };
    EXPECT_THROW(PageServer(io, any, "", nullptr, 100ms), std::invalid_argument);
    EXPECT_THROW(PageServer(io, any, "", frame, 0ms), std::invalid_argument);
    PageServer first(io, any, "", frame, 100ms);
    first.start();
    PageServer second(io, tcp::endpoint(any.address(), first.port()), "", frame, 100ms);
    try {
        second.start();
        FAIL() << "two servers on one port";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace neuroemu::serve
