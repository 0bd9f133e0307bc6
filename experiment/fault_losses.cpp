#include "experiment/fault_losses.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "arch/chip_spec.h"
#include "common/error.h"
#include "router/multicast/multicast.h"

namespace neuroemu::experiment {

bool FaultLosses::loses(const FaultSpec& f) {
    return f.flit_error_rate > 0 || !f.stuck_cores.empty() || !f.dead_routers.empty() || !f.dead_links.empty();
}

FaultLosses::FaultLosses(const Mapping& mapping, const SnnModel& model, const FaultSpec& faults)
    : mapping_(mapping), model_(model), routes_(std::make_shared<const DeliveryLinks>(mapping, faults, faults.flit_error_rate > 0)),
      flips_(faults.flit_error_rate, static_cast<uint64_t>(faults.seed), static_cast<int>(kAerEventBits) + faults.check_bits()),
      check_(faults.check), tree_(make_multicast(mapping.chip.noc.multicast)->forks_in_routers()) {
    const size_t n = mapping.cores.size();
    stuck_.assign(n, 0);
    for (int32_t k : faults.stuck_cores) {
        if (k < 0 || static_cast<size_t>(k) >= n)
            throw ConfigError(fmt::format("chip.faults.stuck_cores: core {} does not exist: the mapping has {} cores (0 to {})",
                                          k, n, n - 1));
        stuck_[static_cast<size_t>(k)] = 1;
    }
    const MapGraph& g = mapping.graph;
    layer_of_pop_.assign(model.populations.size(), -2);
    layer_of_pop_[0] = kHostSource;
    std::unordered_map<std::string, int> projection_of;
    for (size_t k = 0; k < model.projections.size(); ++k) projection_of[model.projections[k].name] = static_cast<int>(k);
    source_layer_.assign(model.projections.size(), -2);
    targets_.resize(model.projections.size());
    touched_.resize(n);
    unit_fate_.resize(n);
    listed_.assign(n, 0);
    for (size_t li = 0; li < g.layers.size(); ++li) {
        const MapLayer& l = g.layers[li];
        if ((l.kind == UnitKind::Neuron || l.kind == UnitKind::Gate) && l.population >= 0)
            layer_of_pop_[static_cast<size_t>(l.population)] = static_cast<int>(li);
        if (l.kind == UnitKind::Partial)
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                const Core& c = mapping.cores[static_cast<size_t>(k)];
                touched_[static_cast<size_t>(k)].assign(static_cast<size_t>((c.y1 - c.y0) * (c.x1 - c.x0)), 0);
                unit_fate_[static_cast<size_t>(k)].assign(static_cast<size_t>((c.c1 - c.c0) * (c.y1 - c.y0) * (c.x1 - c.x0)), 0);
            }
        for (const UnitInput& in : l.inputs) {
            const auto it = projection_of.find(in.projection);
            if (in.projection.empty() || it == projection_of.end()) continue;
            Target t{static_cast<int>(li), &in, -1};
            if (l.kind == UnitKind::Partial)  // the layer that reads it one to one
                for (size_t ni = li + 1; ni < g.layers.size(); ++ni)
                    for (const UnitInput& up : g.layers[ni].inputs)
                        if (up.source == static_cast<int>(li)) t.neuron_layer = static_cast<int>(ni);
            targets_[static_cast<size_t>(it->second)].push_back(t);
            source_layer_[static_cast<size_t>(it->second)] = in.source;
        }
    }
    if (loses(faults)) check_modelled();
}

// What the fault-aware run leaves out: say so rather than give an accuracy that is not the faulty chip's.
void FaultLosses::check_modelled() const {
    for (const MapLayer& l : mapping_.graph.layers)
        if (l.kind == UnitKind::Gate || l.kind == UnitKind::Current)
            throw ConfigError(fmt::format("chip.faults: layer '{}' is a {} layer; the fault-aware engine does not model "
                                          "losses into spike gates or max pooling before the neuron "
                                          "(docs/hardware-model.md \"Faults\")", l.name, to_string(l.kind)));
    for (size_t k = 0; k < model_.projections.size(); ++k) {
        const Projection& p = model_.projections[k];
        if (p.recurrent)
            throw ConfigError(fmt::format("chip.faults: projection '{}' is recurrent; the fault-aware engine does not "
                                          "model recurrent projections (docs/hardware-model.md \"Faults\")", p.name));
        for (const Target& t : targets_[k])
            if (t.layer >= 0 && mapping_.graph.layers[static_cast<size_t>(t.layer)].kind == UnitKind::Partial &&
                t.neuron_layer < 0)
                throw InternalError(fmt::format("fault losses: partial-sum layer of '{}' sums into no layer", p.name));
    }
}

void FaultLosses::begin_step(int64_t image, int64_t step) {
    tick_ = static_cast<uint64_t>(first_tick_ + image * steps_ + step - 1);
    step_ = step;
}

uint64_t FaultLosses::flips(int32_t s, size_t r, int32_t c, int32_t y, int32_t x) const {
    if (!flips_.on()) return 0;
    const int32_t dest = tree_ ? -1 : mapping_.routes.dest[r];
    const uint64_t key = flips_.packet_key(tick_, s, c, y, x, dest);
    uint64_t f = 0;
    for (const LinkHop* h = routes_->links_begin(r); h != routes_->links_end(r); ++h)
        f ^= flips_.on_link(key, h->router, h->output);
    return f;
}

bool FaultLosses::delivery_lost(int32_t s, size_t r, int32_t c, int32_t y, int32_t x) const {
    if (routes_->cut(r)) return true;
    if (static_cast<size_t>(s) < stuck_.size() && stuck_[static_cast<size_t>(s)]) return true;
    return flips(s, r, c, y, x) != 0;
}

void FaultLosses::count_event(int32_t s, int32_t c, int32_t y, int32_t x) {
    const auto b = static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(s)]);
    const auto e = static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(s) + 1]);
    int64_t live = 0;
    for (size_t r = b; r < e; ++r) {
        if (routes_->cut(r))
            ++counters_.deliveries_undeliverable;
        else
            ++live;
    }
    if (live == 0) return;
    if (static_cast<size_t>(s) < stuck_.size() && stuck_[static_cast<size_t>(s)]) {
        counters_.events_stuck += tree_ ? 1 : live;  // one multicast packet, or one per destination
        return;
    }
    for (size_t r = b; r < e; ++r) {
        if (routes_->cut(r)) continue;
        const uint64_t f = flips(s, r, c, y, x);
        if (f == 0) continue;
        if (fault_detected(check_, f))
            ++counters_.deliveries_detected;
        else
            ++counters_.deliveries_undetected;
    }
}

int32_t FaultLosses::source_core(int source_layer, const SpikeEvent& s) const {
    if (source_layer == kHostSource) return static_cast<int32_t>(mapping_.cores.size());
    return static_cast<int32_t>(core_of(mapping_.graph.layers[static_cast<size_t>(source_layer)], s.c, s.y, s.x));
}

void FaultLosses::sent(int pop, const SpikeEvent* events, size_t n) {
    const int layer = layer_of_pop_.at(static_cast<size_t>(pop));
    if (layer < kHostSource || !counting()) return;  // no map layer sends them (the readout), or not counted
    for (size_t i = 0; i < n; ++i) count_event(source_core(layer, events[i]), events[i].c, events[i].y, events[i].x);
}

size_t FaultLosses::route_to(int32_t s, int32_t d) const {
    const auto b = mapping_.routes.dest.begin() + mapping_.routes.offset[static_cast<size_t>(s)];
    const auto e = mapping_.routes.dest.begin() + mapping_.routes.offset[static_cast<size_t>(s) + 1];
    const auto it = std::lower_bound(b, e, d);
    if (it == e || *it != d) throw InternalError(fmt::format("fault losses: no route from source {} to core {}", s, d));
    return static_cast<size_t>(it - mapping_.routes.dest.begin());
}

// Each route of source `src` into layer t.layer: the targets of `s` there, all lost with the delivery.
int64_t FaultLosses::lost_direct(const Target& t, int32_t src, int source_layer, const SpikeEvent& s,
                                 std::vector<SpikeEvent>& out) {
    int64_t missed = 0;
    for (auto r = static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(src)]);
         r < static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(src) + 1]); ++r) {
        const Core& core = mapping_.cores[static_cast<size_t>(mapping_.routes.dest[r])];
        if (core.layer != t.layer || !delivery_lost(src, r, s.c, s.y, s.x)) continue;
        boxes_.clear();
        target_boxes(mapping_.graph, t.layer, core, source_layer, s.c, s.y, s.x, boxes_);
        for (const TargetBox& b : boxes_) {
            if (b.input != t.input) continue;
            missed += b.volume();
            for (int64_t c = b.c0; c < b.c1; ++c)
                for (int64_t y = b.y0; y < b.y1; ++y)
                    for (int64_t x = b.x0; x < b.x1; ++x)
                        out.push_back({static_cast<int32_t>(c), static_cast<int32_t>(y), static_cast<int32_t>(x)});
        }
    }
    return missed;
}

// Through partial-sum layer t.layer: lost with the delivery to the partial core, or with the partial unit's event
// to its neuron's core; a delivery that arrives marks the units it reached, which send at the tick's end.
int64_t FaultLosses::lost_partial(const Target& t, int32_t src, int source_layer, const SpikeEvent& s,
                                  std::vector<SpikeEvent>& out) {
    const MapLayer& neuron = mapping_.graph.layers[static_cast<size_t>(t.neuron_layer)];
    int64_t missed = 0;
    for (auto r = static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(src)]);
         r < static_cast<size_t>(mapping_.routes.offset[static_cast<size_t>(src) + 1]); ++r) {
        const int32_t kp = mapping_.routes.dest[r];
        const Core& core = mapping_.cores[static_cast<size_t>(kp)];
        if (core.layer != t.layer) continue;
        const bool lost = delivery_lost(src, r, s.c, s.y, s.x);
        boxes_.clear();
        target_boxes(mapping_.graph, t.layer, core, source_layer, s.c, s.y, s.x, boxes_);
        for (const TargetBox& b : boxes_) {
            if (!lost) {  // the chip marks every box of a delivered packet, whatever its input
                auto& touched = touched_[static_cast<size_t>(kp)];
                if (!listed_[static_cast<size_t>(kp)]) listed_[static_cast<size_t>(kp)] = 1, touched_cores_.push_back(kp);
                for (int64_t y = b.y0; y < b.y1; ++y)
                    for (int64_t x = b.x0; x < b.x1; ++x)
                        touched[static_cast<size_t>((y - core.y0) * (core.x1 - core.x0) + (x - core.x0))] = 1;
            }
            if (b.input != t.input) continue;
            if (lost) missed += b.volume();
            for (int64_t c = b.c0; c < b.c1; ++c)
                for (int64_t y = b.y0; y < b.y1; ++y)
                    for (int64_t x = b.x0; x < b.x1; ++x) {
                        const auto cc = static_cast<int32_t>(c), yy = static_cast<int32_t>(y), xx = static_cast<int32_t>(x);
                        if (lost || partial_event_lost(kp, neuron, cc, yy, xx)) out.push_back({cc, yy, xx});
                    }
        }
    }
    return missed;
}

bool FaultLosses::partial_event_lost(int32_t kp, const MapLayer& neuron, int32_t c, int32_t y, int32_t x) {
    const Core& core = mapping_.cores[static_cast<size_t>(kp)];
    const int64_t unit = ((c - core.c0) * (core.y1 - core.y0) + (y - core.y0)) * (core.x1 - core.x0) + (x - core.x0);
    uint64_t& fate = unit_fate_[static_cast<size_t>(kp)][static_cast<size_t>(unit)];
    const uint64_t stamp = (tick_ + 1) << 1;
    if ((fate & ~uint64_t{1}) == stamp) return (fate & 1) != 0;
    const auto kn = static_cast<int32_t>(core_of(neuron, c, y, x));
    const bool lost = delivery_lost(kp, route_to(kp, kn), c, y, x);
    fate = stamp | (lost ? 1 : 0);
    return lost;
}

int64_t FaultLosses::lost(int projection, const SpikeEvent& s, std::vector<SpikeEvent>& targets) {
    const int source_layer = source_layer_[static_cast<size_t>(projection)];
    if (source_layer < kHostSource) return 0;  // not mapped onto cores
    const int32_t src = source_core(source_layer, s);
    int64_t missed = 0;
    for (const Target& t : targets_[static_cast<size_t>(projection)])
        missed += t.neuron_layer < 0 ? lost_direct(t, src, source_layer, s, targets)
                                     : lost_partial(t, src, source_layer, s, targets);
    return missed;
}

// The partial-sum units reached this tick send their sums (every channel of their core at each position reached,
// as TickController::queue_engine_events does).
void FaultLosses::end_step() {
    for (int32_t kp : touched_cores_) {
        const Core& core = mapping_.cores[static_cast<size_t>(kp)];
        auto& touched = touched_[static_cast<size_t>(kp)];
        for (int64_t y = core.y0; y < core.y1; ++y)
            for (int64_t x = core.x0; x < core.x1; ++x) {
                uint8_t& hit = touched[static_cast<size_t>((y - core.y0) * (core.x1 - core.x0) + (x - core.x0))];
                if (!hit) continue;
                hit = 0;
                for (int64_t c = core.c0; c < core.c1 && counting(); ++c)
                    count_event(kp, static_cast<int32_t>(c), static_cast<int32_t>(y), static_cast<int32_t>(x));
            }
    }
    for (int32_t kp : touched_cores_) listed_[static_cast<size_t>(kp)] = 0;
    touched_cores_.clear();
}

}  // namespace neuroemu::experiment
