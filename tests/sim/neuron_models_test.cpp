// NIR's neuron models (sim/neuron/), Sparse and recurrent projections and probes in the spiking engine, against
// independent references: closed-form solutions of the LIF equation, hand-computed steps (written out in the
// comments; the values are dyadic, so exact in float), snnTorch's Synaptic recurrence, and the same connectivity
// expressed as another projection kind.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "common/error.h"
#include "sim/neuron/neuron.h"
#include "sim/snn_engine.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

// An [n] input, a Linear projection of `w` ([out][n]) onto population 1 of `out` neurons with model `model`.
SnnModel chain(const std::string& model, std::vector<float> w, int64_t out, float threshold = 1.0f) {
    SnnModel m;
    m.name = "t";
    const int64_t n = static_cast<int64_t>(w.size()) / out;
    m.populations.push_back(input_pop({n}));
    Population p = if_pop("p", {out});
    p.threshold = {threshold};
    p.neuron.model = model;
    m.populations.push_back(p);
    Tensor t({out, n});
    t.data = std::move(w);
    m.projections.push_back(projection("in", ProjectionKind::Linear, 0, 1, t));
    m.output = 1;
    return m;
}

// Steps `stepper` once with input neurons `in` spiking.
void step(SnnStepper& s, std::vector<int32_t> in) { s.step(in.data(), in.size()); }

std::vector<double> lif_input() {
    std::ifstream f(std::string(NEUROEMU_SOURCE_DIR) + "/tests/data/nir/lif_input_spikes.txt");
    std::vector<double> out;
    for (double x; f >> x;) out.push_back(x);
    return out;
}

// lif_norse.nir built in code: input [1] -> Linear w=1 -> LIF tau 2.5 ms, r 1, v_leak 0, threshold 0.1, v_reset 0,
// fire above the threshold, dt 0.1 ms.
SnnModel lif_norse(Discretisation d) {
    SnnModel m = chain("lif", {1.0f}, 1, 0.1f);
    auto& nr = m.populations[1].neuron;
    nr.tau_mem_s = {0.0025f}, nr.r = {1.0f}, nr.v_leak = {0.0f}, nr.v_reset = {0.0f};
    m.reset = ResetMode::ToValue, m.fire_above = true, m.dt_s = 1e-4, m.discretisation = d;
    m.output = 1;
    return m;
}

struct Trace {
    std::vector<double> v;
    std::vector<int> spikes;  // steps (1-based)
};

// The engine's trace of lif_norse driven by the input file, step by step.
Trace engine_lif(Discretisation d, const std::vector<double>& input) {
    SnnEngine engine(lif_norse(d));
    SnnStepper s(engine);
    Trace t;
    for (size_t n = 0; n < input.size(); ++n) {
        step(s, input[n] > 0 ? std::vector<int32_t>(static_cast<size_t>(input[n]), 0) : std::vector<int32_t>{});
        t.v.push_back(s.potential(1, 0));
        if (s.spike_count(1)) t.spikes.push_back(static_cast<int>(n + 1));
    }
    return t;
}

// The closed-form solution between resets: with k the last reset step (v_k = v_reset) or 0 (v_0 = 0),
// v_n = v_leak + (v_k - v_leak) a^{n-k} + sum_{j=k+1..n} b I_j a^{n-j}, in double; a spike when v_n > theta.
Trace closed_form(double a, double b, const std::vector<double>& input) {
    const double v_leak = 0, theta = 0.1, v_reset = 0;
    Trace t;
    size_t k = 0;
    double vk = 0;
    for (size_t n = 1; n <= input.size(); ++n) {
        double v = v_leak + (vk - v_leak) * std::pow(a, static_cast<double>(n - k));
        for (size_t j = k + 1; j <= n; ++j) v += b * input[j - 1] * std::pow(a, static_cast<double>(n - j));
        if (v > theta) {
            t.spikes.push_back(static_cast<int>(n));
            v = v_reset, k = n, vk = v_reset;
        }
        t.v.push_back(v);
    }
    return t;
}

// v within 1e-5 of the closed form at every step: the engine's state is float32 (about 1e-8 relative rounding
// per step on potentials below 0.2, over 1000 steps), the reference double.
void expect_matches(const Trace& engine, const Trace& ref) {
    ASSERT_EQ(engine.v.size(), ref.v.size());
    for (size_t n = 0; n < ref.v.size(); ++n) ASSERT_NEAR(engine.v[n], ref.v[n], 1e-5) << "step " << n + 1;
    EXPECT_EQ(engine.spikes, ref.spikes);
}

TEST(NeuronModels, LifExactMatchesTheClosedFormAndCrossesInsideTheSpikingStep) {
    const auto input = lif_input();
    ASSERT_EQ(input.size(), 1000u);
    const double dt = 1e-4, tau = 0.0025, a = std::exp(-dt / tau), b = 1.0 * (1 - a);
    const Trace ref = closed_form(a, b, input), engine = engine_lif(Discretisation::Exact, input);
    ASSERT_FALSE(ref.spikes.empty()) << "the input should make the neuron fire";
    expect_matches(engine, ref);
    // The continuous solution over a spiking step n from v_{n-1} with I_n held: v(t) = v_inf + (v_{n-1} - v_inf)
    // e^{-t/tau}, v_inf = v_leak + r I_n; it reaches theta at t* = -tau ln((theta - v_inf) / (v_{n-1} - v_inf)).
    for (int n : engine.spikes) {
        const double before = n >= 2 ? ref.v[static_cast<size_t>(n - 2)] : 0.0, v_inf = input[static_cast<size_t>(n - 1)];
        ASSERT_GT(v_inf, 0.1) << "a spiking step must be driven above the threshold";
        const double t_cross = -tau * std::log((0.1 - v_inf) / (before - v_inf));
        EXPECT_GT(t_cross, 0.0) << "step " << n;
        EXPECT_LE(t_cross, dt) << "step " << n;
    }
}

TEST(NeuronModels, LifEulerMatchesTheClosedFormAndDiffersFromExact) {
    const auto input = lif_input();
    const double dt = 1e-4, tau = 0.0025;
    const Trace ref = closed_form(1 - dt / tau, dt / tau, input), euler = engine_lif(Discretisation::Euler, input);
    ASSERT_FALSE(ref.spikes.empty());
    expect_matches(euler, ref);
    const Trace exact = engine_lif(Discretisation::Exact, input);
    double most = 0;
    for (size_t n = 0; n < euler.v.size(); ++n) most = std::max(most, std::fabs(euler.v[n] - exact.v[n]));
    // One input spike moves v by dt/tau = 0.04 (Euler) or 1 - e^{-0.04} = 0.0392 (exact): 2% apart.
    EXPECT_GT(most, 5e-4) << "Euler and exact should differ well beyond the tolerance";
    std::cout << "Euler vs exact: largest |v difference| " << most << ", spikes " << euler.spikes.size() << " vs "
              << exact.spikes.size() << "\n";
}

// A (pop 1) and B (pop 2), IF, threshold 1, reset by subtraction, the input spiking every step into A (w 1),
// A -> B forward (w 1), B -> A recurrent (w -0.5):
//   step 1: A = 0 + 1 = 1 -> fires, 0;           B = 1 -> fires, 0   (B's spike reaches A only in step 2)
//   step 2: A = 0 + 1 - 0.5 = 0.5;               B = 0
//   step 3: A = 0.5 + 1 = 1.5 -> fires, 0.5;     B = 1 -> fires, 0
//   step 4: A = 0.5 + 1 - 0.5 = 1 -> fires, 0;   B fires
//   step 5: as step 2; then steps 3, 4, 5 repeat.
SnnModel two_neurons(bool forward_recurrent) {
    SnnModel m;
    m.name = "two";
    m.populations = {input_pop({1}), if_pop("A", {1}), if_pop("B", {1})};
    m.projections.push_back(projection("in", ProjectionKind::Linear, 0, 1, Tensor({1, 1}, {1.0f})));
    Projection back = projection("BA", ProjectionKind::Linear, 2, 1, Tensor({1, 1}, {-0.5f}));
    back.recurrent = true;
    m.projections.push_back(back);
    m.projections.push_back(projection("AB", ProjectionKind::Linear, 1, 2, Tensor({1, 1}, {1.0f})));
    m.projections.back().recurrent = forward_recurrent;
    m.output = 2;
    return m;
}

TEST(NeuronModels, RecurrentProjectionDeliversOneStepLater) {
    SnnEngine engine(two_neurons(false));
    SnnStepper s(engine);
    const std::vector<float> va = {0, 0.5f, 0.5f, 0, 0.5f, 0.5f, 0};
    const std::vector<int> fa = {1, 0, 1, 1, 0, 1, 1}, fb = fa;
    for (size_t t = 0; t < va.size(); ++t) {
        step(s, {0});
        EXPECT_EQ(s.potential(1, 0), va[t]) << "step " << t + 1;
        EXPECT_EQ(static_cast<int>(s.spike_count(1)), fa[t]) << "step " << t + 1;
        EXPECT_EQ(static_cast<int>(s.spike_count(2)), fb[t]) << "step " << t + 1;
        EXPECT_EQ(s.projection_sops()[1], t == 0 ? 0 : fb[t - 1]) << "B -> A carries B's previous spike";
    }
}

// The same with A -> B recurrent too (source < target): B gets A's spike of step t in step t + 1.
//   step 1: A fires (1 -> 0); B = 0.            step 2: A = 1 -> fires, 0 (B did not fire); B = 1 -> fires
//   step 3: A = 0 + 1 - 0.5 = 0.5; B = 1 (A fired in step 2) -> fires.   step 4: A = 0.5 + 1 - 0.5 = 1 -> fires; B = 0
//   step 5: A = 0 + 1 = 1 -> fires; B = 1 -> fires
TEST(NeuronModels, RecurrentProjectionForwardInTheOrderIsDelayedToo) {
    SnnEngine engine(two_neurons(true));
    SnnStepper s(engine);
    const std::vector<int> fa = {1, 1, 0, 1, 1}, fb = {0, 1, 1, 0, 1};
    const std::vector<float> va = {0, 0, 0.5f, 0, 0};
    for (size_t t = 0; t < fa.size(); ++t) {
        step(s, {0});
        EXPECT_EQ(static_cast<int>(s.spike_count(1)), fa[t]) << "step " << t + 1;
        EXPECT_EQ(static_cast<int>(s.spike_count(2)), fb[t]) << "step " << t + 1;
        EXPECT_EQ(s.potential(1, 0), va[t]) << "step " << t + 1;
    }
}

// One IF neuron inhibiting itself (w -0.5), driven by 1 each step: fires in steps 1, 3, 4, 6, 7 with v after the
// step 0, 0.5, 0.5, 0, 0.5, 0.5, 0 (as A above). Reset() forgets the last spike: step 1 again.
TEST(NeuronModels, SelfRecurrence) {
    SnnModel m = chain("if", {1.0f}, 1);
    Projection self = projection("self", ProjectionKind::Linear, 1, 1, Tensor({1, 1}, {-0.5f}));
    self.recurrent = true;
    m.projections.push_back(self);
    SnnEngine engine(m);
    SnnStepper s(engine);
    const std::vector<float> v = {0, 0.5f, 0.5f, 0, 0.5f, 0.5f, 0};
    for (int round = 0; round < 2; ++round) {
        for (size_t t = 0; t < v.size(); ++t) {
            step(s, {0});
            EXPECT_EQ(s.potential(1, 0), v[t]) << "step " << t + 1;
        }
        s.reset();
    }
}

TEST(NeuronModels, NonRecurrentBackwardProjectionIsRejected) {
    SnnModel m = chain("if", {1.0f}, 1);
    m.projections.push_back(projection("self", ProjectionKind::Linear, 1, 1, Tensor({1, 1}, {-0.5f})));
    EXPECT_THROW(SnnEngine{m}, ModelError);
}

// snnTorch's Synaptic as it exports to NIR (alpha 0.9, beta 0.8, dt 1 ms: tau_syn = dt/(1 - alpha), tau_mem =
// dt/(1 - beta), r = tau_mem/dt, w_in = tau_syn/dt), its recurrence written independently:
// syn = alpha syn + x; mem = beta mem + syn; a spike when mem > threshold, then mem to 0 (NIR's reset in the same
// step; snnTorch itself subtracts one step later, which NIR does not carry).
TEST(NeuronModels, CubaLifFollowsSnntorchSynaptic) {
    const double alpha = 0.9, beta = 0.8, dt = 1e-3;
    std::mt19937 rng(7);
    std::vector<float> w(3);
    for (float& x : w) x = std::uniform_real_distribution<float>(0.05f, 0.4f)(rng);
    SnnModel m = chain("cuba_lif", w, 1, 1.5f);
    auto& nr = m.populations[1].neuron;
    nr.tau_syn_s = {static_cast<float>(dt / (1 - alpha))}, nr.tau_mem_s = {static_cast<float>(dt / (1 - beta))};
    nr.r = {static_cast<float>(1 / (1 - beta))}, nr.w_in = {static_cast<float>(1 / (1 - alpha))};
    m.dt_s = dt, m.reset = ResetMode::ToValue, m.fire_above = true;
    SnnEngine engine(m);
    SnnStepper s(engine);
    double syn = 0, mem = 0;
    int spikes = 0;
    std::bernoulli_distribution on(0.3);
    for (int t = 1; t <= 300; ++t) {
        std::vector<int32_t> in;
        double x = 0;
        for (int32_t j = 0; j < 3; ++j)
            if (on(rng)) in.push_back(j), x += w[static_cast<size_t>(j)];
        step(s, in);
        syn = alpha * syn + x;
        mem = beta * mem + syn;
        const bool fired = mem > 1.5;
        if (fired) mem = 0, ++spikes;
        ASSERT_EQ(s.spike_count(1), fired ? 1u : 0u) << "step " << t;
        ASSERT_NEAR(s.synaptic_current(1, 0), syn, 1e-5 * std::max(1.0, std::fabs(syn))) << "step " << t;
        ASSERT_NEAR(s.potential(1, 0), mem, 1e-5 * std::max(1.0, std::fabs(mem))) << "step " << t;
    }
    EXPECT_GT(spikes, 5);
    EXPECT_EQ(engine.model().populations[1].neuron.model, "cuba_lif");
}

// threshold 0.5, w (0.5, 0.25): stateless, v = this step's input. fire_above: 0.5 does not fire, 0.75 does.
TEST(NeuronModels, ThresholdIsStateless) {
    for (bool above : {true, false}) {
        SnnModel m = chain("threshold", {0.5f, 0.25f}, 1, 0.5f);
        m.fire_above = above;
        SnnEngine engine(m);
        SnnStepper s(engine);
        const std::vector<std::vector<int32_t>> in = {{0}, {0, 1}, {}, {1}};
        const std::vector<float> v = {0.5f, 0.75f, 0, 0.25f};
        const std::vector<size_t> fired = {above ? 0u : 1u, 1, 0, 0};
        for (size_t t = 0; t < in.size(); ++t) {
            step(s, in[t]);
            EXPECT_EQ(s.potential(1, 0), v[t]) << t;
            EXPECT_EQ(s.spike_count(1), fired[t]) << t;
        }
    }
}

// li, Euler, tau = 4 dt, r 2, v_leak 1: v_n = 0.75 v + 0.25 (1 + 2 I_n). I = 1, 0, 1 (w 1):
//   0.75;  0.5625 + 0.25 = 0.8125;  0.609375 + 0.75 = 1.359375 (above the threshold 0.5 all along: li never fires).
TEST(NeuronModels, LiIntegratesWithLeakAndNeverFires) {
    SnnModel m = chain("li", {1.0f}, 1, 0.5f);
    m.populations[1].neuron.tau_mem_s = {4e-3f}, m.populations[1].neuron.r = {2.0f}, m.populations[1].neuron.v_leak = {1.0f};
    m.populations[1].spiking = false;
    m.dt_s = 1e-3;
    SnnEngine engine(m);
    SnnStepper s(engine);
    const std::vector<float> v = {0.75f, 0.8125f, 1.359375f};
    const std::vector<std::vector<int32_t>> in = {{0}, {}, {0}};
    for (size_t t = 0; t < v.size(); ++t) {
        step(s, in[t]);
        EXPECT_NEAR(s.potential(1, 0), v[t], 1e-6) << t;
        EXPECT_EQ(s.spike_count(1), 0u);
    }
    // Exact: step 1 from v 0 with v_inf = 1 + 2 = 3: v = 3 (1 - e^{-1/4}).
    m.discretisation = Discretisation::Exact;
    SnnEngine exact(m);
    SnnStepper e(exact);
    step(e, {0});
    EXPECT_NEAR(e.potential(1, 0), 3 * (1 - std::exp(-0.25)), 1e-6);
}

// cuba_li, tau_syn 2 dt, tau_mem 4 dt, w_in 2, r 1: I_n = 0.5 I + 1 S_n, v_n = 0.75 v + 0.25 I_n. S = 1, 0, 0:
//   I = 1, 0.5, 0.25;  v = 0.25, 0.1875 + 0.125 = 0.3125, 0.234375 + 0.0625 = 0.296875.
TEST(NeuronModels, CubaLiIntegratesTheSynapticCurrentFirst) {
    SnnModel m = chain("cuba_li", {1.0f}, 1, 0.1f);
    auto& nr = m.populations[1].neuron;
    nr.tau_syn_s = {2e-3f}, nr.tau_mem_s = {4e-3f}, nr.w_in = {2.0f};
    m.populations[1].spiking = false;
    m.dt_s = 1e-3;
    SnnEngine engine(m);
    SnnStepper s(engine);
    const std::vector<float> i = {1, 0.5f, 0.25f}, v = {0.25f, 0.3125f, 0.296875f};
    for (size_t t = 0; t < v.size(); ++t) {
        step(s, t == 0 ? std::vector<int32_t>{0} : std::vector<int32_t>{});
        EXPECT_NEAR(s.synaptic_current(1, 0), i[t], 1e-6) << t;
        EXPECT_NEAR(s.potential(1, 0), v[t], 1e-6) << t;
        EXPECT_EQ(s.spike_count(1), 0u);
    }
    s.reset();
    EXPECT_EQ(s.synaptic_current(1, 0), 0.0f);
}

// if, threshold 1, reset to 0.25, input 0.5 each step: v = 0.5, 1 (fires only when v >= 1 counts: not under
// fire_above), 1.5 -> fires, 0.25; 0.75; 1.25 -> fires, 0.25. Without fire_above: step 2 fires (0.25), then 0.75,
// 1.25 -> 0.25, 0.75.
TEST(NeuronModels, IfResetsToValueAndFiresAboveTheThreshold) {
    for (bool above : {true, false}) {
        SnnModel m = chain("if", {0.5f}, 1);
        m.populations[1].neuron.v_reset = {0.25f};
        m.reset = ResetMode::ToValue, m.fire_above = above;
        SnnEngine engine(m);
        SnnStepper s(engine);
        const std::vector<float> v = above ? std::vector<float>{0.5f, 1, 0.25f, 0.75f, 0.25f}
                                           : std::vector<float>{0.5f, 0.25f, 0.75f, 0.25f, 0.75f};
        const std::vector<size_t> f = above ? std::vector<size_t>{0, 0, 1, 0, 1} : std::vector<size_t>{0, 1, 0, 1, 0};
        for (size_t t = 0; t < v.size(); ++t) {
            step(s, {0});
            EXPECT_EQ(s.potential(1, 0), v[t]) << above << " step " << t + 1;
            EXPECT_EQ(s.spike_count(1), f[t]) << above << " step " << t + 1;
        }
    }
}

TEST(NeuronModels, BadModelsAreModelErrors) {
    auto message = [](const SnnModel& m) {
        try {
            SnnEngine e(m);
        } catch (const ModelError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    SnnModel m = chain("lif_typo", {1.0f}, 1);
    EXPECT_NE(message(m).find("population 1 'p'"), std::string::npos) << message(m);
    EXPECT_NE(message(m).find("lif_typo"), std::string::npos) << message(m);
    m = chain("lif", {1.0f}, 1);
    m.populations[1].neuron.tau_mem_s = {1e-3f};
    EXPECT_NE(message(m).find("dt_s"), std::string::npos) << message(m);  // dt_s 0
    m.dt_s = 1e-4;
    m.populations[1].neuron.tau_mem_s = {-1e-3f};
    EXPECT_NE(message(m).find("tau_mem_s"), std::string::npos) << message(m);
    m.populations[1].neuron.tau_mem_s = {};
    EXPECT_NE(message(m).find("tau_mem_s"), std::string::npos) << message(m);
    m = chain("cuba_lif", {1.0f}, 1);
    m.populations[1].neuron.tau_mem_s = {1e-3f}, m.populations[1].neuron.tau_syn_s = {1e-3f};
    m.dt_s = 1e-4;
    EXPECT_EQ(message(m), "no error");
    m.discretisation = Discretisation::Exact;
    EXPECT_NE(message(m).find("exact discretisation is implemented for lif and li"), std::string::npos) << message(m);
}

TEST(NeuronModels, StateUpdatesPerNeuron) {
    for (const char* name : {"if", "lif", "li", "threshold"}) EXPECT_EQ(neuron_models().make(name)->state_updates(), 1) << name;
    for (const char* name : {"cuba_lif", "cuba_li"}) EXPECT_EQ(neuron_models().make(name)->state_updates(), 2) << name;
}

// Random binary images (pixels 0 or 255: Poisson spikes certain or impossible).
ImageSet binary_images(int64_t count, int64_t c, int64_t h, int64_t w, uint32_t seed) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution on(0.5);
    ImageSet s;
    s.count = count, s.channels = c, s.height = h, s.width = w;
    s.pixels.resize(static_cast<size_t>(count * c * h * w));
    for (auto& p : s.pixels) p = on(rng) ? 255 : 0;
    s.labels.assign(static_cast<size_t>(count), 0);
    return s;
}

float dyadic(std::mt19937& rng) { return static_cast<float>(std::uniform_int_distribution<int>(-8, 16)(rng)) / 16.0f; }

// input [2, 3, 3] -> (conv 2x2 to [2, 2, 2], or its synapses listed as Sparse) -> IF -> Linear [4] -> IF.
SnnModel conv_or_sparse(bool sparse) {
    std::mt19937 rng(3);
    SnnModel m;
    m.name = sparse ? "sparse" : "conv";
    m.populations = {input_pop({2, 3, 3}), if_pop("a", {2, 2, 2}), if_pop("b", {4})};
    m.populations[1].threshold = {0.75f};
    Tensor k({2, 2, 2, 2});
    for (float& x : k.data) x = dyadic(rng);
    Projection conv = projection("c", ProjectionKind::Conv, 0, 1, k, window(2, 1, 0));
    if (sparse) {  // the conv's synapses by brute force, [C][H][W] indices, ascending per source
        Projection p = projection("c", ProjectionKind::Sparse, 0, 1, Tensor({0}));
        std::vector<std::vector<std::pair<int32_t, float>>> out(18);
        for (int co = 0; co < 2; ++co)
            for (int oy = 0; oy < 2; ++oy)
                for (int ox = 0; ox < 2; ++ox)
                    for (int ci = 0; ci < 2; ++ci)
                        for (int ky = 0; ky < 2; ++ky)
                            for (int kx = 0; kx < 2; ++kx)
                                out[static_cast<size_t>(ci * 9 + (oy + ky) * 3 + ox + kx)].push_back(
                                    {co * 4 + oy * 2 + ox, k.data[static_cast<size_t>(((co * 2 + ci) * 2 + ky) * 2 + kx)]});
        p.sparse_ptr.push_back(0);
        std::vector<float> w;
        for (auto& syn : out) {
            std::sort(syn.begin(), syn.end());
            for (auto& [t, x] : syn) p.sparse_target.push_back(t), w.push_back(x);
            p.sparse_ptr.push_back(static_cast<int32_t>(p.sparse_target.size()));
        }
        p.weight = Tensor({static_cast<int64_t>(w.size())}, w);
        conv = p;
    }
    m.projections.push_back(conv);
    Tensor l({4, 8});
    for (float& x : l.data) x = dyadic(rng);
    m.projections.push_back(projection("l", ProjectionKind::Linear, 1, 2, l));
    m.output = 2;
    return m;
}

SnnOptions poisson_options(int threads) {
    SnnOptions o;
    o.steps = 20;
    o.encoding = make_input_encoding("poisson");
    o.threads = threads;
    return o;
}

TEST(NeuronModels, SparseEqualsTheSameConnectivityAsConv) {
    const ImageSet images = binary_images(6, 2, 3, 3, 11);
    SnnResult r[2];
    for (int sparse = 0; sparse < 2; ++sparse) r[sparse] = SnnEngine(conv_or_sparse(sparse)).evaluate(images, {}, poisson_options(1));
    EXPECT_GT(r[0].populations[1].spikes, 0);
    EXPECT_GT(r[0].populations[2].spikes, 0);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r[1].populations[i].spikes, r[0].populations[i].spikes) << i;
    for (size_t k = 0; k < 2; ++k) {
        EXPECT_EQ(r[1].projections[k].sops, r[0].projections[k].sops) << k;
        EXPECT_EQ(r[1].projections[k].synapses, r[0].projections[k].synapses) << k;
    }
    EXPECT_EQ(r[1].correct_at_step, r[0].correct_at_step);
}

// Sparse against Linear: a Linear [3][18] from the input, with every synapse listed (SOPs count reached synapses).
TEST(NeuronModels, SparseEqualsTheSameConnectivityAsLinear) {
    std::mt19937 rng(5);
    SnnModel lin;
    lin.name = "lin";
    lin.populations = {input_pop({2, 3, 3}), if_pop("a", {3})};
    Tensor w({3, 18});
    for (float& x : w.data) x = dyadic(rng);
    lin.projections.push_back(projection("l", ProjectionKind::Linear, 0, 1, w));
    lin.output = 1;
    SnnModel sp = lin;
    Projection& p = sp.projections[0];
    p.kind = ProjectionKind::Sparse;
    p.sparse_ptr = {0};
    std::vector<float> sw;
    for (int32_t s = 0; s < 18; ++s) {
        for (int32_t t = 0; t < 3; ++t) p.sparse_target.push_back(t), sw.push_back(w.data[static_cast<size_t>(t * 18 + s)]);
        p.sparse_ptr.push_back(static_cast<int32_t>(p.sparse_target.size()));
    }
    p.weight = Tensor({54}, sw);
    const ImageSet images = binary_images(5, 2, 3, 3, 13);
    const SnnResult a = SnnEngine(lin).evaluate(images, {}, poisson_options(1));
    const SnnResult b = SnnEngine(sp).evaluate(images, {}, poisson_options(1));
    EXPECT_GT(a.populations[1].spikes, 0);
    EXPECT_EQ(a.populations[1].spikes, b.populations[1].spikes);
    EXPECT_EQ(a.projections[0].sops, b.projections[0].sops);
    p.sparse_target[3] = 7;  // outside the target's 3 neurons
    EXPECT_THROW(SnnEngine{sp}, ModelError);
}

// input [1, 2, 2] -> lif [3] -> cuba_lif [2] with a recurrent self-projection; probes on both.
SnnModel probed_model() {
    SnnModel m;
    m.name = "probed";
    m.populations = {input_pop({1, 2, 2}), if_pop("l", {3}), if_pop("c", {2})};
    m.populations[1].neuron.model = "lif", m.populations[1].neuron.tau_mem_s = {5e-3f};
    m.populations[1].threshold = {0.3f};
    m.populations[2].neuron.model = "cuba_lif";
    m.populations[2].neuron.tau_mem_s = {4e-3f}, m.populations[2].neuron.tau_syn_s = {2e-3f};
    m.populations[2].threshold = {0.2f};
    m.dt_s = 1e-3, m.reset = ResetMode::ToValue, m.fire_above = true;
    std::mt19937 rng(9);
    Tensor a({3, 4}), b({2, 3}), r({2, 2});
    for (float& x : a.data) x = dyadic(rng) + 0.5f;
    for (float& x : b.data) x = dyadic(rng) + 0.5f;
    for (float& x : r.data) x = dyadic(rng);
    m.projections.push_back(projection("a", ProjectionKind::Linear, 0, 1, a));
    m.projections.push_back(projection("b", ProjectionKind::Linear, 1, 2, b));
    m.projections.push_back(projection("r", ProjectionKind::Linear, 2, 2, r));
    m.projections.back().recurrent = true;
    m.output = 2;
    return m;
}

TEST(NeuronModels, ProbesAreThreadIndependentAndMatchTheStepper) {
    const SnnModel model = probed_model();
    ImageSet images = binary_images(4, 1, 2, 2, 17);
    for (size_t j : {8, 10, 11}) images.pixels[j] = 255;  // image 2 drives the network
    SnnEngine engine(model);
    SnnOptions o = poisson_options(1);
    o.probes = {{1, 2}, {2, 0}, {2, 1}};
    o.probe_image = 2;
    const SnnResult one = engine.evaluate(images, {}, o);
    o.threads = 2;
    const SnnResult two = engine.evaluate(images, {}, o);
    ASSERT_EQ(one.probe.image, 2);
    ASSERT_EQ(one.probe.steps(), 20);
    EXPECT_EQ(two.probe.image, 2);
    EXPECT_EQ(one.probe.v, two.probe.v);
    EXPECT_EQ(one.probe.i_syn, two.probe.i_syn);
    EXPECT_EQ(one.probe.spiked, two.probe.spiked);
    int fired = 0;
    for (uint8_t x : one.probe.spiked) fired += x;
    EXPECT_GT(fired, 0);

    // The stepper fed image 2's on pixels every step (Poisson at rate 1 or 0).
    std::vector<int32_t> on;
    for (int32_t j = 0; j < 4; ++j)
        if (images.pixels[static_cast<size_t>(2 * 4 + j)]) on.push_back(j);
    SnnStepper s(engine);
    for (int64_t t = 0; t < 20; ++t) {
        step(s, on);
        for (size_t k = 0; k < o.probes.size(); ++k) {
            const size_t e = static_cast<size_t>(t) * o.probes.size() + k;
            EXPECT_EQ(s.potential(o.probes[k].pop, o.probes[k].neuron), one.probe.v[e]) << t << " " << k;
            EXPECT_EQ(s.synaptic_current(o.probes[k].pop, o.probes[k].neuron), one.probe.i_syn[e]) << t << " " << k;
            if (o.probes[k].pop == 1) {
                EXPECT_EQ(one.probe.i_syn[e], 0.0f) << "lif has no synaptic current";
            }
        }
    }
    o.probes = {{2, 5}};
    try {
        engine.evaluate(images, {}, o);
        ADD_FAILURE() << "a probe outside the population should be refused";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("probe 0 (2:5)"), std::string::npos) << e.what();
    }
    o.probes = {{0, 0}};
    EXPECT_THROW(engine.evaluate(images, {}, o), ConfigError);
}

}  // namespace
}  // namespace neuroemu
