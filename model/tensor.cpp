#include "model/tensor.h"

#include <fmt/format.h>

#include "common/error.h"

namespace neuroemu {

Tensor::Tensor(std::vector<int64_t> dims)
    : shape(std::move(dims)), data(static_cast<size_t>(checked_numel(shape, INT64_C(1) << 40)), 0.0f) {}

Tensor::Tensor(std::vector<int64_t> dims, std::vector<float> values)
    : shape(std::move(dims)), data(std::move(values)) {
    if (checked_numel(shape, INT64_C(1) << 40) != static_cast<int64_t>(data.size()))
        throw InternalError(fmt::format("tensor of shape {} given {} values", shape_str(shape), data.size()));
}

int64_t checked_numel(const std::vector<int64_t>& dims, int64_t limit) {
    int64_t n = 1;
    for (int64_t d : dims) {
        if (d < 0) throw ModelError(fmt::format("negative dimension in shape {}", shape_str(dims)));
        if (d != 0 && n > limit / d)
            throw ModelError(fmt::format("shape {} has more than {} elements", shape_str(dims), limit));
        n *= d;
    }
    return n;
}

int64_t shape_numel(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

std::string shape_str(const std::vector<int64_t>& dims) {
    return fmt::format("[{}]", fmt::join(dims, ", "));
}

}  // namespace neuroemu
