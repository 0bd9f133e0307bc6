// Faults injected into the SystemC chip model (`chip.faults.*`, docs/hardware-model.md "Faults"): transient bit flips
// on the mesh links with an optional per-packet check that detects them, and cores that are stuck (never fire) or
// slow (their neuron update takes longer). Kept out of ChipSpec on purpose: a fault is a property of one simulated
// chip, not of the chip description the mapper places on, so faults never enter a `.map` file's header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/enum_words.h"
#include "common/config.h"

namespace neuroemu {

// The check a packet carries so that its destination can detect flipped bits.
enum class FaultCheck { None, Parity, Crc8, Crc16 };
inline constexpr EnumWord<FaultCheck> kFaultCheckWords[] = {
    {FaultCheck::None, "none"}, {FaultCheck::Parity, "parity"}, {FaultCheck::Crc8, "crc8"}, {FaultCheck::Crc16, "crc16"}};

struct FaultSpec {
    double flit_error_rate = 0;  // probability that one bit of a flit flips on one router-to-router link
    int64_t seed = 1;            // the flips are a function of (seed, packet, link, bit): same seed, same flips
    FaultCheck check = FaultCheck::None;
    std::vector<int32_t> stuck_cores;  // core indices (the mapping's order) that never fire
    std::vector<int32_t> slow_cores;   // core indices whose neuron update takes slow_factor times as long
    double slow_factor = 1;
    std::vector<int64_t> dead_routers;  // router indices y * width + x: nothing passes them, their core is cut off
    std::vector<int64_t> dead_links;    // router index * 4 + direction (0 E, 1 W, 2 N, 3 S): both directions dead
    bool reroute = true;                // route around dead elements (west-first) where XY crosses one

    bool any() const {
        return flit_error_rate > 0 || !stuck_cores.empty() || !slow_cores.empty() || !dead_routers.empty() ||
               !dead_links.empty();
    }
    // Bits the check adds to every packet: 0, 1, 8 or 16.
    int check_bits() const;
};

// Bits of the check `check` adds to a packet.
int fault_check_bits(FaultCheck check);
// Whether `check` detects the error pattern `flips` (bit i of the packet's kAerEventBits address bits, then bit
// kAerEventBits + j of its check bits). Parity and the CRCs are linear, so detection depends on the pattern only:
// the check of the received address differs from the received check iff check(address flips) != check flips.
bool fault_detected(FaultCheck check, uint64_t flips);
// The transient bit flips of one packet crossing one router-to-router link (chip.faults.flit_error_rate): each of
// `bits` bits flips with probability `rate`. A pure function of (seed, tick, the packet's source and source unit
// (c, y, x), its destination (-1: a multicast tree's packet), router, output), so that the chip's routers
// (RouterEnv) and the fault-aware engine (experiment/fault_losses.h) take the same decisions without sharing state.
class LinkFlips {
public:
    LinkFlips() = default;
    LinkFlips(double rate, uint64_t seed, int bits);  // bits <= 64 (InternalError otherwise)
    bool on() const { return rate_ > 0; }
    // Bit i set: bit i of the packet (arch/fault_spec.h's layout above) flips on output `output` of `router`.
    uint64_t operator()(uint64_t tick, int32_t source, int32_t c, int32_t y, int32_t x, int32_t dest, uint64_t router,
                        int output) const;
    // The same in two parts, for the links of one packet: the packet's key once, then each link's flips
    // (operator() = on_link(packet_key(...), router, output)).
    uint64_t packet_key(uint64_t tick, int32_t source, int32_t c, int32_t y, int32_t x, int32_t dest) const;
    uint64_t on_link(uint64_t packet_key, uint64_t router, int output) const;

private:
    double rate_ = 0, log_ = 0;  // rate per bit and log(1 - rate)
    double no_flip_u_ = 2;       // a first draw at least this large flips nothing (2: never decided early)
    uint64_t seed_ = 0;
    int bits_ = 0;
};

// CRC-8 (polynomial 0x07) and CRC-16 (CCITT, 0x1021) of a 32-bit word, zero initial value, no final xor.
uint32_t crc8_of(uint32_t word);
uint32_t crc16_of(uint32_t word);

// The `chip.faults.*` keys.
std::vector<ParamSpec> fault_params();
// Parsed from `settings`; throws ConfigError naming the key for a malformed core list.
FaultSpec fault_spec(const Settings& settings);

const char* to_string(FaultCheck c);

}  // namespace neuroemu
