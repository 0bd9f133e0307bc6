#include "sim/snn_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "common/error.h"
#include "common/isa.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "sim/ann_engine.h"
#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

// Neuron state is stored channel-minor ([H][W][C]) so that one spike's conv synapses onto one target pixel
// are a contiguous run over output channels. Spikes are indices in that order.
struct Geometry {
    int64_t c = 1, h = 1, w = 1;
    int64_t size() const { return c * h * w; }
};
Geometry geometry(const std::vector<int64_t>& shape) {
    return shape.size() == 3 ? Geometry{shape[0], shape[1], shape[2]} : Geometry{shape[0], 1, 1};
}

// A spike: the neuron's index in [H][W][C] order and its coordinates.
struct Spike {
    int32_t index, y, x, c;
};

// The spikes of one population in one step. Sized once for the whole population, so adding a spike is a few
// plain stores (no reallocation check, no temporary).
class SpikeList {
public:
    void reserve(size_t n) {
        if (buf_.size() < n) buf_.resize(n);
    }
    void clear() { n_ = 0; }
    void add(int64_t index, int64_t y, int64_t x, int64_t c) {
        Spike& s = buf_[n_++];
        s.index = static_cast<int32_t>(index), s.y = static_cast<int32_t>(y), s.x = static_cast<int32_t>(x),
        s.c = static_cast<int32_t>(c);
    }
    void add(const Spike& s) { buf_[n_++] = s; }
    size_t size() const { return n_; }
    Spike* begin() { return buf_.data(); }
    Spike* end() { return buf_.data() + n_; }
    const Spike* begin() const { return buf_.data(); }
    const Spike* end() const { return buf_.data() + n_; }

private:
    std::vector<Spike> buf_;
    size_t n_ = 0;
};

// For a window sliding along one axis: per input position, the (output position, kernel offset) pairs whose
// window covers it. Built once, so the hot loops do no division.
struct AxisCover {
    std::vector<int32_t> begin;   // per input position, into `out` / `k`; size in + 1
    std::vector<int32_t> out, k;
    AxisCover() = default;
    AxisCover(int64_t in, int kernel, int stride, int pad, int64_t out_size) {
        for (int64_t i = 0; i < in; ++i) {
            begin.push_back(static_cast<int32_t>(out.size()));
            for (int kk = 0; kk < kernel; ++kk) {
                const int64_t n = i + pad - kk;
                if (n < 0 || n % stride != 0 || n / stride >= out_size) continue;
                out.push_back(static_cast<int32_t>(n / stride));
                k.push_back(kk);
            }
        }
        begin.push_back(static_cast<int32_t>(out.size()));
    }
};

struct WindowCover {
    AxisCover rows, cols;
    WindowCover() = default;
    WindowCover(const Window2d& w, const Geometry& src, const Geometry& dst)
        : rows(src.h, w.kernel_h, w.stride_h, w.pad_top, dst.h), cols(src.w, w.kernel_w, w.stride_w, w.pad_left, dst.w) {}
    // fn(oy, ky, ox, kx) for every window position covering (y, x).
    template <typename Fn>
    void each(int32_t y, int32_t x, Fn&& fn) const {
        for (int32_t r = rows.begin[static_cast<size_t>(y)]; r < rows.begin[static_cast<size_t>(y) + 1]; ++r)
            for (int32_t c = cols.begin[static_cast<size_t>(x)]; c < cols.begin[static_cast<size_t>(x) + 1]; ++c)
                fn(rows.out[static_cast<size_t>(r)], rows.k[static_cast<size_t>(r)], cols.out[static_cast<size_t>(c)],
                   cols.k[static_cast<size_t>(c)]);
    }
};

struct ProjPlan {
    ProjectionKind kind;
    int source, target;
    Geometry src, dst;
    Window2d win;
    WindowCover cover;            // Conv, AvgPool
    std::vector<float> w;         // Conv [ci][ky][kx][co]; Linear [in, CHW order][out]; Identity, AvgPool [c]
    std::vector<float> inv_area;  // AvgPool: 1 / divisor per output pixel
    std::vector<PoolWindow> rect; // MaxPool: the clipped input rectangle per output pixel
    // Sparse: source neuron j ([H][W][C]) reaches targets sp_tgt[k] ([H][W][C]) with weight w[k] for k in
    // [sp_ptr[j], sp_ptr[j + 1]): the model's [C][H][W] synapses re-indexed once.
    std::vector<int32_t> sp_ptr, sp_tgt;
    bool recurrent = false;       // reads the source's spikes of the previous step
};

// Max pooling before the neuron: each target neuron gets w[c] x the largest current in its window of the source
// (a Current population, whose potentials hold this step's input). No spike travels, so no SOPs.
void max_pool_currents(const ProjPlan& p, const float* __restrict src, float* __restrict v) {
    const int64_t channels = p.dst.c;
    for (int64_t o = 0; o < p.dst.h * p.dst.w; ++o) {
        const PoolWindow& r = p.rect[static_cast<size_t>(o)];
        float* __restrict t = v + o * channels;
        for (int64_t c = 0; c < channels; ++c) {
            float best = -std::numeric_limits<float>::infinity();
            for (int64_t y = r.y0; y < r.y1; ++y)
                for (int64_t x = r.x0; x < r.x1; ++x) best = std::max(best, src[(y * p.src.w + x) * channels + c]);
            t[c] += p.w[static_cast<size_t>(c)] * best;
        }
    }
}

// t[0, n) += value * w[0, n)
inline void axpy(float* __restrict t, const float* __restrict w, float value, int64_t n) {
    for (int64_t i = 0; i < n; ++i) t[i] += value * w[i];
}

// Adds `value` x the synapses of source neuron s onto `v`; returns the synapses reached.
int64_t scatter(const ProjPlan& p, const Spike& s, float value, float* __restrict v) {
    switch (p.kind) {
        case ProjectionKind::Conv: {
            int64_t reached = 0;
            const int64_t co_n = p.dst.c, kh = p.win.kernel_h, kw = p.win.kernel_w;
            const float* wc = p.w.data() + s.c * kh * kw * co_n;
            p.cover.each(s.y, s.x, [&](int32_t oy, int32_t ky, int32_t ox, int32_t kx) {
                axpy(v + (oy * p.dst.w + ox) * co_n, wc + (ky * kw + kx) * co_n, value, co_n);
                reached += co_n;
            });
            return reached;
        }
        case ProjectionKind::Identity:
            v[s.index] += value * p.w[static_cast<size_t>(s.c)];
            return 1;
        case ProjectionKind::AvgPool: {
            int64_t reached = 0;
            const float wc = value * p.w[static_cast<size_t>(s.c)];
            p.cover.each(s.y, s.x, [&](int32_t oy, int32_t, int32_t ox, int32_t) {
                v[(oy * p.dst.w + ox) * p.dst.c + s.c] += wc * p.inv_area[static_cast<size_t>(oy * p.dst.w + ox)];
                ++reached;
            });
            return reached;
        }
        case ProjectionKind::MaxPool:
            break;  // reads currents, never spikes: max_pool_currents()
        case ProjectionKind::Linear: {
            const int64_t f = s.c * p.src.h * p.src.w + s.y * p.src.w + s.x, outs = p.dst.size();
            axpy(v, p.w.data() + f * outs, value, outs);
            return outs;
        }
        case ProjectionKind::Sparse: {
            const int32_t k0 = p.sp_ptr[static_cast<size_t>(s.index)], k1 = p.sp_ptr[static_cast<size_t>(s.index) + 1];
            for (int32_t k = k0; k < k1; ++k) v[p.sp_tgt[static_cast<size_t>(k)]] += value * p.w[static_cast<size_t>(k)];
            return k1 - k0;
        }
    }
    return 0;
}

// scatter() of one spike under chip.faults: the targets `losses` says do not integrate it keep their membranes
// (saved and restored around the scatter, so the others get exactly scatter()'s sums); returns the synaptic
// operations the faulty chip performs. `lost` and `saved`: scratch.
int64_t scatter_lossy(const ProjPlan& p, int projection, const Spike& s, float value, float* __restrict v,
                      InputLosses& losses, std::vector<SpikeEvent>& lost, std::vector<float>& saved) {
    lost.clear();
    const int64_t missed = losses.lost(projection, {s.c, s.y, s.x}, lost);
    const auto at = [&p](const SpikeEvent& t) { return static_cast<size_t>((t.y * p.dst.w + t.x) * p.dst.c + t.c); };
    saved.resize(lost.size());
    for (size_t i = 0; i < lost.size(); ++i) saved[i] = v[at(lost[i])];
    const int64_t reached = scatter(p, s, value, v);
    for (size_t i = 0; i < lost.size(); ++i) v[at(lost[i])] = saved[i];
    return reached - missed;
}

// Explicit vectors (GCC/Clang vector extension) of V floats, so the conv kernel vectorises whatever the compiler
// proves about aliasing. V follows the instruction set the kernel is compiled for (run-time dispatch below); every
// lane does the same adds in the same order whatever V, so all widths give the same bits.
template <int V>
struct VecOf {
    typedef float type __attribute__((vector_size(V * sizeof(float)), aligned(alignof(float)), may_alias));
};

// Output channels per pass of the conv kernel: with AVX-512, 9 x 2 accumulators of 16 floats fit the 32
// registers.
template <int CO, int V>
constexpr int conv_pass_channels() {
    return V == 16 ? (CO < 32 ? CO : 32) : V;
}

// One source pixel of a stride-1 3x3 conv away from the border: sums the weights of its spikes [s, e) in
// registers, then adds the sums to the nine target rows at base + off[k].
template <int CO, int V>
__attribute__((always_inline)) inline void pixel3x3(const float* w, const Spike* s, const Spike* e,
                                                    float* __restrict base, const int64_t* off) {
    using VecF = typename VecOf<V>::type;
    constexpr int CH = conv_pass_channels<CO, V>(), U = CH / V;
    auto vec = [](const float* a) __attribute__((always_inline)) { return *reinterpret_cast<const VecF*>(a); };
    for (int c0 = 0; c0 < CO; c0 += CH) {
        VecF acc[9][U];
        const float* w0 = w + s->c * 9 * CO + c0;
#pragma GCC unroll 9
        for (int k = 0; k < 9; ++k)
#pragma GCC unroll 2
            for (int u = 0; u < U; ++u) acc[k][u] = vec(w0 + k * CO + u * V);
        for (const Spike* q = s + 1; q != e; ++q) {
            const float* wq = w + q->c * 9 * CO + c0;
#pragma GCC unroll 9
            for (int k = 0; k < 9; ++k)
#pragma GCC unroll 2
                for (int u = 0; u < U; ++u) acc[k][u] += vec(wq + k * CO + u * V);
        }
#pragma GCC unroll 9
        for (int k = 0; k < 9; ++k)
#pragma GCC unroll 2
            for (int u = 0; u < U; ++u) {
                float* t = base + off[k] + c0 + u * V;
                *reinterpret_cast<VecF*>(t) = vec(t) + acc[k][u];
            }
    }
}

// The hot path: every spike of one step through a conv projection with CO output channels known at compile
// time (unit spikes, so a plain add), the window cover read straight from its tables. Spikes arrive sorted by
// index, so the spikes of one source pixel are consecutive and reach the same target rows: their weights are
// summed in registers first and each target row is read and written once per pixel, not once per spike
// (which would also chain every spike's loads behind the previous spike's stores to the same rows).
// Always inlined into the per-instruction-set entry points below, which compile it for their target.
template <int CO, int V>
__attribute__((always_inline)) inline int64_t conv_spikes(const ProjPlan& p, const SpikeList& spikes,
                                                          float* __restrict v) {
    using VecF = typename VecOf<V>::type;
    constexpr int CH = conv_pass_channels<CO, V>(), U = CH / V;
    static_assert(CO % CH == 0, "whole passes");
    const int64_t kh = p.win.kernel_h, kw = p.win.kernel_w, dw = p.dst.w, kk = kh * kw;
    const int32_t* rb = p.cover.rows.begin.data();
    const int32_t* ro = p.cover.rows.out.data();
    const int32_t* rk = p.cover.rows.k.data();
    const int32_t* cb = p.cover.cols.begin.data();
    const int32_t* co = p.cover.cols.out.data();
    const int32_t* ck = p.cover.cols.k.data();
    const float* w = p.w.data();
    // Stride-1 3x3 kernels, pixels whose nine targets all exist: fixed offsets, no table walk.
    const bool fast3 = p.win.stride_h == 1 && p.win.stride_w == 1 && kh == 3 && kw == 3;
    int64_t off[9];
    for (int k = 0; k < 9; ++k) off[k] = ((p.win.pad_top - k / 3) * dw + (p.win.pad_left - k % 3)) * CO;
    const int32_t y_lo = 2 - p.win.pad_top, y_hi = static_cast<int32_t>(p.dst.h) - p.win.pad_top;  // y in [y_lo, y_hi)
    const int32_t x_lo = 2 - p.win.pad_left, x_hi = static_cast<int32_t>(dw) - p.win.pad_left;
    auto vec = [](const float* a) __attribute__((always_inline)) { return *reinterpret_cast<const VecF*>(a); };
    int64_t reached = 0;
    for (const Spike *s = spikes.begin(), *end = spikes.end(); s != end;) {
        const Spike* e = s + 1;
        while (e != end && e->y == s->y && e->x == s->x) ++e;  // [s, e): the spikes of one pixel
        if (fast3 && s->y >= y_lo && s->y < y_hi && s->x >= x_lo && s->x < x_hi) {
            pixel3x3<CO, V>(w, s, e, v + (s->y * dw + s->x) * CO, off);
            reached += 9 * CO * (e - s);
            s = e;
            continue;
        }
        const int32_t r0 = rb[s->y], r1 = rb[s->y + 1], c0 = cb[s->x], c1 = cb[s->x + 1];
        for (int32_t r = r0; r < r1; ++r)
            for (int32_t c = c0; c < c1; ++c) {
                float* __restrict t = v + (ro[r] * dw + co[c]) * CO;
                const int64_t k = rk[r] * kw + ck[c];
                for (int ch = 0; ch < CO; ch += CH) {
                    VecF acc[U];
                    const float* w0 = w + (s->c * kk + k) * CO + ch;
                    for (int u = 0; u < U; ++u) acc[u] = vec(w0 + u * V);
                    for (const Spike* q = s + 1; q != e; ++q) {
                        const float* wq = w + (q->c * kk + k) * CO + ch;
                        for (int u = 0; u < U; ++u) acc[u] += vec(wq + u * V);
                    }
                    for (int u = 0; u < U; ++u)
                        *reinterpret_cast<VecF*>(t + ch + u * V) = vec(t + ch + u * V) + acc[u];
                }
            }
        reached += static_cast<int64_t>(r1 - r0) * (c1 - c0) * CO * (e - s);
        s = e;
    }
    return reached;
}

// One entry point per instruction set (common/isa.h): the kernels above inlined and compiled for that target;
// -1 when CO has no kernel.
#define NEUROEMU_CONV_ENTRY(NAME, ATTRIBUTES, V)                                                       \
    ATTRIBUTES __attribute__((noinline)) int64_t NAME(const ProjPlan& p, const SpikeList& s, float* v) { \
        switch (p.dst.c) {                                                                             \
            case 16: return conv_spikes<16, V>(p, s, v);                                               \
            case 32: return conv_spikes<32, V>(p, s, v);                                               \
            case 64: return conv_spikes<64, V>(p, s, v);                                               \
            case 128: return conv_spikes<128, V>(p, s, v);                                             \
            default: return -1;                                                                        \
        }                                                                                              \
    }
NEUROEMU_CONV_ENTRY(conv_spikes_generic, , 8)
#if defined(__x86_64__)
NEUROEMU_CONV_ENTRY(conv_spikes_avx2, __attribute__((target("avx2"))), 8)
NEUROEMU_CONV_ENTRY(conv_spikes_avx512, __attribute__((target("avx512f"))), 16)
#endif
#undef NEUROEMU_CONV_ENTRY

int64_t conv_spikes_dispatch(const ProjPlan& p, const SpikeList& spikes, float* v) {
#if defined(__x86_64__)
    switch (active_isa()) {
        case Isa::Avx512: return conv_spikes_avx512(p, spikes, v);
        case Isa::Avx2: return conv_spikes_avx2(p, spikes, v);
        case Isa::Generic: break;
    }
#endif
    return conv_spikes_generic(p, spikes, v);
}

// All spikes of one step through projection p; returns the synapses reached (SOPs).
int64_t scatter_spikes(const ProjPlan& p, const SpikeList& spikes, float* __restrict v) {
    if (p.kind == ProjectionKind::Conv) {
        const int64_t reached = conv_spikes_dispatch(p, spikes, v);
        if (reached >= 0) return reached;
    }
    if (p.kind == ProjectionKind::Identity) {
        const float* w = p.w.data();
        for (const Spike& s : spikes) v[s.index] += w[s.c];
        return static_cast<int64_t>(spikes.size());
    }
    int64_t reached = 0;
    for (const Spike& s : spikes) reached += scatter(p, s, 1.0f, v);
    return reached;
}

Spike spike_at(const Geometry& g, int64_t j) {
    const int64_t pix = j / g.c;
    return {static_cast<int32_t>(j), static_cast<int32_t>(pix / g.w), static_cast<int32_t>(pix % g.w),
            static_cast<int32_t>(j % g.c)};
}

// Spikes so far per neuron. 16 bits keep the counts of every population in cache beside the potentials (the
// counts are updated every step); evaluate() refuses more steps than a count can hold.
using SpikeCount = uint16_t;
static_assert(kMaxSnnSteps <= std::numeric_limits<SpikeCount>::max(), "a count must hold one spike per step");

// Per-thread simulation state, reused image after image.
struct State {
    std::vector<std::vector<float>> v;          // membrane potential per population
    std::vector<std::vector<SpikeCount>> count;  // spikes so far per neuron
    std::vector<SpikeList> fired;               // neurons that spiked this step
    std::vector<SpikeList> prev;                // sources of recurrent projections: their spikes of the last step
    std::vector<std::vector<float>> syn_in;     // models with separate input: this step's synaptic input
    std::vector<std::vector<float>> i_syn;      // cuba models: the synaptic current
    ProbeTrace probe;                           // SnnOptions::probes, when this worker simulates probe_image
    std::vector<int32_t> fired_index;           // scratch: the indices of one sweep's spikes (+ one vector)
    std::vector<int32_t> input_spikes;          // scratch: the input neurons spiking this step
    std::vector<SpikeEvent> events;             // scratch: spikes handed to an observer
    InputLosses* losses = nullptr;              // SnnOptions::losses
    std::vector<SpikeEvent> lost;               // scratch of scatter_lossy
    std::vector<float> saved;                   // scratch of scatter_lossy
    std::vector<std::vector<float>> constant;   // bias + constant input current, per neuron
    std::vector<float> input;                   // this image, [H][W][C]
    std::vector<float> ann_logits;
    std::vector<std::vector<float>> ann_act;    // ANN activation per population (HWC), when measured
    // Totals over this worker's images:
    std::vector<int64_t> correct;
    std::vector<int64_t> spikes, proj_sops;
    std::vector<int32_t> max_count;
    std::vector<ExactSum> local_err, acc_err, acc_err_max, abs_err;  // per-image values, summed exactly
    int64_t ann_correct = 0, input_macs = 0;
};

template <class T>
int64_t bytes_of(const std::vector<T>& v) {
    return static_cast<int64_t>(v.capacity() * sizeof(T));
}
template <class T>
int64_t bytes_of(const std::vector<std::vector<T>>& vv) {
    int64_t sum = static_cast<int64_t>(vv.capacity() * sizeof(std::vector<T>));
    for (const auto& v : vv) sum += bytes_of(v);
    return sum;
}

// What one worker holds while it simulates (membranes, counts, spike lists, currents, scratch).
int64_t state_bytes(const State& st) {
    return bytes_of(st.v) + bytes_of(st.count) + bytes_of(st.fired) + bytes_of(st.prev) + bytes_of(st.syn_in) +
           bytes_of(st.i_syn) + bytes_of(st.fired_index) +
           bytes_of(st.input_spikes) + bytes_of(st.events) + bytes_of(st.constant) + bytes_of(st.input) +
           bytes_of(st.ann_logits) + bytes_of(st.ann_act) + bytes_of(st.correct) + bytes_of(st.spikes) +
           bytes_of(st.proj_sops) + bytes_of(st.max_count) + 4 * bytes_of(st.local_err);
}

}  // namespace

struct SnnEngine::PreparedModel {
    SnnModel model;
    std::vector<Geometry> geo;
    std::vector<ProjPlan> proj;
    std::vector<std::vector<int>> inputs;        // per population: projection indices
    std::vector<std::vector<float>> threshold;   // per population, per channel
    std::vector<std::vector<float>> lambda;      // per population, per channel
    std::vector<WindowCover> gate_cover;         // per population (MaxGate only)
    std::vector<char> uniform_threshold;         // per population: one threshold for all channels
    std::vector<std::vector<float>> bias;        // per population, per channel (zeros without bias)
    std::vector<std::vector<std::array<int32_t, 2>>> pixel_yx;  // per population: pixel -> (y, x)
    std::vector<char> fed_by_input;              // per population: has a projection from the input
    std::vector<char> recurrent_source;          // per population: a recurrent projection reads its spikes
    std::vector<std::unique_ptr<NeuronModel>> neuron;  // per population (IF and Current kinds; else null)
    std::vector<std::vector<float>> v_reset;     // per population, per channel (ResetMode::ToValue)

    explicit PreparedModel(const SnnModel& snn) : model(snn) {
        validate(model, "model '" + model.name + "'");
        const size_t n = model.populations.size();
        inputs.resize(n);
        fed_by_input.assign(n, 0);
        recurrent_source.assign(n, 0);
        neuron.resize(n);
        v_reset.resize(n);
        for (size_t i = 0; i < n; ++i) {
            const Population& p = model.populations[i];
            geo.push_back(geometry(p.shape));
            if (p.kind == PopulationKind::IF || p.kind == PopulationKind::Current) {
                const std::string where = fmt::format("model '{}': population {} '{}'", model.name, i, p.name);
                const std::string name = p.kind == PopulationKind::IF ? p.neuron.model : kDefaultNeuronModel;
                if (!neuron_models().has(name))
                    throw ModelError(where + ": " + neuron_models().unknown(name));
                neuron[i] = neuron_models().make(name);
                neuron[i]->prepare(p, model, where);
                v_reset[i] = neuron_param(p.neuron.v_reset, p, "v_reset", 0.0f, where);
            }
            auto expand = [&](const std::vector<float>& v, float fallback) {
                std::vector<float> out(static_cast<size_t>(geo.back().c));
                for (int64_t c = 0; c < geo.back().c; ++c)
                    out[static_cast<size_t>(c)] = v.empty() ? fallback : v.size() == 1 ? v[0] : v[static_cast<size_t>(c)];
                return out;
            };
            threshold.push_back(expand(p.threshold, 1.0f));
            bias.push_back(expand(p.bias, 0.0f));
            lambda.push_back(expand(p.lambda, 1.0f));
            pixel_yx.emplace_back();
            for (int64_t y = 0; y < geo.back().h; ++y)
                for (int64_t x = 0; x < geo.back().w; ++x)
                    pixel_yx.back().push_back({static_cast<int32_t>(y), static_cast<int32_t>(x)});
            uniform_threshold.push_back(std::all_of(threshold.back().begin(), threshold.back().end(),
                                                    [&](float t) { return t == threshold.back()[0]; }));
            gate_cover.emplace_back();
            if (p.kind == PopulationKind::MaxGate)
                gate_cover.back() = WindowCover(p.gate_window, geo[static_cast<size_t>(p.gate_source)], geo.back());
        }
        for (size_t k = 0; k < model.projections.size(); ++k) {
            const Projection& s = model.projections[k];
            ProjPlan p{s.kind, s.source, s.target, geo[static_cast<size_t>(s.source)], geo[static_cast<size_t>(s.target)], s.window, {}, {}, {}, {}, {}, {}, false};
            p.recurrent = s.recurrent;
            if (s.recurrent) recurrent_source[static_cast<size_t>(s.source)] = 1;
            if (s.kind == ProjectionKind::Conv || s.kind == ProjectionKind::AvgPool) p.cover = WindowCover(s.window, p.src, p.dst);
            if (s.kind == ProjectionKind::Conv) {
                const int64_t co_n = s.weight.shape[0], ci_n = s.weight.shape[1], kk = s.weight.shape[2] * s.weight.shape[3];
                p.w.resize(s.weight.data.size());
                for (int64_t co = 0; co < co_n; ++co)
                    for (int64_t ci = 0; ci < ci_n; ++ci)
                        for (int64_t k2 = 0; k2 < kk; ++k2)
                            p.w[static_cast<size_t>((ci * kk + k2) * co_n + co)] = s.weight.data[static_cast<size_t>((co * ci_n + ci) * kk + k2)];
            } else if (s.kind == ProjectionKind::Linear) {
                const int64_t outs = s.weight.shape[0], ins = s.weight.shape[1];
                p.w.resize(s.weight.data.size());
                for (int64_t o = 0; o < outs; ++o)
                    for (int64_t f = 0; f < ins; ++f)
                        p.w[static_cast<size_t>(f * outs + o)] = s.weight.data[static_cast<size_t>(o * ins + f)];
            } else if (s.kind == ProjectionKind::Sparse) {
                reindex_sparse(s, k, p);
            } else {
                p.w = s.weight.data;
            }
            if (s.kind == ProjectionKind::MaxPool)
                for (int64_t oy = 0; oy < p.dst.h; ++oy)
                    for (int64_t ox = 0; ox < p.dst.w; ++ox)
                        p.rect.push_back(pool_window(s.window, p.src.h, p.src.w, oy, ox, false));
            if (s.kind == ProjectionKind::AvgPool) {
                for (int64_t oy = 0; oy < p.dst.h; ++oy)
                    for (int64_t ox = 0; ox < p.dst.w; ++ox)
                        p.inv_area.push_back(
                            1.0f / static_cast<float>(pool_window(s.window, p.src.h, p.src.w, oy, ox, s.count_include_pad).divisor));
            }
            inputs[static_cast<size_t>(s.target)].push_back(static_cast<int>(k));
            if (s.source == 0) fed_by_input[static_cast<size_t>(s.target)] = 1;
            proj.push_back(std::move(p));
        }
    }

    // The model's [C][H][W] sparse synapses as the engine's [H][W][C] CSR; ModelError for an index out of range.
    void reindex_sparse(const Projection& s, size_t k, ProjPlan& p) const {
        const std::string who = fmt::format("model '{}': projection {} '{}'", model.name, k, s.name);
        const int64_t src_hw = p.src.h * p.src.w, dst_hw = p.dst.h * p.dst.w, nnz = static_cast<int64_t>(s.sparse_target.size());
        p.sp_ptr.assign(1, 0);
        p.sp_tgt.reserve(s.sparse_target.size()), p.w.reserve(s.sparse_target.size());
        for (int64_t j = 0; j < p.src.size(); ++j) {  // [H][W][C]
            const int64_t chw = (j % p.src.c) * src_hw + j / p.src.c;
            const int32_t k0 = s.sparse_ptr[static_cast<size_t>(chw)], k1 = s.sparse_ptr[static_cast<size_t>(chw) + 1];
            if (k0 < 0 || k1 < k0 || k1 > nnz)
                throw ModelError(fmt::format("{}: sparse_ptr of source neuron {} is [{}, {}), outside [0, {}]", who, chw,
                                             k0, k1, nnz));
            for (int32_t q = k0; q < k1; ++q) {
                const int32_t t = s.sparse_target[static_cast<size_t>(q)];
                if (t < 0 || t >= p.dst.size())
                    throw ModelError(fmt::format("{}: sparse_target[{}] = {} is outside the target's {} neurons", who, q,
                                                 t, p.dst.size()));
                p.sp_tgt.push_back(static_cast<int32_t>((t % dst_hw) * p.dst.c + t / dst_hw));
                p.w.push_back(s.weight.data[static_cast<size_t>(q)]);
            }
            p.sp_ptr.push_back(static_cast<int32_t>(p.sp_tgt.size()));
        }
    }
    // Appends the probes' values after the step just run to `trace`.
    void record_probes(const State& st, ProbeTrace& trace) const;
    // Neuron `neuron` ([C][H][W]) of population `pop` as an [H][W][C] index; ConfigError naming `what` when either
    // is out of range or the population has no membrane (the input).
    int64_t probe_index(int pop, int64_t neuron, const std::string& what) const;

    void simulate(const ImageSet& set, int64_t image, const InputNormalisation& norm, const SnnOptions& options,
                  const AnnEngine* ann, const std::vector<int>& ann_layer_of_pop, State& st) const;
    // Every population to its state before step 1: membranes at v_init x threshold, counts zero, the bias as
    // constant current (the caller adds constant input currents).
    void reset(State& st) const;
    // Step t (1-based) of every population, in order, the input neurons in st.input_spikes ([H][W][C] indices,
    // ascending, repeats spike repeatedly) spiking; returns the readout's decision. The one implementation of a
    // step: evaluate() and SnnStepper both run it.
    int64_t step(int64_t image, int64_t t, bool constant_input, SpikeObserver* observer, State& st) const;
    // Sizes a worker's state for this model and `steps` steps.
    void init_state(State& st, int64_t steps) const;
    void max_gate(int pop, State& st) const;
    // Hands one population's spikes of this step to the observer, as [c][y][x] positions.
    void observe(SpikeObserver& obs, int64_t image, int64_t step, int pop, const SpikeList& fired, State& st) const {
        st.events.resize(fired.size());
        size_t k = 0;
        for (const Spike& sp : fired) st.events[k++] = {sp.c, sp.y, sp.x};
        obs.spikes(image, step, pop, st.events.data(), st.events.size());
    }
    void fire(int pop, State& st, bool per_neuron_constant) const;
    int64_t decide(State& st) const;
    // SnnOptions::losses: tells it the events `pop` sends in this step.
    void report_sent(int pop, const SpikeList& fired, State& st) const {
        st.events.resize(fired.size());
        size_t k = 0;
        for (const Spike& sp : fired) st.events[k++] = {sp.c, sp.y, sp.x};
        st.losses->sent(pop, st.events.data(), st.events.size());
    }
    // All spikes of one step through projection k, as scatter_spikes(), under st.losses when set.
    int64_t integrate(int k, const SpikeList& spikes, float* __restrict v, State& st) const {
        const ProjPlan& p = proj[static_cast<size_t>(k)];
        if (!st.losses) return scatter_spikes(p, spikes, v);
        int64_t reached = 0;
        for (const Spike& s : spikes) reached += scatter_lossy(p, k, s, 1.0f, v, *st.losses, st.lost, st.saved);
        return reached;
    }
    // The constant-current input through its projections, once per image (under st.losses: integrated as the
    // host's events of step 1).
    void constant_input_current(int64_t image, State& st) const;
};

SnnEngine::SnnEngine(const SnnModel& model) : prepared_(std::make_unique<PreparedModel>(model)) {}
SnnEngine::~SnnEngine() = default;
const SnnModel& SnnEngine::model() const { return prepared_->model; }

// Lets through the spikes of each window's most active source neuron so far (counts include this step; ties go
// to the first in raster order). Each window passes at most one spike per step.
void SnnEngine::PreparedModel::max_gate(int pop, State& st) const {
    const Population& p = model.populations[static_cast<size_t>(pop)];
    const Geometry& g = geo[static_cast<size_t>(pop)];
    const Geometry& s = geo[static_cast<size_t>(p.gate_source)];
    const auto& counts = st.count[static_cast<size_t>(p.gate_source)];
    auto& out = st.fired[static_cast<size_t>(pop)];
    out.clear();
    const Window2d& w = p.gate_window;
    const WindowCover& cover = gate_cover[static_cast<size_t>(pop)];
    for (const Spike& sp : st.fired[static_cast<size_t>(p.gate_source)]) {
        cover.each(sp.y, sp.x, [&](int32_t oy, int32_t, int32_t ox, int32_t) {
            const PoolWindow pw = pool_window(w, s.h, s.w, oy, ox, false);
            int64_t best = -1;
            int32_t best_count = -1;  // below any count
            for (int64_t yy = pw.y0; yy < pw.y1; ++yy)
                for (int64_t xx = pw.x0; xx < pw.x1; ++xx) {
                    const int64_t k = (yy * s.w + xx) * s.c + sp.c;
                    if (counts[static_cast<size_t>(k)] > best_count) best_count = counts[static_cast<size_t>(k)], best = k;
                }
            if (best == sp.index) out.add((oy * g.w + ox) * g.c + sp.c, oy, ox, sp.c);
        });
    }
    std::sort(out.begin(), out.end(), [](const Spike& a, const Spike& b) { return a.index < b.index; });
    for (const Spike& k : out) ++st.count[static_cast<size_t>(pop)][static_cast<size_t>(k.index)];
}

// The neuron model's step over one population, then its spikes counted and listed with their coordinates (the
// model returns them in index order, [H][W][C]).
void SnnEngine::PreparedModel::fire(int pop, State& st, bool per_neuron_constant) const {
    const size_t i = static_cast<size_t>(pop);
    const Geometry g = geo[i];
    NeuronLayer layer;
    layer.pixels = g.h * g.w, layer.channels = g.c;
    layer.v = st.v[i].data();
    // The constant current: per neuron when the analog input feeds this population, else the bias per channel.
    layer.current = per_neuron_constant ? st.constant[i].data() : bias[i].data();
    layer.current_stride = per_neuron_constant ? g.c : 0;
    layer.threshold = threshold[i].data();
    layer.uniform_threshold = uniform_threshold[i];
    layer.reset = model.reset;
    const NeuronModel& nm = *neuron[i];
    if (nm.separate_input()) layer.input = st.syn_in[i].data();
    if (nm.state_updates() > 1) layer.i_syn = st.i_syn[i].data();
    layer.v_reset = v_reset[i].data();
    layer.fire_above = model.fire_above;
    layer.spiking = model.populations[i].spiking;
    const int32_t* idx = st.fired_index.data();
    const int64_t n = nm.step(layer, st.fired_index.data());
    SpikeCount* cnt = st.count[i].data();
    auto& fired = st.fired[i];
    const auto* yx = pixel_yx[i].data();
    const int32_t channels = static_cast<int32_t>(g.c);
    const bool pow2 = (channels & (channels - 1)) == 0;
    const int shift = __builtin_ctz(static_cast<unsigned>(channels));
    for (int64_t j = 0; j < n; ++j) {
        const int32_t k = idx[j];
        const int32_t pix = pow2 ? k >> shift : k / channels, c = k - pix * channels;
        ++cnt[k];
        fired.add(k, yx[pix][0], yx[pix][1], c);
    }
}

// The readout's decision: argmax of the membrane potential, or of the spike count with ties to the higher
// potential when the readout fires.
int64_t SnnEngine::PreparedModel::decide(State& st) const {
    const size_t out = static_cast<size_t>(model.output);
    const auto& v = st.v[out];
    const auto& cnt = st.count[out];
    const bool spiking = model.populations[out].spiking;
    int64_t best = 0;
    for (size_t k = 1; k < v.size(); ++k) {
        const bool better = spiking ? (cnt[k] > cnt[static_cast<size_t>(best)] ||
                                       (cnt[k] == cnt[static_cast<size_t>(best)] && v[k] > v[static_cast<size_t>(best)]))
                                    : v[k] > v[static_cast<size_t>(best)];
        if (better) best = static_cast<int64_t>(k);
    }
    return best;
}

void SnnEngine::PreparedModel::reset(State& st) const {
    st.count[0].assign(static_cast<size_t>(geo[0].size()), 0);
    st.prev[0].clear();
    for (size_t i = 1; i < model.populations.size(); ++i) {
        const Population& p = model.populations[i];
        const Geometry& g = geo[i];
        st.v[i].assign(static_cast<size_t>(g.size()), 0.0f);
        st.count[i].assign(static_cast<size_t>(g.size()), 0);
        st.fired[i].clear();
        st.constant[i].assign(static_cast<size_t>(g.size()), 0.0f);
        st.prev[i].clear();
        if (neuron[i] && neuron[i]->separate_input()) st.syn_in[i].assign(static_cast<size_t>(g.size()), 0.0f);
        if (neuron[i] && neuron[i]->state_updates() > 1) st.i_syn[i].assign(static_cast<size_t>(g.size()), 0.0f);
        if (p.kind != PopulationKind::IF && p.kind != PopulationKind::Current) continue;
        for (int64_t pix = 0, k = 0; pix < g.h * g.w; ++pix)
            for (int64_t c = 0; c < g.c; ++c, ++k) {
                st.v[i][static_cast<size_t>(k)] = model.v_init * threshold[i][static_cast<size_t>(c)];
                st.constant[i][static_cast<size_t>(k)] = bias[i][static_cast<size_t>(c)];
            }
    }
}

int64_t SnnEngine::PreparedModel::step(int64_t image, int64_t t, bool constant_input, SpikeObserver* observer,
                                       State& st) const {
    const size_t n = model.populations.size();
    if (st.losses) st.losses->begin_step(image, t);
    auto& in_fired = st.fired[0];
    in_fired.clear();
    for (int32_t j : st.input_spikes) {
        in_fired.add(spike_at(geo[0], j));
        ++st.count[0][static_cast<size_t>(j)];
    }
    st.spikes[0] += static_cast<int64_t>(in_fired.size());
    if (observer && in_fired.size()) observe(*observer, image, t, 0, in_fired, st);
    if (st.losses && in_fired.size()) report_sent(0, in_fired, st);
    for (size_t i = 1; i < n; ++i) {
        const Population& p = model.populations[i];
        if (p.kind == PopulationKind::MaxGate) {
            max_gate(static_cast<int>(i), st);
            if (observer) observe(*observer, image, t, static_cast<int>(i), st.fired[i], st);
            if (st.losses) report_sent(static_cast<int>(i), st.fired[i], st);
            continue;
        }
        float* __restrict v = st.v[i].data();
        const float* __restrict cst = st.constant[i].data();
        const int64_t size = geo[i].size();
        if (p.kind == PopulationKind::Current) std::fill(v, v + size, 0.0f);  // this step's current only
        // The synaptic input: added to v (`if`), or gathered apart for the model to integrate.
        const bool separate = neuron[i]->separate_input();
        float* __restrict syn = separate ? st.syn_in[i].data() : v;
        if (separate) std::fill(syn, syn + size, 0.0f);
        for (int k : inputs[i]) {
            const ProjPlan& pp = proj[static_cast<size_t>(k)];
            if (pp.source == 0 && constant_input) continue;
            if (pp.kind == ProjectionKind::MaxPool) {
                max_pool_currents(pp, st.v[static_cast<size_t>(pp.source)].data(), syn);
                continue;
            }
            const auto& src_spikes = pp.recurrent ? st.prev[static_cast<size_t>(pp.source)] : st.fired[static_cast<size_t>(pp.source)];
            const int64_t sops = integrate(k, src_spikes, syn, st);
            st.proj_sops[static_cast<size_t>(k)] += sops;
            if (observer) observer->projection_sops(image, t, k, sops);
        }
        auto& fired = st.fired[i];
        fired.clear();
        if (!p.spiking && !separate) {
            for (int64_t k = 0; k < size; ++k) v[k] += cst[k];
            continue;
        }
        fire(static_cast<int>(i), st, fed_by_input[i] && constant_input);
        if (!p.spiking) continue;
        st.spikes[i] += static_cast<int64_t>(fired.size());
        if (observer) observe(*observer, image, t, static_cast<int>(i), fired, st);
        if (st.losses) report_sent(static_cast<int>(i), fired, st);
    }
    if (st.losses) st.losses->end_step();
    // Recurrent projections read these in the next step (whether their source runs before or after the target).
    for (size_t i = 0; i < n; ++i)
        if (recurrent_source[i]) {
            st.prev[i].clear();
            st.prev[i].reserve(st.fired[i].size());  // the input: repeated indices may outnumber its neurons
            for (const Spike& sp : st.fired[i]) st.prev[i].add(sp);
        }
    return decide(st);
}

int64_t SnnEngine::PreparedModel::probe_index(int pop, int64_t neuron, const std::string& what) const {
    const int n = static_cast<int>(model.populations.size());
    if (pop < 1 || pop >= n)
        throw ConfigError(fmt::format("{}: population {} is not one of the model's populations 1..{} (the input, 0, "
                                      "has no membrane)", what, pop, n - 1));
    const Geometry& g = geo[static_cast<size_t>(pop)];
    if (neuron < 0 || neuron >= g.size())
        throw ConfigError(fmt::format("{}: neuron {} is outside population {} '{}' of {} neurons", what, neuron, pop,
                                      model.populations[static_cast<size_t>(pop)].name, g.size()));
    const int64_t hw = g.h * g.w;
    return (neuron % hw) * g.c + neuron / hw;
}

void SnnEngine::PreparedModel::record_probes(const State& st, ProbeTrace& trace) const {
    for (const ProbeSpec& pr : trace.probes) {
        const size_t i = static_cast<size_t>(pr.pop);
        const int64_t k = probe_index(pr.pop, pr.neuron, "probe");
        const SpikeList& fired = st.fired[i];
        const bool spiked = std::binary_search(fired.begin(), fired.end(), Spike{static_cast<int32_t>(k), 0, 0, 0},
                                               [](const Spike& a, const Spike& b) { return a.index < b.index; });
        trace.v.push_back(st.v[i][static_cast<size_t>(k)]);
        trace.i_syn.push_back(st.i_syn[i].empty() ? 0.0f : st.i_syn[i][static_cast<size_t>(k)]);
        trace.spiked.push_back(spiked && model.populations[i].spiking ? 1 : 0);
    }
}

void SnnEngine::PreparedModel::init_state(State& st, int64_t steps) const {
    const size_t n = model.populations.size();
    st.v.resize(n), st.count.resize(n), st.fired.resize(n), st.constant.resize(n), st.ann_act.resize(n);
    st.prev.resize(n), st.syn_in.resize(n), st.i_syn.resize(n);
    int64_t largest = 0;
    for (size_t i = 0; i < n; ++i) {
        st.fired[i].reserve(static_cast<size_t>(geo[i].size()));
        if (recurrent_source[i]) st.prev[i].reserve(static_cast<size_t>(geo[i].size()));
        largest = std::max(largest, geo[i].size());
    }
    st.fired_index.resize(static_cast<size_t>(largest + 16));
    st.correct.assign(static_cast<size_t>(steps), 0);
    st.spikes.assign(n, 0);
    st.max_count.assign(n, 0);
    st.proj_sops.assign(proj.size(), 0);
    st.local_err.assign(n, {}), st.acc_err.assign(n, {}), st.acc_err_max.assign(n, {}), st.abs_err.assign(n, {});
}

void SnnEngine::PreparedModel::simulate(const ImageSet& set, int64_t image, const InputNormalisation& norm,
                                        const SnnOptions& options, const AnnEngine* ann,
                                        const std::vector<int>& ann_layer_of_pop, State& st) const {
    const size_t n = model.populations.size();
    const Geometry& in = geo[0];
    // The image, [C][H][W] -> [H][W][C].
    std::vector<float> chw(static_cast<size_t>(in.size()));
    image_to_input(set, image, norm, chw.data());
    st.input.resize(chw.size());
    for (int64_t c = 0; c < in.c; ++c)
        for (int64_t p = 0; p < in.h * in.w; ++p) st.input[static_cast<size_t>(p * in.c + c)] = chw[static_cast<size_t>(c * in.h * in.w + p)];
    const InputEncoding& encoding = *options.encoding;
    const bool constant_input = encoding.constant_current();
    encoding.check(st.input, image);
    reset(st);
    st.losses = options.losses;
    if (constant_input) constant_input_current(image, st);
    // Seeded by the image's index in the dataset, not in this set: chunks and ranks see the same spikes.
    uint64_t rng = options.seed ^ (0xD1B54A32D192ED03ull * static_cast<uint64_t>(set.first + image + 1));
    const bool probing = !options.probes.empty() && image == options.probe_image;
    if (probing) st.probe.image = image;
    for (int64_t t = 1; t <= options.steps; ++t) {
        st.input_spikes.clear();
        encoding.spikes(st.input, rng, st.input_spikes);
        const bool hit = step(image, t, constant_input, options.observer, st) == set.labels[static_cast<size_t>(image)];
        if (probing) record_probes(st, st.probe);
        st.correct[static_cast<size_t>(t - 1)] += hit;
        if (options.observer) options.observer->step_done(image, t, hit);
    }
    for (size_t i = 0; i < n; ++i) {
        if (model.populations[i].kind == PopulationKind::MaxGate)
            st.spikes[i] += std::accumulate(st.count[i].begin(), st.count[i].end(), int64_t{0});
        if (!st.count[i].empty())
            st.max_count[i] = std::max<int32_t>(st.max_count[i], *std::max_element(st.count[i].begin(), st.count[i].end()));
    }
    if (!ann) return;
    // The ANN on the same image: its decision, and each population's propagation error (§3.3).
    ActivationTap tap;
    tap.layers.assign(static_cast<size_t>(*std::max_element(ann_layer_of_pop.begin(), ann_layer_of_pop.end()) + 1), 0);
    for (int l : ann_layer_of_pop)
        if (l >= 0) tap.layers[static_cast<size_t>(l)] = 1;
    tap.fn = [&](int, int64_t, int layer, const float* values) {
        for (size_t i = 1; i < n; ++i)
            if (ann_layer_of_pop[i] == layer) {
                const Geometry& g = geo[i];
                auto& a = st.ann_act[i];
                a.resize(static_cast<size_t>(g.size()));
                for (int64_t c = 0; c < g.c; ++c)
                    for (int64_t p = 0; p < g.h * g.w; ++p) a[static_cast<size_t>(p * g.c + c)] = values[c * g.h * g.w + p];
            }
    };
    st.ann_logits.resize(static_cast<size_t>(ann->output_size()));
    ann->forward(chw.data(), 1, st.ann_logits.data(), &tap);
    st.ann_correct += std::max_element(st.ann_logits.begin(), st.ann_logits.end()) - st.ann_logits.begin() ==
                      set.labels[static_cast<size_t>(image)];
    const double steps = static_cast<double>(options.steps);
    for (size_t i = 1; i < n; ++i) {
        const Population& p = model.populations[i];
        if (ann_layer_of_pop[i] < 0 || p.kind != PopulationKind::IF || !p.spiking) continue;
        const Geometry& g = geo[i];
        double local = 0, acc = 0, abs_err = 0, best_err = 0;
        int32_t best = -1;
        for (int64_t k = 0; k < g.size(); ++k) {
            const size_t ks = static_cast<size_t>(k), c = static_cast<size_t>(k % g.c);
            const double rate = st.count[i][ks] / steps;
            const double e = st.ann_act[i][ks] / lambda[i][c] - rate;
            local += st.v[i][ks] / threshold[i][c] / steps;
            acc += e;
            abs_err += std::fabs(e);
            if (st.count[i][ks] > best) best = st.count[i][ks], best_err = e;
        }
        const double size = static_cast<double>(g.size());
        st.local_err[i].add(local / size);
        st.acc_err[i].add(acc / size);
        st.abs_err[i].add(abs_err / size);
        st.acc_err_max[i].add(best_err);
    }
}

void SnnEngine::PreparedModel::constant_input_current(int64_t image, State& st) const {
    const Geometry& in = geo[0];
    if (st.losses) st.losses->begin_step(image, 1);
    for (size_t i = 1; i < model.populations.size(); ++i)
        for (int k : inputs[i]) {
            const ProjPlan& p = proj[static_cast<size_t>(k)];
            if (p.source != 0) continue;
            for (int64_t j = 0; j < in.size(); ++j) {
                const float value = st.input[static_cast<size_t>(j)];
                if (value == 0.0f) continue;
                st.input_macs += st.losses ? scatter_lossy(p, k, spike_at(in, j), value, st.constant[i].data(), *st.losses,
                                                           st.lost, st.saved)
                                           : scatter(p, spike_at(in, j), value, st.constant[i].data());
            }
        }
    if (!st.losses) return;
    SpikeList pixels;  // the host's events: the nonzero pixels
    pixels.reserve(static_cast<size_t>(in.size()));
    for (int64_t j = 0; j < in.size(); ++j)
        if (st.input[static_cast<size_t>(j)] != 0.0f) pixels.add(spike_at(in, j));
    report_sent(0, pixels, st);
}

SnnResult SnnEngine::evaluate(const ImageSet& set, const InputNormalisation& norm, const SnnOptions& options,
                              Progress* progress, const Network* ann) const {
    const PreparedModel& plan = *prepared_;
    if (options.steps < 1 || options.steps > kMaxSnnSteps)
        throw ConfigError(fmt::format("simulation steps must be in [1, {}], got {}", kMaxSnnSteps, options.steps));
    const auto& in_shape = plan.model.populations[0].shape;
    // An [N] input is N channels of one pixel, a [C, L] one C channels of a 1 x L row (as the synthetic reader makes).
    const std::vector<int64_t> as_image = in_shape.size() == 1   ? std::vector<int64_t>{in_shape[0], 1, 1}
                                          : in_shape.size() == 2 ? std::vector<int64_t>{in_shape[0], 1, in_shape[1]}
                                                                 : in_shape;
    if (as_image != std::vector<int64_t>{set.channels, set.height, set.width})
        throw DataError(fmt::format("the model expects input {}, the dataset's images are [{}, {}, {}]",
                                    shape_str(in_shape), set.channels, set.height, set.width));
    const int64_t classes = plan.model.populations[static_cast<size_t>(plan.model.output)].size();
    for (int64_t i = 0; i < set.count; ++i)
        if (set.labels[static_cast<size_t>(i)] >= classes)
            throw DataError(fmt::format("image {} has label {}, but the model has only {} outputs", i,
                                        set.labels[static_cast<size_t>(i)], classes));
    const size_t n = plan.model.populations.size();
    std::vector<int> ann_layer_of_pop(n, -1);
    std::unique_ptr<AnnEngine> ann_engine;
    if (ann) {
        std::map<std::string, int> by_name;
        for (int id = 0; id < ann->size(); ++id) by_name[ann->layer(id).name] = id;
        for (size_t i = 1; i < n; ++i) {
            const auto it = by_name.find(plan.model.populations[i].name);
            if (it != by_name.end() && ann->layer(it->second).shape == plan.model.populations[i].shape)
                ann_layer_of_pop[i] = it->second;
        }
        ann_engine = std::make_unique<AnnEngine>(*ann);
    }
    const int workers =
        options.observer || options.losses
            ? 1
            : static_cast<int>(std::min<int64_t>(resolve_threads(options.threads), std::max<int64_t>(1, set.count)));
    for (size_t k = 0; k < options.probes.size(); ++k)
        plan.probe_index(options.probes[k].pop, options.probes[k].neuron,
                         fmt::format("probe {} ({}:{})", k, options.probes[k].pop, options.probes[k].neuron));
    std::vector<State> states(static_cast<size_t>(workers));
    for (State& st : states) {
        plan.init_state(st, options.steps);
        st.probe.probes = options.probes;
    }
    const auto start = std::chrono::steady_clock::now();
    parallel_for(set.count, workers, [&](int64_t image, int worker) {
        plan.simulate(set, image, norm, options, ann_engine.get(), ann_layer_of_pop,
                      states[static_cast<size_t>(worker)]);
        if (progress) progress->advance(1);
    });
    SnnResult result;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.workers = workers;
    for (const State& st : states) result.worker_state_bytes = std::max(result.worker_state_bytes, state_bytes(st));
    for (const ProjPlan& p : plan.proj) result.weight_bytes += bytes_of(p.w) + bytes_of(p.inv_area) + bytes_of(p.rect);
    result.probe.probes = options.probes;
    for (State& st : states)
        if (st.probe.image >= 0) result.probe = std::move(st.probe);
    result.images = set.count;
    result.labelled = set.labelled;
    result.steps = options.steps;
    result.correct_at_step.assign(static_cast<size_t>(options.steps), 0);
    result.ann_correct = ann ? 0 : -1;
    std::vector<int64_t> spikes(n, 0), proj_sops(plan.proj.size(), 0);
    std::vector<int32_t> max_count(n, 0);
    std::vector<ExactSum> local(n), acc(n), acc_max(n), abs_err(n);
    for (const State& st : states) {
        for (size_t t = 0; t < result.correct_at_step.size(); ++t) result.correct_at_step[t] += st.correct[t];
        for (size_t i = 0; i < n; ++i) {
            spikes[i] += st.spikes[i];
            max_count[i] = std::max(max_count[i], st.max_count[i]);
            local[i].merge(st.local_err[i]), acc[i].merge(st.acc_err[i]), acc_max[i].merge(st.acc_err_max[i]);
            abs_err[i].merge(st.abs_err[i]);
        }
        for (size_t k = 0; k < proj_sops.size(); ++k) proj_sops[k] += st.proj_sops[k];
        if (ann) result.ann_correct += st.ann_correct;
        result.input_macs += st.input_macs;
    }
    const double images = static_cast<double>(std::max<int64_t>(1, set.count));
    for (size_t i = 0; i < n; ++i) {
        const Population& p = plan.model.populations[i];
        PopulationStats s;
        s.name = p.name;
        s.kind = to_string(p.kind);
        s.neurons = p.kind == PopulationKind::IF ? p.size() : 0;
        s.units = p.size();
        s.spikes = spikes[i];
        s.firing_rate = static_cast<double>(spikes[i]) /
                        (static_cast<double>(p.size()) * images * static_cast<double>(options.steps));
        s.max_rate = static_cast<double>(max_count[i]) / static_cast<double>(options.steps);
        s.has_error = ann && ann_layer_of_pop[i] >= 0 && p.kind == PopulationKind::IF && p.spiking;
        if (s.has_error) {
            s.local_error_sum = local[i], s.accumulated_error_sum = acc[i];
            s.accumulated_error_max_neuron_sum = acc_max[i], s.rate_error_abs_sum = abs_err[i];
            s.set_error_means(std::max<int64_t>(1, set.count));
        }
        if (p.kind == PopulationKind::IF) result.spikes += spikes[i];
        result.populations.push_back(s);
    }
    for (size_t k = 0; k < plan.proj.size(); ++k) {
        const Projection& p = plan.model.projections[k];
        result.projections.push_back({p.name, p.source, p.target, synapse_count(plan.model, p), proj_sops[k]});
        result.populations[static_cast<size_t>(p.target)].sops_in += proj_sops[k];
        result.populations[static_cast<size_t>(p.source)].sops_out += proj_sops[k];
        result.sops += proj_sops[k];
    }
    return result;
}

struct SnnStepper::Impl {
    const SnnEngine::PreparedModel& plan;
    State st;
    int64_t steps = 0, windows = 0, decision = -1, sops = 0;
};

SnnStepper::SnnStepper(const SnnEngine& engine, const InputEncoding* encoding)
    : impl_(std::make_unique<Impl>(Impl{*engine.prepared_, {}, 0, 0, -1, 0})) {
    if (encoding && encoding->constant_current())
        throw ConfigError("simulation.encoding: a stepped network takes input spikes, but the configured encoding "
                          "injects the analog image as a constant current; use a spiking encoding (poisson)");
    impl_->plan.init_state(impl_->st, 1);
    reset();
}
SnnStepper::~SnnStepper() = default;

void SnnStepper::reset() {
    impl_->plan.reset(impl_->st);
    impl_->steps = 0, impl_->decision = -1, impl_->sops = 0;
    for (SpikeList& f : impl_->st.fired) f.clear();
    std::fill(impl_->st.proj_sops.begin(), impl_->st.proj_sops.end(), 0);
    ++impl_->windows;
}

int64_t SnnStepper::step(const int32_t* input_hwc, size_t n, SpikeObserver* observer, int64_t label) {
    Impl& m = *impl_;
    if (m.steps >= kMaxSnnSteps)
        throw DataError(fmt::format("the network has run {} steps since its last reset, the most its 16-bit spike "
                                    "counts hold: reset it first", kMaxSnnSteps));
    const int64_t size = m.plan.geo[0].size();
    for (size_t k = 0; k < n; ++k) {
        if (input_hwc[k] < 0 || input_hwc[k] >= size)
            throw DataError(fmt::format("input spike {}: neuron {} is outside the input population [0, {})", k,
                                        input_hwc[k], size));
        if (k && input_hwc[k] < input_hwc[k - 1])
            throw DataError(fmt::format("input spike {}: neuron {} after {}: input spikes must be ascending", k,
                                        input_hwc[k], input_hwc[k - 1]));
    }
    m.st.input_spikes.assign(input_hwc, input_hwc + n);
    m.st.fired[0].reserve(n);  // repeated indices: more spikes than input neurons
    std::fill(m.st.proj_sops.begin(), m.st.proj_sops.end(), 0);
    ++m.steps;
    m.decision = m.plan.step(m.windows - 1, m.steps, false, observer, m.st);
    m.sops = std::accumulate(m.st.proj_sops.begin(), m.st.proj_sops.end(), int64_t{0});
    if (observer) observer->step_done(m.windows - 1, m.steps, label >= 0 && m.decision == label);
    return m.decision;
}

const SnnModel& SnnStepper::model() const { return impl_->plan.model; }
int64_t SnnStepper::steps() const { return impl_->steps; }
int64_t SnnStepper::windows() const { return impl_->windows; }
int64_t SnnStepper::decision() const { return impl_->decision; }
const std::vector<int64_t>& SnnStepper::projection_sops() const { return impl_->st.proj_sops; }
int64_t SnnStepper::sops() const { return impl_->sops; }

size_t SnnStepper::spike_count(int pop) const { return impl_->st.fired.at(static_cast<size_t>(pop)).size(); }

void SnnStepper::spikes(int pop, std::vector<SpikeEvent>& out) const {
    const SpikeList& fired = impl_->st.fired.at(static_cast<size_t>(pop));
    out.resize(fired.size());
    size_t k = 0;
    for (const Spike& s : fired) out[k++] = {s.c, s.y, s.x};
}

// [H][W][C] per-neuron values to [C][H][W].
template <class T, class U>
void to_chw(const Geometry& g, const std::vector<T>& hwc, std::vector<U>& out) {
    out.resize(hwc.size());
    for (int64_t c = 0; c < g.c; ++c)
        for (int64_t p = 0; p < g.h * g.w; ++p)
            out[static_cast<size_t>(c * g.h * g.w + p)] = static_cast<U>(hwc[static_cast<size_t>(p * g.c + c)]);
}

void SnnStepper::readout(std::vector<float>& out) const {
    const size_t o = static_cast<size_t>(impl_->plan.model.output);
    if (impl_->plan.model.populations[o].spiking)
        to_chw(impl_->plan.geo[o], impl_->st.count[o], out);
    else
        to_chw(impl_->plan.geo[o], impl_->st.v[o], out);
}

float SnnStepper::potential(int pop, int64_t neuron) const {
    const int64_t k = impl_->plan.probe_index(pop, neuron, fmt::format("potential of {}:{}", pop, neuron));
    return impl_->st.v[static_cast<size_t>(pop)][static_cast<size_t>(k)];
}

float SnnStepper::synaptic_current(int pop, int64_t neuron) const {
    const int64_t k = impl_->plan.probe_index(pop, neuron, fmt::format("synaptic current of {}:{}", pop, neuron));
    const auto& i_syn = impl_->st.i_syn[static_cast<size_t>(pop)];
    return i_syn.empty() ? 0.0f : i_syn[static_cast<size_t>(k)];
}

void SnnStepper::counts(int pop, std::vector<int32_t>& out) const {
    const size_t i = static_cast<size_t>(pop);
    to_chw(impl_->plan.geo.at(i), impl_->st.count.at(i), out);
}

void PopulationStats::set_error_means(int64_t images) {
    const double n = static_cast<double>(images);
    local_error = local_error_sum.value() / n;
    accumulated_error = accumulated_error_sum.value() / n;
    accumulated_error_max_neuron = accumulated_error_max_neuron_sum.value() / n;
    rate_error_abs = rate_error_abs_sum.value() / n;
}

void accumulate(SnnResult& total, const SnnResult& part) {
    if (total.images == 0) {
        total = part;
        return;
    }
    if (part.steps != total.steps || part.populations.size() != total.populations.size() ||
        part.projections.size() != total.projections.size())
        throw InternalError("accumulate: runs of different models or steps");
    for (size_t t = 0; t < total.correct_at_step.size(); ++t) total.correct_at_step[t] += part.correct_at_step[t];
    if (total.ann_correct >= 0) total.ann_correct += part.ann_correct;
    total.images += part.images;
    for (size_t i = 0; i < total.populations.size(); ++i) {
        PopulationStats& p = total.populations[i];
        const PopulationStats& q = part.populations[i];
        p.spikes += q.spikes, p.sops_in += q.sops_in, p.sops_out += q.sops_out;
        p.firing_rate = static_cast<double>(p.spikes) /
                        (static_cast<double>(p.units) * static_cast<double>(total.images) * static_cast<double>(total.steps));
        p.max_rate = std::max(p.max_rate, q.max_rate);
        if (p.has_error) {
            p.local_error_sum.merge(q.local_error_sum), p.accumulated_error_sum.merge(q.accumulated_error_sum);
            p.accumulated_error_max_neuron_sum.merge(q.accumulated_error_max_neuron_sum);
            p.rate_error_abs_sum.merge(q.rate_error_abs_sum);
            p.set_error_means(total.images);
        }
    }
    for (size_t k = 0; k < total.projections.size(); ++k) total.projections[k].sops += part.projections[k].sops;
    total.sops += part.sops, total.spikes += part.spikes, total.input_macs += part.input_macs;
    total.seconds += part.seconds;
    total.labelled = total.labelled && part.labelled;
    total.workers = std::max(total.workers, part.workers);
    if (total.probe.image < 0 && part.probe.image >= 0) total.probe = part.probe;
    total.worker_state_bytes = std::max(total.worker_state_bytes, part.worker_state_bytes);
}

}  // namespace neuroemu
