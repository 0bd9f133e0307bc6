#include "arch/fault_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "arch/chip_spec.h"
#include "common/error.h"

namespace neuroemu {
namespace {

// A CRC of `bits` bits with polynomial `poly` over the 32 bits of `word`, most significant bit first.
uint32_t crc_of(uint32_t word, uint32_t poly, int bits) {
    const uint32_t top = 1u << (bits - 1), mask = (bits == 32 ? ~0u : (1u << bits) - 1);
    uint32_t crc = 0;
    for (int i = 31; i >= 0; --i) {
        const bool in = ((word >> i) & 1u) != 0;
        const bool out = (crc & top) != 0;
        crc = (crc << 1) & mask;
        if (in != out) crc ^= poly;
    }
    return crc;
}

std::vector<int32_t> core_list(const Settings& settings, const std::string& key) {
    std::vector<int32_t> out;
    for (int64_t k : settings.get_ints(key)) out.push_back(static_cast<int32_t>(k));
    return out;
}

}  // namespace

namespace {
uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
}  // namespace

LinkFlips::LinkFlips(double rate, uint64_t seed, int bits) : rate_(rate), seed_(seed), bits_(bits) {
    if (bits > 64) throw InternalError("link faults: a packet of more than 64 bits");
    log_ = std::log1p(-std::min(rate, 1.0));
    // The first gap passes the last bit (no flip) exactly when u >= 1 - (1 - rate)^bits. Above that threshold
    // plus a relative margin of 1e-9, far wider than the rounding of log1p, the division and expm1, the test in
    // operator() would find no flip too, so it is skipped (most packets at the rates of interest).
    if (rate > 0 && rate < 1) no_flip_u_ = -std::expm1(bits * log_) * (1 + 1e-9);
}

uint64_t LinkFlips::packet_key(uint64_t tick, int32_t source, int32_t c, int32_t y, int32_t x, int32_t dest) const {
    uint64_t key = mix64(seed_ ^ mix64(tick));
    for (uint64_t v : {uint64_t(uint32_t(source)), uint64_t(uint32_t(c)), uint64_t(uint32_t(y)), uint64_t(uint32_t(x)),
                       uint64_t(uint32_t(dest))})
        key = mix64(key ^ v);
    return key;
}

uint64_t LinkFlips::operator()(uint64_t tick, int32_t source, int32_t c, int32_t y, int32_t x, int32_t dest,
                               uint64_t router, int output) const {
    return rate_ > 0 ? on_link(packet_key(tick, source, c, y, x, dest), router, output) : 0;
}

uint64_t LinkFlips::on_link(uint64_t packet_key, uint64_t router, int output) const {
    if (rate_ <= 0) return 0;
    const uint64_t key = mix64(mix64(packet_key ^ router) ^ uint64_t(output));
    // The gaps between flipped bits are geometric: one draw per flip (and one more), not one per bit.
    if (static_cast<double>(mix64(key) >> 11) * 0x1.0p-53 >= no_flip_u_) return 0;
    uint64_t flips = 0;
    for (int bit = 0, draw = 0;; ++bit, ++draw) {
        const double u = static_cast<double>(mix64(key + static_cast<uint64_t>(draw)) >> 11) * 0x1.0p-53;
        const double gap = rate_ >= 1 ? 0 : std::floor(std::log1p(-u) / log_);
        if (gap >= bits_ - bit) break;
        bit += static_cast<int>(gap);
        flips |= uint64_t{1} << bit;
    }
    return flips;
}

uint32_t crc8_of(uint32_t word) { return crc_of(word, 0x07, 8); }
uint32_t crc16_of(uint32_t word) { return crc_of(word, 0x1021, 16); }

int fault_check_bits(FaultCheck check) {
    switch (check) {
        case FaultCheck::Parity: return 1;
        case FaultCheck::Crc8: return 8;
        case FaultCheck::Crc16: return 16;
        default: return 0;
    }
}

int FaultSpec::check_bits() const { return fault_check_bits(check); }

bool fault_detected(FaultCheck check, uint64_t flips) {
    const auto address = static_cast<uint32_t>(flips & 0xffffffffu);
    const auto check_flips = static_cast<uint32_t>(flips >> kAerEventBits);
    switch (check) {
        case FaultCheck::Parity: return (__builtin_popcount(address) & 1) != static_cast<int>(check_flips & 1u);
        case FaultCheck::Crc8: return crc8_of(address) != (check_flips & 0xffu);
        case FaultCheck::Crc16: return crc16_of(address) != (check_flips & 0xffffu);
        default: return false;
    }
}

std::vector<ParamSpec> fault_params() {
    using K = ParamKind;
    return {
        ParamSpec("chip.faults.flit_error_rate", K::Real, "0", "1/bit",
                  "Probability that one bit of a packet flips on one router-to-router link (transient, independent); "
                  "0 = no flips.")
            .range(0, 1),
        ParamSpec("chip.faults.seed", K::Int, "1", "",
                  "Seed of the bit flips: the same seed flips the same bits of the same packets.")
            .range(0, 9007199254740992.0),
        ParamSpec("chip.faults.check", K::Enum, "none", "",
                  "Per-packet check that lets the destination core detect flipped bits and drop the packet: `none`, "
                  "`parity` (1 bit), `crc8` (8 bits) or `crc16` (16 bits), added to the packet's 32 address bits.")
            .one_of(words_of(kFaultCheckWords)),
        ParamSpec("chip.faults.stuck_cores", K::IntList, "[]", "cores",
                  "Cores (indices in the mapping) that never fire: their spikes are never sent.")
            .range(0, 2147483647),
        ParamSpec("chip.faults.slow_cores", K::IntList, "[]", "cores",
                  "Cores (indices in the mapping) whose neuron update takes chip.faults.slow_factor times as long.")
            .range(0, 2147483647),
        ParamSpec("chip.faults.dead_routers", K::IntList, "[]", "routers",
                  "Dead routers (index y * width + x of the whole mesh): no packet passes them and their core can "
                  "neither send nor receive; routes go around them (chip.faults.reroute) where west-first routing can, and "
                  "the deliveries it cannot route are reported as undeliverable.")
            .range(0, 9007199254740992.0),
        ParamSpec("chip.faults.dead_links", K::IntList, "[]", "links",
                  "Dead links (router index * 4 + direction: 0 east, 1 west, 2 north, 3 south; both directions of the "
                  "wire die); routes go around them (chip.faults.reroute) where west-first routing can, and the deliveries it "
                  "cannot route are reported as undeliverable.")
            .range(0, 9007199254740992.0),
        ParamSpec("chip.faults.reroute", K::Bool, "true", "",
                  "Route around dead routers and links: a source whose XY routes cross one takes the west-first route "
                  "tree that avoids them (deadlock-free without virtual channels); only the destinations that tree "
                  "cannot reach are undeliverable. false: every route crossing a dead element is undeliverable."),
        ParamSpec("chip.faults.slow_factor", K::Real, "1", "",
                  "Factor on the neuron update time of the slow cores.")
            .range(1, 1e6),
    };
}

FaultSpec fault_spec(const Settings& settings) {
    FaultSpec f;
    f.flit_error_rate = settings.get_real("chip.faults.flit_error_rate");
    f.seed = settings.get_int("chip.faults.seed");
    f.check = *enum_of(settings.get_string("chip.faults.check"), kFaultCheckWords);
    f.stuck_cores = core_list(settings, "chip.faults.stuck_cores");
    f.slow_cores = core_list(settings, "chip.faults.slow_cores");
    f.slow_factor = settings.get_real("chip.faults.slow_factor");
    f.dead_routers = settings.get_ints("chip.faults.dead_routers");
    f.dead_links = settings.get_ints("chip.faults.dead_links");
    f.reroute = settings.get_bool("chip.faults.reroute");
    return f;
}

const char* to_string(FaultCheck c) { return word_of(c, kFaultCheckWords); }

}  // namespace neuroemu
