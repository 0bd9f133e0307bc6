// Per-neuron traces and stepped input from a file, shared by `evaluate` and `simulate`: --probe POP:NEURON[,...]
// (repeatable), --probe-csv FILE, --probe-image N and --input-spikes FILE (docs/cli.md, "Traces").
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/snn.h"
#include "sim/snn_engine.h"

namespace neuroemu {

struct ProbeOptions {
    std::vector<std::string> probes;    // --probe POP:NEURON[,NEURON...]
    std::string csv;                    // --probe-csv FILE
    std::optional<std::string> image;   // --probe-image N
    std::string input_spikes;           // --input-spikes FILE
    bool any_probe() const { return !probes.empty(); }
};

void add_probe_options(CLI::App* cmd, ProbeOptions& options);

// The probes named by --probe texts: POP is a population's name or index, NEURON a flat [C][H][W] index or c:y:x.
// ConfigError naming the option text and what was expected; and --probe without --probe-csv (or the reverse).
std::vector<ProbeSpec> parse_probes(const ProbeOptions& options, const SnnModel& model);
int64_t probe_image(const ProbeOptions& options);

// An --input-spikes file: one line per time step, whitespace- or comma-separated non-negative integer spike
// counts, one column per input neuron in [C][H][W] order (blank lines and lines starting with '#' skipped).
// DataError naming file:line for a bad count or a line with the wrong number of columns.
std::vector<std::vector<int32_t>> read_input_spikes(const std::string& path, int64_t input_neurons);

// A network stepped through `spikes` (SnnStepper: one step per line), the probes recorded after each step.
struct SteppedRun {
    ProbeTrace trace;
    int64_t steps = 0, spikes = 0, sops = 0, decision = -1;
    std::vector<int64_t> population_spikes;  // by population, over all steps
};
SteppedRun run_input_spikes(const SnnEngine& engine, const std::vector<std::vector<int32_t>>& spikes,
                            const std::vector<ProbeSpec>& probes);

// The trace as CSV: `step`, then per probe POP:N_v, POP:N_i_syn, POP:N_spike; one row per step (1-based).
void write_probe_csv(const std::string& path, const ProbeTrace& trace, const SnnModel& model);

}  // namespace neuroemu
