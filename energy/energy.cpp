#include "energy/energy.h"

#include <fmt/format.h>

namespace neuroemu {

std::vector<ParamSpec> energy_params() {
    const EnergySpec d;
    return {
        ParamSpec("chip.energy.sop_j", ParamKind::Real, fmt::format("{}", d.sop_j), "J/SOP",
                  "Energy of one synaptic operation: one synapse reached by one event (ROLLS: 77 fJ, as the paper's "
                  "§4.4 cites).")
            .range(0, 1),
        ParamSpec("chip.energy.flop_j", ParamKind::Real, fmt::format("{}", d.flop_j), "J/FLOP",
                  "Energy of one FLOP of the ANN baseline (Intel Stratix 10 TX FPGA at 80 GFLOPS/W: 12.5 pJ, the "
                  "paper's §4.4).")
            .range(0, 1),
        ParamSpec("chip.energy.flops_per_mac", ParamKind::Int, std::to_string(d.flops_per_mac), "FLOP/MAC",
                  "FLOPs counted per multiply-accumulate of the ANN: 1 as the paper counts (ResNet-34 = 3.67 G), or "
                  "2 (a multiply and an add).")
            .range(1, 2),
        ParamSpec("chip.energy.spike_j", ParamKind::Real, fmt::format("{}", d.spike_j), "J/event",
                  "Energy of generating one event in a core (AER encoding and injection into the router).")
            .range(0, 1),
        ParamSpec("chip.energy.neuron_update_j", ParamKind::Real, fmt::format("{}", d.neuron_update_j), "J/update",
                  "Energy of updating one neuron slot in one time step (0 for analog neurons that integrate "
                  "continuously: their cost is in the static power).")
            .range(0, 1),
        ParamSpec("chip.energy.hop_j_per_flit", ParamKind::Real, fmt::format("{}", d.hop_j_per_flit), "J/flit-hop",
                  "Energy of moving one flit through one router and its output link.")
            .range(0, 1),
        ParamSpec("chip.energy.buffer_j_per_flit", ParamKind::Real, fmt::format("{}", d.buffer_j_per_flit), "J/flit",
                  "Energy of writing and reading one flit in a router input buffer, when it is not already part of "
                  "chip.energy.hop_j_per_flit (counted by the hardware model).")
            .range(0, 1),
        ParamSpec("chip.energy.static_w_per_core", ParamKind::Real, fmt::format("{}", d.static_w_per_core), "W/core",
                  "Static power of one core (leakage, analog biases), charged for the inference's duration at the "
                  "chip clock; needs the hardware simulation's latency.")
            .range(0, 1e3),
    };
}

EnergySpec energy_spec(const Settings& settings) {
    EnergySpec e;
    e.sop_j = settings.get_real("chip.energy.sop_j");
    e.flop_j = settings.get_real("chip.energy.flop_j");
    e.flops_per_mac = settings.get_int("chip.energy.flops_per_mac");
    e.spike_j = settings.get_real("chip.energy.spike_j");
    e.neuron_update_j = settings.get_real("chip.energy.neuron_update_j");
    e.hop_j_per_flit = settings.get_real("chip.energy.hop_j_per_flit");
    e.buffer_j_per_flit = settings.get_real("chip.energy.buffer_j_per_flit");
    e.static_w_per_core = settings.get_real("chip.energy.static_w_per_core");
    return e;
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

EnergyTerm sop_term(const EnergySpec& e, const EnergyCounts& c) {
    return term("sop", "synaptic operations", c.sops, "SOP", e.sop_j, "chip.energy.sop_j", c.sops_source);
}

}  // namespace

EnergyBreakdown snn_energy(const EnergySpec& e, const EnergyCounts& c) {
    EnergyBreakdown b;
    b.terms.push_back(sop_term(e, c));
    if (c.input_sops > 0)
        b.terms.push_back(term("input", "input synapses (constant current, once per image)", c.input_sops, "SOP",
                               e.sop_j, "chip.energy.sop_j", "functional engine (input MACs)"));
    if (c.extra_sops > 0)
        b.terms.push_back(term("extra_sop", "partial-sum links and spike gates", c.extra_sops, "SOP", e.sop_j,
                               "chip.energy.sop_j", "hardware model"));
    b.terms.push_back(term("spike", "events generated", c.spikes, "event", e.spike_j, "chip.energy.spike_j",
                           c.spikes_source));
    b.terms.push_back(term("neuron_update", "neuron updates", c.neuron_updates, "update", e.neuron_update_j,
                           "chip.energy.neuron_update_j", c.neuron_updates_source));
    if (c.flit_hops)
        b.terms.push_back(term("hop", "routing (flits x router hops)", *c.flit_hops, "flit-hop", e.hop_j_per_flit,
                               "chip.energy.hop_j_per_flit", c.flit_hops_source));
    if (c.buffer_writes)
        b.terms.push_back(term("buffer", "router buffer writes", *c.buffer_writes, "flit", e.buffer_j_per_flit,
                               "chip.energy.buffer_j_per_flit", "hardware model"));
    if (c.seconds)
        b.terms.push_back(term("static", "static power x cores x latency", *c.seconds * static_cast<double>(c.cores),
                               "core-s", e.static_w_per_core, "chip.energy.static_w_per_core",
                               fmt::format("{} cores x {}", c.cores, c.seconds_source)));
    return b;
}

EnergyBreakdown snn_energy_sop_only(const EnergySpec& e, const EnergyCounts& c) {
    EnergyBreakdown b;
    b.terms.push_back(sop_term(e, c));
    return b;
}

EnergyBreakdown ann_energy(const EnergySpec& e, double macs) {
    EnergyBreakdown b;
    b.terms.push_back(term("flop", "FLOPs on the FPGA", macs * static_cast<double>(e.flops_per_mac), "FLOP", e.flop_j,
                           "chip.energy.flop_j",
                           fmt::format("model (MACs of the ANN x {} FLOP/MAC, chip.energy.flops_per_mac)",
                                       e.flops_per_mac)));
    return b;
}

const std::vector<PaperNetwork>& paper_networks() {
    static const std::vector<PaperNetwork> nets = {
        {"ResNet-18", "resnet18", 1.82, 33.13},
        {"ResNet-34", "resnet34", 3.67, 65.28},
        {"ResNet-50", "resnet50", 4.12, 78.29},
    };
    return nets;
}

PaperEnergyRow paper_energy_row(const EnergySpec& e, const PaperNetwork& net, double macs) {
    PaperEnergyRow r;
    r.network = net.network;
    r.gmac = macs / 1e9;
    r.paper_gflop = net.paper_gflop;
    r.paper_gsop = net.paper_gsop;
    r.flops_per_mac = e.flops_per_mac;
    r.energy_ann_j = ann_energy(e, macs).total_j();
    EnergyCounts c;
    c.sops = net.paper_gsop * 1e9;
    r.energy_snn_j = snn_energy_sop_only(e, c).total_j();
    return r;
}

}  // namespace neuroemu
