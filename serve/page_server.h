// The live page's HTTP/WebSocket server (Boost.Beast) on the server's io_context: `GET /` serves the page
// (serve/page/live.html, embedded at build time), `GET /ws` upgrades to a WebSocket that receives a JSON frame
// (serve/live.h) every period; everything else is 404. With a token (--allow-remote) both need `?token=T`
// (403 otherwise). Bounds (PageLimits): header size, no request bodies, WebSocket clients (503 beyond), open
// connections (closed at once beyond), idle HTTP connections time out, and each WebSocket client holds at most
// one frame being written plus one waiting: a newer frame replaces the waiting one (latest-only), so a slow
// client never blocks the others nor grows memory.
#pragma once

#include <utility>  // before Asio (Boost 1.74's headers miss it)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace neuroemu::serve {

struct PageLimits {
    size_t max_ws_clients = 16;         // WebSocket clients; an upgrade beyond gets 503
    size_t max_connections = 64;        // open sockets (HTTP and WebSocket); beyond, a new one is closed at once
    uint32_t header_limit_bytes = 8192;  // a request's header; beyond: 431 and closed
    std::chrono::milliseconds http_timeout{10000};     // to receive a whole request or send a response
    std::chrono::milliseconds ws_idle_timeout{30000};  // no data (pongs included) from a WebSocket client: closed
    size_t ws_read_limit_bytes = 1024;  // a message from a WebSocket client (the page sends none): beyond, closed
};

// Counters, readable from any thread.
struct PageStats {
    int64_t connections = 0;       // open now (HTTP and WebSocket)
    int64_t ws_clients = 0;        // WebSocket clients now
    int64_t frames_built = 0;      // next_frame() calls
    int64_t frames_sent = 0;       // frame messages written, all clients
    int64_t frames_replaced = 0;   // waiting frames replaced by newer ones (slow clients)
    int64_t queued_bytes = 0;      // frames being written or waiting, all clients (shared frames counted per client)
    int64_t pages_served = 0, not_found = 0, forbidden = 0, busy = 0, bad_requests = 0, refused_connections = 0;
};

// The page's HTML (serve/page/live.html, embedded by serve/CMakeLists.txt).
std::string_view live_page_html();

class PageServer {
public:
    // `next_frame` is called on the io_context's thread every `period` while a WebSocket client is connected;
    // it returns the frame's JSON text. An empty `token` means none is required.
    PageServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, std::string token,
               std::function<std::string()> next_frame, std::chrono::milliseconds period, PageLimits limits = {});
    ~PageServer();
    PageServer(const PageServer&) = delete;
    PageServer& operator=(const PageServer&) = delete;

    // Binds and listens (std::runtime_error naming the endpoint when it cannot), then accepts on the io_context.
    void start();
    uint16_t port() const;  // the bound port (an endpoint with port 0 gets an ephemeral one)
    // Closes the listener and every connection (done on the io_context's thread); callable from any thread but
    // next_frame's. Once it returns, next_frame is not called again, so its owner may go.
    void stop();
    PageStats stats() const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace neuroemu::serve
