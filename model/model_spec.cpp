#include "model/model_spec.h"

#include <fmt/format.h>

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
        ParamSpec("model.input", ParamKind::IntList, "[1, 28, 28]", "",
                  "Zoo input shape [channels, height, width].")
            .items(3, 3)
            .range(1, 65536),
        ParamSpec("model.classes", ParamKind::Int, "10", "", "Zoo output classes.").range(1, 1000000),
    };
}

Network load_model(const Settings& settings) {
    const bool onnx = settings.has("model.onnx"), zoo = settings.has("model.zoo");
    if (onnx == zoo)
        throw ConfigError(onnx ? fmt::format("{}: model.onnx and {}: model.zoo are both set; choose one",
                                             settings.where("model.onnx"), settings.where("model.zoo"))
                               : "no model: set model.onnx (an ONNX file) or model.zoo (a built-in topology)");
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
