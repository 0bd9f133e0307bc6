#include "model/onnx_import.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <queue>
#include <utility>

#include "common/error.h"
#include "model/onnx_importer.h"
#include "model/onnx_tensor.h"

namespace neuroemu {
namespace onnx_detail {
namespace {

constexpr int64_t kMinOpset = 9;
constexpr int64_t kMaxOpset = 17;

// After Kahn's algorithm stops, every unsorted node still waits on an unsorted producer, so walking back through
// those must revisit a node: one on a cycle, rather than one merely downstream of it.
size_t node_on_cycle(const std::vector<std::vector<size_t>>& prev, const std::vector<size_t>& pending) {
    size_t i = 0;
    while (pending[i] == 0) ++i;
    std::vector<bool> seen(prev.size(), false);
    while (!seen[i]) {
        seen[i] = true;
        for (size_t p : prev[i])
            if (pending[p] > 0) {
                i = p;
                break;
            }
    }
    return i;
}

}  // namespace

Network Importer::run() {
    read_opset();
    // Exporters name graphs generically ("torch_jit", "main_graph"); the file name says which model this is.
    const std::string stem = std::filesystem::path(source_).stem().string();
    net_ = Network(!stem.empty() ? stem : !graph_.name().empty() ? graph_.name() : "network");
    read_initializers();
    read_input();
    if (graph_.output_size() != 1)
        fail(fmt::format("the graph has {} outputs; exactly one (the class scores) is supported",
                         graph_.output_size()));
    const auto order = sorted_nodes();
    count_uses();
    for (const auto* node : order) import_node(*node);
    set_output();
    return std::move(net_);
}

void Importer::read_opset() {
    opset_ = -1;
    for (const auto& op : model_.opset_import())
        if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
    if (opset_ < 0) fail("the model declares no opset for the default ONNX domain (opset_import is missing)");
    if (opset_ < kMinOpset || opset_ > kMaxOpset)
        fail(fmt::format("opset {} is not supported; supported opsets of the default ONNX domain are {} to {} "
                         "(re-export, e.g. torch.onnx.export(..., opset_version=13))",
                         opset_, kMinOpset, kMaxOpset));
}

void Importer::read_initializers() {
    for (const auto& t : graph_.initializer()) {
        if (!external_.insert(t.name()).second) fail(fmt::format("initializer '{}' is defined twice", t.name()));
        values_[t.name()].constant = &t;
    }
}

void Importer::read_input() {
    std::vector<const onnx::ValueInfoProto*> inputs;
    for (const auto& vi : graph_.input())
        if (!external_.count(vi.name())) inputs.push_back(&vi);
    if (inputs.size() != 1) {
        std::vector<std::string> names;
        for (const auto* vi : inputs) names.push_back("'" + vi->name() + "'");
        fail(fmt::format("the graph has {} inputs besides initializers ({}); exactly one image input is supported",
                         inputs.size(), fmt::join(names, ", ")));
    }
    const auto& vi = *inputs[0];
    const auto& tt = vi.type().tensor_type();
    const std::string what = fmt::format("graph input '{}'", vi.name());
    if (!vi.type().has_tensor_type() || tt.elem_type() != onnx::TensorProto_DataType_FLOAT)
        fail(fmt::format("{} must be a float32 tensor, got {}", what,
                         vi.type().has_tensor_type() ? data_type_name(tt.elem_type()) : "a non-tensor"));
    const int rank = tt.has_shape() ? tt.shape().dim_size() : -1;
    if (rank != 4)
        fail(fmt::format("{} has {}; expected rank 4 [N, C, H, W]", what,
                         rank < 0 ? std::string("no shape") : fmt::format("rank {}", rank)));
    std::vector<int64_t> chw;
    for (int i = 1; i < 4; ++i) {
        const auto& d = tt.shape().dim(i);
        if (!d.has_dim_value() || d.dim_value() < 1)
            fail(fmt::format("{}: dimension {} ({}) is {}; C, H and W must be fixed positive sizes", what, i,
                             "NCHW"[i], d.has_dim_value() ? std::to_string(d.dim_value()) : "'" + d.dim_param() + "'"));
        chw.push_back(d.dim_value());
    }
    const auto& n = tt.shape().dim(0);
    batch_ = n.has_dim_value() && n.dim_value() > 0 ? n.dim_value() : 0;
    try {
        net_.add_input(vi.name(), chw);
    } catch (const ModelError& e) {
        fail(e.what());
    }
    external_.insert(vi.name());
    values_[vi.name()].layer = 0;
}

// SSA form: every value has a single producer.
std::unordered_map<std::string, int> Importer::producers() const {
    std::unordered_map<std::string, int> producer;
    for (int i = 0; i < graph_.node_size(); ++i)
        for (const auto& out : graph_.node(i).output()) {
            if (out.empty()) continue;
            if (external_.count(out) || !producer.emplace(out, i).second)
                fail(graph_.node(i), fmt::format("output '{}' is already defined elsewhere in the graph", out));
        }
    for (const auto& out : graph_.output())
        if (!producer.count(out.name()) && !external_.count(out.name()))
            fail(fmt::format("graph output '{}' is not produced by any node", out.name()));
    return producer;
}

// Kahn's algorithm; ties go to file order so the network reads like the ONNX graph.
std::vector<const onnx::NodeProto*> Importer::sorted_nodes() const {
    const auto producer = producers();
    const auto n = static_cast<size_t>(graph_.node_size());
    std::vector<std::vector<size_t>> prev(n), next(n);
    for (size_t i = 0; i < n; ++i)
        for (const auto& in : graph_.node(static_cast<int>(i)).input()) {
            if (in.empty()) continue;  // an omitted optional input
            if (auto it = producer.find(in); it != producer.end()) {
                prev[i].push_back(static_cast<size_t>(it->second));
                next[static_cast<size_t>(it->second)].push_back(i);
            } else if (!external_.count(in)) {
                fail(graph_.node(static_cast<int>(i)),
                     fmt::format("input '{}' is not produced by any node, initializer or graph input", in));
            }
        }
    std::vector<size_t> pending(n);
    std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
    for (size_t i = 0; i < n; ++i)
        if ((pending[i] = prev[i].size()) == 0) ready.push(i);
    std::vector<const onnx::NodeProto*> order;
    while (!ready.empty()) {
        const size_t i = ready.top();
        ready.pop();
        order.push_back(&graph_.node(static_cast<int>(i)));
        for (size_t j : next[i])
            if (--pending[j] == 0) ready.push(j);
    }
    if (order.size() < n)
        fail(graph_.node(static_cast<int>(node_on_cycle(prev, pending))),
             "the graph has a cycle: this node depends, directly or indirectly, on its own output");
    return order;
}

void Importer::count_uses() {
    for (const auto& node : graph_.node())
        for (const auto& in : node.input()) {
            ++uses_[in];
            reader_[in] = &node;
        }
    for (const auto& out : graph_.output()) ++uses_[out.name()];
}

void Importer::import_node(const onnx::NodeProto& node) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
        fail(node, fmt::format("operator domain '{}' is not supported; only the default ONNX domain is",
                               node.domain()));
    const auto& table = handlers();
    const auto handler = table.find(node.op_type());
    if (handler == table.end()) {
        std::vector<std::string> ops;
        for (const auto& entry : table) ops.push_back(entry.first);
        fail(fmt::format("node '{}' ({}) is not supported; supported ops: {}", node_label(node), node.op_type(),
                         fmt::join(ops, ", ")));
    }
    if (node.output_size() < 1 || node.output(0).empty()) fail(node, "the node has no output");
    // Extra outputs (Dropout's mask, MaxPool's indices, BatchNormalization's statistics) only exist in training.
    for (int i = 1; i < node.output_size(); ++i)
        if (!node.output(i).empty() && uses_[node.output(i)] > 0)
            fail(node, fmt::format("output {} ('{}') is used, but only the first output is supported", i,
                                   node.output(i)));
    try {
        (this->*handler->second)(node);
    } catch (const NodeProblem& p) {
        fail(node, p.what());
    }
}

void Importer::set_output() {
    const std::string& name = graph_.output(0).name();
    Value& v = values_.at(name);  // sorted_nodes checked that something produces it
    if (v.pending_linear) v.layer = add_layer(*std::exchange(v.pending_linear, std::nullopt));
    if (v.constant) fail(fmt::format("graph output '{}' is a constant; it must be computed from the input", name));
    if (v.layer <= 0)
        fail(fmt::format("graph output '{}' is the graph input itself; the model computes nothing", name));
    net_.set_output(v.layer);
}

// ---- values -----------------------------------------------------------------------------------------------

Value& Importer::input_value(const onnx::NodeProto& node, int i, bool keep_pending) {
    if (!has_input(node, i)) problem(fmt::format("required input {} is missing", i));
    const auto it = values_.find(node.input(i));
    if (it == values_.end())  // produced, but as an unused extra output (checked in import_node)
        problem(fmt::format("input '{}' is not available", node.input(i)));
    Value& v = it->second;
    if (v.pending_linear && !keep_pending) v.layer = add_layer(*std::exchange(v.pending_linear, std::nullopt));
    return v;
}

int Importer::activation(const onnx::NodeProto& node, int i) {
    const Value& v = input_value(node, i);
    if (v.constant)
        problem(fmt::format("input '{}' is a constant, but an activation computed from the graph input is "
                            "expected here (constant folding is not supported)",
                            node.input(i)));
    return v.layer;
}

const onnx::TensorProto& Importer::constant(const onnx::NodeProto& node, int i, const char* role) {
    if (!has_input(node, i)) problem(fmt::format("the {} (input {}) is missing", role, i));
    const Value& v = input_value(node, i);
    if (!v.constant)
        problem(fmt::format("the {} '{}' must be a constant (an initializer or Constant node), but it is computed "
                            "from the graph input",
                            role, node.input(i)));
    return *v.constant;
}

Tensor Importer::float_constant(const onnx::NodeProto& node, int i, const char* role, bool require_finite) {
    const auto& t = constant(node, i, role);
    try {
        return decode_float_tensor(t, require_finite);
    } catch (const ModelError& e) {
        problem(fmt::format("{} {}", role, e.what()));
    }
}

// Network::add names the layer; only the file is missing from its message.
int Importer::add_layer(Layer layer) {
    try {
        return net_.add(std::move(layer));
    } catch (const ModelError& e) {
        fail(e.what());
    }
}

Layer Importer::make_layer(const onnx::NodeProto& node, OpKind kind, std::vector<int> inputs,
                           LayerAttrs attrs) const {
    Layer l;
    l.name = node_label(node);
    l.kind = kind;
    l.inputs = std::move(inputs);
    l.attrs = std::move(attrs);
    return l;
}

void Importer::define_as(const onnx::NodeProto& node, int layer) {
    Value v;
    v.layer = layer;
    define(node, std::move(v));
}

void Importer::define_layer(const onnx::NodeProto& node, OpKind kind, std::vector<int> inputs, LayerAttrs attrs) {
    define_as(node, add_layer(make_layer(node, kind, std::move(inputs), std::move(attrs))));
}

}  // namespace onnx_detail

Network import_onnx_bytes(const std::string& bytes, const std::string& source) {
    if (bytes.empty()) throw ModelError(fmt::format("{}: the file is empty; expected an ONNX model", source));
    if (bytes.size() > static_cast<size_t>(INT_MAX))
        throw ModelError(fmt::format("{}: {} bytes is too large for an ONNX model (limit 2 GiB)", source,
                                     bytes.size()));
    onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw ModelError(fmt::format(
            "{}: not a valid ONNX model: protobuf parsing failed (truncated or corrupt file?)", source));
    if (!model.has_graph())
        throw ModelError(fmt::format("{}: not a valid ONNX model: it contains no graph", source));
    return onnx_detail::Importer(model, source).run();
}

Network import_onnx_file(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw ModelError(fmt::format("{}: file not found", path));
    if (std::filesystem::is_directory(path, ec))
        throw ModelError(fmt::format("{}: is a directory, expected an .onnx file", path));
    // Refused before reading: the bytes would be held whole, and protobuf parses at most 2 GiB.
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > static_cast<uintmax_t>(INT_MAX))
        throw ModelError(fmt::format("{}: {} bytes is too large for an ONNX model (limit 2 GiB)", path, size));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw ModelError(fmt::format("{}: read error: {}", path, std::strerror(errno)));
    return import_onnx_bytes(bytes, path);
}

}  // namespace neuroemu
