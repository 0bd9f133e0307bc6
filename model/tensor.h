// A dense float32 tensor: the weights and activations that flow between pipeline stages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuroemu {

struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;

    Tensor() = default;
    explicit Tensor(std::vector<int64_t> dims);
    Tensor(std::vector<int64_t> dims, std::vector<float> values);

    int64_t numel() const { return static_cast<int64_t>(data.size()); }
    bool empty() const { return data.empty(); }
    int64_t dim(size_t i) const { return shape.at(i); }
};

// Product of dimensions of a shape already validated (e.g. a Layer's output shape).
int64_t shape_numel(const std::vector<int64_t>& dims);

// Product of dimensions; throws if a dimension is negative or the product overflows `limit`.
int64_t checked_numel(const std::vector<int64_t>& dims, int64_t limit);

std::string shape_str(const std::vector<int64_t>& dims);

}  // namespace neuroemu
