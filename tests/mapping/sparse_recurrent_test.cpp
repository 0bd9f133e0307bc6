// The mapper on explicit (Sparse) and recurrent projections, against brute-force counts over the synapse lists:
// fan-in and synapses per core exact, destination sets exact, fan-in splitting of explicit inputs, recurrent
// inputs from the layer itself and from a later layer, and the `.map` file round trip.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include "mapping/map_file.h"
#include "mapping/mapping.h"
#include "tests/support/recurrent_model.h"

namespace neuroemu {
namespace {

using test::recurrent_model;

ChipSpec small_chip(int64_t fan_in = 512) {
    ChipSpec chip;
    chip.core.neurons = 16;  // several cores per layer
    chip.core.fan_in = fan_in;
    return chip;
}

// Inputs of every target unit of projection `p` from source channels [c0, c1), counted synapse by synapse.
std::vector<int64_t> brute_fan_in(const SnnModel& m, const Projection& p, int64_t c0 = 0, int64_t c1 = -1) {
    const Population& s = m.populations[static_cast<size_t>(p.source)];
    const int64_t plane = s.size() / s.channels();
    if (c1 < 0) c1 = s.channels();
    std::vector<int64_t> f(static_cast<size_t>(m.populations[static_cast<size_t>(p.target)].size()), 0);
    for (int64_t u = 0; u < s.size(); ++u) {
        if (u / plane < c0 || u / plane >= c1) continue;
        for (int32_t k = p.sparse_ptr[static_cast<size_t>(u)]; k < p.sparse_ptr[static_cast<size_t>(u) + 1]; ++k)
            ++f[static_cast<size_t>(p.sparse_target[static_cast<size_t>(k)])];
    }
    return f;
}

int64_t max_of(const std::vector<int64_t>& v) { return *std::max_element(v.begin(), v.end()); }

int layer_of(const Mapping& m, int population) {
    for (size_t i = 0; i < m.graph.layers.size(); ++i)
        if (m.graph.layers[i].population == population && m.graph.layers[i].part < 0) return static_cast<int>(i);
    return -1;
}

bool holds(const Core& c, int64_t ch, int64_t y, int64_t x) {
    return ch >= c.c0 && ch < c.c1 && y >= c.y0 && y < c.y1 && x >= c.x0 && x < c.x1;
}

// The core of layer `layer` holding flat unit u of a [C][H][W] layer, found by scanning every core.
int64_t find_core(const Mapping& m, int layer, int64_t u) {
    const MapLayer& l = m.graph.layers[static_cast<size_t>(layer)];
    const int64_t ch = u / (l.height * l.width), y = u / l.width % l.height, x = u % l.width;
    for (size_t k = 0; k < m.cores.size(); ++k)
        if (m.cores[k].layer == layer && holds(m.cores[k], ch, y, x)) return static_cast<int64_t>(k);
    return -1;
}

TEST(SparseMapping, FanInAndSynapsesPerCoreAreExact) {
    const SnnModel model = recurrent_model();
    const Mapping m = map_network(model, small_chip(), MapOptions{});
    validate_mapping(m, "test");
    for (int pop = 1; pop < 3; ++pop) {
        const int li = layer_of(m, pop);
        ASSERT_GE(li, 0);
        const MapLayer& l = m.graph.layers[static_cast<size_t>(li)];
        if (pop == 1) {
            EXPECT_GT(l.cores, 1);  // 48 units on cores of 16
        }
        int64_t nnz = 0;
        for (const Projection& p : model.projections) {
            if (p.target != pop) continue;
            nnz += static_cast<int64_t>(p.sparse_target.size());
            const auto it = std::find_if(l.inputs.begin(), l.inputs.end(),
                                         [&](const UnitInput& in) { return in.projection == p.name; });
            ASSERT_NE(it, l.inputs.end()) << p.name;
            EXPECT_EQ(it->pattern, InputPattern::Explicit);
            EXPECT_EQ(it->recurrent, p.recurrent) << p.name;
            EXPECT_EQ(it->fan_in, max_of(brute_fan_in(model, p))) << p.name;
        }
        // Synapses of each core: those whose target unit it holds, counted from the lists.
        int64_t stored = 0;
        for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
            const Core& c = m.cores[static_cast<size_t>(k)];
            int64_t in_core = 0;
            for (const Projection& p : model.projections) {
                if (p.target != pop) continue;
                for (int32_t t : p.sparse_target)
                    if (find_core(m, li, t) == k) ++in_core;
            }
            EXPECT_EQ(c.synapses, in_core) << l.name << " core " << k;
            stored += c.synapses;
        }
        EXPECT_EQ(stored, nnz) << l.name;
    }
}

TEST(SparseMapping, DestinationsAreTheCoresOfTheTargets) {
    const SnnModel model = recurrent_model();
    const Mapping m = map_network(model, small_chip(), MapOptions{});
    const auto n = static_cast<int64_t>(m.cores.size());
    // Brute force: every source unit, every projection it feeds, every target's core.
    std::vector<std::set<int32_t>> want(static_cast<size_t>(n + 1));
    for (const Projection& p : model.projections) {
        const int target_layer = layer_of(m, p.target);
        const int source_layer = p.source == 0 ? -1 : layer_of(m, p.source);
        const Population& s = model.populations[static_cast<size_t>(p.source)];
        for (int64_t u = 0; u < s.size(); ++u) {
            const int64_t from = source_layer < 0 ? n : find_core(m, source_layer, u);
            for (int32_t k = p.sparse_ptr[static_cast<size_t>(u)]; k < p.sparse_ptr[static_cast<size_t>(u) + 1]; ++k)
                want[static_cast<size_t>(from)].insert(
                    static_cast<int32_t>(find_core(m, target_layer, p.sparse_target[static_cast<size_t>(k)])));
        }
    }
    for (int64_t s = 0; s <= n; ++s) {
        const std::vector<int32_t> got(m.routes.dest.begin() + m.routes.offset[static_cast<size_t>(s)],
                                       m.routes.dest.begin() + m.routes.offset[static_cast<size_t>(s) + 1]);
        EXPECT_EQ(got, std::vector<int32_t>(want[static_cast<size_t>(s)].begin(), want[static_cast<size_t>(s)].end()))
            << "source " << s;
    }
}

TEST(SparseMapping, RecurrentInputsReadTheLayerItselfAndALaterLayer) {
    const SnnModel model = recurrent_model();
    const Mapping m = map_network(model, small_chip(), MapOptions{});
    const int hidden = layer_of(m, 1), out = layer_of(m, 2);
    ASSERT_LT(hidden, out);
    std::map<std::string, int> source;
    for (const UnitInput& in : m.graph.layers[static_cast<size_t>(hidden)].inputs) source[in.projection] = in.source;
    EXPECT_EQ(source.at("hidden->hidden"), hidden);
    EXPECT_EQ(source.at("out->hidden"), out);
    EXPECT_EQ(source.at("in->hidden"), kHostSource);
    // The reader refuses a later source on an input that is not recurrent.
    Mapping bad = m;
    for (UnitInput& in : bad.graph.layers[static_cast<size_t>(hidden)].inputs) in.recurrent = false;
    EXPECT_THAT([&] { validate_mapping(bad, "bad.map"); },
                testing::ThrowsMessage<DataError>(testing::HasSubstr("only a recurrent input")));
}

TEST(SparseMapping, SplitsExplicitInputsAboveTheFanInLimit) {
    const SnnModel model = recurrent_model();
    const int64_t limit = 12;
    const Projection& self = model.projections[1];
    std::vector<int64_t> total(48, 0);
    for (const Projection& p : model.projections)
        if (p.target == 1) {
            const auto f = brute_fan_in(model, p);
            for (size_t t = 0; t < f.size(); ++t) total[t] += f[t];
        }
    ASSERT_GT(max_of(total), limit);  // the case needs splitting
    MapOptions fail;
    fail.fan_in = FanInStrategy::Fail;
    EXPECT_THROW(map_network(model, small_chip(limit), fail), MappingError);

    const Mapping m = map_network(model, small_chip(limit), MapOptions{});
    validate_mapping(m, "test");
    int partials = 0;
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> slices;
    std::map<std::string, int64_t> stored;
    for (const MapLayer& l : m.graph.layers) {
        int64_t root = 0;
        for (const UnitInput& in : l.inputs) root += in.fan_in;
        EXPECT_LE(root, limit) << l.name;
        if (l.kind != UnitKind::Partial) continue;
        ++partials;
        const UnitInput& in = l.inputs.at(0);
        const Projection& p =
            *std::find_if(model.projections.begin(), model.projections.end(), [&](const Projection& q) { return q.name == in.projection; });
        EXPECT_EQ(in.fan_in, max_of(brute_fan_in(model, p, in.c0, in.c1))) << l.name;
        EXPECT_EQ(in.recurrent, p.recurrent);
        slices[p.name].emplace_back(in.c0, in.c1);
        for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) stored[p.name] += m.cores[static_cast<size_t>(k)].synapses;
    }
    EXPECT_GT(partials, 1);
    ASSERT_TRUE(slices.count(self.name));  // the self-recurrent input was split: its partials read a later layer
    for (const auto& [name, list] : slices) {
        const Projection& p =
            *std::find_if(model.projections.begin(), model.projections.end(), [&](const Projection& q) { return q.name == name; });
        int64_t next = 0;
        for (const auto& [c0, c1] : list) {
            EXPECT_EQ(c0, next) << name;
            next = c1;
        }
        EXPECT_EQ(next, model.populations[static_cast<size_t>(p.source)].channels()) << name;
        EXPECT_EQ(stored[name], static_cast<int64_t>(p.sparse_target.size())) << name;
    }
}

std::string bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(SparseMapping, MapFileRoundTripsExplicitAndRecurrentInputs) {
    const SnnModel model = recurrent_model();
    const Mapping m = map_network(model, small_chip(12), MapOptions{});
    const std::string path =
        (std::filesystem::temp_directory_path() / ("neuroemu_sparse_" + std::to_string(getpid()) + ".map")).string();
    save_mapping(m, path);
    const Mapping back = load_mapping(path);
    ASSERT_EQ(back.graph.layers.size(), m.graph.layers.size());
    for (size_t i = 0; i < m.graph.layers.size(); ++i)
        for (size_t k = 0; k < m.graph.layers[i].inputs.size(); ++k) {
            const UnitInput& a = m.graph.layers[i].inputs[k];
            const UnitInput& b = back.graph.layers[i].inputs[k];
            EXPECT_EQ(a.source, b.source);
            EXPECT_EQ(a.recurrent, b.recurrent);
            EXPECT_EQ(a.pattern, b.pattern);
            ASSERT_EQ(a.synapses == nullptr, b.synapses == nullptr);
            if (a.synapses) {
                EXPECT_TRUE(*a.synapses == *b.synapses);
            }
        }
    EXPECT_EQ(back.routes.dest, m.routes.dest);
    const std::string again = path + ".again";
    save_mapping(back, again);
    EXPECT_EQ(bytes_of(path), bytes_of(again));
    // A synapse list that points outside its layer is refused.
    Mapping bad = back;
    for (auto& l : bad.graph.layers)
        for (auto& in : l.inputs)
            if (in.synapses) {
                auto e = std::make_shared<ExplicitSynapses>(*in.synapses);
                e->target.back() = 1000;
                in.synapses = e;
            }
    EXPECT_THAT([&] { validate_mapping(bad, "bad.map"); },
                testing::ThrowsMessage<DataError>(testing::HasSubstr("must be a unit of the layer")));
    std::filesystem::remove(path);
    std::filesystem::remove(again);
}

}  // namespace
}  // namespace neuroemu
