#include "sim/ann_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/isa.h"
#include "common/parallel.h"
#include "common/progress.h"

namespace neuroemu {
namespace {

// Feature maps are stored per image in a channel-blocked layout [C/L][H][W][L] (oneDNN's nChw16c with L = 16):
// the L channels of a block sit side by side, so a convolution vectorises over output channels with each input
// value broadcast, and no im2col matrix is ever built. Channels past C in the last block are kept at zero by
// every operator. Flat tensors (after Flatten or Linear) are stored as they are. L is the same whatever the CPU;
// the convolution kernel is compiled per instruction set and chosen at run time (common/isa.h), its register
// budget following the instruction set. Every output is bias + the products in (ci, ky, kx) order, unfused
// (-ffp-contract=off), whatever the tile, so every instruction set gives the same bits.
constexpr int kLanes = 16;
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float)), aligned(alignof(float)), may_alias));

// Accumulators of L floats the kernel keeps in registers.
int max_accumulators(Isa isa) {
    switch (isa) {
        case Isa::Avx512: return 24;  // of 32 vector registers (28 measured no faster)
        case Isa::Avx2: return 6;     // 12 of 16 ymm registers, two per accumulator
        case Isa::Generic: break;
    }
    return 4;  // SSE: four xmm registers per accumulator; spills, but the generic path is the fallback
}

__attribute__((always_inline)) inline Vec load(const float* p) { return *reinterpret_cast<const Vec*>(p); }
__attribute__((always_inline)) inline void store(float* p, Vec v) { *reinterpret_cast<Vec*>(p) = v; }

int64_t blocks(int64_t channels) { return (channels + kLanes - 1) / kLanes; }

struct Dims {
    int64_t c, h, w;
    bool flat;
    int64_t stored() const { return flat ? c : blocks(c) * kLanes * h * w; }  // floats per image
};
Dims dims_of(const std::vector<int64_t>& shape) {
    return shape.size() == 3 ? Dims{shape[0], shape[1], shape[2], false} : Dims{shape[0], 1, 1, true};
}

// [C][H][W] -> [C/L][H][W][L], zero-filling the unused lanes.
void to_blocked(const float* chw, Dims d, float* out) {
    std::fill(out, out + d.stored(), 0.0f);
    for (int64_t c = 0; c < d.c; ++c)
        for (int64_t i = 0; i < d.h * d.w; ++i)
            out[((c / kLanes) * d.h * d.w + i) * kLanes + c % kLanes] = chw[c * d.h * d.w + i];
}

// [C/L][H][W][L] -> [C][H][W], which is also ONNX Flatten's order.
void from_blocked(const float* in, Dims d, float* chw) {
    for (int64_t c = 0; c < d.c; ++c)
        for (int64_t i = 0; i < d.h * d.w; ++i)
            chw[c * d.h * d.w + i] = in[((c / kLanes) * d.h * d.w + i) * kLanes + c % kLanes];
}

// One convolution tile: P consecutive output pixels of one row, NV blocks of L output channels, all
// accumulators in registers. `in` is the zero-padded input at the tile's first window; `w` holds the group's
// weights [Cin][kh][kw][NV*L]. SX is the horizontal stride when known at compile time (0: read it from `g`),
// so the P input values are broadcast from constant offsets.
struct ConvGeometry {
    int64_t cin, kh, kw, stride_x;
    int64_t row_floats, plane_floats;  // padded input: floats per row and per channel block
    int64_t out_block_floats;          // output: floats per channel block
};

template <int NV, int P, int SX>
__attribute__((always_inline)) inline void conv_tile(const ConvGeometry& g, const float* in, const float* w, const float* bias, float* out, int pixels,
               bool relu) {
    const int64_t sx = SX ? SX : g.stride_x;
    Vec acc[P][NV];
    for (int v = 0; v < NV; ++v)
        for (int p = 0; p < P; ++p) acc[p][v] = load(bias + v * kLanes);
    for (int64_t ci = 0; ci < g.cin; ++ci) {
        const float* plane = in + (ci / kLanes) * g.plane_floats + ci % kLanes;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
            const float* row = plane + ky * g.row_floats;
            for (int64_t kx = 0; kx < g.kw; ++kx, w += NV * kLanes) {
                const float* q = row + kx * kLanes;
                Vec wv[NV];
                for (int v = 0; v < NV; ++v) wv[v] = load(w + v * kLanes);
                for (int p = 0; p < P; ++p) {
                    const float x = q[p * sx * kLanes];
                    for (int v = 0; v < NV; ++v) acc[p][v] += x * wv[v];
                }
            }
        }
    }
    for (int p = 0; p < pixels; ++p)
        for (int v = 0; v < NV; ++v) {
            Vec r = acc[p][v];
            if (relu) r = r > 0.0f ? r : 0.0f;
            store(out + v * g.out_block_floats + p * kLanes, r);
        }
}

using ConvKernel = void (*)(const ConvGeometry&, const float*, const float*, const float*, float*, int, bool);

// conv_tile compiled for one instruction set.
#define NEUROEMU_CONV_TILE(NAME, ATTRIBUTES)                                                                   \
    template <int NV, int P, int SX>                                                                           \
    ATTRIBUTES void NAME(const ConvGeometry& g, const float* in, const float* w, const float* bias, float* out, \
                         int pixels, bool relu) {                                                              \
        conv_tile<NV, P, SX>(g, in, w, bias, out, pixels, relu);                                               \
    }
NEUROEMU_CONV_TILE(conv_tile_generic, )
#if defined(__x86_64__)
NEUROEMU_CONV_TILE(conv_tile_avx2, __attribute__((target("avx2"))))
NEUROEMU_CONV_TILE(conv_tile_avx512, __attribute__((target("avx512f"))))
#endif
#undef NEUROEMU_CONV_TILE

template <int NV, int P, int SX>
ConvKernel tile_for(Isa isa) {
#if defined(__x86_64__)
    if (isa == Isa::Avx512) return conv_tile_avx512<NV, P, SX>;
    if (isa == Isa::Avx2) return conv_tile_avx2<NV, P, SX>;
#endif
    (void)isa;
    return conv_tile_generic<NV, P, SX>;
}

template <int NV, int P>
ConvKernel pick_stride(int64_t stride_x, Isa isa) {
    return stride_x == 1 ? tile_for<NV, P, 1>(isa) : stride_x == 2 ? tile_for<NV, P, 2>(isa) : tile_for<NV, P, 0>(isa);
}

// Tile shape for a layer: NV channel blocks x P pixels within the accumulator budget, P chosen to waste the
// fewest computed pixels on the row's last tile (ties: the larger P).
struct ConvTiling {
    int nv = 1, p = 1;
    ConvKernel full = nullptr, tail = nullptr;  // tail: NV = 1, for an odd last channel block
};
ConvTiling choose_tiling(int64_t out_blocks, int64_t out_w, int64_t stride_x) {
    ConvTiling t;
    const Isa isa = active_isa();
    const int budget = max_accumulators(isa);
    t.nv = out_blocks >= 2 && 2 * 7 <= budget ? 2 : 1;
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int p : {14, 12, 8, 7, 4}) {
        if (p * t.nv > budget && p > 4) continue;  // P = 4 always remains
        const int64_t computed = (out_w + p - 1) / p * p;
        if (computed < best) best = computed, t.p = p;
    }
    auto kernel = [&](int nv) -> ConvKernel {
        switch (t.p) {
            case 14: return nv == 1 ? pick_stride<1, 14>(stride_x, isa) : pick_stride<2, 14>(stride_x, isa);
            case 12: return nv == 1 ? pick_stride<1, 12>(stride_x, isa) : pick_stride<2, 12>(stride_x, isa);
            case 8: return nv == 1 ? pick_stride<1, 8>(stride_x, isa) : pick_stride<2, 8>(stride_x, isa);
            case 7: return nv == 1 ? pick_stride<1, 7>(stride_x, isa) : pick_stride<2, 7>(stride_x, isa);
            default: return nv == 1 ? pick_stride<1, 4>(stride_x, isa) : pick_stride<2, 4>(stride_x, isa);
        }
    };
    t.full = kernel(t.nv);
    t.tail = kernel(1);
    return t;
}

// A convolution prepared for the blocked kernel: weights regrouped per tile group, padded input geometry.
struct ConvPlan {
    ConvTiling tiling;
    std::vector<float> weights;  // per group of NV output blocks: [Cin][kh][kw][NV*L], zero past Cout
    std::vector<int64_t> group_offset, group_blocks;
    std::vector<float> bias;     // [blocks*L], zero past Cout
    int64_t pad_h = 0, pad_w = 0;  // padded input height and width (the width covers the last tile's reads)
    int64_t padded_floats() const { return pad_h * pad_w * kLanes; }  // per input channel block
};

ConvPlan plan_conv(const Conv2dAttrs& c, Dims in, Dims out) {
    ConvPlan cp;
    const Window2d& win = c.window;
    const int64_t ob = blocks(out.c), kh = win.kernel_h, kw = win.kernel_w;
    cp.tiling = choose_tiling(ob, out.w, win.stride_w);
    const int64_t tiles_w = (out.w + cp.tiling.p - 1) / cp.tiling.p;
    cp.pad_h = in.h + win.pad_top + win.pad_bottom;
    cp.pad_w = std::max(in.w + win.pad_left + win.pad_right, (tiles_w * cp.tiling.p - 1) * win.stride_w + kw);
    for (int64_t b0 = 0; b0 < ob; b0 += cp.tiling.nv) {
        const int64_t nv = std::min<int64_t>(cp.tiling.nv, ob - b0);
        const size_t base = cp.weights.size();
        cp.group_offset.push_back(static_cast<int64_t>(base));
        cp.group_blocks.push_back(nv);
        cp.weights.resize(base + static_cast<size_t>(in.c * kh * kw * nv * kLanes), 0.0f);
        for (int64_t co = b0 * kLanes; co < std::min(out.c, (b0 + nv) * kLanes); ++co)
            for (int64_t ci = 0; ci < in.c; ++ci)
                for (int64_t k = 0; k < kh * kw; ++k)
                    cp.weights[base + static_cast<size_t>((ci * kh * kw + k) * nv * kLanes + co - b0 * kLanes)] =
                        c.weight.data[static_cast<size_t>((co * in.c + ci) * kh * kw + k)];
    }
    cp.bias.assign(static_cast<size_t>(ob * kLanes), 0.0f);
    if (!c.bias.empty()) std::copy(c.bias.data.begin(), c.bias.data.end(), cp.bias.begin());
    return cp;
}

// Pooling with PyTorch's windows (pool_window), one image, vectorised over the channels of a block.
template <bool kMax>
void pool(const float* in, Dims id, const PoolAttrs& p, Dims od, float* out) {
    for (int64_t cb = 0; cb < blocks(id.c); ++cb) {
        const float* src = in + cb * id.h * id.w * kLanes;
        float* dst = out + cb * od.h * od.w * kLanes;
        for (int64_t oy = 0; oy < od.h; ++oy)
            for (int64_t ox = 0; ox < od.w; ++ox) {
                const PoolWindow pw = pool_window(p.window, id.h, id.w, oy, ox, p.count_include_pad);
                Vec acc = load(src + (pw.y0 * id.w + pw.x0) * kLanes);
                for (int64_t y = pw.y0; y < pw.y1; ++y)
                    for (int64_t x = pw.x0; x < pw.x1; ++x) {
                        if (y == pw.y0 && x == pw.x0) continue;
                        const Vec v = load(src + (y * id.w + x) * kLanes);
                        acc = kMax ? (v > acc ? v : acc) : acc + v;
                    }
                if (!kMax) acc /= static_cast<float>(pw.divisor);
                store(dst + (oy * od.w + ox) * kLanes, acc);
            }
    }
}

// Per-thread scratch: one buffer per slot, and one zero-bordered input buffer per convolution (its border is
// written once, when the buffer is made, and never touched again).
struct Workspace {
    uint64_t owner = 0;  // PreparedNetwork::serial the buffers were laid out for
    int64_t batch = 0;
    std::vector<std::vector<float>> slots;
    std::vector<std::vector<float>> padded;
};

std::atomic<uint64_t> next_plan_serial{1};

}  // namespace

struct AnnEngine::PreparedNetwork {
    Network net;
    uint64_t serial = next_plan_serial++;
    std::vector<int> slot;              // layer -> buffer slot
    std::vector<int64_t> slot_floats;   // per image
    std::vector<std::vector<float>> bn_scale, bn_shift;  // per layer (BatchNorm only), [blocks*L]
    std::vector<ConvPlan> conv;         // per layer (Conv2d only)
    std::vector<bool> relu_fused;       // Conv2d whose only consumer is a ReLU: the convolution applies it
    std::vector<bool> aliased;          // that ReLU: shares the convolution's buffer and does nothing

    explicit PreparedNetwork(const Network& network) : net(network) {
        const int count = net.size();
        conv.resize(static_cast<size_t>(count));
        relu_fused.assign(static_cast<size_t>(count), false);
        aliased.assign(static_cast<size_t>(count), false);
        bn_scale.resize(static_cast<size_t>(count));
        bn_shift.resize(static_cast<size_t>(count));
        std::vector<int> last_use(static_cast<size_t>(count), -1);
        for (int i = 0; i < count; ++i)
            for (int src : net.layer(i).inputs) last_use[static_cast<size_t>(src)] = i;
        last_use[static_cast<size_t>(net.output_id())] = count;
        // Greedy buffer reuse: a layer's output takes a free slot; its inputs' slots free up after it runs.
        std::vector<int> free_slots;
        slot.assign(static_cast<size_t>(count), -1);
        for (int i = 0; i < count; ++i) {
            const Layer& l = net.layer(i);
            if (l.kind == OpKind::ReLU && fusable(l.inputs[0], i)) {
                const int src = l.inputs[0];
                slot[static_cast<size_t>(i)] = slot[static_cast<size_t>(src)];
                relu_fused[static_cast<size_t>(src)] = aliased[static_cast<size_t>(i)] = true;
                continue;
            }
            if (free_slots.empty()) {
                free_slots.push_back(static_cast<int>(slot_floats.size()));
                slot_floats.push_back(0);
            }
            const int s = free_slots.back();
            free_slots.pop_back();
            slot[static_cast<size_t>(i)] = s;
            slot_floats[static_cast<size_t>(s)] = std::max(slot_floats[static_cast<size_t>(s)], dims_of(l.shape).stored());
            for (int src : l.inputs)
                if (last_use[static_cast<size_t>(src)] == i) free_slots.push_back(slot[static_cast<size_t>(src)]);
            if (l.kind == OpKind::Conv2d)
                conv[static_cast<size_t>(i)] = plan_conv(l.conv(), dims_of(net.layer(l.inputs[0]).shape), dims_of(l.shape));
            if (l.kind == OpKind::BatchNorm) fold_bn(i, l.bn());
        }
    }

    bool fusable(int conv_id, int relu_id) const {
        if (net.layer(conv_id).kind != OpKind::Conv2d || conv_id == net.output_id()) return false;
        const auto users = net.consumers(conv_id);
        return users.size() == 1 && users[0] == relu_id;
    }

    void run_layer(int id, int64_t batch, Workspace& ws) const;
    void run_conv(int id, int64_t batch, Workspace& ws, const float* in, float* out) const;

    void fold_bn(int id, const BatchNormAttrs& b) {
        auto& scale = bn_scale[static_cast<size_t>(id)];
        auto& shift = bn_shift[static_cast<size_t>(id)];
        scale.assign(static_cast<size_t>(blocks(static_cast<int64_t>(b.gamma.data.size())) * kLanes), 0.0f);
        shift = scale;
        for (size_t c = 0; c < b.gamma.data.size(); ++c) {
            scale[c] = b.gamma.data[c] / std::sqrt(b.var.data[c] + b.eps);
            shift[c] = b.beta.data[c] - b.mean.data[c] * scale[c];
        }
    }
};

AnnEngine::AnnEngine(const Network& net) : prepared_(std::make_unique<PreparedNetwork>(net)) {}
AnnEngine::~AnnEngine() = default;

int64_t AnnEngine::input_size() const { return shape_numel(prepared_->net.input_shape()); }
int64_t AnnEngine::output_size() const { return shape_numel(prepared_->net.layer(prepared_->net.output_id()).shape); }

void AnnEngine::forward(const float* input, int64_t count, float* output, const ActivationTap* tap,
                        int64_t first_image, int worker) const {
    const PreparedNetwork& plan = *prepared_;
    // Reused across calls on the same thread: laid out again only for another engine or a larger batch.
    thread_local Workspace ws;
    if (ws.owner != plan.serial || ws.batch < count) {
        ws.owner = plan.serial;
        ws.batch = count;
        ws.slots.assign(plan.slot_floats.size(), {});
        for (size_t s = 0; s < plan.slot_floats.size(); ++s)
            ws.slots[s].resize(static_cast<size_t>(plan.slot_floats[s] * count));
        ws.padded.assign(plan.conv.size(), {});
        for (int id = 0; id < plan.net.size(); ++id)
            if (plan.net.layer(id).kind == OpKind::Conv2d) {
                const Dims in = dims_of(plan.net.layer(plan.net.layer(id).inputs[0]).shape);
                ws.padded[static_cast<size_t>(id)].assign(
                    static_cast<size_t>(plan.conv[static_cast<size_t>(id)].padded_floats() * blocks(in.c)), 0.0f);
            }
    }
    const Dims in = dims_of(plan.net.input_shape());
    float* x = ws.slots[static_cast<size_t>(plan.slot[0])].data();
    for (int64_t b = 0; b < count; ++b) to_blocked(input + b * input_size(), in, x + b * in.stored());
    std::vector<float> chw;
    for (int id = 0; id < plan.net.size(); ++id) {
        if (id > 0 && !plan.aliased[static_cast<size_t>(id)]) plan.run_layer(id, count, ws);
        if (!tap || static_cast<size_t>(id) >= tap->layers.size() || !tap->layers[static_cast<size_t>(id)]) continue;
        const Dims d = dims_of(plan.net.layer(id).shape);
        const float* y = ws.slots[static_cast<size_t>(plan.slot[static_cast<size_t>(id)])].data();
        chw.resize(static_cast<size_t>(d.c * d.h * d.w));
        for (int64_t b = 0; b < count; ++b) {
            if (d.flat)
                std::copy_n(y + b * d.stored(), d.c, chw.data());
            else
                from_blocked(y + b * d.stored(), d, chw.data());
            tap->fn(worker, first_image + b, id, chw.data());
        }
    }
    const int out_id = plan.net.output_id();
    const Dims od = dims_of(plan.net.layer(out_id).shape);
    const float* y = ws.slots[static_cast<size_t>(plan.slot[static_cast<size_t>(out_id)])].data();
    for (int64_t b = 0; b < count; ++b) {
        if (od.flat)
            std::copy_n(y + b * od.stored(), od.c, output + b * output_size());
        else
            from_blocked(y + b * od.stored(), od, output + b * output_size());
    }
}

void AnnEngine::PreparedNetwork::run_conv(int id, int64_t batch, Workspace& ws, const float* in, float* out) const {
    const Layer& l = net.layer(id);
    const ConvPlan& cp = conv[static_cast<size_t>(id)];
    const Window2d& win = l.conv().window;
    const Dims id_ = dims_of(net.layer(l.inputs[0]).shape), od = dims_of(l.shape);
    float* padded = ws.padded[static_cast<size_t>(id)].data();
    const ConvGeometry g{id_.c, win.kernel_h, win.kernel_w, win.stride_w, cp.pad_w * kLanes, cp.padded_floats(),
                         od.h * od.w * kLanes};
    const bool relu = relu_fused[static_cast<size_t>(id)];
    const int p = cp.tiling.p;
    for (int64_t b = 0; b < batch; ++b) {
        const float* src = in + b * id_.stored();
        for (int64_t cb = 0; cb < blocks(id_.c); ++cb)
            for (int64_t y = 0; y < id_.h; ++y)
                std::copy_n(src + (cb * id_.h + y) * id_.w * kLanes, id_.w * kLanes,
                            padded + cb * cp.padded_floats() + ((y + win.pad_top) * cp.pad_w + win.pad_left) * kLanes);
        float* dst = out + b * od.stored();
        for (size_t grp = 0; grp < cp.group_offset.size(); ++grp) {
            const int64_t b0 = static_cast<int64_t>(grp) * cp.tiling.nv;
            const ConvKernel kernel = cp.group_blocks[grp] == cp.tiling.nv ? cp.tiling.full : cp.tiling.tail;
            const float* w = cp.weights.data() + cp.group_offset[grp];
            for (int64_t oy = 0; oy < od.h; ++oy)
                for (int64_t ox = 0; ox < od.w; ox += p)
                    kernel(g, padded + (oy * win.stride_h * cp.pad_w + ox * win.stride_w) * kLanes, w,
                           cp.bias.data() + b0 * kLanes, dst + ((b0 * od.h + oy) * od.w + ox) * kLanes,
                           static_cast<int>(std::min<int64_t>(p, od.w - ox)), relu);
        }
    }
}

void AnnEngine::PreparedNetwork::run_layer(int id, int64_t batch, Workspace& ws) const {
    const Layer& l = net.layer(id);
    auto buf = [&](int layer) { return ws.slots[static_cast<size_t>(slot[static_cast<size_t>(layer)])].data(); };
    const float* in = l.inputs.empty() ? nullptr : buf(l.inputs[0]);
    float* out = buf(id);
    const Dims od = dims_of(l.shape);
    const Dims id_ = l.inputs.empty() ? od : dims_of(net.layer(l.inputs[0]).shape);
    const int64_t total = od.stored() * batch;
    switch (l.kind) {
        case OpKind::Input:
            break;
        case OpKind::Conv2d:
            run_conv(id, batch, ws, in, out);
            break;
        case OpKind::BatchNorm: {
            const float* scale = bn_scale[static_cast<size_t>(id)].data();
            const float* shift = bn_shift[static_cast<size_t>(id)].data();
            const int64_t hw = od.h * od.w;
            for (int64_t i = 0; i < total / kLanes; ++i) {
                const int64_t cb = i / hw % blocks(od.c);
                store(out + i * kLanes, load(in + i * kLanes) * load(scale + cb * kLanes) + load(shift + cb * kLanes));
            }
            break;
        }
        case OpKind::ReLU:
            for (int64_t i = 0; i < total; ++i) out[i] = std::max(in[i], 0.0f);
            break;
        case OpKind::Add: {
            const float* in2 = buf(l.inputs[1]);
            for (int64_t i = 0; i < total; ++i) out[i] = in[i] + in2[i];
            break;
        }
        case OpKind::MaxPool:
        case OpKind::AvgPool:
            for (int64_t b = 0; b < batch; ++b) {
                const float* src = in + b * id_.stored();
                float* dst = out + b * od.stored();
                if (l.kind == OpKind::MaxPool)
                    pool<true>(src, id_, l.pool(), od, dst);
                else
                    pool<false>(src, id_, l.pool(), od, dst);
            }
            break;
        case OpKind::GlobalAvgPool: {
            const int64_t hw = id_.h * id_.w;
            for (int64_t b = 0; b < batch; ++b)
                for (int64_t cb = 0; cb < blocks(od.c); ++cb) {
                    const float* src = in + b * id_.stored() + cb * hw * kLanes;
                    double sum[kLanes] = {};
                    for (int64_t i = 0; i < hw; ++i)
                        for (int k = 0; k < kLanes; ++k) sum[k] += src[i * kLanes + k];
                    for (int k = 0; k < kLanes; ++k)
                        out[b * od.stored() + cb * kLanes + k] = static_cast<float>(sum[k] / static_cast<double>(hw));
                }
            break;
        }
        case OpKind::Flatten:
            for (int64_t b = 0; b < batch; ++b) {
                if (id_.flat)
                    std::copy_n(in + b * id_.stored(), id_.c, out + b * od.stored());
                else
                    from_blocked(in + b * id_.stored(), id_, out + b * od.stored());
            }
            break;
        case OpKind::Linear: {  // [B][in] x [out][in]^T -> [B][out]
            // Each output a plain dot product in input order, then + bias: the same bits whatever the CPU, the
            // build's -march and the batch (a GEMM library's blocking and fused multiply-adds follow the
            // instruction set). Classifier heads are a negligible share of a ResNet's MACs.
            const auto& a = l.linear();
            const int64_t n_in = a.weight.shape[1];
            const float* w = a.weight.data.data();
            for (int64_t b = 0; b < batch; ++b)
                for (int64_t o = 0; o < od.c; ++o) {
                    const float* x = in + b * n_in;
                    const float* wo = w + o * n_in;
                    float acc = 0.0f;
                    for (int64_t i = 0; i < n_in; ++i) acc += x[i] * wo[i];
                    out[b * od.c + o] = a.bias.empty() ? acc : acc + a.bias.data[static_cast<size_t>(o)];
                }
            break;
        }
    }
}

AnnResult AnnEngine::evaluate(const ImageSet& set, const InputNormalisation& norm, const AnnOptions& options,
                              Progress* progress, const ActivationTap* tap) const {
    const auto& in_shape = prepared_->net.input_shape();
    if (in_shape != std::vector<int64_t>{set.channels, set.height, set.width})
        throw DataError(fmt::format("the model expects input {}, the dataset's images are [{}, {}, {}]",
                                    shape_str(in_shape), set.channels, set.height, set.width));
    const int64_t classes = output_size();
    for (int64_t i = 0; i < set.count; ++i)
        if (set.labels[static_cast<size_t>(i)] >= classes)
            throw DataError(fmt::format("image {} has label {}, but the model has only {} outputs", i,
                                        set.labels[static_cast<size_t>(i)], classes));
    const int64_t mb = std::max(1, options.micro_batch);
    const int64_t chunks = (set.count + mb - 1) / mb;
    AnnResult r;
    r.images = set.count;
    r.labelled = set.labelled;
    std::vector<float> logits(static_cast<size_t>(set.count * classes));
    const auto start = std::chrono::steady_clock::now();
    parallel_for(chunks, resolve_threads(options.threads), [&](int64_t chunk, int worker) {
        const int64_t first = chunk * mb, n = std::min(mb, set.count - first);
        std::vector<float> x(static_cast<size_t>(n * input_size()));
        for (int64_t i = 0; i < n; ++i) image_to_input(set, first + i, norm, x.data() + i * input_size());
        forward(x.data(), n, logits.data() + first * classes, tap, first, worker);
        if (progress) progress->advance(n);
    });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (int64_t i = 0; i < set.count; ++i) {
        const float* row = logits.data() + i * classes;
        r.correct += (std::max_element(row, row + classes) - row) == set.labels[static_cast<size_t>(i)];
    }
    if (options.keep_logits) r.logits = std::move(logits);
    return r;
}

}  // namespace neuroemu
