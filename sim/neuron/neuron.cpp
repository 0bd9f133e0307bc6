#include "sim/neuron/neuron.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "common/error.h"

namespace neuroemu {

// The built-in implementations (one file each, a model and its non-firing readout together); see
// common/registry.h for why they are registered by calls.
void register_if(Family<NeuronModel>& family);
void register_lif(Family<NeuronModel>& family);
void register_cuba_lif(Family<NeuronModel>& family);
void register_threshold(Family<NeuronModel>& family);

Family<NeuronModel>& neuron_models() {
    static Family<NeuronModel> family(
        "neuron", "",
        "Neuron model of a population of the spiking engine (fixed by the model: `if` for a converted S-ResNet, "
        "NIR's models for an imported graph; docs/neuron-models.md).");
    static const bool builtins =
        (register_if(family), register_lif(family), register_cuba_lif(family), register_threshold(family), true);
    (void)builtins;
    return family;
}

std::vector<float> neuron_param(const std::vector<float>& values, const Population& pop, const char* name,
                                float fallback, const std::string& where) {
    const int64_t channels = pop.channels();
    if (values.empty() && std::isnan(fallback))
        throw ModelError(fmt::format("{}: neuron model '{}' needs {} (one value, or one per channel)", where,
                                     pop.neuron.model, name));
    if (values.size() > 1 && static_cast<int64_t>(values.size()) != channels)
        throw ModelError(fmt::format("{}: {} has {} values, expected 1 or one per channel ({})", where, name,
                                     values.size(), channels));
    std::vector<float> out(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
        const float x = values.empty() ? fallback : values.size() == 1 ? values[0] : values[static_cast<size_t>(c)];
        if (!std::isfinite(x)) throw ModelError(fmt::format("{}: {} holds {}", where, name, x));
        out[static_cast<size_t>(c)] = x;
    }
    return out;
}

double neuron_dt_s(const SnnModel& model, const std::string& where) {
    if (!(model.dt_s > 0) || !std::isfinite(model.dt_s))
        throw ModelError(fmt::format("{}: neuron model needs the model's time step dt_s > 0 (seconds), got {}", where,
                                     model.dt_s));
    return model.dt_s;
}

}  // namespace neuroemu
