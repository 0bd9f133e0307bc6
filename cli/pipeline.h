// Steps several subcommands share: the S-ResNet and its mapping for a run (`map`, `simulate`, `report`), and the
// functional engine's spikes carried by the chip (`simulate`, `report`).
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "data/idx_dataset.h"
#include "hw/chip_model.h"
#include "mapping/mapping.h"
#include "model/snn.h"
#include "convert/convert_spec.h"
#include "sim/snn_engine.h"

namespace neuroemu {

// Where the spike rates for placement come from.
struct Rates {
    std::string source = "estimate";  // "estimate" or "measured"
    std::vector<double> population;   // measured spikes per neuron per step, by population
    double host = 0;                  // events per input pixel per step
    int64_t images = 0, steps = 0;
};

struct MapRun {
    SnnModel model;
    Mapping mapping;  // partitioned, connected and placed
    Rates rates;
    double seconds_model = 0, seconds_rates = 0, seconds_partition = 0, seconds_connect = 0, seconds_place = 0;
};

// The S-ResNet of a run: read from `snn_file` (`folded` = the ANN with BatchNorm folded, for comparisons), or
// converted from the settings (`report` filled; the compensation search printed unless verbosity is 0).
SnnModel snn_for_run(const Settings& settings, const Network& net, const std::string& snn_file, Network& folded,
                     ConversionReport& report, int verbosity);

// Rates measured by a run of the functional engine on `test`.
Rates measured_rates(const SnnResult& result, const SnnOptions& options, const ImageSet& test);

// The model (`snn_file`, else converted from the settings: calibrated when rates are measured or `need_data`,
// else its structure alone) and, with `build_mapping`, its mapping (mapping.traffic decides measured or estimated
// rates).
MapRun prepare_mapping(const Settings& settings, const std::string& snn_file, bool need_data, int verbosity,
                       bool build_mapping = true);

// Runs test images [0, test.count) through the functional engine and carries their spikes on `chip`, then closes
// it (ChipModel::finish). Checks that the chip's cores performed exactly the engine's synaptic operations,
// projection by projection, and made its decisions (InternalError otherwise).
void carry_engine_spikes(ChipModel& chip, const Settings& settings, const SnnModel& model, const ImageSet& test,
                         int verbosity);

}  // namespace neuroemu
