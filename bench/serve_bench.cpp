// Benchmark of `neuroemu serve` (issue 18, part 8; bench/serve.sh runs it). Not part of the tests.
//
// (a) Throughput: input events per second from a loopback client into the running engine (free running, as fast
//     as possible) with the output layer's spikes and the per-tick counters going out, for several events per
//     tick; latency from an event's arrival to the start of the tick that consumed it (the server's histogram)
//     and from a tick's end to the client's receipt of its TICK datagram (field [11], measured here). Two
//     baselines measured in the same run: the same events stepped through the Session in process (no sockets:
//     the engine's own ceiling) and the same datagrams over raw loopback UDP to a socket that only decodes them
//     (the transport's ceiling). --flood also sends a tick's worth for the next tick as fast as the sender can.
// (b) Real-time pacing: ticks paced --tick-us apart (1 ms) while Fashion-MNIST test images stream in as the
//     engine's Poisson events; the deadline-miss rate, the worst lateness and the engine's tick wall time.
//
// The server runs in this process (serve::Server, its io and engine threads) and is reached over real sockets.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_map>

#include "clients/cpp/serve_client.h"
#include "common/random.h"
#include "data/dataset_spec.h"
#include "serve/server.h"
#include "serve/session.h"
#include "sim/encoding/encoding.h"

namespace neuroemu::serve {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchOptions {
    std::string config;
    std::vector<std::string> set{"simulation.encoding=poisson"};
    double seconds = 1.0;
    std::vector<int64_t> events_per_tick{100, 400, 784};
    bool flood = false;
    int64_t pacing_ticks = 5000;
    int64_t tick_us = 1000;
    int64_t steps = 100;  // ticks per streamed image (pacing)
    int64_t lead_ticks = 16;  // throughput: ticks a batch is sent ahead of the last tick seen (fewer: some late)
    int64_t repeats = 3;     // throughput: each measurement this many times, the best kept
    std::string json_file;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// p-th percentile (nearest rank) of `v` (sorted in place); 0 when empty.
double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t k = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

std::unique_ptr<Session> load_session(const BenchOptions& o) {
    SessionOptions s;
    s.config = o.config;
    s.set = o.set;
    return Session::load(s);
}

protocol::InputShape input_shape(const Session& session) {
    const auto& in = session.populations().at(0).shape;
    protocol::InputShape shape;
    if (in.size() == 3) shape.channels = in[0], shape.height = in[1], shape.width = in[2];
    else shape.width = session.input_size();
    shape.classes = session.classes();
    return shape;
}

// `n` events of one tick on distinct input neurons drawn uniformly (seeded), one spike each, as a Poisson-encoded
// image has them (at most one spike per neuron per step: the engine's spike lists hold one per neuron).
std::vector<InputSpike> uniform_events(int64_t n, int64_t input_size, uint64_t seed) {
    if (n > input_size)
        throw std::invalid_argument(fmt::format("--events-per-tick: {} is more than the {} input neurons", n, input_size));
    std::vector<int32_t> all(static_cast<size_t>(input_size));
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), std::mt19937_64(seed));
    std::vector<InputSpike> out(static_cast<size_t>(n));
    for (size_t k = 0; k < out.size(); ++k) out[k].index = all[k];
    std::sort(out.begin(), out.end(), [](const InputSpike& a, const InputSpike& b) { return a.index < b.index; });
    return out;
}

// The FLAT datagrams carrying `events` for `tick` (sequence numbers patched by the sender).
std::vector<std::vector<uint8_t>> encode_tick(const std::vector<InputSpike>& events, uint64_t tick,
                                              const protocol::InputShape& shape) {
    const size_t per = protocol::max_events_per_datagram(protocol::kFlat);
    std::vector<std::vector<uint8_t>> out;
    for (size_t first = 0; first < events.size() || out.empty(); first += per) {
        protocol::Events m;
        m.tick = tick;
        m.events.assign(events.begin() + static_cast<std::ptrdiff_t>(first),
                        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), first + per)));
        out.push_back(protocol::encode_events(m, protocol::kFlat, shape));
    }
    return out;
}

// Header fields patched in place (little-endian: offset 8 the sequence, 16 the tick), sparing a re-encode.
void set_sequence(std::vector<uint8_t>& datagram, uint32_t sequence) {
    for (int i = 0; i < 4; ++i) datagram[8 + static_cast<size_t>(i)] = static_cast<uint8_t>(sequence >> (8 * i));
}

void set_tick(std::vector<uint8_t>& datagram, uint64_t tick) {
    for (int i = 0; i < 8; ++i) datagram[16 + static_cast<size_t>(i)] = static_cast<uint8_t>(tick >> (8 * i));
}

// ---------------------------------------------------------------------------------------------------------------
// Baselines

// The engine alone: the same events stepped in process for `seconds`.
json engine_baseline(Session& session, const std::vector<InputSpike>& events, double seconds) {
    session.reset();
    const auto t0 = Clock::now();
    int64_t ticks = 0, consumed = 0;
    while (seconds_since(t0) < seconds) {
        consumed += session.step(events).input_spikes;
        ++ticks;
    }
    const double s = seconds_since(t0);
    return {{"ticks_per_s", ticks / s}, {"events_per_s", static_cast<double>(consumed) / s}};
}

// Events in the FLAT datagrams `d` (4 bytes a record).
int64_t flat_events(const std::vector<uint8_t>& d) { return static_cast<int64_t>(d.size() - protocol::kHeaderBytes) / 4; }

// The transport alone: the datagrams sent as fast as possible over loopback to a socket that decodes them.
json udp_baseline(const std::vector<std::vector<uint8_t>>& datagrams, const protocol::InputShape& shape, double seconds) {
    const int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
    const int buffer_bytes = 8 << 20;
    ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    const timeval poll_interval{0, 100000};  // the reader notices the end of sending within 0.1 s
    ::setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &poll_interval, sizeof poll_interval);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (rx < 0 || ::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (rx >= 0) ::close(rx);
        throw std::runtime_error("udp baseline: cannot bind a loopback socket");
    }
    client::EventSender tx("127.0.0.1", ntohs(a.sin_port));
    std::atomic<bool> sending{true};
    int64_t received = 0;  // the reader's until joined
    std::thread reader([&] {
        std::vector<uint8_t> buf(protocol::kMaxDatagramBytes + 1);
        for (;;) {
            const ssize_t n = ::recv(rx, buf.data(), buf.size(), 0);
            if (n < 0) {
                if (!sending) break;
                continue;
            }
            const auto d = protocol::decode_events(buf.data(), static_cast<size_t>(n), shape);
            if (d.ok()) received += static_cast<int64_t>(d.value.events.size());
        }
    });
    int64_t sent = 0;
    auto copies = datagrams;
    const auto t0 = Clock::now();
    for (uint32_t seq = 0; seconds_since(t0) < seconds;)
        for (auto& d : copies) {
            set_sequence(d, seq++);
            tx.send_raw(d);
            sent += flat_events(d);
        }
    const double s = seconds_since(t0);
    sending = false;
    reader.join();
    ::close(rx);
    return {{"events_per_s", static_cast<double>(received) / s}, {"sent_per_s", static_cast<double>(sent) / s}};
}

// ---------------------------------------------------------------------------------------------------------------
// The served engine

struct Served {
    std::unique_ptr<Server> server;
    protocol::InputShape shape;
    int64_t input_size = 0;
    int64_t next_tick = 0;  // past the last tick a run addressed: one batch per tick, also across runs
};

Served start_server(std::unique_ptr<Session> session, int64_t tick_us) {
    Served s;
    s.shape = input_shape(*session);
    s.input_size = session->input_size();
    ServerOptions so;
    so.tick_us = tick_us;
    so.model_dir = ".";
    s.server = std::make_unique<Server>(so, std::move(session), [](const std::string&) -> std::unique_ptr<Session> {
        throw std::runtime_error("the benchmark serves one model");
    });
    s.server->start();
    return s;
}

// What the client sees of the outputs: TICK receipts (tick end -> receipt latency; with the send times of the
// ticks' events, send -> tick start), SPIKES datagrams, gaps.
struct OutputStats {
    int64_t last_tick = 0, ticks = 0, spike_datagrams = 0, spikes = 0, missing = 0;
    std::vector<double> receipt_ns, wall_ns, send_to_start_ns;
    std::unordered_map<int64_t, int64_t> sent_ns;  // tick -> when its events were sent
    std::deque<int64_t> unaddressed_sent_ns;        // batches for "the next tick": when each was sent, in order
    int64_t batch_spikes = 0;                       // spikes per such batch
    uint32_t last_sequence = 0;
    bool any = false;

    void take(const protocol::Output& out) {
        if (any && protocol::sequence_delta(last_sequence, out.header.sequence) > 1)
            missing += protocol::sequence_delta(last_sequence, out.header.sequence) - 1;
        last_sequence = out.header.sequence, any = true;
        if (out.type() == protocol::Type::spikes) {
            ++spike_datagrams;
            spikes += static_cast<int64_t>(out.units.size());
        } else if (out.type() == protocol::Type::tick) {
            ++ticks;
            last_tick = std::max<int64_t>(last_tick, static_cast<int64_t>(out.header.tick));
            const auto end_ns = static_cast<int64_t>(out.fields[protocol::kTickEndNs]);
            const auto wall = static_cast<int64_t>(out.fields[protocol::kTickWallNs]);
            receipt_ns.push_back(static_cast<double>(now_ns() - end_ns));
            wall_ns.push_back(static_cast<double>(wall));
            // Batches for the next tick are consumed in the order sent: a tick that took k of them pops k.
            for (auto k = batch_spikes ? static_cast<int64_t>(out.fields[protocol::kInputSpikes]) / batch_spikes : 0;
                 k > 0 && !unaddressed_sent_ns.empty(); --k) {
                send_to_start_ns.push_back(static_cast<double>(end_ns - wall - unaddressed_sent_ns.front()));
                unaddressed_sent_ns.pop_front();
            }
            const auto sent = sent_ns.find(static_cast<int64_t>(out.header.tick));
            if (sent != sent_ns.end() && out.fields[protocol::kInputSpikes] > 0) {
                send_to_start_ns.push_back(static_cast<double>(end_ns - wall - sent->second));
                sent_ns.erase(sent);
            }
        }
    }
    // Everything already queued on the socket, or one wait of `timeout_ms`.
    void drain(client::Subscriber& sub, int timeout_ms) {
        for (auto out = sub.receive(timeout_ms); out; out = sub.receive(0)) take(*out);
    }
};

// Events dropped between two `status` responses, by reason.
json drops_by_reason(const json& before, const json& after) {
    json out = json::object();
    for (const auto& [reason, d] : after["input"]["drops"].items()) {
        const auto& was = before["input"]["drops"];
        const int64_t n = d["events"].get<int64_t>() - (was.contains(reason) ? was[reason]["events"].get<int64_t>() : 0);
        if (n > 0) out[reason] = n;
    }
    return out;
}

json latency_json(std::vector<double> ns) {
    return {{"p50_us", percentile(ns, 50) / 1e3}, {"p99_us", percentile(ns, 99) / 1e3},
            {"max_us", ns.empty() ? 0.0 : *std::max_element(ns.begin(), ns.end()) / 1e3}};
}

// How a served run sends its batches.
enum class Feed {
    Scheduled,  // each tick's batch addressed explicitly, `lead` ticks ahead of the last TICK received
    NextTick,   // a sensor's way: one batch for "the next tick" (tick 0) per TICK received, so latency is the wait
                // for the running tick to end
    Flood,      // batches for the next tick back to back, so that several land in one tick
};

// One served run of `feed`. Scheduled and NextTick: one batch per tick (the engine sets the pace; a batch arriving
// after its tick started is dropped as late and counted).
json served_run(Served& s, const std::vector<InputSpike>& events, Feed feed, double seconds, int64_t lead) {
    const bool flood = feed == Feed::Flood;
    if (feed == Feed::NextTick) lead = 1;
    client::Control ctl("127.0.0.1", s.server->control_port());
    client::Subscriber sub;
    const json subscription = ctl.request({{"op", "subscribe"}, {"port", sub.port()}, {"classifications", false}})["subscription"];
    client::EventSender tx("127.0.0.1", s.server->udp_port());
    auto datagrams = encode_tick(events, 0, s.shape);
    OutputStats out;
    if (feed == Feed::NextTick) out.batch_spikes = static_cast<int64_t>(events.size());
    const json before = ctl.request({{"op", "status"}});
    out.last_tick = before["tick"].get<int64_t>();
    int64_t next = std::max(s.next_tick, out.last_tick + lead);
    const auto t0 = Clock::now();
    uint32_t seq = 0;
    int64_t sent = 0;
    while (seconds_since(t0) < seconds) {
        for (; flood || next <= out.last_tick + lead; ++next) {
            if (feed == Feed::Scheduled) out.sent_ns[next] = now_ns();
            if (feed == Feed::NextTick) out.unaddressed_sent_ns.push_back(now_ns());
            for (auto& d : datagrams) {
                set_sequence(d, seq++);
                set_tick(d, feed == Feed::Scheduled ? static_cast<uint64_t>(next) : 0);
                tx.send_raw(d);
                sent += flat_events(d);
            }
            if (flood) break;
        }
        out.drain(sub, flood ? 0 : 5);
    }
    const json after = ctl.request({{"op", "status"}});
    const double s_elapsed = seconds_since(t0);
    s.next_tick = next;
    ctl.request({{"op", "unsubscribe"}, {"subscription", subscription}});
    const auto delta = [&](const char* a, const char* b) {
        return static_cast<double>(after[a][b].get<int64_t>() - before[a][b].get<int64_t>());
    };
    return {{"mode", flood ? "flood" : feed == Feed::NextTick ? "next_tick" : "per_tick"},
            {"events_per_tick", flood ? json(nullptr) : json(events.size())},
            {"sent_events", sent},
            {"sent_per_s", static_cast<double>(sent) / s_elapsed},
            {"events_per_s", delta("input", "spikes_consumed") / s_elapsed},
            {"ticks_per_s", static_cast<double>(after["tick"].get<int64_t>() - before["tick"].get<int64_t>()) / s_elapsed},
            {"dropped_events", delta("input", "dropped_events")},
            {"drops", drops_by_reason(before, after)},
            {"sequence_missing", delta("input", "sequence_missing")},
            {"output_spikes_per_s", static_cast<double>(out.spikes) / s_elapsed},
            {"outputs_missing", out.missing},
            {"lead_ticks", feed == Feed::Scheduled ? json(lead) : json(nullptr)},
            {"send_to_tick_start_us", latency_json(out.send_to_start_ns)},
            {"server_arrival_to_tick_start_us", {{"p50", after["latency"]["arrival_to_tick_start"]["p50_ns"].get<double>() / 1e3},
                                                 {"p99", after["latency"]["arrival_to_tick_start"]["p99_ns"].get<double>() / 1e3}}},
            {"tick_end_to_receipt_us", latency_json(out.receipt_ns)},
            {"tick_end_to_send_us", {{"p50", after["latency"]["tick_end_to_send"]["p50_ns"].get<double>() / 1e3},
                                     {"p99", after["latency"]["tick_end_to_send"]["p99_ns"].get<double>() / 1e3}}}};
}

// The better of two measurements of the same thing (more events per second): on a shared machine the slower one
// mostly measured the neighbours.
json best(json a, const json& b) { return a.is_null() || b["events_per_s"] > a["events_per_s"] ? b : a; }

json throughput(const BenchOptions& o) {
    auto baseline_session = load_session(o);
    const auto shape = input_shape(*baseline_session);
    const int64_t input_size = baseline_session->input_size();
    std::vector<std::vector<InputSpike>> loads;
    for (int64_t n : o.events_per_tick) loads.push_back(uniform_events(n, input_size, 7 + static_cast<uint64_t>(n)));
    // The transport: datagrams as large as the input allows (one tick's worth each), back to back.
    const auto flood_events = uniform_events(input_size, input_size, 1);
    Served served = start_server(load_session(o), 0);
    // Engine alone and served, alternated `repeats` times, the best of each kept: both see the same neighbours.
    std::vector<json> engine(loads.size()), rows(loads.size());
    json udp, flood, next_tick;
    // The server is paused while a baseline runs (free running, it would tick on without input beside it).
    client::Control ctl("127.0.0.1", served.server->control_port());
    const auto paused = [&](auto measure) {
        ctl.request({{"op", "pause"}});
        json m = measure();
        ctl.request({{"op", "resume"}});
        return m;
    };
    for (int64_t r = 0; r < o.repeats; ++r) {
        for (size_t i = 0; i < loads.size(); ++i) {
            engine[i] = best(engine[i], paused([&] { return engine_baseline(*baseline_session, loads[i], o.seconds); }));
            rows[i] = best(rows[i], served_run(served, loads[i], Feed::Scheduled, o.seconds, o.lead_ticks));
        }
        next_tick = best(next_tick, served_run(served, loads[loads.size() / 2], Feed::NextTick, o.seconds, 1));
        udp = best(udp, paused([&] { return udp_baseline(encode_tick(flood_events, 0, shape), shape, o.seconds); }));
        if (!o.flood) continue;
        flood = best(flood, served_run(served, flood_events, Feed::Flood, o.seconds, 0));
        // A flood leaves up to a tick's bound queued: consumed before the next measurement, not counted in it.
        const auto t0 = Clock::now();
        while (ctl.request({{"op", "status"}})["queues"]["events"].get<int64_t>() > 0 && seconds_since(t0) < 30)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    served.server->stop();
    json out = json::array();
    for (size_t i = 0; i < loads.size(); ++i) {
        rows[i]["engine_events_per_s"] = engine[i]["events_per_s"];
        rows[i]["engine_ticks_per_s"] = engine[i]["ticks_per_s"];
        out.push_back(rows[i]);
    }
    if (o.flood) out.push_back(flood);
    return {{"rows", out}, {"next_tick", next_tick}, {"udp_baseline", udp}, {"repeats", o.repeats}, {"seconds_each", o.seconds}};
}

// ---------------------------------------------------------------------------------------------------------------
// Pacing

// The first test images as the engine's Poisson events (its encoding and per-image seed): per image, per step, the
// [H][W][C] draws turned into [C][H][W] addresses.
struct Stream {
    std::vector<std::vector<std::vector<InputSpike>>> events;
    std::vector<int32_t> labels;
};

Stream poisson_images(const Session& session, int64_t images, int64_t steps) {
    const Settings& settings = session.settings();
    const auto shape = input_shape(session);
    const ImageSet set = load_dataset(settings, Split::Test, images, {shape.channels, shape.height, shape.width});
    const auto encoding = make_input_encoding("poisson");
    const uint64_t seed = static_cast<uint64_t>(settings.get_int("seed"));
    const int64_t plane = shape.height * shape.width;
    Stream stream;
    auto& out = stream.events;
    out.resize(static_cast<size_t>(set.count));
    for (auto label : set.labels) stream.labels.push_back(static_cast<int32_t>(label));
    std::vector<float> chw(static_cast<size_t>(shape.size())), hwc(chw.size());
    std::vector<int32_t> fired;
    for (int64_t i = 0; i < set.count; ++i) {
        image_to_input(set, i, input_normalisation(settings, shape.channels), chw.data());
        for (int64_t c = 0; c < shape.channels; ++c)
            for (int64_t p = 0; p < plane; ++p) hwc[static_cast<size_t>(p * shape.channels + c)] = chw[static_cast<size_t>(c * plane + p)];
        uint64_t rng = seed ^ (0xD1B54A32D192ED03ull * static_cast<uint64_t>(set.first + i + 1));
        for (int64_t t = 0; t < steps; ++t) {
            fired.clear();
            encoding->spikes(hwc, rng, fired);
            auto& step = out[static_cast<size_t>(i)].emplace_back();
            for (int32_t j : fired)
                step.push_back({static_cast<int32_t>((j % shape.channels) * plane + j / shape.channels), 1});
        }
    }
    return stream;
}

json pacing(const BenchOptions& o) {
    auto session = load_session(o);
    const int64_t images = (o.pacing_ticks + o.steps - 1) / o.steps + 1;
    const Stream stream = poisson_images(*session, images, o.steps);
    Served s = start_server(std::move(session), o.tick_us);
    client::Control ctl("127.0.0.1", s.server->control_port());
    client::Subscriber sub;
    ctl.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}});
    client::EventSender tx("127.0.0.1", s.server->udp_port());
    OutputStats out;
    const int64_t lead = std::max<int64_t>(20, 20'000 / std::max<int64_t>(1, o.tick_us));  // >= 20 ms ahead
    const int64_t first = ctl.request({{"op", "status"}})["tick"].get<int64_t>() + lead;
    const json before = ctl.request({{"op", "status"}});
    int64_t next = first;  // the next tick to fill
    const auto t0 = Clock::now();
    const double limit_s = 30.0 + 3e-6 * static_cast<double>(o.pacing_ticks * o.tick_us);
    while (out.last_tick < first + o.pacing_ticks) {
        if (seconds_since(t0) > limit_s) throw std::runtime_error("pacing: the server stopped sending TICKs");
        for (; next <= std::max(out.last_tick, first) + lead && next < first + o.pacing_ticks; ++next) {
            const int64_t k = next - first, image = k / o.steps, step = k % o.steps;
            const uint16_t flags = (step == 0 ? protocol::kReset : 0) | protocol::kLabel |
                                   (step == o.steps - 1 ? protocol::kEnd : 0);
            tx.send_tick(static_cast<uint64_t>(next), stream.events[static_cast<size_t>(image)][static_cast<size_t>(step)],
                         flags, stream.labels[static_cast<size_t>(image)], s.shape);
        }
        out.drain(sub, 5);
    }
    const json after = ctl.request({{"op", "status"}});
    const double elapsed_s = seconds_since(t0);
    s.server->stop();
    const int64_t ticks = after["tick"].get<int64_t>() - before["tick"].get<int64_t>();
    const int64_t misses = after["deadline"]["misses"].get<int64_t>() - before["deadline"]["misses"].get<int64_t>();
    return {{"tick_us", o.tick_us}, {"ticks", ticks}, {"deadline_misses", misses},
            {"miss_rate", static_cast<double>(misses) / static_cast<double>(std::max<int64_t>(1, ticks))},
            {"worst_lateness_us", after["deadline"]["worst_lateness_ns"].get<double>() / 1e3},
            {"ticks_per_s", static_cast<double>(ticks) / elapsed_s},
            {"tick_wall_us", latency_json(out.wall_ns)},
            {"tick_end_to_receipt_us", latency_json(out.receipt_ns)},
            {"dropped_events", after["input"]["dropped_events"]},
            {"accuracy", after["accuracy"]}};
}

// ---------------------------------------------------------------------------------------------------------------

void print_throughput(const json& t) {
    fmt::print("(a) events into the running engine (free running), output spikes and TICKs to a subscriber\n");
    fmt::print("  {:>7}  {:>11}  {:>11}  {:>5}  {:>7}  {:>7}  {:>9}  {:>9}  {:>9}  {:>9}\n", "ev/tick", "served ev/s",
               "engine ev/s", "ratio", "ticks/s", "drop %", "in p50us", "in p99us", "out p50us", "out p99us");
    for (const auto& r : t["rows"]) {
        const bool flood = r["mode"] == "flood";
        const double served = r["events_per_s"].get<double>(), engine = flood ? 0.0 : r["engine_events_per_s"].get<double>();
        const double dropped = 100.0 * r["dropped_events"].get<double>() / std::max(1.0, r["sent_events"].get<double>());
        fmt::print("  {:>7}  {:>11.0f}  {:>11}  {:>5}  {:>7.0f}  {:>7.2f}  {:>9}  {:>9}  {:>9.0f}  {:>9.0f}\n",
                   flood ? std::string("flood") : std::to_string(r["events_per_tick"].get<int64_t>()), served,
                   flood ? std::string("-") : fmt::format("{:.0f}", engine),
                   flood ? std::string("-") : fmt::format("{:.2f}", served / engine), r["ticks_per_s"].get<double>(),
                   dropped,
                   flood ? std::string("-") : fmt::format("{:.0f}", r["send_to_tick_start_us"]["p50_us"].get<double>()),
                   flood ? std::string("-") : fmt::format("{:.0f}", r["send_to_tick_start_us"]["p99_us"].get<double>()),
                   r["tick_end_to_receipt_us"]["p50_us"].get<double>(), r["tick_end_to_receipt_us"]["p99_us"].get<double>());
        if (!r["drops"].empty()) fmt::print("  {:>7}  dropped by reason: {}\n", "", r["drops"].dump());
    }
    const json& n = t["next_tick"];
    fmt::print("  sensor-style, each batch for the next tick (tick 0), one per TICK received, {} events: {:.0f} events/s, "
               "{:.2f}% dropped; sent -> tick start p50 {:.0f} us, p99 {:.0f} us; tick end -> "
               "TICK received p50 {:.0f} us, p99 {:.0f} us\n",
               n["events_per_tick"].get<int64_t>(), n["events_per_s"].get<double>(),
               100.0 * n["dropped_events"].get<double>() / std::max(1.0, n["sent_events"].get<double>()),
               n["send_to_tick_start_us"]["p50_us"].get<double>(),
               n["send_to_tick_start_us"]["p99_us"].get<double>(), n["tick_end_to_receipt_us"]["p50_us"].get<double>(),
               n["tick_end_to_receipt_us"]["p99_us"].get<double>());
    fmt::print("  raw loopback UDP baseline (decode only, one sender): {:.0f} events/s received ({:.0f} sent)\n",
               t["udp_baseline"]["events_per_s"].get<double>(), t["udp_baseline"]["sent_per_s"].get<double>());
    fmt::print("  ratio: served / engine alone (the same events stepped in process); drop: events sent that the server "
               "dropped and counted (late: after their tick started; flood: also a tick's or the queue's bound); in: "
               "events sent -> start of the tick consuming them; out: tick end -> its TICK datagram received\n");
}

void print_pacing(const json& p) {
    fmt::print("(b) real-time pacing, {} us ticks, Fashion-MNIST Poisson input: {} ticks, {} deadline misses ({:.2f}%), "
               "worst lateness {:.0f} us; engine tick p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us; {:.0f} ticks/s; "
               "tick end -> receipt p50 {:.0f} us, p99 {:.0f} us; dropped events {}\n",
               p["tick_us"].get<int64_t>(), p["ticks"].get<int64_t>(), p["deadline_misses"].get<int64_t>(),
               100.0 * p["miss_rate"].get<double>(), p["worst_lateness_us"].get<double>(),
               p["tick_wall_us"]["p50_us"].get<double>(), p["tick_wall_us"]["p99_us"].get<double>(),
               p["tick_wall_us"]["max_us"].get<double>(), p["ticks_per_s"].get<double>(),
               p["tick_end_to_receipt_us"]["p50_us"].get<double>(), p["tick_end_to_receipt_us"]["p99_us"].get<double>(),
               p["dropped_events"].get<int64_t>());
    fmt::print("  served accuracy of the streamed labelled images: {}\n", p["accuracy"].dump());
}

int run(int argc, char** argv) {
    BenchOptions o;
    CLI::App app{"Benchmark of `neuroemu serve`: events/s in, latencies, real-time pacing (bench/serve.sh)"};
    app.add_option("config", o.config, "experiment YAML")->required();
    app.add_option("--set", o.set, "extra KEY=VALUE overrides (after simulation.encoding=poisson)");
    app.add_option("--seconds", o.seconds, "seconds of each throughput measurement")->capture_default_str()->check(CLI::Range(0.1, 600.0));
    app.add_option("--events-per-tick", o.events_per_tick, "events per tick of the self-clocked runs")
        ->capture_default_str()->check(CLI::PositiveNumber);
    app.add_flag("--flood", o.flood, "also flood: one tick's worth of events for the next tick, back to back (several "
                 "datagrams land in one tick: more spikes per neuron than one)");
    app.add_option("--pacing-ticks", o.pacing_ticks, "ticks of the pacing run (0: skip)")->capture_default_str()->check(CLI::NonNegativeNumber);
    app.add_option("--tick-us", o.tick_us, "tick period of the pacing run")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
    app.add_option("--steps", o.steps, "ticks per streamed image (pacing)")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{65535}));
    app.add_option("--lead-ticks", o.lead_ticks, "throughput: send each tick's events this many ticks ahead")
        ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{1000}));
    app.add_option("--repeats", o.repeats, "throughput: repeat each measurement, keep the best")
        ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{100}));
    bool no_throughput = false;
    app.add_flag("--no-throughput", no_throughput, "skip part (a)");
    app.add_option("--json", o.json_file, "also write the figures as JSON");
    CLI11_PARSE(app, argc, argv);
    json doc = {{"config", o.config}, {"set", o.set}};
    if (!no_throughput) {
        doc["throughput"] = throughput(o);
        print_throughput(doc["throughput"]);
    }
    if (o.pacing_ticks > 0) {
        doc["pacing"] = pacing(o);
        print_pacing(doc["pacing"]);
    }
    if (!o.json_file.empty()) std::ofstream(o.json_file) << doc.dump(2) << "\n";
    return 0;
}

}  // namespace
}  // namespace neuroemu::serve

int main(int argc, char** argv) {
    try {
        return neuroemu::serve::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "serve_bench: " << e.what() << "\n";
        return 1;
    }
}
