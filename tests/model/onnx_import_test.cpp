#include "model/onnx_import.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/memory_limit.h"

namespace neuroemu {
namespace {

constexpr const char* kSource = "test.onnx";

std::vector<float> ramp(size_t n, float scale, float offset = 0.0f) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = offset + scale * static_cast<float>(i);
    return v;
}

onnx::TensorProto float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                               const std::vector<float>& values, bool raw = true) {
    onnx::TensorProto t;
    t.set_name(name);
    t.set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (int64_t d : dims) t.add_dims(d);
    if (raw) {
        std::string bytes(values.size() * 4, '\0');
        std::memcpy(bytes.data(), values.data(), bytes.size());  // the test machine is little-endian, as ONNX
        t.set_raw_data(bytes);
    } else {
        for (float v : values) t.add_float_data(v);
    }
    return t;
}

void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
}

void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
}

void attr_f(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
}

void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
}

void attr_t(onnx::NodeProto& n, const std::string& name, const onnx::TensorProto& t) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = t;
}

// Builds a ModelProto in memory, the way an exporter would.
class ModelBuilder {
public:
    explicit ModelBuilder(int64_t opset = 13) {
        model_.set_ir_version(8);
        model_.set_producer_name("onnx_import_test");
        auto* op = model_.add_opset_import();
        op->set_domain("");
        op->set_version(opset);
        model_.mutable_graph()->set_name("test_net");
    }

    // A dimension of -1 becomes the symbolic batch size "N".
    ModelBuilder& input(const std::string& name, const std::vector<int64_t>& dims,
                        int32_t elem_type = onnx::TensorProto_DataType_FLOAT) {
        auto* vi = graph().add_input();
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(elem_type);
        auto* shape = tt->mutable_shape();
        for (int64_t d : dims) {
            if (d < 0)
                shape->add_dim()->set_dim_param("N");
            else
                shape->add_dim()->set_dim_value(d);
        }
        return *this;
    }

    ModelBuilder& output(const std::string& name) {
        graph().add_output()->set_name(name);
        return *this;
    }

    onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = "") {
        auto* n = graph().add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto& i : inputs) n->add_input(i);
        for (const auto& o : outputs) n->add_output(o);
        return *n;
    }

    onnx::TensorProto& init(const std::string& name, const std::vector<int64_t>& dims,
                            const std::vector<float>& values, bool raw = true) {
        auto* t = graph().add_initializer();
        *t = float_tensor(name, dims, values, raw);
        return *t;
    }

    onnx::TensorProto& init_i64(const std::string& name, const std::vector<int64_t>& values) {
        auto* t = graph().add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto_DataType_INT64);
        t->add_dims(static_cast<int64_t>(values.size()));
        for (int64_t v : values) t->add_int64_data(v);
        return *t;
    }

    onnx::TensorProto& initializer(const std::string& name) {
        for (auto& t : *graph().mutable_initializer())
            if (t.name() == name) return t;
        throw std::logic_error("no initializer " + name);
    }

    onnx::NodeProto& node_named(const std::string& name) {
        for (auto& n : *graph().mutable_node())
            if (n.name() == name) return n;
        throw std::logic_error("no node " + name);
    }

    onnx::GraphProto& graph() { return *model_.mutable_graph(); }
    onnx::ModelProto& model() { return model_; }
    std::string bytes() const { return model_.SerializeAsString(); }
    Network import() const { return import_onnx_bytes(bytes(), kSource); }

private:
    onnx::ModelProto model_;
};

// x [N, 3, 8, 8] -> Conv c1 (pads 1) -> Relu r1 -> GlobalAveragePool gap -> Flatten flat -> Gemm fc -> y [3].
ModelBuilder tiny_classifier(int64_t opset = 13) {
    ModelBuilder b(opset);
    b.input("x", {-1, 3, 8, 8}).output("y");
    b.init("W1", {4, 3, 3, 3}, ramp(108, 0.01f, -0.5f));
    b.init("B1", {4}, {0.1f, 0.2f, 0.3f, 0.4f});
    b.init("Wfc", {3, 4}, ramp(12, 0.1f));
    b.init("Cfc", {3}, {1.0f, 2.0f, 3.0f});
    attr_ints(b.node("Conv", {"x", "W1", "B1"}, {"c1_out"}, "c1"), "pads", {1, 1, 1, 1});
    b.node("Relu", {"c1_out"}, {"r1_out"}, "r1");
    b.node("GlobalAveragePool", {"r1_out"}, {"gap_out"}, "gap");
    b.node("Flatten", {"gap_out"}, {"flat_out"}, "flat");
    attr_i(b.node("Gemm", {"flat_out", "Wfc", "Cfc"}, {"y"}, "fc"), "transB", 1);
    return b;
}

std::string import_error(const std::string& bytes) {
    try {
        import_onnx_bytes(bytes, kSource);
    } catch (const ModelError& e) {
        return e.what();
    }
    return "<no error>";
}

// The import must fail with a ModelError whose message contains every one of `parts`.
void expect_error(const std::string& bytes, std::initializer_list<std::string> parts) {
    const std::string message = import_error(bytes);
    for (const auto& part : parts)
        EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nlacks: " << part;
}

void expect_error(const ModelBuilder& b, std::initializer_list<std::string> parts) { expect_error(b.bytes(), parts); }

std::vector<OpKind> kinds(const Network& net) {
    std::vector<OpKind> out;
    for (const auto& l : net.layers()) out.push_back(l.kind);
    return out;
}

const Layer& layer_named(const Network& net, const std::string& name) {
    for (const auto& l : net.layers())
        if (l.name == name) return l;
    throw std::logic_error("no layer " + name);
}

using Shape = std::vector<int64_t>;

// ---- a full small network -----------------------------------------------------------------------------------

// Conv -> BN -> Relu -> (Constant+Identity weight) Conv -> Clip -> Add(shortcut) -> MaxPool -> AveragePool -> GAP
// -> Flatten -> Dropout -> MatMul + Add -> Relu -> Gemm.
ModelBuilder residual_network() {
    ModelBuilder b(13);
    b.input("x", {-1, 3, 8, 8}).output("y");
    b.init("W1", {4, 3, 3, 3}, ramp(108, 0.01f, -0.5f), /*raw=*/true);
    b.init("B1", {4}, {0.1f, 0.2f, 0.3f, 0.4f}, /*raw=*/false);
    b.init("bn_scale", {4}, {1.0f, 2.0f, 3.0f, 4.0f});
    b.init("bn_bias", {4}, {0.0f, 0.5f, 1.0f, 1.5f});
    b.init("bn_mean", {4}, {0.1f, 0.1f, 0.1f, 0.1f});
    b.init("bn_var", {4}, {1.0f, 1.0f, 2.0f, 2.0f}, /*raw=*/false);
    b.init("zero", {}, {0.0f});
    b.init("Wm", {4, 5}, ramp(20, 0.05f));
    b.init("bm", {5}, ramp(5, -1.0f));
    b.init("Wg", {5, 3}, ramp(15, 0.1f, -0.7f));
    b.init("Cg", {3}, {1.0f, -2.0f, 4.0f});

    attr_ints(b.node("Conv", {"x", "W1", "B1"}, {"c1_out"}, "c1"), "pads", {1, 1, 1, 1});
    attr_f(b.node("BatchNormalization", {"c1_out", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"bn1_out"}, "bn1"),
           "epsilon", 1e-3f);
    b.node("Relu", {"bn1_out"}, {"r1_out"}, "relu1");
    attr_t(b.node("Constant", {}, {"w2_const"}, "w2c"), "value", float_tensor("w2", {4, 4, 3, 3}, ramp(144, -0.01f)));
    b.node("Identity", {"w2_const"}, {"w2"}, "w2_alias");
    auto& c2 = b.node("Conv", {"r1_out", "w2", ""}, {"c2_out"}, "c2");
    attr_s(c2, "auto_pad", "SAME_UPPER");
    attr_ints(c2, "kernel_shape", {3, 3});
    b.node("Clip", {"c2_out", "zero", ""}, {"clip_out"}, "clip");
    b.node("Add", {"r1_out", "clip_out"}, {"sum"}, "add");
    auto& mp = b.node("MaxPool", {"sum"}, {"mp_out"}, "mp");
    attr_ints(mp, "kernel_shape", {2, 2});
    attr_ints(mp, "strides", {2, 2});
    auto& ap = b.node("AveragePool", {"mp_out"}, {"ap_out"}, "ap");
    attr_ints(ap, "kernel_shape", {2, 2});
    attr_i(ap, "count_include_pad", 1);
    b.node("GlobalAveragePool", {"ap_out"}, {"gap_out"}, "gap");
    b.node("Flatten", {"gap_out"}, {"flat_out"}, "flat");
    b.node("Dropout", {"flat_out"}, {"drop_out", "drop_mask"}, "drop");
    b.node("MatMul", {"drop_out", "Wm"}, {"mm_out"}, "mm");
    b.node("Add", {"mm_out", "bm"}, {"h"}, "mm_bias");
    b.node("Relu", {"h"}, {"h2"}, "relu2");
    auto& fc = b.node("Gemm", {"h2", "Wg", "Cg"}, {"y"}, "fc");
    attr_f(fc, "alpha", 2.0f);
    attr_f(fc, "beta", 0.5f);
    return b;
}

TEST(OnnxImport, ResidualNetworkImportsWithKindsAndShapes) {
    const Network net = residual_network().import();
    EXPECT_EQ(net.name(), "test");  // the file, not the graph name exporters fill with "torch_jit"
    EXPECT_EQ(kinds(net), (std::vector<OpKind>{OpKind::Input, OpKind::Conv2d, OpKind::BatchNorm, OpKind::ReLU,
                                               OpKind::Conv2d, OpKind::ReLU, OpKind::Add, OpKind::MaxPool,
                                               OpKind::AvgPool, OpKind::GlobalAvgPool, OpKind::Flatten,
                                               OpKind::Linear, OpKind::ReLU, OpKind::Linear}));
    const std::vector<std::string> names = {"x",   "c1", "bn1", "relu1", "c2",   "clip", "add",
                                            "mp",  "ap", "gap", "flat",  "mm",   "relu2", "fc"};
    const std::vector<Shape> shapes = {{3, 8, 8}, {4, 8, 8}, {4, 8, 8}, {4, 8, 8}, {4, 8, 8}, {4, 8, 8}, {4, 8, 8},
                                       {4, 4, 4}, {4, 3, 3}, {4, 1, 1}, {4},       {5},       {5},       {3}};
    ASSERT_EQ(net.size(), 14);
    for (int i = 0; i < net.size(); ++i) {
        EXPECT_EQ(net.layer(i).name, names[static_cast<size_t>(i)]) << i;
        EXPECT_EQ(net.layer(i).shape, shapes[static_cast<size_t>(i)]) << names[static_cast<size_t>(i)];
    }
    EXPECT_EQ(net.layer(6).inputs, (std::vector<int>{3, 5}));  // the shortcut joins relu1 and the clipped branch
    EXPECT_EQ(net.layer(11).inputs, (std::vector<int>{10}));   // Dropout is an alias
    EXPECT_EQ(net.output_id(), 13);
    EXPECT_EQ(net.input_shape(), (Shape{3, 8, 8}));
}

TEST(OnnxImport, ConvAndBatchNormWeightsComeFromRawDataFloatDataAndConstants) {
    const Network net = residual_network().import();
    const auto& c1 = layer_named(net, "c1").conv();
    EXPECT_EQ(c1.weight.shape, (Shape{4, 3, 3, 3}));
    EXPECT_EQ(c1.weight.data, ramp(108, 0.01f, -0.5f));
    EXPECT_EQ(c1.bias.data, (std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}));
    EXPECT_EQ(c1.window.pad_top, 1);
    EXPECT_EQ(c1.window.pad_right, 1);

    const auto& c2 = layer_named(net, "c2").conv();  // Constant node behind Identity
    EXPECT_EQ(c2.weight.data, ramp(144, -0.01f));
    EXPECT_TRUE(c2.bias.empty());
    EXPECT_EQ(c2.window.pad_top, 1);  // SAME_UPPER, kernel 3, stride 1
    EXPECT_EQ(c2.window.pad_bottom, 1);

    const auto& bn = layer_named(net, "bn1").bn();
    EXPECT_FLOAT_EQ(bn.eps, 1e-3f);
    EXPECT_EQ(bn.gamma.data, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
    EXPECT_EQ(bn.var.data, (std::vector<float>{1.0f, 1.0f, 2.0f, 2.0f}));

    EXPECT_EQ(layer_named(net, "mp").pool().window.stride_h, 2);
    EXPECT_TRUE(layer_named(net, "ap").pool().count_include_pad);
}

TEST(OnnxImport, MatMulPlusAddBecomesLinearWithTransposedWeightAndBias) {
    const Network net = residual_network().import();
    const auto& mm = layer_named(net, "mm").linear();
    const auto wm = ramp(20, 0.05f);  // [in 4, out 5]
    ASSERT_EQ(mm.weight.shape, (Shape{5, 4}));
    for (int o = 0; o < 5; ++o)
        for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(mm.weight.data[o * 4 + i], wm[i * 5 + o]) << o << "," << i;
    EXPECT_EQ(mm.bias.data, ramp(5, -1.0f));
}

TEST(OnnxImport, GemmWithoutTransBTransposesAndAppliesAlphaAndBeta) {
    const Network net = residual_network().import();
    const auto& fc = layer_named(net, "fc").linear();
    const auto wg = ramp(15, 0.1f, -0.7f);  // [in 5, out 3]
    ASSERT_EQ(fc.weight.shape, (Shape{3, 5}));
    for (int o = 0; o < 3; ++o)
        for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(fc.weight.data[o * 5 + i], 2.0f * wg[i * 3 + o]);
    EXPECT_EQ(fc.bias.data, (std::vector<float>{0.5f, -1.0f, 2.0f}));
}

TEST(OnnxImport, GemmWithTransBKeepsTheWeightAndAcceptsRowBias) {
    ModelBuilder b = tiny_classifier();
    b.initializer("Cfc") = float_tensor("Cfc", {1, 3}, {1.0f, 2.0f, 3.0f});
    const Network net = b.import();
    const auto& fc = layer_named(net, "fc").linear();
    EXPECT_EQ(fc.weight.shape, (Shape{3, 4}));
    EXPECT_EQ(fc.weight.data, ramp(12, 0.1f));
    EXPECT_EQ(fc.bias.shape, (Shape{3}));
    EXPECT_EQ(net.layer(net.output_id()).shape, (Shape{3}));
}

TEST(OnnxImport, ClipWithMinZeroAttributeBecomesReluInOldOpsets) {
    ModelBuilder b = tiny_classifier(9);
    b.node_named("r1").set_op_type("Clip");
    attr_f(b.node_named("r1"), "min", 0.0f);
    attr_f(b.node_named("r1"), "max", std::numeric_limits<float>::max());
    EXPECT_EQ(layer_named(b.import(), "r1").kind, OpKind::ReLU);
}

TEST(OnnxImport, ClipWithMinZeroInputAndInfiniteMaxBecomesRelu) {
    ModelBuilder b = tiny_classifier(17);
    b.init("lo", {}, {0.0f});
    b.init("hi", {}, {std::numeric_limits<float>::infinity()});
    auto& r1 = b.node_named("r1");
    r1.set_op_type("Clip");
    r1.add_input("lo");
    r1.add_input("hi");
    EXPECT_EQ(layer_named(b.import(), "r1").kind, OpKind::ReLU);
}

TEST(OnnxImport, SamePaddingPutsTheOddPadWhereTheModeSays) {
    for (const std::string mode : {"SAME_UPPER", "SAME_LOWER"}) {
        ModelBuilder b = tiny_classifier();
        auto& c1 = b.node_named("c1");
        c1.clear_attribute();
        attr_s(c1, "auto_pad", mode);
        attr_ints(c1, "strides", {2, 2});
        const Network net = b.import();
        const auto& w = layer_named(net, "c1").conv().window;
        // 8 / 2 = 4 outputs need (4 - 1) * 2 + 3 - 8 = 1 pad in total
        EXPECT_EQ(layer_named(net, "c1").shape, (Shape{4, 4, 4})) << mode;
        const int extra_first = mode == "SAME_LOWER" ? 1 : 0;
        EXPECT_EQ(w.pad_top, extra_first) << mode;
        EXPECT_EQ(w.pad_left, extra_first) << mode;
        EXPECT_EQ(w.pad_bottom, 1 - extra_first) << mode;
        EXPECT_EQ(w.pad_right, 1 - extra_first) << mode;
    }
}

TEST(OnnxImport, ReshapeThatFlattensBecomesFlatten) {
    for (const Shape& target : {Shape{0, -1}, Shape{-1, 4}, Shape{1, 4}, Shape{5, -1}, Shape{-1, 0}}) {
        ModelBuilder b = tiny_classifier();
        b.init_i64("target", target);
        auto& flat = b.node_named("flat");
        flat.set_op_type("Reshape");
        flat.add_input("target");
        const Network net = b.import();
        EXPECT_EQ(layer_named(net, "flat").kind, OpKind::Flatten) << shape_str(target);
        EXPECT_EQ(layer_named(net, "flat").shape, (Shape{4})) << shape_str(target);
    }
}

TEST(OnnxImport, ReshapeOfAFlatInputIsAnAlias) {
    ModelBuilder b = tiny_classifier();
    b.init_i64("target", {-1, 4});
    b.node_named("fc").set_input(0, "flat2_out");
    b.node("Reshape", {"flat_out", "target"}, {"flat2_out"}, "flat2");
    const Network net = b.import();
    EXPECT_EQ(kinds(net), (std::vector<OpKind>{OpKind::Input, OpKind::Conv2d, OpKind::ReLU, OpKind::GlobalAvgPool,
                                               OpKind::Flatten, OpKind::Linear}));
}

TEST(OnnxImport, NodesAreSortedByTheirDependencies) {
    ModelBuilder b = tiny_classifier();
    auto* nodes = b.graph().mutable_node();
    std::reverse(nodes->begin(), nodes->end());
    EXPECT_EQ(kinds(b.import()), (std::vector<OpKind>{OpKind::Input, OpKind::Conv2d, OpKind::ReLU,
                                                      OpKind::GlobalAvgPool, OpKind::Flatten, OpKind::Linear}));
}

TEST(OnnxImport, UnnamedNodesAreNamedAfterTheirOutput) {
    ModelBuilder b = tiny_classifier();
    b.node_named("r1").clear_name();
    const Network net = b.import();
    EXPECT_EQ(net.layer(2).name, "r1_out");
}

TEST(OnnxImport, ImportsFromAFile) {
    const std::string path = ::testing::TempDir() + "/neuroemu_onnx_import_test.onnx";
    {
        std::ofstream out(path, std::ios::binary);
        out << tiny_classifier().bytes();
    }
    const Network net = import_onnx_file(path);
    EXPECT_EQ(net.size(), 6);
    std::filesystem::remove(path);
}

// ---- files that are not ONNX models -------------------------------------------------------------------------

TEST(OnnxImportErrors, MissingFileIsNamed) {
    try {
        import_onnx_file("/nonexistent/model.onnx");
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.onnx: file not found"), std::string::npos)
            << e.what();
    }
}

TEST(OnnxImportErrors, EmptyFile) { expect_error(std::string(), {"test.onnx: ", "empty"}); }

TEST(OnnxImportErrors, GarbageBytes) {
    std::mt19937 rng(42);
    for (int trial = 0; trial < 300; ++trial) {
        std::string bytes(1 + rng() % 512, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        EXPECT_THROW(import_onnx_bytes(bytes, kSource), ModelError) << "trial " << trial;
    }
    expect_error("this is not an onnx model at all, just some text\n", {"test.onnx: not a valid ONNX model"});
}

TEST(OnnxImportErrors, EveryTruncationOfAValidModelIsRejected) {
    const std::string bytes = residual_network().bytes();
    ASSERT_NO_THROW(import_onnx_bytes(bytes, kSource));
    for (size_t len = 0; len < bytes.size(); ++len)
        EXPECT_THROW(import_onnx_bytes(bytes.substr(0, len), kSource), ModelError) << "length " << len;
    expect_error(bytes.substr(0, bytes.size() / 2), {"protobuf parsing failed (truncated or corrupt file?)"});
}

// Corrupt files must be reported, never crash the importer (ASan builds check the "never").
TEST(OnnxImportErrors, RandomByteChangesEitherImportOrFailCleanly) {
    const std::string original = residual_network().bytes();
    std::mt19937 rng(7);
    for (int trial = 0; trial < 3000; ++trial) {
        std::string bytes = original;
        for (int k = 0; k < 1 + trial % 3; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        try {
            import_onnx_bytes(bytes, kSource);
        } catch (const ModelError&) {
        }  // any other exception fails the test
    }
}

TEST(OnnxImportErrors, ModelWithoutGraph) {
    ModelBuilder b;
    b.model().clear_graph();
    expect_error(b, {"no graph"});
}

TEST(OnnxImportErrors, UnsupportedOpsets) {
    expect_error(tiny_classifier(7), {"opset 7", "9 to 17"});
    expect_error(tiny_classifier(20), {"opset 20", "9 to 17"});
    ModelBuilder none = tiny_classifier();
    none.model().clear_opset_import();
    expect_error(none, {"no opset"});
}

// ---- graph structure ----------------------------------------------------------------------------------------

TEST(OnnxImportErrors, InputOfRankTwo) {
    ModelBuilder b = tiny_classifier();
    b.graph().clear_input();
    b.input("x", {-1, 64});
    expect_error(b, {"graph input 'x'", "rank 2", "[N, C, H, W]"});
}

TEST(OnnxImportErrors, InputWithSymbolicChannels) {
    ModelBuilder b = tiny_classifier();
    b.graph().clear_input();
    b.input("x", {1, -1, 8, 8});
    expect_error(b, {"graph input 'x'", "'N'", "fixed positive sizes"});
}

TEST(OnnxImportErrors, InputThatIsNotFloat) {
    ModelBuilder b = tiny_classifier();
    b.graph().clear_input();
    b.input("x", {1, 3, 8, 8}, onnx::TensorProto_DataType_UINT8);
    expect_error(b, {"graph input 'x'", "float32", "UINT8"});
}

TEST(OnnxImportErrors, TwoGraphInputs) {
    ModelBuilder b = tiny_classifier();
    b.input("x2", {1, 3, 8, 8});
    expect_error(b, {"2 inputs", "'x', 'x2'", "exactly one"});
}

TEST(OnnxImportErrors, TwoGraphOutputs) {
    ModelBuilder b = tiny_classifier();
    b.output("r1_out");
    expect_error(b, {"2 outputs", "exactly one"});
}

TEST(OnnxImportErrors, UnknownInput) {
    ModelBuilder b = tiny_classifier();
    b.node_named("c1").set_input(1, "missing_weight");
    expect_error(b, {"test.onnx: node 'c1' (Conv): input 'missing_weight' is not produced by any node, initializer "
                     "or graph input"});
}

TEST(OnnxImportErrors, GraphCycle) {
    ModelBuilder b = tiny_classifier();
    b.node_named("r1").set_input(0, "a_out");
    b.node("Add", {"c1_out", "r1_out"}, {"a_out"}, "a");
    // List a node downstream of the cycle first: the message must still name one on it.
    b.graph().mutable_node()->SwapElements(0, 2);
    expect_error(b, {"node 'r1' (Relu): the graph has a cycle"});
}

TEST(OnnxImportErrors, ValueProducedTwice) {
    ModelBuilder b = tiny_classifier();
    b.node("Relu", {"c1_out"}, {"r1_out"}, "r1_again");
    expect_error(b, {"node 'r1_again' (Relu)", "'r1_out' is already defined"});
}

TEST(OnnxImportErrors, UnsupportedOpListsTheSupportedOnes) {
    ModelBuilder b = tiny_classifier();
    b.node_named("r1").set_op_type("Sigmoid");
    expect_error(b, {"test.onnx: node 'r1' (Sigmoid) is not supported; supported ops: ", "BatchNormalization",
                     "Clip", "Conv", "Gemm", "GlobalAveragePool", "MaxPool", "Reshape"});
}

TEST(OnnxImportErrors, CustomDomain) {
    ModelBuilder b = tiny_classifier();
    b.node_named("r1").set_domain("com.microsoft");
    expect_error(b, {"node 'r1' (Relu)", "domain 'com.microsoft'"});
}

TEST(OnnxImportErrors, DropoutMaskInUse) {
    ModelBuilder b = tiny_classifier();
    b.node_named("fc").set_input(0, "d_out");
    b.node("Dropout", {"flat_out"}, {"d_out", "mask"}, "drop");
    b.node("Relu", {"mask"}, {"unused"}, "reads_mask");
    expect_error(b, {"node 'drop' (Dropout)", "output 1 ('mask') is used"});
}

TEST(OnnxImportErrors, OutputThatIsAConstant) {
    ModelBuilder b = tiny_classifier();
    b.graph().mutable_output(0)->set_name("Cfc");
    expect_error(b, {"graph output 'Cfc' is a constant"});
}

// ---- weights ------------------------------------------------------------------------------------------------

TEST(OnnxImportErrors, ConvWeightChannelMismatch) {
    ModelBuilder b = tiny_classifier();
    b.initializer("W1") = float_tensor("W1", {4, 2, 3, 3}, ramp(72, 0.01f));
    expect_error(b, {"test.onnx: ", "layer 'c1' (Conv2d)", "expects 2 input channels, the input has 3"});
}

TEST(OnnxImportErrors, LinearInFeaturesMismatch) {
    ModelBuilder b = tiny_classifier();
    b.initializer("Wfc") = float_tensor("Wfc", {3, 5}, ramp(15, 0.1f));
    expect_error(b, {"test.onnx: ", "layer 'fc' (Linear)", "expected [out, 4]"});
}

TEST(OnnxImportErrors, MatMulInFeaturesMismatch) {
    ModelBuilder b = tiny_classifier();
    b.graph().clear_node();
    b.graph().clear_initializer();
    b.init("Wm", {5, 3}, ramp(15, 0.1f));
    b.init("bm", {3}, {1.0f, 2.0f, 3.0f});
    b.node("Flatten", {"x"}, {"flat_out"}, "flat");
    b.node("MatMul", {"flat_out", "Wm"}, {"mm_out"}, "mm");
    b.node("Add", {"mm_out", "bm"}, {"y"}, "bias");
    expect_error(b, {"test.onnx: ", "layer 'mm' (Linear)", "expected [out, 192]"});
}

TEST(OnnxImportErrors, NaNWeightNamesTensorNodeAndIndex) {
    ModelBuilder b = tiny_classifier();
    auto values = ramp(108, 0.01f);
    values[5] = std::nanf("");
    values[7] = std::nanf("");
    b.initializer("W1") = float_tensor("W1", {4, 3, 3, 3}, values);
    expect_error(b, {"node 'c1' (Conv)", "tensor 'W1'", "index 5", "NaN"});
}

TEST(OnnxImportErrors, InfWeightInFloatData) {
    ModelBuilder b = tiny_classifier();
    auto values = ramp(12, 0.1f);
    values[11] = -std::numeric_limits<float>::infinity();
    b.initializer("Wfc") = float_tensor("Wfc", {3, 4}, values, /*raw=*/false);
    expect_error(b, {"node 'fc' (Gemm)", "tensor 'Wfc'", "index 11", "-Inf"});
}

TEST(OnnxImportErrors, DataLengthDoesNotMatchDims) {
    for (const bool raw : {true, false}) {
        ModelBuilder b = tiny_classifier();
        b.initializer("W1") = float_tensor("W1", {4, 3, 3, 3}, ramp(10, 0.01f), raw);
        expect_error(b, {"node 'c1' (Conv)", "tensor 'W1'", "holds 10 values", "need 108"});
    }
    ModelBuilder odd = tiny_classifier();
    odd.initializer("B1").mutable_raw_data()->push_back('\0');
    expect_error(odd, {"tensor 'B1'", "17 bytes"});
}

TEST(OnnxImportErrors, AbsurdDimsAreRejectedWithoutAllocating) {
    ModelBuilder b = tiny_classifier();
    b.initializer("W1") = float_tensor("W1", {int64_t{1} << 30, int64_t{1} << 30}, {1.0f});
    expect_error(b, {"node 'c1' (Conv)", "tensor 'W1'", "invalid dims"});
    // Within the element limit and (with a budget of 1 TB) the memory limit, but the file holds only 4 bytes of it.
    {
        ScopedMemoryLimit budget(INT64_C(1) << 40);
        b.initializer("W1") = float_tensor("W1", {int64_t{1} << 31}, {1.0f});
        expect_error(b, {"tensor 'W1'", "holds 1 values"});
    }
    b.initializer("W1") = float_tensor("W1", {4, -3, 3, 3}, {1.0f});
    expect_error(b, {"tensor 'W1'", "negative dimension"});
}

TEST(OnnxImportErrors, TenGigabyteTensorInASmallFileFailsWithEstimateAndLimitBeforeAllocating) {
    // 2.5e9 float32 = 1e10 bytes declared by a file of about 1 KB, raw_data absent; refused on its dims against
    // a 1 GiB budget (hand-computed: 2500000000 * 4 bytes), before the data (or its absence) is looked at.
    ScopedMemoryLimit budget(INT64_C(1) << 30);
    ModelBuilder b = tiny_classifier();
    onnx::TensorProto& w = b.initializer("W1");
    w.clear_raw_data();
    w.clear_float_data();
    w.clear_dims();
    for (const int64_t d : {INT64_C(50000), INT64_C(50000), INT64_C(1), INT64_C(1)}) w.add_dims(d);
    EXPECT_LT(b.bytes().size(), 2048u);
    expect_error(b, {"tensor 'W1'", "dims [50000, 50000, 1, 1]", "needs an estimated 10000000000 bytes (10 GB)",
                     "memory limit of 1073741824 bytes"});
    // The same with the data declared external: refused as external before any file is opened.
    w.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    expect_error(b, {"tensor 'W1'", "external file"});
}

TEST(OnnxImportErrors, ExternalData) {
    ModelBuilder b = tiny_classifier();
    auto& w = b.initializer("W1");
    w.clear_raw_data();
    w.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto* entry = w.add_external_data();
    entry->set_key("location");
    entry->set_value("weights.bin");
    expect_error(b, {"tensor 'W1'", "external file"});
}

TEST(OnnxImportErrors, NonFloatWeight) {
    ModelBuilder b = tiny_classifier();
    b.initializer("B1").set_data_type(onnx::TensorProto_DataType_DOUBLE);
    expect_error(b, {"node 'c1' (Conv)", "tensor 'B1'", "DOUBLE", "only FLOAT"});
}

TEST(OnnxImportErrors, WeightComputedFromTheInput) {
    ModelBuilder b = tiny_classifier();
    b.node_named("c1").set_input(1, "x");
    expect_error(b, {"node 'c1' (Conv)", "weight 'x' must be a constant"});
}

// ---- attributes and op variants -----------------------------------------------------------------------------

TEST(OnnxImportErrors, GroupedConvolution) {
    ModelBuilder b = tiny_classifier();
    attr_i(b.node_named("c1"), "group", 2);
    expect_error(b, {"node 'c1' (Conv)", "'group' = 2", "only group = 1"});
}

TEST(OnnxImportErrors, DilatedConvolution) {
    ModelBuilder b = tiny_classifier();
    attr_ints(b.node_named("c1"), "dilations", {2, 2});
    expect_error(b, {"node 'c1' (Conv)", "'dilations' = [2, 2]", "only dilation 1"});
}

TEST(OnnxImportErrors, UnknownAttribute) {
    ModelBuilder b = tiny_classifier();
    attr_i(b.node_named("c1"), "bogus", 1);
    expect_error(b, {"node 'c1' (Conv)", "attribute 'bogus' is not supported", "kernel_shape", "strides"});
}

TEST(OnnxImportErrors, AutoPadWithPads) {
    ModelBuilder b = tiny_classifier();
    attr_s(b.node_named("c1"), "auto_pad", "SAME_UPPER");
    expect_error(b, {"node 'c1' (Conv)", "'auto_pad'", "'pads'"});
}

TEST(OnnxImportErrors, ClipWithUpperBound) {
    ModelBuilder b = tiny_classifier(13);
    b.init("lo", {}, {0.0f});
    b.init("six", {}, {6.0f});
    auto& r1 = b.node_named("r1");
    r1.set_op_type("Clip");
    r1.add_input("lo");
    r1.add_input("six");
    expect_error(b, {"node 'r1' (Clip)", "max = 6", "only Clip(min = 0) without an upper bound"});

    ModelBuilder old = tiny_classifier(10);
    old.node_named("r1").set_op_type("Clip");
    attr_f(old.node_named("r1"), "min", 0.0f);
    attr_f(old.node_named("r1"), "max", 6.0f);
    expect_error(old, {"node 'r1' (Clip)", "max = 6", "only Clip(min = 0)"});
}

TEST(OnnxImportErrors, ClipWithoutLowerBound) {
    ModelBuilder b = tiny_classifier(13);
    b.node_named("r1").set_op_type("Clip");
    expect_error(b, {"node 'r1' (Clip)", "min = -inf", "only Clip(min = 0)"});
}

TEST(OnnxImportErrors, BatchNormInTrainingMode) {
    ModelBuilder b = tiny_classifier(15);
    for (const char* name : {"s", "bb", "m", "v"}) b.init(name, {4}, {1.0f, 1.0f, 1.0f, 1.0f});
    b.node_named("r1").set_input(0, "bn_out");
    attr_i(b.node("BatchNormalization", {"c1_out", "s", "bb", "m", "v"}, {"bn_out"}, "bn"), "training_mode", 1);
    expect_error(b, {"node 'bn' (BatchNormalization)", "training_mode"});
}

TEST(OnnxImportErrors, FlattenOnAnotherAxis) {
    ModelBuilder b = tiny_classifier();
    attr_i(b.node_named("flat"), "axis", 2);
    expect_error(b, {"node 'flat' (Flatten)", "'axis' = 2", "only axis = 1"});
}

TEST(OnnxImportErrors, ReshapeThatDoesNotFlatten) {
    for (const Shape& target : {Shape{0, 4, 1}, Shape{-1, 2}, Shape{-1, -1}, Shape{2, 2}}) {
        ModelBuilder b = tiny_classifier();
        b.graph().clear_input();
        b.input("x", {1, 3, 8, 8});  // a fixed batch size of 1 makes [2, 2] wrong too
        b.init_i64("target", target);
        auto& flat = b.node_named("flat");
        flat.set_op_type("Reshape");
        flat.add_input("target");
        expect_error(b, {"node 'flat' (Reshape)", shape_str(target), "only to flatten [N, 4, 1, 1] to [N, 4]"});
    }
}

TEST(OnnxImportErrors, GemmWithTransposedActivation) {
    ModelBuilder b = tiny_classifier();
    attr_i(b.node_named("fc"), "transA", 1);
    expect_error(b, {"node 'fc' (Gemm)", "'transA' = 1"});
}

TEST(OnnxImportErrors, ConstantAddedOutsideAMatMulBias) {
    ModelBuilder b = tiny_classifier();
    b.init("shift", {4, 8, 8}, ramp(256, 0.0f));
    b.node_named("r1").set_input(0, "shifted");
    b.node("Add", {"c1_out", "shift"}, {"shifted"}, "add_shift");
    expect_error(b, {"node 'add_shift' (Add)", "constant 'shift'", "only as the bias of a MatMul"});
}

TEST(OnnxImportErrors, MatMulBiasWhenTheProductIsAlsoReadElsewhere) {
    ModelBuilder b = tiny_classifier();
    b.graph().clear_node();
    b.graph().clear_output();
    b.output("y");
    b.init("Wm", {192, 3}, ramp(576, 0.001f));
    b.init("bm", {3}, {1.0f, 2.0f, 3.0f});
    b.node("Flatten", {"x"}, {"flat_out"}, "flat");
    b.node("MatMul", {"flat_out", "Wm"}, {"mm_out"}, "mm");
    b.node("Add", {"mm_out", "bm"}, {"biased"}, "bias");
    b.node("Add", {"mm_out", "biased"}, {"y"}, "join");
    expect_error(b, {"node 'bias' (Add)", "only as the bias of a MatMul"});
}

}  // namespace
}  // namespace neuroemu
