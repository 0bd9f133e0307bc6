#include "router/traffic/traffic.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_uniform(Family<TrafficPattern>& family);
void register_transpose(Family<TrafficPattern>& family);
void register_hotspot(Family<TrafficPattern>& family);

Family<TrafficPattern>& traffic_patterns() {
    static Family<TrafficPattern> family("traffic", "",
                                         "Synthetic traffic of `neuroemu noc`, chosen by --traffic (not a YAML key).");
    static const bool builtins = (register_uniform(family), register_transpose(family), register_hotspot(family), true);
    (void)builtins;
    return family;
}

}  // namespace neuroemu
