// The chips of a multi-chip system as regions of the space-parallel run (docs/hardware-model.md, "Space-parallel
// chip"): what crosses between chips (ChipMessage) and which rank owns which chips (choose_regions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mapping/mapping.h"
#include "router/router.h"

namespace neuroemu {

// An interaction between two chips, due at least the inter-chip latency after it was sent; applied at the start
// of its cycle, before anything else runs then, in the order of key() (the same with one rank or several).
struct ChipMessage {
    // Order within a cycle: deliveries owed before anything that could fire a layer (a source finishing).
    enum Kind : int32_t { kOwe = 0, kPacket = 1, kCredit = 2, kSourceDone = 3 };
    int64_t due = 0;
    int32_t kind = 0;
    int32_t to_chip = 0, from_chip = 0;
    int32_t router = 0, port = 0;  // packet, credit: the receiving router and its input (packet) or output (credit)
    int32_t value = 0;             // credit: flits; owe: deliveries; source done: the source layer (layers: host)
    int32_t layer = 0;             // owe: the layer of the cores owed
    int32_t unused_ = 0;           // fills what would be padding: messages travel between ranks byte for byte
    int64_t seq = 0;               // per sending chip, in sending order
    Packet packet;
    bool before(const ChipMessage& o) const {
        if (due != o.due) return due < o.due;
        if (kind != o.kind) return kind < o.kind;
        if (to_chip != o.to_chip) return to_chip < o.to_chip;
        if (from_chip != o.from_chip) return from_chip < o.from_chip;
        return seq < o.seq;
    }
};
static_assert(sizeof(ChipMessage) == 2 * sizeof(int64_t) + 8 * sizeof(int32_t) + sizeof(Packet),
              "ChipMessage has padding: every byte that travels between ranks must be a field");
static_assert(sizeof(Packet) == 8 * sizeof(int32_t) + 3 * sizeof(int64_t), "Packet has padding");

// What each rank tells the others at a window's end (TickController::run_windows).
struct WindowSummary {
    int64_t next_cycle = 0;     // the next cycle something is due on its chips (INT64_MAX: none)
    int64_t drained = 0;        // 1: a tick is open, its chips are drained and no message with work is in flight
    int64_t last_work_cycle = 0;  // the last cycle its chips did work of the tick in progress
};

// Which rank owns each chip: `ranks` groups of whole chips whose sizes differ by at most one, chosen to cut the
// fewest packets per step between groups (from the mapping's routes and each source's packets per step):
// exhaustive over the balanced assignments when there are few, else row-major blocks improved by pairwise swaps.
// Throws ConfigError when there are more ranks than chips.
struct ChipRegions {
    std::vector<int32_t> rank_of_chip;
    double cut_packets_per_step = 0, total_packets_per_step = 0;  // routed between chips: cut by the regions, all
    std::string describe() const;
};
ChipRegions choose_regions(const Mapping& mapping, int ranks);

}  // namespace neuroemu
