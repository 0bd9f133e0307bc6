// Run-time instruction-set dispatch (common/isa.h): the generic, AVX2 and AVX-512 kernels of the spiking engine
// must give the same bits. The shipped ResNet-20 runs once per path the CPU supports; every spike (image, step,
// population, neuron), every step's decision, the SOP counts and the probed membrane potentials (compared as
// bit patterns) must match the generic path's exactly. Paths the CPU lacks are skipped, and said so.
#include <gtest/gtest.h>

#include <cstring>
#include <tuple>

#include "common/error.h"
#include "common/isa.h"
#include "convert/convert.h"
#include "data/idx_dataset.h"
#include "model/onnx_import.h"
#include "sim/ann_engine.h"
#include "sim/snn_engine.h"

namespace neuroemu {
namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist/";

// Everything the engine produced, in order.
struct Record : SpikeObserver {
    std::vector<std::tuple<int64_t, int64_t, int, int32_t, int32_t, int32_t>> spike;
    std::vector<std::tuple<int64_t, int64_t, bool>> hit;
    std::vector<std::tuple<int64_t, int64_t, int, int64_t>> sops;
    void spikes(int64_t image, int64_t step, int pop, const SpikeEvent* e, size_t n) override {
        for (size_t i = 0; i < n; ++i) spike.emplace_back(image, step, pop, e[i].c, e[i].y, e[i].x);
    }
    void step_done(int64_t image, int64_t step, bool label_hit) override { hit.emplace_back(image, step, label_hit); }
    void projection_sops(int64_t image, int64_t step, int projection, int64_t n) override {
        sops.emplace_back(image, step, projection, n);
    }
};

std::vector<uint32_t> bits(const std::vector<float>& v) {
    std::vector<uint32_t> out(v.size());
    if (!v.empty()) std::memcpy(out.data(), v.data(), v.size() * sizeof(float));
    return out;
}

struct IsaRun {
    Record record;
    SnnResult result;
};

IsaRun run_with(Isa isa, const SnnEngine& engine, const ImageSet& set, const SnnModel& m) {
    set_active_isa(isa);
    IsaRun r;
    SnnOptions o;
    o.steps = 16;
    o.threads = 1;
    o.observer = &r.record;
    // Three neurons of every population (16, 32 and 64-channel convolutions: each kernel width), as many as it has.
    for (size_t p = 1; p < m.populations.size(); ++p)
        for (int64_t n : {0, 37, 63})
            if (n < m.populations[p].size()) o.probes.push_back({static_cast<int>(p), n});
    r.result = engine.evaluate(set, {}, o);
    set_active_isa(best_isa());
    return r;
}

TEST(IsaDispatch, EveryPathGivesTheGenericPathsBitsOnTheShippedResNet20) {
    const Network ann = fold_batchnorm(import_onnx_file(std::string(NEUROEMU_SOURCE_DIR) + "/models/resnet20_fmnist.onnx"));
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 3);
    const SnnModel m = build_snn(ann, calibrate(ann, set, {}, 99.9, false, 1), ConversionOptions{});
    const SnnEngine engine(m);
    const IsaRun generic = run_with(Isa::Generic, engine, set, m);
    ASSERT_GT(generic.record.spike.size(), 1000u);  // enough spikes through every conv width to mean something
    int compared = 0;
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        IsaRun other;
        try {
            other = run_with(isa, engine, set, m);
        } catch (const ConfigError& e) {
            std::printf("skipped %s: %s\n", isa_name(isa), e.what());
            continue;
        }
        ++compared;
        SCOPED_TRACE(isa_name(isa));
        EXPECT_TRUE(other.record.spike == generic.record.spike);
        EXPECT_TRUE(other.record.hit == generic.record.hit);
        EXPECT_TRUE(other.record.sops == generic.record.sops);
        EXPECT_EQ(other.result.correct_at_step, generic.result.correct_at_step);
        EXPECT_EQ(other.result.spikes, generic.result.spikes);
        EXPECT_EQ(other.result.sops, generic.result.sops);
        EXPECT_EQ(bits(other.result.probe.v), bits(generic.result.probe.v));
        EXPECT_EQ(other.result.probe.spiked, generic.result.probe.spiked);
    }
    if (compared == 0) GTEST_SKIP() << "this CPU has only the generic path";
}

// The ANN engine's convolution kernels likewise: the shipped ResNet-20's logits, as bit patterns, on every path
// (the tiling, chosen when the engine is built, follows the instruction set too).
TEST(IsaDispatch, TheAnnEngineGivesTheSameLogitsOnEveryPath) {
    const Network ann = fold_batchnorm(import_onnx_file(std::string(NEUROEMU_SOURCE_DIR) + "/models/resnet20_fmnist.onnx"));
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 8);
    AnnOptions o;
    o.threads = 1;
    o.keep_logits = true;
    auto logits = [&](Isa isa) {
        set_active_isa(isa);
        const AnnEngine engine(ann);
        const AnnResult r = engine.evaluate(set, {}, o);
        set_active_isa(best_isa());
        return bits(r.logits);
    };
    const std::vector<uint32_t> generic = logits(Isa::Generic);
    ASSERT_EQ(generic.size(), 80u);
    int compared = 0;
    for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        std::vector<uint32_t> other;
        try {
            other = logits(isa);
        } catch (const ConfigError& e) {
            std::printf("skipped %s: %s\n", isa_name(isa), e.what());
            continue;
        }
        ++compared;
        EXPECT_EQ(other, generic) << isa_name(isa);
    }
    if (compared == 0) GTEST_SKIP() << "this CPU has only the generic path";
}

TEST(IsaDispatch, UnknownOrUnsupportedNamesAreClearErrors) {
    EXPECT_EQ(parse_isa("generic", "x"), Isa::Generic);
    EXPECT_EQ(parse_isa("auto", "x"), best_isa());
    try {
        parse_isa("sse9", "environment variable NEUROEMU_ISA");
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("NEUROEMU_ISA: unknown instruction set 'sse9'"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace neuroemu
