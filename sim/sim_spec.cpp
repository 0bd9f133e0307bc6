#include "sim/sim_spec.h"

namespace neuroemu {

std::vector<ParamSpec> simulation_params() {
    return {
        ParamSpec("simulation.threads", ParamKind::Int, std::to_string(AnnOptions{}.threads), "threads",
                  "Worker threads over images; 0 = all hardware threads. Results do not depend on it.")
            .range(0, 4096),
        ParamSpec("simulation.micro_batch", ParamKind::Int, std::to_string(AnnOptions{}.micro_batch), "images",
                  "Images one worker pushes through the network together (small batches stay in cache).")
            .range(1, 65536),
    };
}

AnnOptions ann_options(const Settings& s) {
    AnnOptions o;
    o.threads = static_cast<int>(s.get_int("simulation.threads"));
    o.micro_batch = static_cast<int>(s.get_int("simulation.micro_batch"));
    return o;
}

}  // namespace neuroemu
