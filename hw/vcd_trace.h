// VCD tracing of the hardware model (`neuroemu simulate --trace FILE.vcd`, docs/cli.md): SystemC's VCD writer over
// plain variables that the chip model updates when something happens, never on a clock. Per traced core: packets
// it sent and synaptic operations it did (running counts), flits in its input queue; per traced router: flits in
// its input buffers; per outgoing link of a traced router: busy while a packet's flits cross it; the tick number.
// Outside the tick window nothing is updated, so the variables stay constant and the file stays bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <systemc>
#include <utility>
#include <vector>

#include "mapping/mapping.h"
#include "router/router.h"

namespace neuroemu {

// "0-15,40" -> {0, ..., 15, 40}: sorted, distinct, each below `count`; "" -> {}. Throws ConfigError naming
// `what` (e.g. "--trace-cores") for bad syntax or an index that does not exist.
std::vector<int32_t> parse_index_list(const std::string& text, int64_t count, const std::string& what);

// Global ticks [from, to), counted from 0 over the whole run (tick = image x steps + step - 1).
struct TickWindow {
    int64_t from = 0, to = -1;  // to = -1: the end of the first image
};
// "A:B" -> [A, B); "A:" -> from A to the end of the run; ":B" -> [0, B). Throws ConfigError naming `what`.
TickWindow parse_tick_window(const std::string& text, const std::string& what);

struct VcdScope {
    std::vector<int32_t> cores;    // traced cores (sorted, existing)
    std::vector<int32_t> routers;  // traced routers, y * width + x (sorted, existing)
    TickWindow window;
};

// The default scope: the first 16 cores, their routers, the first image.
VcdScope default_vcd_scope(const Mapping& mapping);
// The routers of `cores`, sorted and distinct.
std::vector<int32_t> routers_of(const Mapping& mapping, const std::vector<int32_t>& cores);

class VcdTracer : public sc_core::sc_module {
public:
    struct CoreVars {
        uint64_t packets_sent = 0;  // packets the core injected (one per spike with multicast trees)
        uint64_t sops = 0;          // synaptic operations (and partial-sum / gate operations) it started
        uint32_t queue_flits = 0;   // flits in its input queue, from the moment a packet leaves the router
    };

    SC_HAS_PROCESS(VcdTracer);
    // Creates the VCD file (during elaboration, before the first sc_start); throws DataError when it cannot be
    // written, ConfigError for a scope naming cores or routers that do not exist.
    VcdTracer(sc_core::sc_module_name name, const std::string& path, const Mapping& mapping, const RouterEnv& env,
              std::vector<const Router*> routers, const VcdScope& scope);
    ~VcdTracer() override;

    CoreVars* core_vars(int32_t core);  // nullptr when the core is not traced
    bool active() const { return active_; }
    // A tick starts: tracing is on while the tick is in the window (`first_image_steps` resolves to = -1).
    void start_tick(int64_t tick, int64_t first_image_steps);
    // A part of a time-parallel run starts at global tick `first_tick`: the tick variable starts at the last traced
    // tick before it (0 if none), the value it holds there in one process.
    void start_at_tick(int64_t first_tick, int64_t first_image_steps);
    // Router `r` accepted packet `p` (RouterEnv::route): its buffer grew; the link it came over is busy.
    void accepted(const Router& r, const Packet& p) {
        if (active_) on_accepted(r, p);
    }
    // Router `r` delivered packet `p` to its core.
    void ejected(const Router& r) {
        if (active_) mark(r.index);
    }
    // Writes out and closes the file (after the last sc_start).
    void close();
    size_t variables() const { return variables_; }
    const std::string& path() const { return path_; }

private:
    void on_accepted(const Router& r, const Packet& p);
    void mark(size_t router);
    void update();

    std::string path_, written_path_;
    const Mapping& m_;
    const RouterEnv& env_;
    std::vector<const Router*> routers_;
    VcdScope scope_;
    sc_core::sc_trace_file* tf_ = nullptr;
    bool active_ = false;
    size_t variables_ = 0;
    uint64_t tick_ = 0;
    std::vector<int32_t> core_slot_;      // per core: index into core_vars_, or -1
    std::vector<CoreVars> core_vars_;
    std::vector<int32_t> router_slot_;    // per router: index into buffer_flits_, or -1
    std::vector<uint32_t> buffer_flits_;
    std::vector<uint8_t> dirty_flag_;
    std::vector<size_t> dirty_;           // routers to sample
    std::vector<int32_t> link_slot_;      // per router x 4 outgoing links: index into link_busy_, or -1
    std::unique_ptr<bool[]> link_busy_;   // per traced link (sc_trace needs a bool&)
    std::vector<int64_t> link_until_;     // cycle the link's last flit has crossed
    std::priority_queue<std::pair<int64_t, int32_t>, std::vector<std::pair<int64_t, int32_t>>, std::greater<>> clears_;
    sc_core::sc_event wake_;
};

}  // namespace neuroemu
