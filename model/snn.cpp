#include "model/snn.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/little_endian.h"
#include "common/memory_limit.h"
#include "model/neuron_state.h"

namespace neuroemu {
namespace {

using json = nlohmann::json;

constexpr char kMagic[] = "NEUROEMU-SNN\n";
constexpr int64_t kMaxHeaderBytes = INT64_C(1) << 30;

// Valid input positions along one axis summed over every output position of a window.
int64_t covered_positions(int64_t in, int64_t out, int kernel, int stride, int pad) {
    int64_t total = 0;
    for (int64_t o = 0; o < out; ++o) {
        const int64_t lo = o * stride - pad;
        total += std::max<int64_t>(0, std::min<int64_t>(lo + kernel, in) - std::max<int64_t>(lo, 0));
    }
    return total;
}

json window_json(const Window2d& w) {
    return {{"kernel", {w.kernel_h, w.kernel_w}},
            {"stride", {w.stride_h, w.stride_w}},
            {"pads", {w.pad_top, w.pad_left, w.pad_bottom, w.pad_right}},
            {"ceil_mode", w.ceil_mode}};
}

template <typename E>
E enum_from(const std::string& text, std::initializer_list<E> values, const std::string& where) {
    std::string allowed;
    for (E v : values) {
        if (text == to_string(v)) return v;
        allowed += (allowed.empty() ? "" : ", ") + std::string(to_string(v));
    }
    throw ModelError(fmt::format("{}: '{}' is not one of {}", where, text, allowed));
}

// Reads the header with every access checked, so a damaged file names the field rather than crashing.
class Reader {
public:
    Reader(const json& root, std::string file) : root_(root), file_(std::move(file)) {}

    const json& at(const json& obj, const std::string& key, const std::string& where) const {
        if (!obj.is_object() || !obj.contains(key)) fail(where, fmt::format("missing field '{}'", key));
        return obj.at(key);
    }
    template <typename T>
    T get(const json& obj, const std::string& key, const std::string& where) const {
        const json& v = at(obj, key, where);
        try {
            return v.get<T>();
        } catch (const json::exception&) {
            fail(where, fmt::format("field '{}' has the wrong type ({})", key, v.type_name()));
        }
    }
    Window2d window(const json& obj, const std::string& where) const {
        const json& w = at(obj, "window", where);
        const auto k = get<std::vector<int>>(w, "kernel", where + ".window");
        const auto s = get<std::vector<int>>(w, "stride", where + ".window");
        const auto p = get<std::vector<int>>(w, "pads", where + ".window");
        if (k.size() != 2 || s.size() != 2 || p.size() != 4)
            fail(where + ".window", "expected kernel [h, w], stride [h, w], pads [top, left, bottom, right]");
        Window2d out;
        out.kernel_h = k[0], out.kernel_w = k[1], out.stride_h = s[0], out.stride_w = s[1];
        out.pad_top = p[0], out.pad_left = p[1], out.pad_bottom = p[2], out.pad_right = p[3];
        out.ceil_mode = get<bool>(w, "ceil_mode", where + ".window");
        return out;
    }
    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw ModelError(fmt::format("{}: {}: {}", file_, where, what));
    }

private:
    const json& root_;
    std::string file_;
};

std::vector<int64_t> implied_shape(const SnnModel& model, const Projection& p, const std::string& who) {
    const auto& src = model.populations[static_cast<size_t>(p.source)].shape;
    const auto& dst = model.populations[static_cast<size_t>(p.target)].shape;
    switch (p.kind) {
        case ProjectionKind::Conv:
            if (p.weight.shape.size() != 4 || src.size() != 3 || p.weight.shape[1] != src[0] ||
                p.weight.shape[2] != p.window.kernel_h || p.weight.shape[3] != p.window.kernel_w)
                throw ModelError(fmt::format("{}: weight {} does not fit source {} and kernel {}x{}", who,
                                             shape_str(p.weight.shape), shape_str(src), p.window.kernel_h,
                                             p.window.kernel_w));
            return window_output_shape(who, src, p.weight.shape[0], p.window, true);
        case ProjectionKind::AvgPool:
            if (p.weight.shape != std::vector<int64_t>{src.empty() ? 0 : src[0]})
                throw ModelError(fmt::format("{}: weight {} must be one value per channel", who, shape_str(p.weight.shape)));
            return window_output_shape(who, src, src[0], p.window, false);
        case ProjectionKind::MaxPool:
            if (model.populations[static_cast<size_t>(p.source)].kind != PopulationKind::Current)
                throw ModelError(who + ": a max_pool projection reads a 'current' population");
            if (p.weight.shape != std::vector<int64_t>{src.empty() ? 0 : src[0]})
                throw ModelError(fmt::format("{}: weight {} must be one value per channel", who, shape_str(p.weight.shape)));
            return window_output_shape(who, src, src[0], p.window, false);
        case ProjectionKind::Identity:
            if (p.weight.shape != std::vector<int64_t>{src.empty() ? 0 : src[0]})
                throw ModelError(fmt::format("{}: weight {} must be one value per channel", who, shape_str(p.weight.shape)));
            return src;
        case ProjectionKind::Linear:
            if (p.weight.shape.size() != 2 || p.weight.shape[1] != shape_numel(src))
                throw ModelError(fmt::format("{}: weight {} does not fit a source of {} neurons", who,
                                             shape_str(p.weight.shape), shape_numel(src)));
            return {p.weight.shape[0]};
        case ProjectionKind::Sparse:
            if (p.sparse_ptr.size() != static_cast<size_t>(shape_numel(src)) + 1 ||
                p.weight.shape != std::vector<int64_t>{static_cast<int64_t>(p.sparse_target.size())})
                throw ModelError(fmt::format("{}: sparse synapses do not fit a source of {} neurons", who, shape_numel(src)));
            return dst;
    }
    throw InternalError("unknown projection kind");
}

// Version 2: the neuron model of a population and its parameters.
void validate_neuron(const SnnModel& model, const Population& p, const std::string& who) {
    const NeuronParams& n = p.neuron;
    if (n.model.empty()) throw ModelError(who + ": neuron.model is empty (expected a neuron model, e.g. 'if')");
    const auto check = [&](const std::vector<float>& v, const char* what, bool positive) {
        if (v.size() > 1 && static_cast<int64_t>(v.size()) != p.channels())
            throw ModelError(fmt::format("{}: neuron.{} has {} values, expected 0, 1 or {}", who, what, v.size(),
                                         p.channels()));
        for (float x : v) {
            if (!std::isfinite(x)) throw ModelError(fmt::format("{}: neuron.{} holds {}", who, what, x));
            if (positive && !(x > 0.0f)) throw ModelError(fmt::format("{}: neuron.{} {} must be > 0", who, what, x));
        }
    };
    check(n.tau_mem_s, "tau_mem_s", true);
    check(n.tau_syn_s, "tau_syn_s", true);
    check(n.r, "r", false);
    check(n.v_leak, "v_leak", false);
    check(n.v_reset, "v_reset", false);
    check(n.w_in, "w_in", false);
    // The time-continuous models need a step; `if` and `threshold` have no time constant.
    if (n.model != "if" && n.model != "threshold" && !(model.dt_s > 0.0))
        throw ModelError(fmt::format("{}: neuron model '{}' is stepped at dt_s, which is {} (expected > 0)", who,
                                     n.model, model.dt_s));
}

// Explicit synapses: pointers from 0 up to nnz, per source, onto ascending targets inside the target.
void validate_sparse(const SnnModel& model, const Projection& p, const std::string& who) {
    if (p.kind != ProjectionKind::Sparse) {
        if (!p.sparse_ptr.empty() || !p.sparse_target.empty())
            throw ModelError(who + ": sparse_ptr and sparse_target are for 'sparse' projections only");
        return;
    }
    const int64_t sources = model.populations[static_cast<size_t>(p.source)].size();
    const int64_t targets = model.populations[static_cast<size_t>(p.target)].size();
    const int64_t nnz = static_cast<int64_t>(p.sparse_target.size());
    if (static_cast<int64_t>(p.sparse_ptr.size()) != sources + 1)
        throw ModelError(fmt::format("{}: sparse_ptr has {} entries, expected {} (source neurons + 1)", who,
                                     p.sparse_ptr.size(), sources + 1));
    if (p.weight.shape != std::vector<int64_t>{nnz})
        throw ModelError(fmt::format("{}: weight {} must be [{}], one value per synapse", who,
                                     shape_str(p.weight.shape), nnz));
    if (p.sparse_ptr.front() != 0 || p.sparse_ptr.back() != nnz)
        throw ModelError(fmt::format("{}: sparse_ptr must run from 0 to {} (the synapses), not {} to {}", who, nnz,
                                     p.sparse_ptr.front(), p.sparse_ptr.back()));
    // Pointers first: monotone from 0 to nnz keeps every range below inside sparse_target.
    for (int64_t s = 0; s < sources; ++s)
        if (p.sparse_ptr[static_cast<size_t>(s) + 1] < p.sparse_ptr[static_cast<size_t>(s)])
            throw ModelError(fmt::format("{}: sparse_ptr decreases at source neuron {}", who, s));
    for (int64_t s = 0; s < sources; ++s) {
        const int32_t lo = p.sparse_ptr[static_cast<size_t>(s)], hi = p.sparse_ptr[static_cast<size_t>(s) + 1];
        for (int32_t k = lo; k < hi; ++k) {
            const int32_t t = p.sparse_target[static_cast<size_t>(k)];
            if (t < 0 || t >= targets)
                throw ModelError(fmt::format("{}: sparse_target[{}] = {} is not a neuron of the target (0..{})", who,
                                             k, t, targets - 1));
            if (k > lo && t <= p.sparse_target[static_cast<size_t>(k) - 1])
                throw ModelError(fmt::format("{}: the targets of source neuron {} are not strictly ascending at "
                                             "sparse_target[{}]", who, s, k));
        }
    }
}

}  // namespace

const char* to_string(PopulationKind k) {
    switch (k) {
        case PopulationKind::Input: return "input";
        case PopulationKind::IF: return "if";
        case PopulationKind::MaxGate: return "max_gate";
        case PopulationKind::Current: return "current";
    }
    return "?";
}

const char* to_string(ProjectionKind k) {
    switch (k) {
        case ProjectionKind::Conv: return "conv";
        case ProjectionKind::Identity: return "identity";
        case ProjectionKind::AvgPool: return "avg_pool";
        case ProjectionKind::Linear: return "linear";
        case ProjectionKind::MaxPool: return "max_pool";
        case ProjectionKind::Sparse: return "sparse";
    }
    return "?";
}

const char* to_string(ResetMode r) {
    switch (r) {
        case ResetMode::Subtract: return "subtract";
        case ResetMode::Zero: return "zero";
        case ResetMode::ToValue: return "to_value";
    }
    return "?";
}
const char* to_string(Discretisation d) { return d == Discretisation::Euler ? "euler" : "exact"; }

std::vector<int> SnnModel::inputs_of(int pop) const {
    std::vector<int> out;
    for (size_t i = 0; i < projections.size(); ++i)
        if (projections[i].target == pop) out.push_back(static_cast<int>(i));
    return out;
}

int64_t synapse_count(const SnnModel& model, const Projection& p) {
    const auto& src = model.populations[static_cast<size_t>(p.source)].shape;
    const auto& dst = model.populations[static_cast<size_t>(p.target)].shape;
    switch (p.kind) {
        case ProjectionKind::Conv:
        case ProjectionKind::AvgPool:
        case ProjectionKind::MaxPool: {
            const Window2d& w = p.window;
            const int64_t per_channel_pair = covered_positions(src[1], dst[1], w.kernel_h, w.stride_h, w.pad_top) *
                                             covered_positions(src[2], dst[2], w.kernel_w, w.stride_w, w.pad_left);
            return p.kind == ProjectionKind::Conv ? per_channel_pair * src[0] * dst[0] : per_channel_pair * src[0];
        }
        case ProjectionKind::Identity:
            return shape_numel(src);
        case ProjectionKind::Linear:
            return shape_numel(src) * shape_numel(dst);
        case ProjectionKind::Sparse:
            return static_cast<int64_t>(p.sparse_target.size());
    }
    return 0;
}

int64_t SnnModel::synapse_count() const {
    int64_t total = 0;
    for (const auto& p : projections) total += neuroemu::synapse_count(*this, p);
    return total;
}

void validate(const SnnModel& model, const std::string& where) {
    const int n = static_cast<int>(model.populations.size());
    if (n < 2) throw ModelError(fmt::format("{}: a spiking network needs an input and at least one more population", where));
    if (model.populations[0].kind != PopulationKind::Input)
        throw ModelError(fmt::format("{}: population 0 must be the input", where));
    if (model.output < 1 || model.output >= n)
        throw ModelError(fmt::format("{}: output {} is not a population", where, model.output));
    if (!(model.v_init >= 0.0f && model.v_init < 1.0f))
        throw ModelError(fmt::format("{}: v_init {} must be in [0, 1)", where, model.v_init));
    if (!(model.dt_s >= 0.0 && std::isfinite(model.dt_s)))
        throw ModelError(fmt::format("{}: dt_s {} must be a finite time >= 0", where, model.dt_s));
    for (int i = 0; i < n; ++i) {
        const Population& p = model.populations[static_cast<size_t>(i)];
        const std::string who = fmt::format("{}: population {} '{}'", where, i, p.name);
        if (p.shape.empty() || p.shape.size() == 2 || p.shape.size() > 3)
            throw ModelError(fmt::format("{}: shape {} must be [C, H, W] or [N]", who, shape_str(p.shape)));
        try {
            checked_numel(p.shape, INT64_C(1) << 32);
        } catch (const Error& e) {
            throw ModelError(fmt::format("{}: shape: {}", who, e.what()));
        }
        if (i > 0 && p.kind == PopulationKind::Input) throw ModelError(who + ": only population 0 may be the input");
        if (p.kind == PopulationKind::Current && (p.spiking || i == model.output))
            throw ModelError(who + ": a 'current' population never fires (spiking false) and cannot be the readout");
        auto per_channel = [&](const std::vector<float>& v, const char* what, bool may_be_empty) {
            if (v.empty() && may_be_empty) return;
            if (v.size() != 1 && static_cast<int64_t>(v.size()) != p.channels())
                throw ModelError(fmt::format("{}: {} has {} values, expected 1 or {}", who, what, v.size(), p.channels()));
            for (float x : v)
                if (!std::isfinite(x)) throw ModelError(fmt::format("{}: {} holds {}", who, what, x));
        };
        per_channel(p.lambda, "lambda", false);
        per_channel(p.threshold, "threshold", p.kind != PopulationKind::IF);
        per_channel(p.bias, "bias", true);
        if (static_cast<int64_t>(p.bias.size()) != p.channels() && !p.bias.empty())
            throw ModelError(fmt::format("{}: bias needs one value per channel", who));
        if (p.kind == PopulationKind::IF)
            for (size_t c = 0; c < p.threshold.size(); ++c)
                if (!(p.threshold[c] > 0.0f)) throw ModelError(fmt::format("{}: threshold {} must be > 0", who, p.threshold[c]));
        for (float l : p.lambda)
            if (!(l > 0.0f)) throw ModelError(fmt::format("{}: lambda {} must be > 0", who, l));
        validate_neuron(model, p, who);
        if (p.kind == PopulationKind::MaxGate) {
            if (p.gate_source < 0 || p.gate_source >= i)
                throw ModelError(fmt::format("{}: gate source {} must be an earlier population", who, p.gate_source));
            const auto want = window_output_shape(who, model.populations[static_cast<size_t>(p.gate_source)].shape,
                                                  model.populations[static_cast<size_t>(p.gate_source)].channels(),
                                                  p.gate_window, false);
            if (want != p.shape)
                throw ModelError(fmt::format("{}: shape {} but its window gives {}", who, shape_str(p.shape), shape_str(want)));
        } else if (i > 0 && model.inputs_of(i).empty()) {
            throw ModelError(who + ": no projection reaches it");
        }
    }
    // The engine and the chip model keep state for every neuron: the total, against the memory budget, before either
    // allocates it (each population alone is bounded above, 2^32 neurons; a .snn header may declare many).
    int64_t neurons = 0;
    for (const Population& p : model.populations) neurons = saturating_add(neurons, shape_numel(p.shape));
    require_memory<ModelError>(fmt::format("{}: the {} neurons of {} populations ({} bytes of state each)", where,
                                           neurons, n, kNeuronStateBytes),
                               saturating_mul(neurons, kNeuronStateBytes));
    for (size_t k = 0; k < model.projections.size(); ++k) {
        const Projection& p = model.projections[k];
        const std::string who = fmt::format("{}: projection {} '{}'", where, k, p.name);
        if (p.source < 0 || p.source >= n || p.target < 1 || p.target >= n || (p.source >= p.target && !p.recurrent))
            throw ModelError(fmt::format("{}: source {} and target {} must be populations with source < target "
                                         "(or the projection recurrent)", who, p.source, p.target));
        const PopulationKind target_kind = model.populations[static_cast<size_t>(p.target)].kind;
        if (target_kind != PopulationKind::IF && (target_kind != PopulationKind::Current || p.kind == ProjectionKind::MaxPool))
            throw ModelError(who + ": the target must be a population of IF neurons (or a 'current' population, "
                                   "except for max_pool)");
        if (model.populations[static_cast<size_t>(p.source)].kind == PopulationKind::Current &&
            p.kind != ProjectionKind::MaxPool)
            throw ModelError(who + ": a 'current' population sends no spikes; only a max_pool projection reads it");
        if (shape_numel(p.weight.shape) != p.weight.numel())
            throw ModelError(fmt::format("{}: weight shape {} holds {} values", who, shape_str(p.weight.shape), p.weight.numel()));
        for (float x : p.weight.data)
            if (!std::isfinite(x)) throw ModelError(fmt::format("{}: weight holds {}", who, x));
        validate_sparse(model, p, who);
        const auto want = implied_shape(model, p, who);
        const auto& got = model.populations[static_cast<size_t>(p.target)].shape;
        if (shape_numel(want) != shape_numel(got) || (p.kind != ProjectionKind::Linear && want != got))
            throw ModelError(fmt::format("{}: produces {} but the target is {}", who, shape_str(want), shape_str(got)));
    }
}

int snn_format_version(const SnnModel& model) {
    bool v2 = model.reset == ResetMode::ToValue || model.fire_above || model.dt_s != 0.0 ||
              model.discretisation != Discretisation::Euler || model.source_format != "onnx";
    for (const auto& p : model.populations) v2 = v2 || !(p.neuron == NeuronParams{});
    for (const auto& p : model.projections)
        v2 = v2 || p.kind == ProjectionKind::Sparse || p.recurrent || !p.sparse_ptr.empty() || !p.sparse_target.empty();
    return v2 ? 2 : SnnModel::kFormatVersion;
}

void save_snn(const SnnModel& model, const std::string& path) {
    validate(model, path);
    const int version = snn_format_version(model);
    std::vector<float> blob;
    std::vector<int32_t> ints;  // version 2: the index arrays of sparse projections
    json pops = json::array(), projs = json::array();
    for (const auto& p : model.populations) {
        json j = {{"name", p.name},         {"kind", to_string(p.kind)}, {"shape", p.shape},
                  {"lambda", p.lambda},     {"threshold", p.threshold},  {"bias", p.bias},
                  {"spiking", p.spiking}};
        if (p.kind == PopulationKind::MaxGate) {
            j["gate_source"] = p.gate_source;
            j["window"] = window_json(p.gate_window);
        }
        if (version >= 2) {
            const NeuronParams& n = p.neuron;
            j["neuron"] = {{"model", n.model}, {"tau_mem_s", n.tau_mem_s}, {"tau_syn_s", n.tau_syn_s}, {"r", n.r},
                           {"v_leak", n.v_leak}, {"v_reset", n.v_reset}, {"w_in", n.w_in}};
        }
        pops.push_back(j);
    }
    for (const auto& p : model.projections) {
        json j = {{"name", p.name},
                  {"kind", to_string(p.kind)},
                  {"source", p.source},
                  {"target", p.target},
                  {"shortcut", p.shortcut},
                  {"weight", {{"shape", p.weight.shape}, {"offset", blob.size()}}}};
        if (p.kind == ProjectionKind::Conv || p.kind == ProjectionKind::AvgPool || p.kind == ProjectionKind::MaxPool)
            j["window"] = window_json(p.window);
        if (p.kind == ProjectionKind::AvgPool) j["count_include_pad"] = p.count_include_pad;
        if (version >= 2) j["recurrent"] = p.recurrent;
        if (p.kind == ProjectionKind::Sparse) {
            j["sparse_ptr"] = {{"offset", ints.size()}, {"count", p.sparse_ptr.size()}};
            ints.insert(ints.end(), p.sparse_ptr.begin(), p.sparse_ptr.end());
            j["sparse_target"] = {{"offset", ints.size()}, {"count", p.sparse_target.size()}};
            ints.insert(ints.end(), p.sparse_target.begin(), p.sparse_target.end());
        }
        blob.insert(blob.end(), p.weight.data.begin(), p.weight.data.end());
        projs.push_back(j);
    }
    const auto& r = model.record;
    json header = {{"format", "neuroemu-snn"},
                   {"version", version},
                   {"name", model.name},
                   {"output", model.output},
                   {"reset", to_string(model.reset)},
                   {"v_init", model.v_init},
                   {"conversion",
                    {{"source_model", r.source_model},
                     {"percentile", r.percentile},
                     {"calibration_images", r.calibration_images},
                     {"channel_wise", r.channel_wise},
                     {"shortcut_normalisation", r.shortcut_normalisation},
                     {"zeta", r.zeta},
                     {"fit_p", r.fit_p},
                     {"fit_q", r.fit_q},
                     {"fit_adj_r2", r.fit_adj_r2}}},
                   {"populations", pops},
                   {"projections", projs},
                   {"blob_floats", blob.size()}};
    if (version >= 2) {
        header["fire_above"] = model.fire_above;
        header["dt_s"] = model.dt_s;
        header["discretisation"] = to_string(model.discretisation);
        header["source_format"] = model.source_format;
        header["blob_int32s"] = ints.size();
    }
    const std::string text = header.dump(1);
    const uint64_t len = text.size();
    std::string bytes;
    bytes.reserve(sizeof(kMagic) - 1 + 8 + text.size() + 4 * blob.size() + 4 * ints.size());
    bytes.append(kMagic, sizeof(kMagic) - 1);
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(len >> (8 * i)));
    bytes += text;
    for (float f : blob) {  // little-endian float32, whatever the host
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>(bits >> (8 * i)));
    }
    for (int32_t v : ints) {  // version 2: little-endian int32 after the floats
        char le[4];
        put_le<int32_t>(le, v);
        bytes.append(le, 4);
    }
    write_file_atomic(path, bytes);
}

SnnModel load_snn(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError(fmt::format("{}: cannot open", path));
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t magic = sizeof(kMagic) - 1;
    if (bytes.compare(0, magic, kMagic) != 0)
        throw ModelError(fmt::format("{}: not a neuroemu .snn file (it should start with 'NEUROEMU-SNN'); make one with "
                                     "'neuroemu convert'", path));
    if (bytes.size() < magic + 8) throw ModelError(fmt::format("{}: truncated before the header length", path));
    uint64_t len = 0;
    for (int i = 0; i < 8; ++i) len |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[magic + static_cast<size_t>(i)])) << (8 * i);
    if (len > static_cast<uint64_t>(kMaxHeaderBytes) || len > bytes.size() - magic - 8)
        throw ModelError(fmt::format("{}: header length {} runs past the end of the file ({} bytes)", path, len, bytes.size()));
    json root;
    try {
        root = json::parse(bytes.begin() + static_cast<std::ptrdiff_t>(magic + 8),
                           bytes.begin() + static_cast<std::ptrdiff_t>(magic + 8 + len));
    } catch (const json::exception& e) {
        throw ModelError(fmt::format("{}: header is not valid JSON: {}", path, e.what()));
    }
    const Reader r(root, path);
    if (r.get<std::string>(root, "format", "header") != "neuroemu-snn")
        r.fail("header", "field 'format' must be 'neuroemu-snn'");
    const int version = r.get<int>(root, "version", "header");
    if (version < SnnModel::kFormatVersion || version > SnnModel::kFormatVersionMax)
        r.fail("header", fmt::format("format version {} is not supported (this neuroemu reads versions {} to {}); "
                                     "convert the model again", version, SnnModel::kFormatVersion,
                                     SnnModel::kFormatVersionMax));
    const bool v2 = version >= 2;
    const size_t blob_start = magic + 8 + len;
    const uint64_t blob_floats = r.get<uint64_t>(root, "blob_floats", "header");
    const uint64_t blob_int32s = v2 ? r.get<uint64_t>(root, "blob_int32s", "header") : 0;
    const uint64_t blob_bytes = bytes.size() - blob_start;
    if (blob_floats > blob_bytes / 4 || blob_int32s > blob_bytes / 4 || (blob_floats + blob_int32s) * 4 != blob_bytes)
        r.fail("header", fmt::format("blob_floats {}{} but the file holds {} bytes of weights (truncated or damaged)",
                                     blob_floats, v2 ? fmt::format(" and blob_int32s {}", blob_int32s) : "",
                                     blob_bytes));
    const size_t ints_start = blob_start + static_cast<size_t>(blob_floats) * 4;
    SnnModel model;
    model.name = r.get<std::string>(root, "name", "header");
    model.output = r.get<int>(root, "output", "header");
    model.reset = v2 ? enum_from(r.get<std::string>(root, "reset", "header"),
                                 {ResetMode::Subtract, ResetMode::Zero, ResetMode::ToValue}, path + ": header.reset")
                     : enum_from(r.get<std::string>(root, "reset", "header"), {ResetMode::Subtract, ResetMode::Zero},
                                 path + ": header.reset");
    model.v_init = r.get<float>(root, "v_init", "header");
    if (v2) {
        model.fire_above = r.get<bool>(root, "fire_above", "header");
        model.dt_s = r.get<double>(root, "dt_s", "header");
        model.discretisation = enum_from(r.get<std::string>(root, "discretisation", "header"),
                                         {Discretisation::Euler, Discretisation::Exact}, path + ": header.discretisation");
        model.source_format = r.get<std::string>(root, "source_format", "header");
    }
    const json& c = r.at(root, "conversion", "header");
    model.record.source_model = r.get<std::string>(c, "source_model", "conversion");
    model.record.percentile = r.get<double>(c, "percentile", "conversion");
    model.record.calibration_images = r.get<int64_t>(c, "calibration_images", "conversion");
    model.record.channel_wise = r.get<bool>(c, "channel_wise", "conversion");
    model.record.shortcut_normalisation = r.get<bool>(c, "shortcut_normalisation", "conversion");
    model.record.zeta = r.get<double>(c, "zeta", "conversion");
    model.record.fit_p = r.get<double>(c, "fit_p", "conversion");
    model.record.fit_q = r.get<double>(c, "fit_q", "conversion");
    model.record.fit_adj_r2 = r.get<double>(c, "fit_adj_r2", "conversion");
    const json& pops = r.at(root, "populations", "header");
    if (!pops.is_array()) r.fail("header", "'populations' must be a list");
    for (size_t i = 0; i < pops.size(); ++i) {
        const std::string where = fmt::format("populations[{}]", i);
        const json& j = pops[i];
        Population p;
        p.name = r.get<std::string>(j, "name", where);
        p.kind = enum_from(r.get<std::string>(j, "kind", where),
                           {PopulationKind::Input, PopulationKind::IF, PopulationKind::MaxGate, PopulationKind::Current},
                           path + ": " + where + ".kind");
        p.shape = r.get<std::vector<int64_t>>(j, "shape", where);
        p.lambda = r.get<std::vector<float>>(j, "lambda", where);
        p.threshold = r.get<std::vector<float>>(j, "threshold", where);
        p.bias = r.get<std::vector<float>>(j, "bias", where);
        p.spiking = r.get<bool>(j, "spiking", where);
        if (p.kind == PopulationKind::MaxGate) {
            p.gate_source = r.get<int>(j, "gate_source", where);
            p.gate_window = r.window(j, where);
        }
        if (v2) {
            const json& n = r.at(j, "neuron", where);
            const std::string nw = where + ".neuron";
            p.neuron.model = r.get<std::string>(n, "model", nw);
            p.neuron.tau_mem_s = r.get<std::vector<float>>(n, "tau_mem_s", nw);
            p.neuron.tau_syn_s = r.get<std::vector<float>>(n, "tau_syn_s", nw);
            p.neuron.r = r.get<std::vector<float>>(n, "r", nw);
            p.neuron.v_leak = r.get<std::vector<float>>(n, "v_leak", nw);
            p.neuron.v_reset = r.get<std::vector<float>>(n, "v_reset", nw);
            p.neuron.w_in = r.get<std::vector<float>>(n, "w_in", nw);
        }
        model.populations.push_back(std::move(p));
    }
    const json& projs = r.at(root, "projections", "header");
    if (!projs.is_array()) r.fail("header", "'projections' must be a list");
    for (size_t i = 0; i < projs.size(); ++i) {
        const std::string where = fmt::format("projections[{}]", i);
        const json& j = projs[i];
        Projection p;
        p.name = r.get<std::string>(j, "name", where);
        p.kind = v2 ? enum_from(r.get<std::string>(j, "kind", where),
                                {ProjectionKind::Conv, ProjectionKind::Identity, ProjectionKind::AvgPool,
                                 ProjectionKind::Linear, ProjectionKind::MaxPool, ProjectionKind::Sparse},
                                path + ": " + where + ".kind")
                    : enum_from(r.get<std::string>(j, "kind", where),
                                {ProjectionKind::Conv, ProjectionKind::Identity, ProjectionKind::AvgPool,
                                 ProjectionKind::Linear, ProjectionKind::MaxPool},
                                path + ": " + where + ".kind");
        p.source = r.get<int>(j, "source", where);
        p.target = r.get<int>(j, "target", where);
        p.shortcut = r.get<bool>(j, "shortcut", where);
        const json& w = r.at(j, "weight", where);
        p.weight.shape = r.get<std::vector<int64_t>>(w, "shape", where + ".weight");
        const uint64_t offset = r.get<uint64_t>(w, "offset", where + ".weight");
        int64_t count = 0;
        try {
            count = checked_numel(p.weight.shape, INT64_C(1) << 40);
        } catch (const Error& e) {
            r.fail(where + ".weight", fmt::format("shape: {}", e.what()));
        }
        if (offset > blob_floats || static_cast<uint64_t>(count) > blob_floats - offset)
            r.fail(where + ".weight", fmt::format("offset {} + {} values runs past the {} stored", offset, count, blob_floats));
        p.weight.data.resize(static_cast<size_t>(count));
        for (int64_t k = 0; k < count; ++k) {
            const auto* b = reinterpret_cast<const unsigned char*>(bytes.data() + blob_start + (offset + static_cast<uint64_t>(k)) * 4);
            const uint32_t bits = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
            std::memcpy(&p.weight.data[static_cast<size_t>(k)], &bits, 4);
        }
        if (p.kind == ProjectionKind::Conv || p.kind == ProjectionKind::AvgPool || p.kind == ProjectionKind::MaxPool)
            p.window = r.window(j, where);
        if (p.kind == ProjectionKind::AvgPool) p.count_include_pad = r.get<bool>(j, "count_include_pad", where);
        if (v2) p.recurrent = r.get<bool>(j, "recurrent", where);
        if (p.kind == ProjectionKind::Sparse) {
            // {offset, count} in int32 values from the start of the integer area, checked before allocating.
            const auto read_ints = [&](const char* key, std::vector<int32_t>& out) {
                const std::string w = where + "." + key;
                const json& a = r.at(j, key, where);
                const uint64_t at = r.get<uint64_t>(a, "offset", w), count = r.get<uint64_t>(a, "count", w);
                if (at > blob_int32s || count > blob_int32s - at)
                    r.fail(w, fmt::format("offset {} + {} values runs past the {} stored", at, count, blob_int32s));
                out.resize(static_cast<size_t>(count));
                for (uint64_t k = 0; k < count; ++k)
                    out[static_cast<size_t>(k)] = get_le<int32_t>(bytes.data() + ints_start + (at + k) * 4);
            };
            read_ints("sparse_ptr", p.sparse_ptr);
            read_ints("sparse_target", p.sparse_target);
        }
        model.projections.push_back(std::move(p));
    }
    validate(model, path);
    return model;
}

}  // namespace neuroemu
