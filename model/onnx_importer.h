// The ONNX importer's internals, shared by onnx_import.cpp (the file and graph) and onnx_ops.cpp (one handler
// per supported op). Internal to the model library: it exposes the ONNX protobuf types, the public header does not.
#pragma once

#include <onnx/onnx_pb.h>

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/error.h"
#include "model/network.h"

namespace neuroemu::onnx_detail {

// A problem with one node; Importer::import_node prefixes the file and node before it reaches the user.
struct NodeProblem : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void problem(const std::string& what) { throw NodeProblem(what); }

// What an ONNX value name stands for while importing.
struct Value {
    int layer = -1;                               // an activation, computed by this network layer
    const onnx::TensorProto* constant = nullptr;  // a constant (initializer or Constant node), decoded on use
    std::optional<Layer> pending_linear;          // a MatMul's Linear, held back until its bias Add is seen
};

// The layer name: the node name, or its first output's when the exporter left it unnamed.
inline std::string node_label(const onnx::NodeProto& node) {
    if (!node.name().empty()) return node.name();
    return node.output_size() > 0 ? node.output(0) : std::string("<unnamed>");
}

// False for absent trailing inputs and for optional inputs skipped with an empty name.
inline bool has_input(const onnx::NodeProto& node, int i) { return i < node.input_size() && !node.input(i).empty(); }

// One import: reads the graph into a Network, node by node in dependency order. Every message it throws starts
// with the source file name.
class Importer {
public:
    Importer(const onnx::ModelProto& model, std::string source)
        : graph_(model.graph()), model_(model), source_(std::move(source)) {}

    Network run();

private:
    using Handler = void (Importer::*)(const onnx::NodeProto&);
    // The supported ops by op_type, in name order (onnx_ops.cpp).
    static const std::map<std::string, Handler>& handlers();

    [[noreturn]] void fail(const std::string& what) const {
        throw ModelError(fmt::format("{}: {}", source_, what));
    }
    [[noreturn]] void fail(const onnx::NodeProto& node, const std::string& what) const {
        fail(fmt::format("node '{}' ({}): {}", node_label(node), node.op_type(), what));
    }

    void read_opset();
    void read_initializers();
    void read_input();
    std::unordered_map<std::string, int> producers() const;
    std::vector<const onnx::NodeProto*> sorted_nodes() const;
    void count_uses();
    void import_node(const onnx::NodeProto& node);
    void set_output();

    Value& input_value(const onnx::NodeProto& node, int i, bool keep_pending = false);
    int activation(const onnx::NodeProto& node, int i);
    const onnx::TensorProto& constant(const onnx::NodeProto& node, int i, const char* role);
    Tensor float_constant(const onnx::NodeProto& node, int i, const char* role, bool require_finite = true);
    int add_layer(Layer layer);
    Layer make_layer(const onnx::NodeProto& node, OpKind kind, std::vector<int> inputs, LayerAttrs attrs = {}) const;
    void define(const onnx::NodeProto& node, Value v) { values_[node.output(0)] = std::move(v); }
    void define_as(const onnx::NodeProto& node, int layer);  // output 0 is layer `layer`'s output
    void define_layer(const onnx::NodeProto& node, OpKind kind, std::vector<int> inputs, LayerAttrs attrs = {});
    const std::vector<int64_t>& shape_of(int layer) const { return net_.layer(layer).shape; }

    // One per supported op, in onnx_ops.cpp.
    void op_identity(const onnx::NodeProto& node);
    void op_dropout(const onnx::NodeProto& node);
    void op_constant(const onnx::NodeProto& node);
    void op_conv(const onnx::NodeProto& node);
    void op_batchnorm(const onnx::NodeProto& node);
    void op_relu(const onnx::NodeProto& node);
    void op_clip(const onnx::NodeProto& node);
    void op_add(const onnx::NodeProto& node);
    void op_matmul(const onnx::NodeProto& node);
    void op_gemm(const onnx::NodeProto& node);
    void op_maxpool(const onnx::NodeProto& node);
    void op_avgpool(const onnx::NodeProto& node);
    void op_global_avgpool(const onnx::NodeProto& node);
    void op_flatten(const onnx::NodeProto& node);
    void op_reshape(const onnx::NodeProto& node);
    bool reshape_flattens(const std::vector<int64_t>& in, const std::vector<int64_t>& target, bool allowzero) const;

    const onnx::GraphProto& graph_;
    const onnx::ModelProto& model_;
    std::string source_;
    int64_t opset_ = 0;
    int64_t batch_ = 0;  // the input's fixed batch size, 0 if symbolic
    Network net_;
    std::unordered_map<std::string, Value> values_;
    std::unordered_set<std::string> external_;                        // initializers and graph inputs
    std::unordered_map<std::string, int> uses_;                       // node inputs + graph outputs reading it
    std::unordered_map<std::string, const onnx::NodeProto*> reader_;  // the last node reading it
};

}  // namespace neuroemu::onnx_detail
