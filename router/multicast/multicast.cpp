#include "router/multicast/multicast.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_tree(Family<Multicast>& family);
void register_source(Family<Multicast>& family);

Family<Multicast>& multicasts() {
    static Family<Multicast> family("multicast", "chip.noc.multicast", "How a spike reaches several cores.");
    static const bool builtins = (register_tree(family), register_source(family), true);
    (void)builtins;
    return family;
}

std::unique_ptr<Multicast> make_multicast(const std::string& name) { return multicasts().make(name); }

}  // namespace neuroemu
