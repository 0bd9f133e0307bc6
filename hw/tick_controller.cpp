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
    n_layers_ = static_cast<int64_t>(n_layers);
    const auto n_chips = static_cast<size_t>(chip_.chips());
    multi_chip_ = chip_.multi_chip();
    for (size_t k = 0; k < chip_.mapping.cores.size(); ++k) {
        core_layer_.push_back(static_cast<int32_t>(chip_.mapping.cores[k].layer));
        chip_of_core_.push_back(chip_.chip_of_core(k));
    }
    // Which chips hold cores of each layer (a layer without cores is kept by chip 0, where it fires empty).
    hosted_.assign(n_chips * n_layers, 0);
    for (size_t k = 0; k < core_layer_.size(); ++k) hosted_[at(chip_of_core_[k], core_layer_[k])] = 1;
    layers_on_.assign(n_chips, 0);
    std::vector<int32_t> chips_of(n_layers + 1, 1);  // per layer (host last): chips it sends from
    for (size_t l = 0; l < n_layers; ++l) {
        int32_t n = 0;
        for (size_t c = 0; c < n_chips; ++c) n += hosted_[at(static_cast<int32_t>(c), static_cast<int32_t>(l))];
        if (n == 0) hosted_[at(0, static_cast<int32_t>(l))] = 1, n = 1;
        chips_of[l] = n;
        for (size_t c = 0; c < n_chips; ++c) layers_on_[c] += hosted_[at(static_cast<int32_t>(c), static_cast<int32_t>(l))];
    }
    std::vector<std::vector<int32_t>> readers(n_layers + 1);
    std::vector<int32_t> sources(n_layers, 0);
    for (size_t li = 0; li < n_layers; ++li) {
        std::vector<int> seen;
        for (const auto& in : layers[li].inputs) {
            // A recurrent input's events are for the next tick: the layer does not wait for that source (which may
            // be itself or a later layer); the barrier still drains them before the tick ends. Partial-sum units
            // do wait for theirs (they sum the tick's spikes and send at once, so no state crosses the barrier);
            // their link to the neuron is the recurrent input then.
            if (in.recurrent && layers[li].kind != UnitKind::Partial) continue;
            const int source = in.source == kHostSource ? static_cast<int>(n_layers) : in.source;
            if (std::find(seen.begin(), seen.end(), source) != seen.end()) continue;
            seen.push_back(source);
            readers[static_cast<size_t>(source)].push_back(static_cast<int32_t>(li));
            sources[li] += chips_of[static_cast<size_t>(source)];
        }
    }
    consumers_offset_.assign(1, 0);
    reader_chips_.resize(n_layers + 1);
    for (size_t s = 0; s <= n_layers; ++s) {
        consumers_.insert(consumers_.end(), readers[s].begin(), readers[s].end());
        consumers_offset_.push_back(static_cast<int32_t>(consumers_.size()));
        for (size_t c = 0; c < n_chips; ++c)
            for (int32_t l : readers[s])
                if (hosted_[at(static_cast<int32_t>(c), l)]) {
                    reader_chips_[s].push_back(static_cast<int32_t>(c));
                    break;
                }
    }
    sources_per_chip_.assign(n_chips * n_layers, 0);
    for (size_t c = 0; c < n_chips; ++c)
        for (size_t l = 0; l < n_layers; ++l) sources_per_chip_[c * n_layers + l] = sources[l];
    sources_pending_.assign(n_chips * n_layers, 0);
    expected_.assign(n_chips * n_layers, 0);
    cores_sending_.assign(n_chips * n_layers, 0);
    fired_.assign(n_chips * n_layers, 0);
    layers_sent_.assign(n_chips, 0);
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
    engine_steps_ = trace.steps;
    run(trace.tick_count());
}

void TickController::run_image(const RecordedImage& recorded) {
    trace_ = nullptr;
    recorded_ = &recorded;
    engine_steps_ = recorded.steps;
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
    if (multi_chip_)
        run_windows();
    else
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
    last_activity_ = tick_start_;
    tick_open_ = true;
    std::fill(layers_sent_.begin(), layers_sent_.end(), 0);
    for (size_t i = 0; i < sources_pending_.size(); ++i) {
        sources_pending_[i] = sources_per_chip_[i];
        fired_[i] = 0;
        if (expected_[i] != 0) throw InternalError("hardware model: deliveries left over from the previous tick");
    }
    watchdog_tick_ = step_;
    watchdog_.cancel();
    watchdog_.notify(chip_.cycles(chip_.options.max_tick_cycles));
    if (chip_.vcd) chip_.vcd->start_tick(chip_.global_tick(), first_image_steps_);
    // Population 0 of the trace holds the host's events: Poisson spikes every step, or the nonzero pixels of a
    // constant-current image at step 1 only.
    const int host = chip_.host_source();
    const int32_t host_chip = chip_.host_chip();
    if (chip_.mine(host_chip)) {
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
            source_finished(host_chip, static_cast<int>(n_layers_));
        else
            host_sending_ = true;
    }
    // Layers with nothing to wait for cannot exist (every layer reads something), but a layer whose only source
    // sent nothing is ready now.
    for (int32_t c = 0; c < chip_.chips(); ++c)
        if (chip_.mine(c))
            for (int32_t l = 0; l < n_layers_; ++l) check_ready(c, l);
}

void TickController::host_sent() {
    host_sending_ = false;
    activity();
    source_finished(chip_.host_chip(), static_cast<int>(n_layers_));
}

void TickController::source_finished(int32_t chip, int source) {
    for (int32_t c : reader_chips_[static_cast<size_t>(source)]) {
        if (c == chip) {
            source_done(c, source);
            continue;
        }
        ChipMessage m;
        m.due = chip_.now() + chip_.lookahead();
        m.kind = ChipMessage::kSourceDone;
        m.to_chip = c;
        m.value = source;
        chip_.post(chip, m);
    }
}

void TickController::source_done(int32_t chip, int source) {
    for (int32_t i = consumers_offset_[static_cast<size_t>(source)]; i < consumers_offset_[static_cast<size_t>(source) + 1]; ++i) {
        const int32_t l = consumers_[static_cast<size_t>(i)];
        if (!hosted_[at(chip, l)]) continue;
        --sources_pending_[at(chip, l)];
        check_ready(chip, l);
    }
}

// The events the cores of `layer` on `chip` send this tick, from the engine's spikes (by unit kind) into their
// outboxes.
void TickController::queue_engine_events(int32_t chip, int32_t layer) {
    const MapLayer& l = chip_.mapping.graph.layers[static_cast<size_t>(layer)];
    const auto outbox = [&](int64_t k) -> std::deque<Packet>& { return chip_.cores[static_cast<size_t>(k)]->outbox(); };
    const auto here = [&](int64_t k) { return chip_of_core_[static_cast<size_t>(k)] == chip; };
    switch (l.kind) {
        case UnitKind::Neuron:
        case UnitKind::Gate:
            for (const SpikeEvent& e : trace_->events[static_cast<size_t>(tick_index_ - 1)][static_cast<size_t>(l.population)]) {
                const auto k = static_cast<int>(core_of(l, e.c, e.y, e.x));
                if (here(k)) chip_.enqueue_spike(k, layer, e.c, e.y, e.x, outbox(k));
            }
            break;
        case UnitKind::Partial:
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                if (!here(k)) continue;
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
                if (!here(k)) continue;
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

// A layer whose inputs for this tick are all integrated (in `chip`'s view) updates its neurons there and sends
// this tick's events.
void TickController::fire_layer(int32_t chip, int32_t layer) {
    const MapLayer& l = chip_.mapping.graph.layers[static_cast<size_t>(layer)];
    const int64_t t = chip_.now();
    const auto here = [&](int64_t k) { return chip_of_core_[static_cast<size_t>(k)] == chip; };
    if (recorded_) {  // each core sends what it sent when the trace was recorded
        if (l.kind == UnitKind::Partial)
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                if (!here(k)) continue;
                auto& touched = chip_.cores[static_cast<size_t>(k)]->touched();
                std::fill(touched.begin(), touched.end(), 0);
            }
        const auto ev = recorded_events(static_cast<int32_t>(l.first_core), static_cast<int32_t>(l.first_core + l.cores));
        for (const SourcedEvent* e = ev.first; e != ev.second; ++e)
            if (here(e->source))
                chip_.enqueue_spike(e->source, layer, e->e.c, e->e.y, e->e.x, chip_.cores[static_cast<size_t>(e->source)]->outbox());
    } else {
        queue_engine_events(chip, layer);
    }
    int32_t sending = 0;
    for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k)
        if (here(k) && chip_.cores[static_cast<size_t>(k)]->fire(t)) ++sending;
    const size_t i = at(chip, layer);
    cores_sending_[i] = sending;
    if (sending == 0) {
        cores_sending_[i] = 1;
        layer_done(chip, layer);
    }
}

void TickController::note_activity() { last_activity_ = std::max(last_activity_, chip_.now()); }

void TickController::layer_sent(int32_t core) {
    const auto k = static_cast<size_t>(core);
    layer_done(chip_of_core_[k], core_layer_[k]);
}

void TickController::layer_done(int32_t chip, int32_t layer) {
    if (--cores_sending_[at(chip, layer)] > 0) return;
    ++layers_sent_[static_cast<size_t>(chip)];
    activity();
    source_finished(chip, layer);
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
    now[kTickArrivals] = stats.packets_delivered + stats.faults.deliveries_detected + stats.faults.deliveries_undetected;
    TickCounts delta;
    for (size_t k = 0; k < kTickCounters; ++k) delta[k] = now[k] - counts_at_last_tick_[k];
    counts_at_last_tick_ = now;
    stats.tick_steps.push_back(step_);
    stats.tick_counts.push_back(delta);
}

void TickController::end_tick_if_drained() {
    for (int64_t e : expected_)
        if (e) return;
    close_tick(chip_.now());
}

// The barrier: the tick's last cycle is `end`; the next tick starts one cycle later on every chip.
void TickController::close_tick(int64_t end) {
    tick_open_ = false;
    HwStats& stats = chip_.stats;
    const int64_t c = end - tick_start_ + 1;
    stats.tick_cycles.push_back(c);
    stats.cycles += c;
    stats.max_tick_cycles = std::max(stats.max_tick_cycles, c);
    ++stats.ticks;
    record_tick_counts();
    watchdog_.cancel();
    watchdog_tick_ = -1;
    next_tick_at_ = end + 1;
    if (tick_index_ < image_steps_) chip_.wake(*this, next_tick_at_);
}

bool TickController::my_chips_drained() const {
    if (chip_.mine(chip_.host_chip()) && host_sending_) return false;
    for (int32_t c = 0; c < chip_.chips(); ++c) {
        if (!chip_.mine(c)) continue;
        if (layers_sent_[static_cast<size_t>(c)] < layers_on_[static_cast<size_t>(c)]) return false;
        for (int32_t l = 0; l < n_layers_; ++l)
            if (expected_[at(c, l)]) return false;
    }
    return true;
}

// Several chips: windows of L cycles (the inter-chip latency). Whatever a chip sends another in a window is due in
// a later one, so each rank runs a window of its own chips alone and then exchanges the window's messages. The
// tick ends when every chip is drained in its own view and no message with work is in flight: its last cycle is
// L after the last work anywhere (the barrier crossing the chips), the same on every rank.
void TickController::run_windows() {
    const int64_t lookahead = chip_.lookahead();
    for (;;) {
        chip_.run_until(chip_.now() + lookahead);
        if (stuck_) return;
        const bool drained = tick_open_ && my_chips_drained() && !chip_.messages_hold_work();
        int64_t next = kNeverCycle, all_drained = 1, last = 0;
        for (const WindowSummary& w : chip_.exchange({chip_.next_event(), drained ? 1 : 0, last_activity_})) {
            next = std::min(next, w.next_cycle);
            all_drained = std::min(all_drained, w.drained);
            last = std::max(last, w.last_work_cycle);
        }
        if (tick_open_ && all_drained) {
            close_tick(last + lookahead);
            if (tick_index_ < image_steps_) next = std::min(next, next_tick_at_);
        }
        if (next == kNeverCycle) {  // the image is done: the next one starts after the last barrier, as a tick would
            if (next_tick_at_ > chip_.now()) sc_core::sc_start(chip_.cycles(next_tick_at_ - chip_.now()));
            return;
        }
        if (next > chip_.now()) sc_core::sc_start(chip_.cycles(next - chip_.now()));
        if (stuck_) return;
    }
}
}  // namespace neuroemu
