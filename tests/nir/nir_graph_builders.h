// Hand-built NIR graphs for the import/export tests: nodes made directly as nir::Node values (nir/nir_file.h).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nir/nir_file.h"

namespace neuroemu::nir::test {

inline Array arr(std::vector<int64_t> shape, std::vector<double> values) {
    Array a;
    a.shape = std::move(shape);
    a.values = std::move(values);
    return a;
}
inline Array filled(std::vector<int64_t> shape, double v) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return arr(std::move(shape), std::vector<double>(static_cast<size_t>(n), v));
}
inline Array ints(std::vector<int64_t> v) {
    Array a;
    a.shape = {static_cast<int64_t>(v.size())};
    for (int64_t x : v) a.values.push_back(static_cast<double>(x));
    a.integer = true;
    return a;
}
inline Array scalar_int(int64_t v) {
    Array a;
    a.values = {static_cast<double>(v)};
    a.integer = true;
    return a;
}

inline Node node(std::string name, std::string type, std::map<std::string, Array> params = {}) {
    Node n;
    n.name = std::move(name);
    n.type = std::move(type);
    n.params = std::move(params);
    return n;
}
inline Node input(std::string name, std::vector<int64_t> shape) { return node(std::move(name), "Input", {{"shape", ints(shape)}}); }
inline Node output(std::string name, std::vector<int64_t> shape) { return node(std::move(name), "Output", {{"shape", ints(shape)}}); }
inline Node if_node(std::string name, std::vector<int64_t> shape, double threshold = 1.0, double r = 1.0) {
    return node(std::move(name), "IF", {{"r", filled(shape, r)}, {"v_threshold", filled(shape, threshold)},
                                        {"v_reset", filled(shape, 0.0)}});
}
inline Node lif_node(std::string name, std::vector<int64_t> shape, double tau = 0.01, double threshold = 1.0) {
    return node(std::move(name), "LIF", {{"tau", filled(shape, tau)}, {"r", filled(shape, 1.0)}, {"v_leak", filled(shape, 0.0)},
                                         {"v_threshold", filled(shape, threshold)}});
}
inline Node affine(std::string name, int64_t out, int64_t in, std::vector<double> w, std::vector<double> b) {
    return node(std::move(name), "Affine", {{"weight", arr({out, in}, std::move(w))}, {"bias", arr({out}, std::move(b))}});
}
inline Node linear(std::string name, int64_t out, int64_t in, std::vector<double> w) {
    return node(std::move(name), "Linear", {{"weight", arr({out, in}, std::move(w))}});
}

inline Graph graph(std::vector<Node> nodes, std::vector<std::pair<std::string, std::string>> edges) {
    Graph g;
    g.nodes = std::move(nodes);
    g.edges = std::move(edges);
    return g;
}
inline Node subgraph(std::string name, Graph g) {
    Node n = node(std::move(name), "NIRGraph");
    n.graph = std::make_shared<Graph>(std::move(g));
    return n;
}
inline File file(Graph g) {
    File f;
    f.version = "0.2.0";
    f.root = subgraph("", std::move(g));
    return f;
}

}  // namespace neuroemu::nir::test
