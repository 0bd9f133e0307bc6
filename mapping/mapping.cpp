// Partitioning and connection of an S-ResNet onto cores (docs/mapping.md). Everything here works on tiles and
// index ranges, never on single synapses: ResNet-50 at ImageNet size has ~10 M neurons and ~4 G synapses.
#include "mapping/mapping.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/memory_limit.h"
#include "mapping/placement/placement.h"

namespace neuroemu {

const char* to_string(UnitKind k) {
    switch (k) {
        case UnitKind::Neuron: return "neuron";
        case UnitKind::Readout: return "readout";
        case UnitKind::Gate: return "gate";
        case UnitKind::Current: return "current";
        case UnitKind::Partial: return "partial";
    }
    return "?";
}

const char* to_string(InputPattern p) {
    switch (p) {
        case InputPattern::Conv: return "conv";
        case InputPattern::Window: return "window";
        case InputPattern::OneToOne: return "one_to_one";
        case InputPattern::Dense: return "dense";
        case InputPattern::Explicit: return "explicit";
    }
    return "?";
}

namespace {

struct Dims {
    int64_t c = 1, h = 1, w = 1;
};

Dims dims_of(const std::vector<int64_t>& shape) {
    if (shape.size() == 3) return {shape[0], shape[1], shape[2]};
    return {shape_numel(shape), 1, 1};
}

// Taps of a window of size k (stride s, leading padding pad) that fall inside an input of length n, for output o.
int64_t taps(int64_t k, int64_t s, int64_t pad, int64_t n, int64_t o) {
    const int64_t lo = std::max<int64_t>(0, o * s - pad), hi = std::min<int64_t>(n, o * s - pad + k);
    return std::max<int64_t>(0, hi - lo);
}

// Per-output tap counts along one axis.
std::vector<int64_t> tap_profile(int64_t k, int64_t s, int64_t pad, int64_t in, int64_t out) {
    std::vector<int64_t> v(static_cast<size_t>(out));
    for (int64_t o = 0; o < out; ++o) v[static_cast<size_t>(o)] = taps(k, s, pad, in, o);
    return v;
}

// Outputs [lo, hi] of a window that read any input in [i0, i1) (empty when lo > hi).
std::pair<int64_t, int64_t> outputs_reading(int64_t k, int64_t s, int64_t pad, int64_t out, int64_t i0, int64_t i1) {
    // Output o reads inputs [o*s - pad, o*s - pad + k).
    const int64_t num = i0 + pad - k + 1;
    if (s == 1)  // the common case, without divisions (target_boxes runs per packet delivered in the chip model)
        return {std::max<int64_t>(num, 0), std::min<int64_t>(std::max<int64_t>(i1 - 1 + pad, -1), out - 1)};
    int64_t lo = num <= 0 ? -((-num) / s) : (num + s - 1) / s;
    int64_t hi = (i1 - 1 + pad) >= 0 ? (i1 - 1 + pad) / s : -1;
    return {std::max<int64_t>(lo, 0), std::min<int64_t>(hi, out - 1)};
}

// The source dims of an input (the host image or an earlier layer).
Dims source_dims(const MapGraph& graph, int source) {
    if (source == kHostSource) return {graph.host_channels, graph.host_height, graph.host_width};
    const MapLayer& l = graph.layers[static_cast<size_t>(source)];
    return {l.channels, l.height, l.width};
}

double source_rate(const MapGraph& graph, int source) {
    return source == kHostSource ? graph.host_rate : graph.layers[static_cast<size_t>(source)].rate;
}

// Inputs of one unit from `in` at output (oy, ox) of a layer shaped `t` (exact, borders included).
struct AxisTaps {
    std::vector<int64_t> y, x;  // per output row / column: source positions read along that axis
};

AxisTaps axis_taps(const Dims& s, const UnitInput& in, const Dims& t) {
    const Window2d& w = in.window;
    switch (in.pattern) {
        case InputPattern::Conv:
        case InputPattern::Window:
            return {tap_profile(w.kernel_h, w.stride_h, w.pad_top, s.h, t.h),
                    tap_profile(w.kernel_w, w.stride_w, w.pad_left, s.w, t.w)};
        case InputPattern::OneToOne:
            return {std::vector<int64_t>(static_cast<size_t>(t.h), 1), std::vector<int64_t>(static_cast<size_t>(t.w), 1)};
        case InputPattern::Dense:
            return {std::vector<int64_t>(static_cast<size_t>(t.h), s.h), std::vector<int64_t>(static_cast<size_t>(t.w), s.w)};
        case InputPattern::Explicit:  // not separable: counted from the synapse list (explicit_fan_in)
            return {std::vector<int64_t>(static_cast<size_t>(t.h), 0), std::vector<int64_t>(static_cast<size_t>(t.w), 0)};
    }
    return {};
}

AxisTaps axis_taps(const MapGraph& graph, const UnitInput& in, const Dims& t) {
    return axis_taps(source_dims(graph, in.source), in, t);
}

// Explicit: the inputs of every target unit (flat [C][H][W]) from source channels [in.c0, in.c1).
std::vector<int64_t> explicit_fan_in(const UnitInput& in, const Dims& s, const Dims& t) {
    std::vector<int64_t> f(static_cast<size_t>(t.c * t.h * t.w), 0);
    const ExplicitSynapses& e = *in.synapses;
    const int64_t plane = s.h * s.w;
    for (int64_t u = in.c0 * plane; u < in.c1 * plane; ++u)
        for (int32_t k = e.ptr[static_cast<size_t>(u)]; k < e.ptr[static_cast<size_t>(u) + 1]; ++k)
            ++f[static_cast<size_t>(e.target[static_cast<size_t>(k)])];
    return f;
}

// Source channels one target unit of `in` reads.
int64_t channels_read(const UnitInput& in) {
    return in.pattern == InputPattern::Conv || in.pattern == InputPattern::Dense ? in.c1 - in.c0 : 1;
}

// Whether every target channel may read any source channel (so channel slices are partial sums).
bool reads_all_channels(const UnitInput& in) {
    return in.pattern == InputPattern::Conv || in.pattern == InputPattern::Dense || in.pattern == InputPattern::Explicit;
}

int64_t max_of(const std::vector<int64_t>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// Exact largest fan-in of any unit from this input.
int64_t max_fan_in(const Dims& s, const UnitInput& in, const Dims& t) {
    if (in.pattern == InputPattern::Explicit) return max_of(explicit_fan_in(in, s, t));
    const AxisTaps a = axis_taps(s, in, t);
    return channels_read(in) * max_of(a.y) * max_of(a.x);
}

// Explicit: partial-sum groups of consecutive source channels, each as wide as the fan-in limit allows (greedy,
// exact per target unit). Throws MappingError when one source channel alone gives a target too many inputs.
std::vector<std::pair<int64_t, int64_t>> explicit_channel_groups(const UnitInput& in, const Dims& s, const Dims& t,
                                                                 int64_t limit, const std::string& layer,
                                                                 const std::string& chip) {
    const ExplicitSynapses& e = *in.synapses;
    const int64_t plane = s.h * s.w;
    std::vector<int64_t> group(static_cast<size_t>(t.c * t.h * t.w), 0), channel(group.size(), 0);
    std::vector<int32_t> touched;
    std::vector<std::pair<int64_t, int64_t>> out;
    int64_t start = in.c0;
    for (int64_t c = in.c0; c < in.c1; ++c) {
        touched.clear();
        for (int64_t u = c * plane; u < (c + 1) * plane; ++u)
            for (int32_t k = e.ptr[static_cast<size_t>(u)]; k < e.ptr[static_cast<size_t>(u) + 1]; ++k) {
                const int32_t tu = e.target[static_cast<size_t>(k)];
                if (channel[static_cast<size_t>(tu)]++ == 0) touched.push_back(tu);
            }
        int64_t alone = 0, joined = 0;
        for (int32_t tu : touched) {
            alone = std::max(alone, channel[static_cast<size_t>(tu)]);
            joined = std::max(joined, channel[static_cast<size_t>(tu)] + group[static_cast<size_t>(tu)]);
        }
        if (alone > limit)
            throw MappingError(fmt::format(
                "layer '{}' does not fit: one input channel of '{}' alone gives {} inputs and a '{}' neuron takes at "
                "most {} (chip.core.fan_in); partial sums split by channel cannot help",
                layer, in.projection, alone, chip, limit));
        if (joined > limit) {
            out.emplace_back(start, c);
            std::fill(group.begin(), group.end(), 0);
            start = c;
        }
        for (int32_t tu : touched) {
            group[static_cast<size_t>(tu)] += channel[static_cast<size_t>(tu)];
            channel[static_cast<size_t>(tu)] = 0;
        }
    }
    out.emplace_back(start, in.c1);
    return out;
}

MapLayer layer_for(const SnnModel& model, int pop) {
    const Population& p = model.populations[static_cast<size_t>(pop)];
    MapLayer l;
    l.name = p.name;
    l.population = pop;
    const Dims d = dims_of(p.shape);
    l.channels = d.c, l.height = d.h, l.width = d.w;
    l.bias = std::any_of(p.bias.begin(), p.bias.end(), [](float b) { return b != 0.0f; });
    switch (p.kind) {
        case PopulationKind::IF: l.kind = p.spiking ? UnitKind::Neuron : UnitKind::Readout; break;
        case PopulationKind::MaxGate: l.kind = UnitKind::Gate; break;
        case PopulationKind::Current: l.kind = UnitKind::Current; break;
        case PopulationKind::Input: throw InternalError("layer_for: input population");
    }
    return l;
}

// Partial-sum groups for one input: slices of its source channels, each within the fan-in limit.
std::vector<std::pair<int64_t, int64_t>> channel_groups(const UnitInput& in, int64_t per_channel, int64_t limit) {
    const int64_t n = in.c1 - in.c0;
    const int64_t per_group = limit / per_channel;
    const int64_t groups = (n + per_group - 1) / per_group;
    const int64_t size = (n + groups - 1) / groups;  // balanced
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t c = in.c0; c < in.c1; c += size) out.emplace_back(c, std::min(in.c1, c + size));
    return out;
}

}  // namespace

namespace {

// A recurrent input whose source layer is not built yet holds kPendingSource - population until build_map_graph
// knows the layer.
constexpr int kPendingSource = -2;

// Channel slices of a split input, each within the fan-in limit.
std::vector<std::pair<int64_t, int64_t>> split_groups(const UnitInput& in, const Dims& s, const Dims& t, int64_t limit,
                                                      const std::string& layer, const std::string& chip) {
    if (in.pattern == InputPattern::Explicit) return explicit_channel_groups(in, s, t, limit, layer, chip);
    const int64_t per_channel = in.fan_in / channels_read(in);
    if (per_channel > limit)
        throw MappingError(fmt::format(
            "layer '{}' does not fit: one input channel of '{}' alone gives {} inputs and a '{}' neuron "
            "takes at most {} (chip.core.fan_in); partial sums split by channel cannot help",
            layer, in.projection, per_channel, chip, limit));
    return channel_groups(in, per_channel, limit);
}

}  // namespace

MapGraph build_map_graph(const SnnModel& model, const ChipSpec& chip, const MapOptions& options) {
    MapGraph graph;
    graph.model = model.name;
    std::vector<int> layer_of(model.populations.size(), kHostSource);
    std::vector<bool> built(model.populations.size(), false);
    const int64_t limit = chip.core.fan_in;
    // Dims of an input's source, also of a recurrent source not built yet (from its population).
    auto dims_of_source = [&](const UnitInput& in) {
        if (in.source <= kPendingSource)
            return dims_of(model.populations[static_cast<size_t>(kPendingSource - in.source)].shape);
        return source_dims(graph, in.source);
    };
    for (int pop = 0; pop < static_cast<int>(model.populations.size()); ++pop) {
        const Population& p = model.populations[static_cast<size_t>(pop)];
        if (p.kind == PopulationKind::Input) {
            const Dims d = dims_of(p.shape);
            graph.host_channels = d.c, graph.host_height = d.h, graph.host_width = d.w;
            graph.host_rate = options.estimated_rate;
            built[static_cast<size_t>(pop)] = true;
            continue;
        }
        MapLayer l = layer_for(model, pop);
        const Dims t{l.channels, l.height, l.width};
        auto add_input = [&](const Projection* pr, int source_pop, InputPattern pattern, const Window2d& w,
                             const std::string& name) {
            UnitInput in;
            const bool recurrent = pr && pr->recurrent;
            if (!built[static_cast<size_t>(source_pop)] && !recurrent)
                throw MappingError(fmt::format("projection '{}' reads population {} before it is computed (only a "
                                               "recurrent projection may read its own or a later population)",
                                               name, source_pop));
            in.source = built[static_cast<size_t>(source_pop)] ? layer_of[static_cast<size_t>(source_pop)]
                                                                : kPendingSource - source_pop;
            in.recurrent = recurrent;
            in.pattern = pattern;
            in.window = w;
            if (pattern == InputPattern::Explicit) {
                auto e = std::make_shared<ExplicitSynapses>();
                e->ptr = pr->sparse_ptr;
                e->target = pr->sparse_target;
                in.synapses = std::move(e);
            }
            in.c0 = 0;
            in.c1 = dims_of_source(in).c;
            in.projection = name;
            in.fan_in = max_fan_in(dims_of_source(in), in, t);
            l.inputs.push_back(in);
        };
        if (p.kind == PopulationKind::MaxGate)
            add_input(nullptr, p.gate_source, InputPattern::Window, p.gate_window, p.name + " (gate)");
        for (int j : model.inputs_of(pop)) {
            const Projection& pr = model.projections[static_cast<size_t>(j)];
            switch (pr.kind) {
                case ProjectionKind::Conv: add_input(&pr, pr.source, InputPattern::Conv, pr.window, pr.name); break;
                case ProjectionKind::Identity: add_input(&pr, pr.source, InputPattern::OneToOne, {}, pr.name); break;
                case ProjectionKind::AvgPool:
                case ProjectionKind::MaxPool: add_input(&pr, pr.source, InputPattern::Window, pr.window, pr.name); break;
                case ProjectionKind::Linear: add_input(&pr, pr.source, InputPattern::Dense, {}, pr.name); break;
                case ProjectionKind::Sparse: add_input(&pr, pr.source, InputPattern::Explicit, {}, pr.name); break;
            }
        }

        // Fan-in: the neuron's inputs from all its projections, plus one when the bias takes a synapse.
        const int64_t bias_inputs = l.bias && chip.core.bias == BiasStorage::Synapse ? 1 : 0;
        std::vector<std::vector<std::pair<int64_t, int64_t>>> groups(l.inputs.size());  // non-empty: split
        auto root_fan_in = [&] {
            int64_t f = bias_inputs;
            for (size_t i = 0; i < l.inputs.size(); ++i)
                f += groups[i].empty() ? l.inputs[i].fan_in : static_cast<int64_t>(groups[i].size());
            return f;
        };
        const int64_t direct = root_fan_in();
        if (direct > limit) {
            if (options.fan_in == FanInStrategy::Fail)
                throw MappingError(fmt::format(
                    "layer '{}' does not fit: its neurons have up to {} inputs and a '{}' neuron takes at most {} "
                    "(chip.core.fan_in); mapping.fan_in: split adds partial-sum units",
                    l.name, direct, chip.name, limit));
            // Split the widest inputs first until the neuron's own inputs fit.
            std::vector<size_t> order(l.inputs.size());
            std::iota(order.begin(), order.end(), size_t{0});
            std::stable_sort(order.begin(), order.end(),
                             [&](size_t a, size_t b) { return l.inputs[a].fan_in > l.inputs[b].fan_in; });
            for (size_t i : order) {
                if (root_fan_in() <= limit) break;
                const UnitInput& in = l.inputs[i];
                if (!reads_all_channels(in)) continue;
                groups[i] = split_groups(in, dims_of_source(in), t, limit, l.name, chip.name);
            }
            if (root_fan_in() > limit)
                throw MappingError(fmt::format(
                    "layer '{}' does not fit: even with partial-sum units its neurons have {} inputs and a '{}' "
                    "neuron takes at most {} (chip.core.fan_in)",
                    l.name, root_fan_in(), chip.name, limit));
            std::vector<UnitInput> root_inputs;
            int part = 0;
            for (size_t i = 0; i < l.inputs.size(); ++i) {
                if (groups[i].empty()) {
                    root_inputs.push_back(l.inputs[i]);
                    continue;
                }
                const UnitInput& in = l.inputs[i];
                for (auto [c0, c1] : groups[i]) {
                    MapLayer partial;
                    partial.name = fmt::format("{}/partial{}", l.name, part);
                    partial.kind = UnitKind::Partial;
                    partial.population = pop;
                    partial.part = part++;
                    partial.channels = l.channels, partial.height = l.height, partial.width = l.width;
                    UnitInput slice = in;
                    slice.c0 = c0, slice.c1 = c1;
                    slice.fan_in = max_fan_in(dims_of_source(slice), slice, t);
                    partial.inputs.push_back(slice);
                    graph.layers.push_back(std::move(partial));
                    // A recurrent slice's partial sums are summed in the tick its spikes are sent (the partial
                    // units wait for the source, hw/tick_controller.cpp) and reach the neuron for the next step:
                    // the link carries the recurrence.
                    UnitInput link;
                    link.source = static_cast<int>(graph.layers.size()) - 1;
                    link.recurrent = in.recurrent;
                    link.pattern = InputPattern::OneToOne;
                    link.c0 = 0, link.c1 = l.channels;
                    link.fan_in = 1;
                    root_inputs.push_back(link);
                }
            }
            l.inputs = std::move(root_inputs);
        }
        graph.layers.push_back(std::move(l));
        layer_of[static_cast<size_t>(pop)] = static_cast<int>(graph.layers.size()) - 1;
        built[static_cast<size_t>(pop)] = true;
    }
    for (auto& l : graph.layers)  // recurrent inputs from layers built after their target
        for (auto& in : l.inputs)
            if (in.source <= kPendingSource) in.source = layer_of[static_cast<size_t>(kPendingSource - in.source)];
    std::vector<double> none(model.populations.size(), -1.0);
    for (auto& l : graph.layers)
        l.rate = l.kind == UnitKind::Readout ? 0.0 : options.estimated_rate;
    set_measured_rates(graph, none);
    return graph;
}

void set_measured_rates(MapGraph& graph, const std::vector<double>& population_rates) {
    for (auto& l : graph.layers) {
        if (l.kind == UnitKind::Neuron || l.kind == UnitKind::Gate) {
            const double r = l.population >= 0 && static_cast<size_t>(l.population) < population_rates.size()
                                 ? population_rates[static_cast<size_t>(l.population)]
                                 : -1.0;
            if (r >= 0) l.rate = r;
        } else if (l.kind == UnitKind::Partial || l.kind == UnitKind::Current) {
            // A graded unit sends its step's sum once when any input arrived: at most one event per step.
            double expected_inputs = 0;
            for (const auto& in : l.inputs)
                expected_inputs += static_cast<double>(in.fan_in) * source_rate(graph, in.source);
            l.rate = std::min(1.0, expected_inputs);
        }
    }
}

namespace {

// Tile sizes worth trying along an axis of length n: the smallest tile for each tile count.
std::vector<int64_t> tile_sizes(int64_t n) {
    std::vector<int64_t> out;
    for (int64_t count = 1; count <= n; ++count) {
        const int64_t size = (n + count - 1) / count;
        if (out.empty() || out.back() != size) out.push_back(size);
    }
    return out;  // descending
}

// The largest sum of `v` over the aligned windows [k*size, (k+1)*size).
int64_t max_window_sum(const std::vector<int64_t>& v, int64_t size) {
    int64_t best = 0;
    for (size_t k = 0; k < v.size(); k += static_cast<size_t>(size)) {
        int64_t s = 0;
        for (size_t i = k; i < std::min(v.size(), k + static_cast<size_t>(size)); ++i) s += v[i];
        best = std::max(best, s);
    }
    return best;
}

// The tiling of a layer already partitioned (or the host image, one tile).
struct Tiling {
    Dims tile, count;
};

Tiling tiling_of(const MapGraph& graph, int source) {
    if (source == kHostSource) return {{graph.host_channels, graph.host_height, graph.host_width}, {1, 1, 1}};
    const MapLayer& l = graph.layers[static_cast<size_t>(source)];
    if (l.tile_c == 0) return {{l.channels, l.height, l.width}, {1, 1, 1}};  // a recurrent source not partitioned yet
    return {{l.tile_c, l.tile_h, l.tile_w}, {l.tiles_c, l.tiles_h, l.tiles_w}};
}

// Target index ranges [lo, hi] along one axis reached from source range [i0, i1) through `in`.
std::pair<int64_t, int64_t> reach(const UnitInput& in, int axis, int64_t target_len, int64_t i0, int64_t i1) {
    const Window2d& w = in.window;
    switch (in.pattern) {
        case InputPattern::Conv:
        case InputPattern::Window:
            return axis == 0 ? outputs_reading(w.kernel_h, w.stride_h, w.pad_top, target_len, i0, i1)
                             : outputs_reading(w.kernel_w, w.stride_w, w.pad_left, target_len, i0, i1);
        case InputPattern::OneToOne: return {std::max<int64_t>(i0, 0), std::min(i1, target_len) - 1};
        case InputPattern::Dense:
        case InputPattern::Explicit: return {0, target_len - 1};  // Explicit: a bound (exact: explicit_targets)
    }
    return {0, -1};
}

// Target channel range [lo, hi] reached from source channels [c0, c1).
std::pair<int64_t, int64_t> reach_channels(const UnitInput& in, int64_t target_c, int64_t c0, int64_t c1) {
    const int64_t a = std::max(c0, in.c0), b = std::min(c1, in.c1);
    if (a >= b) return {0, -1};
    if (reads_all_channels(in)) return {0, target_c - 1};
    return {a, std::min(b, target_c) - 1};
}

// Sum over source tiles along one axis of (source units in the tile) x (target tiles of size `size` reached).
double reached_tiles_sum(const UnitInput& in, int axis, int64_t source_len, int64_t source_tile, int64_t target_len,
                         int64_t size) {
    double sum = 0;
    for (int64_t s0 = 0; s0 < source_len; s0 += source_tile) {
        const int64_t s1 = std::min(source_len, s0 + source_tile);
        const auto [lo, hi] = axis == 2 ? reach_channels(in, target_len, s0, s1) : reach(in, axis, target_len, s0, s1);
        if (lo <= hi) sum += static_cast<double>(s1 - s0) * static_cast<double>(hi / size - lo / size + 1);
    }
    return sum;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Explicit inputs' synapses per target unit, summed over boxes in O(1) (a 3-D prefix sum over [C][H][W]).
class BoxSums {
public:
    BoxSums(const std::vector<int64_t>& v, const Dims& d) : d_(d), p_(static_cast<size_t>((d.c + 1) * (d.h + 1) * (d.w + 1)), 0) {
        for (int64_t c = 0; c < d.c; ++c)
            for (int64_t y = 0; y < d.h; ++y)
                for (int64_t x = 0; x < d.w; ++x)
                    at(c + 1, y + 1, x + 1) = v[static_cast<size_t>((c * d.h + y) * d.w + x)] + at(c, y + 1, x + 1) +
                                              at(c + 1, y, x + 1) + at(c + 1, y + 1, x) - at(c, y, x + 1) -
                                              at(c, y + 1, x) - at(c + 1, y, x) + at(c, y, x);
    }
    int64_t sum(int64_t c0, int64_t c1, int64_t y0, int64_t y1, int64_t x0, int64_t x1) const {
        return at(c1, y1, x1) - at(c0, y1, x1) - at(c1, y0, x1) - at(c1, y1, x0) + at(c0, y0, x1) + at(c0, y1, x0) +
               at(c1, y0, x0) - at(c0, y0, x0);
    }
    // The fullest tile of a (tc, th, tw) tiling.
    int64_t max_tile(int64_t tc, int64_t th, int64_t tw) const {
        int64_t best = 0;
        for (int64_t c = 0; c < d_.c; c += tc)
            for (int64_t y = 0; y < d_.h; y += th)
                for (int64_t x = 0; x < d_.w; x += tw)
                    best = std::max(best, sum(c, std::min(d_.c, c + tc), y, std::min(d_.h, y + th), x, std::min(d_.w, x + tw)));
        return best;
    }

private:
    int64_t& at(int64_t c, int64_t y, int64_t x) { return p_[static_cast<size_t>((c * (d_.h + 1) + y) * (d_.w + 1) + x)]; }
    int64_t at(int64_t c, int64_t y, int64_t x) const { return p_[static_cast<size_t>((c * (d_.h + 1) + y) * (d_.w + 1) + x)]; }
    Dims d_;
    std::vector<int64_t> p_;
};

}  // namespace

std::vector<Core> partition(MapGraph& graph, const ChipSpec& chip) {
    std::vector<Core> cores;
    const int64_t capacity = chip.core.neurons, memory = chip.core.synapses;
    for (size_t li = 0; li < graph.layers.size(); ++li) {
        MapLayer& l = graph.layers[li];
        const Dims t{l.channels, l.height, l.width};
        std::vector<AxisTaps> taps_of;
        for (const auto& in : l.inputs) taps_of.push_back(axis_taps(graph, in, t));
        // Explicit inputs: synapses and inputs per target unit, exact from the synapse list.
        std::vector<std::vector<int64_t>> fan_of(l.inputs.size());
        std::vector<std::unique_ptr<BoxSums>> sums_of(l.inputs.size());
        for (size_t i = 0; i < l.inputs.size(); ++i)
            if (l.inputs[i].pattern == InputPattern::Explicit) {
                fan_of[i] = explicit_fan_in(l.inputs[i], source_dims(graph, l.inputs[i].source), t);
                sums_of[i] = std::make_unique<BoxSums>(fan_of[i], t);
            }
        const int64_t bias_entries = l.bias && chip.core.bias == BiasStorage::Synapse ? 1 : 0;
        const auto cs = tile_sizes(t.c), hs = tile_sizes(t.h), ws = tile_sizes(t.w);
        // Per input and per candidate tile size along each axis: the fullest tile's tap sum (synapse memory)
        // and the target tiles the source tiles reach (traffic), so that each (tc, th, tw) costs O(inputs).
        struct AxisCache {
            std::vector<int64_t> sum_y, sum_x;      // by index into hs / ws
            std::vector<double> reach_c, reach_y, reach_x;  // by index into cs / hs / ws
            double rate = 0;
        };
        std::vector<AxisCache> cache(l.inputs.size());
        for (size_t i = 0; i < l.inputs.size(); ++i) {
            const UnitInput& in = l.inputs[i];
            const Tiling s = tiling_of(graph, in.source);
            const Dims sd = source_dims(graph, in.source);
            AxisCache& a = cache[i];
            a.rate = source_rate(graph, in.source);
            for (int64_t th : hs) {
                a.sum_y.push_back(max_window_sum(taps_of[i].y, th));
                a.reach_y.push_back(reached_tiles_sum(in, 0, sd.h, s.tile.h, t.h, th));
            }
            for (int64_t tw : ws) {
                a.sum_x.push_back(max_window_sum(taps_of[i].x, tw));
                a.reach_x.push_back(reached_tiles_sum(in, 1, sd.w, s.tile.w, t.w, tw));
            }
            for (int64_t tc : cs) a.reach_c.push_back(reached_tiles_sum(in, 2, sd.c, s.tile.c, t.c, tc));
        }
        // Synapse memory of the fullest core of a tiling (an upper bound when inputs peak in different cores).
        auto worst_synapses = [&](int64_t tc, size_t hy, size_t wx) {
            int64_t s = tc * hs[hy] * ws[wx] * bias_entries;
            for (size_t i = 0; i < l.inputs.size(); ++i) {
                const UnitInput& in = l.inputs[i];
                if (chip.core.weight_sharing && in.pattern == InputPattern::Conv)
                    s += tc * (in.c1 - in.c0) * in.window.kernel_h * in.window.kernel_w;
                else if (in.pattern == InputPattern::Explicit)
                    s += sums_of[i]->max_tile(tc, hs[hy], ws[wx]);
                else
                    s += tc * channels_read(in) * cache[i].sum_y[hy] * cache[i].sum_x[wx];
            }
            return s;
        };
        // Events per step delivered into this layer's cores: each source core's events go to every core of
        // this layer that one of its units reaches.
        auto incoming = [&](size_t ci, size_t hy, size_t wx) {
            double d = 0;
            for (const auto& a : cache) d += a.rate * a.reach_c[ci] * a.reach_y[hy] * a.reach_x[wx];
            return d;
        };
        int64_t best_cores = std::numeric_limits<int64_t>::max(), best_neuron_cores = best_cores;
        double best_traffic = std::numeric_limits<double>::infinity();
        Dims best{0, 0, 0};
        for (size_t ci = 0; ci < cs.size(); ++ci) {
            const int64_t tc = cs[ci];
            for (size_t hy = 0; hy < hs.size(); ++hy) {
                const int64_t th = hs[hy];
                if (tc * th > capacity) continue;
                // The widest tile along x that fits both the neurons and the synapse memory.
                size_t wx = ws.size();
                for (size_t k = 0; k < ws.size(); ++k) {
                    if (tc * th * ws[k] > capacity) continue;
                    best_neuron_cores =
                        std::min(best_neuron_cores, ceil_div(t.c, tc) * ceil_div(t.h, th) * ceil_div(t.w, ws[k]));
                    if (worst_synapses(tc, hy, k) <= memory) {
                        wx = k;
                        break;
                    }
                }
                if (wx == ws.size()) continue;
                const int64_t n = ceil_div(t.c, tc) * ceil_div(t.h, th) * ceil_div(t.w, ws[wx]);
                if (n > best_cores) continue;
                const double traffic = incoming(ci, hy, wx);
                if (n < best_cores || traffic < best_traffic)
                    best_cores = n, best_traffic = traffic, best = {tc, th, ws[wx]};
            }
        }
        if (best.c == 0)
            throw MappingError(fmt::format(
                "layer '{}' does not fit: one of its units needs {} synapse entries and a '{}' core holds {} "
                "(chip.core.synapses)",
                l.name, worst_synapses(1, hs.size() - 1, ws.size() - 1), chip.name, memory));
        l.tile_c = best.c, l.tile_h = best.h, l.tile_w = best.w;
        l.tiles_c = ceil_div(t.c, best.c), l.tiles_h = ceil_div(t.h, best.h), l.tiles_w = ceil_div(t.w, best.w);
        l.first_core = static_cast<int64_t>(cores.size());
        l.cores = best_cores;
        l.binding = l.kind == UnitKind::Partial ? "fan-in" : best_cores > best_neuron_cores ? "synapses" : "neurons";
        for (int64_t ic = 0; ic < l.tiles_c; ++ic)
            for (int64_t iy = 0; iy < l.tiles_h; ++iy)
                for (int64_t ix = 0; ix < l.tiles_w; ++ix) {
                    Core c;
                    c.layer = static_cast<int>(li);
                    c.c0 = ic * best.c, c.c1 = std::min(t.c, c.c0 + best.c);
                    c.y0 = iy * best.h, c.y1 = std::min(t.h, c.y0 + best.h);
                    c.x0 = ix * best.w, c.x1 = std::min(t.w, c.x0 + best.w);
                    c.units = (c.c1 - c.c0) * (c.y1 - c.y0) * (c.x1 - c.x0);
                    c.synapses = c.units * bias_entries;
                    c.max_fan_in = bias_entries;
                    for (size_t i = 0; i < l.inputs.size(); ++i) {
                        const UnitInput& in = l.inputs[i];
                        const auto& ty = taps_of[i].y;
                        const auto& tx = taps_of[i].x;
                        const int64_t sy = std::accumulate(ty.begin() + c.y0, ty.begin() + c.y1, int64_t{0});
                        const int64_t sx = std::accumulate(tx.begin() + c.x0, tx.begin() + c.x1, int64_t{0});
                        const int64_t my = *std::max_element(ty.begin() + c.y0, ty.begin() + c.y1);
                        const int64_t mx = *std::max_element(tx.begin() + c.x0, tx.begin() + c.x1);
                        if (in.pattern == InputPattern::Explicit) {
                            c.synapses += sums_of[i]->sum(c.c0, c.c1, c.y0, c.y1, c.x0, c.x1);
                            int64_t most = 0;
                            for (int64_t cc = c.c0; cc < c.c1; ++cc)
                                for (int64_t yy = c.y0; yy < c.y1; ++yy)
                                    for (int64_t xx = c.x0; xx < c.x1; ++xx)
                                        most = std::max(most, fan_of[i][static_cast<size_t>((cc * t.h + yy) * t.w + xx)]);
                            c.max_fan_in += most;
                            continue;
                        }
                        if (chip.core.weight_sharing && in.pattern == InputPattern::Conv)
                            c.synapses += (c.c1 - c.c0) * (in.c1 - in.c0) * in.window.kernel_h * in.window.kernel_w;
                        else
                            c.synapses += (c.c1 - c.c0) * channels_read(in) * sy * sx;
                        c.max_fan_in += channels_read(in) * my * mx;
                    }
                    c.packets_per_step = static_cast<double>(c.units) * l.rate;
                    cores.push_back(c);
                }
    }
    return cores;
}

void target_boxes(const MapGraph& graph, int target, const Core& core, int source, int64_t c, int64_t y, int64_t x,
                  std::vector<TargetBox>& out) {
    const MapLayer& l = graph.layers[static_cast<size_t>(target)];
    for (const auto& in : l.inputs) {
        if (in.source != source) continue;
        if (in.pattern == InputPattern::Explicit) {  // one box of one unit per synapse into the core
            if (c < in.c0 || c >= in.c1) continue;
            const Dims s = source_dims(graph, source);
            const ExplicitSynapses& e = *in.synapses;
            const auto u = static_cast<size_t>((c * s.h + y) * s.w + x);
            for (int32_t k = e.ptr[u]; k < e.ptr[u + 1]; ++k) {
                const int64_t tu = e.target[static_cast<size_t>(k)];
                const int64_t tc = tu / (l.height * l.width), ty = tu / l.width % l.height, tx = tu % l.width;
                if (tc >= core.c0 && tc < core.c1 && ty >= core.y0 && ty < core.y1 && tx >= core.x0 && tx < core.x1)
                    out.push_back({tc, tc + 1, ty, ty + 1, tx, tx + 1, &in});
            }
            continue;
        }
        const auto [clo, chi] = reach_channels(in, l.channels, c, c + 1);
        const auto [ylo, yhi] = reach(in, 0, l.height, y, y + 1);
        const auto [xlo, xhi] = reach(in, 1, l.width, x, x + 1);
        TargetBox b{std::max(clo, core.c0), std::min(chi + 1, core.c1), std::max(ylo, core.y0),
                    std::min(yhi + 1, core.y1), std::max(xlo, core.x0), std::min(xhi + 1, core.x1), &in};
        if (b.c0 < b.c1 && b.y0 < b.y1 && b.x0 < b.x1) out.push_back(b);
    }
}

int64_t core_of(const MapLayer& l, int64_t c, int64_t y, int64_t x) {
    return l.first_core + ((c / l.tile_c) * l.tiles_h + y / l.tile_h) * l.tiles_w + x / l.tile_w;
}

void connect(Mapping& mapping) {
    const MapGraph& graph = mapping.graph;
    const int64_t n = static_cast<int64_t>(mapping.cores.size());
    std::vector<std::vector<int32_t>> dest(static_cast<size_t>(n + 1));
    // Sources of layer `source` as (core index, c0, c1, y0, y1, x0, x1); the host is one source.
    for (const auto& l : graph.layers) {
        for (const auto& in : l.inputs) {
            auto add = [&](int64_t src, int64_t c0, int64_t c1, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
                if (in.pattern == InputPattern::Explicit) {  // the cores holding the listed targets, exactly
                    const Dims s = source_dims(graph, in.source);
                    auto& d = dest[static_cast<size_t>(src)];
                    for (int64_t c = std::max(c0, in.c0); c < std::min(c1, in.c1); ++c)
                        for (int64_t y = y0; y < y1; ++y)
                            for (int64_t x = x0; x < x1; ++x) {
                                const auto u = static_cast<size_t>((c * s.h + y) * s.w + x);
                                for (int32_t k = in.synapses->ptr[u]; k < in.synapses->ptr[u + 1]; ++k) {
                                    const int64_t tu = in.synapses->target[static_cast<size_t>(k)];
                                    d.push_back(static_cast<int32_t>(core_of(l, tu / (l.height * l.width),
                                                                             tu / l.width % l.height, tu % l.width)));
                                }
                            }
                    return;
                }
                const auto [clo, chi] = reach_channels(in, l.channels, c0, c1);
                const auto [ylo, yhi] = reach(in, 0, l.height, y0, y1);
                const auto [xlo, xhi] = reach(in, 1, l.width, x0, x1);
                if (clo > chi || ylo > yhi || xlo > xhi) return;
                auto& d = dest[static_cast<size_t>(src)];
                for (int64_t ic = clo / l.tile_c; ic <= chi / l.tile_c; ++ic)
                    for (int64_t iy = ylo / l.tile_h; iy <= yhi / l.tile_h; ++iy)
                        for (int64_t ix = xlo / l.tile_w; ix <= xhi / l.tile_w; ++ix)
                            d.push_back(static_cast<int32_t>(core_of(l, ic * l.tile_c, iy * l.tile_h, ix * l.tile_w)));
            };
            if (in.source == kHostSource) {
                add(n, 0, graph.host_channels, 0, graph.host_height, 0, graph.host_width);
                continue;
            }
            const MapLayer& s = graph.layers[static_cast<size_t>(in.source)];
            for (int64_t k = s.first_core; k < s.first_core + s.cores; ++k) {
                const Core& c = mapping.cores[static_cast<size_t>(k)];
                add(k, c.c0, c.c1, c.y0, c.y1, c.x0, c.x1);
            }
        }
    }
    mapping.routes.offset.assign(1, 0);
    mapping.routes.dest.clear();
    for (auto& d : dest) {
        std::sort(d.begin(), d.end());
        d.erase(std::unique(d.begin(), d.end()), d.end());
        mapping.routes.dest.insert(mapping.routes.dest.end(), d.begin(), d.end());
        mapping.routes.offset.push_back(static_cast<int64_t>(mapping.routes.dest.size()));
    }
    mapping.source_packets.resize(static_cast<size_t>(n + 1));
    for (int64_t k = 0; k < n; ++k)
        mapping.source_packets[static_cast<size_t>(k)] = mapping.cores[static_cast<size_t>(k)].packets_per_step;
    mapping.source_packets[static_cast<size_t>(n)] =
        graph.host_rate * static_cast<double>(graph.host_channels * graph.host_height * graph.host_width);
}

Mesh size_mesh(const ChipSpec& chip, int64_t cores) {
    Mesh mesh;
    cores = std::max<int64_t>(cores, 1);
    if (chip.noc.width == 0) {
        const auto side = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(cores))));
        mesh.chip_width = static_cast<int32_t>(side);
        mesh.chip_height = static_cast<int32_t>(ceil_div(cores, side));
        return mesh;
    }
    mesh.chip_width = static_cast<int32_t>(chip.noc.width);
    mesh.chip_height = static_cast<int32_t>(chip.noc.height);
    const int64_t per_chip = chip.noc.width * chip.noc.height;
    const int64_t needed = ceil_div(cores, per_chip);
    int64_t chips = chip.noc.chips;
    if (chips == 0) {
        const auto cx = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(needed))));
        mesh.chips_x = static_cast<int32_t>(cx);
        mesh.chips_y = static_cast<int32_t>(ceil_div(needed, cx));
    } else {
        if (needed > chips)
            throw MappingError(fmt::format(
                "the network needs {} cores and {} chip(s) of {} x {} cores hold {} (chip.noc.width, chip.noc.height, "
                "chip.noc.chips; chips: 0 adds chips as needed)",
                cores, chips, chip.noc.width, chip.noc.height, chips * per_chip));
        // The most square grid of exactly `chips` chips.
        int64_t cx = static_cast<int64_t>(std::floor(std::sqrt(static_cast<double>(chips))));
        while (chips % cx != 0) --cx;
        mesh.chips_x = static_cast<int32_t>(chips / cx);
        mesh.chips_y = static_cast<int32_t>(cx);
    }
    // In 64 bits: width() and height() are int32 products and would overflow first (32768 x a prime number of chips).
    const int64_t width = int64_t{mesh.chip_width} * mesh.chips_x, height = int64_t{mesh.chip_height} * mesh.chips_y;
    if (width > (1 << 20) || height > (1 << 20))
        throw MappingError(fmt::format("a {} x {} mesh is beyond what neuroemu models (at most 1048576 routers a side)",
                                       width, height));
    // The per-router state of routing (routing.h: two int32 table counts, four float64 link loads) is allocated for
    // every router of the mesh, used or not.
    constexpr int64_t kBytesPerRouter = 2 * sizeof(int32_t) + 4 * sizeof(double);
    require_memory<MappingError>(fmt::format("a {} x {} mesh ({} routers, {} bytes of routing state each)", width,
                                             height, width * height, kBytesPerRouter),
                                 saturating_mul(width * height, kBytesPerRouter));
    return mesh;
}

std::vector<int64_t> placement_order(const Mapping& mapping) {
    // A population's partial-sum layers and its neurons read and feed the same positions: interleave their
    // cores by position (serpentine over the coarsest tiling of the group), so that the cores exchanging
    // partial sums start next to each other on the curve. Groups follow each other in topological order.
    std::vector<int64_t> order;
    const auto& layers = mapping.graph.layers;
    for (size_t first = 0; first < layers.size();) {
        size_t last = first + 1;
        while (last < layers.size() && layers[last].population == layers[first].population) ++last;
        int64_t rows = std::numeric_limits<int64_t>::max(), cols = rows;
        for (size_t i = first; i < last; ++i) rows = std::min(rows, layers[i].tiles_h), cols = std::min(cols, layers[i].tiles_w);
        std::vector<std::pair<std::array<int64_t, 4>, int64_t>> keyed;
        for (size_t i = first; i < last; ++i) {
            const MapLayer& l = layers[i];
            for (int64_t k = l.first_core; k < l.first_core + l.cores; ++k) {
                const Core& c = mapping.cores[static_cast<size_t>(k)];
                const int64_t row = (c.y0 + c.y1) * rows / (2 * l.height);
                int64_t col = (c.x0 + c.x1) * cols / (2 * l.width);
                if (row % 2) col = cols - 1 - col;
                keyed.push_back({{row, col, static_cast<int64_t>(i), c.c0}, k});
            }
        }
        std::sort(keyed.begin(), keyed.end());
        for (const auto& kv : keyed) order.push_back(kv.second);
        first = last;
    }
    return order;
}

void place(Mapping& mapping, const MapOptions& options) {
    const std::vector<int64_t> order = placement_order(mapping);
    PlacementProblem p;
    p.order = &order;
    p.width = mapping.mesh.width();
    p.height = mapping.mesh.height();
    p.cores = static_cast<int64_t>(mapping.cores.size());
    p.routes = &mapping.routes;
    p.packets = &mapping.source_packets;
    p.host_x = mapping.host_x;
    p.host_y = mapping.host_y;
    const std::vector<Position> pos = place_cores(p, options);
    for (size_t i = 0; i < mapping.cores.size(); ++i) mapping.cores[i].x = pos[i].x, mapping.cores[i].y = pos[i].y;
}

Mapping map_network(const SnnModel& model, const ChipSpec& chip, const MapOptions& options,
                    const std::vector<double>* population_rates, double host_rate, MapTimes* times) {
    using Clock = std::chrono::steady_clock;
    auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
    MapTimes local;
    MapTimes& t = times ? *times : local;
    Mapping mapping;
    mapping.model = model.name;
    mapping.chip = chip;
    auto t0 = Clock::now();
    mapping.graph = build_map_graph(model, chip, options);
    if (population_rates) set_measured_rates(mapping.graph, *population_rates);
    if (host_rate >= 0) mapping.graph.host_rate = host_rate;
    mapping.cores = partition(mapping.graph, chip);
    t.partition_s = since(t0);
    t0 = Clock::now();
    connect(mapping);
    mapping.mesh = size_mesh(chip, static_cast<int64_t>(mapping.cores.size()));
    mapping.host_x = 0, mapping.host_y = 0;
    t.connect_s = since(t0);
    t0 = Clock::now();
    place(mapping, options);
    t.place_s = since(t0);
    return mapping;
}

}  // namespace neuroemu
