#include "sim/batch_statistics.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "data/dataset_spec.h"
#include "data/reader/reader.h"
#include "model/model_spec.h"
#include "sim/ann_engine.h"

namespace neuroemu {
namespace {

// Output of layer `layer` of `net` for `count` inputs, computed by a network of that one layer (so the reference
// engine's semantics apply), or summed for Add.
std::vector<float> layer_output(const Network& net, const Layer& layer, const std::vector<const std::vector<float>*>& in,
                                int64_t count) {
    if (layer.kind == OpKind::Add) {
        std::vector<float> sum = *in.at(0);
        for (size_t k = 1; k < in.size(); ++k)
            for (size_t i = 0; i < sum.size(); ++i) sum[i] += (*in[k])[i];
        return sum;
    }
    if (in.size() != 1)
        throw ModelError(fmt::format("layer '{}': {} with {} inputs cannot be calibrated", layer.name,
                                     op_name(layer.kind), in.size()));
    Network one(layer.name);
    one.add_input("input", net.layer(layer.inputs.at(0)).shape);
    Layer copy = layer;
    copy.inputs = {0};
    one.add(std::move(copy));
    const AnnEngine engine(one);
    std::vector<float> out(static_cast<size_t>(count * engine.output_size()));
    // Several images at a time across threads would be faster; the batch is small and one pass is enough.
    engine.forward(in[0]->data(), count, out.data());
    return out;
}

void set_statistics(BatchNormAttrs& bn, const std::vector<float>& x, int64_t count, int64_t channels) {
    const int64_t plane = static_cast<int64_t>(x.size()) / (count * channels);
    for (int64_t c = 0; c < channels; ++c) {
        double sum = 0, sq = 0;
        for (int64_t n = 0; n < count; ++n) {
            const float* p = x.data() + (n * channels + c) * plane;
            for (int64_t i = 0; i < plane; ++i) sum += p[i], sq += static_cast<double>(p[i]) * p[i];
        }
        const double samples = static_cast<double>(count * plane), mean = sum / samples;
        bn.mean.data[static_cast<size_t>(c)] = static_cast<float>(mean);
        bn.var.data[static_cast<size_t>(c)] = static_cast<float>(std::max(0.0, sq / samples - mean * mean));
    }
}

}  // namespace

Network with_batch_statistics(const Network& net, const std::vector<float>& inputs, int64_t count) {
    const int64_t input_size = [&] {
        int64_t s = 1;
        for (int64_t d : net.input_shape()) s *= d;
        return s;
    }();
    if (count < 1 || static_cast<int64_t>(inputs.size()) != count * input_size)
        throw InternalError(fmt::format("batch statistics: {} values for {} inputs of {}", inputs.size(), count,
                                        input_size));
    Network out(net.name());
    std::vector<std::vector<float>> act(static_cast<size_t>(net.size()));
    std::vector<int> readers_left(static_cast<size_t>(net.size()), 0);
    for (const Layer& l : net.layers())
        for (int i : l.inputs) ++readers_left[static_cast<size_t>(i)];
    int last_bn = 0;  // layers after the last BatchNorm need not run
    for (int id = 1; id < net.size(); ++id)
        if (net.layer(id).kind == OpKind::BatchNorm) last_bn = id;
    act[0] = inputs;
    out.add_input(net.layer(0).name, net.input_shape());
    for (int id = 1; id < net.size(); ++id) {
        Layer layer = net.layer(id);
        if (id > last_bn) {
            out.add(std::move(layer));
            continue;
        }
        std::vector<const std::vector<float>*> in;
        for (int i : layer.inputs) in.push_back(&act[static_cast<size_t>(i)]);
        if (layer.kind == OpKind::BatchNorm) set_statistics(layer.bn(), *in.at(0), count, layer.shape.at(0));
        act[static_cast<size_t>(id)] = layer_output(out, layer, in, count);
        for (int i : layer.inputs)  // free what no later layer reads
            if (--readers_left[static_cast<size_t>(i)] == 0) std::vector<float>().swap(act[static_cast<size_t>(i)]);
        out.add(std::move(layer));
    }
    out.set_output(net.output_id());
    return out;
}

std::vector<ParamSpec> batch_statistics_params() {
    return {ParamSpec("model.zoo_statistics_images", ParamKind::Int, "4", "images",
                      "Synthetic images on which a zoo network's BatchNorm statistics are measured (sim/"
                      "batch_statistics.h), so that activity neither dies nor explodes with depth.")
                .range(1, 4096)};
}

Network load_network(const Settings& settings) {
    Network net = load_model(settings);
    if (!settings.has("model.zoo")) return net;
    const auto source = dataset_readers().make("synthetic", settings)->open({"", Split::Train, net.input_shape()});
    const int64_t count = std::min(settings.get_int("model.zoo_statistics_images"), source->count());
    const ImageSet images = source->read(0, count);
    std::vector<float> inputs(static_cast<size_t>(count * images.image_size()));
    for (int64_t i = 0; i < count; ++i)
        image_to_input(images, i, input_normalisation(settings, images.channels), inputs.data() + i * images.image_size());
    return with_batch_statistics(net, inputs, count);
}

}  // namespace neuroemu
