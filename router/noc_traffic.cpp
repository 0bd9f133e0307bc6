// Synthetic traffic on a standalone mesh of Routers (noc_traffic.h).
#include "router/noc_traffic.h"


#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <random>
#include <systemc>
#include <vector>

#include "common/error.h"
#include "common/random.h"
#include "router/mesh.h"

namespace neuroemu {

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// The sink takes everything: its credit allowance only has to outlast the flits ejected between two runs of a
// router (credits come back as each tail arrives and are applied when the router next runs).
constexpr int64_t kSinkCredits = int64_t{1} << 24;

std::string lowercase(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

// Throws ConfigError when the pattern or the packets cannot run on this mesh and router.
void check_traffic(const ChipSpec& chip, int32_t w, int32_t h, const TrafficOptions& options) {
    const int64_t n = int64_t{w} * h;
    if (!(options.rate >= 0.0 && options.rate <= 1.0))
        throw ConfigError(
            fmt::format("--rate: {} is not a probability: Bernoulli injection takes 0 <= rate <= 1 packets per node "
                        "per cycle",
                        options.rate));
    if (options.packet_flits < 1)
        throw ConfigError(fmt::format("--packet-flits: {} flits; a packet has at least 1", options.packet_flits));
    if (options.packet_flits > chip.noc.buffer_depth)
        throw ConfigError(
            fmt::format("--packet-flits {} exceeds chip.noc.buffer_depth {}: the router is virtual cut-through (a "
                        "packet moves only when the next buffer holds all its flits), so a buffer must hold a whole "
                        "packet",
                        options.packet_flits, chip.noc.buffer_depth));
    if (options.warmup_cycles < 0)
        throw ConfigError(fmt::format("--warmup: {} cycles; expected 0 or more", options.warmup_cycles));
    if (options.measure_cycles < 1)
        throw ConfigError(fmt::format("--cycles: {} cycles; expected 1 or more", options.measure_cycles));
    if (options.drain_cycles < 0)
        throw ConfigError(fmt::format("--drain: {} cycles; expected 0 (automatic) or more", options.drain_cycles));
    if (!(options.hotspot_fraction >= 0.0 && options.hotspot_fraction <= 1.0))
        throw ConfigError(fmt::format("--hotspot-fraction: {} is not a fraction in [0, 1]", options.hotspot_fraction));
    if (n < 2) throw ConfigError(fmt::format("--mesh {}x{}: synthetic traffic needs at least 2 nodes", w, h));
    traffic_patterns().make(options.pattern)->check({w, h, options.hotspot_fraction});
}

}  // namespace

std::string traffic_pattern(const std::string& name, const std::string& what) {
    const std::string s = lowercase(name);
    const auto names = traffic_patterns().names();
    if (traffic_patterns().has(s)) return s;
    const std::string best = closest_name(s, names);
    throw ConfigError(fmt::format("{}: '{}' is not a traffic pattern{}; expected one of {}", what, name,
                                  best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best),
                                  fmt::join(names, ", ")));
}

MeshSize parse_mesh(const std::string& text, const std::string& what) {
    const std::string bad = fmt::format(
        "{}: '{}' is not a mesh size; expected WIDTHxHEIGHT with each side 1 to {}, e.g. 8x8", what, text,
        kMaxMeshSide);
    const size_t x = lowercase(text).find('x');
    if (x == std::string::npos) throw ConfigError(bad);
    auto side = [&](const std::string& s) {
        if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
            throw ConfigError(bad);
        const int v = std::stoi(s);
        if (v < 1 || v > kMaxMeshSide) throw ConfigError(bad);
        return static_cast<int32_t>(v);
    };
    return {side(text.substr(0, x)), side(text.substr(x + 1))};
}

int64_t noc_zero_load_latency(const ChipSpec& chip, int64_t hops, int64_t flits) {
    const int64_t p = chip.noc.pipeline_cycles, l = chip.noc.link_cycles;
    return p + hops * (l + p) + flits * l;
}

TrafficAnalysis analyse_traffic(const ChipSpec& chip, int32_t w, int32_t h, const std::string& pattern, int32_t flits,
                                double hotspot_fraction) {
    TrafficOptions options;
    options.pattern = pattern, options.packet_flits = flits, options.hotspot_fraction = hotspot_fraction;
    check_traffic(chip, w, h, options);
    ChannelLoads loads(w, h);
    const int64_t n = loads.n;
    TrafficAnalysis a;
    const auto traffic = traffic_patterns().make(pattern);
    const TrafficMesh mesh{w, h, hotspot_fraction};
    traffic->add_loads(loads, mesh);
    for (int32_t s = 0; s < n; ++s) a.injecting_nodes += traffic->injects(s, mesh);
    a.hotspot_node = traffic->hotspot_node(mesh);
    const double P = static_cast<double>(chip.noc.pipeline_cycles), L = static_cast<double>(chip.noc.link_cycles);
    const double F = flits, D = static_cast<double>(chip.noc.buffer_depth);
    a.mean_hops = loads.weight_sum > 0 ? loads.hop_sum / loads.weight_sum : 0.0;
    a.zero_load_latency_cycles = P + a.mean_hops * (L + P) + F * L;
    a.max_link_load = loads.max_link();
    const double max_inject = *std::max_element(loads.inject.begin(), loads.inject.end());
    const double max_eject = *std::max_element(loads.eject.begin(), loads.eject.end());
    // Capacities in flits per cycle; a buffer of D flits holds floor(D / F) packets, each slot back after the
    // credit loop.
    const double slots_flits = std::floor(D / F) * F;
    auto bound = [&](double link_cap, double inject_cap) {
        double rate = 1.0;  // Bernoulli: at most one packet per node per cycle
        if (a.max_link_load > 0) rate = std::min(rate, link_cap / (F * a.max_link_load));
        if (max_inject > 0) rate = std::min(rate, inject_cap / (F * max_inject));
        if (max_eject > 0) rate = std::min(rate, (1.0 / L) / (F * max_eject));
        return rate * F * a.injecting_nodes / static_cast<double>(n);
    };
    a.channel_bound_flits_per_node_cycle = bound(1.0 / L, 1.0 / L);
    a.credit_bound_flits_per_node_cycle =
        bound(std::min(1.0 / L, slots_flits / (L + P + 1)), std::min(1.0 / L, slots_flits / (P + 1)));
    return a;
}

// ------------------------------------------------------------------------------------------------ the mesh
namespace {
// Holds the spec before RouterEnv, which keeps a reference to it, is constructed (bases initialise in order).
struct SpecHolder {
    ChipSpec spec;
};
int noc_instances = 0;  // SystemC object names must be unique
}  // namespace

struct NocSim::Impl : SpecHolder, RouterEnv {
    struct Node;
    struct Control;

    int32_t w, h;
    std::vector<std::unique_ptr<Router>> routers;
    std::vector<std::unique_ptr<Node>> nodes;
    std::unique_ptr<Control> control;
    DeliveryObserver observer;

    // The measurement in progress.
    TrafficOptions opt;
    std::unique_ptr<TrafficPattern> pattern;  // opt.pattern, resolved once per measurement
    TrafficMesh traffic_mesh() const { return {w, h, opt.hotspot_fraction}; }
    int64_t start = 0, win_start = 0, win_end = 0;
    bool window_closed = false, finished = true;
    int64_t generated = 0, injected = 0, delivered = 0, duplicates = 0, misrouted = 0, discarded = 0;
    int64_t tagged = 0, tagged_delivered = 0, window_injected = 0, window_packets_out = 0, window_flits_out = 0;
    int64_t latency_sum = 0, latency_max = 0, net_latency_sum = 0, net_latency_max = 0, hops_sum = 0;
    int64_t last_tagged_tail = 0, finished_at = 0, queued = 0, queue_max = 0;
    int64_t quiet_at = 0;  // the last tail ever ejected: links and sinks are all free from then
    bool saturated = false;
    std::string reason;
    std::vector<std::vector<uint8_t>> seen;  // per source node, per sequence number: delivered yet

    Impl(const ChipSpec& chip, int32_t width, int32_t height);
    uint8_t route(const Router& r, const Packet& p) const override;
    void eject(Router& r, const Packet& p, int64_t tail) override;
    void input_freed(Router& r, int port, int flits, int64_t at) override;
    bool tagged_at(int64_t generated_at) const { return generated_at >= win_start && generated_at < win_end; }
    void begin(const TrafficOptions& options, bool generate);
    void simulate();
    void finish();
    void saturate(std::string why);
};

// One node's traffic generator, source queue and injection channel.
struct NocSim::Impl::Node : sc_core::sc_module {
    struct Waiting {
        int64_t generated;
        int32_t dest, flits;
    };
    struct Credit {
        int64_t at;
        int32_t flits;
    };
    Impl& noc;
    Router& router;
    int32_t index;
    std::mt19937_64 rng;
    double log_q = 0;            // log(1 - rate): geometric gaps between Bernoulli successes
    std::deque<Waiting> queue;   // generated, not yet injected (unbounded)
    std::deque<Credit> pending;  // room freed in the router's local input, usable from `at`
    int32_t credits = 0;         // room usable now
    int64_t next_gen = kNever;   // cycle of the next generated packet
    int64_t next_inject = 0;     // the injection channel is free from this cycle
    int32_t seq = 0;             // packets injected this run (the next id)
    CycleWake wake;

    SC_HAS_PROCESS(Node);
    Node(sc_core::sc_module_name name, Impl& impl, Router& r, int32_t i)
        : sc_module(name), noc(impl), router(r), index(i), credits(static_cast<int32_t>(impl.spec.noc.buffer_depth)) {
        SC_METHOD(run);
        sensitive << wake.event;
        dont_initialize();
    }

    // Cycles to the next Bernoulli success (1 = the next cycle): geometric, drawn once instead of a coin per cycle.
    int64_t gap() {
        if (noc.opt.rate >= 1.0) return 1;
        const double g = std::floor(std::log(unit_open0(rng)) / log_q);
        return g > 1e15 ? kNever / 4 : 1 + static_cast<int64_t>(g);
    }
    int32_t destination() { return noc.pattern->destination(index, noc.traffic_mesh(), rng); }
    void start(int64_t at, bool generate) {
        queue.clear();
        seq = 0;
        rng.seed(splitmix64(noc.opt.seed ^ splitmix64(static_cast<uint64_t>(index) + 1)));
        log_q = std::log1p(-noc.opt.rate);
        const bool injects = generate && noc.opt.rate > 0 &&
                             noc.pattern->injects(index, noc.traffic_mesh());
        next_gen = injects ? at + gap() - 1 : kNever;  // the first cycle may already succeed
        if (next_gen != kNever) wake.notify(noc, next_gen, noc.now());
    }
    void push(int64_t now, int32_t dest, int32_t flits) {
        queue.push_back({now, dest, flits});
        ++noc.generated;
        if (noc.tagged_at(now)) ++noc.tagged;
        noc.queued += 1;
        noc.queue_max = std::max(noc.queue_max, static_cast<int64_t>(queue.size()));
    }
    void credit(int flits, int64_t at) {
        pending.push_back({at, flits});
        if (!queue.empty()) wake.notify(noc, at, noc.now());
    }
    void stop() {
        noc.discarded += static_cast<int64_t>(queue.size());
        noc.queued -= static_cast<int64_t>(queue.size());
        queue.clear();
        next_gen = kNever;
        wake.cancel();
    }
    void inject(int64_t now) {
        const Waiting wt = queue.front();
        queue.pop_front();
        --noc.queued;
        if (seq == std::numeric_limits<int32_t>::max()) {  // 2^31 packets from one node: never in practice
            ++noc.discarded;
            noc.saturate(fmt::format("node {} ran out of packet ids", index));
            return;
        }
        Packet p;
        p.source = index;
        p.dest = wt.dest;
        p.flits = wt.flits;
        p.c = seq++;
        p.tick = wt.generated;
        p.injected = now;
        noc.seen[static_cast<size_t>(index)].push_back(0);
        credits -= wt.flits;
        next_inject = now + wt.flits * noc.spec.noc.link_cycles;  // the local port streams one flit per link time
        ++noc.injected;
        if (now >= noc.win_start && now < noc.win_end) ++noc.window_injected;
        router.accept(kInLocal, p, now);
    }
    void run() {
        const int64_t now = noc.now();
        while (!pending.empty() && pending.front().at <= now) credits += pending.front().flits, pending.pop_front();
        if (next_gen <= now) {
            push(now, destination(), noc.opt.packet_flits);
            next_gen = now + gap();
            if (noc.queued > noc.opt.max_queued_packets)
                noc.saturate(fmt::format("the source queues hold more than {} packets", noc.opt.max_queued_packets));
            if (noc.finished) return;
        }
        if (!queue.empty() && next_inject <= now && credits >= queue.front().flits) inject(now);
        int64_t t = next_gen;
        if (!queue.empty()) {
            if (credits >= queue.front().flits)
                t = std::min(t, std::max(next_inject, now + 1));
            else if (!pending.empty())
                t = std::min(t, pending.front().at);
            // else: credit() wakes it when the router frees room
        }
        if (t != kNever) wake.notify(noc, t, now);
    }
};

// Ends the window and bounds the drain.
struct NocSim::Impl::Control : sc_core::sc_module {
    Impl& noc;
    sc_core::sc_event window_end, drain_limit;
    SC_HAS_PROCESS(Control);
    Control(sc_core::sc_module_name name, Impl& impl) : sc_module(name), noc(impl) {
        SC_METHOD(on_window_end);
        sensitive << window_end;
        dont_initialize();
        SC_METHOD(on_drain_limit);
        sensitive << drain_limit;
        dont_initialize();
    }
    void on_window_end() {
        noc.window_closed = true;
        if (noc.tagged_delivered == noc.tagged) noc.finish();
    }
    void on_drain_limit() {
        if (!noc.finished)
            noc.saturate(
                fmt::format("the drain bound was hit: {} of {} tagged packets delivered within {} cycles after "
                            "the window",
                            noc.tagged_delivered, noc.tagged, noc.now() - noc.win_end));
    }
};

NocSim::Impl::Impl(const ChipSpec& chip, int32_t width, int32_t height)
    : SpecHolder{chip}, RouterEnv(spec, static_cast<size_t>(width) * static_cast<size_t>(height)), w(width), h(height) {
    const int id = noc_instances++;
    const auto n = static_cast<size_t>(w) * static_cast<size_t>(h);
    routers = build_mesh(*this, w, h, fmt::format("noc{}_router", id), kSinkCredits,
                         [](int32_t, int32_t, int32_t, int32_t) { return false; });
    nodes.reserve(n);
    for (size_t i = 0; i < n; ++i)
        nodes.push_back(std::make_unique<Node>(fmt::format("noc{}_node_{}", id, i).c_str(), *this, *routers[i],
                                               static_cast<int32_t>(i)));
    control = std::make_unique<Control>(fmt::format("noc{}_control", id).c_str(), *this);
}

uint8_t NocSim::Impl::route(const Router& r, const Packet& p) const {
    return xy_port(r.x, r.y, p.dest % w, p.dest / w);
}

void NocSim::Impl::input_freed(Router& r, int port, int flits, int64_t at) {
    if (port == kInLocal) nodes[r.index]->credit(flits, at);  // nothing is ever sent on the host port
}

void NocSim::Impl::eject(Router& r, const Packet& p, int64_t tail) {
    r.credit(kOutLocal, p.flits, tail);  // the sink has taken the packet once its tail is in
    quiet_at = std::max(quiet_at, tail);
    if (observer) observer(p, static_cast<int32_t>(r.index), tail);
    if (p.dest != static_cast<int32_t>(r.index)) ++misrouted;
    uint8_t& times = seen[static_cast<size_t>(p.source)][static_cast<size_t>(p.c)];
    if (times) {
        ++duplicates;
        return;
    }
    times = 1;
    ++delivered;
    if (tail >= win_start && tail < win_end) ++window_packets_out, window_flits_out += p.flits;
    if (!tagged_at(p.tick)) return;
    ++tagged_delivered;
    const int64_t latency = tail - p.tick, net = tail - p.injected;
    latency_sum += latency, latency_max = std::max(latency_max, latency);
    net_latency_sum += net, net_latency_max = std::max(net_latency_max, net);
    hops_sum += p.hops;
    last_tagged_tail = std::max(last_tagged_tail, tail);
    if (window_closed && tagged_delivered == tagged && !finished) finish();
}

// Stops generating and drops what still waits in the source queues; the network then drains by itself.
void NocSim::Impl::finish() {
    finished = true;
    finished_at = now();
    for (auto& node : nodes) node->stop();
    control->window_end.cancel();
    control->drain_limit.cancel();
}

void NocSim::Impl::saturate(std::string why) {
    if (finished) return;
    saturated = true;
    reason = std::move(why);
    finish();
}

void NocSim::Impl::begin(const TrafficOptions& options, bool generate) {
    opt = options;
    pattern = traffic_patterns().make(options.pattern);
    // SystemC stops at the last event, when the last packet left its router; its tail may still be streaming out
    // (the output busy, credits not yet back). The next measurement starts once that is over.
    start = std::max(now(), quiet_at);
    win_start = start + options.warmup_cycles;
    win_end = win_start + options.measure_cycles;
    window_closed = false, finished = false, saturated = false;
    reason.clear();
    generated = injected = delivered = duplicates = misrouted = discarded = 0;
    tagged = tagged_delivered = window_injected = window_packets_out = window_flits_out = 0;
    latency_sum = latency_max = net_latency_sum = net_latency_max = hops_sum = 0;
    last_tagged_tail = win_end, finished_at = start, queued = 0, queue_max = 0;
    seen.assign(nodes.size(), {});
    counters = NocCounters{};
    counters.resize(routers.size());
    for (auto& node : nodes) node->start(start, generate);
    control->window_end.notify(cycles(win_end - now()));
    const int64_t drain =
        options.drain_cycles > 0 ? options.drain_cycles : std::max<int64_t>(options.measure_cycles, 10000);
    control->drain_limit.notify(cycles(win_end + drain - now()));
}

void NocSim::Impl::simulate() {
    // Returns when nothing is left to happen: generation has stopped and the network has drained (a packet still
    // buffered then could never move, and counts as lost).
    sc_core::sc_start();
}

NocSim::NocSim(const ChipSpec& chip, int32_t width, int32_t height) {
    if (width < 1 || height < 1 || width > kMaxMeshSide || height > kMaxMeshSide)
        throw ConfigError(fmt::format("mesh {}x{}: each side must be 1 to {}", width, height, kMaxMeshSide));
    impl_ = std::make_unique<Impl>(chip, width, height);
}

NocSim::~NocSim() = default;

TrafficResult NocSim::run(const TrafficOptions& options) {
    Impl& s = *impl_;
    check_traffic(s.spec, s.w, s.h, options);
    const auto wall = std::chrono::steady_clock::now();
    s.begin(options, true);
    s.simulate();
    TrafficResult r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    const int64_t n = int64_t{s.w} * s.h;
    r.nodes = static_cast<int32_t>(n);
    for (int32_t i = 0; i < n; ++i)
        r.injecting_nodes += s.pattern->injects(i, s.traffic_mesh());
    if (options.rate == 0) r.injecting_nodes = 0;
    const double node_cycles = static_cast<double>(n) * static_cast<double>(options.measure_cycles);
    r.offered_packets_per_node_cycle = static_cast<double>(s.tagged) / node_cycles;
    r.offered_flits_per_node_cycle = r.offered_packets_per_node_cycle * options.packet_flits;
    r.accepted_packets_per_node_cycle = static_cast<double>(s.window_packets_out) / node_cycles;
    r.accepted_flits_per_node_cycle = static_cast<double>(s.window_flits_out) / node_cycles;
    if (s.tagged_delivered > 0) {
        const double k = static_cast<double>(s.tagged_delivered);
        r.latency_mean_cycles = static_cast<double>(s.latency_sum) / k;
        r.network_latency_mean_cycles = static_cast<double>(s.net_latency_sum) / k;
        r.hops_mean = static_cast<double>(s.hops_sum) / k;
    }
    r.latency_max_cycles = s.latency_max;
    r.network_latency_max_cycles = s.net_latency_max;
    r.generated = s.generated, r.injected = s.injected, r.delivered = s.delivered;
    r.duplicates = s.duplicates, r.misrouted = s.misrouted, r.discarded = s.discarded;
    r.lost = s.injected - s.delivered;
    r.tagged = s.tagged, r.tagged_delivered = s.tagged_delivered;
    r.source_queue_max_packets = s.queue_max;
    // Stable source queues grow by no more than noise over the window; past saturation they grow by the
    // difference between offered and accepted load (1% of the offered load is past the knee of the curve).
    const int64_t growth = s.tagged - s.window_injected;
    if (!s.saturated && growth > std::max<int64_t>(2 * n, s.tagged / 100)) {
        s.saturated = true;
        s.reason = fmt::format("the source queues grew by {} packets during the window ({:.1f}% of those generated)",
                               growth, 100.0 * static_cast<double>(growth) / static_cast<double>(s.tagged));
    }
    r.saturated = s.saturated;
    r.saturation_reason = s.saturated ? s.reason : std::string();
    r.cycles = std::max(s.now(), s.quiet_at) - s.start;
    r.drain_cycles = std::max<int64_t>(0, std::max(s.finished_at, s.last_tagged_tail) - s.win_end);
    r.packet_hops = s.counters.packet_hops, r.flit_hops = s.counters.flit_hops, r.stall_cycles = s.counters.stall_cycles;
    return r;
}

SinglePacket NocSim::single_packet(int32_t from, int32_t to, int32_t flits) {
    Impl& s = *impl_;
    const int32_t n = s.w * s.h;
    if (from < 0 || from >= n || to < 0 || to >= n)
        throw ConfigError(fmt::format("single packet {} -> {}: nodes are 0 to {}", from, to, n - 1));
    if (flits < 1 || flits > s.spec.noc.buffer_depth)
        throw ConfigError(fmt::format("single packet of {} flits: 1 to chip.noc.buffer_depth ({}) fit the router",
                                      flits, s.spec.noc.buffer_depth));
    TrafficOptions options;
    options.rate = 0, options.warmup_cycles = 0, options.measure_cycles = 1, options.packet_flits = flits;
    options.drain_cycles = int64_t{1} << 40;  // an empty network always delivers it
    s.begin(options, false);
    Impl::Node& node = *s.nodes[static_cast<size_t>(from)];
    node.push(s.start, to, flits);
    node.wake.notify(s, s.start, s.now());
    s.simulate();
    if (s.tagged_delivered != 1)
        throw InternalError(fmt::format("single packet {} -> {} was not delivered: {}", from, to, s.reason));
    return {s.latency_max, static_cast<int32_t>(s.hops_sum)};
}

void NocSim::set_delivery_observer(DeliveryObserver observer) { impl_->observer = std::move(observer); }
int32_t NocSim::width() const { return impl_->w; }
int32_t NocSim::height() const { return impl_->h; }
const ChipSpec& NocSim::chip() const { return impl_->spec; }

}  // namespace neuroemu
