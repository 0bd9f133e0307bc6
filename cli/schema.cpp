#include "cli/schema.h"

#include "convert/convert_spec.h"
#include "experiment/experiment.h"
#include "experiment/hardware_run.h"
#include "data/dataset_spec.h"
#include "data/reader/reader.h"
#include "arch/chip_spec.h"
#include "arch/fault_spec.h"
#include "energy/energy.h"
#include "hw/core_model.h"
#include "mapping/map_spec.h"
#include "mapping/placement/placement.h"
#include "model/model_spec.h"
#include "sim/batch_statistics.h"
#include "router/multicast/multicast.h"
#include "router/routing/routing.h"
#include "router/traffic/traffic.h"
#include "sim/encoding/encoding.h"
#include "sim/neuron/neuron.h"
#include "sim/sim_spec.h"

namespace neuroemu {

Schema neuroemu_schema() {
    std::vector<SectionSpec> sections = {
        {"model", "The trained ANN: an ONNX file, or a built-in zoo topology with seeded weights."},
        {"dataset", "Images for accuracy (test split) and for normalisation and compensation (training split)."},
        {"conversion", "ANN to S-ResNet conversion (paper §3): normalisation, shortcuts, neurons, error compensation."},
        {"chip", "The neuromorphic chip: ROLLS-style cores. May be given as a file name "
                 "(`chip: chips/rolls.yaml`)."},
        {"simulation", "How the engines run."},
        {"hardware", "How the SystemC hardware model runs (`simulate`, `report`): tick sampling."},
        {"mapping", "How `neuroemu map` partitions the S-ResNet over cores, places them and estimates traffic."},
        {"report", "What `neuroemu report` measures beyond the functional engine."},
    };
    std::vector<ParamSpec> params = {
        ParamSpec("seed", ParamKind::Int, "1", "",
                  "Seed of every pseudo-random choice (zoo weights, sampling); --seed overrides.")
            .range(0, 9007199254740992.0),
    };
    for (auto part : {model_params(), batch_statistics_params(), dataset_params(), conversion_params(), chip_params(), fault_params(),
                      energy_params(), simulation_params(), experiment::hardware_params(), mapping_params(),
                      experiment::report_params()})
        params.insert(params.end(), part.begin(), part.end());
    return Schema(std::move(sections), std::move(params));
}

std::vector<const FamilyInfo*> registered_families() {
    return {&dataset_readers(), &input_encodings(), &neuron_models(), &placements(), &multicasts(), &routings(),
            &traffic_patterns(), &core_models()};
}

}  // namespace neuroemu
