// The multicast tables of every router as per-source open-addressing hashes: (router index, source) -> output ports.
// For meshes whose dense table [router][source] would be too large (ResNet-34 at 224 x 224: 50,000 routers x 50,000
// sources). Each source's entries (one per router on its tree) lie together in a small table of 4-byte slots at a
// load of at most one half: the packets of a source, which follow the same tree one after another, reuse its few
// cache lines, where a hash over all (router, source) pairs (or a std::unordered_map per router) fetched a line,
// and a page, per router per packet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace neuroemu {

class RouteHash {
public:
    static constexpr uint8_t kMissing = 0xff;

    // Room for entries[s] distinct routers of source s (more are refused by add).
    explicit RouteHash(const std::vector<size_t>& entries) {
        table_.reserve(entries.size());
        capacity_ = entries;
        size_t offset = 0;
        for (const size_t n : entries) {
            unsigned bits = 1;
            while ((size_t{1} << bits) < 2 * n) ++bits;
            table_.push_back({offset, bits});
            offset += size_t{1} << bits;
        }
        slots_.assign(offset, 0);
    }

    // ORs `ports` into the entry of (router, source); false when the source's table is full.
    bool add(size_t router, size_t source, uint8_t ports) {
        const Table& t = table_[source];
        const uint32_t key = key_of(router);
        const size_t mask = (size_t{1} << t.bits) - 1;
        for (size_t i = slot_of(key, t.bits);; i = (i + 1) & mask) {
            uint32_t& s = slots_[t.offset + i];
            if (s == 0) {
                if (capacity_[source] == 0) return false;
                --capacity_[source];
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
        const Table& t = table_[source];
        const uint32_t key = key_of(router);
        const size_t mask = (size_t{1} << t.bits) - 1;
        for (size_t i = slot_of(key, t.bits);; i = (i + 1) & mask) {
            const uint32_t s = slots_[t.offset + i];
            if (s == 0) return kMissing;
            if (s >> 8 == key) return static_cast<uint8_t>(s);
        }
    }

    size_t sources() const { return table_.size(); }
    size_t bytes() const { return slots_.size() * sizeof(uint32_t) + table_.size() * sizeof(Table); }
    // Router indices below this fit a slot.
    static constexpr size_t kMaxRouters = (size_t{1} << 24) - 1;

private:
    struct Table {
        size_t offset;  // first slot
        unsigned bits;  // log2 of its slots
    };
    static uint32_t key_of(size_t router) { return static_cast<uint32_t>(router) + 1; }  // 0 marks an empty slot
    static size_t slot_of(uint32_t key, unsigned bits) {
        return static_cast<size_t>((key * 0x9E3779B9u) >> (32 - bits));  // Fibonacci hashing: the top bits
    }

    std::vector<Table> table_;
    std::vector<size_t> capacity_;  // per source: entries it may still add
    std::vector<uint32_t> slots_;
};

}  // namespace neuroemu
