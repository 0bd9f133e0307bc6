// Small builders the tests share for hand-made networks and spiking models.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/network.h"
#include "model/snn.h"

namespace neuroemu {

// A square window: kernel k, stride s, padding p on every side.
inline Window2d window(int k, int s, int p, bool ceil = false) {
    Window2d w;
    w.kernel_h = w.kernel_w = k;
    w.stride_h = w.stride_w = s;
    w.pad_top = w.pad_left = w.pad_bottom = w.pad_right = p;
    w.ceil_mode = ceil;
    return w;
}

inline Layer layer(const std::string& name, OpKind kind, std::vector<int> inputs, LayerAttrs attrs = {}) {
    Layer l;
    l.name = name;
    l.kind = kind;
    l.inputs = std::move(inputs);
    l.attrs = std::move(attrs);
    return l;
}

inline Projection projection(const std::string& name, ProjectionKind kind, int source, int target, Tensor weight,
                             Window2d w = {}, bool count_include_pad = false) {
    Projection p;
    p.name = name;
    p.kind = kind;
    p.source = source;
    p.target = target;
    p.weight = std::move(weight);
    p.window = w;
    p.count_include_pad = count_include_pad;
    return p;
}

// Populations of a hand-made spiking model (thresholds and lambda 1).
inline Population if_pop(const std::string& name, std::vector<int64_t> shape, std::vector<float> bias = {}) {
    Population p;
    p.name = name;
    p.kind = PopulationKind::IF;
    p.shape = std::move(shape);
    p.lambda = {1.0f};
    p.threshold = {1.0f};
    p.bias = std::move(bias);
    return p;
}

inline Population input_pop(std::vector<int64_t> shape) {
    Population p;
    p.name = "input";
    p.kind = PopulationKind::Input;
    p.shape = std::move(shape);
    p.lambda = {1.0f};
    return p;
}

inline Population gate_pop(const std::string& name, const SnnModel& m, int source, const Window2d& w) {
    Population p;
    p.name = name;
    p.kind = PopulationKind::MaxGate;
    p.gate_source = source;
    p.gate_window = w;
    const auto& s = m.populations[static_cast<size_t>(source)];
    p.shape = window_output_shape(name, s.shape, s.channels(), w, false);
    p.lambda = {1.0f};
    return p;
}

// Draws a projection's weights of `shape`, each within [lo, hi] (test models: seeded, so deterministic).
using WeightDraw = std::function<Tensor(std::vector<int64_t> shape, double lo, double hi)>;

// The two-branch model of the engine and stepper tests, every projection kind but max-pool in a few hundred units:
// input [2,9,9] -conv 3x3 s2 p1-> A [4,5,5] -avgpool 2x2 s2 p1 (count_include_pad) + conv 1x1 s2-> B [4,3,3]
// -max gate 2x2 s2 p1 over A, identity-> C [4,3,3] <-identity- B;  C -linear-> readout [5] (non-spiking).
// `bias` holds A's, B's and C's per-channel biases; `draw` is called for the weights in the order above, conv_a's
// within `conv_a_range`.
inline SnnModel two_branch_model(const std::string& name, const std::array<std::vector<float>, 3>& bias,
                                 const WeightDraw& draw, std::pair<double, double> conv_a_range) {
    SnnModel m;
    m.name = name;
    m.populations.push_back(input_pop({2, 9, 9}));
    m.populations.push_back(if_pop("A", {4, 5, 5}, bias[0]));
    m.populations.push_back(if_pop("B", {4, 3, 3}, bias[1]));
    m.populations.push_back(gate_pop("G", m, 1, window(2, 2, 1)));
    m.populations.push_back(if_pop("C", {4, 3, 3}, bias[2]));
    Population out = if_pop("out", {5});
    out.spiking = false;
    m.populations.push_back(out);
    m.projections.push_back(projection("conv_a", ProjectionKind::Conv, 0, 1,
                                       draw({4, 2, 3, 3}, conv_a_range.first, conv_a_range.second), window(3, 2, 1)));
    m.projections.push_back(projection("pool_b", ProjectionKind::AvgPool, 1, 2, draw({4}, 0.5, 1.5), window(2, 2, 1), true));
    m.projections.push_back(projection("conv_b", ProjectionKind::Conv, 1, 2, draw({4, 4, 1, 1}, -0.5, 0.5), window(1, 2, 0)));
    m.projections.push_back(projection("gate_c", ProjectionKind::Identity, 3, 4, draw({4}, 0.25, 0.75)));
    m.projections.push_back(projection("b_c", ProjectionKind::Identity, 2, 4, draw({4}, 0.25, 0.75)));
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 4, 5, draw({5, 36}, -1.0, 1.0)));
    m.output = 5;
    validate(m, name);
    return m;
}

}  // namespace neuroemu
