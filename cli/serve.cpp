// `neuroemu serve`: an emulated chip on the network (docs/serve.md). Loads a converted model and its mapping
// (serve/session.h) and serves it (serve/server.h) until a shutdown request or SIGINT/SIGTERM; then prints the
// counters as JSON on stdout.
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "common/error.h"
#include "serve/live_page.h"
#include "serve/server.h"
#include "serve/session.h"

namespace neuroemu {

namespace {

namespace fs = std::filesystem;

struct ServeOptions {
    std::string snn;
    std::string listen = "127.0.0.1:0";
    int http_port = -1;
    int64_t tick_us = 0;
    bool chip = false, allow_remote = false, paused = false;
    std::vector<std::string> publish;
    std::string token, model_dir, port_file;
    int64_t idle_timeout_s = 60;
};

// "HOST:PORT" (an IPv6 host in brackets: "[::1]:7000").
std::pair<std::string, uint16_t> parse_listen(const std::string& text) {
    const size_t colon = text.rfind(':');
    const auto bad = [&] {
        return ConfigError("--listen: expected HOST:PORT with PORT in [0, 65535] (0: any free port), got '" + text + "'");
    };
    if (colon == std::string::npos || colon == 0) throw bad();
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) throw bad();
    const int p = std::stoi(port);
    if (p > 65535) throw bad();
    return {host, static_cast<uint16_t>(p)};
}

serve::SessionOptions session_options(const CommonOptions& common, const ServeOptions& o) {
    serve::SessionOptions s;
    s.config = common.target.empty() ? (fs::path(configs_dir()) / "default.yaml").string() : common.target;
    s.snn_file = o.snn;
    s.set = target_overrides(s.config);  // an ONNX or NIR target: the model, with no YAML file
    s.set.insert(s.set.end(), common.sets.begin(), common.sets.end());
    if (const auto seed = setting_int("--seed", "seed", common.seed)) s.set.push_back(fmt::format("seed={}", *seed));
    s.chip = o.chip;
    s.published = o.publish;
    s.verbosity = common.verbose ? 2 : 0;  // stdout carries the final counters; -v adds the loading notes before them
    return s;
}

void write_port_file(const std::string& path, const serve::Server& server, int http_port) {
    nlohmann::json doc = {{"host", server.listen_host()},
                          {"udp", server.udp_port()},
                          {"control", server.control_port()},
                          {"http", http_port >= 0 ? nlohmann::json(http_port) : nlohmann::json(nullptr)},
                          {"pid", ::getpid()}};
    if (!server.token().empty()) doc["token"] = server.token();
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out) throw Error("--port-file: cannot write '" + path + "'");
        ::chmod(tmp.c_str(), 0600);  // it may hold the token: private before it is written
        out << doc.dump() << "\n";
        out.close();
        if (!out) {  // a full disk: no partial file, and the error names it
            std::error_code ec;
            fs::remove(tmp, ec);
            throw Error("--port-file: cannot write '" + path + "'");
        }
    }
    fs::rename(tmp, path);  // readers never see a partial file
}

int run_serve(const CommonOptions& common, const ServeOptions& o) {
    if (o.tick_us < 0) throw ConfigError("--tick-us: expected 0 (free running) or a period in microseconds");
    if (o.idle_timeout_s < 0) throw ConfigError("--idle-timeout-s: expected seconds >= 0 (0: never)");
    const auto [host, port] = parse_listen(o.listen);
    const serve::SessionOptions base = session_options(common, o);
    serve::ServerOptions so;
    so.listen_host = host;
    so.udp_port = so.control_port = port;
    so.allow_remote = o.allow_remote;
    so.token = o.token;
    so.tick_us = o.tick_us;
    so.start_paused = o.paused;
    so.idle_timeout_s = o.idle_timeout_s;
    const std::string target = base.config.empty() ? common.target : base.config;
    so.model_dir = o.model_dir.empty() ? fs::absolute(target).parent_path().string() : o.model_dir;
    so.handle_signals = true;
    if (!fs::is_directory(so.model_dir)) throw ConfigError("--model-dir: '" + so.model_dir + "' is not a directory");
    if (o.http_port > 65535) throw ConfigError("--http: expected a port in [0, 65535] (0: any free)");
    auto session = serve::Session::load(base);
    const serve::LiveLayout layout = serve::live_layout(*session, session->model().name);
    // The live page's view, once there is one: a `load` (on the engine thread, between ticks) gives it the new
    // model's layout. Set before the server starts; the page goes before the server, after wait().
    serve::LiveView* live_view = nullptr;
    serve::Server server(so, std::move(session), [base, &live_view](const std::string& config) {
        serve::SessionOptions s = base;
        s.config = config;
        s.snn_file.clear();  // the loaded config's own model, converted
        auto loaded = serve::Session::load(s);
        if (live_view) live_view->set_layout(serve::live_layout(*loaded, loaded->model().name));
        return loaded;
    });
    // The live page: fed by the server's observers, served on its io_context with its token (serve/live_page.h).
    std::unique_ptr<serve::LivePage> page;
    if (o.http_port >= 0) {
        serve::LivePageOptions page_options;
        page_options.host = host;
        page_options.port = static_cast<uint16_t>(o.http_port);
        page = std::make_unique<serve::LivePage>(server, layout, page_options);
        live_view = &page->view();
    }
    server.start();
    const int http_port = page ? page->port() : -1;
    const std::string page_url =
        page ? fmt::format(", page http://{}:{}/{}", host, http_port,
                           server.token().empty() ? "" : "?token=" + server.token())
             : "";
    fmt::print(stderr, "listening: udp {0}:{1}, control tcp {0}:{2}{3}\n", host, server.udp_port(),
               server.control_port(), page_url);
    if (!server.token().empty() && o.token.empty()) fmt::print(stderr, "token: {}\n", server.token());
    if (!o.port_file.empty()) write_port_file(o.port_file, server, http_port);
    server.wait();
    if (page) page->stop();
    const nlohmann::json counters = server.status_json();
    std::cout << counters.dump(2) << std::endl;
    if (!common.json_file.empty()) write_json_file(common.json_file, {{"command", "serve"}, {"status", counters}});
    return 0;
}

}  // namespace

Command add_serve_command(CLI::App& app, CommonOptions& common) {
    CLI::App* cmd = app.add_subcommand("serve", "serve the converted model as an emulated chip on the network "
                                                "(UDP events in and out, TCP control; docs/serve.md)");
    add_common_options(cmd, common);
    auto o = std::make_shared<ServeOptions>();
    add_snn_option(cmd, o->snn);
    cmd->add_option("--listen", o->listen,
                    "HOST:PORT of the UDP input and the TCP control channel (the same port number; 0: any free)")
        ->capture_default_str();
    cmd->add_option("--http", o->http_port, "PORT of the live page (0: any free)");
    cmd->add_option("--tick-us", o->tick_us, "tick period in microseconds (0: as fast as possible)")->capture_default_str();
    cmd->add_flag("--chip", o->chip, "run the SystemC chip model alongside (cycles, packets, latency per tick)");
    cmd->add_option("--publish", o->publish, "populations whose spikes are sent to subscribers (default: the output, or the spiking layers feeding a non-spiking readout)")
        ->type_name("POP");
    cmd->add_flag("--allow-remote", o->allow_remote, "allow a non-loopback --listen address (then a token is required)");
    cmd->add_option("--token", o->token, "the control channel's token (with --allow-remote; default: a random one)");
    cmd->add_option("--model-dir", o->model_dir, "the folder `load` requests may read configs from (default: CONFIG's)");
    cmd->add_flag("--paused", o->paused, "start paused (ticks run on `run` or `resume`)");
    cmd->add_option("--port-file", o->port_file, "write the bound ports (and the token) as JSON to FILE");
    cmd->add_option("--idle-timeout-s", o->idle_timeout_s, "close control connections silent this long (0: never)")
        ->capture_default_str();
    return {cmd, [&common, o] { return run_serve(common, *o); }};
}

}  // namespace neuroemu
