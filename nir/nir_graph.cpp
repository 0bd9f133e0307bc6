#include "nir/nir_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <set>

#include "common/error.h"
#include "common/memory_limit.h"
#include "model/neuron_state.h"
#include "model/tensor.h"

namespace neuroemu::nir::detail {
namespace {

const std::set<std::string> kNeuronTypes = {"IF", "I", "LIF", "CubaLIF", "LI", "CubaLI", "Threshold"};
const std::set<std::string> kLinearTypes = {"Affine", "Linear", "Conv1d", "Conv2d", "SumPool2d",
                                            "AvgPool2d", "Flatten", "Scale"};

// Elements of any node's output: far above any real network (ResNet-50's largest activation has 0.8 M).
constexpr int64_t kMaxElements = INT64_C(1) << 28;
constexpr int64_t kMaxWindow = 1 << 16;  // kernel, stride, padding, dilation (they become ints)
// What one simulated neuron (any node's output element) takes at least in the engine and the chip model.
constexpr int64_t kBytesPerNeuron = kNeuronStateBytes;

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw ModelError(where + ": " + what); }
[[noreturn]] void fail(const std::string& where, const FlatNode& n, const std::string& what) {
    fail(where, n.who() + ": " + what);
}

std::string meta_string(const Node& n, const std::string& key) {
    auto it = n.metadata_strings.find(key);
    return it == n.metadata_strings.end() ? "" : it->second;
}

class Flattener {
public:
    Flattener(FlatGraph& g, std::string where) : g_(g), where_(std::move(where)) {}

    void add_graph(const Graph& graph, const std::string& prefix, bool root) {
        for (const Node& n : graph.nodes) {
            if (n.type == "NIRGraph") {
                if (!n.graph) fail(where_, "node '" + prefix + n.name + "' (NIRGraph): no contents");
                add_graph(*n.graph, prefix + n.name + ".", false);
                continue;
            }
            FlatNode f;
            f.name = prefix + n.name;
            f.node = &n;
            if (n.type == "Input") f.role = root ? Role::Input : Role::Pass;
            else if (n.type == "Output") f.role = root ? Role::Output : Role::Pass;
            else if (kNeuronTypes.count(n.type)) f.role = Role::Neuron;
            else if (n.type == "AvgPool2d" && meta_string(n, "neuroemu_kind") == "max_gate") f.role = Role::Gate;
            else if (kLinearTypes.count(n.type)) f.role = Role::Linear;
            else fail(where_, f.who() + ": not supported");
            if (index_.count(f.name)) fail(where_, "two nodes are named '" + f.name + "' once nested graphs are flattened");
            index_[f.name] = static_cast<int>(g_.nodes.size());
            g_.nodes.push_back(std::move(f));
            if (root && n.type == "Input") {
                if (g_.input >= 0) fail(where_, "more than one Input node ('" + g_.nodes[g_.input].name + "', '" + n.name + "')");
                g_.input = static_cast<int>(g_.nodes.size()) - 1;
            }
            if (root && n.type == "Output") {
                if (g_.output >= 0) fail(where_, "more than one Output node ('" + g_.nodes[g_.output].name + "', '" + n.name + "')");
                g_.output = static_cast<int>(g_.nodes.size()) - 1;
            }
        }
    }

    void add_edges(const Graph& graph, const std::string& prefix) {
        for (const Node& n : graph.nodes)
            if (n.type == "NIRGraph" && n.graph) add_edges(*n.graph, prefix + n.name + ".");
        for (const auto& [a, b] : graph.edges) {
            const auto from = resolve(graph, prefix, a, true), to = resolve(graph, prefix, b, false);
            for (int s : from)
                for (int t : to) {
                    g_.nodes[s].out.push_back(t);
                    g_.nodes[t].in.push_back(s);
                }
        }
    }

private:
    // The flat nodes an edge end names: the node itself, or a subgraph's Input (edge target) or Output (edge
    // source) nodes; "sub.inner" reaches into a subgraph when no node has that literal name.
    std::vector<int> resolve(const Graph& graph, const std::string& prefix, const std::string& name, bool source) {
        if (const Node* n = graph.find(name)) {
            if (n->type != "NIRGraph") return {index_.at(prefix + name)};
            std::vector<int> ends;
            for (const Node& inner : n->graph->nodes)
                if (inner.type == (source ? "Output" : "Input")) ends.push_back(index_.at(prefix + name + "." + inner.name));
            if (ends.empty())
                fail(where_, fmt::format("edge to node '{}{}' (NIRGraph): it has no {} node", prefix, name,
                                         source ? "Output" : "Input"));
            return ends;
        }
        for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
            const Node* sub = graph.find(name.substr(0, dot));
            if (sub && sub->type == "NIRGraph" && sub->graph)
                return resolve(*sub->graph, prefix + name.substr(0, dot + 1), name.substr(dot + 1), source);
        }
        fail(where_, fmt::format("an edge names '{}{}', which is no node", prefix, name));
    }

    FlatGraph& g_;
    std::string where_;
    std::map<std::string, int> index_;
};

// Depth-first from the Input: an edge to a node on the stack closes a cycle.
void mark_cycles(FlatGraph& g, const std::string& where) {
    const size_t n = g.nodes.size();
    std::vector<int> state(n, 0);  // 0 unvisited, 1 on stack, 2 done
    std::vector<int> stack_nodes;
    for (auto& f : g.nodes) f.out_back.assign(f.out.size(), false);
    // Iterative, so that a long chain cannot overflow the call stack.
    std::vector<std::pair<int, size_t>> stack{{g.input, 0}};
    state[g.input] = 1;
    stack_nodes.push_back(g.input);
    while (!stack.empty()) {
        auto& [v, next] = stack.back();
        FlatNode& f = g.nodes[v];
        if (next == f.out.size()) {
            state[v] = 2;
            stack_nodes.pop_back();
            stack.pop_back();
            continue;
        }
        const size_t k = next++;
        const int t = f.out[k];
        if (state[t] == 1) {
            f.out_back[k] = true;
            const auto from = std::find(stack_nodes.begin(), stack_nodes.end(), t);
            const bool has_neuron = std::any_of(from, stack_nodes.end(), [&](int x) {
                return g.nodes[x].role == Role::Neuron || g.nodes[x].role == Role::Input || g.nodes[x].role == Role::Gate;
            });
            if (!has_neuron)
                fail(where, fmt::format("an algebraic loop: the cycle closed by the edge '{}' -> '{}' passes no neuron",
                                        f.name, g.nodes[t].name));
        } else if (state[t] == 0) {
            state[t] = 1;
            stack_nodes.push_back(t);
            stack.emplace_back(t, 0);
        }
    }
    std::string unreached;
    for (size_t i = 0; i < n; ++i)
        // (a nested graph's Input or Output left aside by edges that name its inner nodes directly is no error)
        if (state[i] == 0 && !(g.nodes[i].role == Role::Pass && (g.nodes[i].node->type == "Input" || g.nodes[i].node->type == "Output")))
            unreached += (unreached.empty() ? "'" : ", '") + g.nodes[i].name + "'";
    if (!unreached.empty()) fail(where, "nodes not reachable from the Input node: " + unreached);
    for (size_t i = 0; i < n; ++i) {  // drop the edges of those unreached Input/Output nodes
        if (state[i] != 0) continue;
        for (int t : g.nodes[i].out) {
            auto& in = g.nodes[t].in;
            in.erase(std::remove(in.begin(), in.end(), static_cast<int>(i)), in.end());
        }
        g.nodes[i].out.clear();
        g.nodes[i].out_back.clear();
    }
}

void order_topologically(FlatGraph& g, const std::string& where) {
    std::vector<int> indegree(g.nodes.size(), 0);
    for (const auto& f : g.nodes)
        for (size_t k = 0; k < f.out.size(); ++k)
            if (!f.out_back[k]) ++indegree[f.out[k]];
    // Linear nodes first (so that every population is ready as soon as its sources are), then populations in the
    // file's (alphabetical) order: export's numbered names come back in the model's order.
    auto key = [&](int v) {
        const Role r = g.nodes[v].role;
        return std::make_pair(r == Role::Input || r == Role::Neuron || r == Role::Gate ? 1 : 0, v);
    };
    std::priority_queue<std::pair<int, int>, std::vector<std::pair<int, int>>, std::greater<>> ready;
    ready.push(key(g.input));
    while (!ready.empty()) {
        const int v = ready.top().second;
        ready.pop();
        g.order.push_back(v);
        const auto& f = g.nodes[v];
        for (size_t k = 0; k < f.out.size(); ++k)
            if (!f.out_back[k] && --indegree[f.out[k]] == 0) ready.push(key(f.out[k]));
    }
    // (cannot happen once the depth-first search has cut every cycle; a guard against a crash later)
    for (size_t i = 0; i < g.nodes.size(); ++i)
        if (indegree[i] > 0) fail(where, "node '" + g.nodes[i].name + "' is in a cycle that no edge closes");
}

std::vector<int64_t> int_values(const Array& a) {
    std::vector<int64_t> out;
    // (a value that is no integer in range becomes -1, which every shape and window check rejects)
    for (double v : a.values) out.push_back(v == std::floor(v) && std::abs(v) < 1e15 ? static_cast<int64_t>(v) : -1);
    return out;
}

int64_t window_out(const FlatNode& n, const std::string& where, int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
    if (k < 1 || s < 1 || p < 0 || d < 1 || k > kMaxWindow || s > kMaxWindow || p > kMaxWindow || d > kMaxWindow)
        fail(where, n, fmt::format("kernel {}, stride {}, padding {}, dilation {} must be positive (padding >= 0) and at "
                                   "most {}", k, s, p, d, kMaxWindow));
    const int64_t span = d * (k - 1) + 1;
    if (in + 2 * p < span) fail(where, n, fmt::format("the window {} is larger than the padded input {}", span, in + 2 * p));
    return (in + 2 * p - span) / s + 1;
}

std::string shape_of_param(const FlatNode& n, const std::string& key) {
    return shape_str(n.node->params.at(key).shape);
}

// Output shape of a node given its input shape; checks the node's declared shapes against it.
std::vector<int64_t> infer(const FlatNode& n, const std::vector<int64_t>& in, const std::string& where) {
    const std::string& t = n.node->type;
    if (n.role == Role::Pass || n.role == Role::Output || n.role == Role::Input) return in;
    if (n.role == Role::Neuron) {
        for (const auto& [key, a] : n.node->params)
            if (a.shape != in)
                fail(where, n, fmt::format("parameter '{}' has shape {} but the node's input is {}", key, shape_str(a.shape), shape_str(in)));
        return in;
    }
    if (t == "Affine" || t == "Linear") {
        const Array& w = param(n, "weight", where);
        if (w.shape.size() != 2) fail(where, n, fmt::format("weight has shape {}, expected [out, in]", shape_str(w.shape)));
        if (in.size() != 1 || in[0] != w.shape[1])
            fail(where, n, fmt::format("weight {} does not fit its input {} (expected [{}]; add a Flatten)",
                                       shape_str(w.shape), shape_str(in), w.shape[1]));
        if (t == "Affine" && param(n, "bias", where).shape != std::vector<int64_t>{w.shape[0]})
            fail(where, n, fmt::format("bias has shape {}, expected [{}]", shape_of_param(n, "bias"), w.shape[0]));
        return {w.shape[0]};
    }
    if (t == "Scale") {
        if (param(n, "scale", where).shape != in)
            fail(where, n, fmt::format("scale has shape {} but the input is {}", shape_of_param(n, "scale"), shape_str(in)));
        return in;
    }
    if (t == "Flatten") {
        if (n.node->has("input_type") && int_values(n.node->params.at("input_type")) != in)
            fail(where, n, fmt::format("input_type {} but its input is {}",
                                       shape_str(int_values(n.node->params.at("input_type"))), shape_str(in)));
        const int64_t rank = static_cast<int64_t>(in.size());
        int64_t s = int_scalar(n, "start_dim", where, 1);
        int64_t e = int_scalar(n, "end_dim", where, -1);
        if (s < 0) s += rank;
        if (e < 0) e += rank;
        if (s < 0 || e >= rank || s > e) fail(where, n, fmt::format("start_dim/end_dim do not fit the input {}", shape_str(in)));
        std::vector<int64_t> out(in.begin(), in.begin() + s);
        out.push_back(shape_numel(std::vector<int64_t>(in.begin() + s, in.begin() + e + 1)));
        out.insert(out.end(), in.begin() + e + 1, in.end());
        return out;
    }
    if (t == "Conv2d" || t == "Conv1d") {
        const size_t sp = t == "Conv2d" ? 2 : 1;  // spatial dimensions
        const Array& w = param(n, "weight", where);
        if (w.shape.size() != sp + 2) fail(where, n, fmt::format("weight has shape {}, expected rank {}", shape_str(w.shape), sp + 2));
        const int64_t groups = int_scalar(n, "groups", where, 1);
        if (in.size() != sp + 1 || groups < 1 || in[0] != w.shape[1] * groups || w.shape[0] % groups != 0)
            fail(where, n, fmt::format("weight {} with groups {} does not fit its input {}", shape_str(w.shape), groups, shape_str(in)));
        if (n.node->has("input_shape")) {
            const auto declared = int_values(n.node->params.at("input_shape"));
            if (declared != std::vector<int64_t>(in.begin() + 1, in.end()))
                fail(where, n, fmt::format("input_shape {} but its input is {}", shape_str(declared), shape_str(in)));
        }
        if (n.node->has("bias") && n.node->params.at("bias").shape != std::vector<int64_t>{w.shape[0]})
            fail(where, n, fmt::format("bias has shape {}, expected [{}]", shape_of_param(n, "bias"), w.shape[0]));
        std::vector<int64_t> k(w.shape.begin() + 2, w.shape.end());
        const auto stride = pair_param(n, "stride", where, 1, false), dil = pair_param(n, "dilation", where, 1, false);
        const auto pad = padding_param(n, sp == 2 ? k : std::vector<int64_t>{k[0], k[0]}, dil, stride, where);
        std::vector<int64_t> out{w.shape[0]};
        for (size_t i = 0; i < sp; ++i) out.push_back(window_out(n, where, in[1 + i], k[i], stride[i], pad[i], dil[i]));
        return out;
    }
    if (t == "SumPool2d" || t == "AvgPool2d") {
        if (in.size() != 3) fail(where, n, fmt::format("expects a [C, H, W] input, got {}", shape_str(in)));
        const auto k = pair_param(n, "kernel_size", where, 1, true);
        const auto stride = pair_param(n, "stride", where, 1, false);
        const auto pad = padding_param(n, k, {1, 1}, stride, where);
        return {in[0], window_out(n, where, in[1], k[0], stride[0], pad[0], 1), window_out(n, where, in[2], k[1], stride[1], pad[1], 1)};
    }
    throw InternalError("infer: " + t);
}

void infer_shapes(FlatGraph& g, const std::string& where) {
    std::vector<bool> done(g.nodes.size(), false);
    int64_t total_elements = 0;
    for (int v : g.order) {
        FlatNode& f = g.nodes[v];
        if (f.role == Role::Input) {
            f.in_shape = int_values(param(f, "shape", where));
        } else {
            // Several inputs sum: all must agree (recurrent inputs are checked below, once known).
            bool have = false;
            for (int s : f.in) {
                if (!done[s]) continue;
                const auto& shape = g.nodes[s].out_shape;
                if (have && shape != f.in_shape)
                    fail(where, fmt::format("node '{}' receives {} from '{}' but {} from another input", f.name,
                                            shape_str(shape), g.nodes[s].name, shape_str(f.in_shape)));
                f.in_shape = shape;
                have = true;
            }
        }
        f.out_shape = infer(f, f.in_shape, where);
        // Every later stage allocates per element: bound each node, and the graph's total against the memory
        // budget, before anything does. The estimate saturates, so 10^6 x 10^6 x 10^6 never wraps.
        int64_t elements = 1;
        for (const int64_t d : f.out_shape) elements = d < 0 ? 0 : saturating_mul(elements, d);  // < 0: below
        if (elements > kMaxElements)
            fail(where, f, fmt::format("output shape {} has {} elements ({} of neuron state at {} bytes each), over the "
                                       "limit of {} elements per node",
                                       shape_str(f.out_shape), elements == INT64_MAX ? "over 9.2e18" : std::to_string(elements),
                                       byte_size_text(saturating_mul(elements, kBytesPerNeuron)), kBytesPerNeuron,
                                       kMaxElements));
        try {
            checked_numel(f.out_shape, kMaxElements);
        } catch (const Error& e) {
            fail(where, f, fmt::format("output shape {}: {}", shape_str(f.out_shape), e.what()));
        }
        total_elements = saturating_add(total_elements, elements);
        const std::string over = memory_over_limit(
            fmt::format("the graph's {} neurons up to this node ({} bytes each)", total_elements, kBytesPerNeuron),
            saturating_mul(total_elements, kBytesPerNeuron));
        if (!over.empty()) fail(where, f, over);
        if (f.role == Role::Output) {
            const auto declared = int_values(param(f, "shape", where));
            if (declared != f.out_shape)
                fail(where, fmt::format("node '{}' (Output) has shape {} but its source '{}' gives {}", f.name,
                                        shape_str(declared), g.nodes[f.in.at(0)].name, shape_str(f.out_shape)));
        }
        done[v] = true;
    }
    for (const auto& f : g.nodes)
        for (size_t k = 0; k < f.out.size(); ++k)
            if (f.out_back[k] && g.nodes[f.out[k]].in_shape != f.out_shape)
                fail(where, fmt::format("node '{}' gives {} but '{}' takes {}", f.name, shape_str(f.out_shape),
                                        g.nodes[f.out[k]].name, shape_str(g.nodes[f.out[k]].in_shape)));
}

}  // namespace

const Array& param(const FlatNode& n, const std::string& key, const std::string& where) {
    auto it = n.node->params.find(key);
    if (it == n.node->params.end()) fail(where, n, "missing parameter '" + key + "'");
    return it->second;
}

int64_t int_scalar(const FlatNode& n, const std::string& key, const std::string& where, int64_t dflt) {
    if (!n.node->has(key)) return dflt;
    const auto& v = n.node->params.at(key).values;
    if (v.size() != 1 || v[0] != std::floor(v[0]) || std::abs(v[0]) > 1e9)
        fail(where, n, fmt::format("{} must be one integer, got {} values", key, v.size()));
    return static_cast<int64_t>(v[0]);
}

std::vector<int64_t> pair_param(const FlatNode& n, const std::string& key, const std::string& where, int64_t dflt,
                                bool required) {
    if (!n.node->has(key)) {
        if (required) fail(where, n, "missing parameter '" + key + "'");
        return {dflt, dflt};
    }
    const auto v = int_values(n.node->params.at(key));
    if (v.size() == 1) return {v[0], v[0]};
    if (v.size() != 2) fail(where, n, fmt::format("{} has {} values, expected 2", key, v.size()));
    return v;
}

std::vector<int64_t> padding_param(const FlatNode& n, const std::vector<int64_t>& kernel,
                                   const std::vector<int64_t>& dilation, const std::vector<int64_t>& stride,
                                   const std::string& where) {
    auto it = n.node->strings.find("padding");
    if (it == n.node->strings.end()) return pair_param(n, "padding", where, 0, false);
    if (it->second == "valid") return {0, 0};
    if (it->second != "same") fail(where, n, "padding '" + it->second + "', expected \"same\", \"valid\" or numbers");
    std::vector<int64_t> pad(2);
    for (size_t i = 0; i < 2; ++i) {
        const int64_t total = dilation[i] * (kernel[i] - 1);
        if (stride[i] != 1 || total % 2 != 0)
            fail(where, n, "padding \"same\" needs stride 1 and an odd effective kernel (asymmetric padding is unsupported)");
        pad[i] = total / 2;
    }
    return pad;
}

FlatGraph flatten_graph(const Graph& root, const std::string& where) {
    FlatGraph g;
    Flattener fl(g, where);
    fl.add_graph(root, "", true);
    if (g.input < 0) fail(where, "no Input node");
    if (g.output < 0) fail(where, "no Output node");
    fl.add_edges(root, "");
    if (!g.nodes[g.input].in.empty()) fail(where, "node '" + g.nodes[g.input].name + "' (Input) has an incoming edge");
    if (!g.nodes[g.output].out.empty()) fail(where, "node '" + g.nodes[g.output].name + "' (Output) has an outgoing edge");
    if (g.nodes[g.output].in.size() != 1) fail(where, "node '" + g.nodes[g.output].name + "' (Output) needs exactly one incoming edge");
    mark_cycles(g, where);
    order_topologically(g, where);
    infer_shapes(g, where);
    return g;
}

Matrix node_matrix(const FlatNode& n, const std::string& where, bool rows) {
    const std::string& t = n.node->type;
    const auto& in = n.in_shape;
    const auto& out = n.out_shape;
    Matrix m;
    if (rows) m.rows.resize(static_cast<size_t>(shape_numel(in)));
    if (n.role == Role::Pass || t == "Flatten" || t == "Scale") {
        const std::vector<double>* s = t == "Scale" ? &param(n, "scale", where).values : nullptr;
        for (size_t i = 0; i < m.rows.size(); ++i) m.rows[i].emplace_back(static_cast<int64_t>(i), s ? (*s)[i] : 1.0);
        return m;
    }
    if (t == "Affine" || t == "Linear") {
        const Array& w = param(n, "weight", where);
        const int64_t no = w.shape[0], ni = w.shape[1];
        for (int64_t i = 0; rows && i < ni; ++i)
            for (int64_t o = 0; o < no; ++o) m.rows[i].emplace_back(o, w.values[static_cast<size_t>(o * ni + i)]);
        if (t == "Affine") m.bias = param(n, "bias", where).values;
        return m;
    }
    // Convolutions and pools: [C, H, W] (Conv1d: [C, L] as H = 1).
    const bool conv1d = t == "Conv1d";
    const int64_t ci = in[0], h = conv1d ? 1 : in[1], w_in = conv1d ? in[1] : in[2];
    const int64_t co = out[0], ho = conv1d ? 1 : out[1], wo = conv1d ? out[1] : out[2];
    int64_t kh, kw, groups = 1;
    std::vector<int64_t> stride, dil{1, 1}, pad;
    const std::vector<double>* weight = nullptr;
    const bool conv = t == "Conv2d" || conv1d;
    if (conv) {
        const Array& w = param(n, "weight", where);
        weight = &w.values;
        kh = conv1d ? 1 : w.shape[2];
        kw = conv1d ? w.shape[2] : w.shape[3];
        groups = int_scalar(n, "groups", where, 1);
        stride = pair_param(n, "stride", where, 1, false);
        dil = pair_param(n, "dilation", where, 1, false);
        pad = padding_param(n, conv1d ? std::vector<int64_t>{kw, kw} : std::vector<int64_t>{kh, kw}, dil, stride, where);
        if (conv1d) stride = {1, stride[0]}, dil = {1, dil[0]}, pad = {0, pad[0]};
        if (n.node->has("bias")) {
            const auto& b = n.node->params.at("bias").values;
            m.bias.resize(static_cast<size_t>(co * ho * wo));
            for (int64_t c = 0; c < co; ++c) std::fill_n(m.bias.begin() + c * ho * wo, ho * wo, b[static_cast<size_t>(c)]);
        }
    } else {
        const auto k = pair_param(n, "kernel_size", where, 1, true);
        kh = k[0], kw = k[1];
        stride = pair_param(n, "stride", where, 1, false);
        pad = padding_param(n, k, {1, 1}, stride, where);
    }
    if (!rows) return m;
    const double pool_w = t == "AvgPool2d" ? 1.0 / static_cast<double>(kh * kw) : 1.0;
    const int64_t cig = conv ? ci / groups : 1, cog = conv ? co / groups : 1;
    for (int64_t c = 0; c < co; ++c) {
        const int64_t c0 = conv ? (c / cog) * cig : c;
        for (int64_t oy = 0; oy < ho; ++oy)
            for (int64_t ox = 0; ox < wo; ++ox) {
                const int64_t target = (c * ho + oy) * wo + ox;
                for (int64_t cc = 0; cc < cig; ++cc)
                    for (int64_t ky = 0; ky < kh; ++ky)
                        for (int64_t kx = 0; kx < kw; ++kx) {
                            const int64_t iy = oy * stride[0] - pad[0] + ky * dil[0];
                            const int64_t ix = ox * stride[1] - pad[1] + kx * dil[1];
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w_in) continue;
                            const double v = conv ? (*weight)[static_cast<size_t>(((c * cig + cc) * kh + ky) * kw + kx)] : pool_w;
                            m.rows[static_cast<size_t>(((c0 + cc) * h + iy) * w_in + ix)].emplace_back(target, v);
                        }
            }
    }
    return m;
}

}  // namespace neuroemu::nir::detail
