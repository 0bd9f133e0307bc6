// SnnModel -> NIR graph (nir/nir_import.h, docs/nir.md "Export"). Node names are numbered so that the file's
// alphabetical order is the model's order, which import's topological sort uses to break ties: export -> import
// gives back the same populations and projections in the same order.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "nir/nir_import.h"

namespace neuroemu::nir {
namespace {

Array floats(std::vector<int64_t> shape, std::vector<double> values) {
    Array a;
    a.shape = std::move(shape);
    a.values = std::move(values);
    return a;
}
Array ints(std::vector<int64_t> v) {
    Array a;
    a.shape = {static_cast<int64_t>(v.size())};
    for (int64_t x : v) a.values.push_back(static_cast<double>(x));
    a.integer = true;
    return a;
}
Array scalar_int(int64_t v) {
    Array a;
    a.values = {static_cast<double>(v)};
    a.integer = true;
    return a;
}
Array scalar_f64(double v) {
    Array a;
    a.values = {v};
    a.float64 = true;
    return a;
}
Array vector_f32(const std::vector<float>& v) {
    return floats({static_cast<int64_t>(v.size())}, std::vector<double>(v.begin(), v.end()));
}

std::string sanitise(const std::string& name) {
    std::string s = name;
    for (char& c : s)
        if (c == '.' || c == '/' || c == '+' || static_cast<unsigned char>(c) < 0x20) c = '_';
    return s;
}

// A per-channel vector (size 1 or C; empty: `dflt`) expanded to every neuron of `shape`.
Array expand(const std::vector<float>& v, float dflt, const std::vector<int64_t>& shape) {
    const int64_t n = shape_numel(shape), c = shape[0], per = n / c;
    std::vector<double> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t ch = i / per;
        out[static_cast<size_t>(i)] = v.empty() ? dflt : v.size() == 1 ? v[0] : v[static_cast<size_t>(ch)];
    }
    return floats(shape, std::move(out));
}

class Exporter {
public:
    explicit Exporter(const SnnModel& m) : m_(m) {}

    File run() {
        validate(m_, "export of '" + m_.name + "'");
        find_carriers();
        graph_.nodes.push_back(input());
        for (size_t i = 1; i < m_.populations.size(); ++i) graph_.nodes.push_back(population(static_cast<int>(i)));
        for (size_t k = 0; k < m_.projections.size(); ++k) projection(static_cast<int>(k));
        Node out;
        out.name = "output";
        out.type = "Output";
        out.params["shape"] = ints(m_.populations[static_cast<size_t>(m_.output)].shape);
        graph_.nodes.push_back(std::move(out));
        graph_.edges.emplace_back(pop_name(m_.output), "output");
        std::sort(graph_.nodes.begin(), graph_.nodes.end(), [](const Node& a, const Node& b) { return a.name < b.name; });
        File f;
        f.version = "1.0.0";  // the NIR release whose nodes this writes (the reference reader checks no version)
        f.root.type = "NIRGraph";
        root_metadata(f.root);
        f.root.graph = std::make_shared<Graph>(std::move(graph_));
        return f;
    }

private:
    std::string pop_name(int i) const {
        return i == 0 ? "input" : fmt::format("p{:04}_{}", i, sanitise(m_.populations[static_cast<size_t>(i)].name));
    }
    std::string who(int i) const { return fmt::format("export of '{}': population {} '{}'", m_.name, i, m_.populations[static_cast<size_t>(i)].name); }

    void root_metadata(Node& root) const {
        root.metadata_strings["neuroemu_reset"] = m_.reset == ResetMode::Subtract ? "subtract" : m_.reset == ResetMode::Zero ? "zero" : "to_value";
        root.metadata_strings["neuroemu_fire"] = m_.fire_above ? "above" : "at_or_above";
        root.metadata_strings["neuroemu_discretisation"] = to_string(m_.discretisation);
        root.metadata_strings["neuroemu_name"] = m_.name;
        root.metadata_strings["neuroemu_source_model"] = m_.record.source_model;
        root.metadata["neuroemu_v_init"] = scalar_f64(m_.v_init);
        root.metadata["neuroemu_dt_s"] = scalar_f64(m_.dt_s);
        const ConversionRecord& r = m_.record;
        root.metadata["neuroemu_percentile"] = scalar_f64(r.percentile);
        root.metadata["neuroemu_calibration_images"] = scalar_int(r.calibration_images);
        root.metadata["neuroemu_channel_wise"] = scalar_int(r.channel_wise ? 1 : 0);
        root.metadata["neuroemu_shortcut_normalisation"] = scalar_int(r.shortcut_normalisation ? 1 : 0);
        root.metadata["neuroemu_zeta"] = scalar_f64(r.zeta);
        root.metadata["neuroemu_fit"] = floats({3}, {r.fit_p, r.fit_q, r.fit_adj_r2});
        root.metadata["neuroemu_fit"].float64 = true;
    }

    // The incoming Conv or Linear projection (not recurrent) whose NIR bias carries its target's bias.
    void find_carriers() {
        carrier_.assign(m_.populations.size(), -1);
        for (size_t k = 0; k < m_.projections.size(); ++k) {
            const Projection& p = m_.projections[k];
            if (carrier_[static_cast<size_t>(p.target)] < 0 && !p.recurrent &&
                (p.kind == ProjectionKind::Conv || p.kind == ProjectionKind::Linear))
                carrier_[static_cast<size_t>(p.target)] = static_cast<int>(k);
        }
        for (size_t i = 1; i < m_.populations.size(); ++i)
            if (!m_.populations[i].bias.empty() && carrier_[i] < 0)
                throw ModelError(who(static_cast<int>(i)) + ": a bias but no Conv or Linear projection into it to carry "
                                 "it (NIR has biases only on Affine and convolution nodes)");
    }

    Node input() const {
        Node n;
        n.name = "input";
        n.type = "Input";
        n.params["shape"] = ints(m_.populations[0].shape);
        common_metadata(n, 0);
        return n;
    }

    void common_metadata(Node& n, int i) const {
        const Population& p = m_.populations[static_cast<size_t>(i)];
        n.metadata_strings["neuroemu_name"] = p.name;
        if (p.lambda != std::vector<float>{1.0f}) n.metadata["neuroemu_lambda"] = vector_f32(p.lambda);
        if (!p.threshold.empty()) n.metadata["neuroemu_threshold"] = vector_f32(p.threshold);
        if (!p.bias.empty()) n.metadata["neuroemu_has_bias"] = scalar_int(1);
    }

    Node population(int i) {
        const Population& p = m_.populations[static_cast<size_t>(i)];
        Node n;
        n.name = pop_name(i);
        common_metadata(n, i);
        if (p.kind == PopulationKind::MaxGate) {
            n.type = "AvgPool2d";
            n.metadata_strings["neuroemu_kind"] = "max_gate";
            window(n, p.gate_window, who(i));
            graph_.edges.emplace_back(pop_name(p.gate_source), n.name);
            return n;
        }
        if (p.kind != PopulationKind::IF)
            throw ModelError(who(i) + fmt::format(": a '{}' population cannot be said in NIR", to_string(p.kind)));
        const NeuronParams& np = p.neuron;
        const auto& s = p.shape;
        auto put = [&](const char* key, const std::vector<float>& v, float dflt) { n.params[key] = expand(v, dflt, s); };
        if (np.model == "if") {
            n.type = p.spiking ? "IF" : "I";
            put("r", {}, 1.0f);
            if (p.spiking) put("v_threshold", p.threshold, 1.0f), put("v_reset", np.v_reset, 0.0f);
        } else if (np.model == "lif" || np.model == "li") {
            n.type = np.model == "lif" ? "LIF" : "LI";
            put("tau", np.tau_mem_s, 0.0f), put("r", np.r, 1.0f), put("v_leak", np.v_leak, 0.0f);
            if (np.model == "lif") put("v_threshold", p.threshold, 1.0f), put("v_reset", np.v_reset, 0.0f);
        } else if (np.model == "cuba_lif" || np.model == "cuba_li") {
            n.type = np.model == "cuba_lif" ? "CubaLIF" : "CubaLI";
            put("tau_mem", np.tau_mem_s, 0.0f), put("tau_syn", np.tau_syn_s, 0.0f), put("r", np.r, 1.0f);
            put("v_leak", np.v_leak, 0.0f), put("w_in", np.w_in, 1.0f);
            if (np.model == "cuba_lif") put("v_threshold", p.threshold, 1.0f), put("v_reset", np.v_reset, 0.0f);
        } else if (np.model == "threshold") {
            n.type = "Threshold";
            put("threshold", p.threshold, 1.0f);
        } else {
            throw ModelError(who(i) + ": neuron model '" + np.model + "' has no NIR node");
        }
        const bool nir_spiking = n.type == "IF" || n.type == "LIF" || n.type == "CubaLIF" || n.type == "Threshold";
        if (nir_spiking != p.spiking)
            throw ModelError(who(i) + fmt::format(": a {} '{}' population has no NIR node", p.spiking ? "spiking" : "non-spiking", np.model));
        return n;
    }

    static void window(Node& n, const Window2d& w, const std::string& where) {
        if (w.pad_top != w.pad_bottom || w.pad_left != w.pad_right)
            throw ModelError(where + fmt::format(": padding top {} bottom {} left {} right {} is asymmetric (NIR pads "
                                                 "both sides alike)", w.pad_top, w.pad_bottom, w.pad_left, w.pad_right));
        if (w.ceil_mode) throw ModelError(where + ": ceil_mode pooling has no NIR node (NIR rounds output sizes down)");
        if (n.type != "Conv2d") n.params["kernel_size"] = ints({w.kernel_h, w.kernel_w});
        n.params["stride"] = ints({w.stride_h, w.stride_w});
        n.params["padding"] = ints({w.pad_top, w.pad_left});
    }

    void projection(int k) {
        const Projection& p = m_.projections[static_cast<size_t>(k)];
        const Population& src = m_.populations[static_cast<size_t>(p.source)];
        const Population& dst = m_.populations[static_cast<size_t>(p.target)];
        const std::string where = fmt::format("export of '{}': projection {} '{}'", m_.name, k, p.name);
        const std::string base = fmt::format("q{:04}_{}", k, sanitise(p.name));
        const bool carrier = carrier_[static_cast<size_t>(p.target)] == k && !dst.bias.empty();
        std::vector<Node> chain;
        auto add = [&](const std::string& suffix, const std::string& type) -> Node& {
            chain.emplace_back();
            chain.back().name = base + suffix;
            chain.back().type = type;
            return chain.back();
        };
        auto flatten = [&]() {
            if (src.shape.size() == 1) return;
            Node& f = add("", "Flatten");
            f.params["start_dim"] = scalar_int(0);
            f.params["end_dim"] = scalar_int(-1);
            f.params["input_type"] = ints(src.shape);
        };
        switch (p.kind) {
            case ProjectionKind::Conv: {
                Node& n = add("", "Conv2d");
                window(n, p.window, where);
                n.params["weight"] = floats(p.weight.shape, std::vector<double>(p.weight.data.begin(), p.weight.data.end()));
                n.params["dilation"] = ints({1, 1});
                n.params["groups"] = scalar_int(1);
                n.params["input_shape"] = ints({src.shape[1], src.shape[2]});
                n.params["bias"] = carrier ? vector_f32(dst.bias) : floats({dst.channels()}, std::vector<double>(static_cast<size_t>(dst.channels()), 0.0));
                break;
            }
            case ProjectionKind::Linear:
            case ProjectionKind::Sparse: {
                if (dst.shape.size() != 1)
                    throw ModelError(where + fmt::format(": a {} projection onto the {} population '{}' (NIR's Linear gives a vector)",
                                                         to_string(p.kind), shape_str(dst.shape), dst.name));
                flatten();
                Tensor dense = p.weight;
                if (p.kind == ProjectionKind::Sparse) {
                    const int64_t n_in = src.size(), n_out = dst.size();
                    if (n_in * n_out > (INT64_C(1) << 26))
                        throw ModelError(where + fmt::format(": {} x {} is too large a dense matrix", n_out, n_in));
                    dense = Tensor({n_out, n_in});
                    for (int64_t s = 0; s < n_in; ++s)
                        for (int32_t j = p.sparse_ptr[static_cast<size_t>(s)]; j < p.sparse_ptr[static_cast<size_t>(s) + 1]; ++j)
                            dense.data[static_cast<size_t>(p.sparse_target[static_cast<size_t>(j)] * n_in + s)] += p.weight.data[static_cast<size_t>(j)];
                }
                Node& n = add(chain.empty() ? "" : "_fc", carrier ? "Affine" : "Linear");
                n.params["weight"] = floats({dst.size(), src.size()}, std::vector<double>(dense.data.begin(), dense.data.end()));
                if (carrier) n.params["bias"] = vector_f32(dst.bias.size() == 1 ? std::vector<float>(static_cast<size_t>(dst.size()), dst.bias[0]) : dst.bias);
                break;
            }
            case ProjectionKind::Identity: {
                Node& n = add("", "Scale");
                n.params["scale"] = expand(p.weight.data, 1.0f, src.shape);
                break;
            }
            case ProjectionKind::AvgPool: {
                Node& n = add("", "AvgPool2d");
                window(n, p.window, where);
                n.metadata["neuroemu_count_include_pad"] = scalar_int(p.count_include_pad ? 1 : 0);
                if (std::any_of(p.weight.data.begin(), p.weight.data.end(), [](float w) { return w != 1.0f; }))
                    add("_scale", "Scale").params["scale"] = expand(p.weight.data, 1.0f, dst.shape);
                break;
            }
            case ProjectionKind::MaxPool:
                throw ModelError(where + ": max pooling over a 'current' population cannot be said in NIR");
        }
        Node& first = chain.front();
        first.metadata_strings["neuroemu_name"] = p.name;
        if (p.shortcut) first.metadata["neuroemu_shortcut"] = scalar_int(1);
        if (p.recurrent) first.metadata["neuroemu_recurrent"] = scalar_int(1);
        std::string prev = pop_name(p.source);
        for (Node& n : chain) {
            graph_.edges.emplace_back(prev, n.name);
            prev = n.name;
            graph_.nodes.push_back(std::move(n));
        }
        graph_.edges.emplace_back(prev, pop_name(p.target));
    }

    const SnnModel& m_;
    Graph graph_;
    std::vector<int> carrier_;
};

}  // namespace

File export_graph(const SnnModel& model) { return Exporter(model).run(); }

void export_nir(const SnnModel& model, const std::string& path) { write_file(path, export_graph(model)); }

}  // namespace neuroemu::nir
