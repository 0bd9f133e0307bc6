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
    counts.neuron_updates = (functional.neuron_states > 0 ? functional.neuron_states : functional.if_neurons) * steps;
    if (mapper) counts.cores = mapper->cores;
    if (hardware) {
        const double hw_images = static_cast<double>(std::max<int64_t>(1, hardware->images));
        const std::string sample = hardware->sample.empty() ? "" : ", " + hardware->sample;
        counts.extra_sops = hardware->partial_sum_sops / hw_images;
        counts.spikes = hardware->events_generated / hw_images;
        counts.spikes_source = "hardware model (events generated: spikes, partial sums, graded events" + sample + ")";
        counts.neuron_updates = hardware->neuron_updates / hw_images;
        counts.neuron_updates_source = "hardware model (state variables x neuron slots x ticks" + sample + ")";
        counts.flit_hops = hardware->flit_hops / hw_images;
        counts.flit_hops_source =
            fmt::format("hardware model ({} image{}{})", hardware->images, hardware->images == 1 ? "" : "s", sample);
        counts.buffer_writes = hardware->buffer_writes_flits / hw_images;
        counts.check_bits = hardware->check_bits;
        counts.check_name = hardware->check_name;
        counts.checks_computed = hardware->packets_injected / hw_images;
        counts.checks_verified = hardware->arrivals / hw_images;
        counts.checks_source = "hardware model" + sample;
        counts.seconds = hardware->cycles / hw_images / hardware->clock_hz;
        counts.seconds_source = "latency (hardware model" + sample + ")";
    } else if (mapper) {
        counts.flit_hops = mapper->hops_per_step * steps * mapper->flits_per_packet;
        counts.flit_hops_source = "mapper estimate (measured firing rates x XY route hops)";
    }
    return counts;
}

HardwareEnergyRates hardware_energy_rates(const EnergySpec& spec, int64_t cores, double clock_hz, int check_bits) {
    HardwareEnergyRates rates;
    rates.partial_sum_sop = spec.sop_j;
    rates.event = spec.spike_j;
    rates.neuron_update = spec.neuron_update_j;
    rates.flit_hop = spec.hop_j_per_flit;
    rates.buffer_write_flit = spec.buffer_j_per_flit;
    rates.packet = static_cast<double>(check_bits) * spec.check_compute_j_per_bit;
    rates.arrival = static_cast<double>(check_bits) * spec.check_verify_j_per_bit;
    rates.cycle = spec.static_w_per_core * static_cast<double>(cores) / clock_hz;  // static power over one cycle
    return rates;
}

}  // namespace neuroemu
