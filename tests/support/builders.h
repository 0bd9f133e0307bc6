// Small builders the tests share for hand-made networks and spiking models.
#pragma once

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

}  // namespace neuroemu
