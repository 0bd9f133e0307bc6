// NIR graphs -> SnnModel (nir/nir_import.h): hand-built graphs for each node and edge case, checked against
// independent references (synapses counted from the input side where the importer works from the output side,
// dense convolutions applied to unit inputs), and the real files of ../shared/nir (tests/data/nir).
#include "nir/nir_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "common/error.h"
#include "common/memory_limit.h"
#include "tests/nir/nir_graph_builders.h"

namespace neuroemu::nir {
namespace {

using namespace test;
using ::testing::HasSubstr;

std::string error_of(const File& f) {
    try {
        import_graph(f, "t.nir");
    } catch (const ModelError& e) {
        return e.what();
    }
    return "no error";
}

TEST(NirImport, AffineLifChain) {
    const File f = file(graph({input("in", {2}), affine("fc", 3, 2, {1, 2, 3, 4, 5, 6}, {0.5, 0.25, -1}),
                               lif_node("lif", {3}, 0.02, 0.7), output("out", {3})},
                              {{"in", "fc"}, {"fc", "lif"}, {"lif", "out"}}));
    ImportOptions o;
    o.dt_s = 1e-3;
    const SnnModel m = import_graph(f, "dir/my_net.nir", o);
    EXPECT_EQ(m.name, "my_net");
    EXPECT_EQ(m.source_format, "nir");
    EXPECT_TRUE(m.fire_above);
    EXPECT_EQ(m.reset, ResetMode::ToValue);
    EXPECT_EQ(m.dt_s, 1e-3);
    ASSERT_EQ(m.populations.size(), 2u);
    EXPECT_EQ(m.populations[0].kind, PopulationKind::Input);
    EXPECT_EQ(m.populations[0].shape, (std::vector<int64_t>{2}));
    const Population& lif = m.populations[1];
    EXPECT_EQ(lif.neuron.model, "lif");
    EXPECT_EQ(lif.neuron.tau_mem_s, std::vector<float>{0.02f});
    EXPECT_TRUE(lif.neuron.r.empty());  // 1 everywhere: the default
    EXPECT_EQ(lif.threshold, std::vector<float>{0.7f});
    EXPECT_EQ(lif.bias, (std::vector<float>{0.5f, 0.25f, -1.0f}));
    EXPECT_EQ(m.output, 1);
    ASSERT_EQ(m.projections.size(), 1u);
    EXPECT_EQ(m.projections[0].kind, ProjectionKind::Linear);
    EXPECT_EQ(m.projections[0].name, "fc");
    EXPECT_EQ(m.projections[0].weight.data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NirImport, ResetOverrideAndPaddingStrings) {
    Node conv = node("c", "Conv2d", {{"weight", filled({1, 1, 3, 3}, 1.0)}, {"bias", filled({1}, 0.0)}});
    conv.strings["padding"] = "same";
    const File f = file(graph({input("in", {1, 5, 5}), conv, if_node("n", {1, 5, 5}), output("out", {1, 5, 5})},
                              {{"in", "c"}, {"c", "n"}, {"n", "out"}}));
    ImportOptions o;
    o.override_reset = true;
    o.reset = ResetMode::Subtract;
    const SnnModel m = import_graph(f, "t.nir", o);
    EXPECT_EQ(m.reset, ResetMode::Subtract);
    EXPECT_EQ(m.projections[0].window.pad_top, 1);
    EXPECT_EQ(m.projections[0].window.pad_right, 1);
    File g = f;
    for (auto& n : g.root.graph->nodes)
        if (n.name == "c") n.strings["padding"] = "valid";
    EXPECT_THAT(error_of(g), HasSubstr("node 'n' (IF)"));  // valid: 3x3 output, the IF says 5x5
    for (auto& n : g.root.graph->nodes)
        if (n.name == "c") n.strings["padding"] = "full";
    EXPECT_THAT(error_of(g), HasSubstr("node 'c' (Conv2d): padding 'full'"));
}

TEST(NirImport, IfResistanceFoldedIntoWeightsAndBias) {
    // IF integrates r * I: r = 2 on channel 0 and 0.5 on channel 1 multiplies each target channel's weights.
    Node n = if_node("if", {2});
    n.params["r"] = arr({2}, {2.0, 0.5});
    const File f = file(graph({input("in", {1}), affine("fc", 2, 1, {3, 4}, {1, 8}), n, output("out", {2})},
                              {{"in", "fc"}, {"fc", "if"}, {"if", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    EXPECT_EQ(m.projections[0].weight.data, (std::vector<float>{6, 2}));
    EXPECT_EQ(m.populations[1].bias, (std::vector<float>{2, 4}));
    EXPECT_TRUE(m.populations[1].neuron.r.empty());
    EXPECT_EQ(m.populations[1].neuron.model, "if");
}

TEST(NirImport, ParameterVaryingWithinChannelIsAnError) {
    Node n = if_node("if", {2, 3, 3});
    n.params["v_threshold"].values[4] = 2.0;
    Node conv = node("c", "Conv2d", {{"weight", filled({2, 1, 1, 1}, 1.0)}, {"bias", filled({2}, 0.0)}});
    const File f = file(graph({input("in", {1, 3, 3}), conv, n, output("out", {2, 3, 3})},
                              {{"in", "c"}, {"c", "if"}, {"if", "out"}}));
    const std::string e = error_of(f);
    EXPECT_THAT(e, HasSubstr("node 'if' (IF)"));
    EXPECT_THAT(e, HasSubstr("v_threshold"));
    EXPECT_THAT(e, HasSubstr("varies within a channel"));
}

TEST(NirImport, NestedSubgraphIsFlattened) {
    // outer: in -> sub -> lif2 -> out; sub: input -> lin -> lif -> output. Edges enter at the subgraph's Input.
    Graph inner = graph({input("input", {2}), linear("lin", 2, 2, {1, 0, 0, 1}), lif_node("lif", {2}), output("output", {2})},
                        {{"input", "lin"}, {"lin", "lif"}, {"lif", "output"}});
    const File f = file(graph({input("in", {2}), subgraph("sub", inner), linear("l2", 1, 2, {1, 1}), lif_node("lif2", {1}),
                               output("out", {1})},
                              {{"in", "sub"}, {"sub", "l2"}, {"l2", "lif2"}, {"lif2", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    ASSERT_EQ(m.populations.size(), 3u);
    EXPECT_EQ(m.populations[1].name, "sub.lif");
    EXPECT_EQ(m.populations[2].name, "lif2");
    ASSERT_EQ(m.projections.size(), 2u);
    EXPECT_EQ(m.projections[0].name, "sub.input+sub.lin");
    EXPECT_EQ(m.projections[1].name, "sub.output+l2");
    EXPECT_EQ(m.projections[1].kind, ProjectionKind::Linear);
    // The same graph with edges naming the inner nodes directly ("sub.lin").
    const File g = file(graph({input("in", {2}), subgraph("sub", inner), linear("l2", 1, 2, {1, 1}), lif_node("lif2", {1}),
                               output("out", {1})},
                              {{"in", "sub.lin"}, {"sub.lif", "l2"}, {"l2", "lif2"}, {"lif2", "out"}}));
    const SnnModel m2 = import_graph(g, "t.nir");
    EXPECT_EQ(m2.projections[0].name, "sub.lin");
}

TEST(NirImport, LiteralDottedNamesAreNotSubgraphs) {
    const File f = file(graph({input("in", {1}), linear("a.b", 1, 1, {2}), lif_node("lif1.lif", {1}), output("out", {1})},
                              {{"in", "a.b"}, {"a.b", "lif1.lif"}, {"lif1.lif", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    EXPECT_EQ(m.populations[1].name, "lif1.lif");
}

TEST(NirImport, SeveralEdgesIntoOneNodeSum) {
    // Two paths into one neuron: one projection each, biases of both added once.
    const File f = file(graph({input("in", {2}), affine("a", 2, 2, {1, 2, 3, 4}, {1, 1}), affine("b", 2, 2, {5, 6, 7, 8}, {0.5, 2}),
                               if_node("n", {2}), output("out", {2})},
                              {{"in", "a"}, {"in", "b"}, {"a", "n"}, {"b", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    ASSERT_EQ(m.projections.size(), 2u);
    EXPECT_EQ(m.projections[0].name, "a");
    EXPECT_EQ(m.projections[1].name, "b");
    EXPECT_EQ(m.populations[1].bias, (std::vector<float>{1.5f, 3.0f}));
    // A linear node with two inputs distributes: one projection per source path.
    const File g = file(graph({input("in", {2}), if_node("n1", {2}), linear("l", 2, 2, {1, 0, 0, 1}),
                               linear("m", 2, 2, {2, 0, 0, 2}), if_node("n2", {2}), output("out", {2})},
                              {{"in", "l"}, {"l", "n1"}, {"n1", "m"}, {"in", "m"}, {"m", "n2"}, {"n2", "out"}}));
    const SnnModel m2 = import_graph(g, "t.nir");
    ASSERT_EQ(m2.projections.size(), 3u);
    EXPECT_EQ(m2.projections[1].source, 0);
    EXPECT_EQ(m2.projections[2].source, 1);
    EXPECT_EQ(m2.projections[2].target, 2);
}

// Synapses of a convolution found from the INPUT side: the outputs each input element reaches.
std::map<std::pair<int64_t, int64_t>, double> conv_reference(int64_t ci, int64_t h, int64_t w, int64_t co, int64_t k,
                                                             int64_t stride, int64_t pad, int64_t dil, int64_t groups,
                                                             const std::vector<double>& weight) {
    const int64_t ho = (h + 2 * pad - dil * (k - 1) - 1) / stride + 1, wo = (w + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    const int64_t cig = ci / groups, cog = co / groups;
    std::map<std::pair<int64_t, int64_t>, double> out;
    for (int64_t c = 0; c < ci; ++c)
        for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x)
                for (int64_t o = (c / cig) * cog; o < (c / cig + 1) * cog; ++o)
                    for (int64_t ky = 0; ky < k; ++ky)
                        for (int64_t kx = 0; kx < k; ++kx) {
                            const int64_t ny = y + pad - ky * dil, nx = x + pad - kx * dil;
                            if (ny < 0 || nx < 0 || ny % stride || nx % stride) continue;
                            const int64_t oy = ny / stride, ox = nx / stride;
                            if (oy >= ho || ox >= wo) continue;
                            out[{(c * h + y) * w + x, (o * ho + oy) * wo + ox}] +=
                                weight[static_cast<size_t>(((o * cig + c % cig) * k + ky) * k + kx)];
                        }
    return out;
}

TEST(NirImport, DilatedGroupedConvBecomesExactSparse) {
    std::vector<double> w(4 * 1 * 3 * 3);
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i % 7) - 3.0;  // includes zeros
    Node conv = node("c", "Conv2d", {{"weight", arr({4, 1, 3, 3}, w)}, {"bias", filled({4}, 0.0)}, {"stride", ints({2, 2})},
                                     {"padding", ints({2, 2})}, {"dilation", ints({2, 2})}, {"groups", scalar_int(2)}});
    const File f = file(graph({input("in", {2, 7, 7}), conv, if_node("n", {4, 4, 4}), output("out", {4, 4, 4})},
                              {{"in", "c"}, {"c", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    const Projection& p = m.projections.at(0);
    ASSERT_EQ(p.kind, ProjectionKind::Sparse);
    const auto ref = conv_reference(2, 7, 7, 4, 3, 2, 2, 2, 2, w);
    std::map<std::pair<int64_t, int64_t>, double> got;
    for (int64_t s = 0; s + 1 < static_cast<int64_t>(p.sparse_ptr.size()); ++s)
        for (int32_t k = p.sparse_ptr[s]; k < p.sparse_ptr[s + 1]; ++k) got[{s, p.sparse_target[k]}] = p.weight.data[k];
    EXPECT_EQ(got, ref);
    EXPECT_EQ(synapse_count(m, p), static_cast<int64_t>(ref.size()));
}

TEST(NirImport, Conv1dIsAConvWithKernelOneByK) {
    Node conv = node("c", "Conv1d", {{"weight", arr({3, 2, 3}, std::vector<double>(18, 0.5))}, {"bias", filled({3}, 0.0)},
                                     {"stride", ints({1})}, {"padding", ints({1})}, {"dilation", ints({1})}, {"groups", scalar_int(1)}});
    const File f = file(graph({input("in", {2, 10}), conv, if_node("n", {3, 10}), output("out", {3, 10})},
                              {{"in", "c"}, {"c", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    EXPECT_EQ(m.populations[0].shape, (std::vector<int64_t>{2, 1, 10}));
    EXPECT_EQ(m.populations[1].shape, (std::vector<int64_t>{3, 1, 10}));
    const Projection& p = m.projections[0];
    EXPECT_EQ(p.kind, ProjectionKind::Conv);
    EXPECT_EQ(p.window.kernel_h, 1);
    EXPECT_EQ(p.window.kernel_w, 3);
    EXPECT_EQ(p.window.pad_top, 0);
    EXPECT_EQ(p.window.pad_left, 1);
    // 2 input x 3 output channels, along L: 10 outputs x 3 taps minus the 2 that fall in the padding.
    EXPECT_EQ(synapse_count(m, p), 2 * 3 * (10 * 3 - 2));
}

TEST(NirImport, ScaleIsIdentityPerChannelElseSparse) {
    const File f = file(graph({input("in", {2, 2, 2}), node("s", "Scale", {{"scale", arr({2, 2, 2}, {3, 3, 3, 3, 5, 5, 5, 5})}}),
                               if_node("n", {2, 2, 2}), output("out", {2, 2, 2})},
                              {{"in", "s"}, {"s", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    EXPECT_EQ(m.projections[0].kind, ProjectionKind::Identity);
    EXPECT_EQ(m.projections[0].weight.data, (std::vector<float>{3, 5}));
    File g = f;
    for (auto& n : g.root.graph->nodes)
        if (n.name == "s") n.params["scale"].values = {3, 4, 3, 3, 5, 5, 5, 5};
    const SnnModel m2 = import_graph(g, "t.nir");
    const Projection& p = m2.projections[0];
    ASSERT_EQ(p.kind, ProjectionKind::Sparse);
    EXPECT_EQ(p.sparse_target, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
    EXPECT_EQ(p.weight.data, (std::vector<float>{3, 4, 3, 3, 5, 5, 5, 5}));
}

TEST(NirImport, FlattenBeforeAffineIsLinear) {
    // Sinabs' Flatten: start_dim 0, end_dim -1 over the shape without batch.
    Node fl = node("f", "Flatten", {{"start_dim", scalar_int(0)}, {"end_dim", scalar_int(-1)}, {"input_type", ints({2, 2, 2})}});
    std::vector<double> w(3 * 8);
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i);
    const File f = file(graph({input("in", {2, 2, 2}), fl, affine("fc", 3, 8, w, {0, 0, 0}), if_node("n", {3}), output("out", {3})},
                              {{"in", "f"}, {"f", "fc"}, {"fc", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    EXPECT_EQ(m.projections[0].kind, ProjectionKind::Linear);
    EXPECT_EQ(m.projections[0].name, "f+fc");
    EXPECT_EQ(m.projections[0].weight.shape, (std::vector<int64_t>{3, 8}));
    EXPECT_TRUE(m.populations[1].bias.empty());
    // A Flatten whose input_type disagrees with what feeds it: an error naming it and both shapes.
    File g = f;
    for (auto& n : g.root.graph->nodes)
        if (n.name == "f") n.params["input_type"] = ints({8});
    const std::string e = error_of(g);
    EXPECT_THAT(e, HasSubstr("node 'f' (Flatten)"));
    EXPECT_THAT(e, HasSubstr("[8]"));
    EXPECT_THAT(e, HasSubstr("[2, 2, 2]"));
}

TEST(NirImport, PoolThenConvComposes) {
    // On 5x5 the 2x2 pool drops the last row and column: the chain is composed synapse by synapse (Sparse).
    Node pool = node("p", "SumPool2d", {{"kernel_size", ints({2, 2})}, {"stride", ints({2, 2})}, {"padding", ints({0, 0})}});
    Node conv = node("c", "Conv2d", {{"weight", filled({1, 1, 1, 1}, 0.5)}, {"bias", filled({1}, 0.0)}});
    const File f = file(graph({input("in", {1, 5, 5}), pool, conv, if_node("n", {1, 2, 2}), output("out", {1, 2, 2})},
                              {{"in", "p"}, {"p", "c"}, {"c", "n"}, {"n", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    const Projection& p = m.projections[0];
    ASSERT_EQ(p.kind, ProjectionKind::Sparse);
    EXPECT_EQ(p.name, "p+c");
    EXPECT_EQ(synapse_count(m, p), 16);
    for (float x : p.weight.data) EXPECT_EQ(x, 0.5f);
    EXPECT_EQ(p.sparse_ptr[5] - p.sparse_ptr[4], 0);  // input (0, 4) reaches nothing
    EXPECT_EQ(p.sparse_target[static_cast<size_t>(p.sparse_ptr[8])], 1);  // input (1, 3) -> pool output (0, 1)
    // On 6x6 the pool tiles its input: pool 2x2 then conv 3x3 pad 1 is one conv 6x6, stride 2, pad 2, with the
    // same synapses as the chain composed (counted here from the input side: each input's pool cell, then the
    // conv outputs that read that cell).
    std::vector<double> w(9);
    for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i + 1);
    Node conv3 = node("c", "Conv2d", {{"weight", arr({1, 1, 3, 3}, w)}, {"bias", filled({1}, 0.0)}, {"padding", ints({1, 1})}});
    const File g = file(graph({input("in", {1, 6, 6}), pool, conv3, if_node("n", {1, 3, 3}), output("out", {1, 3, 3})},
                              {{"in", "p"}, {"p", "c"}, {"c", "n"}, {"n", "out"}}));
    const SnnModel m2 = import_graph(g, "t.nir");
    const Projection& q = m2.projections[0];
    ASSERT_EQ(q.kind, ProjectionKind::Conv);
    EXPECT_EQ(q.window.kernel_h, 6);
    EXPECT_EQ(q.window.stride_h, 2);
    EXPECT_EQ(q.window.pad_top, 2);
    int64_t pairs = 0;
    for (int64_t y = 0; y < 6; ++y)
        for (int64_t x = 0; x < 6; ++x)
            for (int64_t oy = 0; oy < 3; ++oy)
                for (int64_t ox = 0; ox < 3; ++ox) pairs += std::abs(y / 2 - oy) <= 1 && std::abs(x / 2 - ox) <= 1;
    EXPECT_EQ(synapse_count(m2, q), pairs);
    // Tap (ky, kx) of the composed kernel reads pool cell (ky / 2, kx / 2) of the 3x3 conv.
    EXPECT_EQ(q.weight.data[0], 1.0f);
    EXPECT_EQ(q.weight.data[5], 3.0f);
    EXPECT_EQ(q.weight.data[6 * 5 + 5], 9.0f);
}

TEST(NirImport, AvgAndSumPoolAreAvgPool) {
    for (const char* type : {"AvgPool2d", "SumPool2d"}) {
        Node pool = node("p", type, {{"kernel_size", ints({2, 2})}, {"stride", ints({2, 2})}, {"padding", ints({0, 0})}});
        const File f = file(graph({input("in", {3, 4, 4}), pool, if_node("n", {3, 2, 2}), output("out", {3, 2, 2})},
                                  {{"in", "p"}, {"p", "n"}, {"n", "out"}}));
        const SnnModel m = import_graph(f, "t.nir");
        const Projection& p = m.projections[0];
        EXPECT_EQ(p.kind, ProjectionKind::AvgPool);
        EXPECT_TRUE(p.count_include_pad);
        EXPECT_EQ(p.weight.data, std::vector<float>(3, std::string(type) == "AvgPool2d" ? 1.0f : 4.0f)) << type;
    }
}

TEST(NirImport, RecurrentEdgeClosesACycle) {
    // in -> fc -> lif -> rec -> lif: the edge rec -> lif closes the cycle; lif -> fc2 -> out2 neuron.
    const File f = file(graph({input("in", {2}), linear("fc", 3, 2, std::vector<double>(6, 1.0)), lif_node("lif", {3}),
                               linear("rec", 3, 3, {0, 1, 0, 0, 0, 1, 1, 0, 0}), linear("fc2", 1, 3, {1, 1, 1}),
                               lif_node("o", {1}), output("out", {1})},
                              {{"in", "fc"}, {"fc", "lif"}, {"lif", "rec"}, {"rec", "lif"}, {"lif", "fc2"}, {"fc2", "o"}, {"o", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    ASSERT_EQ(m.projections.size(), 3u);
    int recurrent = 0;
    for (const auto& p : m.projections)
        if (p.recurrent) {
            ++recurrent;
            EXPECT_EQ(p.name, "rec");
            EXPECT_EQ(p.source, 1);
            EXPECT_EQ(p.target, 1);
        }
    EXPECT_EQ(recurrent, 1);
    EXPECT_EQ(m.output, 2);
}

TEST(NirImport, LinearOnlyCycleIsAnAlgebraicLoop) {
    const File f = file(graph({input("in", {2}), linear("a", 2, 2, {1, 0, 0, 1}), linear("b", 2, 2, {1, 0, 0, 1}),
                               lif_node("n", {2}), output("out", {2})},
                              {{"in", "a"}, {"a", "b"}, {"b", "a"}, {"a", "n"}, {"n", "out"}}));
    EXPECT_THAT(error_of(f), HasSubstr("algebraic loop"));
}

TEST(NirImport, UnsupportedNodesAreNamed) {
    const File f = file(graph({input("in", {1}), node("d", "Delay", {{"delay", filled({1}, 1.0)}}), lif_node("n", {1}),
                               output("out", {1})},
                              {{"in", "d"}, {"d", "n"}, {"n", "out"}}));
    EXPECT_THAT(error_of(f), HasSubstr("node 'd' (Delay): not supported"));
    const File g = file(graph({input("in", {1}), node("x", "Affine", {{"weight", filled({1, 1, 1}, 1.0)}, {"bias", filled({1}, 0)}}),
                               lif_node("n", {1}), output("out", {1})},
                              {{"in", "x"}, {"x", "n"}, {"n", "out"}}));
    EXPECT_THAT(error_of(g), HasSubstr("node 'x' (Affine): weight has shape [1, 1, 1]"));
}

TEST(NirImport, ShapeMismatchAlongAnEdgeNamesBothNodes) {
    // The LIF's parameters say [3]; the Linear feeding it gives [2].
    const File f = file(graph({input("in", {2}), linear("fc", 2, 2, {1, 0, 0, 1}), lif_node("lif", {3}), output("out", {3})},
                              {{"in", "fc"}, {"fc", "lif"}, {"lif", "out"}}));
    const std::string e = error_of(f);
    EXPECT_THAT(e, HasSubstr("node 'lif' (LIF)"));
    EXPECT_THAT(e, HasSubstr("[3]"));
    EXPECT_THAT(e, HasSubstr("[2]"));
    // The Output's declared shape against its source (lif_rockpool.nir's mistake).
    const File g = file(graph({input("in", {1}), linear("fc", 1, 1, {1}), lif_node("lif", {1}), output("out", {1, 1, 1})},
                              {{"in", "fc"}, {"fc", "lif"}, {"lif", "out"}}));
    const std::string e2 = error_of(g);
    EXPECT_THAT(e2, HasSubstr("node 'out' (Output) has shape [1, 1, 1] but its source 'lif' gives [1]"));
}

TEST(NirImport, GraphStructureErrors) {
    EXPECT_THAT(error_of(file(graph({input("a", {1}), input("b", {1}), output("o", {1})}, {{"a", "o"}, {"b", "o"}}))),
                HasSubstr("more than one Input"));
    EXPECT_THAT(error_of(file(graph({input("a", {1}), lif_node("n", {1}), lif_node("lost", {1}), output("o", {1})},
                                    {{"a", "n"}, {"n", "o"}}))),
                HasSubstr("not reachable from the Input node: 'lost'"));
    EXPECT_THAT(error_of(file(graph({input("a", {1}), output("o", {1})}, {{"a", "nowhere"}}))), HasSubstr("'nowhere'"));
    EXPECT_THAT(error_of(file(graph({input("a", {2, 2, 2, 2}), lif_node("n", {2, 2, 2, 2}), output("o", {2, 2, 2, 2})},
                                    {{"a", "n"}, {"n", "o"}}))),
                HasSubstr("is not [N], [C, L] or [C, H, W]"));
    EXPECT_THAT(error_of(file(graph({input("a", {1, 100000, 100000}), lif_node("n", {1}), output("o", {1})}, {{"a", "n"}, {"n", "o"}}))),
                HasSubstr("node 'a' (Input): output shape [1, 100000, 100000]"));
    EXPECT_THAT(error_of(file(graph({input("a", {-3}), lif_node("n", {1}), output("o", {1})}, {{"a", "n"}, {"n", "o"}}))),
                HasSubstr("node 'a' (Input)"));
}

TEST(NirImport, TeraNeuronGraphFailsWithEstimateAndLimitBeforeAllocating) {
    // 10^12 neurons declared by one Input's shape (a 2-value dataset): refused at shape inference with the count,
    // its neuron state at 16 bytes each (1.6e13 bytes = 16 TB) and the per-node limit 2^28.
    const std::string e = error_of(
        file(graph({input("a", {1000000, 1000000}), lif_node("n", {1}), output("o", {1})}, {{"a", "n"}, {"n", "o"}})));
    EXPECT_THAT(e, HasSubstr("node 'a' (Input): output shape [1000000, 1000000] has 1000000000000 elements (16 TB"));
    EXPECT_THAT(e, HasSubstr("limit of 268435456 elements per node"));
    // Nodes each within the per-node limit, together over the memory budget: 40000 + 40000 neurons at 16 bytes
    // = 1280000 bytes against a budget of 2^20 = 1048576; the LIF node is where the total crosses it.
    ScopedMemoryLimit budget(INT64_C(1) << 20);
    const std::string t = error_of(file(graph({input("a", {40000}), lif_node("n", {40000}), output("o", {40000})},
                                             {{"a", "n"}, {"n", "o"}})));
    EXPECT_THAT(t, HasSubstr("node 'n' (LIF): the graph's 80000 neurons up to this node (16 bytes each) needs an "
                             "estimated 1280000 bytes"));
    EXPECT_THAT(t, HasSubstr("memory limit of 1048576 bytes"));
}

TEST(NirImport, OutputFedByLinearChainGetsAReadout) {
    const File f = file(graph({input("in", {2}), lif_node("n", {2}), linear("ro", 3, 2, std::vector<double>(6, 1.0)), output("out", {3})},
                              {{"in", "n"}, {"n", "ro"}, {"ro", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    ASSERT_EQ(m.populations.size(), 3u);
    EXPECT_EQ(m.output, 2);
    EXPECT_FALSE(m.populations[2].spiking);
    EXPECT_EQ(m.populations[2].neuron.model, "if");
    // The direct edge in -> n is an Identity projection of weight 1.
    EXPECT_EQ(m.projections[0].kind, ProjectionKind::Identity);
    EXPECT_EQ(m.projections[0].weight.data, (std::vector<float>{1, 1}));
}

TEST(NirImport, CubaLifAndReadoutModels) {
    const std::vector<int64_t> s{2};
    Node cuba = node("c", "CubaLIF", {{"tau_mem", arr(s, {0.01, 0.02})}, {"tau_syn", filled(s, 0.005)}, {"r", filled(s, 1.0)},
                                      {"v_leak", filled(s, 0.0)}, {"v_threshold", filled(s, 1.0)}, {"w_in", filled(s, 2.0)}});
    Node li = node("li", "CubaLI", {{"tau_mem", filled({1}, 0.01)}, {"tau_syn", filled({1}, 0.005)}, {"r", filled({1}, 3.0)},
                                    {"v_leak", filled({1}, 0.0)}, {"w_in", filled({1}, 1.0)}});
    const File f = file(graph({input("in", {2}), cuba, linear("l", 1, 2, {1, 1}), li, output("out", {1})},
                              {{"in", "c"}, {"c", "l"}, {"l", "li"}, {"li", "out"}}));
    const SnnModel m = import_graph(f, "t.nir");
    const NeuronParams& c = m.populations[1].neuron;
    EXPECT_EQ(c.model, "cuba_lif");
    EXPECT_EQ(c.tau_mem_s, (std::vector<float>{0.01f, 0.02f}));
    EXPECT_EQ(c.tau_syn_s, std::vector<float>{0.005f});
    EXPECT_EQ(c.w_in, std::vector<float>{2.0f});
    EXPECT_TRUE(c.v_reset.empty());  // missing v_reset: 0, the default
    EXPECT_EQ(m.populations[2].neuron.model, "cuba_li");
    EXPECT_FALSE(m.populations[2].spiking);
    EXPECT_EQ(m.populations[2].neuron.r, std::vector<float>{3.0f});
}

// ---------------------------------------------------------------------------------------------------------
// The real files (tests/data/nir, from ../shared/nir).

std::string fixture(const std::string& name) { return std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/" + name; }

int64_t numel(const std::vector<int64_t>& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}
int64_t at_or(const Array& a, size_t i) { return static_cast<int64_t>(a.values.size() == 1 ? a.values[0] : a.values[i]); }

// Brute-force connectivity of one node of cnn_sinabs.nir, from the file's parameters: for every output position,
// every kernel position and every channel pair, the in-bounds input it reads. adj[input] = outputs.
std::vector<std::vector<int64_t>> connectivity(const Node& n, std::vector<int64_t>& shape) {
    std::vector<std::vector<int64_t>> adj(static_cast<size_t>(numel(shape)));
    if (n.type == "Flatten") {
        for (size_t i = 0; i < adj.size(); ++i) adj[i] = {static_cast<int64_t>(i)};
        shape = {numel(shape)};
        return adj;
    }
    if (n.type == "Affine") {
        const int64_t out = n.params.at("weight").shape[0];
        for (auto& a : adj)
            for (int64_t o = 0; o < out; ++o) a.push_back(o);
        shape = {out};
        return adj;
    }
    const bool conv = n.type == "Conv2d";
    const int64_t ci = shape[0], h = shape[1], w = shape[2];
    const int64_t co = conv ? n.params.at("weight").shape[0] : ci;
    const int64_t kh = conv ? n.params.at("weight").shape[2] : at_or(n.params.at("kernel_size"), 0);
    const int64_t kw = conv ? n.params.at("weight").shape[3] : at_or(n.params.at("kernel_size"), 1);
    const int64_t sh = at_or(n.params.at("stride"), 0), sw = at_or(n.params.at("stride"), 1);
    const int64_t ph = at_or(n.params.at("padding"), 0), pw = at_or(n.params.at("padding"), 1);
    const int64_t ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    for (int64_t o = 0; o < co; ++o)
        for (int64_t y = 0; y < ho; ++y)
            for (int64_t x = 0; x < wo; ++x)
                for (int64_t i = conv ? 0 : o; i < (conv ? ci : o + 1); ++i)
                    for (int64_t ky = 0; ky < kh; ++ky)
                        for (int64_t kx = 0; kx < kw; ++kx) {
                            const int64_t iy = y * sh - ph + ky, ix = x * sw - pw + kx;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                adj[static_cast<size_t>((i * h + iy) * w + ix)].push_back((o * ho + y) * wo + x);
                        }
    shape = {co, ho, wo};
    return adj;
}

// Distinct (source, target) pairs a chain of nodes connects.
int64_t chain_pairs(const Graph& g, const std::vector<std::string>& chain, std::vector<int64_t> shape) {
    std::vector<std::vector<int64_t>> reach(static_cast<size_t>(numel(shape)));
    for (size_t i = 0; i < reach.size(); ++i) reach[i] = {static_cast<int64_t>(i)};
    for (const auto& name : chain) {
        const auto adj = connectivity(*g.find(name), shape);
        for (auto& r : reach) {
            std::vector<int64_t> next;
            for (int64_t x : r) next.insert(next.end(), adj[static_cast<size_t>(x)].begin(), adj[static_cast<size_t>(x)].end());
            std::sort(next.begin(), next.end());
            next.erase(std::unique(next.begin(), next.end()), next.end());
            r = std::move(next);
        }
    }
    int64_t total = 0;
    for (const auto& r : reach) total += static_cast<int64_t>(r.size());
    return total;
}

TEST(NirFixtures, CnnSinabsStructureEqualsABruteForceCount) {
    const std::string path = fixture("cnn_sinabs.nir");
    const File f = read_file(path);
    const SnnModel m = import_graph(f, path);
    const Graph& g = *f.root.graph;
    // Every IF node is a population of as many neurons as its v_threshold has values.
    int if_nodes = 0;
    for (const Node& n : g.nodes) {
        if (n.type != "IF") continue;
        ++if_nodes;
        const auto it = std::find_if(m.populations.begin(), m.populations.end(), [&](const Population& p) { return p.name == n.name; });
        ASSERT_NE(it, m.populations.end()) << n.name;
        EXPECT_EQ(it->size(), numel(n.params.at("v_threshold").shape)) << n.name;
        EXPECT_EQ(it->neuron.model, "if");
    }
    EXPECT_EQ(static_cast<int>(m.populations.size()), if_nodes + 1);
    EXPECT_EQ(m.populations[static_cast<size_t>(m.output)].name, "12");
    // Synapses per projection: the distinct pairs each chain of the file connects.
    const std::vector<std::pair<std::string, std::vector<std::string>>> chains = {
        {"0", {"0"}}, {"2", {"2"}}, {"4+5", {"4", "5"}}, {"7+8+9", {"7", "8", "9"}}, {"11", {"11"}}};
    ASSERT_EQ(m.projections.size(), chains.size());
    for (const auto& [name, chain] : chains) {
        const auto it = std::find_if(m.projections.begin(), m.projections.end(), [&](const Projection& p) { return p.name == name; });
        ASSERT_NE(it, m.projections.end()) << name;
        const auto& src = m.populations[static_cast<size_t>(it->source)].shape;
        EXPECT_EQ(synapse_count(m, *it), chain_pairs(g, chain, src)) << name;
        // One weighted node: its native kind; a pool then a weighted node: composed synapses.
        // (SumPool2d 2x2 then Conv2d composes into one Conv2d 6x6 stride 2; SumPool2d, Flatten, Affine into a Linear)
        EXPECT_EQ(it->kind, name == "11" || name == "7+8+9" ? ProjectionKind::Linear : ProjectionKind::Conv) << name;
    }
    EXPECT_TRUE(m.fire_above);
    EXPECT_EQ(m.reset, ResetMode::ToValue);
}

TEST(NirFixtures, BrailleIsRecurrentCubaLif) {
    const std::string path = fixture("braille_noDelay_noBias_subtract.nir");
    const File f = read_file(path);
    const SnnModel m = import_graph(f, path);
    ASSERT_EQ(m.populations.size(), 3u);  // input, lif1.lif, lif2
    EXPECT_EQ(m.populations[1].name, "lif1.lif");
    EXPECT_EQ(m.populations[2].name, "lif2");
    EXPECT_TRUE(m.fire_above);
    int recurrent = 0;
    const Graph& g = *f.root.graph;
    for (const auto& p : m.projections) {
        if (!p.recurrent) continue;
        ++recurrent;
        EXPECT_EQ(p.source, 1);
        EXPECT_EQ(p.target, 1);
        EXPECT_EQ(p.kind, ProjectionKind::Linear);
        const Array& w = g.find("lif1.w_rec")->params.at("weight");
        ASSERT_EQ(p.weight.shape, (std::vector<int64_t>{40, 40}));
        for (size_t i = 0; i < w.values.size(); ++i) ASSERT_EQ(p.weight.data[i], static_cast<float>(w.values[i])) << i;
    }
    EXPECT_EQ(recurrent, 1);
    // Parameters per channel as in the file (one value when all agree).
    for (const char* name : {"lif1.lif", "lif2"}) {
        const Node& n = *g.find(name);
        const Population& p = m.populations[std::string(name) == "lif2" ? 2 : 1];
        EXPECT_EQ(p.neuron.model, "cuba_lif");
        auto expect = [&](const std::vector<float>& got, const char* key, bool empty_when_default, double dflt) {
            const auto& v = n.params.at(key).values;
            const bool all_same = std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
            if (all_same && empty_when_default && v[0] == dflt) {
                EXPECT_TRUE(got.empty()) << name << " " << key;
                return;
            }
            ASSERT_EQ(got.size(), all_same ? 1u : v.size()) << name << " " << key;
            for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], static_cast<float>(v[i])) << name << " " << key;
        };
        expect(p.neuron.tau_mem_s, "tau_mem", false, 0);
        expect(p.neuron.tau_syn_s, "tau_syn", false, 0);
        expect(p.neuron.r, "r", true, 1.0);
        expect(p.neuron.v_leak, "v_leak", true, 0.0);
        expect(p.neuron.w_in, "w_in", true, 1.0);
        expect(p.threshold, "v_threshold", false, 0);
    }
}

TEST(NirFixtures, LifRockpoolIsRejectedLikeTheReference) {
    const std::string path = fixture("lif_rockpool.nir");
    try {
        import_nir(path);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr("node 'output' (Output) has shape [1, 1, 1] but its source '1_LIFNeuronTorch' gives [1]"));
        EXPECT_THAT(e.what(), HasSubstr("lif_rockpool.nir"));
    }
}

TEST(NirFixtures, TwoLifNeuronsAndNorseImport) {
    const SnnModel m = import_nir(fixture("two_lif_neurons.nir"));
    ASSERT_EQ(m.populations.size(), 3u);
    EXPECT_EQ(m.populations[1].neuron.model, "lif");
    EXPECT_EQ(m.populations[1].name, "lif1");
    EXPECT_EQ(m.populations[1].neuron.v_leak, std::vector<float>{1.2f});
    EXPECT_EQ(m.output, 2);
    const SnnModel n = import_nir(fixture("lif_norse.nir"));
    EXPECT_EQ(n.populations.size(), 2u);
    EXPECT_EQ(n.populations[1].neuron.tau_mem_s, std::vector<float>{0.0025f});
    EXPECT_EQ(n.populations[1].threshold, std::vector<float>{0.1f});
}

}  // namespace
}  // namespace neuroemu::nir
