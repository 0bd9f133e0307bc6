#include "hw/sampled_stats.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"

namespace neuroemu {

SampledFigure HwEstimates::per_image(size_t counter) const {
    return totals[counter].divided_by(static_cast<double>(std::max<int64_t>(1, images)));
}

SampledFigure HwEstimates::cycles_per_tick() const {
    return totals[kTickCycles].divided_by(static_cast<double>(std::max<int64_t>(1, images * plan.steps)));
}

SampledFigure HwEstimates::per_image_linear(const std::array<double, kTickCounters>& weights) const {
    return estimator.linear({weights.begin(), weights.end()}, confidence)
        .divided_by(static_cast<double>(std::max<int64_t>(1, images)));
}

std::string HwEstimates::describe() const {
    if (exact()) return fmt::format("all {} ticks per image (exact)", plan.steps);
    return fmt::format("{} of {} ticks per image (tick 1 and 2 of each of {} strata{}), {:g}% intervals",
                       plan.ticks_per_image(), plan.steps, plan.strata.size(),
                       plan.rounded() ? fmt::format("; {} asked, rounded to 1 + 2H", plan.requested) : "",
                       100.0 * confidence);
}

HwEstimates estimate_hardware(const HwStats& stats, const TickSamplePlan& plan, double confidence) {
    HwEstimates est(plan, confidence);
    if (stats.tick_steps.size() != stats.tick_counts.size())
        throw InternalError("tick sampling: one set of counts per simulated tick");
    // Images are contiguous runs of ticks, each starting at step 1 (always simulated).
    TickCounts sum{};
    for (size_t i = 0; i < stats.tick_steps.size();) {
        size_t end = i + 1;
        while (end < stats.tick_steps.size() && stats.tick_steps[end] != 1) ++end;
        std::vector<int64_t> ticks(stats.tick_steps.begin() + static_cast<std::ptrdiff_t>(i),
                                   stats.tick_steps.begin() + static_cast<std::ptrdiff_t>(end));
        if (ticks != plan.draw(est.images))
            throw InternalError(fmt::format("tick sampling: image {} simulated other ticks than its sample", est.images + 1));
        std::vector<std::vector<double>> values;
        for (size_t k = i; k < end; ++k) {
            values.emplace_back(stats.tick_counts[k].begin(), stats.tick_counts[k].end());
            for (size_t c = 0; c < kTickCounters; ++c) sum[c] += stats.tick_counts[k][c];
        }
        est.estimator.add_image(ticks, values);
        est.ticks.push_back(std::move(ticks));
        ++est.images;
        i = end;
    }
    const TickCounts run = {stats.cycles, stats.packets_injected, stats.packets_delivered, stats.noc.packet_hops,
                            stats.noc.flit_hops, stats.noc.inter_chip_packet_hops, stats.noc.buffer_write_flits,
                            stats.noc.stall_cycles, stats.sops, stats.partial_sum_sops, stats.neuron_updates,
                            stats.events_generated, stats.packet_latency_sum_cycles,
                            stats.packets_delivered + stats.faults.deliveries_detected + stats.faults.deliveries_undetected};
    for (size_t c = 0; c < kTickCounters; ++c)
        if (sum[c] != run[c])
            throw InternalError(fmt::format("tick sampling: the ticks' {} add up to {}, the run counted {}",
                                            tick_counter_name(c), sum[c], run[c]));
    if (est.images != stats.images) throw InternalError("tick sampling: the images' ticks do not match the run");
    for (size_t c = 0; c < kTickCounters; ++c) est.totals[c] = est.estimator.total(c, confidence);
    est.packet_latency_mean = est.estimator.ratio(kTickLatencySum, kTickDeliveries, confidence);
    return est;
}

}  // namespace neuroemu
