// `cuba_lif` (NIR's CubaLIF: tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + r I) and `cuba_li`, its
// non-firing readout (NIR's CubaLI), stepped by forward Euler at the model's dt_s with the synaptic current first,
// as snnTorch's Synaptic (whose exported time constants this reproduces exactly) and Norse step them:
//   I_n = a_syn I_{n-1} + b_syn S_n,              a_syn = 1 - dt/tau_syn, b_syn = w_in dt/tau_syn
//   v_n = a_mem v_{n-1} + b_mem I_n + g_mem,      a_mem = 1 - dt/tau_mem, b_mem = r dt/tau_mem, g_mem = v_leak dt/tau_mem
// S_n is this step's input (the weights of the spikes that arrived, plus the bias). v fires and resets as `if`;
// I is not reset. The exact discretisation is not implemented (docs/neuron-models.md).
#include <cmath>
#include <limits>
#include <string>

#include "common/error.h"
#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

class CurrentBasedLif final : public NeuronModel {
public:
    explicit CurrentBasedLif(bool fires) : fires_(fires) {}

    void prepare(const Population& pop, const SnnModel& model, const std::string& where) override {
        if (model.discretisation != Discretisation::Euler)
            throw ModelError(where + ": neuron model '" + pop.neuron.model +
                             "': exact discretisation is implemented for lif and li; use euler");
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const double dt = neuron_dt_s(model, where);
        const auto tau_mem = neuron_param(pop.neuron.tau_mem_s, pop, "tau_mem_s", nan, where);
        const auto tau_syn = neuron_param(pop.neuron.tau_syn_s, pop, "tau_syn_s", nan, where);
        const auto r = neuron_param(pop.neuron.r, pop, "r", 1.0f, where);
        const auto leak = neuron_param(pop.neuron.v_leak, pop, "v_leak", 0.0f, where);
        const auto w_in = neuron_param(pop.neuron.w_in, pop, "w_in", 1.0f, where);
        const size_t n = tau_mem.size();
        a_syn_.resize(n), b_syn_.resize(n), a_mem_.resize(n), b_mem_.resize(n), g_mem_.resize(n);
        for (size_t c = 0; c < n; ++c) {
            if (!(tau_mem[c] > 0) || !(tau_syn[c] > 0))
                throw ModelError(where + ": tau_mem_s and tau_syn_s must be > 0 (seconds), got " +
                                 std::to_string(tau_mem[c]) + " and " + std::to_string(tau_syn[c]));
            const double ks = dt / tau_syn[c], km = dt / tau_mem[c];
            a_syn_[c] = static_cast<float>(1.0 - ks), b_syn_[c] = static_cast<float>(w_in[c] * ks);
            a_mem_[c] = static_cast<float>(1.0 - km), b_mem_[c] = static_cast<float>(r[c] * km);
            g_mem_[c] = static_cast<float>(leak[c] * km);
        }
    }

    int64_t step(const NeuronLayer& layer, int32_t* fired) const override {
        float* __restrict v = layer.v;
        float* __restrict i_syn = layer.i_syn;
        const float* __restrict in = layer.input;
        const float* __restrict cst = layer.current;
        const float *th = layer.threshold, *as = a_syn_.data(), *bs = b_syn_.data(), *am = a_mem_.data(),
                    *bm = b_mem_.data(), *gm = g_mem_.data();
        const bool fires = fires_ && layer.spiking;
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; ++c, ++k) {
                const float i = as[c] * i_syn[k] + bs[c] * (in[k] + cst[c]);
                float x = am[c] * v[k] + bm[c] * i + gm[c];
                if (fires && crosses(x, th[c], layer.fire_above)) {
                    x = after_spike(x, th[c], layer.reset, layer.v_reset[c]);
                    fired[n++] = static_cast<int32_t>(k);
                }
                i_syn[k] = i;
                v[k] = x;
            }
        return n;
    }

    int state_updates() const override { return 2; }

private:
    bool fires_;
    std::vector<float> a_syn_, b_syn_, a_mem_, b_mem_, g_mem_;  // per channel
};

}  // namespace

void register_cuba_lif(Family<NeuronModel>& family) {
    family.add({"cuba_lif",
                "current-based LIF (NIR CubaLIF): synaptic current then membrane, forward Euler at dt_s; "
                "parameters: tau_syn_s, tau_mem_s, r, v_leak, w_in, threshold, v_reset, bias.",
                {}},
               [](const Settings&) { return std::make_unique<CurrentBasedLif>(true); });
    family.add({"cuba_li",
                "current-based leaky integrator readout (NIR CubaLI): cuba_lif without firing; parameters: tau_syn_s, "
                "tau_mem_s, r, v_leak, w_in, bias.",
                {}},
               [](const Settings&) { return std::make_unique<CurrentBasedLif>(false); });
}

}  // namespace neuroemu
