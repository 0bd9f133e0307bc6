// Shared output helpers for the subcommands: number formatting, the model summary, JSON files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "experiment/report_document.h"
#include "model/network.h"
#include "model/snn.h"

namespace neuroemu {

std::string thousands(int64_t n);

// Prints a run's tick sampling (experiment::sampling_json): the sample, the ticks of the first images, and each
// figure per inference with its interval, "(exact)" when every tick was simulated.
void print_sampling(const nlohmann::json& sampling);

// Per-layer and total counts, as printed by `info` and embedded in every --json result.
nlohmann::json model_summary_json(const Network& net);

// Writes atomically (temporary file, then rename) so a failed run never leaves half a result. Throws
// ConfigError naming the path when it cannot be written.
void write_json_file(const std::string& path, const nlohmann::json& doc);

// The `settings` object of every --json document.
using experiment::settings_json;

// The converted model: populations, projections, counts, conversion choices (convert.cpp).
nlohmann::json snn_summary_json(const SnnModel& model);

struct ConversionReport;
nlohmann::json compensation_json(const ConversionReport& report);

}  // namespace neuroemu
