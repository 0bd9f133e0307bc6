// The network IR: a DAG of typed layers, stored in topological order.
//
// Every stage after import (conversion, functional simulation, mapping, the hardware model) consumes this.
// Shapes exclude the batch dimension: feature maps are {C, H, W}, flattened vectors are {F}.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "model/tensor.h"

namespace neuroemu {

enum class OpKind { Input, Conv2d, BatchNorm, ReLU, Add, MaxPool, AvgPool, GlobalAvgPool, Flatten, Linear };

const char* op_name(OpKind kind);

// A 2-D sliding window (convolution or pooling). Dilation is always 1.
struct Window2d {
    int kernel_h = 1, kernel_w = 1;
    int stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    bool ceil_mode = false;  // pooling only: round the output size up (PyTorch semantics)
};

struct Conv2dAttrs {
    Window2d window;
    Tensor weight;  // [out_channels, in_channels, kernel_h, kernel_w]
    Tensor bias;    // [out_channels], or empty
};

struct BatchNormAttrs {
    Tensor gamma, beta, mean, var;  // each [channels]
    float eps = 1e-5f;
};

struct PoolAttrs {
    Window2d window;
    bool count_include_pad = false;  // AvgPool: divide by k*k even where the window covers padding
};

struct LinearAttrs {
    Tensor weight;  // [out_features, in_features]
    Tensor bias;    // [out_features], or empty
};

using LayerAttrs = std::variant<std::monostate, Conv2dAttrs, BatchNormAttrs, PoolAttrs, LinearAttrs>;

struct Layer {
    std::string name;
    OpKind kind = OpKind::Input;
    std::vector<int> inputs;      // ids of producer layers
    std::vector<int64_t> shape;   // output shape (no batch dimension), filled by Network::add
    LayerAttrs attrs;

    const Conv2dAttrs& conv() const { return std::get<Conv2dAttrs>(attrs); }
    const BatchNormAttrs& bn() const { return std::get<BatchNormAttrs>(attrs); }
    const PoolAttrs& pool() const { return std::get<PoolAttrs>(attrs); }
    const LinearAttrs& linear() const { return std::get<LinearAttrs>(attrs); }
    Conv2dAttrs& conv() { return std::get<Conv2dAttrs>(attrs); }
    BatchNormAttrs& bn() { return std::get<BatchNormAttrs>(attrs); }
    LinearAttrs& linear() { return std::get<LinearAttrs>(attrs); }
};

class Network {
public:
    explicit Network(std::string name = "network");

    // Layer 0 is always the input. Throws ModelError on absurd shapes.
    int add_input(const std::string& name, std::vector<int64_t> chw);

    // Appends a layer whose inputs already exist (so storage order is a topological order), checks its
    // attributes against its inputs and infers its output shape. Throws ModelError naming the layer.
    int add(Layer layer);

    // Marks the network output (default: the last layer added).
    void set_output(int id);

    const std::string& name() const { return name_; }
    const std::vector<Layer>& layers() const { return layers_; }
    const Layer& layer(int id) const { return layers_.at(static_cast<size_t>(id)); }
    int size() const { return static_cast<int>(layers_.size()); }
    int output_id() const { return output_ >= 0 ? output_ : size() - 1; }
    const std::vector<int64_t>& input_shape() const { return layer(0).shape; }

    // Ids of the layers that read `id`'s output.
    std::vector<int> consumers(int id) const;

private:
    std::string name_;
    std::vector<Layer> layers_;
    int output_ = -1;
};

// Output shape [channels, H', W'] of a window sliding over `in` ([C, H, W]); PyTorch's rules (ceil_mode,
// padding no larger than the kernel except for convolutions). Throws ModelError starting with `who`.
std::vector<int64_t> window_output_shape(const std::string& who, const std::vector<int64_t>& in, int64_t channels,
                                         const Window2d& w, bool conv);

// The input rectangle [y0, y1) x [x0, x1) that output (oy, ox) of a pooling window reads, clipped to the input,
// and PyTorch's average-pooling divisor for it: with count_include_pad the padded area (padding counts, the
// overhang ceil_mode adds past the padded border does not), else the clipped area.
struct PoolWindow {
    int64_t y0, y1, x0, x1, divisor;
};
PoolWindow pool_window(const Window2d& w, int64_t in_h, int64_t in_w, int64_t oy, int64_t ox, bool count_include_pad);

// Trainable parameters, counted as PyTorch does (BatchNorm: gamma and beta; running statistics excluded).
int64_t param_count(const Layer& layer);

// Multiply-accumulates of Conv2d and Linear layers (the convention torchvision's model cards use).
int64_t mac_count(const Layer& layer);

// Integrate-and-fire neurons this layer becomes after conversion to an S-ResNet (paper §3.1): one per output
// of every ReLU (BatchNorm folded into the weights before it, Eq. 1; a residual Add feeds the post-add ReLU's
// neuron directly), of every average pooling layer (fixed 1/k² synapses onto an IF layer), and of the output
// layer (the readout). Max pooling gates spikes and adds none; convolutions and Adds are synaptic currents.
int64_t if_neuron_count(const Network& net, int id);

struct NetworkTotals {
    int64_t params = 0;
    int64_t macs = 0;
    int64_t if_neurons = 0;
};
NetworkTotals totals(const Network& net);

}  // namespace neuroemu
