// A model that uses every field of .snn format version 1 and none of version 2, with weights from a formula (no
// random generator, whose output differs between standard libraries). tests/data/snn/v1_reference.snn holds it
// as written by the version-1-only writer (neuroemu before issue 19); snn_test.cpp checks that today's writer
// still writes those bytes exactly.
#pragma once

#include <limits>

#include "model/snn.h"

namespace neuroemu::v1_reference {

inline Window2d win(int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, bool ceil = false) {
    Window2d w;
    w.kernel_h = kh, w.kernel_w = kw, w.stride_h = sh, w.stride_w = sw;
    w.pad_top = pt, w.pad_left = pl, w.pad_bottom = pb, w.pad_right = pr;
    w.ceil_mode = ceil;
    return w;
}

inline Tensor ramp(std::vector<int64_t> shape, float scale) {
    Tensor t(std::move(shape));
    for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = scale * static_cast<float>(static_cast<int>(i % 7) - 3);
    return t;
}

inline Population population(const std::string& name, PopulationKind kind, std::vector<int64_t> shape) {
    Population p;
    p.name = name;
    p.kind = kind;
    p.shape = std::move(shape);
    p.lambda = {1.0f};
    if (kind == PopulationKind::IF) p.threshold = {1.0f};
    return p;
}

inline Projection projection(const std::string& name, ProjectionKind kind, int source, int target, Tensor weight,
                             Window2d w = {}) {
    Projection p;
    p.name = name;
    p.kind = kind;
    p.source = source;
    p.target = target;
    p.weight = std::move(weight);
    p.window = w;
    return p;
}

inline SnnModel model() {
    SnnModel m;
    m.name = "v1-reference";
    m.populations.push_back(population("in", PopulationKind::Input, {1, 6, 6}));
    Population a = population("relu1", PopulationKind::IF, {2, 6, 6});
    a.lambda = {1.5f, 2.5f};
    a.threshold = {1.0f, 0.75f};
    a.bias = {0.125f, -0.2f};
    m.populations.push_back(a);
    Population g = population("pool", PopulationKind::MaxGate, {2, 3, 3});
    g.lambda = a.lambda;
    g.threshold = {};
    g.gate_source = 1;
    g.gate_window = win(2, 2, 2, 2, 0, 0, 0, 0);
    m.populations.push_back(g);
    Population b = population("relu2", PopulationKind::IF, {2, 3, 3});
    b.lambda = {0.5f};
    b.threshold = {1.25f};
    m.populations.push_back(b);
    Population r = population("fc", PopulationKind::IF, {4});
    r.spiking = false;
    r.bias = {0.1f, 0.2f, 0.3f, -0.4f};
    m.populations.push_back(r);
    Tensor conv = ramp({2, 1, 3, 3}, 0.25f);
    conv.data[0] = -0.0f;
    conv.data[1] = std::numeric_limits<float>::denorm_min();
    conv.data[2] = std::numeric_limits<float>::max();
    m.projections.push_back(projection("conv1", ProjectionKind::Conv, 0, 1, conv, win(3, 3, 1, 1, 1, 1, 1, 1)));
    Projection pool = projection("avg", ProjectionKind::AvgPool, 2, 3, Tensor({2}, {0.75f, 1.25f}),
                                 win(2, 2, 1, 1, 1, 0, 0, 1, true));
    pool.count_include_pad = true;
    m.projections.push_back(pool);
    Projection id = projection("pool->relu2", ProjectionKind::Identity, 2, 3, Tensor({2}, {3.0f, 0.5f}));
    id.shortcut = true;
    m.projections.push_back(id);
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 3, 4, ramp({4, 18}, 0.1f)));
    m.output = 4;
    Population cur = population("relu3", PopulationKind::Current, {2, 6, 6});
    cur.spiking = false;
    cur.lambda = {0.75f};
    cur.bias = {-0.5f, 0.25f};
    m.populations.push_back(cur);
    Population pooled = population("maxpool3", PopulationKind::IF, {2, 3, 3});
    pooled.lambda = {0.75f};
    m.populations.push_back(pooled);
    m.projections.push_back(projection("conv3", ProjectionKind::Conv, 0, 5, ramp({2, 1, 3, 3}, 0.5f),
                                       win(3, 3, 1, 1, 1, 1, 1, 1)));
    m.projections.push_back(projection("maxpool3", ProjectionKind::MaxPool, 5, 6, Tensor({2}, {1.0f, 0.5f}),
                                       win(3, 3, 2, 2, 1, 1, 1, 1)));
    m.reset = ResetMode::Zero;
    m.v_init = 0.25f;
    m.record.source_model = "some_model.onnx";
    m.record.percentile = 99.99;
    m.record.calibration_images = 123;
    m.record.channel_wise = true;
    m.record.shortcut_normalisation = false;
    m.record.zeta = 1.07;
    m.record.fit_p = 0.011;
    m.record.fit_q = 1.13;
    m.record.fit_adj_r2 = 0.97;
    return m;
}

}  // namespace neuroemu::v1_reference
