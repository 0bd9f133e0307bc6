// `neuroemu serve`: an emulated chip on the network (docs/serve.md). Two threads: the io thread (Boost.Asio: the UDP
// input socket, the TCP control acceptor and its connections, signals) and the engine thread, which owns the
// Session and runs the tick loop (paused, free running, or paced to wall-clock ticks) and sends the outputs to
// subscribers. They share the input queue, the subscriptions and the counters under one mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/session.h"

namespace boost::asio {
class io_context;
}

namespace neuroemu::serve {

// Every queue's bound (docs/serve.md, "Bounds"): beyond it input is dropped and counted, or a client is closed.
struct ServerLimits {
    int64_t max_queued_events = 2'000'000;   // input records queued over all ticks (8 bytes each)
    int64_t max_queued_datagrams = 200'000;  // EVENTS datagrams queued (their arrival times: latency)
    int64_t max_tick_events = 1'000'000;     // input records of one tick
    int64_t max_tick_spikes = 1'000'000;     // input spikes of one tick (counts summed): the engine's work
    int64_t max_ahead_ticks = 100'000;       // EVENTS for a tick further ahead: "too_far"
    int64_t max_senders = 1024;              // senders whose sequence numbers are tracked (oldest evicted)
    int64_t max_connections = 32;            // control connections at once
    int64_t max_request_bytes = 4 << 20;     // one request line
    int64_t max_pending_response_bytes = 1 << 20;  // unsent response bytes of one connection: beyond, closed
    int64_t max_json_depth = 64;             // nesting of a request
    int64_t max_subscriptions = 16;
    int64_t max_classify_ticks = 65535;      // the engine's counts are 16-bit
};

struct ServerOptions {
    std::string listen_host = "127.0.0.1";
    uint16_t udp_port = 0;      // 0: ephemeral
    uint16_t control_port = 0;  // 0: ephemeral
    bool allow_remote = false;  // a non-loopback listen_host needs it, and then a token
    std::string token;          // required on the control channel when non-empty
    int64_t tick_us = 0;        // 0: free running (as fast as possible); N: ticks paced N microseconds apart
    bool start_paused = false;
    int64_t idle_timeout_s = 60;  // a control connection silent this long (no request in progress) is closed
    std::string model_dir;      // `load` reads configs inside it only
    bool handle_signals = false;  // SIGINT/SIGTERM stop the server (a second exits at once): the CLI's
    ServerLimits limits;
};

// A sample that ended: a streamed one (EVENTS flag END) or a `classify` request; its decision after its last tick.
struct SampleEnd {
    int64_t tick = 0;  // the server tick it ended with (0 for classify: not a streamed tick)
    int64_t steps = 0;
    int64_t decision = -1;
    int32_t label = -1;  // -1: unknown
    std::vector<float> readout;
};

// What the server adds to a streamed tick, for observers.
struct TickContext {
    int64_t tick = 0;                     // the server's tick (as in the outputs)
    const SampleEnd* sample = nullptr;    // the sample that ended with this tick, if one did
    int64_t deadline_misses = -1;         // so far when paced (--tick-us), else -1
    std::chrono::steady_clock::time_point end;  // the tick's end
};

// Builds the Session of a config (`load`): given the resolved config path. The CLI passes Session::load.
using SessionFactory = std::function<std::unique_ptr<Session>(const std::string& config)>;
// Called on the engine thread after each streamed tick (not classify's), e.g. by the live page's aggregator.
// Must not block.
using TickObserver = std::function<void(const TickResult& tick, const TickContext& context)>;
// Called on the engine thread when a `classify` request's sample ends.
using ClassifyObserver = std::function<void(const SampleEnd& sample)>;

class Server {
public:
    // Binds the sockets (ports 0: ephemeral, read back with udp_port()/control_port()); throws Error when the
    // options are unsafe (a non-loopback address without allow_remote) or a socket cannot be bound.
    Server(ServerOptions options, std::unique_ptr<Session> session, SessionFactory factory);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Before start(): the observers of every streamed tick and of every classify.
    void set_tick_observer(TickObserver observer);
    void set_classify_observer(ClassifyObserver observer);
    // The io thread's context (e.g. for the live page's server, which runs beside the control channel).
    boost::asio::io_context& io_context();
    // Starts the io and engine threads.
    void start();
    // Blocks until the server stops (shutdown request, signal, stop()).
    void wait();
    // Stops after the current tick, sends final TICK counters to subscribers, joins the threads. Idempotent.
    void stop();

    uint16_t udp_port() const;
    uint16_t control_port() const;
    const std::string& token() const;
    std::string listen_host() const;
    // The counters, queue sizes and latency percentiles (the `status` response without id/ok); thread-safe.
    nlohmann::json status_json() const;
    // The model's description (the `hello` response without id/ok); thread-safe.
    nlohmann::json hello_json() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// "a.b.c.d" or "::1" etc.: whether the address is a loopback address (127.0.0.0/8, ::1).
bool is_loopback(const std::string& host);

}  // namespace neuroemu::serve
