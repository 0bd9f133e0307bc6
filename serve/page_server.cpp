#include "serve/page_server.h"
#include "serve/token.h"

#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

namespace neuroemu::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;

namespace {

// The value of `key` in a URL query ("a=1&token=T"), percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
    while (!query.empty()) {
        const size_t end = std::min(query.find('&'), query.size());
        const std::string_view pair = query.substr(0, end);
        query.remove_prefix(std::min(end + 1, query.size()));
        const size_t eq = pair.find('=');
        if (pair.substr(0, eq) != key) continue;
        std::string value;
        const std::string_view raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
                value += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
                i += 2;
            } else {
                value += raw[i] == '+' ? ' ' : raw[i];
            }
        }
        return value;
    }
    return std::nullopt;
}

// A browser's page on another site may open a WebSocket to 127.0.0.1: its Origin then names that site.
bool same_origin(const http::request<http::empty_body>& request) {
    const auto origin = request.find(http::field::origin);
    if (origin == request.end()) return true;  // not a browser
    std::string_view value(origin->value().data(), origin->value().size());
    const size_t scheme = value.find("://");
    if (scheme != std::string_view::npos) value.remove_prefix(scheme + 3);
    const auto host = request.find(http::field::host);
    return host != request.end() && value == std::string_view(host->value().data(), host->value().size());
}

http::response<http::string_body> text_response(http::status status, unsigned version, bool keep_alive,
                                                std::string body, const char* content_type = "text/plain") {
    http::response<http::string_body> response{status, version};
    response.set(http::field::server, "neuroemu-serve");
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, "no-store");
    response.set("X-Content-Type-Options", "nosniff");
    response.keep_alive(keep_alive);
    response.body() = std::move(body);
    response.prepare_payload();
    return response;
}

}  // namespace

namespace {
class WsSession;
}  // namespace

// A connection the server can close on stop().
class Connection {
public:
    virtual ~Connection() = default;
    virtual void close() = 0;
};

class PageServer::Impl : public std::enable_shared_from_this<PageServer::Impl> {
public:
    Impl(asio::io_context& io, tcp::endpoint endpoint, std::string token, std::function<std::string()> next_frame,
         std::chrono::milliseconds period, PageLimits limits)
        : strand(asio::make_strand(io)), acceptor(strand), timer(strand), endpoint(std::move(endpoint)),
          token(std::move(token)), next_frame(std::move(next_frame)), period(period), limits(limits) {}

    void start();
    void stop();
    void accept();
    void on_tick();
    bool authorised(std::string_view query) const;
    void add(Connection* connection, const std::shared_ptr<Connection>& owner) { connections[connection] = owner; }
    void remove(Connection* connection) { connections.erase(connection); }

    Strand strand;
    tcp::acceptor acceptor;
    asio::steady_timer timer;
    tcp::endpoint endpoint;
    const std::string token;
    const std::function<std::string()> next_frame;
    const std::chrono::milliseconds period;
    const PageLimits limits;
    bool stopped = false;
    // next_frame() is never called once stop() has returned (its owner may then go): any thread may call stop().
    std::mutex frame_mutex;
    bool frames_stopped = false;
    std::atomic<uint16_t> port{0};
    std::map<Connection*, std::weak_ptr<Connection>> connections;  // strand only
    std::map<WsSession*, std::weak_ptr<WsSession>> clients;  // strand only
    // Written on the strand, read by stats() from any thread.
    std::atomic<int64_t> n_connections{0}, n_clients{0}, frames_built{0}, frames_sent{0}, frames_replaced{0},
        queued_bytes{0}, pages_served{0}, not_found{0}, forbidden{0}, busy{0}, bad_requests{0},
        refused_connections{0};
};

namespace {

using Frame = std::shared_ptr<const std::string>;

class WsSession : public Connection, public std::enable_shared_from_this<WsSession> {
public:
    WsSession(std::shared_ptr<PageServer::Impl> server, beast::tcp_stream&& stream)
        : server_(std::move(server)), ws_(std::move(stream)) {
        ++server_->n_connections;
        ++server_->n_clients;
    }
    ~WsSession() override {
        server_->remove(this);
        server_->clients.erase(this);
        server_->queued_bytes -= queued(writing_) + queued(pending_);
        --server_->n_clients;
        --server_->n_connections;
    }

    void start(const http::request<http::empty_body>& request) {
        server_->add(this, shared_from_this());
        beast::get_lowest_layer(ws_).expires_never();  // the WebSocket's own timeouts take over
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = server_->limits.http_timeout;
        timeouts.idle_timeout = server_->limits.ws_idle_timeout;
        timeouts.keep_alive_pings = true;  // an idle but live browser answers pings; a stuck one is closed
        ws_.set_option(timeouts);
        ws_.read_message_max(server_->limits.ws_read_limit_bytes);
        ws_.text(true);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& response) { response.set(http::field::server, "neuroemu-serve"); }));
        ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->close();
            self->open_ = true;
            self->server_->clients[self.get()] = self;
            self->read();
        });
    }

    // Latest-only: at most one frame being written and one waiting; a newer frame replaces the waiting one.
    void send(const Frame& frame) {
        if (!open_) return;
        if (writing_) {
            if (pending_) ++server_->frames_replaced;
            server_->queued_bytes += queued(frame) - queued(pending_);
            pending_ = frame;
            return;
        }
        writing_ = frame;
        server_->queued_bytes += queued(frame);
        ws_.async_write(asio::buffer(*writing_), [self = shared_from_this()](beast::error_code ec, size_t) {
            self->server_->queued_bytes -= queued(self->writing_);
            self->writing_.reset();
            if (ec) return self->close();
            ++self->server_->frames_sent;
            if (self->pending_) {
                Frame next = std::move(self->pending_);
                self->server_->queued_bytes -= queued(next);
                self->send(next);
            }
        });
    }

    void close() override {
        open_ = false;
        beast::error_code ignored;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

private:
    static int64_t queued(const Frame& frame) { return frame ? static_cast<int64_t>(frame->size()) : 0; }

    // Reading keeps pings, pongs and the close handshake going; the page sends no messages of its own.
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->buffer_.clear();
            if (ec) return self->close();
            self->read();
        });
    }

    std::shared_ptr<PageServer::Impl> server_;
    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    Frame writing_, pending_;
    bool open_ = false;
};

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(std::shared_ptr<PageServer::Impl> server, tcp::socket&& socket)
        : server_(std::move(server)), stream_(std::move(socket)) {
        ++server_->n_connections;
    }
    ~HttpSession() override {
        server_->remove(this);
        --server_->n_connections;
    }

    void start() {
        server_->add(this, shared_from_this());
        read();
    }

    void close() override {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(server_->limits.header_limit_bytes);
        parser_->body_limit(0);  // the page takes no request bodies
        stream_.expires_after(server_->limits.http_timeout);
        http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::eof)
            return close();
        if (ec == http::error::header_limit) return reply_error(http::status::request_header_fields_too_large, ec);
        if (ec == http::error::body_limit || ec == http::error::unexpected_body)
            return reply_error(http::status::payload_too_large, ec);
        if (ec) return reply_error(http::status::bad_request, ec);
        handle(parser_->release());
    }

    void reply_error(http::status status, beast::error_code ec) {
        ++server_->bad_requests;
        write(text_response(status, 11, false, "bad request: " + ec.message() + "\n"));
    }

    void handle(http::request<http::empty_body> request) {
        const std::string_view target(request.target().data(), request.target().size());
        const size_t question = target.find('?');
        const std::string_view path = target.substr(0, question);
        const std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
        const unsigned version = request.version();
        const bool keep_alive = request.keep_alive();
        if (path != "/" && path != "/index.html" && path != "/ws") {
            ++server_->not_found;
            return write(text_response(http::status::not_found, version, keep_alive, "not found\n"));
        }
        if (request.method() != http::verb::get) {
            ++server_->bad_requests;
            auto response = text_response(http::status::method_not_allowed, version, keep_alive, "only GET\n");
            response.set(http::field::allow, "GET");
            return write(std::move(response));
        }
        if (!server_->authorised(query) || (path == "/ws" && !same_origin(request))) {
            ++server_->forbidden;
            return write(text_response(http::status::forbidden, version, keep_alive,
                                       "forbidden: this server needs ?token=<its token> in the URL\n"));
        }
        if (path == "/ws") return upgrade(std::move(request));
        ++server_->pages_served;
        auto page = text_response(http::status::ok, version, keep_alive, std::string(live_page_html()),
                                  "text/html; charset=utf-8");
        // The page is self-contained: nothing but its own inline script and the WebSocket back here.
        page.set("Content-Security-Policy",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
                 "connect-src 'self' ws: wss:");
        write(std::move(page));
    }

    void upgrade(http::request<http::empty_body> request) {
        if (!websocket::is_upgrade(request)) {
            ++server_->bad_requests;
            return write(text_response(http::status::upgrade_required, request.version(), false,
                                       "/ws is a WebSocket\n"));
        }
        if (static_cast<size_t>(server_->n_clients.load()) >= server_->limits.max_ws_clients) {
            ++server_->busy;
            auto response = text_response(http::status::service_unavailable, request.version(), false,
                                          "too many page clients\n");
            response.set(http::field::retry_after, "5");
            return write(std::move(response));
        }
        server_->remove(this);  // the socket moves to the WebSocket session: stop() closes it there
        std::make_shared<WsSession>(server_, std::move(stream_))->start(request);
    }

    void write(http::response<http::string_body> response) {
        auto message = std::make_shared<http::response<http::string_body>>(std::move(response));
        stream_.expires_after(server_->limits.http_timeout);
        http::async_write(stream_, *message, [self = shared_from_this(), message](beast::error_code ec, size_t) {
            if (ec || !message->keep_alive()) return self->close();
            self->read();
        });
    }

    std::shared_ptr<PageServer::Impl> server_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
};

}  // namespace

void PageServer::Impl::start() {
    try {
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("page server: cannot listen on " + endpoint.address().to_string() + ":" +
                                 std::to_string(endpoint.port()) + ": " + e.code().message());
    }
    port = acceptor.local_endpoint().port();
    asio::dispatch(strand, [self = shared_from_this()] {
        self->accept();
        self->on_tick();
    });
}

void PageServer::Impl::accept() {
    acceptor.async_accept(strand, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (self->stopped || ec == asio::error::operation_aborted) return;
        if (!ec) {
            if (self->connections.size() >= self->limits.max_connections) {
                ++self->refused_connections;
                beast::error_code ignored;
                socket.close(ignored);
            } else {
                std::make_shared<HttpSession>(self, std::move(socket))->start();
            }
        }
        self->accept();
    });
}

void PageServer::Impl::on_tick() {
    if (stopped) return;
    if (!clients.empty()) {
        Frame frame;
        {
            std::lock_guard lock(frame_mutex);
            if (frames_stopped) return;
            try {
                frame = std::make_shared<const std::string>(next_frame());
                ++frames_built;
            } catch (const std::exception&) {
                frame.reset();  // a failing frame source skips a frame; the page keeps its last one
            }
        }
        // A client's end removes it from `clients`: send through a copy.
        std::vector<std::shared_ptr<WsSession>> open;
        for (auto& [raw, weak] : clients)
            if (auto client = weak.lock()) open.push_back(std::move(client));
        if (frame)
            for (auto& client : open) client->send(frame);
    }
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->on_tick();
    });
}

bool PageServer::Impl::authorised(std::string_view query) const {
    if (token.empty()) return true;
    const auto given = query_value(query, "token");
    return given && same_token(*given, token);
}

void PageServer::Impl::stop() {
    {
        std::lock_guard lock(frame_mutex);  // waits for a frame being built
        frames_stopped = true;
    }
    asio::dispatch(strand, [self = shared_from_this()] {
        if (self->stopped) return;
        self->stopped = true;
        beast::error_code ignored;
        self->acceptor.close(ignored);
        self->timer.cancel();
        // close() may end a connection, which removes itself from `connections`: close a copy.
        std::vector<std::shared_ptr<Connection>> open;
        for (auto& [raw, weak] : self->connections)
            if (auto connection = weak.lock()) open.push_back(std::move(connection));
        for (auto& connection : open) connection->close();
    });
}

PageServer::PageServer(asio::io_context& io, const tcp::endpoint& endpoint, std::string token,
                       std::function<std::string()> next_frame, std::chrono::milliseconds period, PageLimits limits) {
    if (!next_frame) throw std::invalid_argument("PageServer: next_frame must be a callable");
    if (period.count() <= 0) throw std::invalid_argument("PageServer: period must be > 0 ms");
    if (limits.max_ws_clients < 1 || limits.max_connections < 1)
        throw std::invalid_argument("PageLimits: max_ws_clients and max_connections must be >= 1");
    impl_ = std::make_shared<Impl>(io, endpoint, std::move(token), std::move(next_frame), period, limits);
}

PageServer::~PageServer() { stop(); }

void PageServer::start() { impl_->start(); }
uint16_t PageServer::port() const { return impl_->port.load(); }
void PageServer::stop() { impl_->stop(); }

PageStats PageServer::stats() const {
    const Impl& s = *impl_;
    PageStats out;
    out.connections = s.n_connections;
    out.ws_clients = s.n_clients;
    out.frames_built = s.frames_built;
    out.frames_sent = s.frames_sent;
    out.frames_replaced = s.frames_replaced;
    out.queued_bytes = s.queued_bytes;
    out.pages_served = s.pages_served;
    out.not_found = s.not_found;
    out.forbidden = s.forbidden;
    out.busy = s.busy;
    out.bad_requests = s.bad_requests;
    out.refused_connections = s.refused_connections;
    return out;
}

}  // namespace neuroemu::serve
