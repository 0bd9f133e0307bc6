#include "cli/schema.h"

#include "convert/convert_spec.h"
#include "experiment/experiment.h"
#include "data/dataset_spec.h"
#include "energy/energy.h"
#include "arch/chip_spec.h"
#include "mapping/map_spec.h"
#include "model/model_spec.h"
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
        {"mapping", "How `neuroemu map` partitions the S-ResNet over cores, places them and estimates traffic."},
        {"report", "What `neuroemu report` measures beyond the functional engine."},
    };
    std::vector<ParamSpec> params = {
        ParamSpec("seed", ParamKind::Int, "1", "",
                  "Seed of every pseudo-random choice (zoo weights, sampling); --seed overrides.")
            .range(0, 9007199254740992.0),
    };
    for (auto part : {model_params(), dataset_params(), conversion_params(), chip_params(), energy_params(),
                      simulation_params(), mapping_params(), experiment::report_params()})
        params.insert(params.end(), part.begin(), part.end());
    return Schema(std::move(sections), std::move(params));
}

}  // namespace neuroemu
