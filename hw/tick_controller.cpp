#include "hw/tick_controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "hw/chip.h"

namespace neuroemu {

TickController::TickController(sc_core::sc_module_name name, Chip& chip) : sc_module(name), chip_(chip) {
    SC_METHOD(on_watchdog);
    sensitive << watchdog_;
    dont_initialize();
    // Who reads whom: per source layer (host last) its consumer layers; per layer its number of sources.
    const auto& layers = chip_.mapping.graph.layers;
    const size_t n_layers = layers.size();
    std::vector<std::vector<int32_t>> readers(n_layers + 1);
    source_layers_.assign(n_layers, 0);
    for (size_t li = 0; li < n_layers; ++li) {
        std::vector<int> seen;
        for (const auto& in : layers[li].inputs) {
            const int source = in.source == kHostSource ? static_cast<int>(n_layers) : in.source;
            if (std::find(seen.begin(), seen.end(), source) != seen.end()) continue;
            seen.push_back(source);
            readers[static_cast<size_t>(source)].push_back(static_cast<int32_t>(li));
            ++source_layers_[li];
        }
    }
    consumers_offset_.assign(1, 0);
    for (const auto& r : readers) {
        consumers_.insert(consumers_.end(), r.begin(), r.end());
        consumers_offset_.push_back(static_cast<int32_t>(consumers_.size()));
    }
    n_layers_ = static_cast<int64_t>(n_layers);
    for (const Core& c : chip_.mapping.cores) core_layer_.push_back(static_cast<int32_t>(c.layer));
    sources_pending_.assign(n_layers, 0);
    expected_.assign(n_layers, 0);
    cores_sending_.assign(n_layers, 0);
    fired_.assign(n_layers, 0);
}

void TickController::on_watchdog() {
    if (step_ == watchdog_tick_ && step_ > 0) {  // the tick started max_tick_cycles ago and is still open
        stuck_ = true;
        sc_core::sc_stop();
    }
}

void TickController::run_image(const SpikeTrace& trace) {
    trace_ = &trace;
    recorded_ = nullptr;
    run(trace.tick_count());
}

void TickController::run_image(const RecordedImage& recorded) {
    trace_ = nullptr;
    recorded_ = &recorded;
    run(recorded.steps);
    recorded_ = nullptr;
}

namespace {
double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
}  // namespace

void TickController::run(int64_t steps) {
    HwStats& stats = chip_.stats;
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    if (first_image_steps_ == 0)
        first_image_steps_ = chip_.options.first_image_ticks > 0 ? chip_.options.first_image_ticks : steps;
    if (AerWriter* aer = chip_.aer.get()) {
        if (!aer->begun()) aer->begin(steps);
        if (aer->steps() != steps)
            throw ConfigError(fmt::format("AER trace {}: every image must have the same number of steps ({}, not {})",
                                          aer->path(), aer->steps(), steps));
    }
    image_steps_ = steps;
    tick_index_ = step_ = 0;
    const int64_t ticks_before = stats.ticks;
    chip_.wake(*this, next_tick_at_);
    sc_core::sc_start();
    if (stuck_ || stats.ticks - ticks_before != steps)
        throw DeadlockError(fmt::format(
            "the chip did not finish tick {} of image {} within {} cycles: {}", step_, stats.images + 1,
            stuck_ ? chip_.options.max_tick_cycles : chip_.now() - tick_start_, chip_.blocked_report()));
    ++stats.images;
    stats.noc = chip_.counters;
    stats.wall_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats.cpu_seconds += thread_cpu_seconds() - cpu_start;
}

std::pair<const SourcedEvent*, const SourcedEvent*> TickController::recorded_events(int32_t first, int32_t last) const {
    const auto& list = recorded_->events[static_cast<size_t>(tick_index_ - 1)];
    const auto by_source = [](const SourcedEvent& e, int32_t s) { return e.source < s; };
    const SourcedEvent* b = std::lower_bound(list.data(), list.data() + list.size(), first, by_source);
    const SourcedEvent* e = std::lower_bound(b, list.data() + list.size(), last, by_source);
    return {b, e};
}

void TickController::start_tick() {
    ++tick_index_;
    step_ = trace_ ? trace_->step_of(tick_index_ - 1) : tick_index_;
    tick_start_ = chip_.now();
    // Tick k starts at the sum of the cycles of ticks 0..k-1 (a time-parallel run offsets its parts by it).
    if (tick_start_ != next_tick_at_) throw InternalError("hardware model: a tick starts off the cycle after the barrier");
    chip_.reset_for_tick();
    tick_open_ = true;
    layers_sent_ = 0;
    const size_t n_layers = chip_.mapping.graph.layers.size();
    for (size_t l = 0; l < n_layers; ++l) {
        sources_pending_[l] = source_layers_[l];
        fired_[l] = 0;
        if (expected_[l] != 0) throw InternalError("hardware model: deliveries left over from the previous tick");
    }
    watchdog_tick_ = step_;
    watchdog_.cancel();
    watchdog_.notify(chip_.cycles(chip_.options.max_tick_cycles));
    if (chip_.vcd) chip_.vcd->start_tick(chip_.global_tick(), first_image_steps_);
    // Population 0 of the trace holds the host's events: Poisson spikes every step, or the nonzero pixels of a
    // constant-current image at step 1 only.
    const int host = chip_.host_source();
    std::deque<Packet>& host_out = chip_.host->encoder().outbox();
    if (recorded_) {
        const auto ev = recorded_events(host, host + 1);
        for (const SourcedEvent* e = ev.first; e != ev.second; ++e)
            chip_.enqueue_spike(host, kHostSource, e->e.c, e->e.y, e->e.x, host_out);
    } else {
        for (const SpikeEvent& e : trace_->events[static_cast<size_t>(tick_index_ - 1)][0])
            chip_.enqueue_spike(host, kHostSource, e.c, e.y, e.x, host_out);
    }
    if (!chip_.host->start_sending(tick_start_))
        source_done(static_cast<int>(n_layers));
    else
        host_sending_ = true;
    // Layers with nothing to wait for cannot exist (every layer reads something), but a layer whose only source
    // sent nothing is ready now.
    for (size_t l = 0; l < n_layers; ++l) check_ready(static_cast<int>(l));
}

void TickController::host_sent() {
    host_sending_ = false;
    source_done(static_cast<int>(chip_.mapping.graph.layers.size()));
}

void TickController::source_done(int source) {
    for (int32_t i = consumers_offset_[static_cast<size_t>(source)]; i < consumers_offset_[static_cast<size_t>(source) + 1]; ++i) {
        const int32_t l = consumers_[static_cast<size_t>(i)];
        --sources_pending_[static_cast<size_t>(l)];
        check_ready(l);
    }
}

// The events the cores of `layer` send this tick, from the engine's spikes (by unit kind) into their outboxes.
void TickController::queue_engine_events(int layer) {
    const MapLayer& l = chip_.mapping.graph.layers[static_cast<size_t>(layer)];
    const auto outbox = [&](int64_t k) -> std::deque<Packet>& { return chip_.cores[static_cast<size_t>(k)]->outbox(); };
    switch (l.kind) {
        case UnitKind::Neuron:
        case UnitKind::Gate:
            for (const SpikeEvent& e : trace_->events[static_cast<size_t>(tick_index_ - 1)][static_cast<size_t>(l.population)]) {
                const auto k = static_cast<int>(core_of(l, e.c, e.y, e.x));
                chip_.enqueue_spike(k, layer, e.c, e.y, e.x, outbox(k));
            }
            break;
        case UnitKind::Partial:
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                CoreModel& cm = *chip_.cores[static_cast<size_t>(k)];
                const Core& c = cm.core();
                for (int32_t yy = static_cast<int32_t>(c.y0); yy < c.y1; ++yy)
                    for (int32_t xx = static_cast<int32_t>(c.x0); xx < c.x1; ++xx) {
                        uint8_t& hit = cm.touched()[static_cast<size_t>((yy - c.y0) * (c.x1 - c.x0) + (xx - c.x0))];
                        if (!hit) continue;
                        hit = 0;
                        for (int32_t ch = static_cast<int32_t>(c.c0); ch < c.c1; ++ch)
                            chip_.enqueue_spike(static_cast<int>(k), layer, ch, yy, xx, cm.outbox());
                    }
            }
            break;
        case UnitKind::Current:
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                const Core& c = chip_.mapping.cores[static_cast<size_t>(k)];
                for (int32_t ch = static_cast<int32_t>(c.c0); ch < c.c1; ++ch)
                    for (int32_t yy = static_cast<int32_t>(c.y0); yy < c.y1; ++yy)
                        for (int32_t xx = static_cast<int32_t>(c.x0); xx < c.x1; ++xx)
                            chip_.enqueue_spike(static_cast<int>(k), layer, ch, yy, xx, outbox(k));
            }
            break;
        case UnitKind::Readout: break;
    }
}

// A layer whose inputs for this tick are all integrated updates its neurons and sends this tick's events.
void TickController::fire_layer(int layer) {
    const MapLayer& l = chip_.mapping.graph.layers[static_cast<size_t>(layer)];
    const int64_t t = chip_.now();
    if (recorded_) {  // each core sends what it sent when the trace was recorded
        if (l.kind == UnitKind::Partial)
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                auto& touched = chip_.cores[static_cast<size_t>(k)]->touched();
                std::fill(touched.begin(), touched.end(), 0);
            }
        const auto ev = recorded_events(static_cast<int32_t>(l.first_core), static_cast<int32_t>(l.first_core + l.cores));
        for (const SourcedEvent* e = ev.first; e != ev.second; ++e)
            chip_.enqueue_spike(e->source, layer, e->e.c, e->e.y, e->e.x, chip_.cores[static_cast<size_t>(e->source)]->outbox());
    } else {
        queue_engine_events(layer);
    }
    int32_t sending = 0;
    for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k)
        if (chip_.cores[static_cast<size_t>(k)]->fire(t)) ++sending;
    cores_sending_[static_cast<size_t>(layer)] = sending;
    if (sending == 0) {
        cores_sending_[static_cast<size_t>(layer)] = 1;
        layer_sent(layer);
    }
}

void TickController::layer_sent(int layer) {
    if (--cores_sending_[static_cast<size_t>(layer)] > 0) return;
    ++layers_sent_;
    source_done(layer);
    maybe_end_tick();
}

// What this tick added to the additive counters (the barrier: every packet of the tick has been delivered).
void TickController::record_tick_counts() {
    HwStats& stats = chip_.stats;
    const NocCounters& noc = chip_.counters;
    TickCounts now{};
    now[kTickCycles] = stats.cycles;
    now[kTickPackets] = stats.packets_injected;
    now[kTickDeliveries] = stats.packets_delivered;
    now[kTickHops] = noc.packet_hops;
    now[kTickFlitHops] = noc.flit_hops;
    now[kTickInterChipHops] = noc.inter_chip_packet_hops;
    now[kTickBufferWrites] = noc.buffer_write_flits;
    now[kTickStallCycles] = noc.stall_cycles;
    now[kTickSops] = stats.sops;
    now[kTickPartialSumSops] = stats.partial_sum_sops;
    now[kTickNeuronUpdates] = stats.neuron_updates;
    now[kTickEvents] = stats.events_generated;
    now[kTickLatencySum] = stats.packet_latency_sum_cycles;
    TickCounts delta;
    for (size_t k = 0; k < kTickCounters; ++k) delta[k] = now[k] - counts_at_last_tick_[k];
    counts_at_last_tick_ = now;
    stats.tick_steps.push_back(step_);
    stats.tick_counts.push_back(delta);
}

void TickController::end_tick_if_drained() {
    for (int64_t e : expected_)
        if (e) return;
    tick_open_ = false;
    HwStats& stats = chip_.stats;
    const int64_t t = chip_.now();
    const int64_t c = t - tick_start_ + 1;
    stats.tick_cycles.push_back(c);
    stats.cycles += c;
    stats.max_tick_cycles = std::max(stats.max_tick_cycles, c);
    ++stats.ticks;
    record_tick_counts();
    watchdog_.cancel();
    watchdog_tick_ = -1;
    next_tick_at_ = t + 1;
    if (tick_index_ < image_steps_) chip_.wake(*this, next_tick_at_);
}

}  // namespace neuroemu
