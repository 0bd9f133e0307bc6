#include "hw/core_model.h"

#include "hw/chip.h"

namespace neuroemu {

CoreModel::CoreModel(Chip& chip, int32_t index, Router& router)
    : chip_(chip), index_(index), core_(chip.mapping.cores[static_cast<size_t>(index)]), router_(router) {
    if (chip.mapping.graph.layers[static_cast<size_t>(core_.layer)].kind == UnitKind::Partial)
        touched_.assign(static_cast<size_t>((core_.y1 - core_.y0) * (core_.x1 - core_.x0)), 0);
}

// The built-in models, one file each under hw/cores/; see common/registry.h for why they are registered by these
// calls rather than by static objects.
void register_rolls(Family<CoreModelKind>& family);

Family<CoreModelKind>& core_models() {
    static Family<CoreModelKind> family("core_model", "",
                                        "The neuromorphic core of the SystemC chip model, behind its router's local "
                                        "port (HwOptions::core_model).");
    static const bool builtins = (register_rolls(family), true);
    (void)builtins;
    return family;
}

}  // namespace neuroemu
