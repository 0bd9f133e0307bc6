// Neuron models of the functional spiking engine: the family `neuron` (one implementation per file in this
// folder; equations, parameters and units in docs/neuron-models.md). `if` is the neuron the conversion targets
// (paper §3.1); lif, li, cuba_lif, cuba_li and threshold are NIR's. The engine makes one instance per population
// (prepare() reads that population's parameters once) and calls step() once per population per time step over the
// whole population, so a model's inner loop stays free of virtual calls. Instances are read-only while stepping
// (one instance serves every worker thread).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/registry.h"
#include "model/snn.h"

namespace neuroemu {

// One population's neurons in one step, stored channel-minor ([H][W][C]) as the engine holds them.
struct NeuronLayer {
    int64_t pixels = 0, channels = 0;  // H x W, and C
    float* v = nullptr;                // membrane potential, pixels x channels
    float* i_syn = nullptr;            // synaptic current (models with state_updates() == 2), pixels x channels
    // This step's synaptic input per neuron (the weights of the spikes that arrived), for models whose
    // separate_input() is true; nullptr for `if`, whose synaptic input the engine has already added to `v`.
    const float* input = nullptr;
    const float* current = nullptr;    // this step's constant input current (bias, or the analog input)
    int64_t current_stride = 0;        // advance of `current` per pixel: channels (per neuron) or 0 (per channel)
    const float* threshold = nullptr;  // per channel
    bool uniform_threshold = false;    // every channel's threshold is threshold[0]
    ResetMode reset = ResetMode::Subtract;  // as the model asks
    const float* v_reset = nullptr;    // per channel: the potential after a spike under ResetMode::ToValue
    bool fire_above = false;           // fire at v > threshold (NIR) rather than v >= threshold
    bool spiking = true;               // false: a readout, which integrates and never fires
};

class NeuronModel {
public:
    virtual ~NeuronModel() = default;
    // Reads and checks the parameters of population `pop` of `model` (ModelError naming `where`, the parameter and
    // what was expected) and precomputes what step() needs. Called once, before any step.
    virtual void prepare(const Population& pop, const SnnModel& model, const std::string& where) {
        (void)pop, (void)model, (void)where;
    }
    // Integrates this step's input (synaptic + constant current), fires every neuron that crosses its threshold
    // (at most once per step, never when !layer.spiking) and resets it. Writes the indices of the neurons that
    // fired, ascending, to `fired` (room for pixels x channels + 16) and returns how many.
    virtual int64_t step(const NeuronLayer& layer, int32_t* fired) const = 0;
    // State variables updated per neuron per step (the energy model counts neuron updates by it): 1 for if, lif,
    // li and threshold (v), 2 for cuba_lif and cuba_li (the synaptic current and v).
    virtual int state_updates() const { return 1; }
    // True when the synaptic input must reach step() in NeuronLayer::input rather than added to v beforehand.
    virtual bool separate_input() const { return true; }
};

Family<NeuronModel>& neuron_models();
inline const char* const kDefaultNeuronModel = "if";

// A per-channel parameter of `pop` (NeuronParams: empty, one value or one per channel) expanded to one value per
// channel: `fallback` when empty, ModelError naming `where` and `name` when empty and `required` (fallback NaN),
// of another size, or not finite.
std::vector<float> neuron_param(const std::vector<float>& values, const Population& pop, const char* name,
                                 float fallback, const std::string& where);

// The time step in seconds of a time-continuous model: ModelError naming `where` unless dt_s > 0.
double neuron_dt_s(const SnnModel& model, const std::string& where);

// Whether potential v crosses threshold th: v > th (fire_above, NIR's H(v - th) with H(0) = 0) or v >= th.
inline bool crosses(float v, float th, bool fire_above) { return fire_above ? v > th : v >= th; }

// The potential after a spike at v.
inline float after_spike(float v, float th, ResetMode mode, float v_reset) {
    return mode == ResetMode::Subtract ? v - th : mode == ResetMode::Zero ? 0.0f : v_reset;
}

}  // namespace neuroemu
