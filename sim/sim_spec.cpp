#include "sim/sim_spec.h"

#include <algorithm>
#include <initializer_list>

#include "sim/neuron/neuron.h"

namespace neuroemu {
namespace {

// The section's own keys; the encoding's and neuron model's parameters follow them.
std::vector<ParamSpec> engine_params() {
    return {
        ParamSpec("simulation.threads", ParamKind::Int, std::to_string(AnnOptions{}.threads), "threads",
                  "Worker threads over images; 0 = all hardware threads. Results do not depend on it.")
            .range(0, 4096),
        ParamSpec("simulation.micro_batch", ParamKind::Int, std::to_string(AnnOptions{}.micro_batch), "images",
                  "Images one worker pushes through the network together (small batches stay in cache).")
            .range(1, 65536),
        ParamSpec("simulation.steps", ParamKind::Int, std::to_string(SnnOptions{}.steps), "steps",
                  "Time steps T the spiking engine runs per image (`--steps` overrides); at most " +
                      std::to_string(kMaxSnnSteps) + ", since spike counts are 16-bit.")
            .range(1, kMaxSnnSteps),
        input_encodings().selector(kDefaultInputEncoding),
        ParamSpec("simulation.compare_ann", ParamKind::Bool, "true", "",
                  "Also run the ANN on every image: its accuracy on the same images and each layer's propagation "
                  "error. `false`: the spiking simulation alone (what bench/snn_vs_torch.sh times)."),
        ParamSpec("simulation.checkpoints", ParamKind::IntList, "[]", "steps",
                  "Steps at which accuracy is printed; empty: powers of two up to T, and T. The JSON holds every step.")
            .range(1, 1000000),
    };
}

}  // namespace

std::vector<ParamSpec> simulation_params() {
    std::vector<ParamSpec> params = engine_params();
    for (const FamilyInfo* family : std::initializer_list<const FamilyInfo*>{&input_encodings(), &neuron_models()}) {
        const auto own = family->params();
        params.insert(params.end(), own.begin(), own.end());
    }
    return params;
}

SnnOptions snn_options(const Settings& settings) {
    SnnOptions options;
    options.steps = settings.get_int("simulation.steps");
    options.encoding = input_encodings().make(settings.get_string("simulation.encoding"), settings);
    options.seed = static_cast<uint64_t>(settings.get_int("seed"));
    options.threads = static_cast<int>(settings.get_int("simulation.threads"));
    return options;
}

std::vector<int64_t> accuracy_checkpoints(const Settings& settings, int64_t steps) {
    std::vector<int64_t> out;
    for (int64_t t : settings.get_ints("simulation.checkpoints"))
        if (t <= steps) out.push_back(t);
    if (out.empty())
        for (int64_t t = 1; t < steps; t *= 2) out.push_back(t);
    if (out.empty() || out.back() != steps) out.push_back(steps);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

AnnOptions ann_options(const Settings& settings) {
    AnnOptions o;
    o.threads = static_cast<int>(settings.get_int("simulation.threads"));
    o.micro_batch = static_cast<int>(settings.get_int("simulation.micro_batch"));
    return o;
}

}  // namespace neuroemu
