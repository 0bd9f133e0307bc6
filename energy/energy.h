// The energy model (docs/energy.md): what one inference costs on the neuromorphic chip, priced from counted
// events, against the ANN on an FPGA, priced per FLOP. The coefficients are the `chip.energy` section of the chip
// description (each with its source in configs/chips/*.yaml); the counts come from the functional engine
// (algorithmic synaptic operations, spikes) and, when the chip was simulated, from the hardware model (flit-hops,
// neuron updates, cycles). Every term says where its count came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace neuroemu {

// Defaults: the ROLLS chip of configs/chips/rolls.yaml (sources there).
struct EnergySpec {
    double sop_j = 77e-15;             // per synaptic operation (one synapse reached by one event)
    double flop_j = 12.5e-12;          // per FLOP of the ANN baseline (FPGA)
    int64_t flops_per_mac = 1;         // the MAC-vs-FLOP convention: 1 (the paper) or 2 (multiply + add)
    double spike_j = 1.7e-12;          // per event a core generates (AER encoding, injection)
    double neuron_update_j = 0;        // per neuron slot updated per time step
    double hop_j_per_flit = 3.5e-12;   // per flit per router hop (router traversal + link)
    double buffer_j_per_flit = 0;      // per flit written into a router input buffer, beyond hop_j_per_flit
    double static_w_per_core = 4e-3;   // leakage and bias per core, watts, over the inference's duration
    // Logic of the per-packet check (chip.faults.check), per check bit: computing it at injection, verifying it at
    // each delivery (docs/energy.md derives the default: an XOR tree of about 15 gates per check bit at 180 nm).
    double check_compute_j_per_bit = 0.12e-12;
    double check_verify_j_per_bit = 0.12e-12;
};

std::vector<ParamSpec> energy_params();  // chip.energy.*
EnergySpec energy_spec(const Settings& settings);

// Counts for one inference (averages per image).
struct EnergyCounts {
    double sops = 0;                      // algorithmic SOPs of the S-ResNet's projections
    std::string sops_source = "functional engine (algorithmic SOPs)";
    double input_sops = 0;                // constant-current input: one synaptic operation per input synapse, once
    double extra_sops = 0;                // partial-sum links and spike gates inside the chip (hardware model)
    double spikes = 0;                    // events generated
    std::string spikes_source = "functional engine (IF spikes)";
    double neuron_updates = 0;            // state variables x neurons x time steps
    std::string neuron_updates_source = "model (state variables x neurons x time steps)";
    std::optional<double> flit_hops;      // flits x router hops; nullopt: not known
    std::string flit_hops_source;
    std::optional<double> buffer_writes;  // flits written into router input buffers; nullopt: not simulated
    // The per-packet check (chip.faults.check; hardware model): its bits (0: none, no terms), the checks computed
    // (packets injected) and verified (arrivals at destination cores, corrupt ones included).
    int check_bits = 0;
    std::string check_name;
    double checks_computed = 0, checks_verified = 0;
    std::string checks_source;
    std::optional<double> seconds;        // inference duration at the chip clock; nullopt: not simulated
    std::string seconds_source;
    int64_t cores = 0;
};

struct EnergyTerm {
    std::string key;               // "sop", "input", "extra_sop", "spike", "neuron_update", "hop", "buffer",
                                   // "check_compute", "check_verify", "static", "flop"
    std::string label;
    double count = 0;              // per inference, in `unit`
    std::string unit;              // "SOP", "event", "update", "flit-hop", "check", "core-s", "FLOP"
    double coefficient_j = 0;      // joules per unit (watts per core for "static": its unit is core-seconds)
    std::string coefficient_unit;  // "J/SOP", "J/event", "J/update", "J/flit-hop", "J/flit", "W/core", "J/FLOP"
    std::string coefficient_key;   // the configuration key of the coefficient
    double energy_j = 0;           // count x coefficient
    std::string source;            // where the count came from
};

struct EnergyBreakdown {
    std::vector<EnergyTerm> terms;
    double total_j() const;        // the sum of the terms
    const EnergyTerm* find(const std::string& key) const;
};

// The chip: every term whose count is known (the hop term needs flit_hops, the buffer term buffer_writes, the
// check terms a check (check_bits > 0), the static term seconds).
EnergyBreakdown snn_energy(const EnergySpec& spec, const EnergyCounts& counts);
// The paper's method (§4.4): synaptic operations alone.
EnergyBreakdown snn_energy_sop_only(const EnergySpec& spec, const EnergyCounts& counts);
// The ANN: MACs x flops_per_mac FLOPs at flop_j each.
EnergyBreakdown ann_energy(const EnergySpec& spec, double macs);

// The paper's §4.4 comparison for one network: the ANN's MACs (ours, from the zoo) and the paper's SOP count.
struct PaperEnergyRow {
    std::string network;
    double gmac = 0;           // our zoo's MACs, 1e9
    double paper_gflop = 0;    // the paper's operation count for the ANN
    double paper_gsop = 0;     // the paper's SOP count for the S-ResNet
    int64_t flops_per_mac = 1;
    double energy_ann_j = 0;   // gmac x 1e9 x flops_per_mac x flop_j
    double energy_snn_j = 0;   // paper_gsop x 1e9 x sop_j
    double ratio() const { return energy_snn_j > 0 ? energy_ann_j / energy_snn_j : 0.0; }
};

struct PaperNetwork {
    std::string network;  // "ResNet-18"
    std::string zoo;      // "resnet18"
    double paper_gflop, paper_gsop;
};
// ResNet-18/34/50 on ImageNet as in §4.4 (the paper's "ResNet-16" row has ResNet-18's count).
const std::vector<PaperNetwork>& paper_networks();
PaperEnergyRow paper_energy_row(const EnergySpec& spec, const PaperNetwork& net, double macs);

}  // namespace neuroemu
