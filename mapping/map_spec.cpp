#include "mapping/map_spec.h"

#include <fmt/format.h>

#include "mapping/placement/placement.h"

namespace neuroemu {

std::vector<ParamSpec> mapping_params() {
    const MapOptions defaults;
    std::vector<ParamSpec> params = {
        ParamSpec("mapping.fan_in", ParamKind::Enum, "split", "",
                  "Neurons with more inputs than chip.core.fan_in: `split` gives them partial-sum units (each "
                  "integrates a slice of the input channels and sends its sum to the neuron once per step); "
                  "`fail` reports that the layer does not fit.")
            .one_of({"split", "fail"}),
        ParamSpec("mapping.traffic", ParamKind::Enum, "auto", "",
                  "Spike rates for placement and the traffic report: `measured` runs the spiking engine on "
                  "mapping.traffic_images test images; `estimate` assumes mapping.estimated_rate; `auto` measures "
                  "when the model is a trained ONNX file and the dataset is installed.")
            .one_of({"auto", "measured", "estimate"}),
        ParamSpec("mapping.traffic_images", ParamKind::Int, "16", "images",
                  "Test images the spiking engine runs (simulation.steps each) to measure firing rates.")
            .range(1, 1e8),
        ParamSpec("mapping.estimated_rate", ParamKind::Real, fmt::format("{}", defaults.estimated_rate),
                  "spikes/neuron/step",
                  "Assumed firing rate of every spiking neuron (and input pixel) when rates are not measured.")
            .range(0, 1),
        placements().selector(kDefaultPlacement),
        ParamSpec("mapping.refine_passes", ParamKind::Int, std::to_string(defaults.refine_passes), "passes",
                  "Passes that move or swap each core within two routers when that lowers traffic x hops.")
            .range(0, 1000),
    };
    const auto own = placements().params();
    params.insert(params.end(), own.begin(), own.end());
    return params;
}

MapOptions map_options(const Settings& settings) {
    MapOptions options;
    options.fan_in = settings.get_string("mapping.fan_in") == "fail" ? FanInStrategy::Fail : FanInStrategy::Split;
    options.estimated_rate = settings.get_real("mapping.estimated_rate");
    options.placement = placements().make(settings.get_string("mapping.placement"), settings);
    options.refine_passes = static_cast<int>(settings.get_int("mapping.refine_passes"));
    return options;
}

}  // namespace neuroemu
