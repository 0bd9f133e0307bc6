// Decoding of ONNX TensorProto constants (initializers, Constant nodes) for the importer.
//
// Internal to the model library: it exposes the ONNX protobuf types, which the public headers do not.
// Errors are thrown as ModelError naming the tensor; the importer prefixes the file and node.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/tensor.h"

namespace neuroemu::onnx_detail {

// A FLOAT tensor with at least one element and, where `require_finite`, no NaN or Inf (weights).
Tensor decode_float_tensor(const onnx::TensorProto& t, bool require_finite = true);

// An INT64 or INT32 tensor (shapes, axes), flattened.
std::vector<int64_t> decode_int_tensor(const onnx::TensorProto& t);

// A matrix [rows, cols] as [cols, rows].
Tensor transposed(const Tensor& t);

Tensor scaled(Tensor t, float factor);

// "FLOAT", "INT64", ... or "unknown type 42".
std::string data_type_name(int32_t data_type);

}  // namespace neuroemu::onnx_detail
