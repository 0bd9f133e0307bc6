// The `chip` section: the neuromorphic chip the S-ResNet is placed on (cores, network-on-chip, clock). Parsed
// into a plain spec here; the mapper and the SystemC model are built from this spec. Every field is declared
// once, in arch/chip_fields.h, which derives the configuration keys, the parsing and the `.map` file's chip
// header from that declaration; the defaults are the member initialisers below.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/enum_words.h"
#include "common/config.h"

namespace neuroemu {

// How a neuron's constant bias current is held.
enum class BiasStorage {
    Register,  // a per-neuron bias register, outside synapse memory (Loihi compartments)
    Synapse,   // one synapse entry and one input per neuron, driven every step by a core-local source (ROLLS)
};
inline constexpr EnumWord<BiasStorage> kBiasStorageWords[] = {{BiasStorage::Register, "register"},
                                                               {BiasStorage::Synapse, "synapse"}};

// An AER event on the network is one neuron address of this many bits (docs/hardware-model.md).
constexpr int64_t kAerEventBits = 32;

struct CoreSpec {
    int64_t neurons = 256;        // ROLLS: 256 silicon neurons per core
    int64_t synapses = 131072;    // synapse memory entries (ROLLS: 256x256 plastic + 256x256 non-plastic)
    int64_t fan_in = 512;         // distinct inputs one neuron can have (ROLLS: 256 + 256)
    int64_t weight_bits = 8;      // bits per synapse entry (memory size in the report)
    bool weight_sharing = false;  // convolution kernels stored once per core rather than per neuron
    BiasStorage bias = BiasStorage::Synapse;
    int64_t sops_per_cycle = 256;          // synaptic operations the core's engine performs per cycle
    int64_t neuron_updates_per_cycle = 256;  // neurons updated (leak/threshold/fire) per cycle at the tick's end
    int64_t input_queue = 16;              // event queue between the router and the synapse engine, flits
};

struct NocSpec {
    int64_t width = 0, height = 0;  // cores per chip along x and y; 0 = sized to hold the mapped network
    int64_t chips = 1;              // chips joined by inter-chip links in a near-square grid; 0 = as many as needed
    int64_t buffer_depth = 4;       // input buffer per router port, flits
    int64_t flit_bits = 32;         // flit (and link) width, bits
    int64_t pipeline_cycles = 3;    // router pipeline delay per hop, cycles
    int64_t link_cycles = 1;        // link traversal per flit, cycles
    int64_t inter_chip_link_cycles = 20;  // chip-to-chip link traversal per flit, cycles
    std::string multicast = "tree";  // how a spike reaches several cores: a name in router/multicast/

    // Flits that carry one AER event: ceil(kAerEventBits / flit_bits).
    int64_t flits_per_event() const { return (kAerEventBits + flit_bits - 1) / flit_bits; }
};

struct ChipSpec {
    std::string name = "rolls";
    CoreSpec core;
    NocSpec noc;
    double clock_hz = 100e6;  // routers and synaptic-operation engines
};

// The `chip.*` keys, one per field of chip_fields().
std::vector<ParamSpec> chip_params();
// Every field from `settings`, then the checks across fields; throws ConfigError for inconsistent NoC sizes.
ChipSpec chip_spec(const Settings& settings);

// Cores needed to hold `neurons`, counting neurons only (the mapper's fan-in and synapse limits only add).
int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons);

const char* to_string(BiasStorage b);

}  // namespace neuroemu
