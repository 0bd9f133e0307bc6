// The per-packet checks of chip.faults (arch/fault_spec.h) against their defining properties, computed here
// independently: the CRC as the remainder of a long division, detection by recomputing the check of the received
// word, and the published error-detecting guarantees of parity, CRC-8 (0x07) and CRC-16-CCITT (0x1021).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "arch/chip_spec.h"
#include "arch/fault_spec.h"

namespace neuroemu {
namespace {

// The remainder of `value` (its `bits` low bits, most significant first) divided by `poly` (with its x^n term) over
// GF(2): a schoolbook long division.
uint64_t remainder(uint64_t value, int bits, uint64_t poly, int n) {
    for (int i = bits - 1; i >= n; --i)
        if ((value >> i) & 1u) value ^= poly << (i - n);
    return value;
}

TEST(FaultCheck, CrcIsTheRemainderOfTheShiftedWord) {
    std::mt19937_64 rng(7);
    for (int k = 0; k < 2000; ++k) {
        const auto word = static_cast<uint32_t>(rng());
        EXPECT_EQ(crc8_of(word), remainder(uint64_t{word} << 8, 40, 0x107, 8)) << word;
        EXPECT_EQ(crc16_of(word), remainder(uint64_t{word} << 16, 48, 0x11021, 16)) << word;
        // The codeword (word, crc) divides evenly.
        EXPECT_EQ(remainder((uint64_t{word} << 8) | crc8_of(word), 40, 0x107, 8), 0u);
    }
}

// Received = sent ^ flips; detected iff the check of the received address differs from the received check.
bool detected_by_recomputing(FaultCheck check, uint32_t address, uint64_t flips) {
    const auto check_of = [check](uint32_t a) -> uint32_t {
        switch (check) {
            case FaultCheck::Parity: return static_cast<uint32_t>(__builtin_popcount(a) & 1);
            case FaultCheck::Crc8: return crc8_of(a);
            case FaultCheck::Crc16: return crc16_of(a);
            default: return 0;
        }
    };
    const uint32_t received_address = address ^ static_cast<uint32_t>(flips);
    const uint32_t received_check = check_of(address) ^ static_cast<uint32_t>(flips >> kAerEventBits);
    return check_of(received_address) != received_check;
}

TEST(FaultCheck, DetectionDependsOnTheErrorPatternOnly) {
    std::mt19937_64 rng(11);
    for (FaultCheck c : {FaultCheck::None, FaultCheck::Parity, FaultCheck::Crc8, FaultCheck::Crc16}) {
        const int bits = kAerEventBits + fault_check_bits(c);
        for (int k = 0; k < 3000; ++k) {
            const auto address = static_cast<uint32_t>(rng());
            uint64_t flips = rng() & ((uint64_t{1} << bits) - 1);
            if (k % 3 == 0) flips &= rng();  // fewer bits
            EXPECT_EQ(fault_detected(c, flips), detected_by_recomputing(c, address, flips)) << to_string(c) << " " << flips;
        }
    }
}

TEST(FaultCheck, PublishedGuarantees) {
    EXPECT_EQ(fault_check_bits(FaultCheck::None), 0);
    EXPECT_EQ(fault_check_bits(FaultCheck::Parity), 1);
    EXPECT_EQ(fault_check_bits(FaultCheck::Crc8), 8);
    EXPECT_EQ(fault_check_bits(FaultCheck::Crc16), 16);
    // Every error of 1, 2 or 3 bits: parity catches odd weights only; CRC-8 (x+1 divides 0x107, period 127 > 40)
    // and CRC-16-CCITT (Hamming distance 4 at this length) catch all of them. No check catches nothing.
    for (FaultCheck c : {FaultCheck::None, FaultCheck::Parity, FaultCheck::Crc8, FaultCheck::Crc16}) {
        const int n = kAerEventBits + fault_check_bits(c);
        int64_t missed_odd = 0, missed_even = 0, caught = 0;
        const auto count = [&](uint64_t e) {
            const bool odd = (__builtin_popcountll(e) & 1) != 0;
            if (fault_detected(c, e))
                ++caught;
            else
                ++(odd ? missed_odd : missed_even);
        };
        for (int a = 0; a < n; ++a) {
            count(uint64_t{1} << a);
            for (int b = a + 1; b < n; ++b) {
                count((uint64_t{1} << a) | (uint64_t{1} << b));
                for (int d = b + 1; d < n; ++d) count((uint64_t{1} << a) | (uint64_t{1} << b) | (uint64_t{1} << d));
            }
        }
        if (c == FaultCheck::None) {
            EXPECT_EQ(caught, 0);
        } else if (c == FaultCheck::Parity) {
            EXPECT_EQ(missed_odd, 0);
            EXPECT_EQ(missed_even, n * (n - 1) / 2);  // every 2-bit error
        } else {
            EXPECT_EQ(missed_odd + missed_even, 0) << to_string(c);
        }
    }
}

TEST(FaultSpec, KeysLiveUnderChipFaultsAndDefaultToNoFault) {
    for (const ParamSpec& p : fault_params()) EXPECT_EQ(p.key.rfind("chip.faults.", 0), 0u) << p.key;
    const FaultSpec none;
    EXPECT_FALSE(none.any());
    EXPECT_EQ(none.check_bits(), 0);
}

// LinkFlips against its definition: every bit of a packet flips with probability `rate`, independently of the
// others (binomial counts), whatever the rate; 0 flips nothing, 1 flips every bit.
TEST(LinkFlips, EachBitFlipsAtTheRateIndependently) {
    constexpr int kBits = 41;  // a 32-bit event and a CRC-8 and a parity bit's worth of check bits
    constexpr int kPackets = 200000;
    for (double rate : {1e-3, 0.02, 0.3}) {
        const LinkFlips flips(rate, 7, kBits);
        std::vector<int64_t> per_bit(kBits, 0);
        int64_t clean = 0, pairs = 0;  // packets without a flip; packets with bits 0 and 1 both flipped
        for (int n = 0; n < kPackets; ++n) {
            const uint64_t f = flips(static_cast<uint64_t>(n / 97), n % 97, n % 5, n % 3, 1, -1, n % 11, n % 4);
            clean += f == 0;
            pairs += (f & 3u) == 3u;
            for (int b = 0; b < kBits; ++b) per_bit[static_cast<size_t>(b)] += (f >> b) & 1u;
            EXPECT_EQ(f >> kBits, 0u);
        }
        // Within 5 standard errors of the binomial expectations.
        const auto expect_near = [&](double count, double p, const std::string& what) {
            const double sd = std::sqrt(kPackets * p * (1 - p));
            EXPECT_NEAR(count, kPackets * p, 5 * sd + 1) << what << " at rate " << rate;
        };
        for (int b = 0; b < kBits; ++b) expect_near(static_cast<double>(per_bit[static_cast<size_t>(b)]), rate, "bit " + std::to_string(b));
        expect_near(static_cast<double>(clean), std::pow(1 - rate, kBits), "packets without a flip");
        expect_near(static_cast<double>(pairs), rate * rate, "bits 0 and 1 together");
    }
    EXPECT_EQ(LinkFlips(0, 7, kBits)(3, 1, 2, 3, 4, -1, 5, 1), 0u);
    EXPECT_EQ(LinkFlips(1, 7, kBits)(3, 1, 2, 3, 4, -1, 5, 1), (uint64_t{1} << kBits) - 1);
}

// A packet's key once, then each link (the fault-aware engine's way), decides what one call per link decides
// (the routers' way); the decision depends on every part of the packet's identity.
TEST(LinkFlips, PacketKeyThenLinkIsOneCall) {
    const LinkFlips flips(0.05, 3, 33);
    std::mt19937_64 rng(1);
    int differ = 0;
    for (int n = 0; n < 20000; ++n) {
        const uint64_t tick = rng() % 1000, router = rng() % 729;
        const auto source = static_cast<int32_t>(rng() % 721), c = static_cast<int32_t>(rng() % 64);
        const auto y = static_cast<int32_t>(rng() % 28), x = static_cast<int32_t>(rng() % 28);
        const int32_t dest = static_cast<int32_t>(rng() % 722) - 1;
        const int output = static_cast<int>(rng() % 4);
        const uint64_t f = flips(tick, source, c, y, x, dest, router, output);
        EXPECT_EQ(flips.on_link(flips.packet_key(tick, source, c, y, x, dest), router, output), f);
        differ += flips(tick, source, c, y, x, dest, router, (output + 1) % 4) != f;
    }
    EXPECT_GT(differ, 20000 * 0.5 * (1 - std::pow(0.95, 33)));  // another link: other flips, about independently
}

}  // namespace
}  // namespace neuroemu
