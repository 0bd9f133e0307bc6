// Hostile input against the server in this process: every case is counted and dropped or answered, and the server
// still answers other clients afterwards. Floods are bounded in count and end by themselves; the limits are set
// small here so that they are reached quickly (the shipped ones: docs/serve.md, "Bounds").
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "clients/cpp/serve_client.h"
#include "serve/server.h"
#include "tests/serve/fake_session.h"
#include "tests/serve/in_process_server.h"

namespace neuroemu::serve {
namespace {

using nlohmann::json;
const protocol::InputShape kShape{1, 4, 4, 3};

struct Hostile : testing::InProcessServer {
    explicit Hostile(ServerOptions o) : InProcessServer(std::move(o), std::make_unique<testing::FakeSession>(), nullptr) {}
};

std::vector<uint8_t> valid(uint64_t tick, std::vector<InputSpike> events = {{1, 1}}) {
    protocol::Events m;
    m.tick = tick;
    m.events = std::move(events);
    return protocol::encode_events(m, protocol::kFlat, kShape);
}

TEST(Hostile, MalformedDatagramsAreCountedByReason) {
    Hostile h({});
    client::EventSender send("127.0.0.1", h.server->udp_port());
    auto patched = [](size_t offset, uint8_t byte) {
        auto d = valid(1);
        d[offset] = byte;
        return d;
    };
    send.send_raw({1, 2, 3});                  // too_short
    send.send_raw(patched(0, 0));              // bad_magic
    send.send_raw(patched(4, 2));              // bad_version
    send.send_raw(patched(5, 2));              // bad_type: a SPIKES datagram sent in
    send.send_raw(patched(7, 0x80));           // bad_flags
    send.send_raw(patched(12, 9));             // bad_length: count 9, one record
    send.send_raw(patched(32, 16));            // bad_address: index 16 of 16
    auto big = valid(1, std::vector<InputSpike>(16368, InputSpike{1, 1}));
    send.send_raw(big);                        // 65504 bytes: the largest valid one, accepted
    const json s = h.wait_status([](const json& st) { return st["input"]["datagrams"] == 8; });
    for (const char* reason : {"too_short", "bad_magic", "bad_version", "bad_type", "bad_flags", "bad_length",
                               "bad_address"})
        EXPECT_EQ(s["input"]["drops"][reason]["datagrams"], 1) << reason;
    EXPECT_EQ(s["input"]["drops"]["bad_address"]["events"], 1);
    EXPECT_EQ(s["queues"]["events"], 16368);
    h.still_answers();
}

// Counts make a small datagram a lot of engine work: a tick's spikes are bounded, counts summed.
TEST(Hostile, SpikesOfOneTickAreBoundedCountsIncluded) {
    Hostile h({});
    client::EventSender send("127.0.0.1", h.server->udp_port());
    std::vector<InputSpike> all(16);
    for (int i = 0; i < 16; ++i) all[static_cast<size_t>(i)] = {i, 65535};  // 1,048,560 spikes
    send.send_tick(1, all, 0, -1, kShape);
    all.pop_back();  // 982,950: within the bound
    send.send_tick(2, all, 0, -1, kShape);
    const json s = h.wait_status([](const json& st) { return st["input"]["datagrams"] == 2; });
    EXPECT_EQ(s["input"]["drops"]["tick_full"]["datagrams"], 1);
    EXPECT_EQ(s["queues"]["ticks"], 1);
    EXPECT_EQ(h.control->request({{"op", "run"}, {"ticks", 2}})["ok"], true);
    EXPECT_EQ(h.status()["input"]["spikes_consumed"], 15 * 65535);
}

TEST(Hostile, FloodFromManySendersStaysWithinTheQueueAndSenderBounds) {
    ServerOptions o;
    o.limits.max_senders = 16;
    o.limits.max_queued_events = 5000;
    o.limits.max_tick_events = 3000;
    Hostile h(o);
    constexpr int kSenders = 100, kEach = 20;
    for (int i = 0; i < kSenders; ++i) {
        client::EventSender send("127.0.0.1", h.server->udp_port());
        for (int k = 0; k < kEach; ++k)
            send.send_tick(static_cast<uint64_t>(1 + k % 3), std::vector<InputSpike>(50, InputSpike{3, 1}), 0, -1,
                           kShape);
    }
    // UDP may lose some of the flood in the kernel: what arrived is counted (once it stops changing), and the
    // bounds hold. 100 datagrams of 50 events fill the 5000; no tick reaches 3000 before (a third of each's).
    json before = h.status(), after;
    while (true) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        after = h.status();
        if (after["input"]["datagrams"] == before["input"]["datagrams"]) break;
        before = after;
    }
    EXPECT_LE(after["queues"]["senders"].get<int64_t>(), 16);
    EXPECT_LE(after["queues"]["events"].get<int64_t>(), 5000);
    const int64_t arrived = after["input"]["datagrams"];
    const int64_t kept = after["queues"]["datagrams"];
    const json& drops = after["input"]["drops"];
    const int64_t dropped = drops.contains("queue_full") ? drops["queue_full"]["datagrams"].get<int64_t>() : 0;
    EXPECT_GT(arrived, kSenders);
    EXPECT_EQ(kept, std::min<int64_t>(arrived, 100));
    EXPECT_EQ(kept + dropped, arrived);
    EXPECT_GE(after["input"]["senders_evicted"].get<int64_t>(), 1);
    if (arrived == kSenders * kEach) {
        EXPECT_EQ(after["input"]["senders_evicted"], kSenders - 16);
    }
    h.still_answers();
}

TEST(Hostile, HalfOpenAndSilentClientsAreClosedWhenIdle) {
    ServerOptions o;
    o.idle_timeout_s = 1;
    Hostile h(o);
    client::Control half("127.0.0.1", h.server->control_port());
    half.send_raw("{\"op\": \"hel");  // never finished
    client::Control silent("127.0.0.1", h.server->control_port());
    h.still_answers();  // others are answered meanwhile
    EXPECT_FALSE(half.read_line().has_value());  // closed by the server
    EXPECT_FALSE(silent.read_line().has_value());
    client::Control fresh("127.0.0.1", h.server->control_port());
    EXPECT_GE(fresh.request({{"op", "status"}})["control"]["closed_idle"].get<int64_t>(), 2);
}

TEST(Hostile, ASlowReaderIsClosedAndOthersAreStillAnswered) {
    ServerOptions o;
    o.limits.max_pending_response_bytes = 16 << 10;
    Hostile h(o);
    client::Control slow("127.0.0.1", h.server->control_port());
    std::string requests;
    for (int i = 0; i < 4000; ++i) requests += "{\"op\":\"status\"}\n";
    std::thread writer([&] {
        for (int k = 0; k < 10; ++k) {
            try {
                slow.send_raw(requests);
            } catch (const std::exception&) {
                return;  // closed by the server: the point
            }
        }
    });
    h.wait_status([](const json& st) { return st["control"]["closed_slow_reader"] == 1; });
    writer.join();
    h.still_answers();
}

TEST(Hostile, OversizedRequestsAreRefusedAndClosed) {
    ServerOptions o;
    o.limits.max_request_bytes = 64 << 10;
    Hostile h(o);
    client::Control big("127.0.0.1", h.server->control_port());
    try {
        big.send_raw(std::string(200 << 10, 'x'));
    } catch (const std::exception&) {
        // the server may close before the last bytes are sent
    }
    const auto line = big.read_line();
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(json::parse(*line)["error"]["code"], "request_too_long");
    EXPECT_FALSE(big.read_line().has_value());
    EXPECT_EQ(h.status()["control"]["closed_oversized"], 1);
    h.still_answers();
}

TEST(Hostile, ConnectionsBeyondTheLimitAreRefused) {
    ServerOptions o;
    o.limits.max_connections = 3;
    Hostile h(o);  // holds one
    client::Control a("127.0.0.1", h.server->control_port()), b("127.0.0.1", h.server->control_port());
    EXPECT_EQ(a.request({{"op", "hello"}})["ok"], true);
    EXPECT_EQ(b.request({{"op", "hello"}})["ok"], true);
    client::Control extra("127.0.0.1", h.server->control_port());
    const auto line = extra.read_line();
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(json::parse(*line)["error"]["code"], "too_many_connections");
    EXPECT_FALSE(extra.read_line().has_value());
    EXPECT_EQ(h.status()["control"]["refused"], 1);
}

TEST(Hostile, TooManySubscriptionsAreRefused) {
    ServerOptions o;
    o.limits.max_subscriptions = 2;
    Hostile h(o);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(h.control->request({{"op", "subscribe"}, {"port", 9}})["ok"], true);
    EXPECT_EQ(h.control->request({{"op", "subscribe"}, {"port", 9}})["error"]["code"], "too_many_subscriptions");
}

}  // namespace
}  // namespace neuroemu::serve
