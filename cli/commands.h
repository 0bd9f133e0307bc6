// The CLI's subcommands: thin layers over library calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace neuroemu {

struct CommonOptions {
    std::string target;                 // CONFIG.yaml, MODEL.onnx, or empty (defaults + --set)
    std::string json_file;              // --json FILE
    std::vector<std::string> sets;      // --set key=value
    std::optional<int64_t> seed;        // --seed
    int verbosity = 1;                  // 0 = -q, 1 = normal, 2 = -v
};

// Settings for a run: a YAML experiment file, or an ONNX file standing for `model.onnx`, then --set and
// --seed. Throws ConfigError.
Settings load_experiment(const CommonOptions& opts, std::vector<std::string> extra_sets = {});

int run_info(const CommonOptions& opts);

// `neuroemu list [--json FILE]`: the registered families and implementations (cli/list.cpp).
int run_list(const std::string& json_file);

struct EvaluateOptions {
    bool ann = false;
    std::optional<int64_t> images;
    std::optional<int64_t> steps;
    std::string snn;  // --snn FILE: a converted model; otherwise converted in memory from the config
};
int run_evaluate(const CommonOptions& opts, const EvaluateOptions& eval);

struct ConvertOptions {
    std::string output = "model.snn";
};
int run_convert(const CommonOptions& opts, const ConvertOptions& conv);

struct MapCommandOptions {
    std::string snn;                   // --snn FILE: a converted model; otherwise converted from the config
    std::string output = "model.map";  // -o FILE; empty: no mapping file
};
int run_map(const CommonOptions& opts, const MapCommandOptions& cmd);

struct SimulateOptions {
    std::string snn;                // --snn FILE
    std::string map;                // --map FILE: a mapping from `neuroemu map`; otherwise mapped here
    std::optional<int64_t> images;  // --images N
    std::optional<int64_t> steps;   // --steps T
    std::string trace;              // --trace FILE.vcd
    std::optional<std::string> trace_cores;    // --trace-cores LIST (e.g. 0-15,40); default: the first 16
    std::optional<std::string> trace_routers;  // --trace-routers LIST (y * width + x); default: the traced cores'
    std::optional<std::string> trace_window;   // --trace-window A:B, global ticks [A, B); default: the first image
    std::string aer_out;            // --aer-out FILE: record every packet (traces/README.md)
    std::string aer_in;             // --aer-in FILE: drive the chip from a recorded trace
};
int run_simulate(const CommonOptions& opts, const SimulateOptions& cmd);

struct ReportOptions {
    std::string snn;                   // --snn FILE
    std::string output;                // -o DIR: report.html, report.md, report.json and CSV files
    std::optional<int64_t> images;     // --images N (functional engine)
    std::optional<int64_t> steps;      // --steps T
    std::optional<int64_t> hw_images;  // --hw-images N (report.hw_images)
};
int run_report(const CommonOptions& opts, const ReportOptions& cmd);

// `neuroemu noc`: the chip's routers on a mesh of their own under synthetic traffic (router/noc_traffic.h). Values
// stay text until run_noc checks them, so that a bad one is a ConfigError naming its option.
struct NocCommandOptions {
    std::string mesh;                     // --mesh WxH; empty: chip.noc.width x height when set, else 8x8
    std::string traffic = "uniform";      // --traffic uniform|transpose|hotspot
    std::string rate;                     // --rate R, packets per node per cycle (required)
    std::string packet_flits;             // --packet-flits F; empty: one 32-bit AER event, ceil(32 / flit_bits)
    std::string warmup = "1000";          // --warmup C, cycles
    std::string cycles = "10000";         // --cycles C, the measurement window
    std::string drain = "0";              // --drain C, bound on the drain; 0: max(window, 10000)
    std::string hotspot_fraction = "0.2"; // --hotspot-fraction
};
int run_noc(const CommonOptions& opts, const NocCommandOptions& cmd);

// `neuroemu explore SWEEP.yaml`: design-space exploration (docs/explore.md).
struct ExploreOptions {
    std::string sweep;              // the sweep file
    std::string output;             // -o DIR; empty: <sweep name>.out next to the sweep file
    std::string cache;              // --cache DIR; empty: DIR/cache
    std::optional<int64_t> jobs;    // --jobs N (overrides the sweep's `jobs`; 0 = all cores)
    std::string json_file;          // --json FILE
    bool dry_run = false;           // --dry-run: list the points and what is cached, run nothing
};
int run_explore(const ExploreOptions& cmd, int verbosity);

}  // namespace neuroemu
