#include "sim/encoding/encoding.h"

namespace neuroemu {

// The built-in implementations (one file each); see common/registry.h for why they are registered by calls.
void register_current(Family<InputEncoding>& family);
void register_poisson(Family<InputEncoding>& family);

Family<InputEncoding>& input_encodings() {
    static Family<InputEncoding> family("encoding", "simulation.encoding", "Input encoding.");
    static const bool builtins = (register_current(family), register_poisson(family), true);
    (void)builtins;
    return family;
}

std::shared_ptr<const InputEncoding> make_input_encoding(const std::string& name) {
    return input_encodings().make(name);
}

}  // namespace neuroemu
