#include "hw/core_model.h"

#include <fmt/format.h>

#include <map>

#include "common/error.h"
#include "hw/chip.h"
#include "hw/cores/rolls_core.h"

namespace neuroemu {

CoreModel::CoreModel(Chip& chip, int32_t index, Router& router)
    : chip_(chip), index_(index), core_(chip.mapping.cores[static_cast<size_t>(index)]), router_(router) {
    if (chip.mapping.graph.layers[static_cast<size_t>(core_.layer)].kind == UnitKind::Partial)
        touched_.assign(static_cast<size_t>((core_.y1 - core_.y0) * (core_.x1 - core_.x0)), 0);
}

std::unique_ptr<CoreModel> make_core_model(const std::string& name, Chip& chip, int32_t index, Router& router) {
    static const std::map<std::string, CoreModelFactory> models = {
        {"rolls", [](Chip& c, int32_t i, Router& r) { return std::make_unique<RollsCore>(c, i, r); }},
    };
    const auto it = models.find(name);
    if (it == models.end()) throw ConfigError(fmt::format("chip.core.model: no core model named '{}'", name));
    return it->second(chip, index, router);
}

}  // namespace neuroemu
