// The first half of every experiment: the S-ResNet of a run (read from a .snn file or converted from the
// settings) and the functional engine's run over the test images. `evaluate`, `report` and explore's points all
// start here, so the load -> convert -> dataset -> engine sequence exists once.
#pragma once

#include <string>

#include "common/config.h"
#include "convert/convert_spec.h"
#include "data/idx_dataset.h"
#include "model/network.h"
#include "model/snn.h"
#include "sim/ann_engine.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

// The S-ResNet of a run: read from `snn_file` (`folded` = the ANN with BatchNorm folded, for comparisons), or
// converted from the settings (`report` filled; the compensation search printed unless verbosity is 0).
SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity);

// The error fit and the ζ search of a compensated conversion, as `convert` and `evaluate` print them.
void print_compensation(const ConversionReport& report);

// Everything the functional engine's run produced, with what it ran on.
struct FunctionalRun {
    Network net;                  // the ANN as loaded
    Network folded;               // BatchNorm folded (the S-ResNet's reference)
    ConversionReport conversion;  // empty when the model came from a .snn file
    SnnModel model;
    ImageSet test;                // dataset.images test images
    SnnOptions options;
    SnnResult result;
};

// Loads the model, converts it (or reads `snn_file`), and runs the functional engine on the test images; the
// ANN runs beside it when simulation.compare_ann is set.
FunctionalRun run_functional(const Settings& settings, const std::string& snn_file, int verbosity);

// The float32 reference ANN's run over the test images (`evaluate --ann`).
struct AnnRun {
    Network net;
    ImageSet test;  // dataset.images test images
    AnnOptions options;
    AnnResult result;
};
AnnRun run_ann(const Settings& settings, int verbosity);

}  // namespace neuroemu::experiment
