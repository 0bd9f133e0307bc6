#include "energy/counts.h"

#include <fmt/format.h>

#include <algorithm>

namespace neuroemu {

EnergyCounts energy_counts(const FunctionalTotals& functional, const std::optional<MapperTraffic>& mapper,
                           const std::optional<HardwareTotals>& hardware) {
    const double images = static_cast<double>(std::max<int64_t>(1, functional.images));
    const double steps = static_cast<double>(functional.steps);
    EnergyCounts counts;
    counts.sops = static_cast<double>(functional.sops) / images;
    counts.input_sops = static_cast<double>(functional.input_macs) / images;
    counts.spikes = static_cast<double>(functional.spikes) / images;
    counts.neuron_updates = functional.if_neurons * steps;
    if (mapper) counts.cores = mapper->cores;
    if (hardware) {
        const double hw_images = static_cast<double>(std::max<int64_t>(1, hardware->images));
        counts.extra_sops = static_cast<double>(hardware->partial_sum_sops) / hw_images;
        counts.spikes = static_cast<double>(hardware->events_generated) / hw_images;
        counts.spikes_source = "hardware model (events generated: spikes, partial sums, graded events)";
        counts.neuron_updates = static_cast<double>(hardware->neuron_updates) / hw_images;
        counts.neuron_updates_source = "hardware model (neuron slots x ticks)";
        counts.flit_hops = static_cast<double>(hardware->flit_hops) / hw_images;
        counts.flit_hops_source =
            fmt::format("hardware model ({} image{})", hardware->images, hardware->images == 1 ? "" : "s");
        counts.buffer_writes = static_cast<double>(hardware->buffer_writes_flits) / hw_images;
        counts.seconds = static_cast<double>(hardware->cycles) / hw_images / hardware->clock_hz;
        counts.seconds_source = "latency (hardware model)";
    } else if (mapper) {
        counts.flit_hops = mapper->hops_per_step * steps * mapper->flits_per_packet;
        counts.flit_hops_source = "mapper estimate (measured firing rates x XY route hops)";
    }
    return counts;
}

}  // namespace neuroemu
