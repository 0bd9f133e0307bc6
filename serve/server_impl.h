// The server's internals, shared by server.cpp (lifecycle, UDP input, the engine thread and outputs) and
// control.cpp (the TCP control channel). Everything marked "mu" is guarded by Impl::mu; the rest belongs to one
// thread, named beside it.
#pragma once

#include <utility>  // before Asio (Boost 1.74 headers use std::exchange without including it)

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "serve/protocol.h"
#include "serve/server.h"

namespace neuroemu::serve {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using Clock = std::chrono::steady_clock;

// Latency in ns in log-spaced buckets (4 per octave, 1 ns .. 2^40 ns): bounded memory, percentiles within 19%.
class LatencyHistogram {
public:
    void add(int64_t ns);
    int64_t count() const { return count_; }
    int64_t percentile(double p) const;  // the bucket's geometric middle; 0 when empty
    nlohmann::json json() const;

private:
    static constexpr int kPerOctave = 4, kBuckets = 40 * kPerOctave + 1;
    std::array<int64_t, kBuckets> buckets_{};
    int64_t count_ = 0, max_ = 0;
};

// One tick's queued input: events of every datagram for it, merged (a datagram is atomic: all or none).
struct TickInput {
    std::vector<InputSpike> events;
    int64_t spikes = 0;  // counts summed
    uint16_t flags = 0;  // RESET, LABEL, END of any datagram for the tick
    int32_t label = -1;
    std::vector<Clock::time_point> arrivals;  // per datagram: latency to the tick's start
};

struct Subscription {
    udp::endpoint endpoint;
    std::vector<int> populations;  // model population indices (published ones)
    bool spikes = true, ticks = true, classifications = true;
    uint32_t sequence = 0;
};

struct DropCount {
    int64_t datagrams = 0, events = 0;
};

struct Counters {
    int64_t datagrams = 0, events_received = 0, input_spikes_consumed = 0;
    std::map<std::string, DropCount> drops;  // by reason
    int64_t dropped_events = 0;
    int64_t sequence_missing = 0, sequence_reordered = 0, senders_evicted = 0;
    int64_t deadline_misses = 0, worst_lateness_ns = 0;
    int64_t samples = 0, labelled = 0, correct = 0;
    int64_t connections = 0, connections_accepted = 0, connections_refused = 0;
    int64_t closed_slow_reader = 0, closed_idle = 0, closed_oversized = 0;
    int64_t requests = 0, request_errors = 0;
    int64_t outputs_sent = 0, outputs_failed = 0;
    int64_t engine_errors = 0;  // ticks whose step threw (never expected: input is checked when it arrives)
    std::string last_engine_error;
};

struct SenderState {
    uint32_t last_sequence = 0;
    uint64_t last_seen = 0;  // the datagram count when last heard: the oldest is evicted
};

class Connection;

struct Server::Impl {
    Impl(ServerOptions options, std::unique_ptr<Session> session, SessionFactory factory);

    ServerOptions options;
    const ServerLimits& limits() const { return options.limits; }
    SessionFactory factory;
    TickObserver observer;
    ClassifyObserver classify_observer;

    asio::io_context io;
    udp::socket udp_in{io};
    udp::socket udp_out{io};  // the engine thread's alone (outputs are sent from it)
    tcp::acceptor acceptor{io};
    asio::signal_set signals{io};
    std::thread io_thread, engine_thread;
    std::array<uint8_t, 65536> datagram{};  // io thread
    udp::endpoint sender;                   // io thread
    int signals_seen = 0;                   // io thread
    uint16_t udp_port = 0, control_port = 0;  // bound, read back once (the sockets belong to the io thread)

    mutable std::mutex mu;
    std::condition_variable cv;
    bool stopping = false, stopped = false;          // mu
    bool paused = false;                             // mu
    int64_t run_remaining = 0;                       // mu: ticks left of a `run N`
    std::function<void()> run_done;                  // mu: answers the `run`
    std::deque<std::function<void()>> jobs;          // mu: run on the engine thread between ticks
    std::map<uint64_t, TickInput> queue;             // mu: input by tick
    int64_t queued_events = 0, queued_datagrams = 0;  // mu
    uint64_t next_tick = 1;                          // mu: the tick that starts next
    uint64_t ticks_done = 0;                         // mu: the last tick that ended
    std::unordered_map<std::string, SenderState> senders;  // mu
    std::map<int64_t, Subscription> subscriptions;   // mu
    int64_t next_subscription = 1;                   // mu
    Counters counters;                               // mu
    LatencyHistogram input_latency, output_latency;  // mu
    double ticks_per_s = 0;                          // mu
    int64_t step = 0;                                // mu: the network's step
    nlohmann::json model_info;                       // mu: hello's model part
    protocol::InputShape shape;                      // mu
    std::vector<int> published;                      // mu
    std::vector<std::string> population_names;       // mu

    std::unique_ptr<Session> session;  // engine thread (and the constructor)
    int32_t sample_label = -1;         // engine thread
    std::vector<uint64_t> last_fields;  // engine thread: the last TICK record

    // server.cpp
    void describe_model();  // model_info, shape, published from `session` (engine thread or constructor)
    void receive();
    void on_datagram(size_t size);
    void drop(const std::string& reason, int64_t events);  // mu held
    void track_sender(uint32_t sequence);                    // mu held
    void engine_loop();
    void run_tick(TickInput& input, uint64_t tick);
    void publish(uint64_t tick, const TickResult& r, const SampleEnd* outcome, Clock::time_point tick_end);
    void send(const Subscription& s, std::vector<uint8_t>& datagram, Clock::time_point tick_end);  // mu held
    void send_final_counters();
    void request_stop();
    void post_job(std::function<void()> job);
    nlohmann::json status() const;  // mu held
    nlohmann::json hello() const;   // mu held

    // control.cpp
    void accept();
    void on_signal(int signal);
};

}  // namespace neuroemu::serve
