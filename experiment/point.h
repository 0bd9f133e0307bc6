// One point of a design-space sweep (docs/explore.md): an experiment reduced to the metrics explore compares.
// `neuroemu explore` runs each point in a child process (one SystemC elaboration per process), which calls
// run_point and writes the result with point_result_json; the sweep reads it back with point_result_from_json.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "common/config.h"

namespace neuroemu::experiment {

enum class PointStatus { Ok, DoesNotFit, Failed };
std::string to_string(PointStatus status);  // "ok", "does-not-fit", "failed"

struct PointResult {
    PointStatus status = PointStatus::Failed;
    std::string reason;                   // does-not-fit: the mapper's reason; failed: the child's error
    std::optional<double> accuracy;       // S-ResNet top-1
    std::optional<double> energy_j;       // chip energy per inference
    std::optional<double> energy_ann_j;   // the ANN's energy per inference
    std::optional<double> latency_s;      // per inference (none without the hardware model)
    std::optional<int64_t> cores;         // none when the network does not fit
};

// Runs the experiment of `settings` (report.hw_images decides the hardware model's images; 0: functional mode)
// quietly, with the converted model `snn_file` the sweep shares among points (empty: converted here), and keeps
// its metrics. A network that does not fit is a result (DoesNotFit); errors propagate.
PointResult run_point(const Settings& settings, const std::string& snn_file);

nlohmann::json point_result_json(const PointResult& result);
// Throws DataError naming `source` and the key when `doc` is not a point result.
PointResult point_result_from_json(const nlohmann::json& doc, const std::string& source);

}  // namespace neuroemu::experiment
