// Internal to nir/: a NIR graph with its nested NIRGraph nodes flattened, each node's output shape inferred and
// each linear node as an explicit sparse matrix (what import composes into projections). docs/nir.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nir/nir_file.h"

namespace neuroemu::nir::detail {

enum class Role { Input, Output, Neuron, Linear, Pass, Gate };

struct FlatNode {
    std::string name;        // "outer.inner" for a node of a nested graph
    const Node* node = nullptr;
    Role role = Role::Pass;
    std::vector<int> in, out;            // flat edges (indices into FlatGraph::nodes)
    std::vector<bool> out_back;          // per `out` edge: closes a cycle (recurrent)
    std::vector<int64_t> in_shape, out_shape;  // NIR shapes, no batch dimension
    std::string who() const { return "node '" + name + "' (" + node->type + ")"; }
};

struct FlatGraph {
    std::vector<FlatNode> nodes;
    int input = -1, output = -1;
    std::vector<int> order;  // topological over the edges that do not close a cycle
};

// Flattens nested graphs, finds the one Input and Output, marks recurrent edges, orders topologically and infers
// shapes (ModelError prefixed by `where`).
FlatGraph flatten_graph(const Graph& root, const std::string& where);

// A linear node as a matrix: for each input element the (output element, weight) pairs it reaches, ascending;
// every structural synapse kept (weight 0 included). `bias` per output element, empty when the node has none.
struct Matrix {
    std::vector<std::vector<std::pair<int64_t, double>>> rows;
    std::vector<double> bias;
};
// `rows` false: the bias only (a large convolution's synapses are not built when only its bias is needed).
Matrix node_matrix(const FlatNode& n, const std::string& where, bool rows = true);

// Window parameters of Conv/pool nodes: two values each (a scalar or one value repeated).
std::vector<int64_t> pair_param(const FlatNode& n, const std::string& key, const std::string& where, int64_t dflt,
                                bool required);
// Padding, with "same"/"valid" strings resolved for the kernel (effective size with dilation) and stride.
std::vector<int64_t> padding_param(const FlatNode& n, const std::vector<int64_t>& kernel,
                                   const std::vector<int64_t>& dilation, const std::vector<int64_t>& stride,
                                   const std::string& where);
const Array& param(const FlatNode& n, const std::string& key, const std::string& where);
// An integer parameter of one value (`dflt` when absent), else ModelError naming the node and the key.
int64_t int_scalar(const FlatNode& n, const std::string& key, const std::string& where, int64_t dflt);

}  // namespace neuroemu::nir::detail
