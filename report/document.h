// The report document (docs/report-format.md) read into plain structs. Every renderer works on these, so a bad
// document fails in one place, with a DataError naming the key path, before anything is written.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "energy/energy.h"

namespace neuroemu::report {

using Grid = std::vector<std::vector<std::optional<double>>>;  // [y][x], nullopt = no core

// Numbers are doubles as the JSON holds them; nullable keys are optionals (null = not measured in this run).
struct Headline {
    std::optional<double> accuracy_snn;  // null: not meaningful (synthetic input)
    std::optional<double> accuracy_ann;
    std::optional<double> accuracy_snn_fault_free;  // chip.faults that lose events: the SNN without them
    double steps = 0, images = 0, cores = 0;
    bool fits = true;
    std::optional<std::string> fit_error;
    double energy_snn_j = 0, energy_snn_sop_j = 0, energy_ann_j = 0;
    std::optional<double> ratio_ann_to_snn, ratio_ann_to_snn_sop;
    std::optional<double> latency_s, latency_cycles, cycles_per_tick_mean;
};

struct Checkpoint {
    double step = 0, top1 = 0;
};

struct Accuracy {
    double steps = 0, images = 0;
    std::vector<double> snn_curve;  // top-1 after step t = 1..steps
    std::optional<double> ann;
    std::vector<Checkpoint> checkpoints;
};

struct Layer {
    std::string name, kind;
    double neurons = 0;
    std::optional<double> firing_rate, spikes_per_image, sops_per_image, sop_share;
};

// The energy model's own term (energy/energy.h): the document's terms are written and read in this file only
// (energy_terms_json, read_report), so their keys have one source.
using EnergyTerm = neuroemu::EnergyTerm;

struct EnergySide {
    double total_j = 0;
    std::vector<EnergyTerm> terms;
};

struct AnnEnergy : EnergySide {
    double macs = 0, flops_per_mac = 0, flops = 0;
};

// The mesh section: per-core and per-router maps over the chip's mesh.
struct MeshMaps {
    double width = 0, height = 0, chips = 0;
    Grid core_utilisation, synapse_utilisation;
    std::optional<Grid> router_flits, link_flits_max;
    std::string link_flits_source;
};

// One figure of a run with tick sampling, per inference, with its interval.
struct SampledFigureRow {
    std::string label, unit;
    double estimate = 0, low = 0, high = 0;
    bool exact = false;
};

// Tick sampling (ticks.sampling): K of T ticks simulated, the figures extrapolated to every tick.
struct TickSampling {
    std::string description;
    bool exact = false;
    double max_tick_cycles = 0;  // of the simulated ticks: a lower bound unless exact
    std::vector<SampledFigureRow> figures;
};

struct Ticks {
    double clock_hz = 0, images = 0;
    std::vector<double> cycles_per_tick;  // of the simulated ticks
    std::optional<double> mean;  // null when no tick completed
    double max = 0;
    std::optional<TickSampling> sampling;  // absent when sampling was not asked for
};

struct PaperEnergyRow {
    std::string network;
    double gmac = 0, paper_gflop = 0, paper_gsop = 0, flops_per_mac = 0;
    double energy_ann_j = 0, energy_snn_j = 0, ratio = 0;
    bool more_than_9x = false;
};

struct Report {
    std::string title, config;
    std::string input;  // what the network ran on: "12 images of fashion-mnist", "1 synthetic image (...)"
    Headline headline;
    std::optional<Accuracy> accuracy;
    std::vector<Layer> layers;
    EnergySide energy_snn;
    AnnEnergy energy_ann;
    std::optional<MeshMaps> mesh;    // null when the network was not mapped
    std::optional<Ticks> ticks;  // null without hardware simulation
    std::vector<PaperEnergyRow> paper_energy;
    // The same row for the network this run simulated: its own MACs, the SOPs the engine measured (gflop and gsop
    // are this run's counts, not the paper's), and the whole modelled chip's energy beside the SOP-only figure.
    std::optional<PaperEnergyRow> this_run_energy;
    double this_run_chip_j = 0;
    std::vector<std::pair<std::string, std::string>> settings;  // key -> value as text, sorted by key
    // Why a null section was not measured, by key path ("ticks", "mesh.router_flits", ...); optional in the
    // document, with defaults filled in here.
    std::vector<std::pair<std::string, std::string>> not_measured;

    // The reason recorded for `path`, or a generic one.
    std::string why_not_measured(const std::string& path) const;
};

// The paper's rows, then this run's (when the document has it), for the §4.4 table.
std::vector<PaperEnergyRow> rows_with_this_run(const Report& report);
// A sentence on this run's row for under that table ("" without one).
std::string this_run_note(const Report& report);

// The document's `terms` array of an energy breakdown (docs/report-format.md).
nlohmann::json energy_terms_json(const std::vector<EnergyTerm>& terms);

// Reads and validates the document; throws DataError "report document: <key path>: <what was expected>".
Report read_report(const nlohmann::json& doc);

}  // namespace neuroemu::report
