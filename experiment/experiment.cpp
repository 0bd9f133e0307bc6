#include "experiment/experiment.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/parallel.h"
#include "common/progress.h"
#include "data/dataset_spec.h"
#include "energy/counts.h"
#include "experiment/fault_losses.h"
#include "experiment/hardware_run.h"
#include "experiment/mapping_run.h"
#include "mapping/map_spec.h"
#include "model/neuron_state.h"
#include "mpi/world.h"
#include "sim/sim_spec.h"

namespace neuroemu::experiment {

std::vector<ParamSpec> report_params() {
    return {
        ParamSpec("report.hw_images", ParamKind::Int, "1", "images",
                  "Test images the SystemC hardware model runs for latency, cycles per tick, link loads and the "
                  "routing and static energy; 0 = none (routing energy from the mapper's estimate, no static "
                  "term, no latency).")
            .range(0, 1e9),
        ParamSpec("report.paper_table", ParamKind::Bool, "true", "",
                  "Include the paper's §4.4 ImageNet comparison (builds zoo ResNet-18/34/50 to count their MACs).")
    };
}

double ExperimentResult::hardware_images() const {
    return hardware ? static_cast<double>(std::max<int64_t>(1, hardware->images)) : 1.0;
}


namespace {

FunctionalTotals functional_totals(const SnnResult& result, const SnnModel& model) {
    FunctionalTotals totals;
    totals.images = result.images;
    totals.steps = result.steps;
    totals.sops = result.sops;
    totals.input_macs = result.input_macs;
    totals.spikes = result.spikes;
    for (size_t i = 0; i < result.populations.size(); ++i) {
        const auto& population = result.populations[i];
        if (population.kind == "input") continue;
        totals.if_neurons += static_cast<double>(population.neurons);
        // Neuron updates: one per state variable (model/neuron_state.h), as the hardware model counts them.
        const int states = i < model.populations.size() && model.populations[i].name == population.name
                               ? state_updates(model.populations[i])
                               : 1;
        totals.neuron_states += static_cast<double>(population.neurons) * states;
    }
    return totals;
}

HardwareTotals hardware_totals(const HwEstimates& est, const ChipSpec& chip, FaultCheck check) {
    HardwareTotals totals;
    totals.images = est.images;
    totals.partial_sum_sops = est.totals[kTickPartialSumSops].estimate;
    totals.events_generated = est.totals[kTickEvents].estimate;
    totals.neuron_updates = est.totals[kTickNeuronUpdates].estimate;
    totals.flit_hops = est.totals[kTickFlitHops].estimate;
    totals.buffer_writes_flits = est.totals[kTickBufferWrites].estimate;
    totals.cycles = est.totals[kTickCycles].estimate;
    totals.clock_hz = chip.clock_hz;
    totals.packets_injected = est.totals[kTickPackets].estimate;
    totals.arrivals = est.totals[kTickArrivals].estimate;
    totals.check_bits = fault_check_bits(check);
    totals.check_name = to_string(check);
    if (!est.exact())
        totals.sample = fmt::format("{} of {} ticks sampled", est.plan.ticks_per_image(), est.plan.steps);
    return totals;
}

// The chip's energy per inference with the interval its sampled hardware counts give: the priced total, with the
// half-width of the stratified estimate of the energy each tick's counts cost (the functional engine's terms are
// exact).
SampledFigure energy_interval(const ExperimentResult& result) {
    const HwEstimates& est = *result.hardware_estimates;
    const HardwareEnergyRates rates =
        hardware_energy_rates(result.energy, static_cast<int64_t>(result.mapping->cores.size()), result.chip.clock_hz,
                              fault_check_bits(result.check));
    std::array<double, kTickCounters> weights{};
    weights[kTickPartialSumSops] = rates.partial_sum_sop;
    weights[kTickEvents] = rates.event;
    weights[kTickNeuronUpdates] = rates.neuron_update;
    weights[kTickFlitHops] = rates.flit_hop;
    weights[kTickBufferWrites] = rates.buffer_write_flit;
    weights[kTickCycles] = rates.cycle;
    weights[kTickPackets] = rates.packet;
    weights[kTickArrivals] = rates.arrival;
    SampledFigure hw = est.per_image_linear(weights);
    const double total = result.energy_snn.total_j(), shift = total - hw.estimate;
    hw.estimate = total, hw.low += shift, hw.high += shift;
    return hw;
}

// The mapping with the functional run's rates; a MappingError is recorded as the reason it does not fit.
void map_with_measured_rates(const Settings& settings, ExperimentResult& result) {
    const FunctionalRun& functional = result.functional;
    try {
        const Rates rates = measured_rates(functional.result, functional.options, functional.input.mean_pixel);
        result.mapping =
            map_network(functional.model, result.chip, map_options(settings), &rates.population, rates.host);
    } catch (const MappingError& e) {
        result.fit_error = e.what();
    }
}

void simulate_hardware(const Settings& settings, ExperimentResult& result, int64_t images, int verbosity) {
    const ImageSet test = load_dataset(settings, Split::Test, images, result.functional.model.populations.at(0).shape);
    HardwareRun hw = run_engine_on_chip(*result.mapping, result.functional.model, HwOptions{}, settings, test, verbosity);
    result.hardware_estimates = std::move(hw.estimates);
    result.hardware = std::move(hw.stats);
}

// chip.faults that lose events: the functional run again with the fault-aware engine, image by image with the
// chip's tick numbering (image i's step 1 is tick i x steps + 1), so the images the hardware model ran get exactly
// the chip's decisions, which is checked. Losses are one thread's state, so each worker of simulation.threads has
// its own; the images' results add in image order. The fault-free run is kept beside it.
void run_fault_aware(const Settings& settings, ExperimentResult& result, int verbosity) {
    const FaultSpec faults = fault_spec(settings);
    if (!result.mapping || !FaultLosses::loses(faults)) return;
    FunctionalRun& functional = result.functional;
    const int64_t images = settings.get_int("dataset.images");
    const int workers = static_cast<int>(std::min<int64_t>(resolve_threads(functional.options.threads), std::max<int64_t>(1, images)));
    std::vector<std::unique_ptr<FaultLosses>> losses;
    losses.push_back(std::make_unique<FaultLosses>(*result.mapping, functional.model, faults));
    while (static_cast<int>(losses.size()) < workers) losses.push_back(std::make_unique<FaultLosses>(*losses.front()));
    SnnOptions options = functional.options;
    options.probes.clear();
    const SnnEngine engine(functional.model);
    const Network* ann = functional.has_ann && settings.get_bool("simulation.compare_ann") ? &functional.folded : nullptr;
    const int64_t chip_images = result.hardware ? result.hardware->images : 0;
    Progress progress("snn with chip.faults", images, verbosity > 0 && Progress::stderr_is_terminal());
    SnnResult faulty, on_chip;  // on_chip: the images the hardware model ran
    for_each_test_chunk(settings, functional.model.populations.at(0).shape, images, [&](const ImageSet& chunk) {
        const InputNormalisation norm = input_normalisation(settings, chunk.channels);
        std::vector<SnnResult> parts(static_cast<size_t>(chunk.count));
        parallel_for(chunk.count, workers, [&](int64_t j, int worker) {
            FaultLosses& mine = *losses[static_cast<size_t>(worker)];
            SnnOptions one = options;
            one.losses = &mine;
            mine.set_image((chunk.first + j) * options.steps, options.steps, 1, options.steps);
            parts[static_cast<size_t>(j)] = engine.evaluate(chunk.slice(j, 1), norm, one, &progress, ann);
        });
        for (int64_t j = 0; j < chunk.count; ++j) {
            accumulate(faulty, parts[static_cast<size_t>(j)]);
            if (chunk.first + j < chip_images) accumulate(on_chip, parts[static_cast<size_t>(j)]);
        }
    });
    // Under mpirun rank 0 holds the hardware run's merged counters.
    if (chip_images > 0 && mpi::root() && on_chip.correct_at_step != result.hardware->correct_at_step)
        throw InternalError(fmt::format("chip.faults: the fault-aware run classified the {} image(s) the chip ran "
                                        "otherwise than the chip ({} against {} right)", chip_images,
                                        on_chip.correct_at_step.back(), result.hardware->correct_at_step.back()));
    FaultCounters lost;
    for (const auto& l : losses) lost += l->counters();
    result.fault_free = std::move(functional.result);
    result.fault_losses = lost;
    functional.result = std::move(faulty);
}

void price_energy(const Settings& settings, ExperimentResult& result) {
    std::optional<MapperTraffic> traffic;
    if (result.mapping) {
        // The chip's actual routes: with dead routers or links (chip.faults), the detours and cuts the chip takes.
        const RouteFaults faults(*result.mapping, fault_spec(settings));
        result.routes = route(*result.mapping, &faults);
        traffic = MapperTraffic{static_cast<int64_t>(result.mapping->cores.size()), result.routes->hops_per_step,
                                static_cast<double>(result.chip.noc.flits_per_event())};
    }
    std::optional<HardwareTotals> hardware;
    if (result.hardware_estimates) hardware = hardware_totals(*result.hardware_estimates, result.chip, result.check);
    result.counts = energy_counts(functional_totals(result.functional.result, result.functional.model), traffic, hardware);
    result.energy_snn = snn_energy(result.energy, result.counts);
    result.energy_snn_sop = snn_energy_sop_only(result.energy, result.counts);
    if (result.functional.has_ann) {  // a NIR network has no ANN side (the report says so, never a zero)
        result.ann_macs = static_cast<double>(totals(result.functional.net).macs);
        result.energy_ann = ann_energy(result.energy, result.ann_macs);
    }
    if (result.hardware_estimates && result.hardware_estimates->plan.requested_sampling())
        result.energy_snn_interval = energy_interval(result);
}

}  // namespace

ExperimentResult run_experiment(const Settings& settings, const ExperimentOptions& options) {
    ExperimentResult result;
    result.chip = chip_spec(settings);
    result.energy = energy_spec(settings);
    result.check = fault_spec(settings).check;
    const int64_t hw_images = settings.get_int("report.hw_images");
    result.functional = run_functional(settings, options.snn_file, options.verbosity);
    map_with_measured_rates(settings, result);
    if (result.mapping && hw_images > 0) simulate_hardware(settings, result, hw_images, options.verbosity);
    run_fault_aware(settings, result, options.verbosity);
    price_energy(settings, result);
    return result;
}

}  // namespace neuroemu::experiment
