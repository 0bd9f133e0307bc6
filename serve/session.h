// The emulated chip behind `neuroemu serve`: a converted S-ResNet and its mapping, stepped one tick at a time with
// the input spikes received for that tick (sim/snn_engine.h: SnnStepper), optionally with the SystemC chip model
// alongside (hw/chip_model.h) adding each tick's cycles, packets and latency. No networking here: the server
// (serve/server.h) owns one Session and calls it from its engine thread only (a Session is not thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "model/snn.h"

namespace neuroemu::serve {

// One input event of a tick: the input neuron at flat index `index` of the input population in [C][H][W] order
// (c * H * W + y * W + x, PyTorch's flattening) spikes `count` times in that tick.
struct InputSpike {
    int32_t index = 0;
    uint16_t count = 1;
};

struct SessionOptions {
    std::string config;    // the experiment YAML (model, chip, simulation settings)
    std::string snn_file;  // a converted model (`neuroemu convert`); empty: converted from the config
    std::vector<std::string> set;  // --set KEY=VALUE overrides applied to the config
    bool chip = false;     // run the SystemC chip model alongside (one per process: SystemC cannot re-elaborate)
    // Populations whose spikes are published each tick, by name; empty: the output population, or when it is a
    // non-spiking readout, the spiking populations that feed it (the readout's potentials go out per sample).
    std::vector<std::string> published;
    int verbosity = 0;
};

struct PopulationInfo {
    std::string name;
    std::string kind;             // "input", "if", "max_gate", "current"
    std::vector<int64_t> shape;   // [C, H, W] or [N]
    int64_t size = 0;
};

// What one tick did.
struct TickResult {
    int64_t tick = 0;          // the session's tick, 1-based since the server started (never reset)
    int64_t step = 0;          // the network's step since its last reset, 1-based
    int64_t input_spikes = 0;  // input spikes consumed (counts summed)
    std::vector<int64_t> population_spikes;       // per population (model order), this tick
    // Per published population (SessionOptions::published order): the units that spiked, flat [C][H][W] indices,
    // ascending (a unit spiking twice in a tick does not happen: IF neurons fire at most once per step).
    std::vector<std::vector<int32_t>> published_spikes;
    int64_t sops = 0;          // synaptic operations this tick (engine count)
    int64_t decision = -1;     // the readout's decision after this tick (argmax, as `evaluate` decides)
    std::vector<float> readout;  // the output population's membrane potentials (spike counts when it fires)
    std::vector<int64_t> core_spikes;  // per core of the mapping: spikes of the units it holds, this tick
    // With the chip model (SessionOptions::chip):
    bool chip = false;
    int64_t cycles = 0, packets = 0, latency_sum_cycles = 0, latency_max_cycles = 0, deliveries = 0;
    double engine_seconds = 0;  // wall time of the engine's step (+ the chip model's)
};

class Session {
public:
    // Loads the config (ConfigError naming the file and key), converts or reads the model, maps it onto the
    // config's chip (a model that does not fit is served without core activity: cores() == 0, fit_error()).
    static std::unique_ptr<Session> load(const SessionOptions& options);
    virtual ~Session() = default;

    virtual const SnnModel& model() const = 0;
    virtual const std::vector<PopulationInfo>& populations() const = 0;  // model order; [0] is the input
    virtual const std::vector<int>& published() const = 0;               // population indices published
    virtual int64_t input_size() const = 0;                              // C * H * W
    virtual int64_t classes() const = 0;                                 // the output population's size
    virtual int64_t cores() const = 0;                                   // cores of the mapping (0: no mapping)
    virtual int32_t mesh_width() const = 0;                              // the mapping's mesh (cores laid out)
    virtual int32_t mesh_height() const = 0;
    virtual std::vector<std::array<int32_t, 2>> core_xy() const = 0;     // per core: its mesh (x, y)
    virtual std::string fit_error() const = 0;
    virtual const Settings& settings() const = 0;

    // Membranes to their initial value, spike counts to zero: the next tick is step 1.
    virtual void reset() = 0;
    // Runs one tick with `input` (any order, indices checked by the caller: in [0, input_size())); the result
    // stays valid until the next call. A network at step 65535 (the engine's counts are 16-bit) is reset first.
    virtual const TickResult& step(const std::vector<InputSpike>& input) = 0;
    virtual int64_t tick() const = 0;  // ticks run so far
    virtual int64_t step_in_window() const = 0;  // steps since the last reset
};

}  // namespace neuroemu::serve
