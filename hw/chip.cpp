#include "hw/chip.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/memory_limit.h"
#include "mapping/routing.h"
#include "mpi/pack.h"
#include "mpi/world.h"
#include "router/mesh.h"
#include "router/multicast/multicast.h"
#include "router/routing/routing.h"

namespace neuroemu {

namespace {

// The mesh's router count, after checking what the model allocates per router (the Router, its pointer and the
// core_at_ entry) against the memory budget; run before RouterEnv allocates its per-router calendar.
size_t checked_routers(const Mapping& mapping) {
    const int64_t routers = mapping.mesh.routers();
    constexpr int64_t kBytesPerRouter = sizeof(Router) + 2 * sizeof(void*);
    require_memory<ConfigError>(fmt::format("hardware model: a {} x {} mesh ({} routers, at least {} bytes each)",
                                            mapping.mesh.width(), mapping.mesh.height(), routers, kBytesPerRouter),
                                saturating_mul(routers, kBytesPerRouter));
    return static_cast<size_t>(routers);
}

// `m` without the (source, destination) routes that dead routers or links of `f` cut off (route_steps with the
// faults: the one route computation, rerouting or not), and the pairs cut off; no mapping when nothing is dead.
Chip::PrunedMapping prune_dead(const Mapping& m, const FaultSpec& f) {
    if (f.dead_routers.empty() && f.dead_links.empty()) return {};
    Chip::PrunedMapping out;
    out.faults = std::make_unique<RouteFaults>(m, f);
    const std::unique_ptr<Multicast> multicast = make_multicast(m.chip.noc.multicast);
    auto pruned = std::make_unique<Mapping>(m);
    Destinations& routes = pruned->routes;
    routes.dest.clear();
    std::vector<RouteStep> steps;
    std::vector<int32_t> cut;
    for (int64_t s = 0; s < m.routes.sources(); ++s) {
        routes.offset[static_cast<size_t>(s)] = static_cast<int64_t>(routes.dest.size());
        route_steps(m, *multicast, out.faults.get(), s, steps, &cut);
        for (const int32_t d : cut) out.lost.push_back({static_cast<int32_t>(s), d});
        std::sort(cut.begin(), cut.end());
        for (int64_t i = m.routes.offset[static_cast<size_t>(s)]; i < m.routes.offset[static_cast<size_t>(s) + 1]; ++i) {
            const int32_t d = m.routes.dest[static_cast<size_t>(i)];
            if (!std::binary_search(cut.begin(), cut.end(), d)) routes.dest.push_back(d);
        }
    }
    routes.offset.back() = static_cast<int64_t>(routes.dest.size());
    out.mapping = std::move(pruned);
    return out;
}

}  // namespace

Chip::Chip(const Mapping& mapping_, const SnnModel& snn_, const HwOptions& options_)
    : RouterEnv(mapping_.chip, checked_routers(mapping_)),
      pruned(prune_dead(mapping_, options_.faults)),
      mapping(pruned.mapping ? *pruned.mapping : mapping_), snn(snn_), options(options_),
      tree_multicast_(make_multicast(mapping_.chip.noc.multicast)->forks_in_routers()) {
    const size_t n_cores = mapping.cores.size();
    stats.core_sops.assign(n_cores, 0);
    stats.core_packets_expected.assign(n_cores, 0);
    stats.core_packets_delivered.assign(n_cores, 0);
    stats.sops_by_projection_index.assign(snn.projections.size(), 0);
    match_projections();
    build_route_tables();
    set_up_faults();
    const Mesh& mesh = mapping.mesh;
    routers = build_mesh(*this, mesh.width(), mesh.height(), "router", mapping.chip.core.input_queue,
                         [&mesh](int32_t x, int32_t y, int32_t nx, int32_t ny) {
                             return mesh.chip_of(x, y) != mesh.chip_of(nx, ny);
                         });
    const auto router_at = [&](int32_t x, int32_t y) -> Router& {
        return *routers[static_cast<size_t>(y) * static_cast<size_t>(mesh.width()) + static_cast<size_t>(x)];
    };
    const std::unique_ptr<CoreModelKind> core_kind = core_models().make(options.core_model);
    cores.reserve(n_cores);
    core_at_.assign(routers.size(), nullptr);
    for (size_t k = 0; k < n_cores; ++k) {
        Router& r = router_at(mapping.cores[k].x, mapping.cores[k].y);
        cores.push_back(core_kind->build(*this, static_cast<int32_t>(k), r));
        core_at_[r.index] = cores.back().get();
    }
    host = std::make_unique<Host>(*this, router_at(mapping.host_x, mapping.host_y));
    chips_ = mesh.chips_x * mesh.chips_y;
    for (const Core& c : mapping.cores) core_chip_.push_back(mesh.chip_of(c.x, c.y));
    host_chip_ = mesh.chip_of(mapping.host_x, mapping.host_y);
    sent_.assign(static_cast<size_t>(chips_), 0);
    if (options.space_parallel) ranks_ = mpi::size(), rank_ = mpi::rank();
    regions = ranks_ > 1 ? choose_regions(mapping, ranks_) : ChipRegions{std::vector<int32_t>(static_cast<size_t>(chips_), 0)};
    if (distributed() && (!options.vcd_path.empty() || !options.aer_path.empty()))
        throw ConfigError("--trace and --aer-out: not with hardware.distribute=chips under mpirun (each rank runs "
                          "only its chips); run them in one process");
    if (multi_chip()) {
        if (lookahead() < 1)
            throw ConfigError("chip.noc.inter_chip_link_cycles: at least 1 cycle with several chips");
        split_chips();
    }
    tick_controller = std::make_unique<TickController>("ticks", *this);
    // Tracing is set up here, during elaboration, before the first sc_start.
    if (!options.vcd_path.empty()) {
        VcdScope scope = default_vcd_scope(mapping);
        if (options.vcd_cores) scope.cores = *options.vcd_cores;
        scope.routers = options.vcd_routers ? *options.vcd_routers : routers_of(mapping, scope.cores);
        scope.window = options.vcd_window;
        std::vector<const Router*> traced;
        for (const auto& r : routers) traced.push_back(r.get());
        vcd = std::make_unique<VcdTracer>("vcd", options.vcd_path, mapping, *this, std::move(traced), scope);
        for (int32_t k : scope.cores) cores[static_cast<size_t>(k)]->trace_into(vcd->core_vars(k));
        if (options.first_tick > 0) vcd->start_at_tick(options.first_tick, options.first_image_ticks);
    }
    if (!options.aer_path.empty()) aer = std::make_unique<AerWriter>(options.aer_path, mapping);
    // Without a VCD trace route() is a table lookup: the routers read the table themselves.
    if (!vcd && !route_table_.empty()) set_route_table(route_table_.data(), route_sources_);
    if (!vcd && sparse_routes_) set_route_table(sparse_routes_.get());
}

Chip::~Chip() = default;

// SNN projections by name, so that core-side synaptic operations can be checked against the engine's.
void Chip::match_projections() {
    std::unordered_map<std::string, int> by_name;
    for (size_t k = 0; k < snn.projections.size(); ++k) by_name[snn.projections[k].name] = static_cast<int>(k);
    input_projection.resize(mapping.graph.layers.size());
    for (size_t li = 0; li < mapping.graph.layers.size(); ++li)
        for (const auto& in : mapping.graph.layers[li].inputs) {
            const auto it = by_name.find(in.projection);
            input_projection[li].push_back(it == by_name.end() ? -1 : it->second);
        }
}

// Multicast tables from the routes (routing.h), one entry per source per router on its tree.
void Chip::build_route_tables() {
    if (!tree_multicast_) {
        build_detours();
        return;
    }
    const auto routers_n = static_cast<size_t>(mapping.mesh.routers());
    const auto width = static_cast<size_t>(mapping.mesh.width());
    route_sources_ = static_cast<size_t>(mapping.routes.sources());
    const std::unique_ptr<Multicast> multicast = make_multicast(mapping.chip.noc.multicast);
    std::vector<RouteStep> steps;
    // Dense when it takes at most 64 MiB, else a hash sized by the number of entries.
    const bool dense = routers_n * route_sources_ <= (size_t{1} << 26);
    if (dense) {
        route_table_.assign(routers_n * route_sources_, kNoRoute);
    } else {
        if (routers_n > RouteHash::kMaxRouters)
            throw ConfigError(fmt::format("hardware model: a mesh of {} routers is too large", routers_n));
        std::vector<size_t> entries(route_sources_);
        for (size_t s = 0; s < route_sources_; ++s) {
            route_steps(mapping, *multicast, pruned.faults.get(), static_cast<int64_t>(s), steps, nullptr);
            entries[s] = steps.size();
        }
        sparse_routes_ = std::make_unique<RouteHash>(entries);
    }
    for (size_t s = 0; s < route_sources_; ++s) {
        route_steps(mapping, *multicast, pruned.faults.get(), static_cast<int64_t>(s), steps, nullptr);
        for (const RouteStep& st : steps) {
            const size_t r = static_cast<size_t>(st.y) * width + static_cast<size_t>(st.x);
            // routing.h's port bits E, W, N, S, local are outputs 0..4 here.
            if (dense) {
                uint8_t& ports = route_table_[s * routers_n + r];
                ports = static_cast<uint8_t>(ports == kNoRoute ? st.ports : ports | st.ports);
            } else if (!sparse_routes_->add(r, s, st.ports)) {
                throw InternalError("hardware model: the multicast tables outgrew their count");
            }
        }
    }
}

// Source mode: the ports of the unicast packets of rerouted sources, whose path to a destination is a branch of
// their west-first tree (route_steps lists the branches one after another, each ending in kLocal).
void Chip::build_detours() {
    if (!pruned.faults) return;
    const std::unique_ptr<Multicast> multicast = make_multicast(mapping.chip.noc.multicast);
    const auto width = static_cast<size_t>(mapping.mesh.width());
    std::vector<RouteStep> steps;
    for (int64_t s = 0; s < mapping.routes.sources(); ++s) {
        if (!pruned.faults->rerouted(s)) continue;
        route_steps(mapping, *multicast, pruned.faults.get(), s, steps, nullptr);
        size_t begin = 0;
        for (size_t i = 0; i < steps.size(); ++i) {
            if (steps[i].ports != kLocal) continue;
            const size_t dest = static_cast<size_t>(steps[i].y) * width + static_cast<size_t>(steps[i].x);
            for (size_t j = begin; j <= i; ++j) {
                const size_t r = static_cast<size_t>(steps[j].y) * width + static_cast<size_t>(steps[j].x);
                detours_[DetourKey{static_cast<size_t>(s), dest, r}] = steps[j].ports;
            }
            begin = i + 1;
        }
    }
}

uint8_t Chip::route(const Router& r, const Packet& p) const {
    if (vcd) vcd->accepted(r, p);
    if (tree_multicast_) {
        uint8_t ports = kNoRoute;
        if (p.source >= 0 && static_cast<size_t>(p.source) < route_sources_)
            ports = sparse_routes_ ? sparse_routes_->find(r.index, static_cast<size_t>(p.source))
                                   : route_table_[static_cast<size_t>(p.source) * routers.size() + r.index];
        if (ports == kNoRoute)
            throw InternalError(fmt::format("router ({}, {}) has no table entry for source {}", r.x, r.y, p.source));
        return ports;
    }
    const Core& d = mapping.cores[static_cast<size_t>(p.dest)];
    if (!detours_.empty()) {
        const size_t dest = static_cast<size_t>(d.y) * static_cast<size_t>(mapping.mesh.width()) + static_cast<size_t>(d.x);
        const auto it = detours_.find(DetourKey{static_cast<size_t>(p.source), dest, r.index});
        if (it != detours_.end()) return it->second;
    }
    return xy_port(r.x, r.y, d.x, d.y);
}

void Chip::eject(Router& r, const Packet& p, int64_t tail) {
    if (vcd) vcd->ejected(r);
    core_at_[r.index]->accept(p, tail);
}

void Chip::input_freed(Router& r, int port, int flits, int64_t at) {
    if (port == kInLocal)
        core_at_[r.index]->credit(flits, at);
    else
        host->credit(flits, at);
}

Packet Chip::make_packet(int source, int layer, int32_t c, int32_t y, int32_t x, int32_t dest) const {
    Packet p;
    p.source = source;
    p.layer = layer;
    p.c = c, p.y = y, p.x = x;
    p.dest = dest;
    const int64_t bits = kAerEventBits + options.faults.check_bits(), flit = mapping.chip.noc.flit_bits;
    p.flits = static_cast<int32_t>((bits + flit - 1) / flit);
    p.tick = tick_controller->step();
    return p;
}

void Chip::enqueue_spike(int source, int layer, int32_t c, int32_t y, int32_t x, std::deque<Packet>& out) {
    const auto b = mapping.routes.offset[static_cast<size_t>(source)];
    const auto e = mapping.routes.offset[static_cast<size_t>(source) + 1];
    if (!lost_per_source_.empty()) stats.faults.deliveries_undeliverable += lost_per_source_[static_cast<size_t>(source)];
    if (b == e) return;  // nobody reads it (the readout), or dead routers or links cut every reader off
    ++stats.events_generated;
    if (tree_multicast_) {
        out.push_back(make_packet(source, layer, c, y, x, -1));
        return;
    }
    for (auto i = b; i < e; ++i)
        out.push_back(make_packet(source, layer, c, y, x, mapping.routes.dest[static_cast<size_t>(i)]));
}

void Chip::injected(int source, const Packet& p) {
    ++stats.packets_injected;
    if (aer || options.aer_in_memory) {
        AerRecord record;
        record.tick = global_tick();
        record.cycle = p.injected;
        record.source = source;
        record.layer = p.layer;
        record.c = p.c, record.y = p.y, record.x = p.x;
        record.dest = p.dest;
        if (aer)
            aer->write(record);
        else
            aer_records.push_back(record);
    }
    // Deliveries owed to cores of the sender's chip count at once; another chip learns of them L cycles later
    // (one message per chip and layer), before the packet can reach it.
    const int32_t from = source == host_source() ? host_chip_ : core_chip_[static_cast<size_t>(source)];
    owed_elsewhere_.clear();
    const auto owe = [&](int32_t d) {
        ++stats.core_packets_expected[static_cast<size_t>(d)];
        const int32_t to = core_chip_[static_cast<size_t>(d)];
        if (to == from) {
            tick_controller->owe_delivery(d);
            return;
        }
        const int32_t layer = mapping.cores[static_cast<size_t>(d)].layer;
        for (auto& [key, n] : owed_elsewhere_)
            if (key.first == to && key.second == layer) {
                ++n;
                return;
            }
        owed_elsewhere_.push_back({{to, layer}, 1});
    };
    if (p.dest >= 0) {
        owe(p.dest);
    } else {
        for (auto i = mapping.routes.offset[static_cast<size_t>(source)]; i < mapping.routes.offset[static_cast<size_t>(source) + 1]; ++i)
            owe(mapping.routes.dest[static_cast<size_t>(i)]);
    }
    for (const auto& [key, n] : owed_elsewhere_) {
        ChipMessage m;
        m.due = p.injected + lookahead();
        m.kind = ChipMessage::kOwe;
        m.to_chip = key.first;
        m.layer = key.second;
        m.value = n;
        post(from, m);
    }
}

namespace {
// The chip at the other end of `r`'s port `dir` (0 east, 1 west, 2 north, 3 south).
int32_t chip_beyond(const Mesh& mesh, const Router& r, int dir) {
    const int32_t dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
    return mesh.chip_of(r.x + dx[dir], r.y + dy[dir]);
}
}  // namespace

ChipMessage Chip::across(const Router& to, int port, int32_t kind, int64_t at) const {
    ChipMessage m;
    m.due = at;
    m.kind = kind;
    m.to_chip = mapping.mesh.chip_of(to.x, to.y);
    m.router = static_cast<int32_t>(to.index);
    m.port = port;
    return m;
}

void Chip::arrive_across(Router& to, int port, const Packet& p, int64_t at) {
    ChipMessage m = across(to, port, ChipMessage::kPacket, at);
    m.packet = p;
    post(chip_beyond(mapping.mesh, to, port), m);
}

void Chip::credit_across(Router& to, int port, int flits, int64_t at) {
    ChipMessage m = across(to, port, ChipMessage::kCredit, at);
    m.value = flits;
    post(chip_beyond(mapping.mesh, to, port), m);
}

void Chip::post(int32_t from, ChipMessage m) {
    m.from_chip = from;
    m.seq = sent_[static_cast<size_t>(from)]++;
    outbox_.push_back(m);
}

void Chip::apply(const ChipMessage& m) {
    switch (m.kind) {
        case ChipMessage::kPacket: routers[static_cast<size_t>(m.router)]->accept(m.port, m.packet, m.due); break;
        case ChipMessage::kCredit: routers[static_cast<size_t>(m.router)]->credit(m.port, m.value, m.due); break;
        case ChipMessage::kOwe: tick_controller->owe_remote(m.to_chip, m.layer, m.value); break;
        case ChipMessage::kSourceDone: tick_controller->source_done(m.to_chip, m.value); break;
        default: throw InternalError("hardware model: a message of unknown kind between chips");
    }
}

void Chip::run_until(int64_t end) {
    stop_before(end);
    if (end > now()) sc_core::sc_start(cycles(end - now()));
}

// The messages due now, before anything else of this cycle runs.
void Chip::cycle_begins(int64_t now) {
    while (inbox_next_ < inbox_.size() && inbox_[inbox_next_].due == now) apply(inbox_[inbox_next_++]);
    if (inbox_next_ < inbox_.size()) wake_cycle_begin(inbox_[inbox_next_].due);
}

std::vector<WindowSummary> Chip::exchange(const WindowSummary& mine) {
    ++windows;
    inbox_.erase(inbox_.begin(), inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_next_));
    inbox_next_ = 0;
    std::vector<WindowSummary> all;
    if (!distributed()) {
        inbox_.insert(inbox_.end(), outbox_.begin(), outbox_.end());
        all.push_back(mine);
    } else {
        // One collective per window: the messages for each rank and this rank's summary for all of them.
        std::vector<std::vector<ChipMessage>> to_rank(static_cast<size_t>(ranks_));
        for (const ChipMessage& m : outbox_)
            to_rank[static_cast<size_t>(regions.rank_of_chip[static_cast<size_t>(m.to_chip)])].push_back(m);
        std::vector<std::string> bytes(static_cast<size_t>(ranks_));
        for (int r = 0; r < ranks_; ++r) {
            bytes[static_cast<size_t>(r)] = mpi::Packer().put(mine).put(to_rank[static_cast<size_t>(r)]).take();
            if (r != rank_) {
                exchanged_bytes += static_cast<int64_t>(bytes[static_cast<size_t>(r)].size());
                exchanged_messages += static_cast<int64_t>(to_rank[static_cast<size_t>(r)].size());
            }
        }
        for (const std::string& b : mpi::all_to_all(bytes)) {
            mpi::Unpacker in(b);
            std::vector<ChipMessage> got;
            all.push_back(in.get<WindowSummary>());
            in.get(got);
            inbox_.insert(inbox_.end(), got.begin(), got.end());
        }
    }
    outbox_.clear();
    std::sort(inbox_.begin(), inbox_.end(), [](const ChipMessage& a, const ChipMessage& b) { return a.before(b); });
    if (!inbox_.empty()) {
        // The lookahead's promise: nothing from another chip is due before the window it arrives for.
        if (inbox_.front().due < now())
            throw InternalError(fmt::format("hardware model: a message due at cycle {} arrived at {}", inbox_.front().due, now()));
        wake_cycle_begin(inbox_.front().due);
    }
    return all;
}

int64_t Chip::next_event() const {
    int64_t next = next_due();
    if (inbox_next_ < inbox_.size()) next = std::min(next, inbox_[inbox_next_].due);
    for (const ChipMessage& m : outbox_) next = std::min(next, m.due);
    return next;
}

bool Chip::messages_hold_work() const {
    const auto work = [](const ChipMessage& m) { return m.kind != ChipMessage::kCredit; };
    return std::any_of(inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_next_), inbox_.end(), work) ||
           std::any_of(outbox_.begin(), outbox_.end(), work);
}

void Chip::set_up_faults() {
    const FaultSpec& f = options.faults;
    const size_t n = mapping.cores.size();
    const auto check = [n](const char* key, int32_t k) {
        if (k < 0 || static_cast<size_t>(k) >= n)
            throw ConfigError(fmt::format("chip.faults.{}: core {} does not exist: the mapping has {} cores (0 to {})",
                                          key, k, n, n - 1));
        return static_cast<size_t>(k);
    };
    if (!f.stuck_cores.empty()) stuck_.assign(n, 0);
    for (int32_t k : f.stuck_cores) stuck_[check("stuck_cores", k)] = 1;
    if (!f.slow_cores.empty()) slow_.assign(n, 1.0);
    for (int32_t k : f.slow_cores) slow_[check("slow_cores", k)] = f.slow_factor;
    stats.undeliverable_routes = pruned.lost;
    if (!stats.undeliverable_routes.empty()) {
        lost_per_source_.assign(static_cast<size_t>(mapping.routes.sources()), 0);
        for (const auto& [s, d] : stats.undeliverable_routes) ++lost_per_source_[static_cast<size_t>(s)];
    }
    if (f.flit_error_rate > 0)
        set_link_faults(f.flit_error_rate, static_cast<uint64_t>(f.seed), static_cast<int>(kAerEventBits) + f.check_bits());
}

void Chip::corrupt_arrival(const Packet& p) {
    if (fault_detected(options.faults.check, p.flips))
        ++stats.faults.deliveries_detected;
    else
        ++stats.faults.deliveries_undetected;
}

void Chip::reset_for_tick() {
    set_fault_tick(global_tick());
    for (const auto& r : routers) r->reset_for_tick();
    for (const auto& c : cores) c->reset_for_tick();
    host->reset_for_tick();
}

std::string Chip::blocked_report() const {
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

}  // namespace neuroemu
