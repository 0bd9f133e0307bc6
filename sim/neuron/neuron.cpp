#include "sim/neuron/neuron.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_if(Family<NeuronModel>& family);

Family<NeuronModel>& neuron_models() {
    static Family<NeuronModel> family(
        "neuron", "", "Neuron model of the spiking engine (fixed by the conversion; no key selects it yet).");
    static const bool builtins = (register_if(family), true);
    (void)builtins;
    return family;
}

}  // namespace neuroemu
