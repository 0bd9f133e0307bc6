// The `poisson` encoding: each pixel x in [0, 1] fires with probability x per step, from a seeded generator.
#include <fmt/format.h>

#include "common/error.h"
#include "common/random.h"
#include "sim/encoding/encoding.h"

namespace neuroemu {
namespace {

class Poisson final : public InputEncoding {
public:
    bool constant_current() const override { return false; }
    void check(const std::vector<float>& input, int64_t image) const override {
        for (float x : input)
            if (!(x >= 0.0f && x <= 1.0f))
                throw DataError(fmt::format("image {}: Poisson input needs values in [0, 1], found {} (drop dataset "
                                            "mean/std, or use constant-current input)", image, x));
    }
    void spikes(const std::vector<float>& input, uint64_t& rng, std::vector<int32_t>& out) const override {
        for (size_t j = 0; j < input.size(); ++j) {
            const double u = static_cast<double>(splitmix64_next(rng) >> 11) * 0x1.0p-53;  // uniform in [0, 1)
            if (u < input[j]) out.push_back(static_cast<int32_t>(j));
        }
    }
};

}  // namespace

void register_poisson(Family<InputEncoding>& family) {
    family.add({"poisson", "fires each pixel x in [0, 1] with probability x per step (seeded).", {}},
               [](const Settings&) { return std::make_unique<Poisson>(); });
}

}  // namespace neuroemu
