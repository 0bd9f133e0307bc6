#include "arch/chip_spec.h"

#include <fmt/format.h>

#include "common/error.h"
#include "router/multicast/multicast.h"

namespace neuroemu {

std::vector<ParamSpec> chip_params() {
    return {
        ParamSpec("chip.name", ParamKind::String, "rolls", "", "Name of the chip description, for reports."),
        ParamSpec("chip.clock_hz", ParamKind::Real, "1e8", "Hz",
                  "Clock of the digital logic: routers, links and synaptic-operation engines.")
            .range(1, 1e12),
        ParamSpec("chip.core.neurons", ParamKind::Int, "256", "neurons",
                  "Neurons per core (ROLLS, Qiao et al. 2015: 256). Partial-sum units and spike gates take a "
                  "neuron slot too.")
            .range(1, 1 << 24),
        ParamSpec("chip.core.synapses", ParamKind::Int, "131072", "synapses",
                  "Synapse memory entries per core (ROLLS: 256x256 plastic + 256x256 non-plastic = 128K).")
            .range(1, 1e12),
        ParamSpec("chip.core.fan_in", ParamKind::Int, "512", "synapses",
                  "Most distinct inputs one neuron may have (ROLLS: 256 + 256).")
            .range(1, 1e9),
        ParamSpec("chip.core.weight_bits", ParamKind::Int, "8", "bits",
                  "Bits per synapse entry; sizes the synapse memory in reports (the mapper does not quantise).")
            .range(1, 64),
        ParamSpec("chip.core.weight_sharing", ParamKind::Bool, "false", "",
                  "A core stores each convolution kernel once for all its neurons (false: a crossbar, one entry "
                  "per synapse)."),
        ParamSpec("chip.core.bias", ParamKind::Enum, "synapse", "",
                  "How a neuron's constant bias current is held: `register` (outside synapse memory) or `synapse` "
                  "(one synapse entry and one input per neuron, driven each step by a core-local source).")
            .one_of({"register", "synapse"}),
        ParamSpec("chip.core.sops_per_cycle", ParamKind::Int, "256", "SOPs/cycle",
                  "Synaptic operations per cycle of a core's synapse engine (a crossbar drives a whole row: 256).")
            .range(1, 1 << 20),
        ParamSpec("chip.core.neuron_updates_per_cycle", ParamKind::Int, "256", "neurons/cycle",
                  "Neurons a core updates (threshold, fire, reset) per cycle before it sends a step's spikes.")
            .range(1, 1 << 20),
        ParamSpec("chip.core.input_queue", ParamKind::Int, "16", "flits",
                  "Event queue between a core's router port and its synapse engine.")
            .range(1, 1 << 20),
        ParamSpec("chip.noc.width", ParamKind::Int, "0", "cores",
                  "Cores per chip along x of the 2-D mesh; 0 (with height 0) = a near-square mesh sized to fit.")
            .range(0, 1 << 15),
        ParamSpec("chip.noc.height", ParamKind::Int, "0", "cores", "Cores per chip along y; 0 = sized to fit.")
            .range(0, 1 << 15),
        ParamSpec("chip.noc.chips", ParamKind::Int, "1", "chips",
                  "Chips joined by inter-chip links in a near-square grid; 0 = as many as the network needs "
                  "(needs a fixed width and height).")
            .range(0, 1 << 20),
        ParamSpec("chip.noc.buffer_depth", ParamKind::Int, "4", "flits", "Input buffer of each router port.")
            .range(1, 1 << 20),
        ParamSpec("chip.noc.flit_bits", ParamKind::Int, "32", "bits", "Flit and link width.").range(1, 4096),
        ParamSpec("chip.noc.pipeline_cycles", ParamKind::Int, "3", "cycles", "Router pipeline delay per hop.")
            .range(0, 1 << 20),
        ParamSpec("chip.noc.link_cycles", ParamKind::Int, "1", "cycles", "On-chip link traversal per flit.")
            .range(1, 1 << 20),
        ParamSpec("chip.noc.inter_chip_link_cycles", ParamKind::Int, "20", "cycles",
                  "Chip-to-chip link traversal per flit.")
            .range(1, 1 << 20),
        multicasts().selector("tree"),
    };
}

ChipSpec chip_spec(const Settings& s) {
    ChipSpec c;
    c.name = s.get_string("chip.name");
    c.clock_hz = s.get_real("chip.clock_hz");
    c.core.neurons = s.get_int("chip.core.neurons");
    c.core.synapses = s.get_int("chip.core.synapses");
    c.core.fan_in = s.get_int("chip.core.fan_in");
    c.core.weight_bits = s.get_int("chip.core.weight_bits");
    c.core.weight_sharing = s.get_bool("chip.core.weight_sharing");
    c.core.bias = s.get_string("chip.core.bias") == "register" ? BiasStorage::Register : BiasStorage::Synapse;
    c.core.sops_per_cycle = s.get_int("chip.core.sops_per_cycle");
    c.core.neuron_updates_per_cycle = s.get_int("chip.core.neuron_updates_per_cycle");
    c.core.input_queue = s.get_int("chip.core.input_queue");
    c.noc.width = s.get_int("chip.noc.width");
    c.noc.height = s.get_int("chip.noc.height");
    c.noc.chips = s.get_int("chip.noc.chips");
    c.noc.buffer_depth = s.get_int("chip.noc.buffer_depth");
    c.noc.flit_bits = s.get_int("chip.noc.flit_bits");
    c.noc.pipeline_cycles = s.get_int("chip.noc.pipeline_cycles");
    c.noc.link_cycles = s.get_int("chip.noc.link_cycles");
    c.noc.inter_chip_link_cycles = s.get_int("chip.noc.inter_chip_link_cycles");
    c.noc.multicast = s.get_string("chip.noc.multicast");
    if ((c.noc.width == 0) != (c.noc.height == 0))
        throw ConfigError(s.where(c.noc.width == 0 ? "chip.noc.width" : "chip.noc.height") +
                          ": chip.noc.width and chip.noc.height must both be 0 (sized to fit) or both be set");
    // Virtual cut-through: a packet moves only into a buffer that holds all of it (docs/hardware-model.md).
    const int64_t flits = (32 + c.noc.flit_bits - 1) / c.noc.flit_bits;
    if (c.noc.buffer_depth < flits)
        throw ConfigError(fmt::format("{}: chip.noc.buffer_depth {} cannot hold one {}-flit AER packet (32 bits at "
                                      "chip.noc.flit_bits {}); buffers must hold a whole packet",
                                      s.where("chip.noc.buffer_depth"), c.noc.buffer_depth, flits, c.noc.flit_bits));
    if (c.core.input_queue < flits)
        throw ConfigError(fmt::format("{}: chip.core.input_queue {} cannot hold one {}-flit AER packet (32 bits at "
                                      "chip.noc.flit_bits {})",
                                      s.where("chip.core.input_queue"), c.core.input_queue, flits, c.noc.flit_bits));
    if (c.noc.width == 0 && c.noc.chips != 1)
        throw ConfigError(s.where("chip.noc.chips") +
                          ": chip.noc.chips other than 1 needs a fixed chip.noc.width and chip.noc.height");
    return c;
}

int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons) {
    return (neurons + chip.core.neurons - 1) / chip.core.neurons;
}

const char* to_string(BiasStorage b) { return b == BiasStorage::Register ? "register" : "synapse"; }

}  // namespace neuroemu
