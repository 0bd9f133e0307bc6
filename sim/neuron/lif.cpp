// `lif` (NIR's LIF: tau_mem dv/dt = (v_leak - v) + r I) and `li`, its non-firing readout (NIR's LI), discretised at
// the model's dt_s. Both discretisations are one linear update v_n = alpha v_{n-1} + beta I_n + gamma per channel,
// the coefficients computed once in double (docs/neuron-models.md):
//   Euler (snnTorch's Leaky, Norse's LIFBox):  alpha = 1 - dt/tau, beta = r dt/tau, gamma = v_leak dt/tau
//   Exact (zero-order hold of I_n over the step): alpha = e^{-dt/tau}, beta = r (1 - alpha), gamma = v_leak (1 - alpha)
// then fire and reset as `if`.
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

class LeakyIntegrateAndFire final : public NeuronModel {
public:
    explicit LeakyIntegrateAndFire(bool fires) : fires_(fires) {}

    void prepare(const Population& pop, const SnnModel& model, const std::string& where) override {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const double dt = neuron_dt_s(model, where);
        const auto tau = neuron_param(pop.neuron.tau_mem_s, pop, "tau_mem_s", nan, where);
        const auto r = neuron_param(pop.neuron.r, pop, "r", 1.0f, where);
        const auto leak = neuron_param(pop.neuron.v_leak, pop, "v_leak", 0.0f, where);
        alpha_.resize(tau.size()), beta_.resize(tau.size()), gamma_.resize(tau.size());
        for (size_t c = 0; c < tau.size(); ++c) {
            if (!(tau[c] > 0)) throw ModelError(where + ": tau_mem_s must be > 0 (seconds), got " + std::to_string(tau[c]));
            const double a = model.discretisation == Discretisation::Exact ? std::exp(-dt / tau[c]) : 1.0 - dt / tau[c];
            alpha_[c] = static_cast<float>(a);
            beta_[c] = static_cast<float>(r[c] * (1.0 - a));
            gamma_[c] = static_cast<float>(leak[c] * (1.0 - a));
        }
    }

    int64_t step(const NeuronLayer& layer, int32_t* fired) const override {
        float* __restrict v = layer.v;
        const float* __restrict in = layer.input;
        const float* __restrict cst = layer.current;
        const float *a = alpha_.data(), *b = beta_.data(), *g = gamma_.data(), *th = layer.threshold;
        const bool fires = fires_ && layer.spiking;
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; ++c, ++k) {
                float x = a[c] * v[k] + b[c] * (in[k] + cst[c]) + g[c];
                if (fires && crosses(x, th[c], layer.fire_above)) {
                    x = after_spike(x, th[c], layer.reset, layer.v_reset[c]);
                    fired[n++] = static_cast<int32_t>(k);
                }
                v[k] = x;
            }
        return n;
    }

private:
    bool fires_;
    std::vector<float> alpha_, beta_, gamma_;  // per channel
};

}  // namespace

void register_lif(Family<NeuronModel>& family) {
    family.add({"lif",
                "leaky integrate-and-fire (NIR LIF), tau_mem dv/dt = v_leak - v + r I at dt_s, Euler or exact; "
                "parameters: tau_mem_s, r, v_leak, threshold, v_reset, bias.",
                {}},
               [](const Settings&) { return std::make_unique<LeakyIntegrateAndFire>(true); });
    family.add({"li",
                "leaky integrator readout (NIR LI): lif without firing; parameters: tau_mem_s, r, v_leak, bias.", {}},
               [](const Settings&) { return std::make_unique<LeakyIntegrateAndFire>(false); });
}

}  // namespace neuroemu
