#include "sim/ann_engine.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"

namespace neuroemu {
namespace {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const MatrixRM>;
using Map = Eigen::Map<MatrixRM>;

// Activations of a micro-batch of B images are laid out [C][B][H][W]: a convolution is then one GEMM,
// weights [Cout][Cin*kh*kw] times columns [Cin*kh*kw][B*Hout*Wout], straight into the next layer's layout.
struct Dims {
    int64_t c, h, w;
};
Dims dims_of(const std::vector<int64_t>& shape) {
    return shape.size() == 3 ? Dims{shape[0], shape[1], shape[2]} : Dims{shape[0], 1, 1};
}

void im2col(const float* in, Dims id, int64_t batch, const Window2d& win, Dims od, float* col) {
    const int64_t n = batch * od.h * od.w;
    for (int64_t c = 0; c < id.c; ++c)
        for (int ky = 0; ky < win.kernel_h; ++ky)
            for (int kx = 0; kx < win.kernel_w; ++kx) {
                float* row = col + ((c * win.kernel_h + ky) * win.kernel_w + kx) * n;
                // Output columns [lo, hi) read inside the image: x = ox * stride + off with 0 <= x < width.
                const int64_t off = kx - win.pad_left, last = id.w - 1 - off;
                const int64_t lo = std::min(od.w, std::max<int64_t>(0, (-off + win.stride_w - 1) / win.stride_w));
                const int64_t hi = last < 0 ? lo : std::max(lo, std::min(od.w, last / win.stride_w + 1));
                for (int64_t b = 0; b < batch; ++b) {
                    const float* plane = in + (c * batch + b) * id.h * id.w;
                    for (int64_t oy = 0; oy < od.h; ++oy) {
                        const int64_t iy = oy * win.stride_h - win.pad_top + ky;
                        float* dst = row + (b * od.h + oy) * od.w;
                        if (iy < 0 || iy >= id.h) {
                            std::fill(dst, dst + od.w, 0.0f);
                            continue;
                        }
                        std::fill(dst, dst + lo, 0.0f);
                        std::fill(dst + hi, dst + od.w, 0.0f);
                        const float* src = plane + iy * id.w + off;
                        if (win.stride_w == 1)
                            std::copy(src + lo, src + hi, dst + lo);
                        else
                            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * win.stride_w];
                    }
                }
            }
}

bool is_pointwise(const Window2d& w) {
    return w.kernel_h == 1 && w.kernel_w == 1 && w.stride_h == 1 && w.stride_w == 1 && w.pad_top == 0 &&
           w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0;
}

// PyTorch's pooling windows: the divisor of count_include_pad counts padding but not the overhang that
// ceil_mode adds past the padded border.
template <bool kMax>
void pool(const float* in, Dims id, int64_t batch, const PoolAttrs& p, Dims od, float* out) {
    const Window2d& w = p.window;
    for (int64_t plane = 0; plane < id.c * batch; ++plane) {
        const float* src = in + plane * id.h * id.w;
        float* dst = out + plane * od.h * od.w;
        for (int64_t oy = 0; oy < od.h; ++oy)
            for (int64_t ox = 0; ox < od.w; ++ox) {
                int64_t y0 = oy * w.stride_h - w.pad_top, x0 = ox * w.stride_w - w.pad_left;
                int64_t y1 = std::min(y0 + w.kernel_h, id.h + w.pad_bottom);
                int64_t x1 = std::min(x0 + w.kernel_w, id.w + w.pad_right);
                const int64_t padded_area = (y1 - y0) * (x1 - x0);
                y0 = std::max<int64_t>(y0, 0), x0 = std::max<int64_t>(x0, 0);
                y1 = std::min(y1, id.h), x1 = std::min(x1, id.w);
                float acc = kMax ? -std::numeric_limits<float>::infinity() : 0.0f;
                for (int64_t y = y0; y < y1; ++y)
                    for (int64_t x = x0; x < x1; ++x) acc = kMax ? std::max(acc, src[y * id.w + x]) : acc + src[y * id.w + x];
                if (!kMax) acc /= static_cast<float>(p.count_include_pad ? padded_area : (y1 - y0) * (x1 - x0));
                dst[oy * od.w + ox] = acc;
            }
    }
}

struct Workspace {
    std::vector<std::vector<float>> slots;
    std::vector<float> col;
};

}  // namespace

struct AnnEngine::Plan {
    Network net;
    std::vector<int> slot;              // layer -> buffer slot
    std::vector<int64_t> slot_floats;   // per image
    int64_t col_floats = 0;             // per image, largest im2col matrix
    std::vector<std::vector<float>> bn_scale, bn_shift;  // per layer (BatchNorm only)

    explicit Plan(const Network& n) : net(n) {
        const int count = net.size();
        std::vector<int> last_use(static_cast<size_t>(count), -1);
        for (int i = 0; i < count; ++i)
            for (int src : net.layer(i).inputs) last_use[static_cast<size_t>(src)] = i;
        last_use[static_cast<size_t>(net.output_id())] = count;
        // Greedy buffer reuse: a layer's output takes a free slot; its inputs' slots free up after it runs.
        std::vector<int> free_slots;
        slot.assign(static_cast<size_t>(count), -1);
        bn_scale.resize(static_cast<size_t>(count));
        bn_shift.resize(static_cast<size_t>(count));
        for (int i = 0; i < count; ++i) {
            const Layer& l = net.layer(i);
            if (free_slots.empty()) {
                free_slots.push_back(static_cast<int>(slot_floats.size()));
                slot_floats.push_back(0);
            }
            const int s = free_slots.back();
            free_slots.pop_back();
            slot[static_cast<size_t>(i)] = s;
            slot_floats[static_cast<size_t>(s)] = std::max(slot_floats[static_cast<size_t>(s)], shape_numel(l.shape));
            for (int src : l.inputs)
                if (last_use[static_cast<size_t>(src)] == i) free_slots.push_back(slot[static_cast<size_t>(src)]);
            if (l.kind == OpKind::Conv2d && !is_pointwise(l.conv().window))
                col_floats = std::max(col_floats, l.conv().weight.numel() / l.shape[0] * l.shape[1] * l.shape[2]);
            if (l.kind == OpKind::BatchNorm) fold_bn(i, l.bn());
        }
    }

    void run_layer(int id, int64_t batch, Workspace& ws) const;

    void fold_bn(int id, const BatchNormAttrs& b) {
        auto& scale = bn_scale[static_cast<size_t>(id)];
        auto& shift = bn_shift[static_cast<size_t>(id)];
        for (size_t c = 0; c < b.gamma.data.size(); ++c) {
            scale.push_back(b.gamma.data[c] / std::sqrt(b.var.data[c] + b.eps));
            shift.push_back(b.beta.data[c] - b.mean.data[c] * scale.back());
        }
    }
};

AnnEngine::AnnEngine(const Network& net) : plan_(std::make_unique<Plan>(net)) {}
AnnEngine::~AnnEngine() = default;

int64_t AnnEngine::input_size() const { return shape_numel(plan_->net.input_shape()); }
int64_t AnnEngine::output_size() const { return shape_numel(plan_->net.layer(plan_->net.output_id()).shape); }

void AnnEngine::forward(const float* input, int64_t count, float* output) const {
    const Plan& plan = *plan_;
    // Reused across calls on the same thread: growing is the only allocation, and nothing is re-zeroed.
    thread_local Workspace ws;
    ws.slots.resize(plan.slot_floats.size());
    for (size_t s = 0; s < plan.slot_floats.size(); ++s)
        if (ws.slots[s].size() < static_cast<size_t>(plan.slot_floats[s] * count))
            ws.slots[s].resize(static_cast<size_t>(plan.slot_floats[s] * count));
    if (ws.col.size() < static_cast<size_t>(plan.col_floats * count))
        ws.col.resize(static_cast<size_t>(plan.col_floats * count));
    // [B][C][HW] -> [C][B][HW]
    const Dims in = dims_of(plan.net.input_shape());
    float* x = ws.slots[static_cast<size_t>(plan.slot[0])].data();
    for (int64_t b = 0; b < count; ++b)
        for (int64_t c = 0; c < in.c; ++c)
            std::copy_n(input + (b * in.c + c) * in.h * in.w, in.h * in.w, x + (c * count + b) * in.h * in.w);
    for (int id = 1; id < plan.net.size(); ++id) plan.run_layer(id, count, ws);
    // [classes][B] -> [B][classes]
    const int out_id = plan.net.output_id();
    const int64_t classes = shape_numel(plan.net.layer(out_id).shape);
    const float* y = ws.slots[static_cast<size_t>(plan.slot[static_cast<size_t>(out_id)])].data();
    for (int64_t k = 0; k < classes; ++k)
        for (int64_t b = 0; b < count; ++b) output[b * classes + k] = y[k * count + b];
}

void AnnEngine::Plan::run_layer(int id, int64_t batch, Workspace& ws) const {
    const Layer& l = net.layer(id);
    auto buf = [&](int layer) { return ws.slots[static_cast<size_t>(slot[static_cast<size_t>(layer)])].data(); };
    const float* in = l.inputs.empty() ? nullptr : buf(l.inputs[0]);
    float* out = buf(id);
    const Dims od = dims_of(l.shape);
    const Dims id_ = l.inputs.empty() ? od : dims_of(net.layer(l.inputs[0]).shape);
    const int64_t plane = od.h * od.w * batch;  // elements per channel
    switch (l.kind) {
        case OpKind::Input:
            break;
        case OpKind::Conv2d: {
            const auto& c = l.conv();
            const int64_t k = c.weight.numel() / od.c;
            const float* cols = in;
            if (!is_pointwise(c.window)) {
                im2col(in, id_, batch, c.window, od, ws.col.data());
                cols = ws.col.data();
            }
            Map y(out, od.c, plane);
            y.noalias() = ConstMap(c.weight.data.data(), od.c, k) * ConstMap(cols, k, plane);
            if (!c.bias.empty()) y.colwise() += Eigen::Map<const Eigen::VectorXf>(c.bias.data.data(), od.c);
            break;
        }
        case OpKind::BatchNorm: {
            const auto& scale = bn_scale[static_cast<size_t>(id)];
            const auto& shift = bn_shift[static_cast<size_t>(id)];
            for (int64_t ch = 0; ch < od.c; ++ch)
                for (int64_t i = 0; i < plane; ++i)
                    out[ch * plane + i] = in[ch * plane + i] * scale[static_cast<size_t>(ch)] + shift[static_cast<size_t>(ch)];
            break;
        }
        case OpKind::ReLU:
            for (int64_t i = 0; i < od.c * plane; ++i) out[i] = std::max(in[i], 0.0f);
            break;
        case OpKind::Add: {
            const float* in2 = buf(l.inputs[1]);
            for (int64_t i = 0; i < od.c * plane; ++i) out[i] = in[i] + in2[i];
            break;
        }
        case OpKind::MaxPool:
            pool<true>(in, id_, batch, l.pool(), od, out);
            break;
        case OpKind::AvgPool:
            pool<false>(in, id_, batch, l.pool(), od, out);
            break;
        case OpKind::GlobalAvgPool: {
            const int64_t hw = id_.h * id_.w;
            for (int64_t p = 0; p < od.c * batch; ++p) {
                double sum = 0;
                for (int64_t i = 0; i < hw; ++i) sum += in[p * hw + i];
                out[p] = static_cast<float>(sum / static_cast<double>(hw));
            }
            break;
        }
        case OpKind::Flatten: {  // [C][B][HW] -> [C*HW][B]
            const int64_t hw = id_.h * id_.w;
            for (int64_t ch = 0; ch < id_.c; ++ch)
                for (int64_t b = 0; b < batch; ++b)
                    for (int64_t i = 0; i < hw; ++i) out[(ch * hw + i) * batch + b] = in[(ch * batch + b) * hw + i];
            break;
        }
        case OpKind::Linear: {
            const auto& a = l.linear();
            const int64_t n_in = a.weight.shape[1];
            Map y(out, od.c, batch);
            y.noalias() = ConstMap(a.weight.data.data(), od.c, n_in) * ConstMap(in, n_in, batch);
            if (!a.bias.empty()) y.colwise() += Eigen::Map<const Eigen::VectorXf>(a.bias.data.data(), od.c);
            break;
        }
    }
}

AnnResult AnnEngine::evaluate(const ImageSet& set, const InputNormalisation& norm, const AnnOptions& options,
                              Progress* progress) const {
    const auto& in_shape = plan_->net.input_shape();
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
    std::vector<float> logits(static_cast<size_t>(set.count * classes));
    const auto start = std::chrono::steady_clock::now();
    parallel_for(chunks, resolve_threads(options.threads), [&](int64_t chunk, int) {
        const int64_t first = chunk * mb, n = std::min(mb, set.count - first);
        std::vector<float> x(static_cast<size_t>(n * input_size()));
        for (int64_t i = 0; i < n; ++i) image_to_input(set, first + i, norm, x.data() + i * input_size());
        forward(x.data(), n, logits.data() + first * classes);
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
