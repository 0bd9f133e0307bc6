// The control channel: TCP connections carrying newline-delimited JSON requests, one response line per request, in
// order (docs/serve.md, "Requests"). Runs on the io thread; requests that touch the network (reset, run, classify,
// load) become engine jobs whose answers are posted back here.
#include "serve/server_impl.h"
#include "serve/control_request.h"
#include "serve/token.h"

#include <unistd.h>

#include <filesystem>
#include <optional>

#include <fmt/format.h>

namespace neuroemu::serve {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using control::RequestError;

// `name` inside `dir`: relative, no "..", and its canonical path (symlinks resolved) still inside.
std::string inside_model_dir(const std::string& dir, const std::string& name) {
    const fs::path p(name);
    if (name.empty()) throw RequestError{"bad_field", "config: expected a file name inside the model directory"};
    auto outside = [&] {
        return RequestError{"outside_model_dir",
                            "config: '" + name + "' is not inside the model directory (relative paths only, no '..')"};
    };
    if (p.is_absolute()) throw outside();
    for (const auto& part : p)
        if (part == "..") throw outside();
    std::error_code ec;
    const fs::path root = fs::canonical(dir, ec);
    if (ec) throw RequestError{"not_found", "the model directory '" + dir + "' does not exist"};
    const fs::path full = fs::canonical(root / p, ec);
    if (ec) throw RequestError{"not_found", "config: '" + name + "' does not exist in the model directory"};
    const auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
    if (r != root.end()) throw outside();  // a symlink leading out
    if (!fs::is_regular_file(full)) throw RequestError{"not_found", "config: '" + name + "' is not a file"};
    return full.string();
}

}  // namespace

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Server::Impl& m, tcp::socket socket) : m_(m), socket_(std::move(socket)), idle_(m.io) {
        boost::system::error_code ec;
        peer_ = socket_.remote_endpoint(ec);
    }

    void start() {
        arm_idle();
        process();
    }

    // The answer of the request in progress (posted from the engine thread for jobs).
    void finish(json response) {
        busy_ = false;
        respond(std::move(response));
        process();
    }

private:
    void process() {
        while (!busy_ && !closed_) {
            const size_t pos = inbuf_.find('\n', scanned_);
            if (pos == std::string::npos) {
                scanned_ = inbuf_.size();
                if (static_cast<int64_t>(inbuf_.size()) > m_.limits().max_request_bytes) return oversized();
                return read();
            }
            std::string line = inbuf_.substr(0, pos);
            inbuf_.erase(0, pos + 1);
            scanned_ = 0;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.find_first_not_of(" \t") == std::string::npos) continue;
            handle(line);
        }
    }

    void read() {
        if (reading_ || closed_) return;
        reading_ = true;
        socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec,
                                                                                  size_t n) {
            self->reading_ = false;
            if (ec) return self->close();
            self->inbuf_.append(self->chunk_.data(), n);
            self->arm_idle();
            self->process();
        });
    }

    void oversized() {
        {
            std::lock_guard lock(m_.mu);
            ++m_.counters.closed_oversized;
        }
        respond(error(nullptr, {"request_too_long", fmt::format("a request line is at most {} bytes",
                                                                m_.limits().max_request_bytes)}));
        close_when_flushed_ = true;
        inbuf_.clear();
        write();
    }

    void arm_idle() {
        if (m_.options.idle_timeout_s <= 0) return;
        idle_.expires_after(std::chrono::seconds(m_.options.idle_timeout_s));
        idle_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || self->closed_) return;
            if (self->busy_) return self->arm_idle();  // waiting on us, not idle
            {
                std::lock_guard lock(self->m_.mu);
                ++self->m_.counters.closed_idle;
            }
            self->close();
        });
    }

    void respond(json response) {
        if (closed_) return;
        std::string line = response.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
        if (static_cast<int64_t>(pending_bytes_ + line.size()) > m_.limits().max_pending_response_bytes) {
            {
                std::lock_guard lock(m_.mu);
                ++m_.counters.closed_slow_reader;
            }
            return close();
        }
        pending_bytes_ += line.size();
        out_.push_back(std::move(line));
        write();
    }

    void write() {
        if (writing_ || closed_) return;
        if (out_.empty()) {
            if (stop_when_flushed_) m_.request_stop();
            if (close_when_flushed_) close();
            return;
        }
        writing_ = true;
        asio::async_write(socket_, asio::buffer(out_.front()), [self = shared_from_this()](boost::system::error_code ec,
                                                                                         size_t) {
            self->writing_ = false;
            if (ec) return self->close();
            self->pending_bytes_ -= self->out_.front().size();
            self->out_.pop_front();
            self->write();
        });
    }

    void close() {
        if (stop_when_flushed_) m_.request_stop();  // the answer to `shutdown` is lost, not the shutdown
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        idle_.cancel();
        std::lock_guard lock(m_.mu);
        --m_.counters.connections;
    }

    static json ok(const json& id, json body = json::object()) {
        json r = {{"id", id}, {"ok", true}};
        r.update(body);
        return r;
    }
    static json error(const json& id, const RequestError& e) {
        return {{"id", id}, {"ok", false}, {"error", {{"code", e.code}, {"message", e.message}}}};
    }

    void handle(const std::string& line) {
        json id = nullptr;
        {
            std::lock_guard lock(m_.mu);
            ++m_.counters.requests;
        }
        try {
            control::Envelope envelope;
            try {
                control::parse_envelope(line, m_.limits().max_json_depth, envelope);
            } catch (const RequestError&) {
                id = envelope.id;  // set before "op" was checked
                throw;
            }
            id = envelope.id;
            authorise(envelope.request, envelope.op);
            control::Body body = control::parse_body(envelope, request_context());
            if (std::optional<json> answer = dispatch(body, id)) respond(ok(id, std::move(*answer)));
        } catch (const RequestError& e) {
            {
                std::lock_guard lock(m_.mu);
                ++m_.counters.request_errors;
            }
            respond(error(id, e));
        }
    }

    void authorise(const json& req, const std::string& op) {
        const std::string& token = m_.options.token;
        if (token.empty() || authed_) return;
        const bool given = req.contains("token") && req["token"].is_string() &&
                           same_token(req["token"].get_ref<const std::string&>(), token);
        if (given && op == "auth") authed_ = true;
        if (!given)
            throw RequestError{"unauthorized",
                               "token: this server needs the token (given with --token or printed at start)"};
    }

    // What requests are checked against: the limits, the options and the loaded model's input.
    control::RequestContext request_context() const {
        control::RequestContext c;
        c.max_json_depth = m_.limits().max_json_depth;
        c.max_classify_ticks = m_.limits().max_classify_ticks;
        c.max_tick_spikes = m_.limits().max_tick_spikes;
        c.allow_remote = m_.options.allow_remote;
        std::lock_guard lock(m_.mu);
        c.shape = m_.shape;
        return c;
    }

    // The answer's body, or nullopt when an engine job answers later (the connection reads no further meanwhile).
    std::optional<json> dispatch(control::Body& body, const json& id) {
        return std::visit([&](auto& r) { return answer(r, id); }, body);
    }
    std::optional<json> answer(const control::Hello&, const json&) {
        std::lock_guard lock(m_.mu);
        return m_.hello();
    }
    std::optional<json> answer(const control::Status&, const json&) {
        std::lock_guard lock(m_.mu);
        return m_.status();
    }
    std::optional<json> answer(const control::Pause& r, const json&) { return set_paused(r.pause); }
    std::optional<json> answer(const control::Reset&, const json& id) {
        return later(id, [](Server::Impl& m) {
            m.session->reset();
            m.sample_label = -1;
            std::lock_guard lock(m.mu);
            m.step = 0;
            return json{{"step", 0}};
        });
    }
    std::optional<json> answer(const control::Run& r, const json& id) { return run(r.ticks, id); }
    std::optional<json> answer(const control::Subscribe& r, const json&) { return subscribe(r); }
    std::optional<json> answer(const control::Unsubscribe& r, const json&) { return unsubscribe(r.subscription); }
    std::optional<json> answer(control::Classify& r, const json& id) { return classify(r, id); }
    std::optional<json> answer(const control::Load& r, const json& id) { return load(r.config, id); }
    std::optional<json> answer(const control::Shutdown&, const json& id) { return shutdown(id); }

    // Runs `work` on the engine thread between ticks; its result (or its exception) answers the request.
    std::optional<json> later(const json& id, std::function<json(Server::Impl&)> work) {
        busy_ = true;
        m_.post_job([self = shared_from_this(), id, work = std::move(work)] {
            json r;
            try {
                r = ok(id, work(self->m_));
            } catch (const RequestError& e) {
                r = error(id, e);
            } catch (const std::exception& e) {
                r = error(id, {"engine_error", e.what()});
            }
            asio::post(self->m_.io, [self, r = std::move(r)]() mutable { self->finish(std::move(r)); });
        });
        return std::nullopt;
    }

    json set_paused(bool pause) {
        std::lock_guard lock(m_.mu);
        m_.paused = pause;
        if (pause && m_.run_remaining > 0) {
            m_.run_remaining = 0;  // a `run` in progress ends here; its answer says how far it got
            if (m_.run_done) std::exchange(m_.run_done, nullptr)();
        }
        m_.cv.notify_all();
        return {{"state", pause ? "paused" : "running"}, {"tick", m_.ticks_done}};
    }

    std::optional<json> run(int64_t ticks, const json& id) {
        std::lock_guard lock(m_.mu);
        if (m_.run_remaining > 0) throw RequestError{"busy", "another run is in progress"};
        m_.run_remaining = ticks;
        busy_ = true;
        const uint64_t first = m_.ticks_done;
        m_.run_done = [self = shared_from_this(), id, first, ticks] {  // called with mu held, on any thread
            const auto ran = static_cast<int64_t>(self->m_.ticks_done - first);
            json r = ok(id, {{"tick", self->m_.ticks_done}, {"ticks", ran}, {"completed", ran == ticks}});
            asio::post(self->m_.io, [self, r = std::move(r)]() mutable { self->finish(std::move(r)); });
        };
        m_.cv.notify_all();
        return std::nullopt;
    }

    json subscribe(const control::Subscribe& r) {
        Subscription s;
        const asio::ip::address host = r.host ? asio::ip::make_address(*r.host) : peer_.address();
        s.endpoint = udp::endpoint(host, r.port);
        s.spikes = r.spikes;
        s.ticks = r.ticks;
        s.classifications = r.classifications;
        std::lock_guard lock(m_.mu);
        if (static_cast<int64_t>(m_.subscriptions.size()) >= m_.limits().max_subscriptions)
            throw RequestError{"too_many_subscriptions",
                               fmt::format("at most {} subscriptions at once", m_.limits().max_subscriptions)};
        s.populations = r.populations ? populations(*r.populations) : m_.published;
        json names = json::array();
        for (int p : s.populations) names.push_back(m_.population_names[static_cast<size_t>(p)]);
        const int64_t id = m_.next_subscription++;
        m_.subscriptions[id] = s;
        return {{"subscription", id}, {"populations", names}, {"host", host.to_string()}, {"port", r.port}};
    }

    // Names of published populations -> their indices (mu held).
    std::vector<int> populations(const std::vector<std::string>& names) const {
        std::string published;
        for (int p : m_.published) published += (published.empty() ? "" : ", ") + m_.population_names[p];
        std::vector<int> out;
        for (const std::string& n : names) {
            int found = -1;
            for (int p : m_.published)
                if (m_.population_names[static_cast<size_t>(p)] == n) found = p;
            if (found < 0)
                throw RequestError{"unknown_population", "populations: " + json(n).dump().substr(0, 64) +
                                                             " is not published (published: " + published +
                                                             "; choose with --publish)"};
            out.push_back(found);
        }
        return out;
    }

    json unsubscribe(int64_t id) {
        std::lock_guard lock(m_.mu);
        if (!m_.subscriptions.erase(id))
            throw RequestError{"unknown_subscription", fmt::format("subscription: no subscription {}", id)};
        return {{"subscription", id}};
    }

    std::optional<json> classify(control::Classify& request, const json& id) {
        // Isolated from the stream: a fresh network, its own input, free running, and a fresh network after.
        return later(id, [events = std::move(request.events), label = request.label](Server::Impl& m) {
            m.session->reset();
            int64_t spikes = 0;
            json r;
            for (const auto& tick_events : events) {
                {
                    std::lock_guard lock(m.mu);  // a signal stops the server after the current tick
                    if (m.stopping) throw RequestError{"stopping", "the server is stopping; classify was cut short"};
                }
                const TickResult& t = m.session->step(tick_events);
                spikes += t.input_spikes;
                r = {{"decision", t.decision}, {"readout", t.readout}, {"steps", t.step}};
            }
            r["input_spikes"] = spikes;
            if (label) r["label"] = *label, r["correct"] = r["decision"] == *label;
            if (m.classify_observer)
                m.classify_observer({0, r["steps"], r["decision"], static_cast<int32_t>(label.value_or(-1)),
                                     r["readout"].get<std::vector<float>>()});
            m.session->reset();
            m.sample_label = -1;
            std::lock_guard lock(m.mu);
            m.step = 0;
            return r;
        });
    }

    std::optional<json> load(const std::string& config, const json& id) {
        const std::string path = inside_model_dir(m_.options.model_dir, config);
        if (!m_.factory) throw RequestError{"load_failed", "this server cannot load models"};
        return later(id, [path](Server::Impl& m) {
            std::unique_ptr<Session> next;
            try {
                next = m.factory(path);
            } catch (const std::exception& e) {
                throw RequestError{"load_failed", e.what()};
            }
            m.session = std::move(next);
            m.sample_label = -1;
            m.describe_model();
            std::lock_guard lock(m.mu);
            for (const auto& [tick, input] : m.queue) m.drop("load", static_cast<int64_t>(input.events.size()));
            m.queue.clear();
            m.queued_events = m.queued_datagrams = 0;
            for (auto& [sid, sub] : m.subscriptions) sub.populations = m.published;  // the new model's
            return m.hello();
        });
    }

    std::optional<json> shutdown(const json& id) {
        // The server stops once the answer is written: the io thread ends with the engine.
        stop_when_flushed_ = true;
        respond(ok(id, {{"state", "stopping"}}));
        busy_ = true;  // no further requests on this connection
        return std::nullopt;
    }

    Server::Impl& m_;
    tcp::socket socket_;
    tcp::endpoint peer_;
    asio::steady_timer idle_;
    std::array<char, 65536> chunk_{};
    std::string inbuf_;
    size_t scanned_ = 0;  // inbuf_ holds no newline before it
    std::deque<std::string> out_;
    size_t pending_bytes_ = 0;
    bool reading_ = false, writing_ = false, busy_ = false, closed_ = false, close_when_flushed_ = false;
    bool stop_when_flushed_ = false;  // `shutdown` answered: stop the server once written
    bool authed_ = false;
};

void Server::Impl::accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
            bool refuse;
            {
                std::lock_guard lock(mu);
                refuse = counters.connections >= limits().max_connections;
                ++(refuse ? counters.connections_refused : counters.connections_accepted);
                if (!refuse) ++counters.connections;
            }
            if (refuse) {
                const std::string line = fmt::format(
                    "{{\"id\":null,\"ok\":false,\"error\":{{\"code\":\"too_many_connections\",\"message\":\"at most {} "
                    "control connections at once\"}}}}\n",
                    limits().max_connections);
                socket.non_blocking(true, ec);
                socket.send(asio::buffer(line), 0, ec);  // a fresh socket's buffer takes it; else it is lost
                socket.close(ec);
            } else {
                std::make_shared<Connection>(*this, std::move(socket))->start();
            }
        }
        accept();
    });
}

void Server::Impl::on_signal(int) {
    signals.async_wait([this](boost::system::error_code ec, int signal) {
        if (ec) return;
        if (++signals_seen > 1) _exit(128 + signal);  // the second: at once, nothing flushed
        request_stop();
        on_signal(signal);
    });
}

}  // namespace neuroemu::serve
