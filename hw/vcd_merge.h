// Merging the VCD parts of a time-parallel run (experiment/hardware_run.h) into the file one process writes. Each
// rank traces its own ticks with SystemC's writer, its clock starting at 0 at its first tick; the merge shifts each
// part's times by the cycles of the ticks before it and re-emits only what a single writer would have: a value that
// differs from the last one written. The running counts (core packets_sent, sops) start at 0 in every part and
// continue from the previous parts' totals. Exact because every tick starts from the same idle chip
// (docs/hardware-model.md, "Ticks are independent"): at a part's first tick every other traced variable holds the
// value it holds at that tick barrier in one process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuroemu {

struct VcdPart {
    std::string text;          // the whole file one rank wrote
    int64_t offset_units = 0;  // its time 0 in the merged file, in the file's time units
    bool has_ticks = false;    // the rank simulated at least one tick (a part without is skipped)
};

// The merged file: the first part's header, then every part's value changes in order. Throws InternalError for a
// part that is not a VCD file of SystemC's layout or whose variables differ from the first part's.
std::string merge_vcd_parts(const std::vector<VcdPart>& parts);

// VCD time units (1 ns, or 1 ps when the clock period is not a whole number of nanoseconds: VcdTracer) per clock
// cycle of a chip clocked at `clock_hz`.
int64_t vcd_units_per_cycle(double clock_hz);

}  // namespace neuroemu
