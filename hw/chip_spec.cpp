#include "hw/chip_spec.h"

namespace neuroemu {

std::vector<ParamSpec> chip_params() {
    return {
        ParamSpec("chip.name", ParamKind::String, "rolls", "", "Name of the chip description, for reports."),
        ParamSpec("chip.core.neurons", ParamKind::Int, "256", "neurons",
                  "Integrate-and-fire neurons per core (ROLLS, Qiao et al. 2015: 256).")
            .range(1, 1 << 24),
        ParamSpec("chip.core.synapses", ParamKind::Int, "131072", "synapses",
                  "Synapses per core (ROLLS: 256x256 plastic + 256x256 non-plastic = 128K).")
            .range(1, 1e12),
    };
}

ChipSpec chip_spec(const Settings& s) {
    return {s.get_string("chip.name"), s.get_int("chip.core.neurons"), s.get_int("chip.core.synapses")};
}

int64_t cores_lower_bound(const ChipSpec& chip, int64_t neurons) {
    return (neurons + chip.neurons_per_core - 1) / chip.neurons_per_core;
}

}  // namespace neuroemu
