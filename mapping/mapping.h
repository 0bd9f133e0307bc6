// The mapper: partitions an S-ResNet (model/snn.h) across neuromorphic cores (arch/chip_spec.h), places the cores
// on a 2-D mesh network-on-chip and builds the multicast routes. docs/mapping.md describes the method,
// docs/mapping-format.md the file that `neuroemu simulate` loads.
//
// Pipeline: build_map_graph (units and their input patterns, fan-in splitting) -> partition (tiles -> cores)
// -> connect (which cores each core's spikes reach) -> place (mesh positions) -> route (tables, link loads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "arch/chip_spec.h"
#include "model/network.h"
#include "model/snn.h"

namespace neuroemu {

// A network that cannot be placed on the chip as configured: names the layer and the binding resource.
class MappingError : public Error {
public:
    using Error::Error;
};

// What occupies one neuron slot of a core.
enum class UnitKind {
    Neuron,   // a spiking IF neuron
    Readout,  // the non-spiking output layer (membrane read by the host)
    Gate,     // max pooling by spike gating: counts its window's input spikes, forwards the leader's
    Current,  // max pooling before the neuron: collects a step's input current, sends it as one graded event
    Partial,  // a partial-sum unit: integrates a slice of a neuron's inputs, sends the sum to the neuron
};

// How a layer's units read a source layer.
enum class InputPattern {
    Conv,      // every target channel reads every source channel in [c0, c1) through the window
    Window,    // channel-wise window (average / max pooling, spike gates): target channel c reads source c
    OneToOne,  // target (c, y, x) reads source (c, y, x) (identity shortcut, partial sum -> neuron)
    Dense,     // every target reads every source neuron of channels [c0, c1) (fully connected)
    Explicit,  // the synapses listed in UnitInput::synapses (a Sparse projection), from source channels [c0, c1)
};

// The synapses of an Explicit input in compressed rows: source unit s (flat [C][H][W] index of the source layer)
// reaches target units target[ptr[s] .. ptr[s+1]) (flat [C][H][W] of the target layer; ascending, each once).
struct ExplicitSynapses {
    std::vector<int32_t> ptr;     // size: source units + 1, ptr[0] = 0, non-decreasing
    std::vector<int32_t> target;  // size: ptr.back()
    bool operator==(const ExplicitSynapses& o) const { return ptr == o.ptr && target == o.target; }
};

struct UnitInput {
    int source = -1;          // index into MapGraph::layers; kHostSource = the input image, sent by the host
    InputPattern pattern = InputPattern::Conv;
    Window2d window;          // Conv, Window
    int64_t c0 = 0, c1 = 0;   // source channels read
    int64_t fan_in = 0;       // distinct inputs of the most-connected target unit from this source
    std::string projection;   // the SNN projection it implements ("" for a partial sum's link to its neuron)
    // A recurrent projection: its events of tick t are integrated for tick t + 1, so the target does not wait
    // for this source within a tick and the source may be the target itself or a later layer. A partial-sum
    // layer's recurrent slice is summed within the tick (it waits for its source) and its link to the neuron is
    // then recurrent.
    bool recurrent = false;
    std::shared_ptr<const ExplicitSynapses> synapses;  // Explicit: the whole projection's (shared by its slices)
};

constexpr int kHostSource = -1;

// A block of units laid out as [channels][height][width] (a vector is [n][1][1]).
struct MapLayer {
    std::string name;         // population name; partial groups append "/partial<k>"
    UnitKind kind = UnitKind::Neuron;
    int population = -1;      // the SNN population it implements
    int part = -1;            // partial-sum group k, or -1
    int64_t channels = 1, height = 1, width = 1;
    std::vector<UnitInput> inputs;
    bool bias = false;        // a constant bias current per unit
    double rate = 0;          // spikes (or graded events) each unit sends per time step
    // Filled by partition():
    int64_t tile_c = 0, tile_h = 0, tile_w = 0;  // a core holds up to tile_c x tile_h x tile_w units
    int64_t tiles_c = 0, tiles_h = 0, tiles_w = 0;
    int64_t first_core = 0, cores = 0;           // its cores are [first_core, first_core + cores), c-major
    std::string binding;      // what bounds its cores: "neurons", "synapses" or "fan-in"

    int64_t units() const { return channels * height * width; }
};

struct MapGraph {
    std::string model;
    std::vector<MapLayer> layers;  // topological order
    int64_t host_channels = 0, host_height = 0, host_width = 0;  // the input image
    double host_rate = 0;          // events per pixel per step sent by the host
};

// One core: a rectangular slice of one layer.
struct Core {
    int layer = -1;
    int64_t c0 = 0, c1 = 0, y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    int64_t units = 0;            // neuron slots used
    int64_t synapses = 0;         // synapse memory entries (with bias entries when biases are synapses)
    int64_t max_fan_in = 0;       // inputs of its most-connected unit
    double packets_per_step = 0;  // events it sends per time step (estimate or measurement)
    int32_t x = -1, y = -1;       // mesh position (global coordinates over all chips)
};

// The mesh: chips_x x chips_y chips of chip_width x chip_height cores; global coordinates x in [0, width()).
struct Mesh {
    int32_t chip_width = 0, chip_height = 0;
    int32_t chips_x = 1, chips_y = 1;
    int32_t width() const { return chip_width * chips_x; }
    int32_t height() const { return chip_height * chips_y; }
    int64_t routers() const { return int64_t{width()} * height(); }
    int32_t chip_of(int32_t x, int32_t y) const { return (y / chip_height) * chips_x + x / chip_width; }
};

// Destination cores of every source (compressed rows): source s sends to dest[offset[s] .. offset[s+1]).
// Sources are the cores, then the host (index cores.size()), which injects at Mapping::host_x/host_y.
struct Destinations {
    std::vector<int64_t> offset;  // size sources + 1
    std::vector<int32_t> dest;    // sorted, distinct per source
    int64_t sources() const { return static_cast<int64_t>(offset.size()) - 1; }
};

struct Mapping {
    std::string model;
    ChipSpec chip;
    MapGraph graph;
    std::vector<Core> cores;
    Destinations routes;        // sources: cores, then the host
    std::vector<double> source_packets;  // packets per step of each source (cores, then the host)
    Mesh mesh;
    int32_t host_x = 0, host_y = 0;  // the router where host input enters (a port on the mesh edge)
};

enum class FanInStrategy {
    Split,  // neurons above the fan-in limit get partial-sum units, each taking a slice of the input channels
    Fail,   // report "does not fit" naming the layer
};

class Placement;

struct MapOptions {
    FanInStrategy fan_in = FanInStrategy::Split;
    double estimated_rate = 0.05;  // spikes per neuron per step where no measurement is given
    int refine_passes = 4;         // placement improvement passes after the start
    std::shared_ptr<const Placement> placement;  // the start (mapping/placement/); null: kDefaultPlacement
};

// Units and their inputs for `m`, with partial-sum units where a neuron's fan-in exceeds the chip's. Rates
// start at options.estimated_rate (graded units: once per step). Throws MappingError (fan-in, FanInStrategy::Fail
// or a single input channel beyond the limit).
MapGraph build_map_graph(const SnnModel& model, const ChipSpec& chip, const MapOptions& options);

// Sets each layer's rate from measured spikes per neuron per step of the SNN populations (by index; a negative
// entry keeps the estimate). Partial-sum and current units send one event per step.
void set_measured_rates(MapGraph& graph, const std::vector<double>& population_rates);

// Chooses each layer's tile (fewest cores, then least inter-core traffic) and lists the cores. Throws
// MappingError when one unit alone exceeds a core's synapse memory.
std::vector<Core> partition(MapGraph& graph, const ChipSpec& chip);

// Destination cores of every core and of the host, and the packets per step each source sends.
void connect(Mapping& mapping);

// Mesh size from the chip spec and the core count; throws MappingError when a fixed mesh is too small.
Mesh size_mesh(const ChipSpec& chip, int64_t cores);

// Positions for every core minimising sum(packets x hops) (see placement.h); deterministic.
void place(Mapping& mapping, const MapOptions& options);

// Wall time of the mapping stages, for reports.
struct MapTimes {
    double partition_s = 0, connect_s = 0, place_s = 0;
};

// Everything: graph, partition, connect, mesh, place. Rates: options.estimated_rate unless `population_rates` is
// given (see set_measured_rates); `host_rate` >= 0 replaces the host's estimate.
Mapping map_network(const SnnModel& model, const ChipSpec& chip, const MapOptions& options,
                    const std::vector<double>* population_rates = nullptr, double host_rate = -1,
                    MapTimes* times = nullptr);

// The targets that source unit (c, y, x) of layer `source` (kHostSource: an input pixel) reaches in core `core`
// of layer `target`, as a box of the target layer: channels [c0, c1) x rows [y0, y1) x columns [x0, x1), one box
// per input of the target reading that source. Each target in a box reads the source through exactly one
// synapse, so the synapses reached are the boxes' volumes (`projection`: which input; "" for partial sums).
struct TargetBox {
    int64_t c0 = 0, c1 = 0, y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    const UnitInput* input = nullptr;
    int64_t volume() const { return (c1 - c0) * (y1 - y0) * (x1 - x0); }
};
// Appends the non-empty boxes to `out` (not cleared).
void target_boxes(const MapGraph& graph, int target, const Core& core, int source, int64_t c, int64_t y, int64_t x,
                  std::vector<TargetBox>& out);

// The core holding unit (c, y, x) of layer `layer`.
int64_t core_of(const MapLayer& layer, int64_t c, int64_t y, int64_t x);

const char* to_string(UnitKind k);
const char* to_string(InputPattern p);

}  // namespace neuroemu
