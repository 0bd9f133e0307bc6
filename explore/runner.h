// Running a sweep: each point is evaluated by a child process (`neuroemu explore-point`, which calls
// experiment::run_point: one SystemC simulation per process), at most `jobs` at a time, with results cached by the point's hash so that an interrupted sweep
// resumes where it stopped (docs/explore.md).
//
// Cache layout under RunOptions::cache_dir:
//   <hash>.json          the child's point result (experiment/point.h), renamed into place when complete
//   snn/<hash>.snn       a converted model, shared by the points whose settings differ only in chip.* / mapping.*
//   tmp/                 outputs of running children (named with the sweep's pid; stale ones are removed)
//   log/<hash>.stderr    a child's standard error, kept when it is not empty
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "experiment/point.h"
#include "explore/sweep.h"

namespace neuroemu::explore {

using Status = experiment::PointStatus;
using experiment::to_string;

// The child's result (experiment::PointResult) and how this sweep obtained it.
struct PointResult : experiment::PointResult {
    bool cached = false;                  // read from the cache rather than computed by this run
    double seconds = 0;                   // the child's wall time (0 when cached)

    std::optional<double> metric(Metric m) const;
};

// The known metrics as one line: "  accuracy 91.20%  energy 1.2e-05 J  latency 0.05 ms  cores 257".
std::string metrics_text(const PointResult& result);

// Reads a point result (the child's --json) into a result; throws DataError when it is not one.
PointResult read_result_file(const std::string& path);

struct RunOptions {
    std::string executable;  // the neuroemu executable the children run
    std::string cache_dir;
    int jobs = 1;            // most children at once (cores in use)
    // Called with one line per finished point (and per conversion) as it finishes; empty: silent.
    std::function<void(const std::string&)> progress;
};

struct RunSummary {
    std::vector<PointResult> results;  // by point index
    int64_t points = 0;                // rows of the sweep
    int64_t distinct = 0;              // distinct hashes (equal points are computed once)
    int64_t computed = 0;              // distinct points a child evaluated in this run
    int64_t cached = 0;                // distinct points read from the cache
    int64_t conversions = 0;           // converted models built in this run
    int64_t ok = 0, does_not_fit = 0, failed = 0;  // rows by status
    bool interrupted = false;          // SIGINT/SIGTERM: children killed, nothing half-written in the cache
    double seconds = 0;
};

// Runs every point of the plan that is not in the cache. Never throws for a point that fails: it is recorded with
// its reason. Throws ConfigError when the cache directory cannot be created.
// Under mpirun a collective: the uncached points (and conversions) are dealt to the ranks in turn, each rank runs
// its share with `jobs` cores of its own, and rank 0's summary holds every result (the others' only their own).
RunSummary run_sweep(const SweepPlan& plan, const RunOptions& options);

// The argument lists of the children (without the executable), exposed for tests and docs.
std::vector<std::string> convert_args(const SweepSpec& spec, const std::vector<std::string>& overrides, int threads,
                                      const std::string& snn_out);
std::vector<std::string> point_args(const SweepSpec& spec, const std::vector<std::string>& overrides, int threads,
                                    const std::string& snn, const std::string& json_out);

}  // namespace neuroemu::explore
