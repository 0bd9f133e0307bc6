// The handlers of the supported ONNX ops and the attribute readers they share.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

#include "model/onnx_importer.h"
#include "model/onnx_tensor.h"

namespace neuroemu::onnx_detail {
namespace {

// ---- attributes ---------------------------------------------------------------------------------------------

// Any attribute not in `allowed` is rejected, so unknown semantics never pass silently.
void allow_attrs(const onnx::NodeProto& node, std::initializer_list<const char*> allowed) {
    for (const auto& a : node.attribute()) {
        bool ok = false;
        for (const char* name : allowed) ok = ok || a.name() == name;
        if (!ok)
            problem(fmt::format("attribute '{}' is not supported; allowed: {}", a.name(),
                                allowed.size() == 0 ? "none" : fmt::format("{}", fmt::join(allowed, ", "))));
    }
}

// Older exporters leave `type` UNDEFINED, so only a conflicting declared type is an error.
const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const char* name,
                                      onnx::AttributeProto::AttributeType type) {
    for (const auto& a : node.attribute()) {
        if (a.name() != name) continue;
        if (a.type() != type && a.type() != onnx::AttributeProto::UNDEFINED)
            problem(fmt::format("attribute '{}' has type {}, expected {}", name,
                                onnx::AttributeProto::AttributeType_Name(a.type()),
                                onnx::AttributeProto::AttributeType_Name(type)));
        return &a;
    }
    return nullptr;
}

int64_t attr_int(const onnx::NodeProto& node, const char* name, int64_t fallback) {
    const auto* a = find_attr(node, name, onnx::AttributeProto::INT);
    return a ? a->i() : fallback;
}

float attr_float(const onnx::NodeProto& node, const char* name, float fallback) {
    const auto* a = find_attr(node, name, onnx::AttributeProto::FLOAT);
    return a ? a->f() : fallback;
}

std::string attr_string(const onnx::NodeProto& node, const char* name, const std::string& fallback) {
    const auto* a = find_attr(node, name, onnx::AttributeProto::STRING);
    return a ? a->s() : fallback;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto& node, const char* name, std::vector<int64_t> fallback,
                               size_t count) {
    const auto* a = find_attr(node, name, onnx::AttributeProto::INTS);
    std::vector<int64_t> v = a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::move(fallback);
    if (v.size() != count)
        problem(fmt::format("attribute '{}' has {} values, expected {} (only 2-D images are supported)", name,
                            v.size(), count));
    return v;
}

bool attr_flag(const onnx::NodeProto& node, const char* name) {
    const int64_t v = attr_int(node, name, 0);
    if (v != 0 && v != 1) problem(fmt::format("attribute '{}' = {} must be 0 or 1", name, v));
    return v == 1;
}

// Window2d holds ints; Network::add judges the values, this only keeps them representable.
int to_int(int64_t v, const char* what) {
    constexpr int64_t kLimit = INT64_C(1) << 24;
    if (v < -kLimit || v > kLimit) problem(fmt::format("{} value {} is out of range", what, v));
    return static_cast<int>(v);
}

// ONNX auto_pad SAME_*: output = ceil(in / stride); SAME_UPPER puts the odd pad at the end.
void same_pads(int64_t in, int kernel, int stride, bool upper, int& lo, int& hi) {
    if (kernel < 1 || stride < 1) return;  // left to Network::add to report
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + kernel - in);
    const int64_t small = total / 2;
    lo = static_cast<int>(upper ? small : total - small);
    hi = static_cast<int>(total - lo);
}

void apply_auto_pad(const onnx::NodeProto& node, const std::vector<int64_t>& pads, const std::vector<int64_t>& in,
                    Window2d& w) {
    const std::string mode = attr_string(node, "auto_pad", "NOTSET");
    if (mode == "NOTSET") return;
    if (mode != "VALID" && mode != "SAME_UPPER" && mode != "SAME_LOWER")
        problem(fmt::format("attribute 'auto_pad' = '{}' is not supported; allowed: NOTSET, VALID, SAME_UPPER, "
                            "SAME_LOWER",
                            mode));
    for (int64_t p : pads)
        if (p != 0) problem(fmt::format("attributes 'auto_pad' = '{}' and 'pads' cannot both be set", mode));
    if (mode == "VALID" || in.size() != 3) return;  // a wrong rank is reported by Network::add
    const bool upper = mode == "SAME_UPPER";
    same_pads(in[1], w.kernel_h, w.stride_h, upper, w.pad_top, w.pad_bottom);
    same_pads(in[2], w.kernel_w, w.stride_w, upper, w.pad_left, w.pad_right);
}

// The window of Conv, MaxPool or AveragePool; `weight_hw` gives Conv's kernel size when kernel_shape is absent.
Window2d window_attrs(const onnx::NodeProto& node, const std::vector<int64_t>& in,
                      std::optional<std::vector<int64_t>> weight_hw) {
    if (!weight_hw && !find_attr(node, "kernel_shape", onnx::AttributeProto::INTS))
        problem("attribute 'kernel_shape' is required");
    const auto kernel = attr_ints(node, "kernel_shape", weight_hw.value_or(std::vector<int64_t>{}), 2);
    const auto strides = attr_ints(node, "strides", {1, 1}, 2);
    const auto pads = attr_ints(node, "pads", {0, 0, 0, 0}, 4);
    const auto dilations = attr_ints(node, "dilations", {1, 1}, 2);
    if (dilations != std::vector<int64_t>{1, 1})
        problem(fmt::format("attribute 'dilations' = {} is not supported; only dilation 1 (dilations [1, 1])",
                            shape_str(dilations)));
    Window2d w;
    w.kernel_h = to_int(kernel[0], "kernel_shape");
    w.kernel_w = to_int(kernel[1], "kernel_shape");
    w.stride_h = to_int(strides[0], "strides");
    w.stride_w = to_int(strides[1], "strides");
    w.pad_top = to_int(pads[0], "pads");  // ONNX order: H begin, W begin, H end, W end
    w.pad_left = to_int(pads[1], "pads");
    w.pad_bottom = to_int(pads[2], "pads");
    w.pad_right = to_int(pads[3], "pads");
    w.ceil_mode = attr_flag(node, "ceil_mode");  // Conv's allow-list rejects it, so it stays false there
    apply_auto_pad(node, pads, in, w);
    return w;
}

// Biases of Gemm and of MatMul + Add come as [out] or, from some exporters, [1, out].
Tensor as_bias(Tensor t) {
    if (t.shape.size() == 2 && t.shape[0] == 1) t.shape = {t.shape[1]};
    if (t.shape.size() != 1)
        problem(fmt::format("bias has shape {}, expected [out_features] or [1, out_features]", shape_str(t.shape)));
    return t;
}

}  // namespace

// ---- ops ----------------------------------------------------------------------------------------------------

const std::map<std::string, Importer::Handler>& Importer::handlers() {
    static const std::map<std::string, Handler> table = {
        {"Add", &Importer::op_add},
        {"AveragePool", &Importer::op_avgpool},
        {"BatchNormalization", &Importer::op_batchnorm},
        {"Clip", &Importer::op_clip},
        {"Constant", &Importer::op_constant},
        {"Conv", &Importer::op_conv},
        {"Dropout", &Importer::op_dropout},
        {"Flatten", &Importer::op_flatten},
        {"Gemm", &Importer::op_gemm},
        {"GlobalAveragePool", &Importer::op_global_avgpool},
        {"Identity", &Importer::op_identity},
        {"MatMul", &Importer::op_matmul},
        {"MaxPool", &Importer::op_maxpool},
        {"Relu", &Importer::op_relu},
        {"Reshape", &Importer::op_reshape},
    };
    return table;
}

void Importer::op_identity(const onnx::NodeProto& node) {
    allow_attrs(node, {});
    Value alias = input_value(node, 0);
    define(node, std::move(alias));
}

void Importer::op_dropout(const onnx::NodeProto& node) {
    allow_attrs(node, {"ratio", "seed"});
    if (has_input(node, 2))
        problem("the training_mode input is not supported; export the model in eval mode (inference Dropout)");
    Value alias = input_value(node, 0);
    define(node, std::move(alias));
}

void Importer::op_constant(const onnx::NodeProto& node) {
    allow_attrs(node, {"value"});
    const auto* a = find_attr(node, "value", onnx::AttributeProto::TENSOR);
    if (!a) problem("only Constant nodes with a 'value' tensor attribute are supported");
    Value v;
    v.constant = &a->t();
    define(node, std::move(v));
}

void Importer::op_conv(const onnx::NodeProto& node) {
    allow_attrs(node, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
    if (const int64_t group = attr_int(node, "group", 1); group != 1)
        problem(fmt::format("attribute 'group' = {} is not supported; only group = 1 (no grouped or depthwise "
                            "convolutions)",
                            group));
    const int x = activation(node, 0);
    Conv2dAttrs conv;
    conv.weight = float_constant(node, 1, "weight");
    const auto& w = conv.weight.shape;
    if (w.size() != 4)
        problem(fmt::format("weight '{}' has shape {}; expected [out_channels, in_channels, kH, kW]", node.input(1),
                            shape_str(w)));
    conv.window = window_attrs(node, shape_of(x), std::vector<int64_t>{w[2], w[3]});
    if (has_input(node, 2)) conv.bias = float_constant(node, 2, "bias");
    define_layer(node, OpKind::Conv2d, {x}, std::move(conv));
}

void Importer::op_batchnorm(const onnx::NodeProto& node) {
    allow_attrs(node, {"epsilon", "momentum", "training_mode"});
    if (attr_int(node, "training_mode", 0) != 0)
        problem("attribute 'training_mode' = 1 is not supported; export the model in eval mode (training_mode = 0)");
    BatchNormAttrs bn;
    bn.eps = attr_float(node, "epsilon", 1e-5f);
    if (!std::isfinite(bn.eps) || bn.eps < 0) problem(fmt::format("attribute 'epsilon' = {} must be >= 0", bn.eps));
    const int x = activation(node, 0);
    bn.gamma = float_constant(node, 1, "scale");
    bn.beta = float_constant(node, 2, "bias (B)");
    bn.mean = float_constant(node, 3, "running mean");
    bn.var = float_constant(node, 4, "running variance");
    define_layer(node, OpKind::BatchNorm, {x}, std::move(bn));
}

void Importer::op_relu(const onnx::NodeProto& node) {
    allow_attrs(node, {});
    define_layer(node, OpKind::ReLU, {activation(node, 0)});
}

// A ReLU exported through Clip (e.g. torch.clamp(min=0)); true clamps such as ReLU6 have no IR equivalent.
void Importer::op_clip(const onnx::NodeProto& node) {
    constexpr float kInf = std::numeric_limits<float>::infinity();
    float lo = -kInf, hi = kInf;
    if (opset_ < 11) {
        allow_attrs(node, {"min", "max"});
        lo = attr_float(node, "min", -kInf);
        hi = attr_float(node, "max", kInf);
    } else {
        allow_attrs(node, {});
        auto bound = [&](int i, const char* role) {
            const Tensor t = float_constant(node, i, role, false);
            if (t.numel() != 1) problem(fmt::format("{} has shape {}, expected a scalar", role, shape_str(t.shape)));
            return t.data[0];
        };
        if (has_input(node, 1)) lo = bound(1, "min");
        if (has_input(node, 2)) hi = bound(2, "max");
    }
    // Exporters write "no upper bound" as +inf or as the largest float.
    if (lo != 0.0f || hi < std::numeric_limits<float>::max())
        problem(fmt::format("Clip with min = {} and max = {} is not supported; only Clip(min = 0) without an upper "
                            "bound (a ReLU) is",
                            lo, hi));
    define_layer(node, OpKind::ReLU, {activation(node, 0)});
}

// Add of two activations is a residual join; activation + constant is only MatMul's bias (MatMul + Add = Linear).
void Importer::op_add(const onnx::NodeProto& node) {
    allow_attrs(node, {});
    Value& a = input_value(node, 0, true);
    Value& b = input_value(node, 1, true);
    if (!a.constant && !b.constant) {
        const int x = activation(node, 0), y = activation(node, 1);
        define_layer(node, OpKind::Add, {x, y});
        return;
    }
    if (a.constant && b.constant) problem("both inputs are constants; constant folding is not supported");
    Value& act = a.constant ? b : a;
    const int c = a.constant ? 0 : 1;
    if (!act.pending_linear)
        problem(fmt::format("adding the constant '{}' to an activation is supported only as the bias of a MatMul "
                            "whose output feeds nothing but this Add (MatMul + Add = Linear)",
                            node.input(c)));
    Layer linear = *std::exchange(act.pending_linear, std::nullopt);
    linear.linear().bias = as_bias(float_constant(node, c, "bias"));
    act.layer = add_layer(std::move(linear));
    define_as(node, act.layer);
}

// The Linear waits for its bias only when a single Add reads the MatMul's output.
void Importer::op_matmul(const onnx::NodeProto& node) {
    allow_attrs(node, {});
    if (has_input(node, 0) && input_value(node, 0).constant)
        problem("only MatMul(activation, constant weight [in_features, out_features]) is supported");
    const int x = activation(node, 0);
    const Tensor w = float_constant(node, 1, "weight");
    if (w.shape.size() != 2)
        problem(fmt::format("weight '{}' has shape {}; expected [in_features, out_features]", node.input(1),
                            shape_str(w.shape)));
    Layer linear = make_layer(node, OpKind::Linear, {x}, LinearAttrs{transposed(w), Tensor()});
    const std::string& out = node.output(0);
    const auto reader = reader_.find(out);
    const bool only_an_add_reads = uses_[out] == 1 && reader != reader_.end() && reader->second->op_type() == "Add";
    if (only_an_add_reads) {
        Value v;
        v.pending_linear = std::move(linear);
        define(node, std::move(v));
    } else {
        define_as(node, add_layer(std::move(linear)));
    }
}

// Y = alpha * A * B' + beta * C with B' = B^T when transB (PyTorch's nn.Linear export) else B.
void Importer::op_gemm(const onnx::NodeProto& node) {
    allow_attrs(node, {"alpha", "beta", "transA", "transB"});
    if (attr_flag(node, "transA"))
        problem("attribute 'transA' = 1 is not supported; the activation must be A [N, in_features]");
    const bool trans_b = attr_flag(node, "transB");
    const float alpha = attr_float(node, "alpha", 1.0f), beta = attr_float(node, "beta", 1.0f);
    if (!std::isfinite(alpha) || !std::isfinite(beta))
        problem(fmt::format("attributes alpha = {} and beta = {} must be finite", alpha, beta));
    const int x = activation(node, 0);
    const Tensor b = float_constant(node, 1, "weight (B)");
    if (b.shape.size() != 2)
        problem(fmt::format("weight (B) '{}' has shape {}; expected a matrix", node.input(1), shape_str(b.shape)));
    LinearAttrs linear;
    linear.weight = scaled(trans_b ? b : transposed(b), alpha);
    if (has_input(node, 2)) linear.bias = scaled(as_bias(float_constant(node, 2, "bias (C)")), beta);
    define_layer(node, OpKind::Linear, {x}, std::move(linear));
}

void Importer::op_maxpool(const onnx::NodeProto& node) {
    allow_attrs(node, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
    const int x = activation(node, 0);
    PoolAttrs pool;
    pool.window = window_attrs(node, shape_of(x), std::nullopt);
    define_layer(node, OpKind::MaxPool, {x}, pool);
}

void Importer::op_avgpool(const onnx::NodeProto& node) {
    allow_attrs(node,
                {"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"});
    const int x = activation(node, 0);
    PoolAttrs pool;
    pool.window = window_attrs(node, shape_of(x), std::nullopt);
    pool.count_include_pad = attr_flag(node, "count_include_pad");
    define_layer(node, OpKind::AvgPool, {x}, pool);
}

void Importer::op_global_avgpool(const onnx::NodeProto& node) {
    allow_attrs(node, {});
    define_layer(node, OpKind::GlobalAvgPool, {activation(node, 0)});
}

void Importer::op_flatten(const onnx::NodeProto& node) {
    allow_attrs(node, {"axis"});
    if (const int64_t axis = attr_int(node, "axis", 1); axis != 1)
        problem(fmt::format("attribute 'axis' = {} is not supported; only axis = 1 (flatten [N, C, H, W] to "
                            "[N, C*H*W])",
                            axis));
    const int x = activation(node, 0);
    if (shape_of(x).size() == 1)  // already flat
        define_as(node, x);
    else
        define_layer(node, OpKind::Flatten, {x});
}

void Importer::op_reshape(const onnx::NodeProto& node) {
    allow_attrs(node, {"allowzero"});
    const bool allowzero = attr_flag(node, "allowzero");
    const int x = activation(node, 0);
    std::vector<int64_t> target;
    try {
        target = decode_int_tensor(constant(node, 1, "shape"));
    } catch (const ModelError& e) {
        problem(fmt::format("shape {}", e.what()));
    }
    const auto& in = shape_of(x);
    if (!reshape_flattens(in, target, allowzero)) {
        const int64_t features = checked_numel(in, INT64_C(1) << 62);
        problem(fmt::format("target shape {} is not supported; Reshape is supported only to flatten [N, {}] to "
                            "[N, {}] (e.g. shape [0, -1] or [-1, {}])",
                            shape_str(target), fmt::join(in, ", "), features, features));
    }
    if (in.size() == 1)  // already flat
        define_as(node, x);
    else
        define_layer(node, OpKind::Flatten, {x});
}

// True when `target` ([batch, features] with ONNX's 0 = copy and -1 = infer) turns [N, in...] into [N, numel(in)].
bool Importer::reshape_flattens(const std::vector<int64_t>& in, const std::vector<int64_t>& target,
                                bool allowzero) const {
    if (target.size() != 2 || in.empty()) return false;
    const int64_t features = checked_numel(in, INT64_C(1) << 62);
    const int64_t t0 = target[0];
    const int64_t t1 = target[1] == 0 && !allowzero ? in[0] : target[1];  // 0 copies the input's dim 1
    if (t1 == -1) {
        // A fixed leading size is taken as the batch size unless the graph input says otherwise.
        return (t0 == 0 && !allowzero) || (t0 > 0 && (batch_ == 0 || t0 == batch_));
    }
    const bool batch_ok = t0 == -1 || (t0 == 0 && !allowzero) || (t0 > 0 && (batch_ == 0 || t0 == batch_));
    return batch_ok && t1 == features;
}

}  // namespace neuroemu::onnx_detail
