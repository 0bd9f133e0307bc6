// NIR files (Neuromorphic Intermediate Representation, github.com/neuromorphs/NIR) at the level of the file:
// HDF5 groups and datasets read into plain C++ values and written back in the layout of the reference library
// (`nir/serialization.py`): "/version" (a string) and "/node", a group holding one node. A node is a group
// with a string dataset "type" and one dataset per parameter; a "NIRGraph" node holds "nodes" (a group of
// nodes, by name) and "edges" (N x 2 strings); any node may hold a group "metadata". No knowledge here of what
// the node types mean: nir/nir_import.h turns a graph into neuroemu's spiking network and back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace neuroemu::nir {

// One numeric dataset: its shape (empty for a scalar) and its values in row-major order, widened to double.
// `integer` says it was stored as an integer type (written back as int64), else as floating point (written back
// as float32 unless `float64`).
struct Array {
    std::vector<int64_t> shape;
    std::vector<double> values;
    bool integer = false;
    bool float64 = false;
    int64_t size() const { return static_cast<int64_t>(values.size()); }
};

struct Graph;

// One node: its name in the parent graph, its type ("Affine", "LIF", "NIRGraph", ...), its numeric and string
// parameters (the datasets of its group other than "type"), its metadata, and for a NIRGraph its contents.
struct Node {
    std::string name;
    std::string type;
    std::map<std::string, Array> params;
    std::map<std::string, std::string> strings;
    std::map<std::string, Array> metadata;                 // numeric metadata entries
    std::map<std::string, std::string> metadata_strings;   // string metadata entries
    std::shared_ptr<Graph> graph;                          // type "NIRGraph" only

    bool has(const std::string& key) const { return params.count(key) != 0; }
};

struct Graph {
    std::vector<Node> nodes;                                  // in the file's (alphabetical) order
    std::vector<std::pair<std::string, std::string>> edges;  // (source, target) names, in the file's order
    const Node* find(const std::string& name) const;          // nullptr when absent
};

struct File {
    std::string version;  // "/version", e.g. "0.2.0"
    Node root;            // "/node": a NIRGraph (type checked by read_file)
};

// Limits a hostile file cannot exceed (checked before anything is allocated).
struct ReadLimits {
    int64_t max_values_per_dataset = INT64_C(1) << 28;  // 256 M values (2 GiB as double)
    int64_t max_total_values = INT64_C(1) << 29;
    int max_depth = 16;                                  // nested NIRGraph levels
    int64_t max_nodes = 1 << 20;
};

// Reads a NIR file. Throws ModelError naming the file, the node's path ("/node/nodes/3/weight") and what was
// expected for anything that is not a well-formed NIR file: not HDF5, no "/version" or "/node", a dataset of
// an unsupported type (compound, references, ...), a node group without "type", edges not N x 2 strings, a
// dataset over the limits. Never crashes on a damaged file (HDF5's own error printing is silenced).
File read_file(const std::string& path, const ReadLimits& limits = {});

// Writes `file` as the reference library does (gzip-compressed numeric datasets, variable-length UTF-8
// strings), atomically (a killed write leaves no partial file). Throws ModelError naming the file on failure.
void write_file(const std::string& path, const File& file);

}  // namespace neuroemu::nir
