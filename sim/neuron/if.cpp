// The `if` neuron: integrate-and-fire without leak, v_n = v_{n-1} + I_n, reset by subtracting the threshold, to
// zero or to v_reset (as the model's `reset` says): the neuron whose firing rate approximates a ReLU (paper §3.1),
// and NIR's IF (which has no time constant: every framework steps it once per step, so dt does not enter).
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/isa.h"
#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

class IntegrateAndFire final : public NeuronModel {
public:
    int64_t step(const NeuronLayer& layer, int32_t* fired) const override {
        // NIR's variants (reset to a value, fire above the threshold, synaptic input apart): the general loop. The
        // converted S-ResNet keeps its fast paths below, unchanged.
        if (layer.input || !layer.spiking || layer.fire_above || layer.reset == ResetMode::ToValue)
            return step_general(layer, fired);
#if defined(__x86_64__)
        // The same add, compare and subtract per neuron as step_scalar: the same bits (common/isa.h).
        if (layer.channels % 16 == 0 && layer.uniform_threshold && active_isa() == Isa::Avx512)
            return step_avx512(layer, fired);
#endif
        return step_scalar(layer, fired);
    }

    bool separate_input() const override { return false; }

private:
    static int64_t step_general(const NeuronLayer& layer, int32_t* fired) {
        float* __restrict v = layer.v;
        const float* __restrict in = layer.input;
        const float* __restrict cst = layer.current;
        const float* th = layer.threshold;
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; ++c, ++k) {
                v[k] += (in ? in[k] : 0.0f) + cst[c];
                if (layer.spiking && crosses(v[k], th[c], layer.fire_above)) {
                    v[k] = after_spike(v[k], th[c], layer.reset, layer.v_reset ? layer.v_reset[c] : 0.0f);
                    fired[n++] = static_cast<int32_t>(k);
                }
            }
        return n;
    }

    static int64_t step_scalar(const NeuronLayer& layer, int32_t* fired) {
        float* __restrict v = layer.v;
        const float* __restrict cst = layer.current;
        const float* th = layer.threshold;
        const bool subtract = layer.reset == ResetMode::Subtract;
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; ++c, ++k) {
                v[k] += cst[c];
                if (v[k] >= th[c]) {
                    v[k] = subtract ? v[k] - th[c] : 0.0f;
                    fired[n++] = static_cast<int32_t>(k);
                }
            }
        return n;
    }

#if defined(__x86_64__)
    // Sixteen neurons at a time, without a branch on whether any fired (which the predictor cannot guess at the
    // firing rates of a converted net): integrate, compare, reset under the spike mask, and append the spiking
    // neurons' indices with a compress.
    __attribute__((target("avx512f"))) static int64_t step_avx512(const NeuronLayer& layer, int32_t* fired) {
        float* __restrict v = layer.v;
        const float* __restrict cst = layer.current;
        const bool subtract = layer.reset == ResetMode::Subtract;
        const __m512 t = _mm512_set1_ps(layer.threshold[0]);
        const __m512 reset_to = subtract ? t : _mm512_setzero_ps();
        const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        int64_t n = 0;
        for (int64_t p = 0, k = 0; p < layer.pixels; ++p, cst += layer.current_stride)
            for (int64_t c = 0; c < layer.channels; c += 16, k += 16) {
                __m512 sum = _mm512_add_ps(_mm512_loadu_ps(v + k), _mm512_loadu_ps(cst + c));
                const __mmask16 m = _mm512_cmp_ps_mask(sum, t, _CMP_GE_OQ);
                sum = subtract ? _mm512_mask_sub_ps(sum, m, sum, reset_to) : _mm512_mask_mov_ps(sum, m, reset_to);
                _mm512_storeu_ps(v + k, sum);
                const __m512i index = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(k)));
                _mm512_storeu_si512(fired + n, _mm512_maskz_compress_epi32(m, index));
                n += __builtin_popcount(m);
            }
        return n;
    }
#endif
};

}  // namespace

void register_if(Family<NeuronModel>& family) {
    family.add({"if", "integrate-and-fire without leak, v += I (NIR IF); reset by subtraction, to zero or to v_reset; "
                      "parameters: threshold, bias, v_reset.", {}},
               [](const Settings&) { return std::make_unique<IntegrateAndFire>(); });
}

}  // namespace neuroemu
