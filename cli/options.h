// Command-line options: those every experiment command shares, declared once, and numeric options whose bounds
// and error messages come from a ParamSpec (the configuration key's own, when the option overrides one), so the
// command line accepts exactly what the configuration file accepts.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace neuroemu {

struct CommonOptions {
    std::string target;                 // CONFIG.yaml, MODEL.onnx, NET.nir, or empty (defaults + --set)
    std::string json_file;              // --json FILE
    std::vector<std::string> sets;      // --set key=value
    std::optional<std::string> seed;    // --seed, checked as the `seed` key
    bool quiet = false, verbose = false;  // -q, -v
    int verbosity() const { return quiet ? 0 : verbose ? 2 : 1; }
};

// --snn, --images and --steps: the model and the functional engine's run. Values stay text until checked
// against their keys (dataset.images, simulation.steps), so that a bad one is a ConfigError naming its option.
struct EngineOptions {
    std::string snn;                   // a converted model; otherwise converted from the config
    std::optional<std::string> images;
    std::optional<std::string> steps;
};

// A subcommand: its CLI11 node and what runs it once parsed.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
    // Shares its work over the ranks under mpirun (docs/cli.md, "Under mpirun"); the others run on rank 0 only.
    bool distributed = false;
};

void add_common_options(CLI::App* cmd, CommonOptions& opts);
void add_snn_option(CLI::App* cmd, std::string& snn);
void add_engine_options(CLI::App* cmd, EngineOptions& engine);
// `--name` overriding configuration key `key`; help names the key and its range.
CLI::Option* add_setting_option(CLI::App* cmd, const std::string& name, const std::string& key,
                                std::optional<std::string>& text, const std::string& help);
// `--name` declared by a ParamSpec of its own (the command's, not the configuration's); its default is the spec's.
CLI::Option* add_spec_option(CLI::App* cmd, const std::string& name, const ParamSpec& spec,
                             std::optional<std::string>& text);

// The value of a setting option, checked against its key's ParamSpec; nullopt when not given. ConfigError:
// "--steps (simulation.steps): expected an integer in [1, 65535], got '0'".
std::optional<int64_t> setting_int(const std::string& name, const std::string& key, const std::optional<std::string>& text);
// "key=value" overrides for the engine options that were given (steps, then images).
std::vector<std::string> engine_overrides(const EngineOptions& engine);
// Appends "key=value" to `sets` when setting option `name` (overriding `key`) was given, checked as setting_int.
void add_int_override(std::vector<std::string>& sets, const std::string& name, const std::string& key,
                      const std::optional<std::string>& text);
// --sample-ticks K (hardware.sample_ticks) of `simulate` and `report`.
void add_sample_ticks_option(CLI::App* cmd, std::optional<std::string>& text);

// The value of a spec option: its text, else the spec's default, checked against the spec.
double spec_real(const std::string& name, const ParamSpec& spec, const std::optional<std::string>& text);
int64_t spec_int(const std::string& name, const ParamSpec& spec, const std::optional<std::string>& text);

// The folder of the shipped experiments: $NEUROEMU_CONFIGS, else configs/ beside the build or install tree, else
// the source tree's.
std::string configs_dir();

// A command's target as given, or, for a bare name that is not a file (`resnet34`, `resnet34.yaml`), the file of
// that name in configs_dir(), announced on stderr.
std::string resolve_target(const std::string& target);

// The overrides a model target stands for, `file` cleared then (no YAML to read): MODEL.onnx is model.onnx; NET.nir
// is model.nir on 100 images of the seeded synthetic dataset, Poisson-encoded (spike events, as NIR networks
// take). Any other target: none, `file` kept.
std::vector<std::string> target_overrides(std::string& file);

// Settings for a run: a YAML experiment file, an ONNX file standing for `model.onnx`, or a NIR file standing for
// `model.nir` with the seeded synthetic dataset (dataset.format: synthetic), then --set, the
// command's own overrides, and --seed. No target and no model.* --set: the shipped default experiment
// (configs/default.yaml), announced on stderr. Throws ConfigError.
Settings load_experiment(const CommonOptions& opts, std::vector<std::string> extra_sets = {});

}  // namespace neuroemu
