// Shared by the NIR file tests: a File flattened to its HDF5 datasets (path -> shape, kind, values), the form
// tests/nir/h5_dump.py writes, so read_file's view of a file can be compared with h5py's value for value.
#pragma once

#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nir/nir_file.h"

namespace neuroemu::nir::test {

struct Flat {
    std::vector<int64_t> shape;
    char kind = 'f';                    // 'i' integer, 'f' floating point, 's' string
    bool float64 = false;               // read_file's view only (h5py's dump does not say the width)
    std::vector<double> numbers;
    std::vector<std::string> strings;
};

inline void flatten_values(const std::string& path, const std::map<std::string, Array>& numbers,
                           const std::map<std::string, std::string>& strings, std::map<std::string, Flat>& out) {
    for (const auto& [key, a] : numbers) out[path + "/" + key] = Flat{a.shape, a.integer ? 'i' : 'f', a.float64, a.values, {}};
    for (const auto& [key, s] : strings) out[path + "/" + key] = Flat{{}, 's', false, {}, {s}};
}

inline void flatten_node(const std::string& path, const Node& node, std::map<std::string, Flat>& out) {
    out[path + "/type"] = Flat{{}, 's', false, {}, {node.type}};
    flatten_values(path, node.params, node.strings, out);
    flatten_values(path + "/metadata", node.metadata, node.metadata_strings, out);
    if (!node.graph) return;
    Flat edges{{static_cast<int64_t>(node.graph->edges.size()), 2}, 's', false, {}, {}};
    for (const auto& [from, to] : node.graph->edges) {
        edges.strings.push_back(from);
        edges.strings.push_back(to);
    }
    out[path + "/edges"] = edges;
    for (const Node& child : node.graph->nodes) flatten_node(path + "/nodes/" + child.name, child, out);
}

inline std::map<std::string, Flat> flatten(const File& file) {
    std::map<std::string, Flat> out;
    out["/version"] = Flat{{}, 's', false, {}, {file.version}};
    flatten_node("/node", file.root, out);
    return out;
}

// A scratch path unique to this process and test.
inline std::string temp_path(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return ::testing::TempDir() + "neuroemu_nir_" + std::to_string(::getpid()) + "_" + info->name() + "_" + tag;
}

inline std::string fixture(const std::string& name) {
    return std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/" + name;
}

inline const std::vector<std::string>& fixtures() {
    static const std::vector<std::string> names = {"braille_noDelay_noBias_subtract.nir", "cnn_sinabs.nir",
                                                   "lif_norse.nir", "lif_rockpool.nir", "two_lif_neurons.nir"};
    return names;
}

}  // namespace neuroemu::nir::test
