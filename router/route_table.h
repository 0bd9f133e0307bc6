// The multicast tables of every router as one open-addressing hash: (router index, source) -> output ports. For
// meshes whose dense table [router][source] would be too large (ResNet-34 at 224 x 224: 50,000 routers x 50,000
// sources): one 8-byte slot per entry at a load of at most one half, one cache line per lookup in the common case,
// where a hash map per router chased a node per entry of its bucket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace neuroemu {

class RouteHash {
public:
    static constexpr uint8_t kMissing = 0xff;

    // Room for `entries` distinct keys (more are refused by add).
    RouteHash(size_t entries, size_t sources) : sources_(sources) {
        size_t n = 16;
        shift_ = 60;
        while (n < 2 * entries) n *= 2, --shift_;
        slots_.assign(n, 0);
        mask_ = n - 1;
        capacity_ = entries;
    }

    // ORs `ports` into the entry of (router, source); false when the table is full.
    bool add(size_t router, size_t source, uint8_t ports) {
        const uint64_t key = key_of(router, source);
        for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
            uint64_t& s = slots_[i];
            if (s == 0) {
                if (size_ == capacity_) return false;
                ++size_;
                s = key << 8 | ports;
                return true;
            }
            if (s >> 8 == key) {
                s |= ports;
                return true;
            }
        }
    }

    // The ports of (router, source), kMissing when it has none.
    uint8_t find(size_t router, size_t source) const {
        const uint64_t key = key_of(router, source);
        for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
            const uint64_t s = slots_[i];
            if (s == 0) return kMissing;
            if (s >> 8 == key) return static_cast<uint8_t>(s);
        }
    }

    size_t size() const { return size_; }
    size_t sources() const { return sources_; }
    size_t bytes() const { return slots_.size() * sizeof(uint64_t); }

private:
    // 1-based so that 0 marks an empty slot; below 2^56 for any mesh that fits in memory.
    uint64_t key_of(size_t router, size_t source) const {
        return static_cast<uint64_t>(router) * static_cast<uint64_t>(sources_) + static_cast<uint64_t>(source) + 1;
    }
    size_t slot_of(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);  // Fibonacci hashing: the top bits
    }

    std::vector<uint64_t> slots_;
    size_t mask_ = 0, size_ = 0, capacity_ = 0, sources_ = 0;
    unsigned shift_ = 60;  // 64 - log2(slots)
};

}  // namespace neuroemu
