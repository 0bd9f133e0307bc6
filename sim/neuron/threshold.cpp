// `threshold` (NIR's Threshold, z = H(I - theta)): stateless, v_n = I_n (this step's synaptic input plus bias); fires
// when v_n crosses the threshold (v > theta under fire_above, NIR's H(0) = 0). No reset: the next step overwrites v.
#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

class Threshold final : public NeuronModel {
public:
    int64_t step(const NeuronLayer& layer, int32_t* fired) const override {
        float* __restrict v = layer.v;
        const float* __restrict in = layer.input;
        const float* __restrict cst = layer.current;
        const float* th = layer.threshold;
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; ++c, ++k) {
                v[k] = in[k] + cst[c];
                if (layer.spiking && crosses(v[k], th[c], layer.fire_above)) fired[n++] = static_cast<int32_t>(k);
            }
        return n;
    }
};

}  // namespace

void register_threshold(Family<NeuronModel>& family) {
    family.add({"threshold",
                "stateless threshold (NIR Threshold): v = I each step, a spike when v crosses the threshold; "
                "parameters: threshold, bias.",
                {}},
               [](const Settings&) { return std::make_unique<Threshold>(); });
}

}  // namespace neuroemu
