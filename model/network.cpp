#include "model/network.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/memory_limit.h"

namespace neuroemu {
namespace {

// Largest feature map or weight tensor neuroemu accepts (elements); guards against absurd dimensions.
constexpr int64_t kMaxElements = INT64_C(1) << 32;

[[noreturn]] void fail(const Layer& layer, const std::string& what) {
    throw ModelError(fmt::format("layer '{}' ({}): {}", layer.name, op_name(layer.kind), what));
}

[[noreturn]] void fail_window(const std::string& who, const std::string& what) { throw ModelError(who + ": " + what); }

int64_t window_out(const std::string& who, bool conv, int64_t in, int kernel, int stride, int pad_lo, int pad_hi,
                   bool ceil_mode, const char* axis) {
    if (kernel < 1 || stride < 1 || pad_lo < 0 || pad_hi < 0)
        fail_window(who, fmt::format("kernel {} stride {} pads {},{} along {}: kernel and stride must be >= 1, pads >= 0",
                                     kernel, stride, pad_lo, pad_hi, axis));
    if ((pad_lo >= kernel || pad_hi >= kernel) && !conv)
        fail_window(who, fmt::format("padding {},{} along {} is not smaller than the kernel {}", pad_lo, pad_hi, axis,
                                     kernel));
    const int64_t span = in + pad_lo + pad_hi - kernel;
    if (span < 0)
        fail_window(who, fmt::format("kernel {} is larger than the padded input ({} + {} + {}) along {}", kernel, in,
                                     pad_lo, pad_hi, axis));
    int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    // PyTorch: with ceil_mode the last window must start inside the input or the left padding.
    if (ceil_mode && (out - 1) * stride >= in + pad_lo) --out;
    return out;
}

std::vector<int64_t> window_shape(const Layer& layer, const std::vector<int64_t>& in, int64_t channels,
                                  const Window2d& w) {
    return window_output_shape(fmt::format("layer '{}' ({})", layer.name, op_name(layer.kind)), in, channels, w,
                               layer.kind == OpKind::Conv2d);
}

void expect_rank(const Layer& layer, const std::vector<int64_t>& shape, size_t rank, const char* what) {
    if (shape.size() != rank)
        fail(layer, fmt::format("expects a {} input, got shape {}", what, shape_str(shape)));
}

void expect_vector(const Layer& layer, const Tensor& t, int64_t n, const char* what) {
    if (t.shape.size() != 1 || t.shape[0] != n)
        fail(layer, fmt::format("{} has shape {}, expected [{}]", what, shape_str(t.shape), n));
}

std::vector<int64_t> infer_shape(const Network& net, const Layer& layer) {
    auto in = [&](size_t i) -> const std::vector<int64_t>& { return net.layer(layer.inputs[i]).shape; };
    const size_t arity = layer.kind == OpKind::Add ? 2 : 1;
    if (layer.inputs.size() != arity)
        fail(layer, fmt::format("takes {} input(s), given {}", arity, layer.inputs.size()));
    switch (layer.kind) {
        case OpKind::Input:
            fail(layer, "an input layer can only be added with add_input");
        case OpKind::Conv2d: {
            expect_rank(layer, in(0), 3, "CHW feature map");
            const auto& c = layer.conv();
            const auto& w = c.weight.shape;
            if (w.size() != 4) fail(layer, fmt::format("weight has shape {}, expected rank 4", shape_str(w)));
            if (w[1] != in(0)[0])
                fail(layer, fmt::format("weight {} expects {} input channels, the input has {}", shape_str(w), w[1],
                                        in(0)[0]));
            if (w[2] != c.window.kernel_h || w[3] != c.window.kernel_w)
                fail(layer, fmt::format("weight {} disagrees with kernel {}x{}", shape_str(w), c.window.kernel_h,
                                        c.window.kernel_w));
            if (!c.bias.empty()) expect_vector(layer, c.bias, w[0], "bias");
            return window_shape(layer, in(0), w[0], c.window);
        }
        case OpKind::BatchNorm: {
            expect_rank(layer, in(0), 3, "CHW feature map");
            const auto& b = layer.bn();
            for (const auto* t : {&b.gamma, &b.beta, &b.mean, &b.var}) expect_vector(layer, *t, in(0)[0], "parameter");
            for (float v : b.var.data)
                if (!(v + b.eps > 0.0f)) fail(layer, fmt::format("variance {} + eps {} is not positive", v, b.eps));
            return in(0);
        }
        case OpKind::ReLU:
            return in(0);
        case OpKind::Add:
            if (in(0) != in(1))
                fail(layer, fmt::format("input shapes differ: {} vs {}", shape_str(in(0)), shape_str(in(1))));
            return in(0);
        case OpKind::MaxPool:
        case OpKind::AvgPool:
            expect_rank(layer, in(0), 3, "CHW feature map");
            return window_shape(layer, in(0), in(0)[0], layer.pool().window);
        case OpKind::GlobalAvgPool:
            expect_rank(layer, in(0), 3, "CHW feature map");
            return {in(0)[0], 1, 1};
        case OpKind::Flatten:
            return {checked_numel(in(0), kMaxElements)};
        case OpKind::Linear: {
            expect_rank(layer, in(0), 1, "flattened");
            const auto& w = layer.linear().weight.shape;
            if (w.size() != 2 || w[1] != in(0)[0])
                fail(layer, fmt::format("weight has shape {}, expected [out, {}]", shape_str(w), in(0)[0]));
            if (!layer.linear().bias.empty()) expect_vector(layer, layer.linear().bias, w[0], "bias");
            return {w[0]};
        }
    }
    throw InternalError("unknown layer kind");
}

}  // namespace

PoolWindow pool_window(const Window2d& w, int64_t in_h, int64_t in_w, int64_t oy, int64_t ox, bool count_include_pad) {
    int64_t y0 = oy * w.stride_h - w.pad_top, x0 = ox * w.stride_w - w.pad_left;
    int64_t y1 = std::min(y0 + w.kernel_h, in_h + w.pad_bottom);
    int64_t x1 = std::min(x0 + w.kernel_w, in_w + w.pad_right);
    const int64_t padded_area = (y1 - y0) * (x1 - x0);
    y0 = std::max<int64_t>(y0, 0), x0 = std::max<int64_t>(x0, 0);
    y1 = std::min(y1, in_h), x1 = std::min(x1, in_w);
    return {y0, y1, x0, x1, count_include_pad ? padded_area : (y1 - y0) * (x1 - x0)};
}

std::vector<int64_t> window_output_shape(const std::string& who, const std::vector<int64_t>& in, int64_t channels,
                                         const Window2d& w, bool conv) {
    if (in.size() != 3) fail_window(who, fmt::format("expects a CHW feature map, got shape {}", shape_str(in)));
    return {channels, window_out(who, conv, in[1], w.kernel_h, w.stride_h, w.pad_top, w.pad_bottom, w.ceil_mode, "H"),
            window_out(who, conv, in[2], w.kernel_w, w.stride_w, w.pad_left, w.pad_right, w.ceil_mode, "W")};
}

const char* op_name(OpKind kind) {
    switch (kind) {
        case OpKind::Input: return "Input";
        case OpKind::Conv2d: return "Conv2d";
        case OpKind::BatchNorm: return "BatchNorm";
        case OpKind::ReLU: return "ReLU";
        case OpKind::Add: return "Add";
        case OpKind::MaxPool: return "MaxPool";
        case OpKind::AvgPool: return "AvgPool";
        case OpKind::GlobalAvgPool: return "GlobalAvgPool";
        case OpKind::Flatten: return "Flatten";
        case OpKind::Linear: return "Linear";
    }
    return "?";
}

Network::Network(std::string name) : name_(std::move(name)) {}

int Network::add_input(const std::string& name, std::vector<int64_t> chw) {
    if (!layers_.empty()) throw InternalError("the input must be the first layer");
    if (chw.size() != 3 || chw[0] < 1 || chw[1] < 1 || chw[2] < 1)
        throw ModelError(fmt::format("input '{}': shape {} must be [C, H, W] with positive sizes", name,
                                     shape_str(chw)));
    require_memory<ModelError>(fmt::format("input '{}': one image of shape {} as float32", name, shape_str(chw)),
                               saturating_mul(checked_numel(chw, kMaxElements), int64_t{sizeof(float)}));
    Layer in;
    in.name = name;
    in.kind = OpKind::Input;
    in.shape = std::move(chw);
    layers_.push_back(std::move(in));
    return 0;
}

int Network::add(Layer layer) {
    if (layers_.empty()) throw InternalError("add_input must come before other layers");
    for (int id : layer.inputs)
        if (id < 0 || id >= size()) fail(layer, fmt::format("input id {} does not exist yet", id));
    layer.shape = infer_shape(*this, layer);
    // Every engine holds at least this one feature map of one image: a lower bound, before any allocates it.
    const int64_t elements = checked_numel(layer.shape, kMaxElements);
    const std::string over = memory_over_limit(
        fmt::format("the feature map {} of one image as float32", shape_str(layer.shape)),
        saturating_mul(elements, int64_t{sizeof(float)}));
    if (!over.empty()) fail(layer, over);
    layers_.push_back(std::move(layer));
    return size() - 1;
}

void Network::set_output(int id) {
    if (id < 0 || id >= size()) throw InternalError(fmt::format("output id {} out of range", id));
    output_ = id;
}

std::vector<int> Network::consumers(int id) const {
    std::vector<int> out;
    for (int i = id + 1; i < size(); ++i)
        for (int src : layers_[static_cast<size_t>(i)].inputs)
            if (src == id) {
                out.push_back(i);
                break;
            }
    return out;
}

int64_t param_count(const Layer& layer) {
    switch (layer.kind) {
        case OpKind::Conv2d: return layer.conv().weight.numel() + layer.conv().bias.numel();
        case OpKind::Linear: return layer.linear().weight.numel() + layer.linear().bias.numel();
        case OpKind::BatchNorm: return layer.bn().gamma.numel() + layer.bn().beta.numel();
        default: return 0;
    }
}

int64_t mac_count(const Layer& layer) {
    switch (layer.kind) {
        case OpKind::Conv2d: {
            const auto& w = layer.conv().weight.shape;
            return layer.shape[0] * layer.shape[1] * layer.shape[2] * w[1] * w[2] * w[3];
        }
        case OpKind::Linear: return layer.linear().weight.numel();
        default: return 0;
    }
}

int64_t if_neuron_count(const Network& net, int id) {
    const Layer& layer = net.layer(id);
    const bool neuron_site = layer.kind == OpKind::ReLU || layer.kind == OpKind::AvgPool ||
                             layer.kind == OpKind::GlobalAvgPool || id == net.output_id();
    if (!neuron_site || layer.kind == OpKind::Input) return 0;
    return shape_numel(layer.shape);
}

NetworkTotals totals(const Network& net) {
    NetworkTotals t;
    for (int id = 0; id < net.size(); ++id) {
        t.params += param_count(net.layer(id));
        t.macs += mac_count(net.layer(id));
        t.if_neurons += if_neuron_count(net, id);
    }
    return t;
}

}  // namespace neuroemu
