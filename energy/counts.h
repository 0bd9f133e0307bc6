// Where the energy model's counts come from (docs/energy.md): the functional engine always, the SystemC hardware
// model when the chip was simulated (it then replaces the engine's spikes and neuron updates and adds the
// partial-sum operations, flit-hops, buffer writes and the duration), else the mapper's route estimate for the
// flit-hops. The stages' results arrive as plain totals so that energy/ stays below them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "energy/energy.h"

namespace neuroemu {

// The functional engine's totals over its images.
struct FunctionalTotals {
    int64_t images = 0;
    int64_t steps = 0;
    int64_t sops = 0, input_macs = 0, spikes = 0;
    double if_neurons = 0;  // neurons of every population but the input
    // State variables those neurons update each step (neurons x the model's: cuba_lif 2, if 1; see
    // model/neuron_state.h); 0: one per neuron (if_neurons).
    double neuron_states = 0;
};

// The mapper's estimate of one time step's traffic.
struct MapperTraffic {
    int64_t cores = 0;
    double hops_per_step = 0;     // packet hops (XY routes x measured firing rates)
    double flits_per_packet = 1;  // one AER event
};

// The hardware model's totals over its images: measured, or with tick sampling extrapolated to every tick
// (hw/sampled_stats.h), then `sample` says so ("9 of 32 ticks sampled") and joins the counts' sources.
struct HardwareTotals {
    int64_t images = 0;
    double partial_sum_sops = 0, events_generated = 0, neuron_updates = 0;
    double flit_hops = 0, buffer_writes_flits = 0, cycles = 0;
    double packets_injected = 0, arrivals = 0;  // checks computed and verified, when there is a check
    int check_bits = 0;                         // chip.faults.check: 0 none
    std::string check_name = "none";
    double clock_hz = 0;
    std::string sample;  // "" when every tick was simulated
};

// Joules per unit of each hardware-model count in the chip's energy (the terms energy_counts fills from
// HardwareTotals, snn_energy prices): the weights of the energy one tick's counts cost, for the interval of a
// sampled run's energy.
struct HardwareEnergyRates {
    double partial_sum_sop = 0, event = 0, neuron_update = 0, flit_hop = 0, buffer_write_flit = 0, cycle = 0;
    double packet = 0, arrival = 0;  // the check computed per packet injected, verified per arrival
};
HardwareEnergyRates hardware_energy_rates(const EnergySpec& spec, int64_t cores, double clock_hz, int check_bits = 0);

// Counts per inference, each with its source. `mapper` is absent when the network does not fit, `hardware` when
// the chip was not simulated.
EnergyCounts energy_counts(const FunctionalTotals& functional, const std::optional<MapperTraffic>& mapper,
                           const std::optional<HardwareTotals>& hardware);

}  // namespace neuroemu
