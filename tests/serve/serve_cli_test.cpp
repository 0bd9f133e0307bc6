// `neuroemu serve` as a process: the port file, signals, the served classification against `neuroemu evaluate`
// (the independent reference: per image and the count correct), and the hostile cases with the process's RSS
// within the bound docs/serve.md gives.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "clients/cpp/serve_client.h"
#include "data/dataset_spec.h"
#include "cli/schema.h"
#include "tests/serve/poisson_input.h"
#include "tests/serve/serve_process.h"
#include "tests/serve/wait_status.h"
#include "tests/support/cli_run.h"
#include "tests/support/rss.h"

namespace neuroemu::serve {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace cli = cli_test;

const std::string kConfig = std::string(NEUROEMU_SOURCE_DIR) + "/configs/default.yaml";
// 100 steps: some images right and some wrong (6 of 8), so that agreeing image by image means something.
constexpr int64_t kImages = 8, kSteps = 100;
const std::string kPoisson = "--set simulation.encoding=poisson";

const std::string& snn() {
    // One per test process (ctest runs the cases as parallel processes), removed when the process ends.
    struct Converted {
        std::string path =
            cli::converted_model(kConfig, cli::build_file("serve_cli", "default." + std::to_string(getpid()) + ".snn"));
        ~Converted() { fs::remove(path); }
    };
    static const Converted model;
    return model.path;
}

using serve_test::ServeProcess;

// How long a client waits for an answer from the served CLI: a request that runs the model (classify, run) takes
// seconds in Release but can exceed the client's 30 s default under ThreadSanitizer (scripts/tsan.sh) on a loaded
// machine. An answer that comes returns at once; the bound only catches a server that never answers.
constexpr int kAnswerTimeoutMs = 180000;

TEST(ServeCli, PortFileHelloAndSigtermFlushesCounters) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused", "serve_cli", "sigterm");
    ASSERT_TRUE(p.started()) << p.err();
    EXPECT_NE(p.err().find("listening: udp 127.0.0.1:" + std::to_string(p.udp())), std::string::npos) << p.err();
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    const json h = c.request({{"op", "hello"}});
    EXPECT_EQ(h["model"]["input_shape"], json({1, 28, 28}));
    EXPECT_EQ(h["model"]["classes"], 10);
    client::Subscriber sub;
    c.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}});
    EXPECT_EQ(c.request({{"op", "run"}, {"ticks", 3}})["ticks"], 3);
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait_exit(), 0) << p.err();
    const json counters = json::parse(p.out());
    EXPECT_EQ(counters["tick"], 3);
    int ticks = 0;
    while (auto o = sub.receive(300)) ticks += o->type() == protocol::Type::tick;
    EXPECT_EQ(ticks, 4);  // 3 ticks and the final counters
}

TEST(ServeCli, ASecondSignalExitsAtOnce) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused", "serve_cli", "second_signal");
    ASSERT_TRUE(p.started()) << p.err();
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    // `load` converts the model on the engine thread (a second or more): the first signal waits for it to end.
    c.send_raw("{\"op\": \"load\", \"config\": \"default.yaml\"}\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    p.signal(SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    p.signal(SIGINT);
    EXPECT_EQ(p.wait_exit(), 128 + SIGINT) << p.err();
    EXPECT_EQ(p.out(), "");  // nothing flushed
}

TEST(ServeCli, AllowRemoteRequiresTheTokenItPrints) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused --allow-remote", "serve_cli", "token");
    ASSERT_TRUE(p.started()) << p.err();
    const std::string token = p.ports()["token"];
    EXPECT_NE(p.err().find("token: " + token), std::string::npos) << p.err();
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    EXPECT_EQ(c.request({{"op", "hello"}})["error"]["code"], "unauthorized");
    EXPECT_EQ(c.request({{"op", "hello"}, {"token", token}})["ok"], true);
    client::Control given("127.0.0.1", p.control(), kAnswerTimeoutMs);
    EXPECT_EQ(given.request({{"op", "auth"}, {"token", token}})["ok"], true);
    EXPECT_EQ(given.request({{"op", "shutdown"}})["ok"], true);
    EXPECT_EQ(p.wait_exit(), 0) << p.err();
}

TEST(ServeCli, RefusesANonLoopbackAddressWithoutAllowRemote) {
    const auto r = cli::run("serve " + kConfig + " --snn " + snn() + " " + kPoisson + " --listen 0.0.0.0:0");
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("--allow-remote"), std::string::npos) << r.output;
    const auto bad = cli::run("serve " + kConfig + " --snn " + snn() + " " + kPoisson + " --listen 127.0.0.1");
    EXPECT_EQ(bad.status, 2) << bad.output;
    EXPECT_NE(bad.output.find("--listen"), std::string::npos) << bad.output;
}

// The images' Poisson spikes as evaluate() draws them, flat [C][H][W] indices per step.
std::vector<std::vector<std::vector<InputSpike>>> poisson_images(int64_t images, int64_t steps, int64_t& classes,
                                                                std::vector<int>& labels) {
    const Settings settings = neuroemu_schema().load(kConfig, {"simulation.encoding=poisson"});
    const ImageSet set = load_dataset(settings, Split::Test, images, {1, 28, 28});
    const InputNormalisation norm = input_normalisation(settings, set.channels);
    const auto seed = static_cast<uint64_t>(settings.get_int("seed"));
    std::vector<std::vector<std::vector<InputSpike>>> out;
    for (int64_t i = 0; i < images; ++i) {
        auto& image = out.emplace_back();
        for (const auto& step : test::poisson_input_hwc(set, i, norm, seed, steps)) {
            auto& tick = image.emplace_back();
            for (int32_t j : step) tick.push_back({test::hwc_to_chw(j, set.channels, set.height * set.width), 1});
        }
        labels.push_back(set.labels[static_cast<size_t>(i)]);
    }
    classes = 10;
    return out;
}

// evaluate's hits per image: the count correct over the first k images, for k = 1..N, differenced.
std::vector<int> evaluate_hits(int64_t images) {
    std::vector<int> hits;
    int64_t before = 0;
    for (int64_t k = 1; k <= images; ++k) {
        const std::string json_file = cli::build_file("serve_cli", "evaluate." + std::to_string(getpid()) + ".json");
        const auto r = cli::run("evaluate " + kConfig + " --snn " + snn() + " " + kPoisson + " --images " +
                                std::to_string(k) + " --steps " + std::to_string(kSteps) + " -q --json " + json_file);
        EXPECT_EQ(r.status, 0) << r.output;
        const int64_t correct = cli::read_json(json_file)["snn"]["correct"];
        hits.push_back(static_cast<int>(correct - before));
        before = correct;
    }
    return hits;
}

TEST(ServeCli, ServedClassificationEqualsEvaluate) {
    int64_t classes = 0;
    std::vector<int> labels;
    const auto images = poisson_images(kImages, kSteps, classes, labels);
    const std::vector<int> hits = evaluate_hits(kImages);
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused", "serve_cli", "classify");
    ASSERT_TRUE(p.started()) << p.err();
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    // The control channel's classify, image by image.
    int correct = 0;
    for (int64_t i = 0; i < kImages; ++i) {
        json events = json::array();
        for (const auto& tick : images[static_cast<size_t>(i)]) {
            json t = json::array();
            for (const auto& s : tick) t.push_back(s.index);
            events.push_back(t);
        }
        const json r = c.request({{"op", "classify"}, {"ticks", kSteps}, {"events", events}, {"label", labels[i]}});
        ASSERT_EQ(r["ok"], true) << r.dump().substr(0, 300);
        EXPECT_EQ(r["steps"], kSteps);
        EXPECT_EQ(r["correct"].get<bool>(), hits[static_cast<size_t>(i)] == 1) << "image " << i;
        correct += r["correct"].get<bool>();
    }
    // The same images streamed over UDP (RESET, LABEL on the first tick, END on the last), then run.
    client::Subscriber sub;
    c.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}, {"ticks", false}});
    client::EventSender send("127.0.0.1", p.udp());
    const protocol::InputShape shape{1, 28, 28, 10};
    uint64_t tick = 1;
    for (int64_t i = 0; i < kImages; ++i) {
        for (int64_t t = 0; t < kSteps; ++t, ++tick) {
            uint16_t flags = t == 0 ? protocol::kReset | protocol::kLabel : 0;
            if (t == kSteps - 1) flags |= protocol::kEnd;
            send.send_tick(tick, images[static_cast<size_t>(i)][static_cast<size_t>(t)], flags, labels[i], shape);
        }
        // An image at a time, received before the next is sent: the kernel's receive buffer (rmem_max) is small.
        for (int k = 0; k < 1000 && c.request({{"op", "status"}})["input"]["datagrams"] < (i + 1) * kSteps; ++k)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    c.request({{"op", "run"}, {"ticks", kImages * kSteps}});
    const json st = c.request({{"op", "status"}});
    EXPECT_EQ(st["input"]["datagrams"], kImages * kSteps);  // none lost on loopback at this rate
    EXPECT_EQ(st["accuracy"]["labelled"], kImages);
    int64_t evaluate_correct = 0;
    for (int h : hits) evaluate_correct += h;
    EXPECT_EQ(st["accuracy"]["correct"], evaluate_correct);
    EXPECT_EQ(correct, evaluate_correct);
    EXPECT_GT(evaluate_correct, 0);  // the comparison discriminates: neither all wrong
    EXPECT_LT(evaluate_correct, kImages);  // nor all right
    int64_t i = 0;
    while (auto o = sub.receive(300)) {
        ASSERT_EQ(o->type(), protocol::Type::classification);
        EXPECT_EQ(o->label, labels[static_cast<size_t>(i)]);
        EXPECT_EQ(o->header.aux == labels[static_cast<size_t>(i)], hits[static_cast<size_t>(i)] == 1) << i;
        ++i;
    }
    EXPECT_EQ(i, kImages);
}

// Ticks with more input spikes than input neurons (COUNTS, or one index given several times), consumed by the real
// engine: counted, and the server lives on.
TEST(ServeCli, TicksWithManySpikesPerInputNeuron) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused", "serve_cli", "many_spikes");
    ASSERT_TRUE(p.started()) << p.err();
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    std::vector<InputSpike> all(784);
    for (int i = 0; i < 784; ++i) all[static_cast<size_t>(i)] = {i, 1000};
    client::EventSender send("127.0.0.1", p.udp());
    send.send_tick(1, all, 0, -1, {1, 28, 28, 10});
    testing::wait_datagrams(c, 1);
    EXPECT_EQ(c.request({{"op", "run"}, {"ticks", 1}})["ok"], true);
    EXPECT_EQ(c.request({{"op", "status"}})["input"]["spikes_consumed"], 784000);
    json twice = json::array();
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < 784; ++i) twice.push_back(i);
    EXPECT_EQ(c.request({{"op", "classify"}, {"ticks", 1}, {"events", {twice}}})["input_spikes"], 3 * 784);
    EXPECT_TRUE(p.alive());
}

// Documented in docs/serve.md ("Bounds", Memory).
constexpr int64_t kRssBoundBytes = int64_t{256} << 20;

// The chip model alongside (--chip): each TICK carries the tick's cycles, packets and worst packet latency, which
// are zero without it. (That the figures equal ChipModel::run's on the same spikes is serve_session_chip_tests'.)
std::vector<std::vector<uint64_t>> chip_tick_fields(const std::string& extra, const std::string& name) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused " + extra, "serve_cli", name);
    EXPECT_TRUE(p.started()) << p.err();
    if (!p.started()) return {};
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    client::Subscriber sub;
    EXPECT_EQ(c.request({{"op", "subscribe"}, {"port", sub.port()}, {"spikes", false}})["ok"], true);
    std::vector<InputSpike> all(784);
    for (int i = 0; i < 784; ++i) all[static_cast<size_t>(i)] = {i, 1};
    client::EventSender send("127.0.0.1", p.udp());
    for (uint64_t t = 1; t <= 3; ++t) send.send_tick(t, all, 0, -1, {1, 28, 28, 10});
    testing::wait_datagrams(c, 3);
    EXPECT_EQ(c.request({{"op", "run"}, {"ticks", 3}})["ok"], true);
    std::vector<std::vector<uint64_t>> fields;
    while (fields.size() < 3)
        if (auto o = sub.receive(5000)) {
            if (o->type() == protocol::Type::tick) fields.push_back(o->fields);
        } else {
            ADD_FAILURE() << "fewer than 3 TICKs arrived";
            break;
        }
    return fields;
}

TEST(ServeCli, ChipModelAddsCyclesPacketsAndLatencyPerTick) {
    const auto with = chip_tick_fields("--chip", "chip"), without = chip_tick_fields("", "no_chip");
    ASSERT_EQ(with.size(), 3u);
    ASSERT_EQ(without.size(), 3u);
    for (size_t t = 0; t < 3; ++t) {
        EXPECT_EQ(with[t][protocol::kInputSpikes], 784u);
        EXPECT_EQ(with[t][protocol::kSpikes], without[t][protocol::kSpikes]) << "the chip does not change the network";
        EXPECT_GT(with[t][protocol::kCycles], 0u) << "tick " << t + 1;
        EXPECT_GE(with[t][protocol::kPackets], 784u) << "every input spike enters the mesh as a packet at least";
        EXPECT_GT(with[t][protocol::kMaxLatencyCycles], 0u);
        EXPECT_EQ(without[t][protocol::kCycles], 0u);
        EXPECT_EQ(without[t][protocol::kPackets], 0u);
    }
}

TEST(ServeCli, HostileClientsLeaveItAnsweringWithinTheMemoryBound) {
    ServeProcess p(kConfig + " --snn " + snn() + " " + kPoisson + " --paused --idle-timeout-s 2", "serve_cli", "hostile");
    ASSERT_TRUE(p.started()) << p.err();
    const int64_t base = p.rss_bytes();
    ASSERT_GT(base, 0);
    // A flood: 64 senders, 200 datagrams each of 16,368 events, far ahead ticks included; bounded, it ends.
    for (int s = 0; s < 64; ++s) {
        client::EventSender send("127.0.0.1", p.udp());
        for (int k = 0; k < 200; ++k) {
            protocol::Events m;
            m.sequence = static_cast<uint32_t>(k);
            m.tick = static_cast<uint64_t>(1 + (s * 200 + k) % 200000);
            m.events.assign(16368, InputSpike{5, 1});
            send.send_raw(protocol::encode_events(m, protocol::kFlat, {1, 28, 28, 10}));
        }
        send.send_raw({0x4e, 0x45, 0x45});                    // too short
        send.send_raw(std::vector<uint8_t>(64, 0xff));        // bad magic
    }
    // 31 clients each holding an unfinished request just under 4 MiB (the control connection is the 32nd).
    std::vector<std::unique_ptr<client::Control>> big;
    const std::string almost(4 << 20, ' ');
    for (int i = 0; i < 31; ++i) {
        big.push_back(std::make_unique<client::Control>("127.0.0.1", p.control()));
        big.back()->send_raw("{\"op\":\"hello\"," + almost.substr(0, almost.size() - 64));
    }
    client::Control c("127.0.0.1", p.control(), kAnswerTimeoutMs);
    const json st = c.request({{"op", "status"}});
    const int64_t peak = p.rss_bytes();
    if (::neuroemu::test::kRssMeasuresTheProgram) {
        EXPECT_LE(peak, base + kRssBoundBytes) << "base " << base << " peak " << peak;
    }
    EXPECT_LE(st["queues"]["events"].get<int64_t>(), 2'000'000);
    EXPECT_GT(st["input"]["drops"]["queue_full"]["datagrams"].get<int64_t>(), 0);
    EXPECT_EQ(c.request({{"op", "hello"}})["ok"], true);
    EXPECT_EQ(c.request({{"op", "run"}, {"ticks", 5}})["ticks"], 5);  // the flood's first ticks, consumed
    const int64_t consumed = c.request({{"op", "status"}})["input"]["spikes_consumed"];
    EXPECT_GT(consumed, 0);              // (UDP may have lost one of them on the way)
    EXPECT_EQ(consumed % 16368, 0);      // whole datagrams only
    EXPECT_TRUE(p.alive());
    const json load = c.request({{"op", "load"}, {"config", "../CMakeLists.txt"}});
    EXPECT_EQ(load["error"]["code"], "outside_model_dir");
    p.signal(SIGINT);
    EXPECT_EQ(p.wait_exit(), 0) << p.err();
    std::cerr << "RSS: base " << (base >> 20) << " MiB, under the hostile load " << (peak >> 20) << " MiB\n";
}

}  // namespace
}  // namespace neuroemu::serve
