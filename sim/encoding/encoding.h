// How an image enters the spiking network: the family `encoding`, chosen by simulation.encoding (one
// implementation per file in this folder). The engine resolves it once per run and calls it once per image and
// once per time step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/registry.h"

namespace neuroemu {

class InputEncoding {
public:
    virtual ~InputEncoding() = default;
    // true: the analog image enters once per image as a constant current through the input's projections, and
    // the input population never spikes; false: the input population spikes (spikes()).
    virtual bool constant_current() const = 0;
    // Throws DataError naming `image` when this image ([H][W][C] network input) cannot be encoded.
    virtual void check(const std::vector<float>& input, int64_t image) const = 0;
    // The input neurons that spike in one step, ascending, appended to `out`; `rng` is the image's generator
    // (the engine seeds it from the run's seed and the image index).
    virtual void spikes(const std::vector<float>& input, uint64_t& rng, std::vector<int32_t>& out) const = 0;
};

Family<InputEncoding>& input_encodings();
inline const char* const kDefaultInputEncoding = "current";
// The implementation `name` (simulation.encoding); throws ConfigError listing the registered names.
std::shared_ptr<const InputEncoding> make_input_encoding(const std::string& name);

}  // namespace neuroemu
