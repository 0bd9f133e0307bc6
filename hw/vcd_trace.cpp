// VCD tracing of the hardware model; what each variable means: hw/vcd_trace.h and docs/cli.md.
#include "hw/vcd_trace.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "common/error.h"
#include "common/file_io.h"
#include "sysc/tracing/sc_tracing_ids.h"

namespace neuroemu {

namespace {

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A non-negative decimal number (at most 18 digits), or -1.
int64_t parse_count(const std::string& s) {
    if (s.empty() || s.size() > 18) return -1;
    int64_t v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return -1;
        v = v * 10 + (ch - '0');
    }
    return v;
}

constexpr const char* kDirNames[4] = {"E", "W", "N", "S"};

}  // namespace

std::vector<int32_t> parse_index_list(const std::string& text, int64_t count, const std::string& what) {
    std::vector<int32_t> out;
    const std::string all = trim(text);
    if (all.empty()) return out;
    size_t start = 0;
    while (start <= all.size()) {
        const size_t comma = all.find(',', start);
        const std::string item = trim(all.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        const size_t dash = item.find('-');
        const int64_t a = parse_count(dash == std::string::npos ? item : trim(item.substr(0, dash)));
        const int64_t b = dash == std::string::npos ? a : parse_count(trim(item.substr(dash + 1)));
        if (a < 0 || b < 0)
            throw ConfigError(fmt::format("{} '{}': '{}' is not an index or a range A-B (e.g. 0-15,40)", what, text, item));
        if (b < a) throw ConfigError(fmt::format("{} '{}': the range {} is empty", what, text, item));
        if (b >= count)
            throw ConfigError(fmt::format("{} '{}': {} does not exist (there are {}, 0-{})", what, text, b, count, count - 1));
        for (int64_t i = a; i <= b; ++i) out.push_back(static_cast<int32_t>(i));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

TickWindow parse_tick_window(const std::string& text, const std::string& what) {
    const std::string t = trim(text);
    const size_t colon = t.find(':');
    if (colon == std::string::npos)
        throw ConfigError(fmt::format("{} '{}': expected A:B (ticks A to B - 1), A: or :B", what, text));
    const std::string a = trim(t.substr(0, colon)), b = trim(t.substr(colon + 1));
    TickWindow w;
    w.from = a.empty() ? 0 : parse_count(a);
    w.to = b.empty() ? std::numeric_limits<int64_t>::max() : parse_count(b);
    if (w.from < 0 || w.to < 0)
        throw ConfigError(fmt::format("{} '{}': expected A:B with ticks A < B (non-negative whole numbers)", what, text));
    if (w.to <= w.from) throw ConfigError(fmt::format("{} '{}': the window holds no tick (B must exceed A)", what, text));
    return w;
}

std::vector<int32_t> routers_of(const Mapping& mapping, const std::vector<int32_t>& cores) {
    std::vector<int32_t> r;
    for (int32_t k : cores) {
        const Core& c = mapping.cores.at(static_cast<size_t>(k));
        r.push_back(c.y * mapping.mesh.width() + c.x);
    }
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    return r;
}

VcdScope default_vcd_scope(const Mapping& mapping) {
    VcdScope s;
    const auto n = std::min<int64_t>(16, static_cast<int64_t>(mapping.cores.size()));
    for (int32_t k = 0; k < n; ++k) s.cores.push_back(k);
    s.routers = routers_of(mapping, s.cores);
    return s;
}

VcdTracer::VcdTracer(sc_core::sc_module_name name, const std::string& path, const Mapping& mapping,
                     const RouterEnv& env, std::vector<const Router*> routers, const VcdScope& scope)
    : sc_module(name), path_(path), m_(mapping), env_(env), routers_(std::move(routers)), scope_(scope) {
    const auto n_cores = static_cast<int64_t>(mapping.cores.size());
    const auto n_routers = static_cast<int64_t>(routers_.size());
    for (int32_t k : scope_.cores)
        if (k < 0 || k >= n_cores)
            throw ConfigError(fmt::format("VCD trace: core {} does not exist (the mapping has {} cores)", k, n_cores));
    for (int32_t r : scope_.routers)
        if (r < 0 || r >= n_routers)
            throw ConfigError(fmt::format("VCD trace: router {} does not exist (the mesh has {} routers)", r, n_routers));
    // Streamed to a temporary name beside the final one (SystemC appends ".vcd" to the name it is given) and
    // renamed by close(): a run that fails or is killed never leaves a partial trace under the final name.
    const std::string base = fmt::format("{}.tmp{}", path, static_cast<long>(::getpid()));
    written_path_ = base + ".vcd";
    {
        errno = 0;
        std::ofstream probe(written_path_, std::ios::trunc);
        if (!probe)
            throw DataError(fmt::format("cannot write the VCD trace {}: {}", path, errno ? std::strerror(errno) : "open failed"));
    }
    sc_core::sc_report_handler::set_actions(sc_core::SC_ID_TRACING_TIMESCALE_UNIT_, sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    try {
        tf_ = sc_core::sc_create_vcd_trace_file(base.c_str());
    } catch (const sc_core::sc_report& e) {
        throw DataError(fmt::format("cannot write the VCD trace {}: {}", path, e.what()));
    }
    if (!tf_) throw DataError(fmt::format("cannot write the VCD trace {}", path));
    // 1 ns, or 1 ps when the clock period is not a whole number of nanoseconds (every cycle stays distinct).
    const bool whole_ns = env.period.value() % sc_core::sc_time(1, sc_core::SC_NS).value() == 0;
    tf_->set_time_unit(1, whole_ns ? sc_core::SC_NS : sc_core::SC_PS);

    sc_core::sc_trace(tf_, tick_, "tick", 64);
    ++variables_;
    core_slot_.assign(static_cast<size_t>(n_cores), -1);
    core_vars_.resize(scope_.cores.size());  // never resized again: sc_trace keeps references
    for (size_t i = 0; i < scope_.cores.size(); ++i) {
        const int32_t k = scope_.cores[i];
        core_slot_[static_cast<size_t>(k)] = static_cast<int32_t>(i);
        CoreVars& v = core_vars_[i];
        sc_core::sc_trace(tf_, v.packets_sent, fmt::format("core_{}.packets_sent", k), 64);
        sc_core::sc_trace(tf_, v.sops, fmt::format("core_{}.sops", k), 64);
        sc_core::sc_trace(tf_, v.queue_flits, fmt::format("core_{}.queue_flits", k), 32);
        variables_ += 3;
    }
    router_slot_.assign(static_cast<size_t>(n_routers), -1);
    buffer_flits_.assign(scope_.routers.size(), 0);
    dirty_flag_.assign(scope_.routers.size(), 0);
    link_slot_.assign(static_cast<size_t>(n_routers) * 4, -1);
    int32_t links = 0;
    const int32_t w = mapping.mesh.width(), h = mapping.mesh.height();
    for (size_t i = 0; i < scope_.routers.size(); ++i) {
        const int32_t r = scope_.routers[i];
        router_slot_[static_cast<size_t>(r)] = static_cast<int32_t>(i);
        const int32_t x = r % w, y = r / w;
        const int32_t nx[4] = {x + 1, x - 1, x, x}, ny[4] = {y, y, y + 1, y - 1};
        for (int d = 0; d < 4; ++d)
            if (nx[d] >= 0 && nx[d] < w && ny[d] >= 0 && ny[d] < h) link_slot_[static_cast<size_t>(r) * 4 + static_cast<size_t>(d)] = links++;
    }
    link_busy_ = std::make_unique<bool[]>(static_cast<size_t>(links));
    link_until_.assign(static_cast<size_t>(links), 0);
    for (size_t i = 0; i < scope_.routers.size(); ++i) {
        const int32_t r = scope_.routers[i];
        const int32_t x = r % w, y = r / w;
        sc_core::sc_trace(tf_, buffer_flits_[i], fmt::format("router_{}_{}.buffer_flits", x, y), 32);
        ++variables_;
        for (int d = 0; d < 4; ++d) {
            const int32_t s = link_slot_[static_cast<size_t>(r) * 4 + static_cast<size_t>(d)];
            if (s < 0) continue;
            sc_core::sc_trace(tf_, link_busy_[static_cast<size_t>(s)], fmt::format("router_{}_{}.link_{}_busy", x, y, kDirNames[d]));
            ++variables_;
        }
    }
    SC_METHOD(update);
    sensitive << wake_;
    dont_initialize();
}

VcdTracer::~VcdTracer() {
    if (!tf_) return;
    sc_core::sc_close_vcd_trace_file(tf_);  // never closed: the run failed, and its partial trace goes
    std::remove(written_path_.c_str());
}

VcdTracer::CoreVars* VcdTracer::core_vars(int32_t core) {
    const int32_t s = core_slot_.at(static_cast<size_t>(core));
    return s < 0 ? nullptr : &core_vars_[static_cast<size_t>(s)];
}

void VcdTracer::start_tick(int64_t tick, int64_t first_image_steps) {
    const int64_t to = scope_.window.to < 0 ? first_image_steps : scope_.window.to;
    active_ = tick >= scope_.window.from && tick < to;
    if (active_) tick_ = static_cast<uint64_t>(tick);
}

void VcdTracer::start_at_tick(int64_t first_tick, int64_t first_image_steps) {
    const int64_t to = scope_.window.to < 0 ? first_image_steps : scope_.window.to;
    if (first_tick > scope_.window.from) tick_ = static_cast<uint64_t>(std::min(first_tick, to) - 1);
}

void VcdTracer::mark(size_t router) {
    const int32_t s = router_slot_[router];
    if (s < 0 || dirty_flag_[static_cast<size_t>(s)]) return;
    dirty_flag_[static_cast<size_t>(s)] = 1;
    dirty_.push_back(router);
    wake_.notify(sc_core::SC_ZERO_TIME);
}

// Under XY routing, unicast or multicast tree alike, a packet reaches router (x, y) from the neighbour toward its
// source along x while it is still in the source's row, else along y.
void VcdTracer::on_accepted(const Router& r, const Packet& p) {
    mark(r.index);
    if (p.hops <= 0) return;  // injected here by the core or the host
    const auto n_cores = static_cast<int32_t>(m_.cores.size());
    int32_t sx, sy;
    if (p.source >= 0 && p.source < n_cores) {
        sx = m_.cores[static_cast<size_t>(p.source)].x, sy = m_.cores[static_cast<size_t>(p.source)].y;
    } else if (p.source == n_cores) {
        sx = m_.host_x, sy = m_.host_y;
    } else {
        return;
    }
    int32_t px = r.x, py = r.y;
    if (r.y == sy && r.x != sx)
        px += sx > r.x ? 1 : -1;
    else if (r.y != sy)
        py += sy > r.y ? 1 : -1;
    else
        return;
    const int32_t w = m_.mesh.width();
    if (px < 0 || px >= w || py < 0 || py >= m_.mesh.height()) return;
    const int dir = px < r.x ? 0 : px > r.x ? 1 : py < r.y ? 2 : 3;  // the parent's output: E, W, N (+y), S
    const size_t u = static_cast<size_t>(py) * static_cast<size_t>(w) + static_cast<size_t>(px);
    mark(u);
    const int32_t s = link_slot_[u * 4 + static_cast<size_t>(dir)];
    if (s < 0) return;
    const NocSpec& noc = env_.chip.noc;
    const bool inter_chip = m_.mesh.chip_of(px, py) != m_.mesh.chip_of(r.x, r.y);
    const int64_t until = env_.now() + p.flits * (inter_chip ? noc.inter_chip_link_cycles : noc.link_cycles);
    link_busy_[static_cast<size_t>(s)] = true;
    int64_t& u_until = link_until_[static_cast<size_t>(s)];
    u_until = std::max(u_until, until);
    clears_.push({until, s});
}

// Samples the buffers of the routers that saw traffic in the previous delta cycle (their own process has finished
// by now) and lowers the busy flags of links whose last flit has crossed.
void VcdTracer::update() {
    const int64_t now = env_.now();
    for (size_t r : dirty_) {
        const auto s = static_cast<size_t>(router_slot_[r]);
        buffer_flits_[s] = static_cast<uint32_t>(routers_[r]->occupancy());
        dirty_flag_[s] = 0;
    }
    dirty_.clear();
    while (!clears_.empty() && clears_.top().first <= now) {
        const auto s = static_cast<size_t>(clears_.top().second);
        clears_.pop();
        link_busy_[s] = link_until_[s] > now;
    }
    if (!clears_.empty()) wake_.notify(env_.cycles(clears_.top().first - now));
}

// SystemC stamps the wall-clock time into the header's $date section, but a trace must be the same bytes run after
// run (the determinism tests): the date is overwritten in place with a fixed text of the same length.
static void blank_vcd_date(const std::string& path) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::string head(512, '\0');
    f.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(f.gcount()));
    const size_t at = head.find("$date\n");
    const size_t end = at == std::string::npos ? at : head.find("\n$end", at);
    if (end == std::string::npos) return;
    const size_t begin = at + 6;
    std::string text(end - begin, ' ');
    const std::string fixed = "     (omitted)";
    text.replace(0, std::min(fixed.size(), text.size()), fixed, 0, std::min(fixed.size(), text.size()));
    f.clear();
    f.seekp(static_cast<std::streamoff>(begin));
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// SystemC ignores its write errors: a trace cut short by a full disk or the file-size limit (RLIMIT_FSIZE) closes
// as if whole. So close() has SystemC write this comment last (SystemC's close then adds only the final time stamp,
// "#<time>"), checks that the file ends with them and cuts the comment out again (the trace's bytes stay what
// SystemC wrote). Past the file-size limit every write fails, so a file ending so was written whole; on a full disk
// a write after a failed one could succeed if space was freed in between, which this does not catch.
static const std::string kVcdEndMark = "neuroemu: end of trace";

static void check_and_strip_end_mark(const std::string& written, const std::string& path) {
    const std::string mark = "$comment\n" + kVcdEndMark + "\n$end\n\n";
    std::error_code ec;
    const auto size = static_cast<size_t>(std::filesystem::file_size(written, ec));
    std::string tail(std::min(size, mark.size() + 32), '\0');
    bool whole = !ec && !tail.empty();
    if (whole) {
        std::ifstream f(written, std::ios::binary);
        f.seekg(static_cast<std::streamoff>(size - tail.size()));
        whole = static_cast<bool>(f.read(tail.data(), static_cast<std::streamsize>(tail.size())));
    }
    const size_t at = whole ? tail.rfind(mark) : std::string::npos;
    std::string stamp = at == std::string::npos ? "" : tail.substr(at + mark.size());  // "#<digits>\n" or ""
    whole = at != std::string::npos &&
            (stamp.empty() || (stamp.size() >= 3 && stamp.front() == '#' && stamp.back() == '\n' &&
                               stamp.find_first_not_of("0123456789", 1) == stamp.size() - 1));
    if (whole) {
        std::filesystem::resize_file(written, size - tail.size() + at, ec);
        std::ofstream out(written, std::ios::binary | std::ios::app);
        whole = !ec && out.write(stamp.data(), static_cast<std::streamsize>(stamp.size())) && out.flush();
    }
    if (!whole) {
        std::remove(written.c_str());
        throw DataError(fmt::format("cannot write the VCD trace {}: it was cut short after {} bytes (the disk is full "
                                    "or the file-size limit was reached)", path, size));
    }
}

void VcdTracer::close() {
    if (!tf_) return;
    sc_core::sc_write_comment(tf_, kVcdEndMark);
    sc_core::sc_close_vcd_trace_file(tf_);
    tf_ = nullptr;
    check_and_strip_end_mark(written_path_, path_);
    blank_vcd_date(written_path_);
    replace_file(written_path_, path_);
}

}  // namespace neuroemu
