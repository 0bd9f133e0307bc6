#include "experiment/point.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "experiment/experiment.h"

namespace neuroemu::experiment {

namespace {

using nlohmann::json;

json optional_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }

std::optional<double> optional_number(const json& doc, const char* key, const std::string& source) {
    const auto it = doc.find(key);
    if (it == doc.end()) throw DataError(fmt::format("{}: not a point result (no '{}')", source, key));
    if (it->is_null()) return std::nullopt;
    if (!it->is_number()) throw DataError(fmt::format("{}: {}: expected a number or null", source, key));
    return it->get<double>();
}

PointStatus status_named(const std::string& name, const std::string& source) {
    for (PointStatus status : {PointStatus::Ok, PointStatus::DoesNotFit, PointStatus::Failed})
        if (to_string(status) == name) return status;
    throw DataError(fmt::format("{}: status: expected ok, does-not-fit or failed, got '{}'", source, name));
}

}  // namespace

std::string to_string(PointStatus status) {
    switch (status) {
        case PointStatus::Ok: return "ok";
        case PointStatus::DoesNotFit: return "does-not-fit";
        case PointStatus::Failed: return "failed";
    }
    return "?";
}

PointResult run_point(const Settings& settings, const std::string& snn_file) {
    const ExperimentResult experiment = run_experiment(settings, ExperimentOptions{snn_file, 0});
    PointResult point;
    point.status = experiment.mapping ? PointStatus::Ok : PointStatus::DoesNotFit;
    point.reason = experiment.fit_error;
    const SnnResult& snn = experiment.functional.result;
    if (snn.labelled) point.accuracy = snn.accuracy(snn.steps);  // synthetic input: no accuracy (null)
    point.energy_j = experiment.energy_snn.total_j();
    if (experiment.functional.has_ann) point.energy_ann_j = experiment.energy_ann.total_j();  // NIR: none
    point.latency_s = experiment.counts.seconds;
    if (experiment.mapping) point.cores = static_cast<int64_t>(experiment.mapping->cores.size());
    return point;
}

json point_result_json(const PointResult& result) {
    return {{"status", to_string(result.status)},
            {"reason", result.reason},
            {"accuracy", optional_json(result.accuracy)},
            {"energy_j", optional_json(result.energy_j)},
            {"energy_ann_j", optional_json(result.energy_ann_j)},
            {"latency_s", optional_json(result.latency_s)},
            {"cores", result.cores ? json(*result.cores) : json(nullptr)}};
}

PointResult point_result_from_json(const json& doc, const std::string& source) {
    if (!doc.is_object() || !doc.contains("status") || !doc["status"].is_string())
        throw DataError(fmt::format("{}: not a point result (no status)", source));
    PointResult result;
    result.status = status_named(doc["status"].get<std::string>(), source);
    if (doc.contains("reason") && doc["reason"].is_string()) result.reason = doc["reason"].get<std::string>();
    result.accuracy = optional_number(doc, "accuracy", source);
    result.energy_j = optional_number(doc, "energy_j", source);
    result.energy_ann_j = optional_number(doc, "energy_ann_j", source);
    result.latency_s = optional_number(doc, "latency_s", source);
    if (const auto cores = optional_number(doc, "cores", source)) result.cores = static_cast<int64_t>(*cores);
    return result;
}

}  // namespace neuroemu::experiment
