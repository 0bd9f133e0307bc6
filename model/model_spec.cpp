#include "model/model_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>

#include "common/error.h"
#include "model/onnx_import.h"
#include "model/zoo.h"

namespace neuroemu {

std::vector<ParamSpec> model_params() {
    return {
        ParamSpec("model.onnx", ParamKind::Path, "", "",
                  "ONNX file exported from PyTorch (opset 9-17, BatchNorm fused or kept)."),
        ParamSpec("model.zoo", ParamKind::Enum, "", "",
                  "Built-in topology with seeded pseudo-random weights (instead of model.onnx).")
            .one_of(zoo_architectures()),
        ParamSpec("model.nir", ParamKind::Path, "", "",
                  "NIR file (Neuromorphic Intermediate Representation, docs/nir.md): a spiking network imported "
                  "as it is, with no ANN and no conversion (instead of model.onnx or model.zoo)."),
        ParamSpec("model.nir_dt_s", ParamKind::Real, "0.0001", "s",
                  "Time step at which model.nir's continuous-time neurons (LIF, CubaLIF, LI, CubaLI) are "
                  "discretised.")
            .range(1e-9, 10),
        ParamSpec("model.nir_discretisation", ParamKind::Enum, "euler", "",
                  "How model.nir's neuron equations are discretised: euler (forward Euler, as snnTorch, Norse and "
                  "Sinabs export with dt) or exact (the exact solution for input held over each step).")
            .one_of({"euler", "exact"}),
        ParamSpec("model.nir_reset", ParamKind::Enum, "nir", "",
                  "Reset after a spike for model.nir's neurons: nir (to v_reset, as the file says), subtract "
                  "(v -= threshold, as snnTorch's reset by subtraction) or zero (v = 0).")
            .one_of({"nir", "subtract", "zero"}),
        ParamSpec("model.input", ParamKind::IntList, "[1, 28, 28]", "",
                  "Zoo input shape [channels, height, width].")
            .items(3, 3)
            .range(1, 65536),
        ParamSpec("model.classes", ParamKind::Int, "10", "", "Zoo output classes.").range(1, 1000000),
    };
}

bool nir_model(const Settings& settings) {
    std::vector<std::string> set;
    for (const char* key : {"model.onnx", "model.zoo", "model.nir"})
        if (settings.has(key)) set.push_back(fmt::format("{}: {}", settings.where(key), key));
    if (set.size() > 1)
        throw ConfigError(fmt::format("{} are set together; choose one model", fmt::join(set, " and ")));
    if (set.empty())
        throw ConfigError("no model: set model.onnx (an ONNX file), model.zoo (a built-in topology) or model.nir "
                          "(a NIR spiking network)");
    return settings.has("model.nir");
}

Network load_model(const Settings& settings) {
    if (nir_model(settings))
        throw ConfigError(fmt::format("{}: model.nir: '{}' is a spiking network; it has no ANN to load (this needs "
                                      "model.onnx or model.zoo)",
                                      settings.where("model.nir"), settings.get_path("model.nir")));
    const bool onnx = settings.has("model.onnx");
    if (onnx) {
        const std::string path = settings.get_path("model.onnx");
        if (!std::filesystem::is_regular_file(path))
            throw ConfigError(fmt::format("{}: model.onnx: no such file '{}'", settings.where("model.onnx"), path));
        return import_onnx_file(path);
    }
    ZooSpec spec{settings.get_string("model.zoo"), settings.get_ints("model.input"), settings.get_int("model.classes"),
                 static_cast<uint64_t>(settings.get_int("seed"))};
    return build_zoo(spec);
}

}  // namespace neuroemu
