// The `conversion` section: how `neuroemu convert` (and `evaluate` without --snn) turns the ANN into an
// S-ResNet.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "convert/compensation.h"
#include "convert/convert.h"

namespace neuroemu {

std::vector<ParamSpec> conversion_params();

ConversionOptions conversion_options(const Settings& settings);
CompensationOptions compensation_options(const Settings& settings);

// What a conversion run did besides the model: the calibration and, with compensation, the error fit and
// the ζ search.
struct ConversionReport {
    Calibration calibration;
    bool compensated = false;
    ErrorFit fit;
    ZetaSearch search;
};

// The whole conversion from the settings: BN folding, calibration on the training split, building the
// S-ResNet, and error compensation when enabled. `folded` receives the folded ANN.
SnnModel convert_from_settings(const Settings& settings, const Network& net, Network& folded, ConversionReport& report,
                               int verbosity);

}  // namespace neuroemu
