// What a sweep writes (docs/explore.md): every point as CSV and JSON, the Pareto front over the sweep's
// objectives as CSV and JSON, its plots (pareto.svg) and a self-contained page (explore.html).
#pragma once

#include <string>
#include <vector>

#include "explore/runner.h"
#include "explore/sweep.h"

namespace neuroemu::explore {

// Rows of the non-dominated points over the sweep's objectives, in row order. Only points with status ok and a
// finite value of every objective take part.
std::vector<size_t> sweep_front(const SweepPlan& plan, const RunSummary& summary);

// CSV of the given rows: index, hash, one column per swept key, status, reason, accuracy, energy_j, energy_ann_j,
// latency_s, cores. A pure function of the sweep and its results (nothing about how they were obtained, such as
// cached or timing), so the file of a resumed sweep equals that of an uninterrupted one.
std::string points_csv(const SweepPlan& plan, const RunSummary& summary, const std::vector<size_t>& rows);

struct OutputFiles {
    std::string points_csv, points_json, pareto_csv, pareto_json, pareto_svg, html;
};

// Writes the six files into `dir` (created when missing), each atomically. Throws ConfigError when it cannot.
OutputFiles write_outputs(const SweepPlan& plan, const RunSummary& summary, const std::string& dir);

}  // namespace neuroemu::explore
