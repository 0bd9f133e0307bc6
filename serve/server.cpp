// The server's lifecycle, its UDP input and the engine thread (tick loop and outputs). The control channel is
// control.cpp.
#include "serve/server_impl.h"

#include <unistd.h>

#include <cmath>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "common/error.h"

namespace neuroemu::serve {

namespace {

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

std::string random_token() {
    std::random_device rd;
    std::string t;
    for (int i = 0; i < 4; ++i) t += fmt::format("{:08x}", rd());
    return t;
}

asio::ip::address parse_address(const std::string& host) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(host, ec);
    if (ec) throw ConfigError("--listen: expected an IP address (e.g. 127.0.0.1), got '" + host + "'");
    return a;
}

}  // namespace

bool is_loopback(const std::string& host) {
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(host, ec);
    return !ec && a.is_loopback();
}

// ---- latency histogram

void LatencyHistogram::add(int64_t ns) {
    const double v = std::max<int64_t>(ns, 1);
    const int b = std::min(kBuckets - 1, static_cast<int>(std::log2(v) * kPerOctave));
    ++buckets_[static_cast<size_t>(b)];
    ++count_;
    max_ = std::max(max_, ns);
}

int64_t LatencyHistogram::percentile(double p) const {
    if (count_ == 0) return 0;
    const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p / 100.0 * count_)));
    int64_t seen = 0;
    for (int b = 0; b < kBuckets; ++b) {
        seen += buckets_[static_cast<size_t>(b)];
        if (seen >= rank) return std::min(max_, static_cast<int64_t>(std::exp2((b + 0.5) / kPerOctave)));
    }
    return max_;
}

nlohmann::json LatencyHistogram::json() const {
    return {{"count", count_}, {"p50_ns", percentile(50)}, {"p99_ns", percentile(99)}, {"max_ns", max_}};
}

// ---- lifecycle

Server::Impl::Impl(ServerOptions opts, std::unique_ptr<Session> s, SessionFactory f)
    : options(std::move(opts)), factory(std::move(f)), session(std::move(s)) {
    if (!session) throw InternalError("Server: no session");
    const auto address = parse_address(options.listen_host);
    if (!address.is_loopback() && !options.allow_remote)
        throw ConfigError("--listen " + options.listen_host +
                          ": not a loopback address; serving other hosts needs --allow-remote (and then a token)");
    if (options.allow_remote && options.token.empty()) options.token = random_token();
    paused = options.start_paused;
    try {
        udp_in.open(address.is_v4() ? udp::v4() : udp::v6());
        udp_in.set_option(asio::socket_base::receive_buffer_size(4 << 20));
        udp_in.bind({address, options.udp_port});
        udp_out.open(address.is_v4() ? udp::v4() : udp::v6());
        udp_out.non_blocking(true);  // a full send buffer drops the output (counted), never stalls the engine
        acceptor.open(address.is_v4() ? tcp::v4() : tcp::v6());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind({address, options.control_port});
        acceptor.listen();
        udp_port = udp_in.local_endpoint().port();
        control_port = acceptor.local_endpoint().port();
    } catch (const boost::system::system_error& e) {
        throw Error(fmt::format("serve: cannot listen on {} (udp {}, tcp {}): {}", options.listen_host,
                                options.udp_port, options.control_port, e.what()));
    }
    describe_model();
}

Server::Server(ServerOptions options, std::unique_ptr<Session> session, SessionFactory factory)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(session), std::move(factory))) {}

Server::~Server() { stop(); }

void Server::set_tick_observer(TickObserver observer) { impl_->observer = std::move(observer); }
void Server::set_classify_observer(ClassifyObserver observer) { impl_->classify_observer = std::move(observer); }
asio::io_context& Server::io_context() { return impl_->io; }

void Server::start() {
    Impl& m = *impl_;
    if (m.options.handle_signals) {
        m.signals.add(SIGINT);
        m.signals.add(SIGTERM);
        m.on_signal(0);
    }
    m.receive();
    m.accept();
    m.io_thread = std::thread([&m] { m.io.run(); });
    m.engine_thread = std::thread([&m] { m.engine_loop(); });
}

void Server::wait() {
    Impl& m = *impl_;
    if (m.engine_thread.joinable()) m.engine_thread.join();
    if (m.io_thread.joinable()) m.io_thread.join();
}

void Server::stop() {
    impl_->request_stop();
    wait();
}

uint16_t Server::udp_port() const { return impl_->udp_port; }
uint16_t Server::control_port() const { return impl_->control_port; }
const std::string& Server::token() const { return impl_->options.token; }
std::string Server::listen_host() const { return impl_->options.listen_host; }

nlohmann::json Server::status_json() const {
    std::lock_guard lock(impl_->mu);
    return impl_->status();
}

nlohmann::json Server::hello_json() const {
    std::lock_guard lock(impl_->mu);
    return impl_->hello();
}

void Server::Impl::request_stop() {
    std::lock_guard lock(mu);
    stopping = true;
    cv.notify_all();
}

void Server::Impl::post_job(std::function<void()> job) {
    std::lock_guard lock(mu);
    jobs.push_back(std::move(job));
    cv.notify_all();
}

void Server::Impl::describe_model() {
    const auto& pops = session->populations();
    nlohmann::json populations = nlohmann::json::array();
    std::vector<std::string> names;
    for (const auto& p : pops) {
        populations.push_back({{"name", p.name}, {"kind", p.kind}, {"shape", p.shape}, {"size", p.size}});
        names.push_back(p.name);
    }
    std::vector<std::string> published_names;
    for (int i : session->published()) published_names.push_back(pops[static_cast<size_t>(i)].name);
    const auto& in = pops.at(0).shape;
    protocol::InputShape s;
    if (in.size() == 3) s = {in[0], in[1], in[2], session->classes()};
    else s = {1, 1, session->input_size(), session->classes()};
    nlohmann::json info = {{"name", session->model().name},
                           {"input_shape", {s.channels, s.height, s.width}},
                           {"input_size", session->input_size()},
                           {"classes", session->classes()},
                           {"output", pops.at(static_cast<size_t>(session->model().output)).name},
                           {"populations", populations},
                           {"published", published_names},
                           {"cores", session->cores()},
                           {"mesh", {session->mesh_width(), session->mesh_height()}},
                           {"fit_error", session->fit_error()}};
    std::lock_guard lock(mu);
    model_info = std::move(info);
    shape = s;
    published = session->published();
    population_names = std::move(names);
    step = session->step_in_window();
}

nlohmann::json Server::Impl::hello() const {
    return {{"server", "neuroemu serve"},
            {"protocol", protocol::kVersion},
            {"model", model_info},
            {"tick", ticks_done},
            {"tick_us", options.tick_us},
            {"ports", {{"udp", udp_port}, {"control", control_port}}},
            {"host", options.listen_host}};
}

nlohmann::json Server::Impl::status() const {
    const Counters& c = counters;
    nlohmann::json drops = nlohmann::json::object();
    for (const auto& [reason, d] : c.drops) drops[reason] = {{"datagrams", d.datagrams}, {"events", d.events}};
    return {
        {"state", stopping ? "stopping" : run_remaining > 0 ? "running_n" : paused ? "paused" : "running"},
        {"tick", ticks_done},
        {"step", step},
        {"run_remaining", run_remaining},
        {"tick_us", options.tick_us},
        {"ticks_per_s", ticks_per_s},
        {"input", {{"datagrams", c.datagrams},
                   {"events", c.events_received},
                   {"spikes_consumed", c.input_spikes_consumed},
                   {"dropped_events", c.dropped_events},
                   {"drops", drops},
                   {"sequence_missing", c.sequence_missing},
                   {"sequence_reordered", c.sequence_reordered},
                   {"senders_evicted", c.senders_evicted}}},
        {"deadline", {{"misses", c.deadline_misses}, {"worst_lateness_ns", c.worst_lateness_ns}}},
        {"latency", {{"arrival_to_tick_start", input_latency.json()}, {"tick_end_to_send", output_latency.json()}}},
        {"queues", {{"events", queued_events},
                    {"datagrams", queued_datagrams},
                    {"ticks", queue.size()},
                    {"senders", senders.size()},
                    {"subscriptions", subscriptions.size()},
                    {"connections", c.connections}}},
        {"accuracy", {{"samples", c.samples},
                      {"labelled", c.labelled},
                      {"correct", c.correct},
                      {"accuracy", c.labelled ? double(c.correct) / double(c.labelled) : 0.0}}},
        {"control", {{"accepted", c.connections_accepted},
                     {"refused", c.connections_refused},
                     {"closed_slow_reader", c.closed_slow_reader},
                     {"closed_idle", c.closed_idle},
                     {"closed_oversized", c.closed_oversized},
                     {"requests", c.requests},
                     {"errors", c.request_errors}}},
        {"outputs", {{"sent", c.outputs_sent}, {"failed", c.outputs_failed}}},
        {"engine_errors", {{"count", c.engine_errors}, {"last", c.last_engine_error}}}};
}

// ---- UDP input (io thread)

void Server::Impl::receive() {
    udp_in.async_receive_from(asio::buffer(datagram), sender, [this](boost::system::error_code ec, size_t n) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) on_datagram(n);
        receive();
    });
}

void Server::Impl::drop(const std::string& reason, int64_t events) {
    DropCount& d = counters.drops[reason];
    ++d.datagrams;
    d.events += events;
    counters.dropped_events += events;
}

void Server::Impl::track_sender(uint32_t sequence) {
    std::string key(reinterpret_cast<const char*>(sender.data()), sender.size());
    auto it = senders.find(key);
    if (it == senders.end()) {
        if (static_cast<int64_t>(senders.size()) >= limits().max_senders) {
            auto oldest = senders.begin();
            for (auto s = senders.begin(); s != senders.end(); ++s)
                if (s->second.last_seen < oldest->second.last_seen) oldest = s;
            senders.erase(oldest);
            ++counters.senders_evicted;
        }
        senders[key] = {sequence, static_cast<uint64_t>(counters.datagrams)};
        return;
    }
    const int64_t delta = protocol::sequence_delta(it->second.last_sequence, sequence);
    if (delta > 1) counters.sequence_missing += delta - 1;
    if (delta <= 0) {
        ++counters.sequence_reordered;
    } else {
        it->second.last_sequence = sequence;
    }
    it->second.last_seen = static_cast<uint64_t>(counters.datagrams);
}

void Server::Impl::on_datagram(size_t size) {
    const auto arrival = Clock::now();
    protocol::InputShape in;
    {
        std::lock_guard lock(mu);
        in = shape;
    }
    // Decoded outside the lock: the engine thread takes its next tick meanwhile.
    auto d = protocol::decode_events(datagram.data(), size, in);
    std::lock_guard lock(mu);
    ++counters.datagrams;
    if (!d.ok()) {
        // A datagram's events count as dropped when its length agrees with its header (else it has none).
        const bool whole = size >= protocol::kHeaderBytes && d.reason != "bad_length" && d.reason != "too_long";
        drop(d.reason, whole ? protocol::read_header(datagram.data()).count : 0);
        return;
    }
    protocol::Events& e = d.value;
    const auto n = static_cast<int64_t>(e.events.size());
    counters.events_received += n;
    track_sender(e.sequence);
    const uint64_t tick = e.tick == 0 ? next_tick : e.tick;
    if (tick < next_tick) return drop("late", n);
    if (tick - next_tick >= static_cast<uint64_t>(limits().max_ahead_ticks)) return drop("too_far", n);
    if (queued_events + n > limits().max_queued_events || queued_datagrams >= limits().max_queued_datagrams)
        return drop("queue_full", n);
    int64_t spikes = 0;
    for (const InputSpike& s : e.events) spikes += s.count;
    TickInput& t = queue[tick];
    if (static_cast<int64_t>(t.events.size()) + n > limits().max_tick_events ||
        t.spikes + spikes > limits().max_tick_spikes) {
        if (t.arrivals.empty()) queue.erase(tick);
        return drop("tick_full", n);
    }
    t.events.insert(t.events.end(), e.events.begin(), e.events.end());
    t.spikes += spikes;
    t.flags |= e.flags;
    if (e.flags & protocol::kLabel) t.label = e.label;
    t.arrivals.push_back(arrival);
    queued_events += n;
    ++queued_datagrams;
}

// ---- the engine thread

void Server::Impl::engine_loop() {
    const auto period = std::chrono::microseconds(options.tick_us);
    Clock::time_point origin;  // the paced schedule: tick k of a run starts at origin + k * period
    int64_t scheduled = 0;
    bool running = false;
    auto rate_since = Clock::now();
    int64_t rate_ticks = 0;
    std::unique_lock lock(mu);
    while (true) {
        if (!jobs.empty()) {
            auto job = std::move(jobs.front());
            jobs.pop_front();
            lock.unlock();
            job();
            lock.lock();
            continue;
        }
        if (stopping) break;
        if (paused && run_remaining == 0) {
            running = false;
            ticks_per_s = 0;
            cv.wait(lock);
            continue;
        }
        if (!running) origin = Clock::now(), scheduled = 0, rate_since = origin, rate_ticks = 0, running = true;
        if (options.tick_us > 0 && Clock::now() < origin + scheduled * period) {
            cv.wait_until(lock, origin + scheduled * period);  // woken early by a job or stop: re-checked
            continue;
        }
        TickInput input;
        const uint64_t tick = next_tick++;  // from here on, input for it is late
        while (!queue.empty() && queue.begin()->first <= tick) {
            auto it = queue.begin();
            queued_events -= static_cast<int64_t>(it->second.events.size());
            queued_datagrams -= static_cast<int64_t>(it->second.arrivals.size());
            if (it->first == tick) input = std::move(it->second);
            else drop("late", static_cast<int64_t>(it->second.events.size()));  // not expected: input is checked
            queue.erase(it);
        }
        lock.unlock();
        try {
            run_tick(input, tick);
        } catch (const std::exception& e) {  // input is checked before it queues: a failing tick is a bug, but it
            std::lock_guard guard(mu);       // must not take the server down; counted and shown in `status`
            ++counters.engine_errors;
            counters.last_engine_error = fmt::format("tick {}: {}", tick, e.what());
        }
        const auto end = Clock::now();
        lock.lock();
        ticks_done = tick;
        ++scheduled;
        if (options.tick_us > 0 && end > origin + scheduled * period) {
            ++counters.deadline_misses;
            counters.worst_lateness_ns = std::max(counters.worst_lateness_ns, ns_between(origin + scheduled * period, end));
        }
        if (++rate_ticks, end - rate_since >= std::chrono::milliseconds(500)) {
            ticks_per_s = rate_ticks / std::chrono::duration<double>(end - rate_since).count();
            rate_since = end, rate_ticks = 0;
        }
        if (run_remaining > 0 && --run_remaining == 0) {
            paused = true;
            if (run_done) std::exchange(run_done, nullptr)();
        }
    }
    lock.unlock();
    send_final_counters();
    io.stop();
}

void Server::Impl::run_tick(TickInput& input, uint64_t tick) {
    const auto start = Clock::now();
    if (input.flags & protocol::kReset) {
        session->reset();
        sample_label = -1;
    }
    if (input.flags & protocol::kLabel) sample_label = input.label;
    const TickResult& r = session->step(input.events);
    const auto end = Clock::now();
    std::optional<SampleEnd> outcome;
    if (input.flags & protocol::kEnd) {
        outcome = SampleEnd{static_cast<int64_t>(tick), r.step, r.decision, sample_label, r.readout};
        sample_label = -1;
    }
    TickContext context{static_cast<int64_t>(tick), outcome ? &*outcome : nullptr, -1, end};
    {
        std::lock_guard lock(mu);
        if (options.tick_us > 0) context.deadline_misses = counters.deadline_misses;
        for (auto arrival : input.arrivals) input_latency.add(ns_between(arrival, start));
        counters.input_spikes_consumed += r.input_spikes;
        step = r.step;
        int64_t spikes = 0;
        for (int64_t s : r.population_spikes) spikes += s;
        last_fields = {static_cast<uint64_t>(r.step), static_cast<uint64_t>(r.input_spikes),
                       static_cast<uint64_t>(spikes), static_cast<uint64_t>(r.sops),
                       static_cast<uint64_t>(r.decision), static_cast<uint64_t>(r.cycles),
                       static_cast<uint64_t>(r.packets), static_cast<uint64_t>(r.latency_max_cycles),
                       static_cast<uint64_t>(counters.dropped_events), static_cast<uint64_t>(counters.deadline_misses),
                       static_cast<uint64_t>(ns_between(start, end)),
                       static_cast<uint64_t>(end.time_since_epoch().count())};
        if (outcome) {
            ++counters.samples;
            if (outcome->label >= 0) ++counters.labelled, counters.correct += outcome->decision == outcome->label;
        }
    }
    publish(tick, r, outcome ? &*outcome : nullptr, end);
    if (observer) observer(r, context);
}

void Server::Impl::send(const Subscription& s, std::vector<uint8_t>& d, Clock::time_point tick_end) {
    boost::system::error_code ec;
    udp_out.send_to(asio::buffer(d), s.endpoint, 0, ec);
    if (ec) {
        ++counters.outputs_failed;
        return;
    }
    ++counters.outputs_sent;
    output_latency.add(ns_between(tick_end, Clock::now()));
}

void Server::Impl::publish(uint64_t tick, const TickResult& r, const SampleEnd* outcome, Clock::time_point tick_end) {
    std::lock_guard lock(mu);
    if (subscriptions.empty()) return;
    // Encoded once per population; each subscription's sequence number is written in before its send.
    std::map<int, std::vector<std::vector<uint8_t>>> spikes;
    for (size_t i = 0; i < published.size() && i < r.published_spikes.size(); ++i) {
        uint32_t unused = 0;
        spikes[published[i]] = protocol::encode_spikes(unused, tick, published[i], r.published_spikes[i]);
    }
    auto stamp = [](std::vector<uint8_t>& d, uint32_t& sequence) {
        auto h = protocol::read_header(d.data());
        h.sequence = sequence++;
        protocol::write_header(h, d.data());
    };
    std::vector<uint8_t> tick_d = protocol::encode_tick(0, tick, last_fields);
    std::vector<uint8_t> class_d;
    if (outcome)
        class_d = protocol::encode_classification(0, tick, static_cast<int32_t>(outcome->decision), outcome->label,
                                                  static_cast<uint32_t>(outcome->steps), outcome->readout);
    for (auto& [id, s] : subscriptions) {
        if (s.spikes)
            for (int pop : s.populations)
                for (auto& d : spikes[pop]) stamp(d, s.sequence), send(s, d, tick_end);
        if (s.ticks) stamp(tick_d, s.sequence), send(s, tick_d, tick_end);
        if (outcome && s.classifications) stamp(class_d, s.sequence), send(s, class_d, tick_end);
    }
}

void Server::Impl::send_final_counters() {
    std::lock_guard lock(mu);
    if (last_fields.empty()) last_fields.assign(protocol::kTickFields, 0);
    last_fields[protocol::kDropped] = static_cast<uint64_t>(counters.dropped_events);
    last_fields[protocol::kDeadlineMisses] = static_cast<uint64_t>(counters.deadline_misses);
    std::vector<uint8_t> d = protocol::encode_tick(0, ticks_done, last_fields);
    for (auto& [id, s] : subscriptions) {
        if (!s.ticks) continue;
        auto h = protocol::read_header(d.data());
        h.sequence = s.sequence++;
        protocol::write_header(h, d.data());
        send(s, d, Clock::now());
    }
    stopped = true;
}

}  // namespace neuroemu::serve
