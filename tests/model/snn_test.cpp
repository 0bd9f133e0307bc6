// The S-ResNet model (model/snn.h): validation, exact synapse counts, and the .snn file format
// (docs/snn-format.md): a lossless round trip, and damaged files rejected with a ModelError naming the file and
// the field, never a crash (this suite also runs under ASan/UBSan).
#include "model/snn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "common/memory_limit.h"
#include "common/error.h"
#include "tests/model/snn_v1_reference.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using json = nlohmann::json;

Window2d window(int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, bool ceil = false) {
    Window2d w;
    w.kernel_h = kh, w.kernel_w = kw, w.stride_h = sh, w.stride_w = sw;
    w.pad_top = pt, w.pad_left = pl, w.pad_bottom = pb, w.pad_right = pr;
    w.ceil_mode = ceil;
    return w;
}

Tensor random_tensor(std::vector<int64_t> shape, std::mt19937& rng) {
    Tensor t(std::move(shape));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (float& v : t.data) v = u(rng);
    return t;
}

Population pop(const std::string& name, PopulationKind kind, std::vector<int64_t> shape) {
    Population p;
    p.name = name;
    p.kind = kind;
    p.shape = std::move(shape);
    p.lambda = {1.0f};
    if (kind == PopulationKind::IF) p.threshold = {1.0f};
    return p;
}

// A model that uses every field of the format with non-default values: per-channel λ, thresholds and biases, a
// max gate, all four projection kinds (a shortcut flag, count_include_pad, asymmetric padding, ceil_mode), a
// non-spiking readout, reset to zero, v_init, and a full conversion record. Some weights are special floats
// (-0, denormal, FLT_MAX) to check the blob is copied bit for bit.
SnnModel full_model() {
    std::mt19937 rng(7);
    SnnModel m;
    m.name = "all-fields";
    m.populations.push_back(pop("in", PopulationKind::Input, {1, 6, 6}));
    Population a = pop("relu1", PopulationKind::IF, {2, 6, 6});
    a.lambda = {1.5f, 2.5f};
    a.threshold = {1.0f, 0.75f};
    a.bias = {0.125f, -0.2f};
    m.populations.push_back(a);
    Population g = pop("pool", PopulationKind::MaxGate, {2, 3, 3});
    g.lambda = a.lambda;
    g.threshold = {};
    g.gate_source = 1;
    g.gate_window = window(2, 2, 2, 2, 0, 0, 0, 0);
    m.populations.push_back(g);
    Population b = pop("relu2", PopulationKind::IF, {2, 3, 3});
    b.lambda = {0.5f};
    b.threshold = {1.25f};
    m.populations.push_back(b);
    Population r = pop("fc", PopulationKind::IF, {4});
    r.spiking = false;
    r.bias = {0.1f, 0.2f, 0.3f, -0.4f};
    m.populations.push_back(r);

    Tensor conv = random_tensor({2, 1, 3, 3}, rng);
    conv.data[0] = -0.0f;
    conv.data[1] = std::numeric_limits<float>::denorm_min();
    conv.data[2] = std::numeric_limits<float>::max();
    m.projections.push_back(projection("conv1", ProjectionKind::Conv, 0, 1, conv, window(3, 3, 1, 1, 1, 1, 1, 1)));
    Projection pool = projection("avg", ProjectionKind::AvgPool, 2, 3, Tensor({2}, {0.75f, 1.25f}), window(2, 2, 1, 1, 1, 0, 0, 1, true));
    pool.count_include_pad = true;
    m.projections.push_back(pool);
    Projection id = projection("pool->relu2", ProjectionKind::Identity, 2, 3, Tensor({2}, {3.0f, 0.5f}));
    id.shortcut = true;
    m.projections.push_back(id);
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 3, 4, random_tensor({4, 18}, rng)));
    m.output = 4;
    // Max pooling before the neuron: a current collector and the max_pool projection that reads it.
    Population cur = pop("relu3", PopulationKind::Current, {2, 6, 6});
    cur.spiking = false;
    cur.lambda = {0.75f};
    cur.bias = {-0.5f, 0.25f};
    m.populations.push_back(cur);
    Population pooled = pop("maxpool3", PopulationKind::IF, {2, 3, 3});
    pooled.lambda = {0.75f};
    m.populations.push_back(pooled);
    m.projections.push_back(projection("conv3", ProjectionKind::Conv, 0, 5, random_tensor({2, 1, 3, 3}, rng), window(3, 3, 1, 1, 1, 1, 1, 1)));
    m.projections.push_back(projection("maxpool3", ProjectionKind::MaxPool, 5, 6, Tensor({2}, {1.0f, 0.5f}), window(3, 3, 2, 2, 1, 1, 1, 1)));
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

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

void expect_same_window(const Window2d& a, const Window2d& b, const std::string& who) {
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

void expect_same_model(const SnnModel& a, const SnnModel& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.output, b.output);
    EXPECT_EQ(a.reset, b.reset);
    EXPECT_EQ(a.v_init, b.v_init);
    EXPECT_EQ(a.fire_above, b.fire_above);
    EXPECT_EQ(a.dt_s, b.dt_s);
    EXPECT_EQ(a.discretisation, b.discretisation);
    EXPECT_EQ(a.source_format, b.source_format);
    EXPECT_EQ(a.record.source_model, b.record.source_model);
    EXPECT_EQ(a.record.percentile, b.record.percentile);
    EXPECT_EQ(a.record.calibration_images, b.record.calibration_images);
    EXPECT_EQ(a.record.channel_wise, b.record.channel_wise);
    EXPECT_EQ(a.record.shortcut_normalisation, b.record.shortcut_normalisation);
    EXPECT_EQ(a.record.zeta, b.record.zeta);
    EXPECT_EQ(a.record.fit_p, b.record.fit_p);
    EXPECT_EQ(a.record.fit_q, b.record.fit_q);
    EXPECT_EQ(a.record.fit_adj_r2, b.record.fit_adj_r2);
    ASSERT_EQ(a.populations.size(), b.populations.size());
    for (size_t i = 0; i < a.populations.size(); ++i) {
        const Population &x = a.populations[i], &y = b.populations[i];
        const std::string who = "population " + std::to_string(i);
        EXPECT_EQ(x.name, y.name) << who;
        EXPECT_EQ(x.kind, y.kind) << who;
        EXPECT_EQ(x.shape, y.shape) << who;
        EXPECT_TRUE(same_bits(x.lambda, y.lambda)) << who;
        EXPECT_TRUE(same_bits(x.threshold, y.threshold)) << who;
        EXPECT_TRUE(same_bits(x.bias, y.bias)) << who;
        EXPECT_EQ(x.spiking, y.spiking) << who;
        EXPECT_EQ(x.gate_source, y.gate_source) << who;
        expect_same_window(x.gate_window, y.gate_window, who);
        EXPECT_EQ(x.neuron.model, y.neuron.model) << who;
        EXPECT_TRUE(same_bits(x.neuron.tau_mem_s, y.neuron.tau_mem_s)) << who;
        EXPECT_TRUE(same_bits(x.neuron.tau_syn_s, y.neuron.tau_syn_s)) << who;
        EXPECT_TRUE(same_bits(x.neuron.r, y.neuron.r)) << who;
        EXPECT_TRUE(same_bits(x.neuron.v_leak, y.neuron.v_leak)) << who;
        EXPECT_TRUE(same_bits(x.neuron.v_reset, y.neuron.v_reset)) << who;
        EXPECT_TRUE(same_bits(x.neuron.w_in, y.neuron.w_in)) << who;
    }
    ASSERT_EQ(a.projections.size(), b.projections.size());
    for (size_t i = 0; i < a.projections.size(); ++i) {
        const Projection &x = a.projections[i], &y = b.projections[i];
        const std::string who = "projection " + std::to_string(i);
        EXPECT_EQ(x.name, y.name) << who;
        EXPECT_EQ(x.kind, y.kind) << who;
        EXPECT_EQ(x.source, y.source) << who;
        EXPECT_EQ(x.target, y.target) << who;
        EXPECT_EQ(x.weight.shape, y.weight.shape) << who;
        EXPECT_TRUE(same_bits(x.weight.data, y.weight.data)) << who;
        expect_same_window(x.window, y.window, who);
        EXPECT_EQ(x.count_include_pad, y.count_include_pad) << who;
        EXPECT_EQ(x.shortcut, y.shortcut) << who;
        EXPECT_EQ(x.recurrent, y.recurrent) << who;
        EXPECT_EQ(x.sparse_ptr, y.sparse_ptr) << who;
        EXPECT_EQ(x.sparse_target, y.sparse_target) << who;
    }
}

// full_model() plus every field of format version 2: neuron models with per-channel and single parameters,
// reset to v_reset, fire_above, dt_s, exact discretisation, source format "nir", a sparse projection (source
// neuron s of relu1 reaches relu2's neurons s mod 18 and (s mod 18 + 7) mod 18, in ascending order) and a
// recurrent projection of the readout onto itself.
constexpr size_t kSparse = 6, kRecurrent = 7;  // their indices in projections

SnnModel v2_model() {
    SnnModel m = full_model();
    m.populations[1].neuron.model = "lif";
    m.populations[1].neuron.tau_mem_s = {0.01f, 0.02f};
    m.populations[1].neuron.r = {1.0f};
    m.populations[1].neuron.v_leak = {0.0f, -0.1f};
    m.populations[1].neuron.v_reset = {0.05f};
    m.populations[3].neuron.model = "cuba_lif";
    m.populations[3].neuron.tau_mem_s = {0.01f};
    m.populations[3].neuron.tau_syn_s = {0.005f};
    m.populations[3].neuron.w_in = {1.0f, 2.0f};
    m.populations[4].neuron.model = "li";
    m.populations[4].neuron.tau_mem_s = {0.03f};
    m.reset = ResetMode::ToValue;
    m.fire_above = true;
    m.dt_s = 1e-4;
    m.discretisation = Discretisation::Exact;
    m.source_format = "nir";
    Projection sparse;
    sparse.name = "sparse";
    sparse.kind = ProjectionKind::Sparse;
    sparse.source = 1;
    sparse.target = 3;
    sparse.sparse_ptr.push_back(0);
    for (int32_t s = 0; s < 72; ++s) {
        const int32_t a = s % 18, b = (s % 18 + 7) % 18;
        sparse.sparse_target.push_back(std::min(a, b));
        sparse.sparse_target.push_back(std::max(a, b));
        sparse.sparse_ptr.push_back(2 * (s + 1));
    }
    sparse.weight = Tensor({144});
    for (size_t k = 0; k < 144; ++k) sparse.weight.data[k] = 0.01f * static_cast<float>(k) - 0.5f;
    m.projections.push_back(sparse);
    Projection rec = projection("rec", ProjectionKind::Linear, 4, 4, Tensor({4, 4}));
    for (size_t k = 0; k < 16; ++k) rec.weight.data[k] = k % 5 == 0 ? 0.0f : 0.25f * static_cast<float>(k % 3);
    rec.recurrent = true;
    m.projections.push_back(rec);
    return m;
}

// A scratch file path unique to this process and test.
std::string temp_path(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return ::testing::TempDir() + "neuroemu_" + std::to_string(::getpid()) + "_" + info->name() + "_" + tag + ".snn";
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

// The file split along docs/snn-format.md: 13-byte magic, 8-byte little-endian header length, JSON, blob.
struct SnnFile {
    std::string magic, header, blob;
    static SnnFile parse(const std::string& bytes) {
        SnnFile f;
        f.magic = bytes.substr(0, 13);
        uint64_t len = 0;
        for (int i = 0; i < 8; ++i) len |= uint64_t{static_cast<unsigned char>(bytes[13 + static_cast<size_t>(i)])} << (8 * i);
        f.header = bytes.substr(21, len);
        f.blob = bytes.substr(21 + len);
        return f;
    }
    std::string bytes() const {
        std::string out = magic;
        const uint64_t len = header.size();
        for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(len >> (8 * i)));
        return out + header + blob;
    }
};

// load_snn must throw a ModelError (nothing else, no crash) whose message contains every fragment.
std::string load_error(const std::string& path) {
    try {
        load_snn(path);
    } catch (const ModelError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("WRONG EXCEPTION TYPE: ") + e.what();
    }
    return "NO ERROR";
}

struct TempFiles {
    std::vector<std::string> paths;
    ~TempFiles() {
        for (const auto& p : paths) std::remove(p.c_str());
    }
    const std::string& add(const std::string& p) {
        paths.push_back(p);
        return paths.back();
    }
};

// save_snn then load_snn gives back every field exactly (weights bit for bit), and saving the loaded model
// again writes the same bytes; the file starts with the documented magic and header length.
TEST(SnnFormat, RoundTripKeepsEveryField) {
    TempFiles tmp;
    const SnnModel m = full_model();
    ASSERT_NO_THROW(validate(m, "full_model"));
    const std::string& path = tmp.add(temp_path("a"));
    save_snn(m, path);
    const std::string bytes = read_bytes(path);
    ASSERT_GT(bytes.size(), 21u);
    EXPECT_EQ(bytes.substr(0, 13), "NEUROEMU-SNN\n");
    const SnnFile f = SnnFile::parse(bytes);
    const json header = json::parse(f.header);
    EXPECT_EQ(header.at("format"), "neuroemu-snn");
    EXPECT_EQ(header.at("version"), SnnModel::kFormatVersion);
    // The weight area holds exactly blob_floats float32 values, the sum of all projection weights.
    size_t floats = 0;
    for (const auto& p : m.projections) floats += p.weight.data.size();
    EXPECT_EQ(header.at("blob_floats").get<size_t>(), floats);
    EXPECT_EQ(f.blob.size(), floats * 4);

    const SnnModel back = load_snn(path);
    expect_same_model(m, back);
    const std::string& again = tmp.add(temp_path("b"));
    save_snn(back, again);
    EXPECT_EQ(read_bytes(again), bytes);
}

// A file that is not a .snn at all, or a missing one, is refused with the path in the message.
TEST(SnnFormat, WrongMagicOrMissingFileIsRejected) {
    TempFiles tmp;
    const std::string& path = tmp.add(temp_path("good"));
    save_snn(full_model(), path);
    std::string bytes = read_bytes(path);
    bytes[0] = 'X';
    const std::string& bad = tmp.add(temp_path("magic"));
    write_bytes(bad, bytes);
    EXPECT_THAT(load_error(bad), AllOf(HasSubstr(bad), HasSubstr("NEUROEMU-SNN")));
    const std::string missing = temp_path("does_not_exist");
    EXPECT_THAT(load_error(missing), HasSubstr(missing));
}

// A file cut short anywhere (inside the magic, the length, the header, the weights; or empty) is refused with a
// ModelError naming the file.
TEST(SnnFormat, TruncatedFilesAreRejected) {
    TempFiles tmp;
    const std::string& path = tmp.add(temp_path("good"));
    save_snn(full_model(), path);
    const std::string bytes = read_bytes(path);
    const SnnFile f = SnnFile::parse(bytes);
    const size_t header_end = 21 + f.header.size();
    const std::vector<size_t> cuts = {0, 5, 13, 17, 21, 22, 21 + f.header.size() / 2, header_end - 1,
                                      header_end + 1, header_end + 6, bytes.size() - 4, bytes.size() - 1};
    const std::string& cut_path = tmp.add(temp_path("cut"));
    for (size_t cut : cuts) {
        ASSERT_LT(cut, bytes.size());
        write_bytes(cut_path, bytes.substr(0, cut));
        EXPECT_THAT(load_error(cut_path), HasSubstr(cut_path)) << "cut at " << cut << " of " << bytes.size();
    }
    // Extra bytes after the weights are damage too.
    write_bytes(cut_path, bytes + std::string(4, '\0'));
    EXPECT_THAT(load_error(cut_path), AllOf(HasSubstr(cut_path), HasSubstr("blob_floats")));
    // A header length beyond the file, and an absurd one.
    for (uint64_t len : {uint64_t{f.header.size() + f.blob.size() + 1}, ~uint64_t{0}, uint64_t{1} << 62}) {
        std::string b = bytes;
        for (int i = 0; i < 8; ++i) b[13 + static_cast<size_t>(i)] = static_cast<char>(len >> (8 * i));
        write_bytes(cut_path, b);
        EXPECT_THAT(load_error(cut_path), AllOf(HasSubstr(cut_path), HasSubstr("header length"))) << len;
    }
}

// Saves full_model(), applies `edit` to its JSON header (the weight area unchanged), and returns the error of
// loading the result.
struct HeaderEditor {
    TempFiles tmp;
    std::string bad;
    SnnFile good;
    json header;
    size_t blob_floats = 0;
    explicit HeaderEditor(const SnnModel& model = full_model()) {
        const std::string& path = tmp.add(temp_path("good"));
        save_snn(model, path);
        good = SnnFile::parse(read_bytes(path));
        header = json::parse(good.header);
        blob_floats = header.at("blob_floats").get<size_t>();
        bad = tmp.add(temp_path("bad"));
    }
    void check(const std::function<void(json&)>& edit, const std::vector<std::string>& fragments, const std::string& what) {
        json h = header;
        edit(h);
        SnnFile f = good;
        f.header = h.dump(1);
        write_bytes(bad, f.bytes());
        const std::string err = load_error(bad);
        EXPECT_THAT(err, HasSubstr(bad)) << what;
        for (const auto& frag : fragments) EXPECT_THAT(err, HasSubstr(frag)) << what;
    }
};

// Header edits that make the file inconsistent: the error names the file and the field at fault.
TEST(SnnFormat, DamagedHeaderNamesTheField) {
    HeaderEditor e;
    const size_t blob_floats = e.blob_floats;
    const std::string& bad = e.bad;
    auto check = [&e](const std::function<void(json&)>& edit, const std::vector<std::string>& fragments,
                      const std::string& what) { e.check(edit, fragments, what); };
    // Weight offsets past the end of the weight area (also one that would overflow offset + count).
    check([&](json& h) { h["projections"][3]["weight"]["offset"] = blob_floats; }, {"projections[3].weight"},
          "offset at the end");
    check([&](json& h) { h["projections"][0]["weight"]["offset"] = blob_floats - 3; }, {"projections[0].weight"},
          "offset so that the weights run past the end");
    check([&](json& h) { h["projections"][1]["weight"]["offset"] = std::numeric_limits<uint64_t>::max(); },
          {"projections[1].weight"}, "offset 2^64-1");
    // A weight shape that fits the weight area but not the source population.
    check([&](json& h) { h["projections"][3]["weight"]["shape"] = {4, 9}; }, {"projection 3 'fc'"},
          "shape that fits the blob but not the source");
    // Missing fields, wrong types, unknown enumerations, bad indices, another version.
    check([&](json& h) { h["populations"][1].erase("threshold"); }, {"populations[1]", "threshold"}, "missing field");
    check([&](json& h) { h["populations"][1]["lambda"] = nullptr; }, {"populations[1]", "lambda"}, "lambda null");
    check([&](json& h) { h["populations"][1]["lambda"] = {1.0, -2.0}; }, {"population 1 'relu1'", "lambda"},
          "negative lambda");
    check([&](json& h) { h["populations"][1]["threshold"] = {0.0}; }, {"population 1 'relu1'", "threshold"},
          "zero threshold");
    check([&](json& h) { h["populations"][2]["kind"] = "lif"; }, {"populations[2].kind", "lif"}, "unknown kind");
    check([&](json& h) { h["populations"][2]["gate_source"] = 7; }, {"population 2 'pool'", "gate source"},
          "gate source out of range");
    check([&](json& h) { h["projections"][2]["source"] = 4; }, {"projection 2"}, "source after target");
    check([&](json& h) { h["projections"][2]["target"] = -1; }, {"projection 2"}, "negative target");
    check([&](json& h) { h["projections"][1]["window"]["kernel"] = {3}; }, {"projections[1].window"}, "bad window");
    check([&](json& h) { h["output"] = 9; }, {"output"}, "output out of range");
    check([&](json& h) { h["version"] = 3; }, {"version 3"}, "future version");
    check([&](json& h) { h["version"] = 0; }, {"version 0"}, "version 0");
    // Version 2's words in a version 1 file.
    check([&](json& h) { h["reset"] = "to_value"; }, {"reset", "to_value"}, "to_value in version 1");
    check([&](json& h) { h["projections"][2]["kind"] = "sparse"; }, {"projections[2].kind", "sparse"},
          "sparse in version 1");
    check([&](json& h) { h["reset"] = "leak"; }, {"reset", "leak"}, "unknown reset");
    check([&](json& h) { h["conversion"].erase("zeta"); }, {"conversion", "zeta"}, "missing record field");
    check([&](json& h) { h["populations"] = 3; }, {"populations"}, "populations not a list");
    // Not JSON at all.
    SnnFile f = e.good;
    f.header = std::string(f.header.size(), '{');
    write_bytes(bad, f.bytes());
    EXPECT_THAT(load_error(bad), AllOf(HasSubstr(bad), HasSubstr("JSON")));
}

// Negative or overflowing shapes in the header (weights, populations) are refused without allocating, with the
// file and the field named like every other header error.
// A damaged shape (negative or overflowing dimensions) is reported with the file and the field, not only the shape.
TEST(SnnFormat, DamagedShapeNamesTheField) {
    HeaderEditor e;
    e.check([](json& h) { h["projections"][0]["weight"]["shape"] = {2, -1, 3, 3}; }, {"projections[0].weight", "negative"},
            "negative weight dimension");
    e.check([](json& h) { h["projections"][3]["weight"]["shape"] = {INT64_C(1) << 40, INT64_C(1) << 40}; },
            {"projections[3].weight", "elements"}, "overflowing weight shape");
    e.check([](json& h) { h["populations"][1]["shape"] = {2, -6, 6}; }, {"population 1 'relu1'"},
            "negative population dimension");
    e.check([](json& h) { h["populations"][1]["shape"] = {INT64_C(1) << 20, INT64_C(1) << 20, INT64_C(1) << 20}; },
            {"population 1 'relu1'"}, "overflowing population shape");
}

// A NaN or infinite weight in the blob is caught on load; the message names the file and the projection.
TEST(SnnFormat, NonFiniteWeightIsRejected) {
    TempFiles tmp;
    const SnnModel m = full_model();
    const std::string& path = tmp.add(temp_path("good"));
    save_snn(m, path);
    const SnnFile good = SnnFile::parse(read_bytes(path));
    // The last projection ("fc", index 3) starts after the other weights.
    size_t offset = 0;
    for (size_t k = 0; k < 3; ++k) offset += m.projections[k].weight.data.size();
    const std::string& bad = tmp.add(temp_path("nan"));
    for (float v : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        SnnFile f = good;
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        for (int i = 0; i < 4; ++i) f.blob[(offset + 5) * 4 + static_cast<size_t>(i)] = static_cast<char>(bits >> (8 * i));
        write_bytes(bad, f.bytes());
        EXPECT_THAT(load_error(bad), AllOf(HasSubstr(bad), HasSubstr("projection 3 'fc'"), HasSubstr("weight"))) << v;
    }
}

// validate() checks indices, shapes and values, naming the population or projection at fault.
TEST(SnnModel, ValidateNamesWhatIsWrong) {
    auto error = [](const SnnModel& m) {
        try {
            validate(m, "here");
        } catch (const ModelError& e) {
            return std::string(e.what());
        }
        return std::string("NO ERROR");
    };
    EXPECT_EQ(error(full_model()), "NO ERROR");
    {
        SnnModel m = full_model();
        m.projections[0].weight.data[3] = std::nanf("");
        EXPECT_THAT(error(m), AllOf(HasSubstr("here"), HasSubstr("projection 0 'conv1'")));
    }
    {
        SnnModel m = full_model();
        m.populations[1].bias = {0.1f, 0.2f, 0.3f};
        EXPECT_THAT(error(m), HasSubstr("population 1 'relu1'"));
    }
    {
        SnnModel m = full_model();
        m.populations[3].shape = {2, 4, 4};  // the avg pool produces [2, 3, 3]
        EXPECT_THAT(error(m), HasSubstr("projection 1 'avg'"));
    }
    {
        SnnModel m = full_model();
        m.projections[2].source = 1;  // a max gate cannot receive synapses
        m.projections[2].target = 2;
        EXPECT_THAT(error(m), AllOf(HasSubstr("projection 2 'pool->relu2'"), HasSubstr("IF")));
    }
    {
        SnnModel m = full_model();
        m.v_init = 1.0f;
        EXPECT_THAT(error(m), HasSubstr("v_init"));
    }
    {
        SnnModel m = full_model();
        m.populations[5].spiking = true;  // a current collector never fires
        EXPECT_THAT(error(m), AllOf(HasSubstr("population 5 'relu3'"), HasSubstr("never fires")));
    }
    {
        SnnModel m = full_model();
        m.projections[5].source = 1;  // max pooling of currents reads a current population, not spikes
        m.projections[5].window = window(2, 2, 2, 2, 0, 0, 0, 0);
        EXPECT_THAT(error(m), AllOf(HasSubstr("projection 5 'maxpool3'"), HasSubstr("'current' population")));
    }
    {
        SnnModel m = full_model();
        std::mt19937 rng(3);  // nothing but max_pool may read a current population
        m.projections.push_back(projection("bad", ProjectionKind::Conv, 5, 6, random_tensor({2, 2, 3, 3}, rng),
                                           window(3, 3, 2, 2, 1, 1, 1, 1)));
        EXPECT_THAT(error(m), AllOf(HasSubstr("projection 6 'bad'"), HasSubstr("sends no spikes")));
    }
}

TEST(SnnModel, NeuronsOverTheMemoryBudgetAreRefusedWithEstimateAndLimit) {
    const SnnModel m = full_model();
    int64_t neurons = 0;  // counted here from the shapes
    for (const Population& p : m.populations) {
        int64_t size = 1;
        for (int64_t d : p.shape) size *= d;
        neurons += size;
    }
    const int64_t bytes = neurons * 16;
    {
        ScopedMemoryLimit budget(bytes);  // exactly enough
        EXPECT_NO_THROW(validate(m, "here"));
    }
    ScopedMemoryLimit budget(bytes - 1);
    try {
        validate(m, "here");
        FAIL() << "expected ModelError";
    } catch (const ModelError& e) {
        EXPECT_THAT(e.what(), HasSubstr(fmt::format("here: the {} neurons of {} populations (16 bytes of state each) "
                                                    "needs an estimated {} bytes",
                                                    neurons, m.populations.size(), bytes)));
        EXPECT_THAT(e.what(), HasSubstr(fmt::format("memory limit of {} bytes", bytes - 1)));
    }
}

// Fan-out of source neuron (y, x) of a window projection, by brute force over every output position and
// kernel offset (a window of output (oy, ox) covers input oy*stride - pad + ky, clipped to the map).
int64_t window_fanout(const Window2d& w, int64_t y, int64_t x, int64_t out_h, int64_t out_w) {
    int64_t n = 0;
    for (int64_t oy = 0; oy < out_h; ++oy)
        for (int64_t ox = 0; ox < out_w; ++ox) {
            bool covered = false;
            for (int ky = 0; ky < w.kernel_h && !covered; ++ky)
                for (int kx = 0; kx < w.kernel_w && !covered; ++kx)
                    covered = oy * w.stride_h - w.pad_top + ky == y && ox * w.stride_w - w.pad_left + kx == x;
            n += covered;
        }
    return n;
}

// synapse_count() of conv and avg-pool projections against enumeration of every connected (source, target)
// pair, over awkward windows: stride 2 and 3, asymmetric padding, rectangular kernels, ceil_mode overhang.
TEST(SnnModel, SynapseCountMatchesEnumeration) {
    struct Case {
        std::vector<int64_t> in;  // [C, H, W]
        int64_t cout;
        Window2d w;
        bool conv;
    };
    const Case cases[] = {
        {{2, 7, 7}, 3, window(3, 3, 2, 2, 1, 1, 1, 1), true},   {{1, 8, 5}, 2, window(3, 2, 3, 1, 2, 0, 1, 1), true},
        {{3, 5, 9}, 4, window(1, 1, 2, 2, 0, 0, 0, 0), true},   {{2, 6, 6}, 2, window(5, 5, 1, 1, 2, 2, 2, 2), true},
        {{2, 7, 7}, 2, window(3, 3, 2, 2, 1, 1, 1, 1), false},  {{2, 7, 6}, 2, window(2, 2, 2, 2, 0, 0, 0, 0, true), false},
        {{1, 5, 5}, 1, window(3, 3, 2, 2, 0, 0, 0, 0, true), false}, {{3, 4, 4}, 3, window(4, 4, 1, 1, 0, 0, 0, 0), false},
    };
    for (const Case& c : cases) {
        const auto out = window_output_shape("case", c.in, c.cout, c.w, c.conv);
        SnnModel m;
        m.populations.push_back(pop("in", PopulationKind::Input, c.in));
        m.populations.push_back(pop("out", PopulationKind::IF, out));
        m.output = 1;
        Projection p = c.conv ? projection("p", ProjectionKind::Conv, 0, 1, Tensor({c.cout, c.in[0], c.w.kernel_h, c.w.kernel_w}), c.w)
                              : projection("p", ProjectionKind::AvgPool, 0, 1, Tensor({c.in[0]}), c.w);
        m.projections.push_back(p);
        ASSERT_NO_THROW(validate(m, "case"));
        int64_t pairs = 0;
        for (int64_t y = 0; y < c.in[1]; ++y)
            for (int64_t x = 0; x < c.in[2]; ++x) pairs += window_fanout(c.w, y, x, out[1], out[2]);
        // Conv: every input channel reaches every output channel; avg pool: channel to the same channel.
        const int64_t want = c.conv ? pairs * c.in[0] * c.cout : pairs * c.in[0];
        EXPECT_EQ(synapse_count(m, m.projections[0]), want) << shape_str(c.in) << " -> " << shape_str(out);
        EXPECT_EQ(m.synapse_count(), want);
    }
    // Max pooling of currents: one connection per window cell, like average pooling.
    {
        SnnModel m = full_model();
        const Window2d w = m.projections[5].window;
        int64_t pairs = 0;
        for (int64_t y = 0; y < 6; ++y)
            for (int64_t x = 0; x < 6; ++x) pairs += window_fanout(w, y, x, 3, 3);
        EXPECT_EQ(synapse_count(m, m.projections[5]), pairs * 2);
    }
    // Identity: one per neuron; linear: all pairs; the model total is the sum over projections.
    SnnModel m = full_model();
    EXPECT_EQ(synapse_count(m, m.projections[2]), 2 * 3 * 3);
    EXPECT_EQ(synapse_count(m, m.projections[3]), 18 * 4);
    int64_t total = 0;
    for (const auto& p : m.projections) total += synapse_count(m, p);
    EXPECT_EQ(m.synapse_count(), total);
}

// A model using none of version 2's fields is written exactly as the version-1 writer wrote it:
// tests/data/snn/v1_reference.snn was written by neuroemu before issue 19 (tests/data/snn/README.md).
TEST(SnnFormatV2, Version1ModelWritesTheVersion1Bytes) {
    TempFiles tmp;
    const std::string reference = read_bytes(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/snn/v1_reference.snn");
    ASSERT_GT(reference.size(), 21u);
    const SnnModel m = v1_reference::model();
    EXPECT_EQ(snn_format_version(m), 1);
    const std::string& path = tmp.add(temp_path("v1"));
    save_snn(m, path);
    EXPECT_EQ(read_bytes(path), reference);
    expect_same_model(load_snn(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/snn/v1_reference.snn"), m);
    // full_model() too: version 1, none of version 2's keys.
    save_snn(full_model(), path);
    const json header = json::parse(SnnFile::parse(read_bytes(path)).header);
    EXPECT_EQ(header.at("version"), 1);
    for (const char* key : {"fire_above", "dt_s", "discretisation", "source_format", "blob_int32s"})
        EXPECT_FALSE(header.contains(key)) << key;
    EXPECT_FALSE(header.at("populations")[1].contains("neuron"));
    EXPECT_FALSE(header.at("projections")[0].contains("recurrent"));
}

// Each field of version 2 on its own makes the file version 2.
TEST(SnnFormatV2, AnyNewFieldMakesVersion2) {
    const std::vector<std::function<void(SnnModel&)>> edits = {
        [](SnnModel& m) { m.populations[1].neuron.model = "lif", m.dt_s = 1e-3; },
        [](SnnModel& m) { m.populations[1].neuron.r = {2.0f}; },
        [](SnnModel& m) { m.reset = ResetMode::ToValue; },
        [](SnnModel& m) { m.fire_above = true; },
        [](SnnModel& m) { m.dt_s = 1e-3; },
        [](SnnModel& m) { m.discretisation = Discretisation::Exact; },
        [](SnnModel& m) { m.source_format = "nir"; },
        [](SnnModel& m) { m.projections[3].recurrent = true; },
    };
    for (size_t i = 0; i < edits.size(); ++i) {
        SnnModel m = full_model();
        edits[i](m);
        EXPECT_EQ(snn_format_version(m), 2) << i;
    }
    EXPECT_EQ(snn_format_version(v2_model()), 2);
}

// A version 2 model: every field back exactly, the same bytes when saved again, and the integer area laid out
// as documented (little-endian int32 after the floats: sparse_ptr, then sparse_target).
TEST(SnnFormatV2, RoundTripKeepsEveryNewField) {
    TempFiles tmp;
    const SnnModel m = v2_model();
    ASSERT_NO_THROW(validate(m, "v2_model"));
    const std::string& path = tmp.add(temp_path("v2"));
    save_snn(m, path);
    const std::string bytes = read_bytes(path);
    const SnnFile f = SnnFile::parse(bytes);
    const json header = json::parse(f.header);
    EXPECT_EQ(header.at("version"), 2);
    size_t floats = 0;
    for (const auto& p : m.projections) floats += p.weight.data.size();
    const size_t ints = 73 + 144;
    EXPECT_EQ(header.at("blob_floats").get<size_t>(), floats);
    EXPECT_EQ(header.at("blob_int32s").get<size_t>(), ints);
    ASSERT_EQ(f.blob.size(), 4 * (floats + ints));
    const auto int_at = [&](size_t k) {
        const auto* b = reinterpret_cast<const unsigned char*>(f.blob.data() + 4 * (floats + k));
        return static_cast<int32_t>(uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24);
    };
    EXPECT_EQ(int_at(0), 0);
    EXPECT_EQ(int_at(72), 144);            // the last pointer: nnz
    EXPECT_EQ(int_at(73), 0);              // source 0 reaches 0 and 7
    EXPECT_EQ(int_at(74), 7);
    EXPECT_EQ(int_at(73 + 2 * 17 + 1), 17);  // source 17: 6 and 17
    const SnnModel back = load_snn(path);
    expect_same_model(m, back);
    EXPECT_EQ(back.populations[1].neuron, m.populations[1].neuron);
    const std::string& again = tmp.add(temp_path("v2b"));
    save_snn(back, again);
    EXPECT_EQ(read_bytes(again), bytes);
    // Sparse synapses count one per stored synapse; a recurrent linear one per pair.
    EXPECT_EQ(synapse_count(m, m.projections[kSparse]), 144);
    EXPECT_EQ(synapse_count(m, m.projections[kRecurrent]), 16);
}

// Damaged version 2 headers: the error names the file and the field.
TEST(SnnFormatV2, DamagedHeaderNamesTheField) {
    HeaderEditor e(v2_model());
    const auto check = [&e](const std::function<void(json&)>& edit, const std::vector<std::string>& fragments,
                            const std::string& what) { e.check(edit, fragments, what); };
    const std::string sp = "projections[" + std::to_string(kSparse) + "]";
    const std::string sparse = "projection " + std::to_string(kSparse) + " 'sparse'";
    const std::string rec = "projection " + std::to_string(kRecurrent) + " 'rec'";
    check([&](json& h) { h["projections"][kSparse]["sparse_ptr"]["offset"] = 1000; }, {sp + ".sparse_ptr"},
          "pointers past the integer area");
    check([&](json& h) { h["projections"][kSparse]["sparse_target"]["count"] = std::numeric_limits<uint64_t>::max(); },
          {sp + ".sparse_target"}, "absurd target count");
    check([&](json& h) { h["projections"][kSparse]["sparse_ptr"]["count"] = 72; }, {sparse, "sparse_ptr"},
          "one pointer short");
    check([&](json& h) { h["projections"][kSparse].erase("sparse_target"); }, {sp, "sparse_target"},
          "missing targets");
    check([&](json& h) { h["projections"][kRecurrent]["recurrent"] = false; }, {rec, "recurrent"},
          "a cycle not marked recurrent");
    check([&](json& h) { h["projections"][0].erase("recurrent"); }, {"projections[0]", "recurrent"},
          "missing recurrent");
    check([&](json& h) { h["populations"][1].erase("neuron"); }, {"populations[1]", "neuron"}, "missing neuron");
    check([&](json& h) { h["populations"][1]["neuron"]["tau_mem_s"] = {0.1, 0.2, 0.3}; },
          {"population 1 'relu1'", "tau_mem_s", "expected 0, 1 or 2"}, "tau count");
    check([&](json& h) { h["populations"][3]["neuron"]["tau_syn_s"] = {-0.005}; },
          {"population 3 'relu2'", "tau_syn_s", "> 0"}, "negative tau");
    check([&](json& h) { h["populations"][3]["neuron"]["tau_mem_s"] = {0.0}; },
          {"population 3 'relu2'", "tau_mem_s", "> 0"}, "zero tau");
    check([&](json& h) { h["populations"][1]["neuron"]["model"] = ""; }, {"population 1 'relu1'", "neuron.model"},
          "empty model");
    check([&](json& h) { h["populations"][1]["neuron"]["r"] = "one"; }, {"populations[1].neuron", "'r'"},
          "r of the wrong type");
    check([&](json& h) { h["dt_s"] = 0.0; }, {"population 1 'relu1'", "dt_s"}, "no time step for lif");
    check([&](json& h) { h["dt_s"] = -1e-3; }, {"dt_s"}, "negative time step");
    check([&](json& h) { h["discretisation"] = "rk4"; }, {"discretisation", "rk4"}, "unknown discretisation");
    check([&](json& h) { h.erase("blob_int32s"); }, {"blob_int32s"}, "missing blob_int32s");
    check([&](json& h) { h["blob_int32s"] = 216; }, {"blob_int32s"}, "blob_int32s one short");
    check([&](json& h) { h["version"] = 1; }, {"blob_floats"}, "a version 2 file labelled version 1");
}

// Damage to the integer area (the header intact): pointers and targets checked, naming the projection.
TEST(SnnFormatV2, DamagedSparseIndicesNameTheProjection) {
    TempFiles tmp;
    const SnnModel m = v2_model();
    const std::string& path = tmp.add(temp_path("good"));
    save_snn(m, path);
    const SnnFile good = SnnFile::parse(read_bytes(path));
    const size_t floats = json::parse(good.header).at("blob_floats").get<size_t>();
    const std::string& bad = tmp.add(temp_path("bad"));
    const std::string sparse = "projection " + std::to_string(kSparse) + " 'sparse'";
    struct Case {
        size_t index;  // in the integer area: 0..72 pointers, 73.. targets
        int32_t value;
        std::vector<std::string> fragments;
    };
    const std::vector<Case> cases = {
        {0, 1, {"sparse_ptr must run from 0"}},
        {72, 143, {"sparse_ptr must run from 0"}},
        {5, 20, {"sparse_ptr decreases"}},
        {73, 18, {"sparse_target[0] = 18"}},
        {73, -1, {"sparse_target[0] = -1"}},
        {74, 0, {"not strictly ascending"}},
    };
    for (const Case& c : cases) {
        SnnFile f = good;
        for (int i = 0; i < 4; ++i)
            f.blob[4 * (floats + c.index) + static_cast<size_t>(i)] = static_cast<char>(static_cast<uint32_t>(c.value) >> (8 * i));
        write_bytes(bad, f.bytes());
        const std::string err = load_error(bad);
        EXPECT_THAT(err, AllOf(HasSubstr(bad), HasSubstr(sparse))) << c.index;
        for (const auto& frag : c.fragments) EXPECT_THAT(err, HasSubstr(frag)) << c.index;
    }
    // Cut anywhere in the integer area, or one int too many.
    const std::string bytes = good.bytes();
    for (size_t cut : {bytes.size() - 1, bytes.size() - 4, bytes.size() - 4 * 100}) {
        write_bytes(bad, bytes.substr(0, cut));
        EXPECT_THAT(load_error(bad), AllOf(HasSubstr(bad), HasSubstr("blob_int32s"))) << cut;
    }
    write_bytes(bad, bytes + std::string(4, '\0'));
    EXPECT_THAT(load_error(bad), HasSubstr("blob_int32s"));
}

// validate() on the new fields directly: sparse arrays only on sparse projections, a cycle only when
// recurrent, a neuron model other than `if` only with a time step.
TEST(SnnFormatV2, ValidateNamesWhatIsWrong) {
    auto error = [](const SnnModel& m) {
        try {
            validate(m, "here");
        } catch (const ModelError& e) {
            return std::string(e.what());
        }
        return std::string("NO ERROR");
    };
    EXPECT_EQ(error(v2_model()), "NO ERROR");
    {
        SnnModel m = v2_model();
        m.projections[3].sparse_ptr = {0};
        EXPECT_THAT(error(m), AllOf(HasSubstr("projection 3 'fc'"), HasSubstr("sparse")));
    }
    {
        SnnModel m = v2_model();
        m.projections[kSparse].weight = Tensor({143});
        EXPECT_THAT(error(m), HasSubstr("'sparse'"));
    }
    {
        SnnModel m = v2_model();
        m.projections[kRecurrent].recurrent = false;
        EXPECT_THAT(error(m), AllOf(HasSubstr("'rec'"), HasSubstr("recurrent")));
    }
    {
        SnnModel m = v2_model();  // a recurrent projection may also go forwards
        m.projections[3].recurrent = true;
        EXPECT_EQ(error(m), "NO ERROR");
    }
    {
        SnnModel m = v2_model();
        m.dt_s = 0;
        EXPECT_THAT(error(m), AllOf(HasSubstr("population 1 'relu1'"), HasSubstr("dt_s")));
    }
    {
        SnnModel m = v2_model();
        m.populations[1].neuron.v_reset = {std::nanf("")};
        EXPECT_THAT(error(m), AllOf(HasSubstr("population 1 'relu1'"), HasSubstr("v_reset")));
    }
}

}  // namespace
}  // namespace neuroemu
