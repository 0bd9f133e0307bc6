// SystemC model of a mapped chip; the timing model is described in docs/hardware-model.md.
#include "hw/chip_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <systemc>
#include <unordered_map>

#include "mapping/routing.h"
#include "router/router.h"

// SystemC's library calls sc_main when it owns main(); neuroemu has its own main() and drives sc_start itself.
int sc_main(int, char*[]) { return 0; }

namespace neuroemu {

void TraceRecorder::spikes(int64_t image, int64_t step, int pop, const SpikeEvent* events, size_t n) {
    auto& list = trace(image).events[static_cast<size_t>(step - 1)][static_cast<size_t>(pop)];
    list.assign(events, events + n);
}

void TraceRecorder::step_done(int64_t image, int64_t step, bool label_hit) {
    trace(image).correct[static_cast<size_t>(step - 1)] = label_hit;
}

SpikeTrace& TraceRecorder::trace(int64_t image) {
    while (static_cast<int64_t>(traces_.size()) <= image) {
        SpikeTrace t;
        t.steps = steps_;
        t.events.assign(static_cast<size_t>(steps_), std::vector<std::vector<SpikeEvent>>(static_cast<size_t>(populations_)));
        t.correct.assign(static_cast<size_t>(steps_), 0);
        traces_.push_back(std::move(t));
    }
    return traces_[static_cast<size_t>(image)];
}

void set_current_input(SpikeTrace& trace, const ImageSet& set, int64_t index, const InputNormalisation& norm) {
    std::vector<float> input(static_cast<size_t>(set.image_size()));
    image_to_input(set, index, norm, input.data());
    auto& host = trace.events.at(0).at(0);
    host.clear();
    for (int32_t c = 0, k = 0; c < set.channels; ++c)
        for (int32_t y = 0; y < set.height; ++y)
            for (int32_t x = 0; x < set.width; ++x, ++k)
                if (input[static_cast<size_t>(k)] != 0.0f) host.push_back({c, y, x});
}

int64_t ChipModel::zero_load_latency(const ChipSpec& chip, int64_t hops, int64_t flits, int64_t inter_chip_hops) {
    const int64_t p = chip.noc.pipeline_cycles, l = chip.noc.link_cycles, lc = chip.noc.inter_chip_link_cycles;
    // The source router's pipeline, then per link its traversal and the next router's pipeline, then the tail
    // streams into the core over the local port.
    return p + (hops - inter_chip_hops) * (l + p) + inter_chip_hops * (lc + p) + flits * l;
}

namespace {

using sc_core::sc_event;
using sc_core::sc_module;
using sc_core::sc_module_name;
using sc_core::sc_time;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

}  // namespace

struct ChipModel::Impl : RouterEnv {
    struct CoreUnit;
    struct Host;
    struct Ticker;

    const Mapping& m;
    const SnnModel& snn;
    HwOptions opt;
    HwStats stats;
    std::vector<std::unordered_map<int32_t, uint8_t>> tables;  // tree mode: per router, source -> output ports
    // Tree mode, unless too large: the same as a dense array [router * route_sources + source], kNoRoute where the
    // router is not on the source's tree.
    std::vector<uint8_t> route_table;
    size_t route_sources = 0;
    std::vector<std::vector<int>> input_projection;  // per layer, per input: SNN projection index, -1 for none
    std::vector<int32_t> consumers_offset, consumers;          // per layer (host last): layers reading it
    std::vector<int32_t> source_layers;                         // per layer: distinct sources (host counts)
    std::unordered_map<const UnitInput*, int> projection_of;    // input -> SNN projection index
    std::vector<std::unique_ptr<Router>> routers;
    std::vector<std::unique_ptr<CoreUnit>> cores;
    std::unique_ptr<Host> host;
    std::unique_ptr<Ticker> ticker;
    std::unique_ptr<VcdTracer> vcd;   // --trace
    std::unique_ptr<AerWriter> aer;   // --aer-out

    // The tick in progress.
    const SpikeTrace* trace = nullptr;       // the engine's spikes, or
    const RecordedImage* recorded = nullptr; // the events read back from an AER trace
    int64_t image_steps = 0;                 // ticks of the image in progress
    int64_t first_image_steps = 0;
    int64_t step = 0;                   // 1-based, within the image
    int64_t tick_start = 0;
    std::vector<int32_t> sources_pending;   // per layer: sources not yet done sending this tick
    std::vector<int64_t> expected;          // per layer: deliveries not yet processed
    std::vector<int32_t> cores_sending;     // per layer: cores still injecting
    std::vector<uint8_t> fired;             // per layer: its cores got their events this tick
    int64_t layers_sent = 0;
    int32_t host_sending = 0;
    bool stuck = false;
    bool tick_open = false;             // between start_tick and the barrier

    Impl(const Mapping& mapping, const SnnModel& model, const HwOptions& options);
    std::vector<CoreUnit*> core_at;  // per router: its core, if any

    uint8_t route(const Router& r, const Packet& p) const override;
    void eject(Router& r, const Packet& p, int64_t tail) override;
    void input_freed(Router& r, int port, int flits, int64_t at) override;
    void start_tick();
    void fire_layer(int layer);
    void layer_sent(int layer);
    void source_done(int consumers_of);
    void check_ready(int layer);
    void processed(int layer);
    void injected(int source_core, const Packet& p);
    void maybe_end_tick();
    Packet make_packet(int source, int layer, int32_t c, int32_t y, int32_t x, int32_t dest) const;
    void enqueue_spike(int source, int layer, int32_t c, int32_t y, int32_t x, std::deque<Packet>& out);
    // The recorded events of sources [first, last) this tick (replay).
    std::pair<const SourcedEvent*, const SourcedEvent*> recorded_events(int32_t first, int32_t last) const;
    void run_image(int64_t steps);
    std::string blocked_report() const;
};

// ------------------------------------------------------------------------------------------------ core
// Cores, the host and the tick controller run from the routers' calendar (RouterEnv::wake): within a cycle after the
// routers, in the order they were woken.
struct ChipModel::Impl::CoreUnit : CycleAgent {
    struct Arrival {
        Packet p;
        int64_t at;
    };
    Impl& hw;
    int32_t index;
    const Core& core;
    const MapLayer& layer;
    const std::vector<int>& input_proj;  // per input of its layer: SNN projection index, -1 for none
    Router* router = nullptr;
    std::deque<Arrival> queue;         // events from the router, waiting for the synapse engine
    bool engine_busy = false;
    int64_t engine_done = 0;
    std::deque<Packet> out;            // events to send (AER encoder)
    int32_t inject_credits = 0;
    std::vector<std::pair<int64_t, int32_t>> pending_credits;  // (cycle, flits) returned by the router, not yet usable
    int64_t next_inject = 0;
    std::vector<uint8_t> touched;      // partial-sum layers: pixels of the slice that received input this tick
    std::vector<TargetBox> boxes;
    uint32_t queue_flits = 0;          // flits in `queue`
    VcdTracer::CoreVars* tv = nullptr; // traced in the VCD file

    CoreUnit(Impl& impl, int32_t i)
        : hw(impl), index(i), core(impl.m.cores[static_cast<size_t>(i)]),
          layer(impl.m.graph.layers[static_cast<size_t>(core.layer)]),
          input_proj(impl.input_projection[static_cast<size_t>(core.layer)]) {
        inject_credits = static_cast<int32_t>(hw.m.chip.noc.buffer_depth);
        if (layer.kind == UnitKind::Partial)
            touched.assign(static_cast<size_t>((core.y1 - core.y0) * (core.x1 - core.x0)), 0);
    }

    void accept(const Packet& p, int64_t at) {
        queue.push_back({p, at});
        queue_flits += static_cast<uint32_t>(p.flits);
        if (tv && hw.vcd->active()) tv->queue_flits = queue_flits;
        hw.wake(*this, at);
    }
    void credit(int flits, int64_t at) {  // usable from cycle `at`
        pending_credits.emplace_back(at, flits);
        if (!out.empty()) hw.wake(*this, at);
    }
    void start_sending(int64_t at) {
        next_inject = at;
        hw.wake(*this, at);
    }
    void process(const Packet& p);
    void run_cycle(int64_t now) override;
};

namespace {
// Adds the credits usable at `now` to `credits`; returns the cycle of the earliest one still pending (kNever: none).
int64_t apply_credits(std::vector<std::pair<int64_t, int32_t>>& pending, int32_t& credits, int64_t now) {
    int64_t next = kNever;
    size_t keep = 0;
    for (const auto& c : pending) {
        if (c.first <= now) {
            credits += c.second;
        } else {
            pending[keep++] = c;
            next = std::min(next, c.first);
        }
    }
    pending.resize(keep);
    return next;
}
}  // namespace

// ------------------------------------------------------------------------------------------------ host
struct ChipModel::Impl::Host : CycleAgent {
    Impl& hw;
    Router* router = nullptr;
    std::deque<Packet> out;
    int32_t inject_credits = 0;
    std::vector<std::pair<int64_t, int32_t>> pending_credits;
    int64_t next_inject = 0;

    explicit Host(Impl& impl) : hw(impl) { inject_credits = static_cast<int32_t>(hw.m.chip.noc.buffer_depth); }
    void credit(int flits, int64_t at) {  // usable from cycle `at`
        pending_credits.emplace_back(at, flits);
        if (!out.empty()) hw.wake(*this, at);
    }
    void run_cycle(int64_t now) override;
};

// ------------------------------------------------------------------------------------------------ ticks
struct ChipModel::Impl::Ticker : sc_module, CycleAgent {
    Impl& hw;
    sc_event watchdog;
    int64_t watchdog_tick = -1;
    SC_HAS_PROCESS(Ticker);
    Ticker(sc_module_name name, Impl& impl) : sc_module(name), hw(impl) {
        SC_METHOD(on_watchdog);
        sensitive << watchdog;
        dont_initialize();
    }
    void run_cycle(int64_t) override { hw.start_tick(); }  // starts the next tick
    void on_watchdog() {
        if (hw.step == watchdog_tick && hw.step > 0) {  // the tick started max_tick_cycles ago and is still open
            hw.stuck = true;
            sc_core::sc_stop();
        }
    }
};

// ------------------------------------------------------------------------------------------------ behaviour
uint8_t ChipModel::Impl::route(const Router& r, const Packet& p) const {
    if (vcd) vcd->accepted(r, p);
    if (m.chip.noc.multicast == MulticastMode::Tree) {
        uint8_t ports = kNoRoute;
        if (!route_table.empty()) {
            if (p.source >= 0 && static_cast<size_t>(p.source) < route_sources)
                ports = route_table[r.index * route_sources + static_cast<size_t>(p.source)];
        } else {
            const auto& t = tables[r.index];
            const auto it = t.find(p.source);
            if (it != t.end()) ports = it->second;
        }
        if (ports == kNoRoute)
            throw InternalError(fmt::format("router ({}, {}) has no table entry for source {}", r.x, r.y, p.source));
        return ports;
    }
    const Core& d = m.cores[static_cast<size_t>(p.dest)];
    return xy_port(r.x, r.y, d.x, d.y);
}

void ChipModel::Impl::eject(Router& r, const Packet& p, int64_t tail) {
    if (vcd) vcd->ejected(r);
    core_at[r.index]->accept(p, tail);
}

void ChipModel::Impl::input_freed(Router& r, int port, int flits, int64_t at) {
    if (port == kInLocal)
        core_at[r.index]->credit(flits, at);
    else
        host->credit(flits, at);
}

void ChipModel::Impl::CoreUnit::process(const Packet& p) {
    boxes.clear();
    target_boxes(hw.m.graph, core.layer, core, p.layer, p.c, p.y, p.x, boxes);
    int64_t sops = 0;
    for (const TargetBox& b : boxes) {
        const int64_t v = b.volume();
        sops += v;
        const int projection = input_proj[static_cast<size_t>(b.input - layer.inputs.data())];
        if (projection >= 0) {
            hw.stats.sops += v;
            hw.stats.sops_by_projection_index[static_cast<size_t>(projection)] += v;
        } else {
            hw.stats.partial_sum_sops += v;  // partial sums into their neuron, spike-gate counters
        }
        if (!touched.empty())
            for (int64_t yy = b.y0; yy < b.y1; ++yy)
                for (int64_t xx = b.x0; xx < b.x1; ++xx)
                    touched[static_cast<size_t>((yy - core.y0) * (core.x1 - core.x0) + (xx - core.x0))] = 1;
    }
    hw.stats.core_sops[static_cast<size_t>(index)] += sops;
    if (tv && hw.vcd->active()) tv->sops += static_cast<uint64_t>(sops);
    const int64_t per_cycle = hw.m.chip.core.sops_per_cycle;
    engine_busy = true;
    engine_done = hw.now() + std::max<int64_t>(1, (sops + per_cycle - 1) / per_cycle);  // at least the lookup
}

void ChipModel::Impl::CoreUnit::run_cycle(int64_t now) {
    const int64_t credit_at = pending_credits.empty() ? kNever : apply_credits(pending_credits, inject_credits, now);
    if (engine_busy && engine_done <= now) {
        engine_busy = false;
        hw.processed(core.layer);
    }
    if (!engine_busy && !queue.empty() && queue.front().at <= now) {
        const Arrival a = queue.front();
        queue.pop_front();
        queue_flits -= static_cast<uint32_t>(a.p.flits);
        if (tv && hw.vcd->active()) tv->queue_flits = queue_flits;
        router->credit(kOutLocal, a.p.flits, now + 1);
        hw.stats.packet_latency_sum += now - a.p.injected;
        hw.stats.packet_latency_max = std::max(hw.stats.packet_latency_max, now - a.p.injected);
        ++hw.stats.deliveries;
        ++hw.stats.core_delivered[static_cast<size_t>(index)];
        process(a.p);
    }
    if (!out.empty() && next_inject <= now && inject_credits >= out.front().flits) {
        Packet p = out.front();
        out.pop_front();
        p.injected = now;
        inject_credits -= p.flits;
        next_inject = now + 1;  // the AER encoder emits one event per cycle
        hw.injected(index, p);
        if (tv && hw.vcd->active()) ++tv->packets_sent;
        router->accept(kInLocal, p, now);
        if (out.empty()) hw.layer_sent(core.layer);
    }
    int64_t t = kNever;
    if (engine_busy) t = std::min(t, engine_done);
    if (!engine_busy && !queue.empty()) t = std::min(t, std::max(queue.front().at, now + (queue.front().at <= now)));
    if (!out.empty()) {
        if (inject_credits >= out.front().flits)
            t = std::min(t, std::max(next_inject, now + 1));
        else
            t = std::min(t, credit_at);  // the credits already returned (credit() wakes it for later ones)
    }
    if (t != kNever) hw.wake(*this, t);
}

void ChipModel::Impl::Host::run_cycle(int64_t now) {
    const int64_t credit_at = pending_credits.empty() ? kNever : apply_credits(pending_credits, inject_credits, now);
    if (!out.empty() && next_inject <= now && inject_credits >= out.front().flits) {
        Packet p = out.front();
        out.pop_front();
        p.injected = now;
        inject_credits -= p.flits;
        next_inject = now + 1;
        hw.injected(static_cast<int>(hw.m.cores.size()), p);
        router->accept(kInHost, p, now);
        if (out.empty()) {
            hw.host_sending = 0;
            hw.source_done(static_cast<int>(hw.m.graph.layers.size()));
        }
    }
    if (!out.empty()) {
        if (inject_credits >= out.front().flits)
            hw.wake(*this, std::max(next_inject, now + 1));
        else if (credit_at != kNever)
            hw.wake(*this, credit_at);
    }
}

ChipModel::Impl::Impl(const Mapping& mapping, const SnnModel& model, const HwOptions& options)
    : RouterEnv(mapping.chip, static_cast<size_t>(mapping.mesh.routers())), m(mapping), snn(model), opt(options) {
    const size_t n_layers = m.graph.layers.size(), n_cores = m.cores.size();
    const auto routers_n = static_cast<size_t>(m.mesh.routers());
    stats.core_sops.assign(n_cores, 0);
    stats.core_expected.assign(n_cores, 0);
    stats.core_delivered.assign(n_cores, 0);
    stats.sops_by_projection_index.assign(snn.projections.size(), 0);
    // SNN projections by name, so that core-side synaptic operations can be checked against the engine's.
    std::unordered_map<std::string, int> by_name;
    for (size_t k = 0; k < snn.projections.size(); ++k) by_name[snn.projections[k].name] = static_cast<int>(k);
    for (const auto& l : m.graph.layers)
        for (const auto& in : l.inputs) {
            const auto it = by_name.find(in.projection);
            if (it != by_name.end()) projection_of[&in] = it->second;
        }
    input_projection.resize(n_layers);
    for (size_t li = 0; li < n_layers; ++li)
        for (const auto& in : m.graph.layers[li].inputs) {
            const auto it = projection_of.find(&in);
            input_projection[li].push_back(it == projection_of.end() ? -1 : it->second);
        }
    // Who reads whom: per source layer (host last) its consumer layers; per layer its number of sources.
    std::vector<std::vector<int32_t>> readers(n_layers + 1);
    source_layers.assign(n_layers, 0);
    for (size_t li = 0; li < n_layers; ++li) {
        std::vector<int> seen;
        for (const auto& in : m.graph.layers[li].inputs) {
            const int s = in.source == kHostSource ? static_cast<int>(n_layers) : in.source;
            if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
            seen.push_back(s);
            readers[static_cast<size_t>(s)].push_back(static_cast<int32_t>(li));
            ++source_layers[li];
        }
    }
    consumers_offset.assign(1, 0);
    for (const auto& r : readers) {
        consumers.insert(consumers.end(), r.begin(), r.end());
        consumers_offset.push_back(static_cast<int32_t>(consumers.size()));
    }
    // Multicast tables from the routes (routing.h), one entry per source per router on its tree.
    tables.resize(routers_n);
    if (m.chip.noc.multicast == MulticastMode::Tree) {
        std::vector<RouteStep> steps;
        for (int64_t s = 0; s < m.routes.sources(); ++s) {
            route_steps(m, s, steps);
            for (const RouteStep& st : steps) {
                const size_t r = static_cast<size_t>(st.y) * static_cast<size_t>(m.mesh.width()) + static_cast<size_t>(st.x);
                uint8_t& ports = tables[r][static_cast<int32_t>(s)];
                // routing.h's port bits E, W, N, S, local are outputs 0..4 here.
                ports = static_cast<uint8_t>(ports | st.ports);
            }
        }
        // The dense copy when it takes at most 64 MiB.
        route_sources = static_cast<size_t>(m.routes.sources());
        if (routers_n * route_sources <= (size_t{1} << 26)) {
            route_table.assign(routers_n * route_sources, kNoRoute);
            for (size_t r = 0; r < routers_n; ++r)
                for (const auto& [src, ports] : tables[r])
                    if (src >= 0 && static_cast<size_t>(src) < route_sources)
                        route_table[r * route_sources + static_cast<size_t>(src)] = ports;
            bool all = true;  // every entry fits the dense array
            for (size_t r = 0; r < routers_n && all; ++r)
                for (const auto& e : tables[r])
                    if (e.first < 0 || static_cast<size_t>(e.first) >= route_sources) all = false;
            if (!all) route_table.clear();
        }
    }
    const int32_t w = m.mesh.width(), h = m.mesh.height();
    routers.reserve(routers_n);
    for (int32_t y = 0; y < h; ++y)
        for (int32_t x = 0; x < w; ++x)
            routers.push_back(std::make_unique<Router>(fmt::format("router_{}_{}", x, y).c_str(), *this, x, y,
                                                       routers.size(), m.chip.core.input_queue));
    for (int32_t y = 0; y < h; ++y)
        for (int32_t x = 0; x < w; ++x) {
            const int32_t nx[4] = {x + 1, x - 1, x, x}, ny[4] = {y, y, y + 1, y - 1};
            for (int d = 0; d < 4; ++d)
                if (nx[d] >= 0 && nx[d] < w && ny[d] >= 0 && ny[d] < h)
                    routers[static_cast<size_t>(y * w + x)]->connect(d, routers[static_cast<size_t>(ny[d] * w + nx[d])].get(),
                                                                     m.mesh.chip_of(x, y) != m.mesh.chip_of(nx[d], ny[d]));
        }
    cores.reserve(n_cores);
    core_at.assign(routers_n, nullptr);
    for (size_t k = 0; k < n_cores; ++k) {
        cores.push_back(std::make_unique<CoreUnit>(*this, static_cast<int32_t>(k)));
        Router* r = routers[static_cast<size_t>(m.cores[k].y * w + m.cores[k].x)].get();
        cores.back()->router = r;
        core_at[r->index] = cores.back().get();
    }
    host = std::make_unique<Host>(*this);
    host->router = routers[static_cast<size_t>(m.host_y * w + m.host_x)].get();
    ticker = std::make_unique<Ticker>("ticks", *this);
    sources_pending.assign(n_layers, 0);
    expected.assign(n_layers, 0);
    cores_sending.assign(n_layers, 0);
    fired.assign(n_layers, 0);
    // Tracing is set up here, during elaboration, before the first sc_start.
    if (!opt.vcd_path.empty()) {
        VcdScope scope = default_vcd_scope(m);
        if (opt.vcd_cores) scope.cores = *opt.vcd_cores;
        scope.routers = opt.vcd_routers ? *opt.vcd_routers : routers_of(m, scope.cores);
        scope.window = opt.vcd_window;
        std::vector<const Router*> rs;
        for (const auto& r : routers) rs.push_back(r.get());
        vcd = std::make_unique<VcdTracer>("vcd", opt.vcd_path, m, *this, std::move(rs), scope);
        for (int32_t k : scope.cores) cores[static_cast<size_t>(k)]->tv = vcd->core_vars(k);
    }
    if (!opt.aer_path.empty()) aer = std::make_unique<AerWriter>(opt.aer_path, m);
    // Without a VCD trace route() is a table lookup: the routers read the table themselves.
    if (!vcd && !route_table.empty()) set_route_table(route_table.data(), route_sources);
}

std::pair<const SourcedEvent*, const SourcedEvent*> ChipModel::Impl::recorded_events(int32_t first, int32_t last) const {
    const auto& list = recorded->events[static_cast<size_t>(step - 1)];
    const auto by_source = [](const SourcedEvent& e, int32_t s) { return e.source < s; };
    const SourcedEvent* b = std::lower_bound(list.data(), list.data() + list.size(), first, by_source);
    const SourcedEvent* e = std::lower_bound(b, list.data() + list.size(), last, by_source);
    return {b, e};
}

Packet ChipModel::Impl::make_packet(int source, int layer, int32_t c, int32_t y, int32_t x, int32_t dest) const {
    Packet p;
    p.source = source;
    p.layer = layer;
    p.c = c, p.y = y, p.x = x;
    p.dest = dest;
    p.flits = static_cast<int32_t>(m.chip.noc.flits_per_event());
    p.tick = step;
    return p;
}

// Queues one event of unit (c, y, x): one multicast packet, or one unicast packet per destination core.
void ChipModel::Impl::enqueue_spike(int source, int layer, int32_t c, int32_t y, int32_t x, std::deque<Packet>& out) {
    const auto b = m.routes.offset[static_cast<size_t>(source)], e = m.routes.offset[static_cast<size_t>(source) + 1];
    if (b == e) return;  // nobody reads it (the readout)
    ++stats.spikes;
    if (m.chip.noc.multicast == MulticastMode::Tree) {
        out.push_back(make_packet(source, layer, c, y, x, -1));
        return;
    }
    for (auto i = b; i < e; ++i) out.push_back(make_packet(source, layer, c, y, x, m.routes.dest[static_cast<size_t>(i)]));
}

void ChipModel::Impl::injected(int source, const Packet& p) {
    ++stats.packets;
    if (aer) {
        AerRecord r;
        r.tick = stats.ticks;  // ticks finished so far: this tick's global number
        r.cycle = p.injected;
        r.source = source;
        r.layer = p.layer;
        r.c = p.c, r.y = p.y, r.x = p.x;
        r.dest = p.dest;
        aer->write(r);
    }
    auto count = [&](int32_t d) {
        ++expected[static_cast<size_t>(m.cores[static_cast<size_t>(d)].layer)];
        ++stats.core_expected[static_cast<size_t>(d)];
    };
    if (p.dest >= 0) {
        count(p.dest);
        return;
    }
    for (auto i = m.routes.offset[static_cast<size_t>(source)]; i < m.routes.offset[static_cast<size_t>(source) + 1]; ++i)
        count(m.routes.dest[static_cast<size_t>(i)]);
}

void ChipModel::Impl::start_tick() {
    ++step;
    tick_start = now();
    tick_open = true;
    layers_sent = 0;
    const size_t n_layers = m.graph.layers.size();
    for (size_t l = 0; l < n_layers; ++l) {
        sources_pending[l] = source_layers[l];
        fired[l] = 0;
        if (expected[l] != 0) throw InternalError("hardware model: deliveries left over from the previous tick");
    }
    ticker->watchdog_tick = step;
    ticker->watchdog.cancel();
    ticker->watchdog.notify(cycles(opt.max_tick_cycles));
    if (vcd) vcd->start_tick(stats.ticks, first_image_steps);
    // The host: a constant current is sent once per image (first tick); Poisson spikes every tick.
    const int host_source = static_cast<int>(m.cores.size());
    // Population 0 of the trace holds the host's events: Poisson spikes every step, or the nonzero pixels of a
    // constant-current image at step 1 only.
    if (recorded) {
        const auto ev = recorded_events(host_source, host_source + 1);
        for (const SourcedEvent* e = ev.first; e != ev.second; ++e) enqueue_spike(host_source, kHostSource, e->e.c, e->e.y, e->e.x, host->out);
    } else {
        for (const SpikeEvent& e : trace->events[static_cast<size_t>(step - 1)][0])
            enqueue_spike(host_source, kHostSource, e.c, e.y, e.x, host->out);
    }
    if (host->out.empty()) {
        source_done(static_cast<int>(n_layers));
    } else {
        host_sending = 1;
        host->next_inject = tick_start;
        wake(*host, tick_start);
    }
    // Layers with nothing to wait for cannot exist (every layer reads something), but a layer whose only source
    // sent nothing is ready now.
    for (size_t l = 0; l < n_layers; ++l) check_ready(static_cast<int>(l));
}

void ChipModel::Impl::source_done(int source) {
    for (int32_t i = consumers_offset[static_cast<size_t>(source)]; i < consumers_offset[static_cast<size_t>(source) + 1]; ++i) {
        const int32_t l = consumers[static_cast<size_t>(i)];
        --sources_pending[static_cast<size_t>(l)];
        check_ready(l);
    }
}

void ChipModel::Impl::processed(int layer) {
    --expected[static_cast<size_t>(layer)];
    check_ready(layer);
    maybe_end_tick();
}

void ChipModel::Impl::check_ready(int layer) {
    const auto l = static_cast<size_t>(layer);
    if (fired[l] || sources_pending[l] > 0 || expected[l] > 0) return;
    fired[l] = 1;
    fire_layer(layer);
}

// A layer whose inputs for this tick are all integrated updates its neurons and sends this tick's events.
void ChipModel::Impl::fire_layer(int layer) {
    const MapLayer& l = m.graph.layers[static_cast<size_t>(layer)];
    const int64_t t = now();
    if (recorded) {  // each core sends what it sent when the trace was recorded
        if (l.kind == UnitKind::Partial)
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                auto& touched = cores[static_cast<size_t>(k)]->touched;
                std::fill(touched.begin(), touched.end(), 0);
            }
        const auto ev = recorded_events(static_cast<int32_t>(l.first_core), static_cast<int32_t>(l.first_core + l.cores));
        for (const SourcedEvent* e = ev.first; e != ev.second; ++e)
            enqueue_spike(e->source, layer, e->e.c, e->e.y, e->e.x, cores[static_cast<size_t>(e->source)]->out);
    } else {
        switch (l.kind) {
            case UnitKind::Neuron:
            case UnitKind::Gate:
                for (const SpikeEvent& e : trace->events[static_cast<size_t>(step - 1)][static_cast<size_t>(l.population)]) {
                    const auto k = static_cast<int>(core_of(l, e.c, e.y, e.x));
                    enqueue_spike(k, layer, e.c, e.y, e.x, cores[static_cast<size_t>(k)]->out);
                }
                break;
            case UnitKind::Partial:
                for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                    CoreUnit& cu = *cores[static_cast<size_t>(k)];
                    const Core& c = cu.core;
                    for (int32_t yy = static_cast<int32_t>(c.y0); yy < c.y1; ++yy)
                        for (int32_t xx = static_cast<int32_t>(c.x0); xx < c.x1; ++xx) {
                            uint8_t& hit = cu.touched[static_cast<size_t>((yy - c.y0) * (c.x1 - c.x0) + (xx - c.x0))];
                            if (!hit) continue;
                            hit = 0;
                            for (int32_t ch = static_cast<int32_t>(c.c0); ch < c.c1; ++ch)
                                enqueue_spike(static_cast<int>(k), layer, ch, yy, xx, cu.out);
                        }
                }
                break;
            case UnitKind::Current:
                for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                    const Core& c = m.cores[static_cast<size_t>(k)];
                    for (int32_t ch = static_cast<int32_t>(c.c0); ch < c.c1; ++ch)
                        for (int32_t yy = static_cast<int32_t>(c.y0); yy < c.y1; ++yy)
                            for (int32_t xx = static_cast<int32_t>(c.x0); xx < c.x1; ++xx)
                                enqueue_spike(static_cast<int>(k), layer, ch, yy, xx, cores[static_cast<size_t>(k)]->out);
                }
                break;
            case UnitKind::Readout: break;
        }
    }
    int32_t sending = 0;
    for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
        CoreUnit& cu = *cores[static_cast<size_t>(k)];
        stats.neuron_updates += cu.core.units;
        if (cu.out.empty()) continue;
        ++sending;
        const int64_t per_cycle = m.chip.core.neuron_updates_per_cycle;
        cu.start_sending(t + (cu.core.units + per_cycle - 1) / per_cycle);
    }
    cores_sending[static_cast<size_t>(layer)] = sending;
    if (sending == 0) {
        cores_sending[static_cast<size_t>(layer)] = 1;
        layer_sent(layer);
    }
}

void ChipModel::Impl::layer_sent(int layer) {
    if (--cores_sending[static_cast<size_t>(layer)] > 0) return;
    ++layers_sent;
    source_done(layer);
    maybe_end_tick();
}

void ChipModel::Impl::maybe_end_tick() {
    if (!tick_open || layers_sent < static_cast<int64_t>(m.graph.layers.size()) || host_sending) return;
    for (int64_t e : expected)
        if (e) return;
    tick_open = false;
    const int64_t t = now();
    const int64_t c = t - tick_start + 1;
    stats.tick_cycles.push_back(c);
    stats.cycles += c;
    stats.max_tick_cycles = std::max(stats.max_tick_cycles, c);
    ++stats.ticks;
    ticker->watchdog.cancel();
    ticker->watchdog_tick = -1;
    if (step < image_steps) wake(*ticker, t + 1);
}

std::string ChipModel::Impl::blocked_report() const {
    std::string out;
    int listed = 0;
    for (const auto& r : routers) {
        if (r->occupancy() == 0) continue;
        if (listed++ == 8) {
            out += "; ...";
            break;
        }
        out += fmt::format("{}router ({}, {}): {} flits buffered", listed > 1 ? "; " : "", r->x, r->y, r->occupancy());
        for (int i = 0; i < kRouterInputs; ++i)
            if (!r->input(i).empty())
                out += fmt::format(", input {} head from core {} waits for outputs {:#x} (credits E{} W{} N{} S{} L{})", i,
                                   r->input(i).front().p.source, r->input(i).front().todo, r->credits(0), r->credits(1),
                                   r->credits(2), r->credits(3), r->credits(4));
    }
    return out.empty() ? "no router holds packets; a core or the tick barrier is waiting" : out;
}

ChipModel::ChipModel(const Mapping& mapping, const SnnModel& snn, const HwOptions& options)
    : impl_(std::make_unique<Impl>(mapping, snn, options)) {}

ChipModel::~ChipModel() = default;

// One image's ticks, from `trace` or `recorded` (set by the caller).
void ChipModel::Impl::run_image(int64_t steps) {
    const auto start = std::chrono::steady_clock::now();
    if (first_image_steps == 0) first_image_steps = steps;
    if (aer) {
        if (!aer->begun()) aer->begin(steps);
        if (aer->steps() != steps)
            throw ConfigError(fmt::format("AER trace {}: every image must have the same number of steps ({}, not {})",
                                          aer->path(), aer->steps(), steps));
    }
    image_steps = steps;
    step = 0;
    const int64_t ticks_before = stats.ticks;
    wake(*ticker, now());
    sc_core::sc_start();
    if (stuck || stats.ticks - ticks_before != steps)
        throw DeadlockError(fmt::format(
            "the chip did not finish tick {} of image {} within {} cycles: {}", step, stats.images + 1,
            stuck ? opt.max_tick_cycles : now() - tick_start, blocked_report()));
    ++stats.images;
    stats.noc = counters;
    stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void ChipModel::run(const SpikeTrace& trace) {
    Impl& hw = *impl_;
    if (trace.steps < 1) return;
    hw.trace = &trace;
    hw.recorded = nullptr;
    hw.run_image(trace.steps);
    if (hw.stats.correct_at_step.empty()) hw.stats.correct_at_step.assign(static_cast<size_t>(trace.steps), 0);
    for (int64_t t = 0; t < trace.steps && t < static_cast<int64_t>(hw.stats.correct_at_step.size()); ++t)
        hw.stats.correct_at_step[static_cast<size_t>(t)] += trace.correct[static_cast<size_t>(t)];
}

void ChipModel::replay(const RecordedImage& image) {
    Impl& hw = *impl_;
    if (image.steps < 1) return;
    if (static_cast<int64_t>(image.events.size()) != image.steps)
        throw InternalError("ChipModel::replay: an image needs one event list per step");
    hw.trace = nullptr;
    hw.recorded = &image;
    hw.run_image(image.steps);
    hw.recorded = nullptr;
}

void ChipModel::finish() {
    Impl& hw = *impl_;
    if (hw.vcd) hw.vcd->close();
    if (hw.aer) hw.aer->close(hw.stats.ticks);
}

const HwStats& ChipModel::stats() const { return impl_->stats; }

}  // namespace neuroemu
