// SnnModel -> NIR -> SnnModel (nir/nir_import.h): a converted S-ResNet and the two-branch model of the engine
// tests come back field by field (weights bit-identical) and decide alike (the engine's correct_at_step, spikes
// and SOPs equal); the imported real files survive import -> export -> import; what NIR cannot say is an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <random>

#include "common/error.h"
#include "convert/convert.h"
#include "model/zoo.h"
#include "nir/nir_import.h"
#include "sim/snn_engine.h"
#include "tests/support/builders.h"

namespace neuroemu::nir {
namespace {

using ::testing::HasSubstr;

void expect_window_eq(const Window2d& a, const Window2d& b, const std::string& who) {
    EXPECT_EQ(a.kernel_h, b.kernel_h) << who;
    EXPECT_EQ(a.kernel_w, b.kernel_w) << who;
    EXPECT_EQ(a.stride_h, b.stride_h) << who;
    EXPECT_EQ(a.stride_w, b.stride_w) << who;
    EXPECT_EQ(a.pad_top, b.pad_top) << who;
    EXPECT_EQ(a.pad_left, b.pad_left) << who;
    EXPECT_EQ(a.pad_bottom, b.pad_bottom) << who;
    EXPECT_EQ(a.pad_right, b.pad_right) << who;
    EXPECT_EQ(a.ceil_mode, b.ceil_mode) << who;
}

// Every field but source_format (what the model was made from: import says "nir").
void expect_same_model(const SnnModel& a, const SnnModel& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.output, b.output);
    EXPECT_EQ(a.reset, b.reset);
    EXPECT_EQ(a.v_init, b.v_init);
    EXPECT_EQ(a.fire_above, b.fire_above);
    EXPECT_EQ(a.dt_s, b.dt_s);
    EXPECT_EQ(a.discretisation, b.discretisation);
    EXPECT_EQ(a.record.source_model, b.record.source_model);
    EXPECT_EQ(a.record.percentile, b.record.percentile);
    EXPECT_EQ(a.record.zeta, b.record.zeta);
    EXPECT_EQ(a.record.channel_wise, b.record.channel_wise);
    ASSERT_EQ(a.populations.size(), b.populations.size());
    for (size_t i = 0; i < a.populations.size(); ++i) {
        const Population &x = a.populations[i], &y = b.populations[i];
        const std::string who = "population " + std::to_string(i) + " " + x.name;
        EXPECT_EQ(x.name, y.name) << who;
        EXPECT_EQ(x.kind, y.kind) << who;
        EXPECT_EQ(x.shape, y.shape) << who;
        EXPECT_EQ(x.lambda, y.lambda) << who;
        EXPECT_EQ(x.threshold, y.threshold) << who;
        EXPECT_EQ(x.bias, y.bias) << who;
        EXPECT_EQ(x.spiking, y.spiking) << who;
        EXPECT_EQ(x.neuron, y.neuron) << who;
        EXPECT_EQ(x.gate_source, y.gate_source) << who;
        expect_window_eq(x.gate_window, y.gate_window, who);
    }
    ASSERT_EQ(a.projections.size(), b.projections.size());
    for (size_t k = 0; k < a.projections.size(); ++k) {
        const Projection &x = a.projections[k], &y = b.projections[k];
        const std::string who = "projection " + std::to_string(k) + " " + x.name;
        EXPECT_EQ(x.name, y.name) << who;
        EXPECT_EQ(x.kind, y.kind) << who;
        EXPECT_EQ(x.source, y.source) << who;
        EXPECT_EQ(x.target, y.target) << who;
        EXPECT_EQ(x.weight.shape, y.weight.shape) << who;
        EXPECT_EQ(x.weight.data, y.weight.data) << who;  // float ==: bit-identical but for -0 / NaN (none here)
        expect_window_eq(x.window, y.window, who);
        if (x.kind == ProjectionKind::AvgPool) {
            EXPECT_EQ(x.count_include_pad, y.count_include_pad) << who;
        }
        EXPECT_EQ(x.shortcut, y.shortcut) << who;
        EXPECT_EQ(x.recurrent, y.recurrent) << who;
        EXPECT_EQ(x.sparse_ptr, y.sparse_ptr) << who;
        EXPECT_EQ(x.sparse_target, y.sparse_target) << who;
    }
}

ImageSet binary_images(int64_t count, int64_t c, int64_t h, int64_t w, double density, uint32_t seed) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution on(density);
    ImageSet s;
    s.count = count, s.channels = c, s.height = h, s.width = w;
    s.pixels.resize(static_cast<size_t>(count * c * h * w));
    for (auto& p : s.pixels) p = on(rng) ? 255 : 0;
    s.labels.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) s.labels[static_cast<size_t>(i)] = i % 10;
    return s;
}

void expect_same_decisions(const SnnModel& a, const SnnModel& b, const ImageSet& set) {
    SnnOptions o;
    o.steps = 20;
    o.threads = 1;
    const SnnResult ra = SnnEngine(a).evaluate(set, {}, o), rb = SnnEngine(b).evaluate(set, {}, o);
    EXPECT_GT(ra.spikes, 0);
    EXPECT_EQ(ra.correct_at_step, rb.correct_at_step);
    EXPECT_EQ(ra.spikes, rb.spikes);
    EXPECT_EQ(ra.sops, rb.sops);
}

// Exit status of tests/nir/nir_conformance.py on `path` (the reference NIR library's read rules); -1 without h5py.
int conformance(const std::string& path) {
#ifdef NEUROEMU_H5PY_PYTHON
    const std::string cmd = std::string(NEUROEMU_H5PY_PYTHON) + " " + NEUROEMU_SOURCE_DIR + "/tests/nir/nir_conformance.py '" + path + "'";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
#else
    (void)path;
    return -1;
#endif
}

// Through the HDF5 file; the file is also one the reference library reads (where h5py can tell).
SnnModel round_trip(const SnnModel& m, const std::string& dir_file) {
    const std::string path = std::string(NEUROEMU_BINARY_DIR) + "/" + dir_file;
    export_nir(m, path);
    const int rc = conformance(path);
    EXPECT_TRUE(rc == 0 || rc == -1) << path << " breaks the reference library's read rules";
    return import_nir(path);
}

TEST(NirRoundTrip, ConformanceCheckerRejectsWhatTheReferenceRejects) {
    if (conformance(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/cnn_sinabs.nir") == -1) GTEST_SKIP() << "no h5py";
    EXPECT_EQ(conformance(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/lif_rockpool.nir"), 1);
}

TEST(NirRoundTrip, ConvertedSResNetComesBackTheSame) {
    const Network ann = fold_batchnorm(build_zoo({"resnet8", {1, 28, 28}, 10, 5}));
    const ImageSet set = binary_images(4, 1, 28, 28, 0.3, 7);
    SnnModel m = build_snn(ann, calibrate(ann, set, {}, 99.9, false, 1), ConversionOptions{});
    m.name = "resnet8.test";
    m.record.source_model = "resnet8.onnx";
    const File f = export_graph(m);
    // Node names sanitised ('.' -> '_'), the neuroemu semantics in metadata.
    for (const Node& n : f.root.graph->nodes) EXPECT_EQ(n.name.find('.'), std::string::npos) << n.name;
    EXPECT_EQ(f.root.metadata_strings.at("neuroemu_reset"), "subtract");
    EXPECT_EQ(f.root.metadata_strings.at("neuroemu_fire"), "at_or_above");
    const SnnModel in_memory = import_graph(f, "x.nir");
    expect_same_model(m, in_memory);
    const SnnModel back = round_trip(m, "nir_roundtrip_resnet8.nir");  // through the HDF5 file too
    expect_same_model(m, back);
    EXPECT_EQ(back.source_format, "nir");
    expect_same_decisions(m, back, binary_images(3, 1, 28, 28, 0.4, 11));
}

TEST(NirRoundTrip, TwoBranchModelWithGateAvgPoolAndReadout) {
    std::mt19937 rng(3);
    const WeightDraw draw = [&](std::vector<int64_t> shape, double lo, double hi) {
        Tensor t(std::move(shape));
        std::uniform_real_distribution<float> d(static_cast<float>(lo), static_cast<float>(hi));
        for (float& v : t.data) v = d(rng);
        return t;
    };
    SnnModel m = two_branch_model("two.branch", {std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, {}, {}}, draw, {0.5, 1.5});
    m.projections[1].shortcut = true;
    const SnnModel back = round_trip(m, "nir_roundtrip_two_branch.nir");
    expect_same_model(m, back);
    expect_same_decisions(m, back, binary_images(3, 2, 9, 9, 0.5, 5));
}

TEST(NirRoundTrip, ImportedFilesSurviveExportAndImport) {
    for (const char* name : {"cnn_sinabs.nir", "braille_noDelay_noBias_subtract.nir", "two_lif_neurons.nir"}) {
        SCOPED_TRACE(name);
        const SnnModel a = import_nir(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/" + name);
        const SnnModel b = round_trip(a, std::string("nir_roundtrip_") + name);
        expect_same_model(a, b);
    }
}

// A recurrent projection back to an earlier population: the edge closes a cycle in NIR and comes back recurrent.
TEST(NirRoundTrip, RecurrentProjectionToAnEarlierPopulation) {
    SnnModel m;
    m.name = "loop";
    m.populations.push_back(input_pop({2}));
    m.populations.push_back(if_pop("A", {3}, {0.25f, 0.5f, 0.75f}));
    m.populations.push_back(if_pop("B", {2}));
    m.projections.push_back(projection("in_a", ProjectionKind::Linear, 0, 1, Tensor({3, 2}, {1, 2, 3, 4, 5, 6})));
    Projection back = projection("b_a", ProjectionKind::Linear, 2, 1, Tensor({3, 2}, {-1, 0.5f, 0, 2, 1, 1}));
    back.recurrent = true;
    m.projections.push_back(back);
    m.projections.push_back(projection("a_b", ProjectionKind::Linear, 1, 2, Tensor({2, 3}, {1, 1, 1, 0.5f, 0.5f, 0.5f})));
    m.output = 2;
    m.reset = ResetMode::ToValue;
    m.fire_above = true;
    validate(m, "loop");
    const SnnModel b = round_trip(m, "nir_roundtrip_loop.nir");
    expect_same_model(m, b);
}

// Sparse synapses leave as a dense Linear (NIR has no sparse node) and come back as that Linear.
TEST(NirRoundTrip, SparseLeavesAsADenseLinear) {
    SnnModel m;
    m.name = "sparse";
    m.populations.push_back(input_pop({4}));
    m.populations.push_back(if_pop("n", {3}));
    Projection p = projection("s", ProjectionKind::Sparse, 0, 1, Tensor({4}, {0.5f, -1.0f, 2.0f, 0.25f}));
    p.sparse_ptr = {0, 2, 2, 3, 4};   // source 0 -> 0, 2; source 1 -> none; source 2 -> 1; source 3 -> 2
    p.sparse_target = {0, 2, 1, 2};
    m.projections.push_back(p);
    m.output = 1;
    validate(m, "sparse");
    const SnnModel back = import_graph(export_graph(m), "sparse.nir");
    const Projection& q = back.projections.at(0);
    EXPECT_EQ(q.kind, ProjectionKind::Linear);
    EXPECT_EQ(q.weight.shape, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(q.weight.data, (std::vector<float>{0.5f, 0, 0, 0, /**/ 0, 0, 2.0f, 0, /**/ -1.0f, 0, 0, 0.25f}));
    // Onto a [C, H, W] population there is no NIR form (Linear gives a vector; NIR has no reshape).
    m.populations[1].shape = {3, 1, 1};
    validate(m, "sparse");
    EXPECT_THROW(export_graph(m), ModelError);
}

TEST(NirRoundTrip, WhatNirCannotSayIsAnError) {
    // A current collector read by max pooling (MaxPoolMode::Current): no NIR node pools currents.
    SnnModel m;
    m.name = "current";
    m.populations.push_back(input_pop({1, 4, 4}));
    Population cur = if_pop("cur", {1, 4, 4});
    cur.kind = PopulationKind::Current;
    cur.spiking = false;
    m.populations.push_back(cur);
    m.populations.push_back(if_pop("pooled", {1, 2, 2}));
    m.projections.push_back(projection("c", ProjectionKind::Conv, 0, 1, Tensor({1, 1, 1, 1}, {1.0f}), window(1, 1, 0)));
    m.projections.push_back(projection("mp", ProjectionKind::MaxPool, 1, 2, Tensor({1}, {1.0f}), window(2, 2, 0)));
    m.output = 2;
    validate(m, "current");
    try {
        export_graph(m);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("'current' population"));
    }
    std::mt19937 rng(1);
    SnnModel asym = two_branch_model("asym", {std::vector<float>{}, {}, {}},
                                     [&](std::vector<int64_t> s, double lo, double hi) {
                                         Tensor t(std::move(s));
                                         for (float& v : t.data) v = std::uniform_real_distribution<float>(static_cast<float>(lo), static_cast<float>(hi))(rng);
                                         return t;
                                     },
                                     {0, 1});
    asym.projections[0].window.pad_bottom = 2;  // (9 + 1 + 2 - 3) / 2 + 1 = 5 rows still: valid, but asymmetric
    validate(asym, "asym");
    try {
        export_graph(asym);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("conv_a"));
    }
}

}  // namespace
}  // namespace neuroemu::nir
