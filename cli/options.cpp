#include "cli/options.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli/schema.h"
#include "common/error.h"
#include "mpi/world.h"

namespace neuroemu {

namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const ParamSpec& schema_param(const std::string& key) {
    static const Schema schema = neuroemu_schema();
    const ParamSpec* spec = schema.find(key);
    if (!spec) throw InternalError(fmt::format("command-line option for unknown configuration key '{}'", key));
    return *spec;
}

std::string range_help(const ParamSpec& spec) {
    const std::string unit = spec.unit.empty() ? "" : " " + spec.unit;
    if (std::isfinite(spec.min) && std::isfinite(spec.max)) return fmt::format("{} to {}{}", spec.min, spec.max, unit);
    if (std::isfinite(spec.min)) return fmt::format("at least {}{}", spec.min, unit);
    if (std::isfinite(spec.max)) return fmt::format("up to {}{}", spec.max, unit);
    return "any" + unit;
}

}  // namespace

void add_common_options(CLI::App* cmd, CommonOptions& opts) {
    cmd->add_option("target", opts.target,
                    "experiment YAML file (a bare name such as resnet34 is looked up in configs/), an ONNX "
                    "model (stands for model.onnx), or a NIR network (model.nir, on synthetic input); none: the shipped default experiment, configs/default.yaml")
        ->transform([](const std::string& target) { return resolve_target(target); });
    cmd->add_option("--json", opts.json_file, "also write machine-readable results to FILE (keys: docs/cli.md)");
    cmd->add_option("--set", opts.sets, "override a configuration key: key.path=value (repeatable)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    add_setting_option(cmd, "--seed", "seed", opts.seed, "seed of every pseudo-random choice");
    cmd->add_flag("-q,--quiet", opts.quiet, "print only the result");
    cmd->add_flag("-v,--verbose", opts.verbose, "print timing and details");
}

void add_snn_option(CLI::App* cmd, std::string& snn) {
    cmd->add_option("--snn", snn, "a converted model from `neuroemu convert` (default: from the config)");
}

void add_engine_options(CLI::App* cmd, EngineOptions& engine) {
    add_snn_option(cmd, engine.snn);
    add_setting_option(cmd, "--images", "dataset.images", engine.images, "number of test images");
    add_setting_option(cmd, "--steps", "simulation.steps", engine.steps, "time steps T of the spiking simulation");
}

CLI::Option* add_setting_option(CLI::App* cmd, const std::string& name, const std::string& key,
                                std::optional<std::string>& text, const std::string& help) {
    const ParamSpec& spec = schema_param(key);
    return cmd->add_option(name, text, fmt::format("{}, {} (overrides {})", help, range_help(spec), key))
        ->type_name(spec.kind == ParamKind::Int ? "N" : "X");
}

CLI::Option* add_spec_option(CLI::App* cmd, const std::string& name, const ParamSpec& spec,
                             std::optional<std::string>& text) {
    CLI::Option* option = cmd->add_option(name, text, spec.help)->type_name(spec.unit.empty() ? "X" : "N");
    if (!spec.default_yaml.empty()) option->default_str(spec.default_yaml);
    return option;
}

std::optional<int64_t> setting_int(const std::string& name, const std::string& key,
                                   const std::optional<std::string>& text) {
    if (!text) return std::nullopt;
    return std::get<int64_t>(parse_param_text(schema_param(key), *text, fmt::format("{} ({})", name, key)));
}

void add_int_override(std::vector<std::string>& sets, const std::string& name, const std::string& key,
                      const std::optional<std::string>& text) {
    if (const auto value = setting_int(name, key, text)) sets.push_back(fmt::format("{}={}", key, *value));
}

std::vector<std::string> engine_overrides(const EngineOptions& engine) {
    std::vector<std::string> sets;
    add_int_override(sets, "--steps", "simulation.steps", engine.steps);
    add_int_override(sets, "--images", "dataset.images", engine.images);
    return sets;
}

void add_sample_ticks_option(CLI::App* cmd, std::optional<std::string>& text) {
    add_setting_option(cmd, "--sample-ticks", "hardware.sample_ticks", text,
                       "simulate K ticks of each image on the chip (tick 1, 2 per stratum: K = 1 + 2H) and "
                       "extrapolate with intervals; 0: all");
}

double spec_real(const std::string& name, const ParamSpec& spec, const std::optional<std::string>& text) {
    return std::get<double>(parse_param_text(spec, text.value_or(spec.default_yaml), name));
}

int64_t spec_int(const std::string& name, const ParamSpec& spec, const std::optional<std::string>& text) {
    return std::get<int64_t>(parse_param_text(spec, text.value_or(spec.default_yaml), name));
}

std::string configs_dir() {
    if (const char* env = std::getenv("NEUROEMU_CONFIGS"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec)  // the build tree (build/cli/neuroemu) or an installed tree (bin/neuroemu, share/neuroemu/configs)
        for (const fs::path& dir : {exe.parent_path() / "../../configs", exe.parent_path() / "../share/neuroemu/configs"})
            if (fs::is_regular_file(dir / "default.yaml", ec)) return fs::weakly_canonical(dir, ec).string();
    return NEUROEMU_CONFIG_DIR;
}

std::string resolve_target(const std::string& target) {
    std::error_code ec;
    if (target.empty() || fs::exists(target, ec) || target.find('/') != std::string::npos) return target;
    for (const std::string& name : {target, target + ".yaml"}) {
        const fs::path found = fs::path(configs_dir()) / name;
        if (fs::is_regular_file(found, ec)) {
            fmt::print(stderr, "neuroemu: using {}\n", found.string());
            return found.string();
        }
    }
    return target;  // reading it names the missing file
}

std::vector<std::string> target_overrides(std::string& file) {
    std::vector<std::string> sets;
    if (ends_with(file, ".onnx")) {
        sets.push_back("model.onnx=" + file);
        file.clear();
    } else if (ends_with(file, ".nir")) {  // a spiking network with no dataset of its own: seeded synthetic input
        sets = {"model.nir=" + file, "dataset.format=synthetic", "dataset.name=synthetic", "dataset.images=100",
                "simulation.encoding=poisson"};
        file.clear();
    }
    return sets;
}

Settings load_experiment(const CommonOptions& opts, std::vector<std::string> extra_sets) {
    std::vector<std::string> sets;
    std::string file = opts.target;
    const bool model_set = std::any_of(opts.sets.begin(), opts.sets.end(),
                                       [](const std::string& s) { return s.rfind("model.", 0) == 0; });
    if (file.empty() && !model_set) {
        file = (fs::path(configs_dir()) / "default.yaml").string();
        if (mpi::root())  // under mpirun every rank loads it; one note is enough
            fmt::print(stderr, "neuroemu: no target given; running the shipped default experiment {}\n", file);
    }
    sets = target_overrides(file);
    sets.insert(sets.end(), opts.sets.begin(), opts.sets.end());
    sets.insert(sets.end(), extra_sets.begin(), extra_sets.end());
    if (const auto seed = setting_int("--seed", "seed", opts.seed)) sets.push_back(fmt::format("seed={}", *seed));
    return neuroemu_schema().load(file, sets);
}

}  // namespace neuroemu
