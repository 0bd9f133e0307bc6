// Design-space exploration: the sweep file (docs/explore.md), its points, and the hashes that key the cache.
//
// A sweep file names a base experiment, fixed overrides, and the swept configuration keys: a grid (cartesian
// product) and/or random draws (seeded). parse_sweep validates it against the configuration schema (every error
// names file:line:column and the field); expand lists its points in a fixed order; plan_sweep loads every point's
// Settings (so a bad value stops the sweep before anything runs) and computes its cache key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/hash.h"

namespace neuroemu::explore {

// What a point runs: `hardware` = functional engine + mapping + SystemC chip model on `hw_images` images;
// `functional` = functional engine + mapping only (no latency).
enum class Mode { Hardware, Functional };
std::string to_string(Mode mode);

// One swept key of the grid: its values as `--set` text, each with the sweep file position it came from.
struct GridAxis {
    std::string key;
    std::vector<std::string> values;
    std::vector<std::string> where;  // "sweep.yaml:12:5", one per value
};

// One randomly drawn key: a list of choices, or a numeric range.
struct RandomKey {
    std::string key;
    std::string where;
    std::vector<std::string> choices;  // non-empty: draw one uniformly
    double min = 0, max = 0;           // else: uniform in [min, max] (log: uniform in log space)
    bool log = false;
    bool integer = false;              // whole numbers in [min, max]; implied for integer keys
};

// The metrics a point yields; objectives choose among them.
enum class Metric { Accuracy, EnergyJ, LatencyS, Cores };
std::string to_string(Metric metric);

struct Objective {
    Metric metric = Metric::EnergyJ;
    bool maximise = false;
};

// The most points a sweep runs at once (`jobs`, `neuroemu explore --jobs`).
inline constexpr int64_t kMaxJobs = 4096;

struct SweepSpec {
    std::string file;                    // the sweep file as given
    std::string experiment;              // base experiment, resolved against the sweep file ("" = defaults)
    std::vector<std::string> sets;       // fixed overrides for every point, "key=value"
    Mode mode = Mode::Hardware;
    int64_t hw_images = 1;               // 0 in functional mode
    std::vector<GridAxis> grid;
    int64_t random_points = 0;
    uint64_t random_seed = 1;
    std::vector<RandomKey> random;
    std::vector<Objective> objectives;   // default: energy, latency (hardware mode), accuracy, cores
    int64_t jobs = 0;                    // 0 = all hardware threads, at most kMaxJobs

    // Swept keys in sweep order: grid keys, then random keys.
    std::vector<std::string> swept_keys() const;
};

// One point: a value for every swept key (same order as SweepSpec::swept_keys()).
struct Point {
    size_t index = 0;
    std::vector<std::pair<std::string, std::string>> values;  // key, value as `--set` text
    std::vector<std::string> overrides() const;               // "key=value" for each value
};

// Parses and validates a sweep file; throws ConfigError naming file:line:column and the field.
SweepSpec parse_sweep(const std::string& file, const Schema& schema);
// The same from text; `source` names it in messages, `base_dir` resolves the experiment and relative paths.
SweepSpec parse_sweep_text(const std::string& text, const std::string& source, const std::string& base_dir,
                           const Schema& schema);

// Every point: grid points in row-major order (the last grid key varies fastest), each combined with every
// random draw (draw-major within a grid point). Random draws depend only on the seed and the `random` section.
std::vector<Point> expand(const SweepSpec& spec);

// FNV-1a, 64 bit, and its 16-digit lower-case hex form.
std::string hex64(uint64_t value);
// Digest of a file's bytes (FNV-1a 64, hex); "" when `path` is empty. Throws ConfigError when unreadable.
std::string file_digest(const std::string& path);

// Bumped whenever what a cached result means changes (the report fields read, the child's arguments).
// 2: with chip.faults that lose events, a point's accuracy is the faulty chip's (fault-aware engine), no longer the
// fault-free network's.
inline constexpr int kCacheFormat = 2;

// Keys that never change a result (simulation.threads: results do not depend on it), left out of both hashes.
bool ignored_in_hash(const std::string& key);
// Keys that never change the converted model: chip.*, mapping.* and the ignored keys.
bool ignored_in_conversion_hash(const std::string& key);

// Cache key of a point: its fully resolved settings (Settings::dump, key order), the mode, hw_images, the cache
// format and the model file's digest.
std::string point_hash(const Settings& settings, Mode mode, int64_t hw_images, const std::string& model_digest);
// Key of the converted model a point uses: the settings conversion reads, and the model file's digest.
std::string conversion_hash(const Settings& settings, const std::string& model_digest);

// A point ready to run: every override the child gets, and its cache keys.
struct PlannedPoint {
    Point point;
    std::vector<std::string> overrides;  // the sweep's fixed `set`, then the point's values
    std::string hash;
    std::string conversion;              // conversion hash; empty: nothing to convert (a NIR network, model.nir)
};

struct SweepPlan {
    SweepSpec spec;
    std::vector<PlannedPoint> points;
};

// Expands the sweep and loads every point's Settings (ConfigError naming the point and its values when one is
// invalid), computing the hashes.
SweepPlan plan_sweep(const SweepSpec& spec, const Schema& schema);

}  // namespace neuroemu::explore
