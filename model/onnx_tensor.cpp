#include "model/onnx_tensor.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/error.h"
#include "common/memory_limit.h"

namespace neuroemu::onnx_detail {
namespace {

// Same bound as Network's feature maps: no real weight tensor comes close.
constexpr int64_t kMaxFloatElements = INT64_C(1) << 32;
// Shape and axes constants are tiny; anything larger is corrupt.
constexpr int64_t kMaxIntElements = INT64_C(1) << 20;

[[noreturn]] void fail(const onnx::TensorProto& t, const std::string& what) {
    throw ModelError(fmt::format("tensor '{}': {}", t.name(), what));
}

std::vector<int64_t> dims_of(const onnx::TensorProto& t) {
    return std::vector<int64_t>(t.dims().begin(), t.dims().end());
}

// Validates the declared dims before any allocation depends on them.
int64_t element_count(const onnx::TensorProto& t, int64_t limit) {
    if (t.data_location() == onnx::TensorProto_DataLocation_EXTERNAL)
        fail(t, "data is stored in an external file; only tensors embedded in the model are supported "
                "(re-export without external data)");
    try {
        return checked_numel(dims_of(t), limit);
    } catch (const ModelError& e) {
        fail(t, fmt::format("invalid dims: {}", e.what()));
    }
}

void expect_count(const onnx::TensorProto& t, int64_t have, int64_t need) {
    if (have != need)
        fail(t, fmt::format("holds {} values but its dims {} need {}", have, shape_str(dims_of(t)), need));
}

// ONNX stores raw_data little-endian regardless of the producing machine.
uint64_t load_le(const char* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

// The raw_data size is checked against the element count first, so the allocation never exceeds the file.
std::vector<float> float_values(const onnx::TensorProto& t, int64_t n) {
    std::vector<float> out;
    if (t.has_raw_data()) {
        const std::string& raw = t.raw_data();
        if (raw.size() % 4 != 0) fail(t, fmt::format("raw_data has {} bytes, not a multiple of 4", raw.size()));
        expect_count(t, static_cast<int64_t>(raw.size() / 4), n);
        out.resize(static_cast<size_t>(n));
        for (size_t i = 0; i < out.size(); ++i) {
            const auto bits = static_cast<uint32_t>(load_le(raw.data() + 4 * i, 4));
            std::memcpy(&out[i], &bits, sizeof bits);
        }
    } else {
        expect_count(t, t.float_data_size(), n);
        out.assign(t.float_data().begin(), t.float_data().end());
    }
    return out;
}

void check_finite(const onnx::TensorProto& t, const std::vector<float>& v) {
    for (size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            fail(t, fmt::format("value at flat index {} is {}; weights must be finite (was the model trained "
                                "to divergence?)",
                                i, std::isnan(v[i]) ? "NaN" : (v[i] > 0 ? "+Inf" : "-Inf")));
}

template <typename Repeated>
std::vector<int64_t> widen(const Repeated& r) {
    return std::vector<int64_t>(r.begin(), r.end());
}

std::vector<int64_t> raw_ints(const onnx::TensorProto& t, int width, int64_t n) {
    const std::string& raw = t.raw_data();
    if (raw.size() % static_cast<size_t>(width) != 0)
        fail(t, fmt::format("raw_data has {} bytes, not a multiple of {}", raw.size(), width));
    expect_count(t, static_cast<int64_t>(raw.size()) / width, n);
    std::vector<int64_t> out(static_cast<size_t>(n));
    for (size_t i = 0; i < out.size(); ++i) {
        const uint64_t bits = load_le(raw.data() + width * i, width);
        out[i] = width == 8 ? static_cast<int64_t>(bits) : static_cast<int32_t>(static_cast<uint32_t>(bits));
    }
    return out;
}

}  // namespace

Tensor transposed(const Tensor& t) {
    const int64_t rows = t.dim(0), cols = t.dim(1);
    Tensor out({cols, rows});
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            out.data[static_cast<size_t>(c * rows + r)] = t.data[static_cast<size_t>(r * cols + c)];
    return out;
}

Tensor scaled(Tensor t, float factor) {
    for (float& v : t.data) v *= factor;
    return t;
}

std::string data_type_name(int32_t data_type) {
    if (!onnx::TensorProto_DataType_IsValid(data_type)) return fmt::format("unknown type {}", data_type);
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(data_type));
}

Tensor decode_float_tensor(const onnx::TensorProto& t, bool require_finite) {
    if (t.data_type() != onnx::TensorProto_DataType_FLOAT)
        fail(t, fmt::format("has data type {}; only FLOAT (float32) weights are supported",
                            data_type_name(t.data_type())));
    const int64_t n = element_count(t, kMaxFloatElements);
    if (n == 0) fail(t, fmt::format("has no elements (dims {})", shape_str(dims_of(t))));
    const std::string over = memory_over_limit(fmt::format("dims {}", shape_str(dims_of(t))),
                                               saturating_mul(n, int64_t{sizeof(float)}));
    if (!over.empty()) fail(t, over);
    std::vector<float> values = float_values(t, n);
    if (require_finite) check_finite(t, values);
    return Tensor(dims_of(t), std::move(values));
}

std::vector<int64_t> decode_int_tensor(const onnx::TensorProto& t) {
    const int32_t type = t.data_type();
    if (type != onnx::TensorProto_DataType_INT64 && type != onnx::TensorProto_DataType_INT32)
        fail(t, fmt::format("has data type {}; expected INT64 or INT32", data_type_name(type)));
    const int64_t n = element_count(t, kMaxIntElements);
    const bool is64 = type == onnx::TensorProto_DataType_INT64;
    if (t.has_raw_data()) return raw_ints(t, is64 ? 8 : 4, n);
    std::vector<int64_t> out = is64 ? widen(t.int64_data()) : widen(t.int32_data());
    expect_count(t, static_cast<int64_t>(out.size()), n);
    return out;
}

}  // namespace neuroemu::onnx_detail
