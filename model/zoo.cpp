#include "model/zoo.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/error.h"

namespace neuroemu {
namespace {

// Normal and uniform draws from a 64-bit Mersenne Twister, written out so the weights for a seed are the same
// with every standard library.
class WeightRng {
public:
    explicit WeightRng(uint64_t seed) : gen_(seed) {}
    float uniform(float lo, float hi) { return static_cast<float>(lo + (hi - lo) * unit()); }
    float normal(float stddev) {  // Box-Muller; u1 in (0, 1] in double, since a float can round up to 1
        const double u1 = 1.0 - unit(), u2 = unit();
        return static_cast<float>(stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
    }

private:
    double unit() { return static_cast<double>(gen_() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
    std::mt19937_64 gen_;
};

Window2d square(int kernel, int stride, int pad) {
    Window2d w;
    w.kernel_h = w.kernel_w = kernel;
    w.stride_h = w.stride_w = stride;
    w.pad_top = w.pad_left = w.pad_bottom = w.pad_right = pad;
    return w;
}

// Appends layers with the weight statistics of a trained network: Kaiming-normal convolutions (fan-out, as
// torchvision initialises them), BatchNorm with running statistics near but not at identity, PyTorch's
// default Linear initialisation.
class Builder {
public:
    Builder(Network& net, uint64_t seed) : net_(net), rng_(seed) {}

    int conv(const std::string& name, int from, int64_t out_ch, int kernel, int stride, int pad) {
        Conv2dAttrs a;
        a.window = square(kernel, stride, pad);
        const int64_t in_ch = net_.layer(from).shape.at(0);
        a.weight = Tensor({out_ch, in_ch, kernel, kernel});
        const float std = std::sqrt(2.0f / static_cast<float>(out_ch * kernel * kernel));
        for (float& w : a.weight.data) w = rng_.normal(std);
        return add(name, OpKind::Conv2d, {from}, std::move(a));
    }

    int bn(const std::string& name, int from) {
        const int64_t c = net_.layer(from).shape.at(0);
        BatchNormAttrs a;
        a.gamma = Tensor({c}), a.beta = Tensor({c}), a.mean = Tensor({c}), a.var = Tensor({c});
        for (int64_t i = 0; i < c; ++i) {
            const auto k = static_cast<size_t>(i);
            a.gamma.data[k] = rng_.uniform(0.5f, 1.5f);
            a.beta.data[k] = rng_.normal(0.1f);
            a.mean.data[k] = rng_.normal(0.1f);
            a.var.data[k] = rng_.uniform(0.5f, 1.5f);
        }
        return add(name, OpKind::BatchNorm, {from}, std::move(a));
    }

    int conv_bn(const std::string& prefix, const std::string& suffix, int from, int64_t out_ch, int kernel,
                int stride, int pad) {
        return bn(prefix + "bn" + suffix, conv(prefix + "conv" + suffix, from, out_ch, kernel, stride, pad));
    }

    int linear(const std::string& name, int from, int64_t out) {
        const int64_t in = net_.layer(from).shape.at(0);
        LinearAttrs a;
        a.weight = Tensor({out, in});
        a.bias = Tensor({out});
        const float bound = 1.0f / std::sqrt(static_cast<float>(in));
        for (float& w : a.weight.data) w = rng_.uniform(-bound, bound);
        for (float& b : a.bias.data) b = rng_.uniform(-bound, bound);
        return add(name, OpKind::Linear, {from}, std::move(a));
    }

    int pool(const std::string& name, OpKind kind, int from, int kernel, int stride, int pad) {
        return add(name, kind, {from}, PoolAttrs{square(kernel, stride, pad), false});
    }

    int add(const std::string& name, OpKind kind, std::vector<int> inputs, LayerAttrs attrs = {}) {
        Layer l;
        l.name = name;
        l.kind = kind;
        l.inputs = std::move(inputs);
        l.attrs = std::move(attrs);
        return net_.add(std::move(l));
    }

    int channels(int id) const { return static_cast<int>(net_.layer(id).shape.at(0)); }

private:
    Network& net_;
    WeightRng rng_;
};

// A residual block's output: ReLU(main + shortcut), where the shortcut is the identity or, when the shape
// changes, a 1x1 convolution + BatchNorm projection.
int residual_join(Builder& b, const std::string& p, int x, int main, int stride, bool residual) {
    if (!residual) return b.add(p + "relu_out", OpKind::ReLU, {main});
    int shortcut = x;
    if (stride != 1 || b.channels(x) != b.channels(main))
        shortcut = b.bn(p + "downsample.1", b.conv(p + "downsample.0", x, b.channels(main), 1, stride, 0));
    return b.add(p + "relu_out", OpKind::ReLU, {b.add(p + "add", OpKind::Add, {main, shortcut})});
}

int basic_block(Builder& b, const std::string& p, int x, int64_t planes, int stride, bool residual) {
    int y = b.add(p + "relu", OpKind::ReLU, {b.conv_bn(p, "1", x, planes, 3, stride, 1)});
    y = b.conv_bn(p, "2", y, planes, 3, 1, 1);
    return residual_join(b, p, x, y, stride, residual);
}

// torchvision's Bottleneck (ResNet v1.5: the stride sits on the 3x3 convolution), expansion 4.
int bottleneck_block(Builder& b, const std::string& p, int x, int64_t planes, int stride) {
    int y = b.add(p + "relu1", OpKind::ReLU, {b.conv_bn(p, "1", x, planes, 1, 1, 0)});
    y = b.add(p + "relu2", OpKind::ReLU, {b.conv_bn(p, "2", y, planes, 3, stride, 1)});
    y = b.conv_bn(p, "3", y, planes * 4, 1, 1, 0);
    return residual_join(b, p, x, y, stride, true);
}

int head(Builder& b, int x, int64_t classes) {
    x = b.add("avgpool", OpKind::GlobalAvgPool, {x});
    x = b.add("flatten", OpKind::Flatten, {x});
    return b.linear("fc", x, classes);
}

void torchvision_resnet(Builder& b, const std::vector<int>& blocks, bool bottleneck, int64_t classes) {
    int x = b.add("relu", OpKind::ReLU, {b.conv_bn("", "1", 0, 64, 7, 2, 3)});
    x = b.pool("maxpool", OpKind::MaxPool, x, 3, 2, 1);
    for (size_t stage = 0; stage < blocks.size(); ++stage) {
        const int64_t planes = INT64_C(64) << stage;
        for (int i = 0; i < blocks[stage]; ++i) {
            const std::string p = fmt::format("layer{}.{}.", stage + 1, i);
            const int stride = (stage > 0 && i == 0) ? 2 : 1;
            x = bottleneck ? bottleneck_block(b, p, x, planes, stride) : basic_block(b, p, x, planes, stride, true);
        }
    }
    head(b, x, classes);
}

void cifar_resnet(Builder& b, int n, bool residual, int64_t classes) {
    int x = b.add("relu", OpKind::ReLU, {b.conv_bn("", "1", 0, 16, 3, 1, 1)});
    for (int stage = 0; stage < 3; ++stage)
        for (int i = 0; i < n; ++i) {
            const std::string p = fmt::format("layer{}.{}.", stage + 1, i);
            x = basic_block(b, p, x, 16 << stage, (stage > 0 && i == 0) ? 2 : 1, residual);
        }
    head(b, x, classes);
}

}  // namespace

const std::vector<std::string>& zoo_architectures() {
    static const std::vector<std::string> names = {
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet8",  "resnet20", "resnet32",
        "resnet44", "resnet56", "resnet110", "plain8",   "plain20",   "plain32",  "plain44",  "plain56", "plain110"};
    return names;
}

Network build_zoo(const ZooSpec& spec) {
    const auto& names = zoo_architectures();
    if (std::find(names.begin(), names.end(), spec.arch) == names.end())
        throw ModelError(fmt::format("unknown zoo architecture '{}'; available: {}", spec.arch, fmt::join(names, ", ")));
    if (spec.classes < 1) throw ModelError(fmt::format("zoo {}: classes must be >= 1", spec.arch));
    Network net(spec.arch);
    net.add_input("input", spec.input_chw);
    Builder b(net, spec.seed);
    const int depth = std::stoi(spec.arch.substr(spec.arch.find_first_of("0123456789")));
    try {
        if (spec.arch.rfind("plain", 0) == 0) {
            cifar_resnet(b, (depth - 2) / 6, false, spec.classes);
        } else if (depth == 18 || depth == 34) {
            torchvision_resnet(b, depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3}, false,
                               spec.classes);
        } else if (depth == 50 || depth == 101 || depth == 152) {
            const std::vector<int> blocks = depth == 50    ? std::vector<int>{3, 4, 6, 3}
                                            : depth == 101 ? std::vector<int>{3, 4, 23, 3}
                                                           : std::vector<int>{3, 8, 36, 3};
            torchvision_resnet(b, blocks, true, spec.classes);
        } else {
            cifar_resnet(b, (depth - 2) / 6, true, spec.classes);
        }
    } catch (const ModelError& e) {
        throw ModelError(fmt::format("zoo {} with input {}: {}", spec.arch, shape_str(spec.input_chw), e.what()));
    }
    return net;
}

}  // namespace neuroemu
