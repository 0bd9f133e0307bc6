// One experiment, as `neuroemu report` and explore's points run it: the functional engine on the test images, the
// mapping with the rates just measured (a network that does not fit is a result, not an error), the SystemC
// hardware model on the first report.hw_images images, and the energy of one inference priced from those counts.
// With chip.faults that lose events, the functional engine runs the test images again, fault-aware, on the mapping.
#pragma once

#include <optional>
#include <string>

#include "arch/chip_spec.h"
#include "common/config.h"
#include "energy/energy.h"
#include "experiment/model_run.h"
#include "hw/chip_model.h"
#include "hw/sampled_stats.h"
#include "mapping/mapping.h"
#include "mapping/routing.h"

namespace neuroemu::experiment {

// The `report` section: what an experiment measures beyond the functional engine.
std::vector<ParamSpec> report_params();

struct ExperimentOptions {
    std::string snn_file;  // a converted model; empty: converted from the settings
    int verbosity = 1;     // 0: quiet; 2: per-image progress of the hardware model
};

struct ExperimentResult {
    ChipSpec chip;
    EnergySpec energy;
    FaultCheck check = FaultCheck::None;  // chip.faults.check: its logic energy is priced with the hardware run
    // The functional engine's run over dataset.images. With chip.faults that lose events, the fault-aware engine's
    // (experiment/fault_losses.h): what the faulty chip classifies, with the chip's tick numbering, so its first
    // report.hw_images images are the hardware run's; the accuracy, the layers' figures and the synaptic
    // operations priced are then the faulty chip's.
    FunctionalRun functional;
    // With such faults: the same run without them (the accuracy the faults cost), and what the faulty run lost
    // over all its images, by cause; absent otherwise.
    std::optional<SnnResult> fault_free;
    std::optional<FaultCounters> fault_losses;
    std::optional<Mapping> mapping;     // absent when the network does not fit
    std::string fit_error;              // the mapper's reason then
    std::optional<RoutingStats> routes;  // the chip's routes (with the mapping): XY, around dead elements
    std::optional<HwStats> hardware;    // absent when not simulated (report.hw_images = 0, or no mapping)
    // With `hardware`: the figures per inference extrapolated to every tick (hardware.sample_ticks; the measured
    // totals, exact, when every tick was simulated). The energy is priced from these.
    std::optional<HwEstimates> hardware_estimates;
    std::optional<SampledFigure> energy_snn_interval;  // with tick sampling: the chip's energy per inference, J
    EnergyCounts counts;                // per inference, each with its source
    EnergyBreakdown energy_snn, energy_snn_sop, energy_ann;
    double ann_macs = 0;

    // Images the hardware model ran, at least 1 (divides its totals into per-image values).
    double hardware_images() const;
};

ExperimentResult run_experiment(const Settings& settings, const ExperimentOptions& options);

}  // namespace neuroemu::experiment
