// The live page in headless Chromium: a PageServer in this process, fed by a LiveView to which a thread feeds
// synthetic ticks; Chromium loads http://127.0.0.1:PORT/?token=T, the page opens its WebSocket and draws the
// frames. Chromium is driven over its DevTools protocol, so the test waits for the data to arrive. Checked: the
// page waits before the first frame; then the numbers it shows (read from its DOM) equal those sent, and its
// screenshot (decoded with libpng) has the raster's, the rate bars' and the heat map's colours in their regions;
// ticks fed while it is open reach it; it reconnects to a server back after going away. Skipped when Chromium is not installed (scripts/setup.sh installs it).
#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve/live.h"
#include "serve/page_server.h"
#include "tests/support/browser.h"

namespace neuroemu::serve {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

using ::neuroemu::test::find_on_path;
using ::neuroemu::test::Image;
using ::neuroemu::test::read_png;

// Pixels of `color` in a box [x, y, w, h] the page reported (CSS pixels = screenshot pixels at scale factor 1).
size_t count(const Image& image, unsigned color, const nlohmann::json& box) {
    return image.count(color, box.at(0), box.at(1), box.at(2), box.at(3));
}

// The synthetic run: input 784 neurons, a hidden layer of 1000, an output of 10 (published); 10 cores on a
// 4 x 3 mesh (two positions without a core). Tick t: the input spikes 78 times, the hidden layer 100, output unit
// t % 10 spikes on even ticks; core c holds c spikes. Every 10th tick ends a sample labelled k % 10, decided
// wrongly when k % 4 == 0.
constexpr int64_t kTicks = 300;
constexpr int64_t kWindow = 100;
const std::string kToken = "t0k3n";

LiveLayout layout() {
    LiveLayout l;
    l.model = "synthetic";
    l.population_names = {"input", "hidden", "output"};
    l.population_sizes = {784, 1000, 10};
    l.published = {2};
    for (int32_t c = 0; c < 10; ++c) l.core_xy.push_back({c % 4, c / 4});
    l.mesh_width = 4;
    l.mesh_height = 3;
    return l;
}

void feed(LiveView& view) {
    view.set_layout(layout());
    for (int64_t t = 1; t <= kTicks; ++t) {
        TickResult r;
        r.tick = r.step = t;
        r.population_spikes = {78, 100, t % 2 == 0 ? 1 : 0};
        r.published_spikes = {t % 2 == 0 ? std::vector<int32_t>{static_cast<int32_t>(t % 10)} : std::vector<int32_t>{}};
        for (int64_t c = 0; c < 10; ++c) r.core_spikes.push_back(c);
        r.decision = t % 10;
        TickExtras extras;
        if (t % 10 == 0) {
            const int64_t k = t / 10 - 1;
            extras.outcome = SampleOutcome{k % 4 == 0 ? (k + 1) % 10 : k % 10, k % 10};
        }
        view.record(r, extras);
    }
}

// Chromium driven over its DevTools protocol (a WebSocket, spoken with Beast): `--dump-dom` and `--screenshot`
// snapshot the page once its virtual time runs out, before a WebSocket's frames arrive in real time; here the test
// waits until the page shows what was sent, then takes the screenshot.
class Chromium {
public:
    Chromium(const fs::path& dir, const std::string& url) : dir_(dir), process_{launch(dir)} {
        connect();
        page_session_ = attach(url);
        call("Emulation.setDeviceMetricsOverride",
             {{"width", 1280}, {"height", 1000}, {"deviceScaleFactor", 1}, {"mobile", false}}, page_session_);
    }
    ~Chromium() {
        beast::error_code ec;
        if (ws_.is_open()) ws_.write(asio::buffer(nlohmann::json{{"id", ++id_}, {"method", "Browser.close"}}.dump()), ec);
    }

    // A JavaScript expression's value in the page.
    nlohmann::json evaluate(const std::string& expression) {
        const auto result = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}},
                                 page_session_);
        return result["result"].value("value", nlohmann::json());
    }

    void screenshot(const fs::path& png) {
        const auto result = call("Page.captureScreenshot", {{"format", "png"}}, page_session_);
        std::ofstream(png, std::ios::binary) << base64_decode(result.value("data", ""));
    }

private:
    // Chromium writes its port and browser endpoint to DevToolsActivePort once it listens.
    void connect() {
        const fs::path active = dir_ / "profile" / "DevToolsActivePort";
        std::string port, path;
        for (int i = 0; i < 600 && path.empty(); ++i) {
            std::ifstream in(active);
            if (!(in >> port >> path)) path.clear(), std::this_thread::sleep_for(50ms);
        }
        if (path.empty()) throw std::runtime_error("Chromium did not start (see " + (dir_ / "chromium.log").string() + ")");
        auto& socket = ws_.next_layer();
        socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                               static_cast<uint16_t>(std::stoi(port))));
        timeval tv{30, 0};
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ws_.read_message_max(64 << 20);
        ws_.handshake("127.0.0.1:" + port, path);
    }

    // Attaches to the page Chromium opened (about:blank) and navigates it to `url`.
    std::string attach(const std::string& url) {
        std::string target;
        for (int i = 0; i < 600 && target.empty(); ++i) {  // a cold start takes seconds
            const auto targets = call("Target.getTargets", nlohmann::json::object());
            for (const auto& info : targets["targetInfos"])
                if (info.value("type", "") == "page") target = info.value("targetId", "");
            if (target.empty()) std::this_thread::sleep_for(50ms);
        }
        if (target.empty()) throw std::runtime_error("Chromium opened no page");
        const std::string session = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}})["sessionId"];
        call("Page.navigate", {{"url", url}}, session);
        return session;
    }

    // Sends a command and returns its result, skipping the events in between.
    nlohmann::json call(const std::string& method, const nlohmann::json& params, const std::string& session = "") {
        nlohmann::json message = {{"id", ++id_}, {"method", method}, {"params", params}};
        if (!session.empty()) message["sessionId"] = session;
        ws_.write(asio::buffer(message.dump()));
        for (;;) {
            beast::flat_buffer buffer;
            ws_.read(buffer);
            const auto reply = nlohmann::json::parse(beast::buffers_to_string(buffer.data()));
            if (reply.value("id", -1) != id_) continue;
            if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
            return reply.value("result", nlohmann::json::object());
        }
    }

    static std::string base64_decode(const std::string& text) {
        std::string out;
        uint32_t bits = 0;
        int count = 0;
        for (char c : text) {
            const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            const char* at = std::strchr(digits, c);
            if (c == '\0' || at == nullptr) continue;  // padding
            bits = bits << 6 | static_cast<uint32_t>(at - digits);
            if ((count += 6) >= 8) out += static_cast<char>(bits >> (count -= 8) & 0xff);
        }
        return out;
    }

    // Chromium in its own process group: ended with its helpers (and nothing else) when the test is done.
    struct Process {
        pid_t pid = -1;
        ~Process() {
            if (pid <= 0) return;
            for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; ++i) std::this_thread::sleep_for(50ms);
            if (waitpid(pid, nullptr, WNOHANG) == 0) {
                kill(-pid, SIGKILL);
                waitpid(pid, nullptr, 0);
            }
        }
    };

    static pid_t launch(const fs::path& dir) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        const std::string chromium = find_on_path("chromium");
        std::vector<std::string> args = {chromium, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                                         "--force-device-scale-factor=1", "--window-size=1280,1000",
                                         "--remote-debugging-port=0", "--user-data-dir=" + (dir / "profile").string(),
                                         "about:blank"};
        const std::string log = (dir / "chromium.log").string();
        const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        // The child only calls async-signal-safe functions (this process has other threads), and keeps none of
        // this process's descriptors: an inherited listening socket would outlive the page server.
        const pid_t pid = fork();
        if (pid == 0) {
            setpgid(0, 0);
            if (log_fd < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(126);
            if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
                for (int fd = 3; fd < 65536; ++fd) close(fd);
            execv(argv[0], argv.data());
            _exit(127);
        }
        if (log_fd >= 0) close(log_fd);
        if (pid < 0) throw std::runtime_error("cannot start Chromium: fork failed");
        setpgid(pid, pid);
        return pid;
    }

    fs::path dir_;
    Process process_;
    asio::io_context io_;
    websocket::stream<asio::ip::tcp::socket> ws_{io_};
    int id_ = 0;
    std::string page_session_;
};

class LivePageBrowserTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (find_on_path("chromium").empty())
            GTEST_SKIP() << "chromium is not installed (apt-get install chromium; scripts/setup.sh does it)";
        start_server(0);
    }
    void TearDown() override {
        if (server_) stop_server();
    }
    void start_server(uint16_t port) {
        server_ = std::make_unique<PageServer>(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                               kToken, [this] { return frame(); }, 50ms);
        server_->start();
        io_thread_ = std::thread([this] { io_.run(); });
    }
    void stop_server() {
        server_->stop();
        if (io_thread_.joinable()) io_thread_.join();  // every connection closed
        io_.restart();
    }

    // Until `serving_`, no frame: the page must wait (a frame source that throws skips the frame).
    std::string frame() {
        if (!serving_) throw std::runtime_error("not serving yet");
        return view_.frame();
    }

    std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/?token=" + kToken; }

    // The page's own account of what it shows (its #check element), once it shows tick `tick` (30 s at most).
    static nlohmann::json shown(Chromium& browser, int64_t tick) {
        nlohmann::json page;
        for (int i = 0; i < 300; ++i) {
            const auto text = browser.evaluate("document.getElementById('check').textContent");
            if (text.is_string() && !text.get<std::string>().empty()) {
                page = nlohmann::json::parse(text.get<std::string>());
                if (page["shown_tick"] == tick) break;
            }
            std::this_thread::sleep_for(100ms);
        }
        EXPECT_FALSE(page.is_null()) << "no frame reached the page";
        EXPECT_EQ(browser.evaluate("document.getElementById('waiting').hidden"), true) << "the page still waits";
        return page;
    }

    LiveView view_{layout()};
    std::atomic<bool> serving_{false};
    asio::io_context io_;
    std::unique_ptr<PageServer> server_;
    std::thread io_thread_;
};

TEST_F(LivePageBrowserTest, PageShowsTheNumbersSentAndTheChartsDrawn) {
    // The run is fed from a thread (as the engine thread does) before the page gets frames: the first has it all.
    std::thread feeder([this] { feed(view_); });
    feeder.join();
    const fs::path dir = fs::path(NEUROEMU_BINARY_DIR) / "live_page_browser";
    Chromium browser(dir, url());
    for (int i = 0; i < 600 && server_->stats().ws_clients == 0; ++i) std::this_thread::sleep_for(50ms);
    ASSERT_EQ(server_->stats().ws_clients, 1) << "the page (given the token) opened its socket";
    EXPECT_EQ(browser.evaluate("document.getElementById('waiting').hidden"), false) << "no frame yet: it waits";
    EXPECT_EQ(browser.evaluate("document.getElementById('state').textContent"), "connected, waiting for data");
    serving_ = true;
    const nlohmann::json page = shown(browser, kTicks);
    ASSERT_FALSE(page.is_null());
    EXPECT_EQ(page["shown_tick"], kTicks);
    // 30 samples, wrong when k % 4 == 0 (k = 0, 4, ..., 28: 8 of them): 22 / 30.
    EXPECT_EQ(page["accuracy"], "73.3%");
    // Output spikes on even ticks: all 150 reach the page (within the raster bound), none dropped; the raster
    // shows the last 200 ticks' 100.
    EXPECT_EQ(page["received"], kTicks / 2);
    EXPECT_EQ(page["dropped"], 0);
    EXPECT_EQ(page["spikes_drawn"], 200 / 2);
    // Over the last 100 ticks: 78 of 784 input neurons, 100 of 1000 hidden, 50 spikes of 10 output neurons.
    ASSERT_EQ(page["rates"].size(), 3u);
    EXPECT_DOUBLE_EQ(page["rates"][0].get<double>(), 78.0 * kWindow / (784.0 * kWindow));
    EXPECT_DOUBLE_EQ(page["rates"][1].get<double>(), 0.1);
    EXPECT_DOUBLE_EQ(page["rates"][2].get<double>(), 50.0 / (10.0 * kWindow));
    std::vector<int64_t> cores;
    for (int64_t c = 0; c < 10; ++c) cores.push_back(c * kWindow);
    EXPECT_EQ(page["core_spikes"], nlohmann::json(cores));

    const fs::path png = dir / "screenshot.png";
    browser.screenshot(png);
    const Image image = read_png(png.string());
    ASSERT_EQ(image.width, 1280u);
    ASSERT_EQ(image.height, 1000u);
    // Raster dots in palette blue: 100 spikes in the last 200 ticks, each at least 2 x 2 pixels.
    EXPECT_GE(count(image, 0x4e79a7, page["raster_box"]), 100u * 4u);
    // Rate bars in the report's teal: the hidden layer's, the longest, alone is > 100 pixels long.
    EXPECT_GT(count(image, 0x76b7b2, page["rates_box"]), 1000u);
    // Heat map: the idle core 0 is viridis' start, the busiest (9) its end, the two free mesh positions grey.
    const nlohmann::json& heat = page["heat_box"];
    EXPECT_GT(count(image, 0x440154, heat), 100u);
    EXPECT_GT(count(image, 0xfde725, heat), 100u);
    EXPECT_GT(count(image, 0xd1d5db, heat), 200u);
    EXPECT_EQ(count(image, 0x4e79a7, heat), 0u) << "the raster's colour belongs to the raster";

    // Live: more ticks fed while the page is open reach it.
    std::thread more([this] {
        for (int64_t t = kTicks + 1; t <= 2 * kTicks; ++t) {
            TickResult r;
            r.tick = r.step = t;
            view_.record(r);
        }
    });
    more.join();
    EXPECT_EQ(shown(browser, 2 * kTicks)["shown_tick"], 2 * kTicks);

    // The server goes away: the page says so and keeps trying; a server back on the same port is found again.
    const uint16_t port = server_->port();
    stop_server();
    std::string state;
    for (int i = 0; i < 100 && state.rfind("disconnected", 0) != 0; ++i) {
        state = browser.evaluate("document.getElementById('state').textContent").get<std::string>();
        if (state.rfind("disconnected", 0) != 0) std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(state, "disconnected, reconnecting");
    view_.record([] {
        TickResult r;
        r.tick = r.step = 2 * kTicks + 1;
        return r;
    }());
    start_server(port);
    EXPECT_EQ(shown(browser, 2 * kTicks + 1)["shown_tick"], 2 * kTicks + 1) << "the page reconnected";
    EXPECT_EQ(browser.evaluate("document.getElementById('state').textContent"), "live");
}

}  // namespace
}  // namespace neuroemu::serve
