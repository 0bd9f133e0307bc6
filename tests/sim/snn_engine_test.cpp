// The functional spiking engine (sim/snn_engine.h) against an independent, deliberately naive reference
// simulator written from the specification (docs/snn-format.md, sim/snn_engine.h):
//   - each step, populations in order: add the weights of the source spikes of the same step, add the constant
//     current (bias, and the analog input under constant-current encoding), fire at V >= threshold (at most
//     once), reset by subtraction or to zero; a non-spiking readout only integrates;
//   - a max gate passes the spike of a window's most active source neuron so far (ties: first in raster order);
//   - one SOP per synapse reached by a spike, the synapses enumerated by brute force over every target neuron.
// The models use weights, biases and inputs that are dyadic rationals with few bits (k/16, pixels 0 or 255), so
// every membrane potential is exact in float whatever the summation order, and the reference must agree with
// the engine spike for spike.
#include "sim/snn_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "common/error.h"
#include "convert/convert.h"
#include "data/idx_dataset.h"
#include "model/zoo.h"
#include "tests/support/builders.h"

namespace neuroemu {
namespace {

const std::string kData = "/usr/share/datasets/fashion-mnist/";

// k / denom with k uniform in [lo * denom, hi * denom]: exact in float, and so are sums of a few thousand.
float dyadic(std::mt19937& rng, double lo, double hi, int denom = 16) {
    std::uniform_int_distribution<int> d(static_cast<int>(std::lround(lo * denom)), static_cast<int>(std::lround(hi * denom)));
    return static_cast<float>(d(rng)) / static_cast<float>(denom);
}

Tensor dyadic_tensor(std::vector<int64_t> shape, std::mt19937& rng, double lo, double hi) {
    Tensor t(std::move(shape));
    for (float& v : t.data) v = dyadic(rng, lo, hi);
    return t;
}

// Random binary images (pixels 0 or 255: inputs exactly 0 or 1, so Poisson spikes are certain or impossible).
ImageSet binary_images(int64_t count, int64_t c, int64_t h, int64_t w, double density, uint32_t seed) {
    std::mt19937 rng(seed);
    std::bernoulli_distribution on(density);
    ImageSet s;
    s.count = count, s.channels = c, s.height = h, s.width = w;
    s.pixels.resize(static_cast<size_t>(count * c * h * w));
    for (auto& p : s.pixels) p = on(rng) ? 255 : 0;
    s.labels.assign(static_cast<size_t>(count), 0);
    return s;
}

// ---------------------------------------------------------------------------------------------------------
// Reference simulator. Neurons are indexed in [C][H][W] order ([N] for vectors).

struct Geo {
    int64_t c = 1, h = 1, w = 1;
    explicit Geo(const std::vector<int64_t>& s) {
        if (s.size() == 3) c = s[0], h = s[1], w = s[2];
        else c = s[0];
    }
    int64_t size() const { return c * h * w; }
    int64_t at(int64_t ch, int64_t y, int64_t x) const { return (ch * h + y) * w + x; }
};

struct Synapse {
    int64_t target;
    float weight;
};

// Every synapse of a projection, per source neuron, found by scanning all target neurons (and kernel offsets).
std::vector<std::vector<Synapse>> enumerate_synapses(const SnnModel& m, const Projection& p) {
    const Geo s(m.populations[static_cast<size_t>(p.source)].shape), t(m.populations[static_cast<size_t>(p.target)].shape);
    std::vector<std::vector<Synapse>> out(static_cast<size_t>(s.size()));
    const Window2d& w = p.window;
    switch (p.kind) {
        case ProjectionKind::Conv:
            for (int64_t co = 0; co < t.c; ++co)
                for (int64_t oy = 0; oy < t.h; ++oy)
                    for (int64_t ox = 0; ox < t.w; ++ox)
                        for (int64_t ci = 0; ci < s.c; ++ci)
                            for (int64_t ky = 0; ky < w.kernel_h; ++ky)
                                for (int64_t kx = 0; kx < w.kernel_w; ++kx) {
                                    const int64_t y = oy * w.stride_h - w.pad_top + ky, x = ox * w.stride_w - w.pad_left + kx;
                                    if (y < 0 || y >= s.h || x < 0 || x >= s.w) continue;
                                    const float wt = p.weight.data[static_cast<size_t>(((co * s.c + ci) * w.kernel_h + ky) * w.kernel_w + kx)];
                                    out[static_cast<size_t>(s.at(ci, y, x))].push_back({t.at(co, oy, ox), wt});
                                }
            break;
        case ProjectionKind::AvgPool:
            for (int64_t c = 0; c < t.c; ++c)
                for (int64_t oy = 0; oy < t.h; ++oy)
                    for (int64_t ox = 0; ox < t.w; ++ox) {
                        // PyTorch: the divisor counts padding (not the ceil_mode overhang) with count_include_pad.
                        const int64_t y0 = oy * w.stride_h - w.pad_top, x0 = ox * w.stride_w - w.pad_left;
                        const int64_t y1 = std::min(y0 + w.kernel_h, s.h + w.pad_bottom), x1 = std::min(x0 + w.kernel_w, s.w + w.pad_right);
                        int64_t valid = 0;
                        for (int64_t y = y0; y < y1; ++y)
                            for (int64_t x = x0; x < x1; ++x) valid += y >= 0 && y < s.h && x >= 0 && x < s.w;
                        const int64_t divisor = p.count_include_pad ? (y1 - y0) * (x1 - x0) : valid;
                        for (int64_t y = std::max<int64_t>(y0, 0); y < std::min(y1, s.h); ++y)
                            for (int64_t x = std::max<int64_t>(x0, 0); x < std::min(x1, s.w); ++x)
                                out[static_cast<size_t>(s.at(c, y, x))].push_back(
                                    {t.at(c, oy, ox), p.weight.data[static_cast<size_t>(c)] / static_cast<float>(divisor)});
                    }
            break;
        case ProjectionKind::Identity:
            for (int64_t j = 0; j < s.size(); ++j)
                out[static_cast<size_t>(j)].push_back({j, p.weight.data[static_cast<size_t>(j / (s.h * s.w))]});
            break;
        case ProjectionKind::Linear:
            for (int64_t o = 0; o < t.size(); ++o)
                for (int64_t f = 0; f < s.size(); ++f)
                    out[static_cast<size_t>(f)].push_back({o, p.weight.data[static_cast<size_t>(o * s.size() + f)]});
            break;
        case ProjectionKind::Sparse:
            for (int64_t j = 0; j < s.size(); ++j)
                for (int32_t k = p.sparse_ptr[static_cast<size_t>(j)]; k < p.sparse_ptr[static_cast<size_t>(j) + 1]; ++k)
                    out[static_cast<size_t>(j)].push_back({p.sparse_target[static_cast<size_t>(k)], p.weight.data[static_cast<size_t>(k)]});
            break;
        case ProjectionKind::MaxPool:  // connections, each window cell to its output; used by max_of_window()
            for (int64_t c = 0; c < t.c; ++c)
                for (int64_t oy = 0; oy < t.h; ++oy)
                    for (int64_t ox = 0; ox < t.w; ++ox)
                        for (int64_t ky = 0; ky < w.kernel_h; ++ky)
                            for (int64_t kx = 0; kx < w.kernel_w; ++kx) {
                                const int64_t y = oy * w.stride_h - w.pad_top + ky, x = ox * w.stride_w - w.pad_left + kx;
                                if (y >= 0 && y < s.h && x >= 0 && x < s.w)
                                    out[static_cast<size_t>(s.at(c, y, x))].push_back({t.at(c, oy, ox), p.weight.data[static_cast<size_t>(c)]});
                            }
            break;
    }
    return out;
}

struct Reference {
    std::vector<int64_t> spikes;                  // per population (input: Poisson spikes; gate: spikes passed)
    std::vector<std::vector<int64_t>> by_step;    // per population: cumulative spikes after step t (over images)
    std::vector<int64_t> sops, synapses;          // per projection
    int64_t input_macs_nonzero = 0;               // fan-out of the nonzero input pixels (constant current)
    // Max-gate situations the reference met, to show that the test exercises them:
    int64_t leader_changes = 0;   // a window's most active neuron changed
    int64_t blocked_ties = 0;     // a neuron spiked while tied for the lead with an earlier one: not passed
    int64_t blocked_spikes = 0;   // spikes of gated neurons that were not the window's leader
};

Reference simulate_reference(const SnnModel& m, const ImageSet& set, const std::string& enc, int64_t steps) {
    const size_t n = m.populations.size();
    std::vector<Geo> geo;
    for (const auto& p : m.populations) geo.emplace_back(p.shape);
    std::vector<std::vector<std::vector<Synapse>>> syn;
    Reference r;
    r.spikes.assign(n, 0);
    r.by_step.assign(n, std::vector<int64_t>(static_cast<size_t>(steps), 0));
    r.sops.assign(m.projections.size(), 0);
    for (const auto& p : m.projections) {
        syn.push_back(enumerate_synapses(m, p));
        int64_t total = 0;
        for (const auto& s : syn.back()) total += static_cast<int64_t>(s.size());
        r.synapses.push_back(total);
    }
    EXPECT_EQ(m.v_init, 0.0f) << "the reference starts every membrane at 0";
    for (int64_t img = 0; img < set.count; ++img) {
        std::vector<float> x(static_cast<size_t>(geo[0].size()));
        image_to_input(set, img, {}, x.data());
        for (float v : x) EXPECT_TRUE(v == 0.0f || v == 1.0f) << "reference inputs must be binary";
        std::vector<std::vector<float>> v(n), constant(n);
        std::vector<std::vector<int64_t>> count(n), last_leader(n);
        for (size_t i = 0; i < n; ++i) {
            const auto& p = m.populations[i];
            v[i].assign(static_cast<size_t>(geo[i].size()), 0.0f);
            count[i].assign(static_cast<size_t>(geo[i].size()), 0);
            last_leader[i].assign(static_cast<size_t>(geo[i].size()), -1);
            constant[i].assign(static_cast<size_t>(geo[i].size()), 0.0f);
            for (int64_t j = 0; j < geo[i].size() && !p.bias.empty(); ++j)
                constant[i][static_cast<size_t>(j)] = p.bias[static_cast<size_t>(j / (geo[i].h * geo[i].w))];
        }
        if (enc == "current")
            for (size_t k = 0; k < m.projections.size(); ++k)
                if (m.projections[k].source == 0)
                    for (int64_t s = 0; s < geo[0].size(); ++s) {
                        if (x[static_cast<size_t>(s)] == 0.0f) continue;
                        for (const Synapse& e : syn[k][static_cast<size_t>(s)])
                            constant[static_cast<size_t>(m.projections[k].target)][static_cast<size_t>(e.target)] += x[static_cast<size_t>(s)] * e.weight;
                        r.input_macs_nonzero += static_cast<int64_t>(syn[k][static_cast<size_t>(s)].size());
                    }
        for (int64_t t = 0; t < steps; ++t) {
            std::vector<std::vector<char>> fired(n);
            fired[0].assign(static_cast<size_t>(geo[0].size()), 0);
            if (enc == "poisson")
                for (int64_t s = 0; s < geo[0].size(); ++s)
                    if (x[static_cast<size_t>(s)] == 1.0f) fired[0][static_cast<size_t>(s)] = 1, ++count[0][static_cast<size_t>(s)];
            for (size_t i = 1; i < n; ++i) {
                const Population& p = m.populations[i];
                const Geo& g = geo[i];
                fired[i].assign(static_cast<size_t>(g.size()), 0);
                if (p.kind == PopulationKind::MaxGate) {
                    const Geo& sg = geo[static_cast<size_t>(p.gate_source)];
                    const auto& sc = count[static_cast<size_t>(p.gate_source)];
                    const auto& sf = fired[static_cast<size_t>(p.gate_source)];
                    const Window2d& w = p.gate_window;
                    for (int64_t c = 0; c < g.c; ++c)
                        for (int64_t oy = 0; oy < g.h; ++oy)
                            for (int64_t ox = 0; ox < g.w; ++ox) {
                                const int64_t y0 = std::max<int64_t>(0, oy * w.stride_h - w.pad_top);
                                const int64_t y1 = std::min<int64_t>(sg.h, oy * w.stride_h - w.pad_top + w.kernel_h);
                                const int64_t x0 = std::max<int64_t>(0, ox * w.stride_w - w.pad_left);
                                const int64_t x1 = std::min<int64_t>(sg.w, ox * w.stride_w - w.pad_left + w.kernel_w);
                                int64_t best = -1, best_count = -1;
                                for (int64_t y = y0; y < y1; ++y)  // raster order: the first of equals wins
                                    for (int64_t xx = x0; xx < x1; ++xx)
                                        if (sc[static_cast<size_t>(sg.at(c, y, xx))] > best_count)
                                            best = sg.at(c, y, xx), best_count = sc[static_cast<size_t>(best)];
                                const size_t gi = static_cast<size_t>(g.at(c, oy, ox));
                                if (best_count > 0 && last_leader[i][gi] >= 0 && last_leader[i][gi] != best) ++r.leader_changes;
                                if (best_count > 0) last_leader[i][gi] = best;
                                for (int64_t y = y0; y < y1; ++y)
                                    for (int64_t xx = x0; xx < x1; ++xx) {
                                        const int64_t k = sg.at(c, y, xx);
                                        if (!sf[static_cast<size_t>(k)] || k == best) continue;
                                        ++r.blocked_spikes;
                                        if (sc[static_cast<size_t>(k)] == best_count && !sf[static_cast<size_t>(best)]) ++r.blocked_ties;
                                    }
                                if (best >= 0 && sf[static_cast<size_t>(best)]) fired[i][gi] = 1, ++count[i][gi];
                            }
                    continue;
                }
                auto& vi = v[i];
                if (p.kind == PopulationKind::Current) std::fill(vi.begin(), vi.end(), 0.0f);  // this step's current
                for (size_t k = 0; k < m.projections.size(); ++k) {
                    const Projection& pr = m.projections[k];
                    if (pr.target != static_cast<int>(i) || (pr.source == 0 && enc == "current")) continue;
                    if (pr.kind == ProjectionKind::MaxPool) {  // the largest current among each target's sources
                        std::vector<float> best(vi.size(), -INFINITY), weight(vi.size(), 0.0f);
                        const auto& current = v[static_cast<size_t>(pr.source)];
                        for (size_t s = 0; s < syn[k].size(); ++s)
                            for (const Synapse& e : syn[k][s]) {
                                best[static_cast<size_t>(e.target)] = std::max(best[static_cast<size_t>(e.target)], current[s]);
                                weight[static_cast<size_t>(e.target)] = e.weight;
                            }
                        for (size_t j = 0; j < vi.size(); ++j) vi[j] += weight[j] * best[j];
                        continue;
                    }
                    const auto& src = fired[static_cast<size_t>(pr.source)];
                    for (size_t s = 0; s < src.size(); ++s) {
                        if (!src[s]) continue;
                        for (const Synapse& e : syn[k][s]) vi[static_cast<size_t>(e.target)] += e.weight;
                        r.sops[k] += static_cast<int64_t>(syn[k][s].size());
                    }
                }
                for (int64_t j = 0; j < g.size(); ++j) {
                    const size_t js = static_cast<size_t>(j);
                    vi[js] += constant[i][js];
                    if (!p.spiking) continue;
                    const float th = p.threshold_of(j / (g.h * g.w));
                    if (vi[js] >= th) {
                        vi[js] = m.reset == ResetMode::Subtract ? vi[js] - th : 0.0f;
                        fired[i][js] = 1;
                        ++count[i][js];
                    }
                }
            }
            for (size_t i = 0; i < n; ++i)
                r.by_step[i][static_cast<size_t>(t)] += std::accumulate(count[i].begin(), count[i].end(), int64_t{0});
        }
        for (size_t i = 0; i < n; ++i) r.spikes[i] += std::accumulate(count[i].begin(), count[i].end(), int64_t{0});
    }
    return r;
}

// Totals must agree however they are summed: over projections, over targets (sops_in), over sources (sops_out),
// and each population's in/out totals must be the sums over its own projections.
void expect_sops_conserved(const SnnModel& m, const SnnResult& r) {
    ASSERT_EQ(r.projections.size(), m.projections.size());
    ASSERT_EQ(r.populations.size(), m.populations.size());
    int64_t by_proj = 0, by_in = 0, by_out = 0;
    std::vector<int64_t> in(m.populations.size(), 0), out(m.populations.size(), 0);
    for (size_t k = 0; k < r.projections.size(); ++k) {
        EXPECT_EQ(r.projections[k].source, m.projections[k].source);
        EXPECT_EQ(r.projections[k].target, m.projections[k].target);
        by_proj += r.projections[k].sops;
        in[static_cast<size_t>(m.projections[k].target)] += r.projections[k].sops;
        out[static_cast<size_t>(m.projections[k].source)] += r.projections[k].sops;
    }
    for (size_t i = 0; i < r.populations.size(); ++i) {
        by_in += r.populations[i].sops_in;
        by_out += r.populations[i].sops_out;
        EXPECT_EQ(r.populations[i].sops_in, in[i]) << "population " << i;
        EXPECT_EQ(r.populations[i].sops_out, out[i]) << "population " << i;
    }
    EXPECT_EQ(r.sops, by_proj);
    EXPECT_EQ(r.sops, by_in);
    EXPECT_EQ(r.sops, by_out);
}

// The engine and the reference on the same model and images, Poisson input, two engine threads.
struct BothRuns {
    SnnResult engine;
    Reference ref;
};
BothRuns run_both(const SnnModel& m, const ImageSet& set, int64_t steps) {
    SnnOptions o;
    o.steps = steps;
    o.encoding = make_input_encoding("poisson");
    o.threads = 2;
    return {SnnEngine(m).evaluate(set, {}, o), simulate_reference(m, set, "poisson", steps)};
}

// A comparison means something only if every spiking population fires more than 1/denominator of the spikes it
// could fire, and fewer than all but 1/denominator.
void expect_busy(const SnnModel& m, const Reference& ref, int64_t images, int64_t steps, int64_t denominator) {
    for (size_t i = 1; i < m.populations.size(); ++i) {
        if (!m.populations[i].spiking) continue;
        const int64_t most = m.populations[i].size() * images * steps;
        EXPECT_GT(ref.spikes[i], most / denominator) << m.populations[i].name;
        EXPECT_LT(ref.spikes[i], most - most / denominator) << m.populations[i].name;
    }
}

// Spike for spike per population and SOP for SOP per projection, and the totals conserved.
void expect_same_spikes_and_sops(const SnnModel& m, const BothRuns& b) {
    for (size_t i = 0; i < m.populations.size(); ++i)
        EXPECT_EQ(b.engine.populations[i].spikes, b.ref.spikes[i]) << "population " << i << " " << m.populations[i].name;
    for (size_t k = 0; k < m.projections.size(); ++k)
        EXPECT_EQ(b.engine.projections[k].sops, b.ref.sops[k]) << "projection " << k << " " << m.projections[k].name;
    expect_sops_conserved(m, b.engine);
}

// The two-branch model (builders.h) with dyadic biases and weights. Every window size that occurs has a
// power-of-two divisor, so the avg-pool weights stay dyadic too.
SnnModel sop_model(uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<float> bias_a, bias_b, bias_c;
    for (int c = 0; c < 4; ++c)
        bias_a.push_back(dyadic(rng, 0.0, 0.25)), bias_b.push_back(dyadic(rng, -0.125, 0.25)), bias_c.push_back(dyadic(rng, 0.0, 0.125));
    const auto draw = [&rng](std::vector<int64_t> shape, double lo, double hi) { return dyadic_tensor(std::move(shape), rng, lo, hi); };
    return two_branch_model("sop", {bias_a, bias_b, bias_c}, draw, {-0.5, 0.75});
}

// SOPs per projection equal the sum, over the spikes the reference simulator produced, of each spiking neuron's
// fan-out enumerated by brute force; spikes per population equal the reference's; synapses per projection equal
// the enumeration (and synapse_count()); and the totals are conserved across projections, sops_in and sops_out.
TEST(SnnEngine, SopsEqualBruteForceCountOverSpikes) {
    const SnnModel m = sop_model(11);
    const ImageSet set = binary_images(3, 2, 9, 9, 0.45, 5);
    const BothRuns both = run_both(m, set, 12);
    const SnnResult& r = both.engine;
    const Reference& ref = both.ref;
    expect_busy(m, ref, set.count, 12, 20);
    expect_same_spikes_and_sops(m, both);
    int64_t if_spikes = 0;
    for (size_t i = 0; i < m.populations.size(); ++i)
        if (m.populations[i].kind == PopulationKind::IF) if_spikes += ref.spikes[i];
    EXPECT_EQ(r.spikes, if_spikes);
    int64_t total_synapses = 0;
    for (size_t k = 0; k < m.projections.size(); ++k) {
        EXPECT_GT(ref.sops[k], 0) << m.projections[k].name;
        EXPECT_EQ(r.projections[k].synapses, ref.synapses[k]) << m.projections[k].name;
        EXPECT_EQ(synapse_count(m, m.projections[k]), ref.synapses[k]) << m.projections[k].name;
        total_synapses += ref.synapses[k];
    }
    EXPECT_EQ(m.synapse_count(), total_synapses);
    EXPECT_EQ(r.input_macs, 0) << "Poisson input is spikes, not currents";
}

// The engine's fast conv kernels (16, 32 and 64 output channels; stride-1 3x3 away from the border, where the
// spikes of one pixel are summed before they reach their targets; the border; stride 2) and its identity
// shortcut, at firing rates where most active pixels have several spikes: spike for spike and SOP for SOP
// equal to the reference.
// input [16,6,6] -3x3 s1-> A [16,6,6] -3x3 s1-> B [32,6,6] -3x3 s1 + identity-> C [32,6,6] -3x3 s2-> D [64,3,3]
// -linear-> readout [5].
TEST(SnnEngine, WideConvKernelsMatchTheReference) {
    std::mt19937 rng(21);
    SnnModel m;
    m.name = "wide";
    m.populations.push_back(input_pop({16, 6, 6}));
    auto biases = [&](int n) {
        std::vector<float> b;
        for (int c = 0; c < n; ++c) b.push_back(dyadic(rng, 0.125, 0.5));
        return b;
    };
    m.populations.push_back(if_pop("A", {16, 6, 6}, biases(16)));
    m.populations.push_back(if_pop("B", {32, 6, 6}, biases(32)));
    m.populations.push_back(if_pop("C", {32, 6, 6}, biases(32)));
    m.populations.push_back(if_pop("D", {64, 3, 3}, biases(64)));
    Population out = if_pop("out", {5});
    out.spiking = false;
    m.populations.push_back(out);
    m.projections.push_back(projection("a", ProjectionKind::Conv, 0, 1, dyadic_tensor({16, 16, 3, 3}, rng, -0.125, 0.125), window(3, 1, 1)));
    m.projections.push_back(projection("b", ProjectionKind::Conv, 1, 2, dyadic_tensor({32, 16, 3, 3}, rng, -0.125, 0.125), window(3, 1, 1)));
    m.projections.push_back(projection("c", ProjectionKind::Conv, 2, 3, dyadic_tensor({32, 32, 3, 3}, rng, -0.125, 0.125), window(3, 1, 1)));
    m.projections.push_back(projection("c_id", ProjectionKind::Identity, 2, 3, dyadic_tensor({32}, rng, 0.25, 0.75)));
    m.projections.push_back(projection("d", ProjectionKind::Conv, 3, 4, dyadic_tensor({64, 32, 3, 3}, rng, -0.125, 0.125), window(3, 2, 1)));
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 4, 5, dyadic_tensor({5, 576}, rng, -1.0, 1.0)));
    m.output = 5;
    validate(m, "wide");
    const ImageSet set = binary_images(3, 16, 6, 6, 0.4, 9);
    const BothRuns both = run_both(m, set, 10);
    expect_busy(m, both.ref, set.count, 10, 8);  // pixels fire several channels in one step, yet not saturated
    expect_same_spikes_and_sops(m, both);
}

// Max pooling before the neuron: a current population (driven by the spikes of A, so its current changes from
// step to step, plus a bias) is pooled by max_pool projections, 2x2 stride 2 and 3x3 stride 2 padding 1
// (clipped windows), into IF populations; spike for spike equal to the reference, which takes each step the
// largest current in each window. No spike leaves a current population and a max_pool projection reaches no
// synapse with a spike (0 SOPs).
// input [2,8,8] -3x3 s1-> A [4,8,8] -3x3 s1-> P (current) [4,8,8] -max 2x2 s2-> Q [4,4,4]; P -max 3x3 s2 p1-> R
// [4,4,4]; Q, R -linear-> readout [5].
TEST(SnnEngine, MaxPoolOfCurrentsMatchesTheReference) {
    std::mt19937 rng(33);
    SnnModel m;
    m.name = "max_current";
    m.populations.push_back(input_pop({2, 8, 8}));
    std::vector<float> bias_a, bias_p;
    for (int c = 0; c < 4; ++c) bias_a.push_back(dyadic(rng, 0.0, 0.25)), bias_p.push_back(dyadic(rng, -0.5, 0.0));
    m.populations.push_back(if_pop("A", {4, 8, 8}, bias_a));
    Population cur = if_pop("P", {4, 8, 8}, bias_p);
    cur.kind = PopulationKind::Current;
    cur.spiking = false;
    m.populations.push_back(cur);
    m.populations.push_back(if_pop("Q", {4, 4, 4}));
    m.populations.push_back(if_pop("R", {4, 4, 4}));
    Population out = if_pop("out", {5});
    out.spiking = false;
    m.populations.push_back(out);
    m.projections.push_back(projection("a", ProjectionKind::Conv, 0, 1, dyadic_tensor({4, 2, 3, 3}, rng, -0.25, 0.5), window(3, 1, 1)));
    m.projections.push_back(projection("p", ProjectionKind::Conv, 1, 2, dyadic_tensor({4, 4, 3, 3}, rng, -0.25, 0.25), window(3, 1, 1)));
    m.projections.push_back(projection("q", ProjectionKind::MaxPool, 2, 3, dyadic_tensor({4}, rng, 0.25, 0.5), window(2, 2, 0)));
    m.projections.push_back(projection("r", ProjectionKind::MaxPool, 2, 4, dyadic_tensor({4}, rng, 0.25, 0.5), window(3, 2, 1)));
    m.projections.push_back(projection("fq", ProjectionKind::Linear, 3, 5, dyadic_tensor({5, 64}, rng, -1.0, 1.0)));
    m.projections.push_back(projection("fr", ProjectionKind::Linear, 4, 5, dyadic_tensor({5, 64}, rng, -1.0, 1.0)));
    m.output = 5;
    validate(m, "max_current");
    const ImageSet set = binary_images(3, 2, 8, 8, 0.4, 4);
    const BothRuns both = run_both(m, set, 12);
    expect_busy(m, both.ref, set.count, 12, 20);  // A, Q and R (P and the readout do not fire)
    expect_same_spikes_and_sops(m, both);
    EXPECT_EQ(both.engine.populations[2].spikes, 0);
    EXPECT_EQ(both.engine.projections[2].sops, 0);
    EXPECT_EQ(both.engine.projections[3].sops, 0);
    for (size_t k = 0; k < m.projections.size(); ++k)
        EXPECT_EQ(synapse_count(m, m.projections[k]), both.ref.synapses[k]) << m.projections[k].name;
}

// Constant-current input: the input projection's work is multiply-accumulates counted once per image
// (input_macs), not SOPs; everything downstream still matches the reference spike for spike.
TEST(SnnEngine, ConstantCurrentInputCountsMacsNotSops) {
    const SnnModel m = sop_model(12);
    SnnOptions o;
    o.steps = 10;
    o.encoding = make_input_encoding("current");
    o.threads = 2;
    {
        const ImageSet set = binary_images(2, 2, 9, 9, 0.45, 6);
        const SnnResult r = SnnEngine(m).evaluate(set, {}, o);
        const Reference ref = simulate_reference(m, set, "current", o.steps);
        EXPECT_EQ(r.populations[0].spikes, 0);
        EXPECT_EQ(r.projections[0].sops, 0);
        for (size_t i = 1; i < m.populations.size(); ++i) EXPECT_EQ(r.populations[i].spikes, ref.spikes[i]) << i;
        for (size_t k = 0; k < m.projections.size(); ++k) EXPECT_EQ(r.projections[k].sops, ref.sops[k]) << k;
        // Zero pixels may or may not be counted as work; the count lies between the two conventions.
        EXPECT_GE(r.input_macs, ref.input_macs_nonzero);
        EXPECT_LE(r.input_macs, ref.synapses[0] * set.count);
        expect_sops_conserved(m, r);
    }
    {
        // With every pixel on, both conventions agree: each input synapse is one MAC per image.
        ImageSet set = binary_images(2, 2, 9, 9, 1.0, 7);
        const SnnResult r = SnnEngine(m).evaluate(set, {}, o);
        const Reference ref = simulate_reference(m, set, "current", o.steps);
        EXPECT_EQ(r.input_macs, ref.synapses[0] * set.count);
        for (size_t i = 1; i < m.populations.size(); ++i) EXPECT_EQ(r.populations[i].spikes, ref.spikes[i]) << i;
    }
}

// Max pooling by spike gating. Population G is driven by constant currents (a 3x3 conv of a binary image) and by
// the spikes of a late-starting population U, so that within a window the most active neuron changes over time
// and neurons tie for the lead. Two gates read G: 2x2 stride 2 (disjoint windows) and 3x3 stride 2 padding 1
// (overlapping windows, clipped at the border). For every step count t, the spikes each gate has let through
// after t steps equal the reference's, which passes a spike only from the window's most active neuron so far
// (counts including this step; ties to the first in raster order); and each gate's outgoing SOPs equal its spikes
// (identity fan-out 1).
TEST(SnnEngine, MaxGatePassesOnlyTheMostActiveNeuronSoFar) {
    std::mt19937 rng(3);
    SnnModel m;
    m.name = "gate";
    m.populations.push_back(input_pop({2, 6, 6}));
    m.populations.push_back(if_pop("U", {1, 6, 6}));
    m.populations.push_back(if_pop("G", {2, 6, 6}));
    m.populations.push_back(gate_pop("pool2", m, 2, window(2, 2, 0)));
    m.populations.push_back(gate_pop("pool3", m, 2, window(3, 2, 1)));
    Population out = if_pop("out", {2, 3, 3});
    out.spiking = false;
    m.populations.push_back(out);
    // U: only input channel 1, small weights: first spikes after a few steps.
    Tensor wu({1, 2, 3, 3});
    for (int k = 9; k < 18; ++k) wu.data[static_cast<size_t>(k)] = dyadic(rng, 0.0, 0.25);
    m.projections.push_back(projection("u", ProjectionKind::Conv, 0, 1, wu, window(3, 1, 1)));
    m.projections.push_back(projection("g", ProjectionKind::Conv, 0, 2, dyadic_tensor({2, 2, 3, 3}, rng, -0.125, 0.25), window(3, 1, 1)));
    m.projections.push_back(projection("ug", ProjectionKind::Conv, 1, 2, dyadic_tensor({2, 1, 1, 1}, rng, 0.5, 1.0), window(1, 1, 0)));
    m.projections.push_back(projection("o2", ProjectionKind::Identity, 3, 5, Tensor({2}, {1.0f, 1.0f})));
    m.projections.push_back(projection("o3", ProjectionKind::Identity, 4, 5, Tensor({2}, {1.0f, 1.0f})));
    m.output = 5;
    ASSERT_NO_THROW(validate(m, "gate"));

    const int64_t steps = 16;
    const ImageSet all = binary_images(3, 2, 6, 6, 0.5, 9);
    int64_t leader_changes = 0, blocked_ties = 0, blocked = 0;
    for (int64_t img = 0; img < all.count; ++img) {
        const ImageSet one = all.slice(img, 1);
        const Reference ref = simulate_reference(m, one, "current", steps);
        leader_changes += ref.leader_changes, blocked_ties += ref.blocked_ties, blocked += ref.blocked_spikes;
        const SnnEngine engine(m);
        for (int64_t t = 1; t <= steps; ++t) {
            SnnOptions o;
            o.steps = t;
            o.threads = 1;
            const SnnResult r = engine.evaluate(one, {}, o);
            for (int gate : {3, 4}) {
                EXPECT_EQ(r.populations[static_cast<size_t>(gate)].spikes, ref.by_step[static_cast<size_t>(gate)][static_cast<size_t>(t - 1)])
                    << "image " << img << " gate " << m.populations[static_cast<size_t>(gate)].name << " after " << t << " steps";
                EXPECT_EQ(r.populations[static_cast<size_t>(gate)].sops_out, r.populations[static_cast<size_t>(gate)].spikes);
            }
            EXPECT_EQ(r.populations[2].spikes, ref.by_step[2][static_cast<size_t>(t - 1)]) << "G after " << t << " steps";
        }
    }
    // The images exercise what the gate must get right: leaders that change, ties lost to raster order, and
    // spikes of non-leaders held back.
    EXPECT_GT(leader_changes, 0);
    EXPECT_GT(blocked_ties, 0);
    EXPECT_GT(blocked, 0);
}

// Poisson input: same seed -> the same result whatever the thread count (accuracy curve, every population's
// spikes and SOPs, every projection's SOPs); another seed -> other spikes. The input population's spike count
// is that of Bernoulli(x) trials per pixel and step (within 5 standard deviations).
TEST(SnnEngine, PoissonRunsAreReproducibleAcrossThreads) {
    const Network ann = fold_batchnorm(build_zoo({"resnet8", {1, 28, 28}, 10, 5}));
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 5);
    const Calibration cal = calibrate(ann, set, {}, 99.9, false, 2);
    const SnnModel m = build_snn(ann, cal, ConversionOptions{});
    const SnnEngine engine(m);
    SnnOptions o;
    o.steps = 12;
    o.encoding = make_input_encoding("poisson");
    o.seed = 42;
    o.threads = 1;
    const SnnResult a = engine.evaluate(set, {}, o);
    o.threads = 3;
    const SnnResult b = engine.evaluate(set, {}, o);
    o.seed = 43;
    const SnnResult c = engine.evaluate(set, {}, o);

    EXPECT_GT(a.spikes, 0);
    EXPECT_EQ(a.correct_at_step, b.correct_at_step);
    EXPECT_EQ(a.spikes, b.spikes);
    EXPECT_EQ(a.sops, b.sops);
    ASSERT_EQ(a.populations.size(), b.populations.size());
    for (size_t i = 0; i < a.populations.size(); ++i) {
        EXPECT_EQ(a.populations[i].spikes, b.populations[i].spikes) << i;
        EXPECT_EQ(a.populations[i].sops_in, b.populations[i].sops_in) << i;
        EXPECT_EQ(a.populations[i].sops_out, b.populations[i].sops_out) << i;
        EXPECT_EQ(a.populations[i].max_rate, b.populations[i].max_rate) << i;
    }
    ASSERT_EQ(a.projections.size(), b.projections.size());
    for (size_t k = 0; k < a.projections.size(); ++k) EXPECT_EQ(a.projections[k].sops, b.projections[k].sops) << k;
    expect_sops_conserved(m, a);

    EXPECT_NE(a.populations[0].spikes, c.populations[0].spikes);
    EXPECT_NE(a.spikes, c.spikes);
    EXPECT_NE(a.sops, c.sops);

    double mean = 0, var = 0;
    for (uint8_t px : set.pixels) {
        const double x = px / 255.0;
        mean += x * static_cast<double>(o.steps);
        var += x * (1 - x) * static_cast<double>(o.steps);
    }
    for (const SnnResult* r : {&a, &c})
        EXPECT_NEAR(static_cast<double>(r->populations[0].spikes), mean, 5 * std::sqrt(var));
}

// A dataset evaluated in chunks and accumulated is the same run as evaluated whole (how `evaluate` streams 50,000
// ImageNet images): counts equal, rates equal to the last bit, errors equal to rounding.
TEST(SnnEngine, ChunkedRunsAccumulateToTheWholeRun) {
    const Network ann = fold_batchnorm(build_zoo({"resnet8", {1, 28, 28}, 10, 5}));
    const ImageSet set = load_idx(kData + "t10k-images-idx3-ubyte.gz", kData + "t10k-labels-idx1-ubyte.gz", 7);
    const SnnModel m = build_snn(ann, calibrate(ann, set, {}, 99.9, false, 2), ConversionOptions{});
    const SnnEngine engine(m);
    SnnOptions o;
    o.steps = 10;
    o.threads = 2;
    const SnnResult whole = engine.evaluate(set, {}, o, nullptr, &ann);
    SnnResult chunked;
    for (int64_t first : {0, 3, 5}) accumulate(chunked, engine.evaluate(set.slice(first, first == 0 ? 3 : 2), {}, o, nullptr, &ann));
    EXPECT_EQ(chunked.images, 7);
    EXPECT_EQ(chunked.correct_at_step, whole.correct_at_step);
    EXPECT_EQ(chunked.ann_correct, whole.ann_correct);
    EXPECT_EQ(chunked.sops, whole.sops);
    EXPECT_EQ(chunked.spikes, whole.spikes);
    EXPECT_EQ(chunked.input_macs, whole.input_macs);
    ASSERT_EQ(chunked.populations.size(), whole.populations.size());
    for (size_t i = 0; i < whole.populations.size(); ++i) {
        const PopulationStats &a = chunked.populations[i], &b = whole.populations[i];
        EXPECT_EQ(a.spikes, b.spikes) << i;
        EXPECT_EQ(a.sops_in, b.sops_in) << i;
        EXPECT_EQ(a.firing_rate, b.firing_rate) << i;
        EXPECT_EQ(a.max_rate, b.max_rate) << i;
        EXPECT_EQ(a.has_error, b.has_error) << i;
        EXPECT_NEAR(a.accumulated_error, b.accumulated_error, 1e-12) << i;
        EXPECT_NEAR(a.rate_error_abs, b.rate_error_abs, 1e-12) << i;
    }
    for (size_t k = 0; k < whole.projections.size(); ++k)
        EXPECT_EQ(chunked.projections[k].sops, whole.projections[k].sops) << k;
}

// The readout's decision. Input [1,1,3] -> identity-matrix linear -> readout [3], constant currents
// z = (0.2, 0.902, 0.302). A non-spiking readout integrates V = t z and never resets: class 1 from step 1 on.
// A spiking readout decides by spike count: floor(0.902 t) leads from t = 2 on, although its membrane (after
// resets) is not always the highest (at t = 4: 0.61 against 0.8 for neuron 0), so a decision by potential fails.
TEST(SnnEngine, ReadoutDecidesByPotentialOrBySpikeCount) {
    SnnModel m;
    m.name = "readout";
    m.populations.push_back(input_pop({1, 1, 3}));
    Population out = if_pop("out", {3});
    m.populations.push_back(out);
    Tensor eye({3, 3});
    for (int k = 0; k < 3; ++k) eye.data[static_cast<size_t>(k * 3 + k)] = 1.0f;
    m.projections.push_back(projection("fc", ProjectionKind::Linear, 0, 1, eye));
    m.output = 1;
    ImageSet set;
    set.count = 2, set.channels = 1, set.height = 1, set.width = 3;
    set.pixels = {51, 230, 77, 51, 230, 77};
    set.labels = {1, 2};  // the second image is labelled wrongly on purpose
    SnnOptions o;
    o.steps = 12;
    o.threads = 1;
    for (bool spiking : {false, true}) {
        m.populations[1].spiking = spiking;
        const SnnResult r = SnnEngine(m).evaluate(set, {}, o);
        ASSERT_EQ(r.correct_at_step.size(), 12u);
        for (int64_t t = spiking ? 2 : 1; t <= o.steps; ++t)
            EXPECT_EQ(r.correct_at_step[static_cast<size_t>(t - 1)], 1) << (spiking ? "spiking" : "membrane") << " t " << t;
        EXPECT_EQ(r.populations[1].spikes, spiking ? 2 * ((12 * 51) / 255 + (12 * 230) / 255 + (12 * 77) / 255) : 0);
    }
}

// Bad arguments are refused with a message, not simulated: no steps, an image of the wrong shape, a label beyond
// the readout, Poisson input outside [0, 1].
TEST(SnnEngine, RejectsBadArguments) {
    const SnnModel m = sop_model(1);
    const SnnEngine engine(m);
    SnnOptions o;
    o.steps = 0;
    const ImageSet good = binary_images(1, 2, 9, 9, 0.5, 1);
    EXPECT_THROW(engine.evaluate(good, {}, o), ConfigError);
    o.steps = 65536;  // spike counts are 16-bit
    EXPECT_THROW(engine.evaluate(good, {}, o), ConfigError);
    o.steps = 2;
    EXPECT_THROW(engine.evaluate(binary_images(1, 1, 9, 9, 0.5, 1), {}, o), DataError);
    ImageSet bad_label = good;
    bad_label.labels[0] = 5;
    EXPECT_THROW(engine.evaluate(bad_label, {}, o), DataError);
    o.encoding = make_input_encoding("poisson");
    InputNormalisation norm;
    norm.mean = {0.5};
    norm.std = {0.25};
    EXPECT_THROW(engine.evaluate(good, norm, o), DataError);
}

}  // namespace
}  // namespace neuroemu
