// Neuron models of the functional spiking engine: the family `neuron` (one implementation per file in this
// folder). Today integrate-and-fire (`if`), the neuron the conversion targets (paper §3.1). The engine resolves
// the model once and calls it once per population per time step over the whole population, so a model's inner
// loop stays free of virtual calls.
#pragma once

#include <cstdint>

#include "common/registry.h"
#include "model/snn.h"

namespace neuroemu {

// One population's neurons in one step, stored channel-minor ([H][W][C]) as the engine holds them.
struct NeuronLayer {
    int64_t pixels = 0, channels = 0;  // H x W, and C
    float* v = nullptr;                // membrane potential, pixels x channels
    const float* current = nullptr;    // this step's constant input current (bias, or the analog input)
    int64_t current_stride = 0;        // advance of `current` per pixel: channels (per neuron) or 0 (per channel)
    const float* threshold = nullptr;  // per channel
    bool uniform_threshold = false;    // every channel's threshold is threshold[0]
    ResetMode reset = ResetMode::Subtract;  // as the converted model asks
};

class NeuronModel {
public:
    virtual ~NeuronModel() = default;
    // Adds the constant current, fires every neuron that crosses its threshold (at most once per step) and
    // resets it. Writes the indices of the neurons that fired, ascending, to `fired` (room for pixels x
    // channels + 16) and returns how many. Synaptic input has already been added to `v`.
    virtual int64_t step(const NeuronLayer& layer, int32_t* fired) const = 0;
};

Family<NeuronModel>& neuron_models();
inline const char* const kDefaultNeuronModel = "if";

}  // namespace neuroemu
