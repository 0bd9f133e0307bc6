// The S-ResNet on the chip: the model a mapping is made from, the firing rates that weight its placement, and the
// mapping itself (`map`, `simulate`, `report`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "data/idx_dataset.h"
#include "mapping/mapping.h"
#include "model/snn.h"
#include "sim/snn_engine.h"

namespace neuroemu::experiment {

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

// Rates measured by a run of the functional engine on `test`.
Rates measured_rates(const SnnResult& result, const SnnOptions& options, double mean_pixel);

// The model (`snn_file`, else converted from the settings: calibrated when rates are measured or `need_data`,
// else its structure alone) and, with `build_mapping`, its mapping (mapping.traffic decides measured or estimated
// rates).
MapRun prepare_mapping(const Settings& settings, const std::string& snn_file, bool need_data, int verbosity,
                       bool build_mapping = true);

// A mapping file from `neuroemu map`, checked to describe `model` (the same populations, in the same order and
// sizes); DataError naming the file and layer otherwise.
Mapping load_checked_mapping(const std::string& file, const SnnModel& model);

// What a mapping needs, against what one core holds: the lower bounds on cores from IF neurons, from all units
// (partial sums and gates included) and from synapse memory, and which of them binds.
struct MappingTotals {
    int64_t if_neurons = 0, units = 0, partial_units = 0, gate_units = 0, synapses = 0;
    int64_t neuron_bound = 0, unit_bound = 0, synapse_bound = 0;  // cores
    std::string binding;                                          // "neurons", "fan-in" or "synapses"
    std::map<std::string, int64_t> cores_by_binding;              // cores by what bounds their layer
};
MappingTotals mapping_totals(const Mapping& mapping);

}  // namespace neuroemu::experiment
