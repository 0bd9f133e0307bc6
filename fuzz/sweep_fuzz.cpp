// Sweep files (explore/sweep.h parse_sweep_text, then expand): explore/sweep.cpp alone (plain C++ over common/),
// not the explore library, which links the SystemC chip model. The schema declares the keys the shipped sweeps
// (configs/sweeps/) vary and set, with their kinds and ranges.
#include "common/config.h"
#include "common/error.h"
#include "explore/sweep.h"
#include "fuzz/fuzz_target.h"

namespace {

const neuroemu::Schema& schema() {
    using neuroemu::ParamKind;
    using neuroemu::ParamSpec;
    static const neuroemu::Schema s(
        {{"simulation", ""}, {"conversion", ""}, {"dataset", ""}, {"chip", ""}, {"mapping", ""}},
        {ParamSpec("simulation.steps", ParamKind::Int, "64", "", "").range(1, 1 << 20),
         ParamSpec("conversion.percentile", ParamKind::Real, "99.99", "", "").range(0, 100),
         ParamSpec("conversion.compensation.enabled", ParamKind::Bool, "false", "", ""),
         ParamSpec("conversion.compensation.zeta", ParamKind::Real, "0", "", "").range(0, 10),
         ParamSpec("dataset.images", ParamKind::Int, "100", "", "").range(1, 1 << 20),
         ParamSpec("mapping.traffic_images", ParamKind::Int, "4", "", "").range(1, 1 << 20),
         ParamSpec("chip.clock_hz", ParamKind::Real, "1e8", "Hz", "").range(1, 1e12),
         ParamSpec("chip.core.sops_per_cycle", ParamKind::Int, "64", "", "").range(1, 1 << 16),
         ParamSpec("chip.core.neurons", ParamKind::Int, "256", "", "").range(1, 1 << 20),
         ParamSpec("chip.noc.buffer_depth", ParamKind::Int, "4", "", "").range(1, 1024),
         ParamSpec("chip.noc.multicast", ParamKind::Enum, "tree", "", "").one_of({"tree", "source"})});
    return s;
}

}  // namespace

int neuroemu::fuzz::sweep(const uint8_t* data, size_t size) {
    try {
        const explore::SweepSpec spec =
            explore::parse_sweep_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", "/nonexistent", schema());
        explore::expand(spec);
    } catch (const ConfigError&) {
    }
    return 0;
}
NEUROEMU_FUZZ_TARGET(sweep)
