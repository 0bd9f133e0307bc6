// The server in this process on ephemeral loopback ports, driven over real sockets by the C++ client, with the
// analytic FakeSession (fake_session.h) as the reference for every output.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "clients/cpp/serve_client.h"
#include "serve/server.h"
#include "tests/serve/fake_session.h"
#include "tests/serve/in_process_server.h"

namespace neuroemu::serve {
namespace {

using nlohmann::json;
using testing::FakeSession;
namespace fs = std::filesystem;

const protocol::InputShape kShape{1, 4, 4, 3};

struct Served : testing::InProcessServer {
    explicit Served(ServerOptions options = {}, std::vector<int> published = {2})
        : InProcessServer(with_model_dir(std::move(options)), std::make_unique<FakeSession>(published),
                          [](const std::string& path) {
                              return std::make_unique<FakeSession>(std::vector<int>{2},
                                                                   fs::path(path).stem().string());
                          }) {}
    static ServerOptions with_model_dir(ServerOptions options) {
        if (options.model_dir.empty()) options.model_dir = model_dir();
        return options;
    }
    static std::string model_dir() {
        const fs::path dir = fs::temp_directory_path() / ("neuroemu_serve_models_" + std::to_string(getpid()));
        fs::create_directories(dir / "sub");
        std::ofstream(dir / "a.yaml") << "model: {}\n";
        std::ofstream(dir / "sub" / "b.yaml") << "model: {}\n";
        std::ofstream(dir.parent_path() / "neuroemu_serve_outside.yaml") << "model: {}\n";
        std::error_code ec;
        fs::create_symlink(dir.parent_path() / "neuroemu_serve_outside.yaml", dir / "link.yaml", ec);
        return dir.string();
    }
    json wait_datagrams(int64_t n) { return testing::wait_datagrams(*control, n); }
};

std::string error_code(const json& r) { return r["ok"] == false ? r["error"]["code"].get<std::string>() : "ok"; }

// All outputs until `timeout_ms` passes without one.
std::vector<protocol::Output> drain(client::Subscriber& sub, int timeout_ms = 300) {
    std::vector<protocol::Output> out;
    while (auto o = sub.receive(timeout_ms)) out.push_back(std::move(*o));
    return out;
}

TEST(Server, HelloDescribesTheModelAndPorts) {
    Served s;
    const json h = s.request({{"id", "x"}, {"op", "hello"}});
    EXPECT_EQ(h["id"], "x");
    EXPECT_EQ(h["ok"], true);
    EXPECT_EQ(h["protocol"], 1);
    EXPECT_EQ(h["model"]["input_shape"], json({1, 4, 4}));
    EXPECT_EQ(h["model"]["classes"], 3);
    EXPECT_EQ(h["model"]["published"], json({"out"}));
    EXPECT_EQ(h["ports"]["udp"], s.server->udp_port());
    EXPECT_EQ(h["ports"]["control"], s.server->control_port());
    EXPECT_EQ(s.status()["state"], "paused");
}

TEST(Server, EventsInSpikesTicksAndClassificationsOut) {
    Served s({}, {1, 2});
    client::Subscriber sub;
    const json r = s.request({{"op", "subscribe"}, {"port", sub.port()}});
    ASSERT_EQ(r["ok"], true) << r;
    EXPECT_EQ(r["populations"], json({"hidden", "out"}));
    client::EventSender send("127.0.0.1", s.server->udp_port());
    const std::vector<std::vector<InputSpike>> sample = {{{0, 1}, {5, 2}}, {{4, 1}, {7, 1}, {13, 3}}};
    send.send_tick(1, sample[0], protocol::kReset | protocol::kLabel, 1, kShape);
    send.send_tick(2, sample[1], protocol::kEnd, -1, kShape);
    s.wait_datagrams(2);
    const json run = s.request({{"op", "run"}, {"ticks", 2}});
    EXPECT_EQ(run["ticks"], 2);
    EXPECT_EQ(run["tick"], 2);
    EXPECT_EQ(run["completed"], true);
    const auto out = drain(sub);
    // Per tick: SPIKES hidden, SPIKES out, TICK; then the CLASSIFICATION at the END tick.
    ASSERT_EQ(out.size(), 7u);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].header.sequence, i);
    EXPECT_EQ(out[0].type(), protocol::Type::spikes);
    EXPECT_EQ(out[0].header.aux, 1);
    EXPECT_EQ(out[0].units, std::vector<uint32_t>({0, 1}));  // 0 % 4, 5 % 4
    EXPECT_EQ(out[1].header.aux, 2);
    EXPECT_EQ(out[1].units, std::vector<uint32_t>({0, 2}));  // 0 % 3, 5 % 3
    ASSERT_EQ(out[2].type(), protocol::Type::tick);
    EXPECT_EQ(out[2].header.tick, 1u);
    ASSERT_GE(out[2].fields.size(), size_t{protocol::kTickFields});
    EXPECT_EQ(out[2].fields[protocol::kStep], 1u);
    EXPECT_EQ(out[2].fields[protocol::kInputSpikes], 3u);
    EXPECT_EQ(out[2].fields[protocol::kSops], 21u);
    EXPECT_EQ(out[5].fields[protocol::kInputSpikes], 5u);
    ASSERT_EQ(out[6].type(), protocol::Type::classification);
    EXPECT_EQ(out[6].header.tick, 2u);
    EXPECT_EQ(out[6].header.aux, FakeSession::decision_of(sample));
    EXPECT_EQ(out[6].label, 1);
    EXPECT_EQ(out[6].steps, 2u);
    const json st = s.status();
    EXPECT_EQ(st["accuracy"]["labelled"], 1);
    EXPECT_EQ(st["accuracy"]["correct"], FakeSession::decision_of(sample) == 1 ? 1 : 0);
    EXPECT_EQ(st["input"]["spikes_consumed"], 8);
    EXPECT_EQ(st["latency"]["arrival_to_tick_start"]["count"], 2);
    EXPECT_EQ(st["latency"]["tick_end_to_send"]["count"], 7);
    EXPECT_EQ(st["state"], "paused");
}

TEST(Server, TickZeroMeansTheNextTickAndDatagramsOfOneTickMerge) {
    Served s;
    client::Subscriber sub;
    s.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}, {"classifications", false}});
    client::EventSender a("127.0.0.1", s.server->udp_port()), b("127.0.0.1", s.server->udp_port());
    a.send_tick(0, {{1, 1}}, 0, -1, kShape);
    b.send_tick(1, {{2, 4}}, 0, -1, kShape);
    s.wait_datagrams(2);
    s.request({{"op", "run"}, {"ticks", 1}});
    const auto out = drain(sub);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].fields[protocol::kInputSpikes], 5u);
}

// While running free, events for tick 0 land in whatever tick starts next: every one is consumed (none is left
// queued for a tick that already started).
TEST(Server, NextTickEventsWhileRunningAreAllConsumed) {
    Served s;
    s.request({{"op", "resume"}});
    client::EventSender send("127.0.0.1", s.server->udp_port());
    constexpr int kDatagrams = 2000;
    for (int i = 0; i < kDatagrams; ++i) send.send_tick(0, {{i % 16, 1}}, 0, -1, kShape);
    const json st = s.wait_status([](const json& x) {
        return x["input"]["spikes_consumed"].get<int64_t>() + x["input"]["dropped_events"].get<int64_t>() ==
               x["input"]["datagrams"].get<int64_t>() && x["input"]["datagrams"].get<int64_t>() > 0;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const json after = s.status();
    EXPECT_EQ(after["input"]["spikes_consumed"], after["input"]["datagrams"]);
    EXPECT_EQ(after["input"]["dropped_events"], 0);
    EXPECT_EQ(after["queues"]["events"], 0);
    EXPECT_EQ(after["latency"]["arrival_to_tick_start"]["count"], after["input"]["datagrams"]);
    (void)st;
}

TEST(Server, LateTooFarAndMissingSequencesAreCounted) {
    ServerOptions o;
    o.limits.max_ahead_ticks = 10;
    Served s(o);
    s.request({{"op", "run"}, {"ticks", 3}});
    client::EventSender send("127.0.0.1", s.server->udp_port());
    send.send_tick(2, {{1, 1}}, 0, -1, kShape);   // seq 0: late
    send.send_tick(14, {{1, 1}}, 0, -1, kShape);  // seq 1: 11 ahead of tick 3
    send.send_tick(13, {{1, 1}}, 0, -1, kShape);  // seq 2: 10 ahead, kept
    protocol::Events m;
    m.sequence = 7;  // 3..6 missing
    m.tick = 5;
    send.send_raw(protocol::encode_events(m, protocol::kFlat, kShape));
    m.sequence = 6;  // reordered
    send.send_raw(protocol::encode_events(m, protocol::kFlat, kShape));
    const json st = s.wait_datagrams(5);
    EXPECT_EQ(st["input"]["drops"]["late"]["datagrams"], 1);
    EXPECT_EQ(st["input"]["drops"]["too_far"]["datagrams"], 1);
    EXPECT_EQ(st["input"]["dropped_events"], 2);
    EXPECT_EQ(st["input"]["sequence_missing"], 4);
    EXPECT_EQ(st["input"]["sequence_reordered"], 1);
    EXPECT_EQ(st["queues"]["ticks"], 2);
}

TEST(Server, ClassifyMatchesTheReferenceAndLeavesTheStreamAlone) {
    Served s;
    const json r = s.request({{"op", "classify"}, {"ticks", 3}, {"events", {{0, 3, 6}, {1}, json::array()}}, {"label", 0}});
    ASSERT_EQ(r["ok"], true) << r;
    const int64_t expected = FakeSession::decision_of({{{0, 1}, {3, 1}, {6, 1}}, {{1, 1}}, {}});
    EXPECT_EQ(r["decision"], expected);
    EXPECT_EQ(r["steps"], 3);
    EXPECT_EQ(r["input_spikes"], 4);
    EXPECT_EQ(r["correct"], expected == 0);
    EXPECT_EQ(r["readout"], json({3.0, 1.0, 0.0}));
    const json cyx = s.request({{"op", "classify"}, {"ticks", 1}, {"format", "cyx"}, {"events", {{{0, 1, 1}}}}});
    EXPECT_EQ(cyx["decision"], 5 % 3);
    EXPECT_EQ(s.status()["tick"], 0);  // no streamed tick ran
}

TEST(Server, RunPauseResumeResetAndPacedTicks) {
    ServerOptions o;
    o.tick_us = 1000;
    Served s(o);
    EXPECT_EQ(s.request({{"op", "run"}, {"ticks", 20}})["tick"], 20);
    EXPECT_EQ(s.status()["step"], 20);
    EXPECT_EQ(s.request({{"op", "reset"}})["step"], 0);
    EXPECT_EQ(s.request({{"op", "resume"}})["state"], "running");
    s.wait_status([](const json& st) { return st["tick"].get<int64_t>() >= 25; });
    EXPECT_EQ(s.request({{"op", "pause"}})["state"], "paused");
    const json st = s.status();
    EXPECT_EQ(st["state"], "paused");
    EXPECT_GE(st["deadline"]["misses"].get<int64_t>(), 0);
    EXPECT_EQ(s.status()["tick"], st["tick"]);  // paused: no tick runs
}

TEST(Server, EveryRequestErrorIsAnsweredWithItsCode) {
    Served s;
    auto code = [&](json r) { return error_code(s.request(std::move(r))); };
    EXPECT_EQ(code({{"op", "fly"}}), "unknown_op");
    EXPECT_EQ(code({{"id", 1}}), "missing_field");
    EXPECT_EQ(code({{"op", 3}}), "bad_field");
    EXPECT_EQ(code({{"op", "run"}}), "missing_field");
    EXPECT_EQ(code({{"op", "run"}, {"ticks", 0}}), "bad_field");
    EXPECT_EQ(code({{"op", "run"}, {"ticks", "5"}}), "bad_field");
    EXPECT_EQ(code({{"op", "subscribe"}, {"port", 70000}}), "bad_field");
    EXPECT_EQ(code({{"op", "subscribe"}, {"port", 9}, {"host", "10.1.2.3"}}), "remote_host_refused");
    EXPECT_EQ(code({{"op", "subscribe"}, {"port", 9}, {"host", "nowhere"}}), "bad_field");
    EXPECT_EQ(code({{"op", "subscribe"}, {"port", 9}, {"populations", {"hidden"}}}), "unknown_population");
    EXPECT_EQ(code({{"op", "subscribe"}, {"port", 9}, {"spikes", 1}}), "bad_field");
    EXPECT_EQ(code({{"op", "unsubscribe"}, {"subscription", 99}}), "unknown_subscription");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 1}, {"events", {{16}}}}), "bad_address");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 1}, {"events", {{-1}}}}), "bad_address");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 1}, {"format", "cyx"}, {"events", {{{1, 0, 0}}}}}), "bad_address");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 1}, {"events", {{1}, {2}}}}), "bad_field");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 1}, {"events", {{1}}}, {"label", 3}}), "bad_field");
    EXPECT_EQ(code({{"op", "classify"}, {"ticks", 70000}, {"events", json::array()}}), "bad_field");
    EXPECT_EQ(code({{"op", "load"}}), "missing_field");
    EXPECT_EQ(code({{"op", "load"}, {"config", "/etc/passwd"}}), "outside_model_dir");
    EXPECT_EQ(code({{"op", "load"}, {"config", "../neuroemu_serve_outside.yaml"}}), "outside_model_dir");
    EXPECT_EQ(code({{"op", "load"}, {"config", "sub/../a.yaml"}}), "outside_model_dir");
    EXPECT_EQ(code({{"op", "load"}, {"config", "link.yaml"}}), "outside_model_dir");  // a symlink out
    EXPECT_EQ(code({{"op", "load"}, {"config", "missing.yaml"}}), "not_found");
    EXPECT_EQ(code({{"op", "load"}, {"config", "sub"}}), "not_found");
    s.control->send_raw("{\"op\": \n");
    EXPECT_EQ(error_code(json::parse(*s.control->read_line())), "invalid_json");
    s.control->send_raw("[1, 2]\n");
    EXPECT_EQ(error_code(json::parse(*s.control->read_line())), "invalid_request");
    s.control->send_raw(std::string(100, '[') + std::string(100, ']') + "\n");
    EXPECT_EQ(error_code(json::parse(*s.control->read_line())), "too_deep");
    // A number beyond a double is nlohmann's out_of_range, not a parse_error: it once escaped and ended the
    // server (found by fuzz/control_fuzz.cpp).
    s.control->send_raw("{\"id\": 7, \"op\": \"run\", \"ticks\": 1e400}\n");
    EXPECT_EQ(error_code(json::parse(*s.control->read_line())), "invalid_json");
    EXPECT_EQ(s.status()["control"]["errors"], 29);
    EXPECT_EQ(s.request({{"op", "hello"}})["ok"], true);  // still answering
}

TEST(Server, SubscribeUnsubscribeLoadAndShutdown) {
    Served s;
    client::Subscriber sub;
    const json r = s.request({{"op", "subscribe"}, {"port", sub.port()}});
    EXPECT_EQ(r["host"], "127.0.0.1");
    EXPECT_EQ(s.request({{"op", "unsubscribe"}, {"subscription", r["subscription"]}})["ok"], true);
    s.request({{"op", "run"}, {"ticks", 2}});
    EXPECT_TRUE(drain(sub, 100).empty());
    const json l = s.request({{"op", "load"}, {"config", "sub/b.yaml"}});
    ASSERT_EQ(l["ok"], true) << l;
    EXPECT_EQ(l["model"]["name"], "b");
    EXPECT_EQ(s.request({{"op", "shutdown"}})["state"], "stopping");
    s.server->wait();
}

TEST(Server, StopSendsFinalCounters) {
    Served s;
    client::Subscriber sub;
    s.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}});
    s.request({{"op", "run"}, {"ticks", 3}});
    s.server->stop();
    const auto out = drain(sub);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out.back().type(), protocol::Type::tick);
    EXPECT_EQ(out.back().header.tick, 3u);
    EXPECT_EQ(out.back().header.sequence, 3u);
}

TEST(Server, ObserverSeesEveryTickAndTheSample) {
    ServerOptions o;
    o.start_paused = true;
    o.model_dir = Served::model_dir();
    Server server(o, std::make_unique<FakeSession>(), nullptr);
    std::vector<int64_t> steps;
    std::vector<int64_t> decisions;
    std::vector<int64_t> classified;
    server.set_tick_observer([&](const TickResult& t, const TickContext& context) {  // the engine thread
        steps.push_back(t.step);
        EXPECT_EQ(context.tick, static_cast<int64_t>(steps.size()));
        EXPECT_EQ(context.deadline_misses, -1);  // not paced
        if (context.sample) decisions.push_back(context.sample->decision);
    });
    server.set_classify_observer([&](const SampleEnd& sample) { classified.push_back(sample.decision); });
    server.start();
    client::EventSender send("127.0.0.1", server.udp_port());
    client::Control c("127.0.0.1", server.control_port());
    send.send_tick(2, {{2, 1}}, protocol::kEnd, -1, kShape);
    testing::wait_datagrams(c, 1);
    c.request({{"op", "run"}, {"ticks", 3}});
    c.request({{"op", "classify"}, {"ticks", 1}, {"events", {{4}}}});
    server.stop();
    EXPECT_EQ(steps, std::vector<int64_t>({1, 2, 3}));
    EXPECT_EQ(decisions, std::vector<int64_t>({2}));
    EXPECT_EQ(classified, std::vector<int64_t>({1}));
}

TEST(Server, TokenGuardsTheControlChannel) {
    ServerOptions o;
    o.allow_remote = true;  // on loopback still: the token is what is tested
    Served s(o);
    const std::string token = s.server->token();
    EXPECT_EQ(token.size(), 32u);
    EXPECT_EQ(error_code(s.request({{"op", "status"}})), "unauthorized");
    EXPECT_EQ(error_code(s.request({{"op", "auth"}, {"token", "wrong"}})), "unauthorized");
    EXPECT_EQ(s.request({{"op", "status"}, {"token", token}})["ok"], true);
    EXPECT_EQ(error_code(s.request({{"op", "status"}})), "unauthorized");  // a per-request token authorises one
    EXPECT_EQ(s.request({{"op", "auth"}, {"token", token}})["ok"], true);
    EXPECT_EQ(s.request({{"op", "status"}})["ok"], true);
}

TEST(Server, NonLoopbackNeedsAllowRemote) {
    ServerOptions o;
    o.listen_host = "0.0.0.0";
    try {
        Server server(o, std::make_unique<FakeSession>(), nullptr);
        FAIL() << "served on 0.0.0.0 without --allow-remote";
    } catch (const std::exception& e) {
        EXPECT_NE(std::string(e.what()).find("--allow-remote"), std::string::npos) << e.what();
    }
    o.listen_host = "localhost";
    EXPECT_THROW(Server(o, std::make_unique<FakeSession>(), nullptr), std::exception);
}

}  // namespace
}  // namespace neuroemu::serve
