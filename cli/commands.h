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
};
int run_simulate(const CommonOptions& opts, const SimulateOptions& cmd);

}  // namespace neuroemu
