// Shared output helpers for the subcommands: number formatting, the model summary, JSON files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "model/network.h"
#include "model/snn.h"

namespace neuroemu {

std::string thousands(int64_t n);

// Per-layer and total counts, as printed by `info` and embedded in every --json result.
nlohmann::json model_summary_json(const Network& net);

// Writes atomically (temporary file, then rename) so a failed run never leaves half a result. Throws
// ConfigError naming the path when it cannot be written.
void write_json_file(const std::string& path, const nlohmann::json& doc);

nlohmann::json settings_json(const Settings& settings);

// The converted model: populations, projections, counts, conversion choices (convert.cpp).
nlohmann::json snn_summary_json(const SnnModel& model);

struct ConversionReport;
nlohmann::json compensation_json(const ConversionReport& report);
void print_compensation(const ConversionReport& report);

}  // namespace neuroemu
