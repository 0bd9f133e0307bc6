// Import of ONNX image classifiers (ResNet-style CNNs, opsets 9-17) into the network IR.
//
// Supported: one float [N, C, H, W] input, one output, and the ops Add, AveragePool, BatchNormalization,
// Clip (as ReLU), Constant, Conv, Dropout, Flatten, Gemm, GlobalAveragePool, Identity, MatMul, MaxPool, Relu,
// Reshape (as Flatten). Anything else is rejected with a ModelError of the form
// "<source>: node '<name>' (<OpType>): <problem and what is allowed>", so a user can fix the export.
//
// The network is named after the file's stem (models/resnet20_fmnist.onnx -> "resnet20_fmnist"), each layer after
// its ONNX node, or the node's first output where the exporter left the node unnamed.
#pragma once

#include <string>

#include "model/network.h"

namespace neuroemu {

// Reads and imports an .onnx file. Throws ModelError if the file is missing, unreadable or unsupported.
Network import_onnx_file(const std::string& path);

// Imports a serialized ModelProto; `source` names it in error messages (usually the file path).
Network import_onnx_bytes(const std::string& bytes, const std::string& source);

}  // namespace neuroemu
