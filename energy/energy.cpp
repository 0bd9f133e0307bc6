#include "energy/energy.h"

#include <fmt/format.h>

namespace neuroemu {

std::vector<ParamSpec> energy_params() {
    const EnergySpec defaults;
    return {
        ParamSpec("chip.energy.sop_j", ParamKind::Real, fmt::format("{}", defaults.sop_j), "J/SOP",
                  "Energy of one synaptic operation: one synapse reached by one event (ROLLS: 77 fJ, as the paper's "
                  "§4.4 cites).")
            .range(0, 1),
        ParamSpec("chip.energy.flop_j", ParamKind::Real, fmt::format("{}", defaults.flop_j), "J/FLOP",
                  "Energy of one FLOP of the ANN baseline (Intel Stratix 10 TX FPGA at 80 GFLOPS/W: 12.5 pJ, the "
                  "paper's §4.4).")
            .range(0, 1),
        ParamSpec("chip.energy.flops_per_mac", ParamKind::Int, std::to_string(defaults.flops_per_mac), "FLOP/MAC",
                  "FLOPs counted per multiply-accumulate of the ANN: 1 as the paper counts (ResNet-34 = 3.67 G), or "
                  "2 (a multiply and an add).")
            .range(1, 2),
        ParamSpec("chip.energy.spike_j", ParamKind::Real, fmt::format("{}", defaults.spike_j), "J/event",
                  "Energy of generating one event in a core (AER encoding and injection into the router).")
            .range(0, 1),
        ParamSpec("chip.energy.neuron_update_j", ParamKind::Real, fmt::format("{}", defaults.neuron_update_j),
                  "J/update",
                  "Energy of updating one neuron slot in one time step (0 for analog neurons that integrate "
                  "continuously: their cost is in the static power).")
            .range(0, 1),
        ParamSpec("chip.energy.hop_j_per_flit", ParamKind::Real, fmt::format("{}", defaults.hop_j_per_flit),
                  "J/flit-hop",
                  "Energy of moving one flit through one router and its output link.")
            .range(0, 1),
        ParamSpec("chip.energy.buffer_j_per_flit", ParamKind::Real, fmt::format("{}", defaults.buffer_j_per_flit),
                  "J/flit",
                  "Energy of writing and reading one flit in a router input buffer, when it is not already part of "
                  "chip.energy.hop_j_per_flit (counted by the hardware model).")
            .range(0, 1),
        ParamSpec("chip.energy.check_compute_j_per_bit", ParamKind::Real,
                  fmt::format("{}", defaults.check_compute_j_per_bit), "J/bit",
                  "Energy of computing the per-packet check (chip.faults.check) at injection, per check bit (an XOR "
                  "tree over the 32 address bits: about 15 two-input gates per bit; docs/energy.md).")
            .range(0, 1),
        ParamSpec("chip.energy.check_verify_j_per_bit", ParamKind::Real,
                  fmt::format("{}", defaults.check_verify_j_per_bit), "J/bit",
                  "Energy of verifying the per-packet check at each delivery to a core, per check bit (the same XOR "
                  "tree and a comparison; docs/energy.md).")
            .range(0, 1),
        ParamSpec("chip.energy.static_w_per_core", ParamKind::Real, fmt::format("{}", defaults.static_w_per_core),
                  "W/core",
                  "Static power of one core (leakage, analog biases), charged for the inference's duration at the "
                  "chip clock; needs the hardware simulation's latency.")
            .range(0, 1e3),
    };
}

EnergySpec energy_spec(const Settings& settings) {
    EnergySpec spec;
    spec.sop_j = settings.get_real("chip.energy.sop_j");
    spec.flop_j = settings.get_real("chip.energy.flop_j");
    spec.flops_per_mac = settings.get_int("chip.energy.flops_per_mac");
    spec.spike_j = settings.get_real("chip.energy.spike_j");
    spec.neuron_update_j = settings.get_real("chip.energy.neuron_update_j");
    spec.hop_j_per_flit = settings.get_real("chip.energy.hop_j_per_flit");
    spec.buffer_j_per_flit = settings.get_real("chip.energy.buffer_j_per_flit");
    spec.static_w_per_core = settings.get_real("chip.energy.static_w_per_core");
    spec.check_compute_j_per_bit = settings.get_real("chip.energy.check_compute_j_per_bit");
    spec.check_verify_j_per_bit = settings.get_real("chip.energy.check_verify_j_per_bit");
    return spec;
}

double EnergyBreakdown::total_j() const {
    double sum = 0;
    for (const auto& t : terms) sum += t.energy_j;
    return sum;
}

const EnergyTerm* EnergyBreakdown::find(const std::string& key) const {
    for (const auto& t : terms)
        if (t.key == key) return &t;
    return nullptr;
}

namespace {

EnergyTerm term(std::string key, std::string label, double count, std::string unit, double coefficient_j,
                std::string coefficient_key, std::string source) {
    EnergyTerm t;
    t.key = std::move(key);
    t.label = std::move(label);
    t.count = count;
    t.unit = std::move(unit);
    t.coefficient_j = coefficient_j;
    t.coefficient_unit = t.unit == "core-s" ? "W/core" : "J/" + t.unit;
    t.coefficient_key = std::move(coefficient_key);
    t.energy_j = count * coefficient_j;
    t.source = std::move(source);
    return t;
}

EnergyTerm sop_term(const EnergySpec& spec, const EnergyCounts& counts) {
    return term("sop", "synaptic operations", counts.sops, "SOP", spec.sop_j, "chip.energy.sop_j", counts.sops_source);
}

}  // namespace

EnergyBreakdown snn_energy(const EnergySpec& spec, const EnergyCounts& counts) {
    EnergyBreakdown breakdown;
    auto& terms = breakdown.terms;
    terms.push_back(sop_term(spec, counts));
    if (counts.input_sops > 0)
        terms.push_back(term("input", "input synapses (constant current, once per image)", counts.input_sops, "SOP",
                             spec.sop_j, "chip.energy.sop_j", "functional engine (input MACs)"));
    if (counts.extra_sops > 0)
        terms.push_back(term("extra_sop", "partial-sum links and spike gates", counts.extra_sops, "SOP", spec.sop_j,
                             "chip.energy.sop_j", "hardware model"));
    terms.push_back(term("spike", "events generated", counts.spikes, "event", spec.spike_j, "chip.energy.spike_j",
                         counts.spikes_source));
    terms.push_back(term("neuron_update", "neuron updates (state variables x neurons x steps)", counts.neuron_updates, "update", spec.neuron_update_j,
                         "chip.energy.neuron_update_j", counts.neuron_updates_source));
    if (counts.flit_hops)
        terms.push_back(term("hop", "routing (flits x router hops)", *counts.flit_hops, "flit-hop", spec.hop_j_per_flit,
                             "chip.energy.hop_j_per_flit", counts.flit_hops_source));
    if (counts.buffer_writes)
        terms.push_back(term("buffer", "router buffer writes", *counts.buffer_writes, "flit", spec.buffer_j_per_flit,
                             "chip.energy.buffer_j_per_flit", "hardware model"));
    if (counts.check_bits > 0) {
        const auto bits = static_cast<double>(counts.check_bits);
        terms.push_back(term("check_compute", fmt::format("{} checks computed (at injection)", counts.check_name),
                             counts.checks_computed, "check", bits * spec.check_compute_j_per_bit,
                             "chip.energy.check_compute_j_per_bit", counts.checks_source + ", packets injected"));
        terms.push_back(term("check_verify", fmt::format("{} checks verified (at each delivery)", counts.check_name),
                             counts.checks_verified, "check", bits * spec.check_verify_j_per_bit,
                             "chip.energy.check_verify_j_per_bit", counts.checks_source + ", arrivals at cores"));
    }
    if (counts.seconds)
        terms.push_back(term("static", "static power x cores x latency",
                             *counts.seconds * static_cast<double>(counts.cores), "core-s", spec.static_w_per_core,
                             "chip.energy.static_w_per_core",
                             fmt::format("{} cores x {}", counts.cores, counts.seconds_source)));
    return breakdown;
}

EnergyBreakdown snn_energy_sop_only(const EnergySpec& spec, const EnergyCounts& counts) {
    EnergyBreakdown breakdown;
    breakdown.terms.push_back(sop_term(spec, counts));
    return breakdown;
}

EnergyBreakdown ann_energy(const EnergySpec& spec, double macs) {
    EnergyBreakdown breakdown;
    breakdown.terms.push_back(term("flop", "FLOPs on the FPGA", macs * static_cast<double>(spec.flops_per_mac), "FLOP",
                                   spec.flop_j, "chip.energy.flop_j",
                                   fmt::format("model (MACs of the ANN x {} FLOP/MAC, chip.energy.flops_per_mac)",
                                               spec.flops_per_mac)));
    return breakdown;
}

const std::vector<PaperNetwork>& paper_networks() {
    static const std::vector<PaperNetwork> nets = {
        {"ResNet-18", "resnet18", 1.82, 33.13},
        {"ResNet-34", "resnet34", 3.67, 65.28},
        {"ResNet-50", "resnet50", 4.12, 78.29},
    };
    return nets;
}

PaperEnergyRow paper_energy_row(const EnergySpec& spec, const PaperNetwork& net, double macs) {
    PaperEnergyRow row;
    row.network = net.network;
    row.gmac = macs / 1e9;
    row.paper_gflop = net.paper_gflop;
    row.paper_gsop = net.paper_gsop;
    row.flops_per_mac = spec.flops_per_mac;
    row.energy_ann_j = ann_energy(spec, macs).total_j();
    EnergyCounts counts;
    counts.sops = net.paper_gsop * 1e9;
    row.energy_snn_j = snn_energy_sop_only(spec, counts).total_j();
    return row;
}

}  // namespace neuroemu
