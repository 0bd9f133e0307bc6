#include "convert/convert.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/parallel.h"
#include "convert/percentile.h"
#include "sim/ann_engine.h"

namespace neuroemu {
namespace {

[[noreturn]] void fail(const Layer& l, const std::string& what) {
    throw ModelError(fmt::format("layer '{}' ({}): {}", l.name, op_name(l.kind), what));
}

bool is_population_kind(OpKind k) {
    return k == OpKind::Input || k == OpKind::ReLU || k == OpKind::AvgPool || k == OpKind::GlobalAvgPool ||
           k == OpKind::MaxPool;
}

// A synaptic path found by walking back from a population's input through linear layers.
struct Term {
    int layer = -1;   // the Conv2d / Linear layer, or -1 for a direct (identity) connection
    int source = -1;  // source population id
    int branch = 0;   // which operand of the nearest residual Add it came through (0 or 1; -1: none)
};

struct Builder {
    const Network& net;
    const Calibration& cal;
    const ConversionOptions& opt;
    SnnModel model;
    std::vector<int> pop_of;  // ANN layer -> population whose spikes carry its output, -1 if none

    Builder(const Network& network, const Calibration& calibration, const ConversionOptions& options)
        : net(network), cal(calibration), opt(options), pop_of(static_cast<size_t>(network.size()), -1) {}

    int source_pop(int layer, const Layer& reader) const {
        int id = layer;
        while (net.layer(id).kind == OpKind::Flatten && pop_of[static_cast<size_t>(id)] < 0) id = net.layer(id).inputs[0];
        const int p = pop_of[static_cast<size_t>(id)];
        if (p < 0)
            fail(reader, fmt::format("reads '{}' ({}), which carries no spikes: conversion needs a ReLU, a pooling "
                                     "layer or the input between two weight layers",
                                     net.layer(id).name, op_name(net.layer(id).kind)));
        return p;
    }

    // Linear layers feeding `id` down to the nearest populations.
    // (`reader_id` is the population's own layer: for a readout, its own weights are expanded.)
    void expand(int id, int branch, int reader_id, std::vector<Term>& terms) const {
        const Layer& l = net.layer(id);
        const Layer& reader = net.layer(reader_id);
        if (id != reader_id && pop_of[static_cast<size_t>(id)] >= 0) {
            terms.push_back({-1, pop_of[static_cast<size_t>(id)], branch});
            return;
        }
        switch (l.kind) {
            case OpKind::Conv2d:
            case OpKind::Linear:
                terms.push_back({id, source_pop(l.inputs[0], l), branch});
                return;
            case OpKind::Add:
                if (branch >= 0) fail(l, "nested residual additions are not supported by conversion");
                expand(l.inputs[0], 0, reader_id, terms);
                expand(l.inputs[1], 1, reader_id, terms);
                return;
            case OpKind::Flatten:
                expand(l.inputs[0], branch, reader_id, terms);
                return;
            case OpKind::BatchNorm:
                fail(l, "BatchNorm must be folded into its convolution before conversion");
            default:
                fail(reader, fmt::format("its input '{}' ({}) cannot be expressed as synapses", l.name, op_name(l.kind)));
        }
    }

    std::vector<float> lambda_for(int layer, int64_t channels, bool readout) const {
        if (!opt.normalise) return {1.0f};
        auto usable = [](float v) { return std::isfinite(v) && v > 0.0f; };
        const auto it = cal.layer_lambda.find(layer);
        if (it == cal.layer_lambda.end())
            throw InternalError(fmt::format("no calibration for layer '{}'", net.layer(layer).name));
        const float layer_l = usable(it->second) ? it->second : 1.0f;  // a silent layer: nothing to scale
        if (!opt.channel_wise || readout) return {layer_l};
        const auto& ch = cal.channel_lambda.at(layer);
        std::vector<float> out(static_cast<size_t>(channels));
        for (int64_t c = 0; c < channels; ++c)
            out[static_cast<size_t>(c)] = usable(ch[static_cast<size_t>(c)]) ? ch[static_cast<size_t>(c)] : layer_l;
        return out;
    }

    int add_population(int layer, PopulationKind kind) {
        const Layer& l = net.layer(layer);
        Population p;
        p.name = l.name;
        p.kind = kind;
        p.shape = l.shape;
        const bool readout = layer == net.output_id();
        if (kind == PopulationKind::Input) {
            p.lambda = {1.0f};  // pixels enter as currents x / 1 (Poisson rates need x in [0, 1])
        } else if (kind == PopulationKind::MaxGate) {
            p.gate_source = source_pop(l.inputs[0], l);
            p.gate_window = l.pool().window;
            p.lambda = model.populations[static_cast<size_t>(p.gate_source)].lambda;
        } else {
            p.lambda = lambda_for(layer, p.channels(), readout);
            p.threshold = {1.0f};
            p.spiking = !readout || opt.spiking_readout;
            if (opt.channel_thresholds && p.lambda.size() > 1) {
                // The layer's λ normalises what comes in; each channel's threshold carries λ_c / λ_layer, so a
                // spike still stands for λ_c of activation.
                const float layer_l = lambda_for_layer(layer);
                p.threshold.clear();
                for (float lc : p.lambda) p.threshold.push_back(lc / layer_l);
            }
        }
        model.populations.push_back(std::move(p));
        pop_of[static_cast<size_t>(layer)] = static_cast<int>(model.populations.size()) - 1;
        return pop_of[static_cast<size_t>(layer)];
    }

    float lambda_for_layer(int layer) const {
        const float v = cal.layer_lambda.at(layer);
        return std::isfinite(v) && v > 0.0f ? v : 1.0f;
    }

    // λ that normalises a target channel's input current (Eq. 2's denominator).
    float in_scale(const Population& t, int64_t c, int layer) const {
        if (opt.channel_thresholds && t.lambda.size() > 1) return lambda_for_layer(layer);
        return t.lambda_of(c);
    }

    void connect(int target, int layer, int pre) {
        const Layer& reader = net.layer(layer);
        std::vector<Term> terms;
        expand(pre, -1, layer, terms);
        // The shortcut branch of a residual Add: the identity operand, or (two weight branches, a projection
        // shortcut) the one reaching back to the earlier population.
        int shortcut_branch = -1;
        int earliest[2] = {1 << 30, 1 << 30};
        bool identity[2] = {false, false};
        for (const Term& t : terms)
            if (t.branch >= 0) {
                earliest[t.branch] = std::min(earliest[t.branch], t.source);
                identity[t.branch] = identity[t.branch] || t.layer < 0;
            }
        if (identity[0] != identity[1])
            shortcut_branch = identity[0] ? 0 : 1;
        else if (earliest[0] != earliest[1] && earliest[0] < (1 << 30) && earliest[1] < (1 << 30))
            shortcut_branch = earliest[0] < earliest[1] ? 0 : 1;
        Population& tp = model.populations[static_cast<size_t>(target)];
        const int64_t channels = tp.channels();
        std::vector<double> bias(static_cast<size_t>(channels), 0.0);
        bool has_bias = false;
        for (const Term& t : terms) {
            const Population& sp = model.populations[static_cast<size_t>(t.source)];
            Projection p;
            p.source = t.source;
            p.target = target;
            p.shortcut = t.branch >= 0 && t.branch == shortcut_branch;
            if (t.layer < 0) {
                if (sp.shape != tp.shape)
                    fail(reader, fmt::format("identity connection from '{}' {} to {}", sp.name, shape_str(sp.shape),
                                             shape_str(tp.shape)));
                p.name = sp.name + "->" + tp.name;
                p.kind = ProjectionKind::Identity;
                p.weight = Tensor({channels});
                for (int64_t c = 0; c < channels; ++c)
                    p.weight.data[static_cast<size_t>(c)] =
                        p.shortcut && !opt.shortcut_normalisation ? 1.0f : sp.lambda_of(c) / in_scale(tp, c, layer);
            } else {
                const Layer& wl = net.layer(t.layer);
                p.name = wl.name;
                const Tensor& w = wl.kind == OpKind::Conv2d ? wl.conv().weight : wl.linear().weight;
                const Tensor& b = wl.kind == OpKind::Conv2d ? wl.conv().bias : wl.linear().bias;
                p.kind = wl.kind == OpKind::Conv2d ? ProjectionKind::Conv : ProjectionKind::Linear;
                if (wl.kind == OpKind::Conv2d) p.window = wl.conv().window;
                p.weight = w;
                const int64_t outs = w.shape[0], per_out = w.numel() / outs;
                // Source channel of a weight column: conv [Cout][Cin][kh][kw]; linear reads [C][H][W] flattened.
                const int64_t per_src_channel = wl.kind == OpKind::Conv2d ? w.shape[2] * w.shape[3]
                                                                          : shape_numel(sp.shape) / sp.channels();
                for (int64_t o = 0; o < outs; ++o) {
                    const float dst = in_scale(tp, o, layer);
                    for (int64_t k = 0; k < per_out; ++k)
                        p.weight.data[static_cast<size_t>(o * per_out + k)] *= sp.lambda_of(k / per_src_channel) / dst;
                    if (!b.empty()) bias[static_cast<size_t>(o)] += b.data[static_cast<size_t>(o)] / dst;
                }
                has_bias = has_bias || !b.empty();
            }
            model.projections.push_back(std::move(p));
        }
        if (has_bias)
            for (double v : bias) tp.bias.push_back(static_cast<float>(v));
    }

    // Max pooling before the neuron: the pooled ReLU's population becomes a current collector, and the pooled
    // population, on its scale and thresholds, integrates each step the largest current in its window.
    void add_max_of_currents(int layer) {
        const Layer& l = net.layer(layer);
        const int relu = l.inputs[0];
        if (net.layer(relu).kind != OpKind::ReLU || net.consumers(relu).size() != 1)
            fail(l, fmt::format("conversion.max_pool=current pools the currents of a ReLU that nothing else reads; "
                                "its input '{}' is not one (use conversion.max_pool=gate)", net.layer(relu).name));
        const int src = source_pop(relu, l);
        Population& sp = model.populations[static_cast<size_t>(src)];
        sp.kind = PopulationKind::Current;
        sp.spiking = false;
        Population q;
        q.name = l.name;
        q.kind = PopulationKind::IF;
        q.shape = l.shape;
        q.lambda = sp.lambda;
        q.threshold = sp.threshold;
        Projection p;
        p.name = l.name;
        p.kind = ProjectionKind::MaxPool;
        p.source = src;
        p.window = l.pool().window;
        p.weight = Tensor({sp.channels()}, std::vector<float>(static_cast<size_t>(sp.channels()), 1.0f));
        model.populations.push_back(std::move(q));
        p.target = static_cast<int>(model.populations.size()) - 1;
        pop_of[static_cast<size_t>(layer)] = p.target;
        model.projections.push_back(std::move(p));
    }

    void add_pool_projection(int target, int layer) {
        const Layer& l = net.layer(layer);
        Population& tp = model.populations[static_cast<size_t>(target)];
        const int src = source_pop(l.inputs[0], l);
        const Population& sp = model.populations[static_cast<size_t>(src)];
        Projection p;
        p.name = l.name;
        p.kind = ProjectionKind::AvgPool;
        p.source = src;
        p.target = target;
        if (l.kind == OpKind::GlobalAvgPool) {
            p.window.kernel_h = static_cast<int>(sp.shape[1]);
            p.window.kernel_w = static_cast<int>(sp.shape[2]);
        } else {
            p.window = l.pool().window;
            p.count_include_pad = l.pool().count_include_pad;
        }
        p.weight = Tensor({tp.channels()});
        for (int64_t c = 0; c < tp.channels(); ++c)
            p.weight.data[static_cast<size_t>(c)] = sp.lambda_of(c) / in_scale(tp, c, layer);
        model.projections.push_back(std::move(p));
    }

    SnnModel build() {
        model.name = net.name();
        const std::vector<int> sites = population_layers(net);
        std::vector<char> is_site(static_cast<size_t>(net.size()), 0);
        for (int s : sites) is_site[static_cast<size_t>(s)] = 1;
        for (int id = 0; id < net.size(); ++id) {
            if (!is_site[static_cast<size_t>(id)]) continue;
            const Layer& l = net.layer(id);
            switch (l.kind) {
                case OpKind::Input:
                    add_population(id, PopulationKind::Input);
                    break;
                case OpKind::MaxPool:
                    if (opt.max_pool == MaxPoolMode::Current)
                        add_max_of_currents(id);
                    else
                        add_population(id, PopulationKind::MaxGate);
                    break;
                case OpKind::AvgPool:
                case OpKind::GlobalAvgPool:
                    add_pool_projection(add_population(id, PopulationKind::IF), id);
                    break;
                case OpKind::ReLU:
                    connect(add_population(id, PopulationKind::IF), id, l.inputs[0]);
                    break;
                default:  // the output layer: a readout over its own input
                    connect(add_population(id, PopulationKind::IF), id, id);
            }
        }
        model.output = pop_of[static_cast<size_t>(net.output_id())];
        model.reset = opt.reset;
        model.v_init = opt.v_init;
        model.record.source_model = net.name();
        model.record.percentile = cal.percentile;
        model.record.calibration_images = opt.normalise ? cal.images : 0;
        model.record.channel_wise = opt.channel_wise;
        model.record.shortcut_normalisation = opt.shortcut_normalisation;
        validate(model, "converted model '" + net.name() + "'");
        return model;
    }
};

}  // namespace

Network fold_batchnorm(const Network& net) {
    std::vector<Layer> layers = net.layers();
    std::vector<int> alias(static_cast<size_t>(net.size()));  // a folded BatchNorm reads as its convolution
    for (int id = 0; id < net.size(); ++id) alias[static_cast<size_t>(id)] = id;
    for (int id = 1; id < net.size(); ++id) {
        const Layer& l = net.layer(id);
        if (l.kind != OpKind::BatchNorm) continue;
        const int src = l.inputs[0];
        if (net.layer(src).kind != OpKind::Conv2d || net.consumers(src).size() != 1 || src == net.output_id())
            fail(l, "can only be folded when it directly follows a convolution that nothing else reads");
        // Eq. 1: W~ = γW/σ, b~ = γ(b - μ)/σ + β, with σ = sqrt(var + eps).
        auto& c = layers[static_cast<size_t>(src)].conv();
        const auto& b = l.bn();
        const int64_t outs = c.weight.shape[0], per_out = c.weight.numel() / outs;
        if (c.bias.empty()) c.bias = Tensor({outs}, std::vector<float>(static_cast<size_t>(outs), 0.0f));
        for (int64_t o = 0; o < outs; ++o) {
            const size_t oi = static_cast<size_t>(o);
            const double scale = b.gamma.data[oi] / std::sqrt(static_cast<double>(b.var.data[oi]) + b.eps);
            for (int64_t k = 0; k < per_out; ++k) {
                float& w = c.weight.data[static_cast<size_t>(o * per_out + k)];
                w = static_cast<float>(w * scale);
            }
            c.bias.data[oi] = static_cast<float>((c.bias.data[oi] - b.mean.data[oi]) * scale + b.beta.data[oi]);
        }
        alias[static_cast<size_t>(id)] = src;
    }
    Network out(net.name());
    std::vector<int> remap(static_cast<size_t>(net.size()), -1);
    out.add_input(net.layer(0).name, net.layer(0).shape);
    remap[0] = 0;
    for (int id = 1; id < net.size(); ++id) {
        if (alias[static_cast<size_t>(id)] != id) {
            remap[static_cast<size_t>(id)] = remap[static_cast<size_t>(alias[static_cast<size_t>(id)])];
            continue;
        }
        Layer& copy = layers[static_cast<size_t>(id)];
        for (int& in : copy.inputs) in = remap[static_cast<size_t>(in)];
        remap[static_cast<size_t>(id)] = out.add(std::move(copy));
    }
    out.set_output(remap[static_cast<size_t>(net.output_id())]);
    return out;
}

std::vector<int> population_layers(const Network& net) {
    std::vector<int> sites;
    for (int id = 0; id < net.size(); ++id) {
        const Layer& l = net.layer(id);
        if (l.kind == OpKind::BatchNorm) fail(l, "BatchNorm must be folded into its convolution before conversion");
        if (is_population_kind(l.kind) || id == net.output_id()) sites.push_back(id);
    }
    return sites;
}

Calibration calibrate(const Network& net, const ImageSet& images, const InputNormalisation& norm, double percentile,
                      bool channel_wise, int threads) {
    if (images.count < 1) throw DataError("calibration needs at least one training image");
    const std::vector<int> sites = population_layers(net);
    const int workers = resolve_threads(threads);
    struct Sketches {
        std::map<int, PercentileSketch> layer;
        std::map<int, std::vector<PercentileSketch>> channel;
    };
    std::vector<Sketches> per_worker(static_cast<size_t>(workers));
    ActivationTap tap;
    tap.layers.assign(static_cast<size_t>(net.size()), 0);
    for (int s : sites)
        if (s > 0) tap.layers[static_cast<size_t>(s)] = 1;
    for (auto& w : per_worker)
        for (int s : sites) {
            w.layer.emplace(s, PercentileSketch(10));
            if (channel_wise) w.channel[s].assign(static_cast<size_t>(net.layer(s).shape[0]), PercentileSketch(7));
        }
    tap.fn = [&](int worker, int64_t, int layer, const float* v) {
        Sketches& sk = per_worker[static_cast<size_t>(worker)];
        const auto& shape = net.layer(layer).shape;
        const int64_t n = shape_numel(shape), per_channel = n / shape[0];
        PercentileSketch& ls = sk.layer.at(layer);
        for (int64_t i = 0; i < n; ++i) ls.add(v[i]);
        if (channel_wise) {
            auto& cs = sk.channel.at(layer);
            for (int64_t i = 0; i < n; ++i) cs[static_cast<size_t>(i / per_channel)].add(v[i]);
        }
    };
    AnnOptions ao;
    ao.threads = workers;
    AnnEngine(net).evaluate(images, norm, ao, nullptr, &tap);
    Calibration cal;
    cal.percentile = percentile;
    cal.images = images.count;
    for (int s : sites) {
        if (s == 0) continue;
        PercentileSketch total = per_worker[0].layer.at(s);
        for (size_t w = 1; w < per_worker.size(); ++w) total.merge(per_worker[w].layer.at(s));
        cal.layer_lambda[s] = total.percentile(percentile);
        cal.layer_max[s] = total.max();
        if (channel_wise) {
            auto& out = cal.channel_lambda[s];
            for (size_t c = 0; c < per_worker[0].channel.at(s).size(); ++c) {
                PercentileSketch ct = per_worker[0].channel.at(s)[c];
                for (size_t w = 1; w < per_worker.size(); ++w) ct.merge(per_worker[w].channel.at(s)[c]);
                out.push_back(ct.percentile(percentile));
            }
        }
    }
    return cal;
}

SnnModel build_snn(const Network& folded, const Calibration& calibration, const ConversionOptions& options) {
    return Builder(folded, calibration, options).build();
}

void scale_weights(SnnModel& model, double zeta) {
    for (auto& p : model.projections)
        for (float& w : p.weight.data) w = static_cast<float>(w * zeta);
    model.record.zeta *= zeta;
}

}  // namespace neuroemu
