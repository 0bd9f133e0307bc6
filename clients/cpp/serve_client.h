// A C++ client of `neuroemu serve` (docs/serve.md): sends EVENTS datagrams, talks on the control channel (one JSON
// request -> one JSON response) and receives subscribed outputs. Blocking POSIX sockets with timeouts; errors and
// timeouts throw std::runtime_error naming what failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/protocol.h"

namespace neuroemu::serve::client {

// Sends EVENTS datagrams from one UDP socket (one sender: one sequence counter).
class EventSender {
public:
    EventSender(const std::string& host, uint16_t port);
    ~EventSender();
    EventSender(const EventSender&) = delete;
    EventSender& operator=(const EventSender&) = delete;

    // The events of one tick (0: the next tick to start), split over as many datagrams as they need (FLAT, and
    // COUNTS when a count is not 1); `flags` (RESET, LABEL, END) go on each. One datagram when `events` is empty.
    // Returns the datagrams sent.
    int send_tick(uint64_t tick, const std::vector<InputSpike>& events, uint16_t flags, int32_t label,
                  const protocol::InputShape& shape);
    // Any bytes as one datagram (hostile tests).
    void send_raw(const std::vector<uint8_t>& bytes);
    uint32_t next_sequence() const { return sequence_; }

private:
    int fd_ = -1;
    uint32_t sequence_ = 0;
};

// A control connection: newline-delimited JSON.
class Control {
public:
    Control(const std::string& host, uint16_t port, int timeout_ms = 30000);
    ~Control();
    Control(const Control&) = delete;
    Control& operator=(const Control&) = delete;

    // Sends `req` (an "id" added when it has none) and returns the response with the same id.
    nlohmann::json request(nlohmann::json req);
    void send_raw(const std::string& bytes);
    // The next response line; nullopt when the server closed the connection.
    std::optional<std::string> read_line();
    void set_timeout_ms(int ms) { timeout_ms_ = ms; }

private:
    int fd_ = -1;
    int timeout_ms_;
    int64_t next_id_ = 1;
    std::string buffer_;
};

// A UDP socket bound to an ephemeral port of `host`, receiving subscribed outputs.
class Subscriber {
public:
    explicit Subscriber(const std::string& host = "127.0.0.1");
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    uint16_t port() const { return port_; }
    // The next datagram decoded (a decode error throws), or nullopt after `timeout_ms` without one.
    std::optional<protocol::Output> receive(int timeout_ms);

private:
    int fd_ = -1;
    uint16_t port_ = 0;
    std::vector<uint8_t> buffer_;
};

}  // namespace neuroemu::serve::client
