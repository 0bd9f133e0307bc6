// The report document (docs/report-format.md) of one experiment: what `neuroemu report` writes as report.json and
// renders to HTML, Markdown and CSV (report/render.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "experiment/experiment.h"

namespace neuroemu::experiment {

// Every key with its value as text: the `settings` object of every --json document.
nlohmann::json settings_json(const Settings& settings);

// `config` is the experiment file as given on the command line ("" for defaults).
nlohmann::json report_document(const ExperimentResult& result, const Settings& settings, const std::string& config);

}  // namespace neuroemu::experiment
