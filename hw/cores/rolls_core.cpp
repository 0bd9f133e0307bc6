#include "hw/cores/rolls_core.h"

#include <algorithm>
#include <cmath>

#include "hw/chip.h"
#include "model/neuron_state.h"

namespace neuroemu {

RollsCore::RollsCore(Chip& chip, int32_t index, Router& router)
    : CoreModel(chip, index, router),
      input_projection_(chip.input_projection[static_cast<size_t>(core_.layer)]),
      encoder_(static_cast<int32_t>(chip.mapping.chip.noc.buffer_depth)) {
    // One update per state variable per unit: a neuron layer's model says how many (cuba_lif: 2), a partial-sum,
    // gate or current unit has one.
    const MapLayer& layer = chip.mapping.graph.layers[static_cast<size_t>(core_.layer)];
    int states = 1;
    if ((layer.kind == UnitKind::Neuron || layer.kind == UnitKind::Readout) && layer.population >= 0 &&
        static_cast<size_t>(layer.population) < chip.snn.populations.size())
        states = state_updates(chip.snn.populations[static_cast<size_t>(layer.population)]);
    updates_per_fire_ = core_.units * states;
}

void RollsCore::accept(const Packet& p, int64_t at) {
    queue_.push_back({p, at});
    queue_flits_ += static_cast<uint32_t>(p.flits);
    if (traced_ && chip_.vcd->active()) traced_->queue_flits = queue_flits_;
    chip_.wake(*this, at);
}

void RollsCore::credit(int flits, int64_t at) {
    encoder_.credit(flits, at);
    if (!encoder_.idle()) chip_.wake(*this, at);
}

void RollsCore::reset_for_tick() {
    if (!queue_.empty() || engine_busy_ || !encoder_.idle())
        throw InternalError("hardware model: a core is still busy at a tick barrier");
    encoder_.reset_for_tick();
    engine_done_ = 0;
}

bool RollsCore::fire(int64_t now) {
    if (chip_.core_stuck(static_cast<size_t>(index_))) {  // chip.faults.stuck_cores: never updates, never sends
        chip_.stats.faults.events_stuck += static_cast<int64_t>(encoder_.outbox().size());
        encoder_.outbox().clear();
        return false;
    }
    chip_.stats.neuron_updates += updates_per_fire_;
    if (encoder_.idle()) return false;
    const int64_t per_cycle = chip_.mapping.chip.core.neuron_updates_per_cycle;
    const auto update_cycles = static_cast<int64_t>(
        std::ceil(static_cast<double>((updates_per_fire_ + per_cycle - 1) / per_cycle) *
                  chip_.core_slow_factor(static_cast<size_t>(index_))));
    encoder_.start_at(now + update_cycles);
    chip_.wake(*this, encoder_.next_inject());
    return true;
}

void RollsCore::integrate(const Packet& p) {
    HwStats& stats = chip_.stats;
    const MapLayer& layer = chip_.mapping.graph.layers[static_cast<size_t>(core_.layer)];
    boxes_.clear();
    target_boxes(chip_.mapping.graph, core_.layer, core_, p.layer, p.c, p.y, p.x, boxes_);
    int64_t sops = 0;
    for (const TargetBox& b : boxes_) {
        const int64_t v = b.volume();
        sops += v;
        const int projection = input_projection_[static_cast<size_t>(b.input - layer.inputs.data())];
        if (projection >= 0) {
            stats.sops += v;
            if (b.input->recurrent && chip_.tick_controller->in_last_step())
                stats.recurrent_drained_sops += v;  // sent in the image's last step: the engine never delivers it
            else
                stats.sops_by_projection_index[static_cast<size_t>(projection)] += v;
        } else {
            stats.partial_sum_sops += v;  // partial sums into their neuron, spike-gate counters
        }
        if (!touched_.empty())
            for (int64_t yy = b.y0; yy < b.y1; ++yy)
                for (int64_t xx = b.x0; xx < b.x1; ++xx)
                    touched_[static_cast<size_t>((yy - core_.y0) * (core_.x1 - core_.x0) + (xx - core_.x0))] = 1;
    }
    stats.core_sops[static_cast<size_t>(index_)] += sops;
    if (traced_ && chip_.vcd->active()) traced_->sops += static_cast<uint64_t>(sops);
    const int64_t per_cycle = chip_.mapping.chip.core.sops_per_cycle;
    engine_busy_ = true;
    engine_done_ = chip_.now() + std::max<int64_t>(1, (sops + per_cycle - 1) / per_cycle);  // at least the lookup
}

void RollsCore::run_cycle(int64_t now) {
    HwStats& stats = chip_.stats;
    const int64_t credit_at = encoder_.apply_credits(now);
    if (engine_busy_ && engine_done_ <= now) {
        engine_busy_ = false;
        chip_.tick_controller->processed(index_);
    }
    if (!engine_busy_ && !queue_.empty() && queue_.front().at <= now) {
        const Arrival a = queue_.front();
        queue_.pop_front();
        queue_flits_ -= static_cast<uint32_t>(a.p.flits);
        if (traced_ && chip_.vcd->active()) traced_->queue_flits = queue_flits_;
        router_.credit(kOutLocal, a.p.flits, now + 1);
        if (a.p.flips != 0) {
            // Corrupt: the check (or the oracle) rejects it after one cycle of lookup; nothing is integrated.
            ++stats.core_packets_delivered[static_cast<size_t>(index_)];
            chip_.corrupt_arrival(a.p);
            engine_busy_ = true;
            engine_done_ = now + 1;
        } else {
        stats.packet_latency_sum_cycles += now - a.p.injected;
        stats.packet_latency_max_cycles = std::max(stats.packet_latency_max_cycles, now - a.p.injected);
        ++stats.packets_delivered;
        ++stats.core_packets_delivered[static_cast<size_t>(index_)];
        integrate(a.p);
        }
    }
    if (encoder_.can_send(now)) {
        const Packet p = encoder_.send(now);
        chip_.injected(index_, p);
        if (traced_ && chip_.vcd->active()) ++traced_->packets_sent;
        router_.accept(kInLocal, p, now);
        if (encoder_.idle()) chip_.tick_controller->layer_sent(index_);
    }
    int64_t t = kNeverCycle;
    if (engine_busy_) t = std::min(t, engine_done_);
    if (!engine_busy_ && !queue_.empty()) t = std::min(t, std::max(queue_.front().at, now + (queue_.front().at <= now)));
    t = std::min(t, encoder_.next_send_cycle(now, credit_at));
    if (t != kNeverCycle) chip_.wake(*this, t);
}

void register_rolls(Family<CoreModelKind>& family) {
    family.add({"rolls",
                "ROLLS-style core: input queue, synapse engine of chip.core.sops_per_cycle, neuron array of "
                "chip.core.neuron_updates_per_cycle, AER encoder of one event per cycle.",
                {}},
               [](const Settings&) { return std::make_unique<CoreKindOf<RollsCore>>(); });
}

}  // namespace neuroemu
