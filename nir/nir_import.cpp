#include "nir/nir_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

#include "common/error.h"
#include "nir/nir_graph.h"

namespace neuroemu::nir {
namespace {

using namespace detail;

[[noreturn]] void fail(const std::string& where, const FlatNode& n, const std::string& what) {
    throw ModelError(where + ": " + n.who() + ": " + what);
}

bool is_population(const FlatNode& n) { return n.role == Role::Input || n.role == Role::Neuron || n.role == Role::Gate; }
bool is_weighted(const std::string& t) {
    return t == "Affine" || t == "Linear" || t == "Conv2d" || t == "Conv1d" || t == "SumPool2d" || t == "AvgPool2d";
}

std::string meta_string(const Node& n, const std::string& key, const std::string& dflt = "") {
    auto it = n.metadata_strings.find(key);
    return it == n.metadata_strings.end() ? dflt : it->second;
}
const Array* meta_array(const Node& n, const std::string& key) {
    auto it = n.metadata.find(key);
    return it == n.metadata.end() || it->second.values.empty() ? nullptr : &it->second;
}
std::vector<float> floats(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// NIR shape -> population shape: [N], [C, H, W], and Conv1d's [C, L] as [C, 1, L].
std::vector<int64_t> population_shape(const FlatNode& n, const std::vector<int64_t>& s, const std::string& where) {
    if (s.size() == 1 || s.size() == 3) return s;
    if (s.size() == 2) return {s[0], 1, s[1]};
    fail(where, n, fmt::format("shape {} is not [N], [C, L] or [C, H, W]", shape_str(s)));
}

// Channel of each element of a NIR shape: the first dimension (every element its own channel for [N]).
int64_t channel_size(const std::vector<int64_t>& s) { return s.size() == 1 ? 1 : shape_numel(s) / s[0]; }

// One value per channel (one value when all agree), or an error naming the node and the parameter.
std::vector<double> per_channel(const FlatNode& n, const std::string& key, const std::vector<double>& v,
                                const std::vector<int64_t>& shape, const std::string& where) {
    const int64_t per = channel_size(shape);
    std::vector<double> out;
    for (size_t i = 0; i < v.size(); i += static_cast<size_t>(per)) {
        for (int64_t j = 1; j < per; ++j)
            if (v[i + static_cast<size_t>(j)] != v[i])
                fail(where, n, fmt::format("parameter '{}' varies within a channel: unsupported", key));
        out.push_back(v[i]);
    }
    if (std::all_of(out.begin(), out.end(), [&](double x) { return x == out[0]; })) out.resize(1);
    return out;
}
double channel_value(const std::vector<double>& v, int64_t c) { return v.size() == 1 ? v[0] : v[static_cast<size_t>(c)]; }

struct PathInfo {
    int source_pop = -1;
    std::vector<int> chain;  // linear (and pass-through) flat nodes, in order
    int target = -1;         // flat node: a population node or the Output
    bool recurrent = false;
};

class Importer {
public:
    Importer(const File& file, const std::string& path, const ImportOptions& options)
        : file_(file), where_(path), options_(options), g_(flatten_graph(*file.root.graph, path)) {}

    SnnModel run() {
        read_root_metadata();
        for (int v : g_.order)
            if (is_population(g_.nodes[v])) add_population(v);
        std::vector<PathInfo> paths;
        for (int v : g_.order)
            if (is_population(g_.nodes[v])) walk(v, {pop_of_.at(v), {}, -1, false}, v, paths);
        const int out_src = g_.nodes[g_.output].in[0];
        if (is_population(g_.nodes[out_src])) {
            if (g_.nodes[out_src].role == Role::Input)
                throw ModelError(where_ + ": the Output node reads the Input directly: nothing to simulate");
            model_.output = pop_of_.at(out_src);
        } else {
            add_readout();
        }
        for (const auto& p : paths)
            if (pop_of_.count(p.target)) add_projection(p);  // (a population read by the Output: no projection)
        finish_biases();
        std::stable_sort(order_.begin(), order_.end());
        std::vector<Projection> sorted;
        for (const auto& o : order_) sorted.push_back(std::move(model_.projections[static_cast<size_t>(o.back())]));
        model_.projections = std::move(sorted);
        validate(model_, where_);
        return std::move(model_);
    }

private:
    void read_root_metadata() {
        const Node& root = file_.root;
        const std::string stem = where_.substr(where_.find_last_of('/') == std::string::npos ? 0 : where_.find_last_of('/') + 1);
        model_.name = meta_string(root, "neuroemu_name", stem.substr(0, stem.rfind(".nir") == std::string::npos ? stem.size() : stem.rfind(".nir")));
        model_.source_format = "nir";
        model_.fire_above = meta_string(root, "neuroemu_fire", "above") == "above";
        const std::string reset = meta_string(root, "neuroemu_reset", "to_value");
        model_.reset = reset == "subtract" ? ResetMode::Subtract : reset == "zero" ? ResetMode::Zero : ResetMode::ToValue;
        if (options_.override_reset) model_.reset = options_.reset;
        if (const Array* a = meta_array(root, "neuroemu_v_init")) model_.v_init = static_cast<float>(a->values[0]);
        model_.dt_s = options_.dt_s;
        if (const Array* a = meta_array(root, "neuroemu_dt_s")) model_.dt_s = a->values[0];
        model_.discretisation = options_.discretisation;
        const std::string disc = meta_string(root, "neuroemu_discretisation");
        if (disc == "exact") model_.discretisation = Discretisation::Exact;
        if (disc == "euler") model_.discretisation = Discretisation::Euler;
        ConversionRecord& r = model_.record;
        r.source_model = meta_string(root, "neuroemu_source_model");
        if (const Array* a = meta_array(root, "neuroemu_percentile")) r.percentile = a->values[0];
        if (const Array* a = meta_array(root, "neuroemu_calibration_images")) r.calibration_images = static_cast<int64_t>(a->values[0]);
        if (const Array* a = meta_array(root, "neuroemu_channel_wise")) r.channel_wise = a->values[0] != 0;
        if (const Array* a = meta_array(root, "neuroemu_shortcut_normalisation")) r.shortcut_normalisation = a->values[0] != 0;
        if (const Array* a = meta_array(root, "neuroemu_zeta")) r.zeta = a->values[0];
        if (const Array* a = meta_array(root, "neuroemu_fit"); a && a->values.size() == 3)
            r.fit_p = a->values[0], r.fit_q = a->values[1], r.fit_adj_r2 = a->values[2];
    }

    void add_population(int v) {
        const FlatNode& n = g_.nodes[v];
        Population p;
        p.name = meta_string(*n.node, "neuroemu_name", n.name);
        p.shape = population_shape(n, n.out_shape, where_);
        p.lambda = {1.0f};
        if (const Array* l = meta_array(*n.node, "neuroemu_lambda")) p.lambda = floats(l->values);
        pop_of_[v] = static_cast<int>(model_.populations.size());
        fold_.emplace_back(1, 1.0);
        if (n.role == Role::Input) {
            p.kind = PopulationKind::Input;
        } else if (n.role == Role::Gate) {
            p.kind = PopulationKind::MaxGate;
            if (n.in.size() != 1 || !is_population(g_.nodes[n.in[0]]) || !pop_of_.count(n.in[0]))
                fail(where_, n, "a max gate (neuroemu_kind) must read exactly one population");
            p.gate_source = pop_of_.at(n.in[0]);
            p.gate_window = window_of(n, false);
        } else {
            neuron(n, p);
        }
        if (const Array* th = meta_array(*n.node, "neuroemu_threshold")) p.threshold = floats(th->values);
        model_.populations.push_back(std::move(p));
        bias_.emplace_back();
    }

    void neuron(const FlatNode& n, Population& p) {
        const std::string& t = n.node->type;
        auto get = [&](const std::string& key) { return per_channel(n, key, param(n, key, where_).values, n.in_shape, where_); };
        auto opt = [&](const std::string& key, double dflt) {
            std::vector<double> v = n.node->has(key) ? get(key) : std::vector<double>{dflt};
            // A parameter at its model default in every channel is left empty (so that export -> import is the identity).
            if (v.size() == 1 && v[0] == dflt) return std::vector<float>{};
            return floats(v);
        };
        p.kind = PopulationKind::IF;
        NeuronParams& np = p.neuron;
        const bool fold_r = t == "IF" || t == "I";
        if (fold_r) fold_.back() = get("r");
        if (t == "IF" || t == "I") np.model = "if";
        else if (t == "LIF") np.model = "lif";
        else if (t == "CubaLIF") np.model = "cuba_lif";
        else if (t == "LI") np.model = "li";
        else if (t == "CubaLI") np.model = "cuba_li";
        else np.model = "threshold";
        if (t == "LIF" || t == "LI") np.tau_mem_s = floats(get("tau"));
        if (t == "CubaLIF" || t == "CubaLI") np.tau_mem_s = floats(get("tau_mem")), np.tau_syn_s = floats(get("tau_syn"));
        if (!fold_r && t != "Threshold") np.r = opt("r", 1.0), np.v_leak = opt("v_leak", 0.0);
        if (t == "IF" || t == "LIF" || t == "CubaLIF") np.v_reset = opt("v_reset", 0.0);
        if (t == "CubaLIF" || t == "CubaLI") np.w_in = opt("w_in", 1.0);
        p.spiking = !(t == "I" || t == "LI" || t == "CubaLI");
        p.threshold = {1.0f};
        if (p.spiking) p.threshold = floats(get(t == "Threshold" ? "threshold" : "v_threshold"));
        if (const Array* th = meta_array(*n.node, "neuroemu_threshold")) p.threshold = floats(th->values);
    }

    Window2d window_of(const FlatNode& n, bool conv) {
        Window2d w;
        const bool conv1d = n.node->type == "Conv1d";
        std::vector<int64_t> k;
        if (conv) {
            const auto& ws = param(n, "weight", where_).shape;
            k = conv1d ? std::vector<int64_t>{1, ws[2]} : std::vector<int64_t>{ws[2], ws[3]};
        } else {
            k = pair_param(n, "kernel_size", where_, 1, true);
        }
        auto stride = pair_param(n, "stride", where_, 1, false);
        auto pad = padding_param(n, conv1d ? std::vector<int64_t>{k[1], k[1]} : k, pair_param(n, "dilation", where_, 1, false), stride, where_);
        if (conv1d) stride = {1, stride[0]}, pad = {0, pad[0]};
        w.kernel_h = static_cast<int>(k[0]), w.kernel_w = static_cast<int>(k[1]);
        w.stride_h = static_cast<int>(stride[0]), w.stride_w = static_cast<int>(stride[1]);
        w.pad_top = w.pad_bottom = static_cast<int>(pad[0]);
        w.pad_left = w.pad_right = static_cast<int>(pad[1]);
        return w;
    }

    // Every path from population `from` through linear nodes to the next population or the Output.
    void walk(int v, PathInfo path, int from, std::vector<PathInfo>& out) {
        const FlatNode& n = g_.nodes[v];
        for (size_t k = 0; k < n.out.size(); ++k) {
            PathInfo next = path;
            next.recurrent = next.recurrent || n.out_back[k];
            const int t = n.out[k];
            const FlatNode& tn = g_.nodes[t];
            if (tn.role == Role::Gate) {
                if (!path.chain.empty()) fail(where_, tn, "a max gate must read a population directly");
                continue;  // not a projection: the gate reads its source's spikes
            }
            if (is_population(tn) || tn.role == Role::Output) {
                next.target = t;
                out.push_back(std::move(next));
                continue;
            }
            if (std::find(path.chain.begin(), path.chain.end(), t) != path.chain.end() || t == from)
                fail(where_, tn, "an algebraic loop (a cycle through linear nodes only)");
            if (const Array* r = meta_array(*tn.node, "neuroemu_recurrent")) next.recurrent = next.recurrent || r->values[0] != 0;
            next.chain.push_back(t);
            walk(t, std::move(next), from, out);
        }
    }

    void add_readout() {
        const FlatNode& o = g_.nodes[g_.output];
        Population p;
        p.name = meta_string(*o.node, "neuroemu_name", o.name);
        p.kind = PopulationKind::IF;
        p.shape = population_shape(o, o.out_shape, where_);
        p.lambda = {1.0f};
        if (const Array* l = meta_array(*o.node, "neuroemu_lambda")) p.lambda = floats(l->values);
        p.threshold = {1.0f};
        if (const Array* th = meta_array(*o.node, "neuroemu_threshold")) p.threshold = floats(th->values);
        p.spiking = false;
        model_.output = static_cast<int>(model_.populations.size());
        pop_of_[g_.output] = model_.output;
        model_.populations.push_back(std::move(p));
        fold_.emplace_back(1, 1.0);
        bias_.emplace_back();
    }

    // Per output channel value of a Scale node, or empty when it varies within a channel.
    std::vector<double> scale_per_channel(const FlatNode& n) {
        const auto& v = param(n, "scale", where_).values;
        const int64_t per = channel_size(n.in_shape);
        std::vector<double> out;
        for (size_t i = 0; i < v.size(); i += static_cast<size_t>(per)) {
            for (int64_t j = 1; j < per; ++j)
                if (v[i + static_cast<size_t>(j)] != v[i]) return {};
            out.push_back(v[i]);
        }
        return out;
    }

    void add_projection(const PathInfo& path) {
        const int target = pop_of_.at(path.target);
        const Population& src = model_.populations[static_cast<size_t>(path.source_pop)];
        const Population& dst = model_.populations[static_cast<size_t>(target)];
        Projection p;
        p.source = path.source_pop;
        p.target = target;
        p.recurrent = path.recurrent;
        std::string name;
        for (int c : path.chain) name += (name.empty() ? "" : "+") + g_.nodes[c].name;
        if (name.empty()) name = src.name + "->" + dst.name;
        if (!path.chain.empty()) {
            const Node& first = *g_.nodes[path.chain[0]].node;
            name = meta_string(first, "neuroemu_name", name);
            if (const Array* s = meta_array(first, "neuroemu_shortcut")) p.shortcut = s->values[0] != 0;
        }
        p.name = name;
        // Target channel factor: the IF/I population's folded r times any per-channel Scale after the weighted op.
        const int64_t channels = dst.channels();
        std::vector<double> factor(static_cast<size_t>(channels), 1.0);
        for (int64_t c = 0; c < channels; ++c) factor[static_cast<size_t>(c)] = channel_value(fold_[static_cast<size_t>(target)], c);
        int weighted = -1, n_weighted = 0;
        bool flatten = false, native = true, scales_fold = true;
        for (int c : path.chain) {
            const FlatNode& n = g_.nodes[c];
            const std::string& t = n.node->type;
            if (is_weighted(t)) weighted = c, ++n_weighted;
            if (t == "Flatten") flatten = true;
            if (t == "Scale") {
                // Folded per output channel only after the weighted op (or alone) and constant within a channel.
                const auto later = std::find(path.chain.begin(), path.chain.end(), c);
                const bool before_weighted = std::any_of(later, path.chain.end(), [&](int x) { return is_weighted(g_.nodes[x].node->type); });
                const auto s = scale_per_channel(n);
                if (before_weighted || static_cast<int64_t>(s.size()) != channels) {
                    native = false;
                    scales_fold = false;
                } else {
                    for (int64_t ch = 0; ch < channels; ++ch) factor[static_cast<size_t>(ch)] *= s[static_cast<size_t>(ch)];
                }
            }
        }
        if (n_weighted > 1) native = false;
        const std::string wt = weighted >= 0 ? g_.nodes[weighted].node->type : "";
        if (native && weighted >= 0 && (wt == "Conv2d" || wt == "Conv1d")) {
            const FlatNode& n = g_.nodes[weighted];
            const bool plain = pair_param(n, "dilation", where_, 1, false) == std::vector<int64_t>{1, 1} &&
                               int_scalar(n, "groups", where_, 1) == 1;
            if (!plain || flatten) native = false;
        }
        if (native && weighted >= 0 && (wt == "SumPool2d" || wt == "AvgPool2d") && flatten) native = false;
        if (native && weighted < 0 && src.shape != dst.shape) native = false;
        const int64_t per = dst.size() / std::max<int64_t>(channels, 1);
        if (!native && scales_fold && pool_then_conv(path, src, p, factor)) {
            // composed exactly into one convolution (below)
        } else if (!native) {
            sparse(path, p, per);
            dense_as_linear(p, src.size(), dst.size());
        } else if (weighted < 0) {
            p.kind = ProjectionKind::Identity;
            p.weight = Tensor({channels}, floats(factor));
        } else {
            native_weights(g_.nodes[weighted], src, p, factor);
        }
        add_path_bias(path, target, per);
        order_.push_back({target, path.chain.empty() ? -1 : path.chain[0], path.source_pop,
                          static_cast<int>(model_.projections.size())});
        model_.projections.push_back(std::move(p));
    }

    // One weighted node (with Flattens and per-channel Scales folded into `factor`) as its native kind.
    void native_weights(const FlatNode& n, const Population& src, Projection& p, const std::vector<double>& factor) {
        const std::string& wt = n.node->type;
        const int64_t channels = static_cast<int64_t>(factor.size());
        const bool pool = wt == "SumPool2d" || wt == "AvgPool2d";
        const std::vector<double> none;
        const std::vector<double>& w = pool ? none : param(n, "weight", where_).values;
        if (wt == "Affine" || wt == "Linear") {
            p.kind = ProjectionKind::Linear;
            const int64_t in = src.size();
            std::vector<float> v(w.size());
            for (size_t i = 0; i < w.size(); ++i) v[i] = static_cast<float>(w[i] * factor[i / static_cast<size_t>(in)]);
            p.weight = Tensor({static_cast<int64_t>(w.size()) / in, in}, std::move(v));
        } else if (wt == "Conv2d" || wt == "Conv1d") {
            p.kind = ProjectionKind::Conv;
            p.window = window_of(n, true);
            const int64_t per_out = static_cast<int64_t>(w.size()) / channels;
            std::vector<float> v(w.size());
            for (size_t i = 0; i < w.size(); ++i) v[i] = static_cast<float>(w[i] * factor[i / static_cast<size_t>(per_out)]);
            p.weight = Tensor({channels, src.channels(), p.window.kernel_h, p.window.kernel_w}, std::move(v));
        } else {
            p.kind = ProjectionKind::AvgPool;
            p.window = window_of(n, false);
            p.count_include_pad = true;
            if (const Array* c = meta_array(*n.node, "neuroemu_count_include_pad")) p.count_include_pad = c->values[0] != 0;
            const double area = wt == "SumPool2d" ? static_cast<double>(p.window.kernel_h * p.window.kernel_w) : 1.0;
            std::vector<float> v(static_cast<size_t>(channels));
            for (int64_t c = 0; c < channels; ++c) v[static_cast<size_t>(c)] = static_cast<float>(area * factor[static_cast<size_t>(c)]);
            p.weight = Tensor({channels}, std::move(v));
        }
    }

    // A pool that tiles its input exactly (kernel = stride, no padding, sizes divisible) followed by a plain
    // Conv2d is one convolution: kernel kc*kp, stride sc*kp, padding pc*kp, each tap the conv weight of its pool
    // cell times the pool's weight (Sinabs' SumPool2d -> Conv2d). Same synapses as the chain, same sums.
    bool pool_then_conv(const PathInfo& path, const Population& src, Projection& p, const std::vector<double>& factor) {
        std::vector<int> ops;
        for (int c : path.chain)
            if (g_.nodes[c].role != Role::Pass && g_.nodes[c].node->type != "Scale") ops.push_back(c);
        if (ops.size() != 2 || src.shape.size() != 3) return false;
        const FlatNode& pool = g_.nodes[ops[0]];
        const FlatNode& conv = g_.nodes[ops[1]];
        if ((pool.node->type != "SumPool2d" && pool.node->type != "AvgPool2d") || conv.node->type != "Conv2d") return false;
        for (int c : path.chain)  // Scales only after the convolution (folded into `factor`)
            if (g_.nodes[c].node->type == "Scale" && std::find(path.chain.begin(), path.chain.end(), c) <
                                                         std::find(path.chain.begin(), path.chain.end(), ops[1]))
                return false;
        const auto k = pair_param(pool, "kernel_size", where_, 1, true), st = pair_param(pool, "stride", where_, 1, false);
        const auto pad = padding_param(pool, k, {1, 1}, st, where_);
        if (k != st || pad != std::vector<int64_t>{0, 0} || src.shape[1] % k[0] != 0 || src.shape[2] % k[1] != 0) return false;
        if (pair_param(conv, "dilation", where_, 1, false) != std::vector<int64_t>{1, 1} ||
            int_scalar(conv, "groups", where_, 1) != 1)
            return false;
        const Window2d cw = window_of(conv, true);
        const Array& w = param(conv, "weight", where_);
        const int64_t co = w.shape[0], ci = w.shape[1], kh = w.shape[2], kw = w.shape[3];
        const int64_t nh = kh * k[0], nw = kw * k[1];
        const double pool_w = pool.node->type == "AvgPool2d" ? 1.0 / static_cast<double>(k[0] * k[1]) : 1.0;
        std::vector<float> v(static_cast<size_t>(co * ci * nh * nw));
        for (int64_t o = 0; o < co; ++o)
            for (int64_t i = 0; i < ci; ++i)
                for (int64_t y = 0; y < nh; ++y)
                    for (int64_t x = 0; x < nw; ++x)
                        v[static_cast<size_t>(((o * ci + i) * nh + y) * nw + x)] = static_cast<float>(
                            w.values[static_cast<size_t>(((o * ci + i) * kh + y / k[0]) * kw + x / k[1])] * pool_w * factor[static_cast<size_t>(o)]);
        p.kind = ProjectionKind::Conv;
        p.window.kernel_h = static_cast<int>(nh), p.window.kernel_w = static_cast<int>(nw);
        p.window.stride_h = static_cast<int>(cw.stride_h * k[0]), p.window.stride_w = static_cast<int>(cw.stride_w * k[1]);
        p.window.pad_top = p.window.pad_bottom = static_cast<int>(cw.pad_top * k[0]);
        p.window.pad_left = p.window.pad_right = static_cast<int>(cw.pad_left * k[1]);
        p.weight = Tensor({co, ci, nh, nw}, std::move(v));
        return true;
    }

    // Composed synapses that join every source neuron to every target neuron are a Linear projection.
    static void dense_as_linear(Projection& p, int64_t n_src, int64_t n_dst) {
        if (static_cast<int64_t>(p.sparse_target.size()) != n_src * n_dst) return;  // (each row ascending, distinct)
        std::vector<float> w(static_cast<size_t>(n_src * n_dst));
        for (int64_t s = 0; s < n_src; ++s)
            for (int32_t j = p.sparse_ptr[static_cast<size_t>(s)]; j < p.sparse_ptr[static_cast<size_t>(s) + 1]; ++j)
                w[static_cast<size_t>(p.sparse_target[static_cast<size_t>(j)] * n_src + s)] = p.weight.data[static_cast<size_t>(j)];
        p.kind = ProjectionKind::Linear;
        p.weight = Tensor({n_dst, n_src}, std::move(w));
        p.sparse_ptr.clear();
        p.sparse_target.clear();
    }

    const Matrix& matrix(int v) {
        auto it = matrices_.find(v);
        if (it == matrices_.end()) it = matrices_.emplace(v, node_matrix(g_.nodes[v], where_)).first;
        return it->second;
    }

    // The chain composed: each source neuron's unit vector pushed through every node; every structurally
    // reachable target is a synapse (its weight may be 0).
    void sparse(const PathInfo& path, Projection& p, int64_t per) {
        p.kind = ProjectionKind::Sparse;
        const int64_t n_src = model_.populations[static_cast<size_t>(p.source)].size();
        std::vector<float> weights;
        p.sparse_ptr.assign(1, 0);
        // The chain's own Scales are in its matrices; only the target's folded r is applied here.
        const auto& fold = fold_[static_cast<size_t>(p.target)];
        // Dense accumulators per node with the list of touched outputs: each source's vector stays sparse, and
        // the sums run in ascending input order (deterministic).
        std::vector<std::vector<double>> acc;
        std::vector<std::vector<uint8_t>> seen;
        for (int c : path.chain) {
            const auto n_out = static_cast<size_t>(shape_numel(g_.nodes[c].out_shape));
            acc.emplace_back(n_out, 0.0);
            seen.emplace_back(n_out, 0);
        }
        int64_t work = 0;
        for (int64_t s = 0; s < n_src; ++s) {
            std::vector<std::pair<int64_t, double>> vec{{s, 1.0}};
            for (size_t c = 0; c < path.chain.size(); ++c) {
                const Matrix& m = matrix(path.chain[c]);
                std::vector<int64_t> touched;
                for (const auto& [i, x] : vec) {
                    const auto& row = m.rows[static_cast<size_t>(i)];
                    work += static_cast<int64_t>(row.size());
                    for (const auto& [o, w] : row) {
                        if (!seen[c][static_cast<size_t>(o)]) seen[c][static_cast<size_t>(o)] = 1, touched.push_back(o);
                        acc[c][static_cast<size_t>(o)] += x * w;
                    }
                }
                std::sort(touched.begin(), touched.end());
                vec.clear();
                for (int64_t o : touched) {
                    vec.emplace_back(o, acc[c][static_cast<size_t>(o)]);
                    acc[c][static_cast<size_t>(o)] = 0.0, seen[c][static_cast<size_t>(o)] = 0;
                }
            }
            if (work > (INT64_C(1) << 33))
                throw ModelError(fmt::format("{}: projection '{}': composing its chain of linear nodes into synapses "
                                             "takes over 2^33 operations (too large)", where_, p.name));
            for (const auto& [o, x] : vec) {
                p.sparse_target.push_back(static_cast<int32_t>(o));
                weights.push_back(static_cast<float>(x * channel_value(fold, o / per)));
            }
            if (p.sparse_target.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
                throw ModelError(fmt::format("{}: projection '{}' has more than 2^31 synapses", where_, p.name));
            p.sparse_ptr.push_back(static_cast<int32_t>(p.sparse_target.size()));
        }
        const auto nnz = static_cast<int64_t>(weights.size());
        p.weight = Tensor({nnz}, std::move(weights));
    }

    // Biases along the path, pushed through the later nodes, added once to the target per neuron.
    void add_path_bias(const PathInfo& path, int target, int64_t per) {
        size_t first = path.chain.size();
        for (size_t i = 0; i < path.chain.size(); ++i)
            if (g_.nodes[path.chain[i]].node->has("bias")) {
                first = i;
                break;
            }
        if (first == path.chain.size()) return;
        std::vector<double> v;
        for (size_t i = first; i < path.chain.size(); ++i) {
            // The first biased node adds its bias to nothing: its synapses are not needed.
            const Matrix bias_only = i == first ? node_matrix(g_.nodes[path.chain[i]], where_, false) : Matrix{};
            const Matrix& m = i == first ? bias_only : matrix(path.chain[i]);
            std::vector<double> next(static_cast<size_t>(shape_numel(g_.nodes[path.chain[i]].out_shape)), 0.0);
            if (!v.empty())
                for (size_t k = 0; k < m.rows.size(); ++k)
                    for (const auto& [o, w] : m.rows[k]) next[static_cast<size_t>(o)] += v[k] * w;
            for (size_t k = 0; k < m.bias.size(); ++k) next[k] += m.bias[k];
            v = std::move(next);
        }
        auto& acc = bias_[static_cast<size_t>(target)];
        if (acc.empty()) acc.assign(v.size(), 0.0);
        for (size_t k = 0; k < v.size(); ++k) acc[k] += v[k] * channel_value(fold_[static_cast<size_t>(target)], static_cast<int64_t>(k) / per);
    }

    void finish_biases() {
        for (size_t t = 0; t < bias_.size(); ++t) {
            if (bias_[t].empty()) continue;
            Population& p = model_.populations[t];
            const int64_t per = p.size() / p.channels();
            std::vector<float> b;
            for (int64_t c = 0; c < p.channels(); ++c) {
                const double x = bias_[t][static_cast<size_t>(c * per)];
                for (int64_t j = 1; j < per; ++j)
                    if (bias_[t][static_cast<size_t>(c * per + j)] != x)
                        throw ModelError(fmt::format("{}: population '{}': the bias reaching it varies within channel {} "
                                                     "(neuroemu has one bias per channel)", where_, p.name, c));
                b.push_back(static_cast<float>(x));
            }
            const bool zero = std::all_of(b.begin(), b.end(), [](float x) { return x == 0.0f; });
            const Array* has = nullptr;
            for (const auto& [v, pop] : pop_of_)
                if (pop == static_cast<int>(t)) has = meta_array(*g_.nodes[v].node, "neuroemu_has_bias");
            if (zero && !(has && has->values[0] != 0)) continue;  // all-zero bias: none
            p.bias = std::move(b);
        }
    }

    const File& file_;
    std::string where_;
    ImportOptions options_;
    FlatGraph g_;
    SnnModel model_;
    std::map<int, int> pop_of_;                  // flat node -> population
    std::vector<std::vector<double>> fold_;      // per population: r folded into its incoming weights (per channel)
    std::vector<std::vector<double>> bias_;      // per population: bias per neuron, empty when none
    std::map<int, Matrix> matrices_;
    std::vector<std::array<int, 4>> order_;      // (target, first chain node, source, index) to sort projections
};

}  // namespace

SnnModel import_graph(const File& file, const std::string& path, const ImportOptions& options) {
    if (file.root.type != "NIRGraph" || !file.root.graph) throw ModelError(path + ": the root node is not a NIRGraph");
    return Importer(file, path, options).run();
}

SnnModel import_nir(const std::string& path, const ImportOptions& options) { return import_graph(read_file(path), path, options); }

}  // namespace neuroemu::nir
