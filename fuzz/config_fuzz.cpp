// The YAML experiment parser and `--set` values (common/config.h Schema::parse): the input is YAML text, then
// optionally a NUL byte and one `key=value` override per line. The schema declares one key of every kind (with
// ranges, choices and list bounds), so every conversion path is reached without linking the whole pipeline's
// schema (cli/schema.h pulls in SystemC).
#include <algorithm>

#include "common/config.h"
#include "common/error.h"
#include "fuzz/fuzz_target.h"

namespace {

const neuroemu::Schema& schema() {
    using neuroemu::ParamKind;
    using neuroemu::ParamSpec;
    static const neuroemu::Schema s(
        {{"model", "the model"}, {"sim", "the simulation"}, {"data", "the data"}},
        {ParamSpec("model.input", ParamKind::Path, "", "", "a path"),
         ParamSpec("model.name", ParamKind::String, "resnet", "", "a name"),
         ParamSpec("model.fold_bn", ParamKind::Bool, "true", "", "a flag"),
         ParamSpec("sim.steps", ParamKind::Int, "32", "", "an int").range(1, 1 << 20),
         ParamSpec("sim.dt_s", ParamKind::Real, "1e-3", "s", "a real").range(0, 1),
         ParamSpec("sim.engine", ParamKind::Enum, "event", "", "an enum").one_of({"event", "dense"}),
         ParamSpec("data.shape", ParamKind::IntList, "[1, 28, 28]", "", "an int list").range(1, 4096).items(1, 4),
         ParamSpec("data.mean", ParamKind::RealList, "", "", "a real list").items(0, 16)});
    return s;
}

}  // namespace

int neuroemu::fuzz::config(const uint8_t* data, size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    std::vector<std::string> overrides;
    if (nul != std::string::npos) {
        size_t from = nul + 1;
        while (from <= input.size()) {
            const size_t end = std::min(input.find('\n', from), input.size());
            overrides.push_back(input.substr(from, end - from));
            from = end + 1;
        }
    }
    try {
        schema().parse(input.substr(0, nul), "fuzz.yaml", "/tmp", overrides);
    } catch (const ConfigError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(config)
