#include "clients/cpp/serve_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace neuroemu::serve::client {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

sockaddr_in address(const std::string& host, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
        throw std::runtime_error("serve client: expected an IPv4 address, got '" + host + "'");
    return a;
}

int open_socket(int type) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("serve client: socket");
    return fd;
}

// Waits for `fd` to become readable: false after `timeout_ms`.
bool readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0) fail("serve client: poll");
    return r > 0;
}

}  // namespace

EventSender::EventSender(const std::string& host, uint16_t port) : fd_(open_socket(SOCK_DGRAM)) {
    const sockaddr_in a = address(host, port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd_);
        fail("serve client: connect to udp " + host + ":" + std::to_string(port));
    }
}

EventSender::~EventSender() { ::close(fd_); }

void EventSender::send_raw(const std::vector<uint8_t>& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), 0) < 0 && errno != ECONNREFUSED) fail("serve client: send");
}

int EventSender::send_tick(uint64_t tick, const std::vector<InputSpike>& events, uint16_t flags, int32_t label,
                           const protocol::InputShape& shape) {
    uint16_t layout = protocol::kFlat;
    for (const auto& e : events)
        if (e.count != 1) layout |= protocol::kCounts;
    const size_t per = protocol::max_events_per_datagram(layout);
    int sent = 0;
    size_t first = 0;
    do {
        protocol::Events m;
        m.sequence = sequence_++;
        m.tick = tick;
        m.label = label;
        const size_t n = std::min(per, events.size() - first);
        m.events.assign(events.begin() + static_cast<std::ptrdiff_t>(first),
                        events.begin() + static_cast<std::ptrdiff_t>(first + n));
        send_raw(protocol::encode_events(m, layout | flags, shape));
        ++sent;
        first += n;
    } while (first < events.size());
    return sent;
}

Control::Control(const std::string& host, uint16_t port, int timeout_ms)
    : fd_(open_socket(SOCK_STREAM)), timeout_ms_(timeout_ms) {
    const sockaddr_in a = address(host, port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd_);
        fail("serve client: connect to tcp " + host + ":" + std::to_string(port));
    }
}

Control::~Control() { ::close(fd_); }

void Control::send_raw(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("serve client: send request");
        }
        done += static_cast<size_t>(n);
    }
}

std::optional<std::string> Control::read_line() {
    while (true) {
        if (const size_t pos = buffer_.find('\n'); pos != std::string::npos) {
            std::string line = buffer_.substr(0, pos);
            buffer_.erase(0, pos + 1);
            return line;
        }
        if (!readable(fd_, timeout_ms_))
            throw std::runtime_error("serve client: no response within " + std::to_string(timeout_ms_) + " ms");
        char chunk[65536];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return std::nullopt;
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("serve client: recv");
        }
        buffer_.append(chunk, static_cast<size_t>(n));
    }
}

nlohmann::json Control::request(nlohmann::json req) {
    if (!req.contains("id")) req["id"] = next_id_++;
    send_raw(req.dump() + "\n");
    const auto line = read_line();
    if (!line) throw std::runtime_error("serve client: the server closed the connection");
    return nlohmann::json::parse(*line);
}

Subscriber::Subscriber(const std::string& host) : fd_(open_socket(SOCK_DGRAM)), buffer_(65536) {
    sockaddr_in a = address(host, 0);
    socklen_t len = sizeof a;
    const int size_bytes = 8 << 20;  // bursts of a tick's datagrams
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size_bytes, sizeof size_bytes);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(fd_);
        fail("serve client: bind a subscriber socket on " + host);
    }
    port_ = ntohs(a.sin_port);
}

Subscriber::~Subscriber() { ::close(fd_); }

std::optional<protocol::Output> Subscriber::receive(int timeout_ms) {
    if (!readable(fd_, timeout_ms)) return std::nullopt;
    const ssize_t n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    if (n < 0) fail("serve client: recv");
    auto d = protocol::decode_output(buffer_.data(), static_cast<size_t>(n));
    if (!d.ok()) throw std::runtime_error("serve client: a datagram from the server was rejected: " + d.reason);
    return std::move(d.value);
}

}  // namespace neuroemu::serve::client
