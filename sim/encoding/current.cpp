// The `current` encoding: each analog pixel injected as a constant current every step (computed once per
// image), the input the ANN sees.
#include "sim/encoding/encoding.h"

namespace neuroemu {
namespace {

class ConstantCurrent final : public InputEncoding {
public:
    bool constant_current() const override { return true; }
    void check(const std::vector<float>&, int64_t) const override {}
    void spikes(const std::vector<float>&, uint64_t&, std::vector<int32_t>&) const override {}
};

}  // namespace

void register_current(Family<InputEncoding>& family) {
    family.add({"current", "injects each analog pixel as a constant current every step.", {}},
               [](const Settings&) { return std::make_unique<ConstantCurrent>(); });
}

}  // namespace neuroemu
