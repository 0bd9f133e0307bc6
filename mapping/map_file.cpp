#include "mapping/map_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "router/multicast/multicast.h"

namespace neuroemu {
namespace {

constexpr char kMagic[] = "neuroemu-mapping";

// Units per layer, as the .snn format bounds a population (model/snn.cpp); keeps units() and slice arithmetic far
// from int64 overflow whatever a file says.
constexpr int64_t kMaxUnits = INT64_C(1) << 32;

// The reader's bound on destinations over all sources (int32 each: 1 GiB). ResNet-50 on ROLLS-sized cores needs
// about 6 million; the bound only stops a small file whose every route line reads `0-<cores-1>` from expanding
// to cores^2 entries.
constexpr int64_t kMaxDestinations = INT64_C(1) << 28;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

// Line forms, quoted in errors so that a reader of a damaged file sees what the line should hold.
constexpr char kVersionForm[] = "neuroemu-mapping <version>";
constexpr char kModelForm[] = "model <name>";
constexpr char kChipForm[] = "chip <name> clock_hz <hz> neurons <n> synapses <n> fan_in <n> weight_bits <n> "
                             "weight_sharing <0|1> bias <register|synapse> sops_per_cycle <n> "
                             "neuron_updates_per_cycle <n> input_queue <flits>";
constexpr char kNocForm[] = "noc width <n> height <n> chips <n> buffer_depth <flits> flit_bits <bits> "
                            "pipeline_cycles <n> link_cycles <n> inter_chip_link_cycles <n> multicast <tree|source>";
constexpr char kMeshForm[] = "mesh <chip_width> <chip_height> <chips_x> <chips_y> host <x> <y>";
constexpr char kGraphForm[] = "graph <model> host <channels> <height> <width> rate <r>";
constexpr char kLayersForm[] = "layers <count>";
constexpr char kLayerForm[] = "layer <index> <name> <kind> population <p> part <k> shape <channels> <height> <width> "
                              "bias <0|1> rate <r> tile <c> <h> <w> tiles <c> <h> <w> cores <first> <count> "
                              "binding <b> inputs <count>";
constexpr char kInputForm[] = "input <source|host> <pattern> kernel <h> <w> stride <h> <w> pads <top> <left> "
                              "<bottom> <right> ceil_mode <0|1> channels <c0> <c1> fan_in <n> projection <name>";
constexpr char kCoresForm[] = "cores <count>";
constexpr char kCoreForm[] = "<index> <layer> <c0> <c1> <y0> <y1> <x0> <x1> <units> <synapses> <max_fan_in> "
                             "<packets_per_step> <x> <y>";
constexpr char kRoutesForm[] = "routes <sources>";
constexpr char kRouteForm[] = "<source> <packets_per_step> <destination>...";
constexpr char kEndForm[] = "end";

// ---- consistency checks, shared by validate_mapping and load_mapping ------------------------------------------

// The part of a mapping a problem is in, so that load_mapping can name the file line holding it.
enum class Part { Chip, Noc, Mesh, Graph, Layer, Input, Cores, Core, Routes, Route };

// Every check of validate_mapping, in file order. `fail(part, index, sub, what)` must throw; index is the layer,
// core or source (sub: the input of a layer). `what` already names the item ("core 17: ...").
template <typename Fail>
void check_mapping(const Mapping& m, Fail&& fail) {
    auto at_least = [&](Part part, const char* item, const char* field, int64_t v, int64_t lo) {
        if (v < lo) fail(part, 0, 0, fmt::format("{}: {} {} must be >= {}", item, field, v, lo));
    };
    const ChipSpec& chip = m.chip;
    at_least(Part::Chip, "chip", "neurons", chip.core.neurons, 1);
    at_least(Part::Chip, "chip", "synapses", chip.core.synapses, 1);
    at_least(Part::Chip, "chip", "fan_in", chip.core.fan_in, 1);
    at_least(Part::Chip, "chip", "weight_bits", chip.core.weight_bits, 1);
    at_least(Part::Chip, "chip", "sops_per_cycle", chip.core.sops_per_cycle, 1);
    at_least(Part::Chip, "chip", "neuron_updates_per_cycle", chip.core.neuron_updates_per_cycle, 1);
    at_least(Part::Chip, "chip", "input_queue", chip.core.input_queue, 1);
    if (!(std::isfinite(chip.clock_hz) && chip.clock_hz > 0))
        fail(Part::Chip, 0, 0, fmt::format("chip: clock_hz {} must be a finite number > 0", chip.clock_hz));
    const NocSpec& noc = chip.noc;
    at_least(Part::Noc, "noc", "width", noc.width, 0);
    at_least(Part::Noc, "noc", "height", noc.height, 0);
    at_least(Part::Noc, "noc", "chips", noc.chips, 0);
    at_least(Part::Noc, "noc", "buffer_depth", noc.buffer_depth, 1);
    at_least(Part::Noc, "noc", "flit_bits", noc.flit_bits, 1);
    at_least(Part::Noc, "noc", "pipeline_cycles", noc.pipeline_cycles, 0);
    at_least(Part::Noc, "noc", "link_cycles", noc.link_cycles, 1);
    at_least(Part::Noc, "noc", "inter_chip_link_cycles", noc.inter_chip_link_cycles, 1);

    const Mesh& mesh = m.mesh;
    at_least(Part::Mesh, "mesh", "chip_width", mesh.chip_width, 1);
    at_least(Part::Mesh, "mesh", "chip_height", mesh.chip_height, 1);
    at_least(Part::Mesh, "mesh", "chips_x", mesh.chips_x, 1);
    at_least(Part::Mesh, "mesh", "chips_y", mesh.chips_y, 1);
    // Mesh::width() multiplies in int32.
    const int64_t width = int64_t{mesh.chip_width} * mesh.chips_x, height = int64_t{mesh.chip_height} * mesh.chips_y;
    if (width > kInt32Max || height > kInt32Max)
        fail(Part::Mesh, 0, 0, fmt::format("mesh: {} x {} routers is too large", width, height));
    if (m.host_x < 0 || m.host_x >= width || m.host_y < 0 || m.host_y >= height)
        fail(Part::Mesh, 0, 0,
             fmt::format("mesh: host position ({}, {}) is outside the {} x {} mesh", m.host_x, m.host_y, width,
                         height));

    const MapGraph& g = m.graph;
    at_least(Part::Graph, "graph", "host channels", g.host_channels, 0);
    at_least(Part::Graph, "graph", "host height", g.host_height, 0);
    at_least(Part::Graph, "graph", "host width", g.host_width, 0);
    if (!(std::isfinite(g.host_rate) && g.host_rate >= 0))
        fail(Part::Graph, 0, 0, fmt::format("graph: host rate {} must be a finite number >= 0", g.host_rate));

    const int64_t layers = static_cast<int64_t>(g.layers.size());
    const int64_t cores = static_cast<int64_t>(m.cores.size());
    if (layers > std::numeric_limits<int>::max())
        fail(Part::Layer, 0, 0, fmt::format("{} layers are too many", layers));
    int64_t next_core = 0;
    for (int64_t i = 0; i < layers; ++i) {
        const MapLayer& l = g.layers[static_cast<size_t>(i)];
        auto layer_fail = [&](const std::string& what) {
            fail(Part::Layer, i, 0, fmt::format("layer {}: {}", i, what));
        };
        if (l.channels < 1 || l.height < 1 || l.width < 1 || l.channels > kMaxUnits || l.height > kMaxUnits ||
            l.width > kMaxUnits || l.height > kMaxUnits / l.channels || l.width > kMaxUnits / (l.channels * l.height))
            layer_fail(fmt::format("shape {} x {} x {} must be at least 1 x 1 x 1 and hold at most {} units",
                                   l.channels, l.height, l.width, kMaxUnits));
        if (l.population < -1) layer_fail(fmt::format("population {} must be >= -1", l.population));
        if (l.part < -1) layer_fail(fmt::format("part {} must be >= -1", l.part));
        if (!(std::isfinite(l.rate) && l.rate >= 0))
            layer_fail(fmt::format("rate {} must be a finite number >= 0", l.rate));
        if (l.tile_c < 0 || l.tile_h < 0 || l.tile_w < 0 || l.tiles_c < 0 || l.tiles_h < 0 || l.tiles_w < 0)
            layer_fail(fmt::format("tile {} x {} x {} and tiles {} x {} x {} must not be negative", l.tile_c, l.tile_h,
                                   l.tile_w, l.tiles_c, l.tiles_h, l.tiles_w));
        // The layers' core ranges follow each other in layer order, so core i's layer is found by one scan.
        if (l.first_core != next_core)
            layer_fail(fmt::format("first core {} but the layers before it end at core {} (core ranges follow the "
                                   "layer order without gaps or overlaps)", l.first_core, next_core));
        if (l.cores < 1 || l.cores > cores - next_core)
            layer_fail(fmt::format("{} cores from core {}, but there are {} cores", l.cores, l.first_core, cores));
        next_core += l.cores;
        for (size_t k = 0; k < l.inputs.size(); ++k) {
            const UnitInput& in = l.inputs[k];
            auto input_fail = [&](const std::string& what) {
                fail(Part::Input, i, static_cast<int64_t>(k), fmt::format("layer {} input {}: {}", i, k, what));
            };
            if (in.source != kHostSource && (in.source < 0 || in.source >= i))
                input_fail(fmt::format("source {} must be the host or an earlier layer (0 to {})", in.source, i - 1));
            const Window2d& w = in.window;
            if (w.kernel_h < 1 || w.kernel_w < 1 || w.stride_h < 1 || w.stride_w < 1)
                input_fail(fmt::format("kernel {} x {} and stride {} x {} must be >= 1", w.kernel_h, w.kernel_w,
                                       w.stride_h, w.stride_w));
            if (w.pad_top < 0 || w.pad_left < 0 || w.pad_bottom < 0 || w.pad_right < 0)
                input_fail(fmt::format("pads {} {} {} {} must not be negative", w.pad_top, w.pad_left, w.pad_bottom,
                                       w.pad_right));
            const int64_t source_channels = in.source == kHostSource
                                                ? g.host_channels
                                                : g.layers[static_cast<size_t>(in.source)].channels;
            if (in.c0 < 0 || in.c0 > in.c1 || in.c1 > source_channels)
                input_fail(fmt::format("channels {} to {} are not a range inside the source's {} channels", in.c0,
                                       in.c1, source_channels));
            if (in.fan_in < 0) input_fail(fmt::format("fan_in {} must not be negative", in.fan_in));
        }
    }
    if (next_core != cores)
        fail(Part::Cores, 0, 0, fmt::format("{} cores, but the layers' core ranges hold {}", cores, next_core));
    if (cores > int64_t{width} * height)
        fail(Part::Cores, 0, 0, fmt::format("{} cores do not fit the {} x {} mesh", cores, width, height));

    int64_t layer = 0;
    for (int64_t i = 0; i < cores; ++i) {
        const Core& c = m.cores[static_cast<size_t>(i)];
        auto core_fail = [&](const std::string& what) { fail(Part::Core, i, 0, fmt::format("core {}: {}", i, what)); };
        while (g.layers[static_cast<size_t>(layer)].first_core + g.layers[static_cast<size_t>(layer)].cores <= i)
            ++layer;
        if (c.layer < 0 || c.layer >= layers)
            core_fail(fmt::format("layer {} out of range ({} layers)", c.layer, layers));
        const MapLayer& l = g.layers[static_cast<size_t>(layer)];
        if (c.layer != layer)
            core_fail(fmt::format("layer {}, but cores {} to {} belong to layer {}", c.layer, l.first_core,
                                  l.first_core + l.cores - 1, layer));
        auto slice = [&](const char* axis, int64_t lo, int64_t hi, int64_t size) {
            if (lo < 0 || lo >= hi || hi > size)
                core_fail(fmt::format("{} {} to {} is not a non-empty slice of layer {}'s {}", axis, lo, hi, layer,
                                      size));
        };
        slice("channels", c.c0, c.c1, l.channels);
        slice("rows", c.y0, c.y1, l.height);
        slice("columns", c.x0, c.x1, l.width);
        if (c.units < 0 || c.synapses < 0 || c.max_fan_in < 0)
            core_fail(fmt::format("units {}, synapses {} and max_fan_in {} must not be negative", c.units, c.synapses,
                                  c.max_fan_in));
        if (!(std::isfinite(c.packets_per_step) && c.packets_per_step >= 0))
            core_fail(fmt::format("packets_per_step {} must be a finite number >= 0", c.packets_per_step));
        if (c.x < 0 || c.x >= width || c.y < 0 || c.y >= height)
            core_fail(fmt::format("position ({}, {}) is outside the {} x {} mesh", c.x, c.y, width, height));
    }
    // Distinct positions: sorting (router, core) pairs costs the same for a sparse or a dense mesh.
    std::vector<std::pair<int64_t, int64_t>> at;
    at.reserve(static_cast<size_t>(cores));
    for (int64_t i = 0; i < cores; ++i) {
        const Core& c = m.cores[static_cast<size_t>(i)];
        at.emplace_back(int64_t{c.y} * width + c.x, i);
    }
    std::sort(at.begin(), at.end());
    for (size_t k = 1; k < at.size(); ++k)
        if (at[k].first == at[k - 1].first) {
            const Core& c = m.cores[static_cast<size_t>(at[k].second)];
            fail(Part::Core, at[k].second, 0,
                 fmt::format("core {}: position ({}, {}) is also core {}'s", at[k].second, c.x, c.y, at[k - 1].second));
        }

    const Destinations& r = m.routes;
    if (static_cast<int64_t>(r.offset.size()) != cores + 2)
        fail(Part::Routes, 0, 0, fmt::format("routes: {} offsets, expected {} (the cores, then the host, then the end)",
                                             r.offset.size(), cores + 2));
    if (r.offset.front() != 0 || r.offset.back() != static_cast<int64_t>(r.dest.size()))
        fail(Part::Routes, 0, 0, fmt::format("routes: offsets run from {} to {}, expected 0 to {} (the destinations)",
                                             r.offset.front(), r.offset.back(), r.dest.size()));
    if (static_cast<int64_t>(m.source_packets.size()) != cores + 1)
        fail(Part::Routes, 0, 0, fmt::format("routes: {} source packet rates, expected {} (the cores, then the host)",
                                             m.source_packets.size(), cores + 1));
    for (int64_t s = 0; s <= cores; ++s) {
        auto route_fail = [&](const std::string& what) {
            fail(Part::Route, s, 0, fmt::format("route {}: {}", s, what));
        };
        const int64_t begin = r.offset[static_cast<size_t>(s)], end = r.offset[static_cast<size_t>(s) + 1];
        if (end < begin) route_fail(fmt::format("offsets decrease ({} then {})", begin, end));
        const double p = m.source_packets[static_cast<size_t>(s)];
        if (!(std::isfinite(p) && p >= 0))
            route_fail(fmt::format("packets_per_step {} must be a finite number >= 0", p));
        int64_t previous = -1;
        for (int64_t k = begin; k < end; ++k) {
            const int64_t d = r.dest[static_cast<size_t>(k)];
            if (d < 0 || d >= cores) route_fail(fmt::format("destination {} out of range ({} cores)", d, cores));
            if (d <= previous)
                route_fail(fmt::format("destinations not ascending: {} after {} (sorted, each once)", d, previous));
            previous = d;
        }
    }
}

// ---- writing --------------------------------------------------------------------------------------------------

// A name as one field: '%XX' for the bytes that would split or confuse the line ('%', '#', space, control bytes,
// DEL); the empty name as '-' (so '-' itself is '%2D'). Other bytes, UTF-8 included, are copied.
void append_name(fmt::memory_buffer& out, const std::string& s) {
    static const char hex[] = "0123456789ABCDEF";
    if (s.empty()) {
        out.push_back('-');
        return;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b <= 0x20 || b == '%' || b == '#' || b == 0x7F || (s.size() == 1 && b == '-')) {
            const char esc[3] = {'%', hex[b >> 4], hex[b & 15]};
            out.append(esc, esc + 3);
        } else {
            out.push_back(s[i]);
        }
    }
}

// Fields separated by single spaces; a whole file goes into one buffer and one write.
class LineWriter {
public:
    LineWriter& word(std::string_view s) {
        sep();
        out_.append(s.data(), s.data() + s.size());
        return *this;
    }
    LineWriter& integer(int64_t v) {
        sep();
        const fmt::format_int f(v);
        out_.append(f.data(), f.data() + f.size());
        return *this;
    }
    LineWriter& real(double v) {  // shortest text that reads back to the same double
        sep();
        fmt::format_to(std::back_inserter(out_), "{}", v);
        return *this;
    }
    LineWriter& flag(bool b) { return word(b ? "1" : "0"); }
    LineWriter& name(const std::string& s) {
        sep();
        append_name(out_, s);
        return *this;
    }
    void end_line() {
        out_.push_back('\n');
        first_ = true;
    }
    const fmt::memory_buffer& buffer() const { return out_; }

private:
    void sep() {
        if (!first_) out_.push_back(' ');
        first_ = false;
    }
    fmt::memory_buffer out_;
    bool first_ = true;
};

// ---- reading --------------------------------------------------------------------------------------------------

// Long or binary fields are cut so that an error stays one readable line.
std::string excerpt(std::string_view s) {
    constexpr size_t kMax = 60;
    return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

// Walks the file line by line and field by field. Errors name the file, the line, the item ("core 17: ") and
// the field, and say what was expected.
class LineReader {
public:
    LineReader(const std::string& path, std::string_view text) : path_(path), text_(text) {
        total_lines_ = std::count(text.begin(), text.end(), '\n') + (text.empty() || text.back() == '\n' ? 0 : 1);
    }

    // Moves to the next line and splits it into fields.
    void next(const char* form) {
        if (pos_ >= text_.size())
            fail_at(line_ + 1, fmt::format("the file ends where '{}' was expected (truncated?)", form));
        ++line_;
        const char* begin = text_.data() + pos_;
        const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', text_.size() - pos_));
        if (nl == nullptr) fail("the last line does not end with a newline (truncated?)");
        pos_ = static_cast<size_t>(nl - text_.data()) + 1;
        fields_.clear();
        next_field_ = 0;
        const char* p = begin;
        while (p < nl) {
            while (p < nl && *p == ' ') ++p;
            const char* start = p;
            while (p < nl && *p != ' ') ++p;
            if (p > start) fields_.emplace_back(start, static_cast<size_t>(p - start));
        }
        item_ = nullptr;
        prefix_.clear();
    }

    // A line that starts with `keyword`: anything else is reported with the whole expected form.
    void expect_line(const char* keyword, const char* form) {
        if (fields_.empty() || fields_[0] != keyword)
            fail(fmt::format("expected '{}', found '{}'", form, excerpt(current_line())));
        next_field_ = 1;
    }

    // Names the item the line describes, for errors: "<prefix><item> <index>: ".
    void item(const char* name, int64_t index, std::string prefix = {}) {
        item_ = name;
        index_ = index;
        prefix_ = std::move(prefix);
    }

    std::string_view field(const char* what) {
        if (next_field_ >= fields_.size()) fail(fmt::format("{}the line ends where {} was expected", where(), what));
        return fields_[next_field_++];
    }
    void keyword(const char* kw) {
        const std::string_view f = field(fmt::format("'{}'", kw).c_str());
        if (f != kw) fail(fmt::format("{}expected '{}', found '{}'", where(), kw, excerpt(f)));
    }
    // `<kw> <integer>`: a keyword and the integer field it names.
    int64_t keyed_integer(const char* kw) {
        keyword(kw);
        return integer<int64_t>(kw);
    }
    template <typename T>
    T integer(const char* what) {
        const std::string_view f = field(what);
        T v{};
        const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
        if (r.ec == std::errc::result_out_of_range)
            fail(fmt::format("{}{} {} is out of range ({} to {})", where(), what, excerpt(f),
                             std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
        if (r.ec != std::errc() || r.ptr != f.data() + f.size())
            fail(fmt::format("{}{}: expected an integer, found '{}'", where(), what, excerpt(f)));
        return v;
    }
    // A count of lines that follow: it cannot exceed the lines left in the file, which bounds every allocation.
    int64_t count(const char* what) {
        const int64_t n = integer<int64_t>(what);
        if (n < 0) fail(fmt::format("{}{} {} must not be negative", where(), what, n));
        if (n > lines_left())
            fail(fmt::format("{}{} {}, but the file has only {} more lines (truncated?)", where(), what, n,
                             lines_left()));
        return n;
    }
    double real(const char* what) {
        const std::string_view f = field(what);
        double v = 0;
        const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
        if (r.ec == std::errc::result_out_of_range)
            fail(fmt::format("{}{} {} is out of range for a double", where(), what, excerpt(f)));
        if (r.ec != std::errc() || r.ptr != f.data() + f.size())
            fail(fmt::format("{}{}: expected a number, found '{}'", where(), what, excerpt(f)));
        return v;
    }
    bool flag(const char* what) {
        const std::string_view f = field(what);
        if (f != "0" && f != "1") fail(fmt::format("{}{}: expected 0 or 1, found '{}'", where(), what, excerpt(f)));
        return f == "1";
    }
    template <typename E>
    E choice(const char* what, std::initializer_list<E> values) {
        const std::string_view f = field(what);
        std::string allowed;
        for (E v : values) {
            if (f == to_string(v)) return v;
            allowed += (allowed.empty() ? "" : ", ") + std::string(to_string(v));
        }
        fail(fmt::format("{}{} '{}' is not one of {}", where(), what, excerpt(f), allowed));
    }
    // One of a family's registered names (common/registry.h).
    std::string registered(const char* what, const std::vector<std::string>& names) {
        const std::string_view f = field(what);
        for (const auto& n : names)
            if (f == n) return n;
        fail(fmt::format("{}{} '{}' is not one of {}", where(), what, excerpt(f), fmt::join(names, ", ")));
    }
    std::string name(const char* what) {
        const std::string_view f = field(what);
        if (f == "-") return {};
        std::string out;
        out.reserve(f.size());
        for (size_t i = 0; i < f.size(); ++i) {
            if (f[i] != '%') {
                out.push_back(f[i]);
                continue;
            }
            const int hi = i + 2 < f.size() ? hex(f[i + 1]) : -1, lo = i + 2 < f.size() ? hex(f[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                fail(fmt::format("{}{} '{}': '%' must be followed by two hex digits", where(), what, excerpt(f)));
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        }
        return out;
    }
    bool more_fields() const { return next_field_ < fields_.size(); }
    std::string_view peek() const { return more_fields() ? fields_[next_field_] : std::string_view(); }
    void finish() {
        if (more_fields())
            fail(fmt::format("{}unexpected '{}' after the last field", where(), excerpt(fields_[next_field_])));
    }
    // After the last line: nothing may follow.
    void expect_eof() {
        if (pos_ < text_.size()) fail_at(line_ + 1, "unexpected text after 'end'");
    }

    int64_t line() const { return line_; }
    int64_t lines_left() const { return total_lines_ - line_; }
    std::string where() const {
        if (item_ == nullptr) return {};
        return index_ < 0 ? fmt::format("{}{}: ", prefix_, item_) : fmt::format("{}{} {}: ", prefix_, item_, index_);
    }
    [[noreturn]] void fail(const std::string& what) const { fail_at(line_, what); }
    [[noreturn]] void fail_at(int64_t line, const std::string& what) const {
        throw DataError(fmt::format("{}:{}: {}", path_, line, what));
    }

private:
    static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    std::string_view current_line() const {
        if (fields_.empty()) return {};
        const char* begin = fields_.front().data();
        return {begin, static_cast<size_t>(fields_.back().data() + fields_.back().size() - begin)};
    }

    const std::string& path_;
    std::string_view text_;
    size_t pos_ = 0;
    int64_t line_ = 0, total_lines_ = 0;
    std::vector<std::string_view> fields_;
    size_t next_field_ = 0;
    const char* item_ = nullptr;
    int64_t index_ = -1;
    std::string prefix_;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(fmt::format("{}: cannot open", path));
    std::string text;
    std::vector<char> chunk(1 << 20);
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
        text.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (in.bad()) throw DataError(fmt::format("{}: read failed", path));
    return text;
}

// One destination field, `a` or `a-b`, appended to `dest` after the checks that keep the list sorted, distinct
// and in range (so a range can never expand past the core count).
void read_destinations(LineReader& r, int64_t cores, int64_t& total, std::vector<int32_t>& dest) {
    int64_t previous = -1;
    while (r.more_fields()) {
        const std::string_view f = r.field("a destination");
        // Unsigned parsing takes digits only: no sign can hide in `a-b`.
        uint64_t a = 0, b = 0;
        const char* end = f.data() + f.size();
        auto ra = std::from_chars(f.data(), end, a);
        b = a;
        if (ra.ec == std::errc() && ra.ptr != end && *ra.ptr == '-') ra = std::from_chars(ra.ptr + 1, end, b);
        if (ra.ec == std::errc::result_out_of_range || (ra.ec == std::errc() && ra.ptr == end && b >= uint64_t(cores)))
            r.fail(fmt::format("{}destination {} out of range ({} cores)", r.where(), excerpt(f), cores));
        if (ra.ec != std::errc() || ra.ptr != end)
            r.fail(fmt::format("{}expected a destination core 'a' or a range 'a-b', found '{}'", r.where(),
                               excerpt(f)));
        if (b < a) r.fail(fmt::format("{}range {} runs backwards", r.where(), f));
        if (static_cast<int64_t>(a) <= previous)
            r.fail(fmt::format("{}destinations not ascending: {} after {} (sorted, each once)", r.where(), f,
                               previous));
        total += static_cast<int64_t>(b - a) + 1;
        if (total > kMaxDestinations)
            r.fail(fmt::format("{}more than {} destinations in all; this neuroemu refuses the file", r.where(),
                               kMaxDestinations));
        for (auto d = static_cast<int64_t>(a); d <= static_cast<int64_t>(b); ++d)
            dest.push_back(static_cast<int32_t>(d));
        previous = static_cast<int64_t>(b);
    }
}

}  // namespace

void validate_mapping(const Mapping& m, const std::string& where) {
    check_mapping(m, [&](Part, int64_t, int64_t, const std::string& what) {
        throw DataError(fmt::format("{}: {}", where, what));
    });
}

void save_mapping(const Mapping& m, const std::string& path) {
    // A mapping the reader would refuse is never written: the error shows now, not at `neuroemu simulate`.
    validate_mapping(m, path);
    LineWriter w;
    w.word(kMagic).integer(kMappingFormatVersion).end_line();
    w.word("model").name(m.model).end_line();
    const ChipSpec& c = m.chip;
    w.word("chip").name(c.name).word("clock_hz").real(c.clock_hz);
    w.word("neurons").integer(c.core.neurons).word("synapses").integer(c.core.synapses);
    w.word("fan_in").integer(c.core.fan_in).word("weight_bits").integer(c.core.weight_bits);
    w.word("weight_sharing").flag(c.core.weight_sharing).word("bias").word(to_string(c.core.bias));
    w.word("sops_per_cycle").integer(c.core.sops_per_cycle);
    w.word("neuron_updates_per_cycle").integer(c.core.neuron_updates_per_cycle);
    w.word("input_queue").integer(c.core.input_queue).end_line();
    const NocSpec& n = c.noc;
    w.word("noc").word("width").integer(n.width).word("height").integer(n.height).word("chips").integer(n.chips);
    w.word("buffer_depth").integer(n.buffer_depth).word("flit_bits").integer(n.flit_bits);
    w.word("pipeline_cycles").integer(n.pipeline_cycles).word("link_cycles").integer(n.link_cycles);
    w.word("inter_chip_link_cycles").integer(n.inter_chip_link_cycles);
    w.word("multicast").word(n.multicast).end_line();
    w.word("mesh").integer(m.mesh.chip_width).integer(m.mesh.chip_height).integer(m.mesh.chips_x);
    w.integer(m.mesh.chips_y).word("host").integer(m.host_x).integer(m.host_y).end_line();
    const MapGraph& g = m.graph;
    w.word("graph").name(g.model).word("host").integer(g.host_channels).integer(g.host_height);
    w.integer(g.host_width).word("rate").real(g.host_rate).end_line();

    w.word("layers").integer(static_cast<int64_t>(g.layers.size())).end_line();
    for (size_t i = 0; i < g.layers.size(); ++i) {
        const MapLayer& l = g.layers[i];
        w.word("layer").integer(static_cast<int64_t>(i)).name(l.name).word(to_string(l.kind));
        w.word("population").integer(l.population).word("part").integer(l.part);
        w.word("shape").integer(l.channels).integer(l.height).integer(l.width);
        w.word("bias").flag(l.bias).word("rate").real(l.rate);
        w.word("tile").integer(l.tile_c).integer(l.tile_h).integer(l.tile_w);
        w.word("tiles").integer(l.tiles_c).integer(l.tiles_h).integer(l.tiles_w);
        w.word("cores").integer(l.first_core).integer(l.cores).word("binding").name(l.binding);
        w.word("inputs").integer(static_cast<int64_t>(l.inputs.size())).end_line();
        for (const UnitInput& in : l.inputs) {
            w.word("input");
            if (in.source == kHostSource)
                w.word("host");
            else
                w.integer(in.source);
            w.word(to_string(in.pattern));
            const Window2d& win = in.window;
            w.word("kernel").integer(win.kernel_h).integer(win.kernel_w);
            w.word("stride").integer(win.stride_h).integer(win.stride_w);
            w.word("pads").integer(win.pad_top).integer(win.pad_left).integer(win.pad_bottom).integer(win.pad_right);
            w.word("ceil_mode").flag(win.ceil_mode).word("channels").integer(in.c0).integer(in.c1);
            w.word("fan_in").integer(in.fan_in).word("projection").name(in.projection).end_line();
        }
    }

    w.word("cores").integer(static_cast<int64_t>(m.cores.size())).end_line();
    for (size_t i = 0; i < m.cores.size(); ++i) {
        const Core& k = m.cores[i];
        w.integer(static_cast<int64_t>(i)).integer(k.layer);
        w.integer(k.c0).integer(k.c1).integer(k.y0).integer(k.y1).integer(k.x0).integer(k.x1);
        w.integer(k.units).integer(k.synapses).integer(k.max_fan_in).real(k.packets_per_step);
        w.integer(k.x).integer(k.y).end_line();
    }

    // Destination lists are mostly runs of consecutive cores (a layer's cores are numbered together), written
    // as `a-b`.
    const Destinations& r = m.routes;
    w.word("routes").integer(r.sources()).end_line();
    fmt::memory_buffer range;
    for (int64_t s = 0; s < r.sources(); ++s) {
        w.integer(s).real(m.source_packets[static_cast<size_t>(s)]);
        const int64_t end = r.offset[static_cast<size_t>(s) + 1];
        for (int64_t k = r.offset[static_cast<size_t>(s)]; k < end;) {
            const int32_t first = r.dest[static_cast<size_t>(k)];
            int64_t last = k;
            while (last + 1 < end && r.dest[static_cast<size_t>(last) + 1] == r.dest[static_cast<size_t>(last)] + 1)
                ++last;
            if (last == k) {
                w.integer(first);
            } else {
                range.clear();
                fmt::format_to(std::back_inserter(range), "{}-{}", first, r.dest[static_cast<size_t>(last)]);
                w.word(std::string_view(range.data(), range.size()));
            }
            k = last + 1;
        }
        w.end_line();
    }
    w.word("end").end_line();

    const fmt::memory_buffer& buf = w.buffer();
    write_file_atomic(path, std::string_view(buf.data(), buf.size()));
}

Mapping load_mapping(const std::string& path) {
    const std::string text = read_file(path);
    LineReader r(path, text);
    Mapping m;

    r.next(kVersionForm);
    if (r.peek() != kMagic)
        r.fail(fmt::format("not a neuroemu mapping file (it should start with '{} {}'); make one with 'neuroemu map'",
                           kMagic, kMappingFormatVersion));
    r.field("the format name");
    r.item("format", -1);
    const int64_t version = r.integer<int64_t>("version");
    if (version != kMappingFormatVersion)
        r.fail(fmt::format("unsupported mapping format version {} (this neuroemu reads {}); map the network again",
                           version, kMappingFormatVersion));
    r.finish();

    r.next(kModelForm);
    r.expect_line("model", kModelForm);
    r.item("model", -1);
    m.model = r.name("the model name");
    r.finish();

    r.next(kChipForm);
    const int64_t chip_line = r.line();
    r.expect_line("chip", kChipForm);
    r.item("chip", -1);
    ChipSpec& c = m.chip;
    c.name = r.name("the chip name");
    r.keyword("clock_hz");
    c.clock_hz = r.real("clock_hz");
    c.core.neurons = r.keyed_integer("neurons");
    c.core.synapses = r.keyed_integer("synapses");
    c.core.fan_in = r.keyed_integer("fan_in");
    c.core.weight_bits = r.keyed_integer("weight_bits");
    r.keyword("weight_sharing");
    c.core.weight_sharing = r.flag("weight_sharing");
    r.keyword("bias");
    c.core.bias = r.choice("bias", {BiasStorage::Register, BiasStorage::Synapse});
    c.core.sops_per_cycle = r.keyed_integer("sops_per_cycle");
    c.core.neuron_updates_per_cycle = r.keyed_integer("neuron_updates_per_cycle");
    c.core.input_queue = r.keyed_integer("input_queue");
    r.finish();

    r.next(kNocForm);
    const int64_t noc_line = r.line();
    r.expect_line("noc", kNocForm);
    r.item("noc", -1);
    NocSpec& n = c.noc;
    for (auto [key, field] : {std::pair<const char*, int64_t*>{"width", &n.width},
                              {"height", &n.height},
                              {"chips", &n.chips},
                              {"buffer_depth", &n.buffer_depth},
                              {"flit_bits", &n.flit_bits},
                              {"pipeline_cycles", &n.pipeline_cycles},
                              {"link_cycles", &n.link_cycles},
                              {"inter_chip_link_cycles", &n.inter_chip_link_cycles}})
        *field = r.keyed_integer(key);
    r.keyword("multicast");
    n.multicast = r.registered("multicast", multicasts().names());
    r.finish();

    r.next(kMeshForm);
    const int64_t mesh_line = r.line();
    r.expect_line("mesh", kMeshForm);
    r.item("mesh", -1);
    m.mesh.chip_width = r.integer<int32_t>("chip_width");
    m.mesh.chip_height = r.integer<int32_t>("chip_height");
    m.mesh.chips_x = r.integer<int32_t>("chips_x");
    m.mesh.chips_y = r.integer<int32_t>("chips_y");
    r.keyword("host");
    m.host_x = r.integer<int32_t>("host x");
    m.host_y = r.integer<int32_t>("host y");
    r.finish();

    r.next(kGraphForm);
    const int64_t graph_line = r.line();
    r.expect_line("graph", kGraphForm);
    r.item("graph", -1);
    MapGraph& g = m.graph;
    g.model = r.name("the model name");
    r.keyword("host");
    g.host_channels = r.integer<int64_t>("host channels");
    g.host_height = r.integer<int64_t>("host height");
    g.host_width = r.integer<int64_t>("host width");
    r.keyword("rate");
    g.host_rate = r.real("rate");
    r.finish();

    r.next(kLayersForm);
    r.expect_line("layers", kLayersForm);
    const int64_t layers = r.count("layers");
    if (layers > std::numeric_limits<int>::max()) r.fail(fmt::format("layers {} is too many", layers));
    r.finish();
    std::vector<int64_t> layer_lines;
    g.layers.resize(static_cast<size_t>(layers));
    layer_lines.reserve(static_cast<size_t>(layers));
    for (int64_t i = 0; i < layers; ++i) {
        MapLayer& l = g.layers[static_cast<size_t>(i)];
        r.next(kLayerForm);
        layer_lines.push_back(r.line());
        r.expect_line("layer", kLayerForm);
        r.item("layer", i);
        const int64_t index = r.integer<int64_t>("the layer index");
        if (index != i)
            r.fail(fmt::format("{}expected 'layer {} ...', found layer {} (layers are numbered in order)", r.where(), i,
                               index));
        l.name = r.name("name");
        l.kind = r.choice("kind", {UnitKind::Neuron, UnitKind::Readout, UnitKind::Gate, UnitKind::Current,
                                   UnitKind::Partial});
        r.keyword("population");
        l.population = r.integer<int>("population");
        r.keyword("part");
        l.part = r.integer<int>("part");
        r.keyword("shape");
        l.channels = r.integer<int64_t>("channels");
        l.height = r.integer<int64_t>("height");
        l.width = r.integer<int64_t>("width");
        r.keyword("bias");
        l.bias = r.flag("bias");
        r.keyword("rate");
        l.rate = r.real("rate");
        r.keyword("tile");
        l.tile_c = r.integer<int64_t>("tile channels");
        l.tile_h = r.integer<int64_t>("tile height");
        l.tile_w = r.integer<int64_t>("tile width");
        r.keyword("tiles");
        l.tiles_c = r.integer<int64_t>("tiles along channels");
        l.tiles_h = r.integer<int64_t>("tiles along height");
        l.tiles_w = r.integer<int64_t>("tiles along width");
        r.keyword("cores");
        l.first_core = r.integer<int64_t>("first core");
        l.cores = r.integer<int64_t>("core count");
        r.keyword("binding");
        l.binding = r.name("binding");
        r.keyword("inputs");
        const int64_t inputs = r.count("inputs");
        r.finish();
        l.inputs.resize(static_cast<size_t>(inputs));
        for (int64_t k = 0; k < inputs; ++k) {
            UnitInput& in = l.inputs[static_cast<size_t>(k)];
            r.next(kInputForm);
            r.expect_line("input", kInputForm);
            r.item("input", k, fmt::format("layer {} ", i));
            if (r.peek() == "host") {
                r.field("source");
                in.source = kHostSource;
            } else {
                // The host is spelt 'host' only: a negative number is a damaged field, not kHostSource.
                in.source = r.integer<int>("source ('host' or a layer index)");
                if (in.source < 0)
                    r.fail(fmt::format("{}source {} must be the host or an earlier layer (0 to {})", r.where(),
                                       in.source, i - 1));
            }
            in.pattern = r.choice("pattern", {InputPattern::Conv, InputPattern::Window, InputPattern::OneToOne,
                                              InputPattern::Dense});
            Window2d& w = in.window;
            r.keyword("kernel");
            w.kernel_h = r.integer<int>("kernel height");
            w.kernel_w = r.integer<int>("kernel width");
            r.keyword("stride");
            w.stride_h = r.integer<int>("stride height");
            w.stride_w = r.integer<int>("stride width");
            r.keyword("pads");
            w.pad_top = r.integer<int>("pad top");
            w.pad_left = r.integer<int>("pad left");
            w.pad_bottom = r.integer<int>("pad bottom");
            w.pad_right = r.integer<int>("pad right");
            r.keyword("ceil_mode");
            w.ceil_mode = r.flag("ceil_mode");
            r.keyword("channels");
            in.c0 = r.integer<int64_t>("c0");
            in.c1 = r.integer<int64_t>("c1");
            in.fan_in = r.keyed_integer("fan_in");
            r.keyword("projection");
            in.projection = r.name("projection");
            r.finish();
        }
    }

    r.next(kCoresForm);
    const int64_t cores_line = r.line();
    r.expect_line("cores", kCoresForm);
    const int64_t cores = r.count("cores");
    r.finish();
    // Sources are indexed by int32 destinations.
    if (cores > kInt32Max) r.fail(fmt::format("cores {} is too many", cores));
    m.cores.resize(static_cast<size_t>(cores));
    for (int64_t i = 0; i < cores; ++i) {
        Core& k = m.cores[static_cast<size_t>(i)];
        r.next(kCoreForm);
        r.item("core", i);
        const int64_t index = r.integer<int64_t>("the core index");
        if (index != i)
            r.fail(fmt::format("{}expected core {}, found core {} (cores are numbered in order)", r.where(), i, index));
        k.layer = r.integer<int>("layer");
        k.c0 = r.integer<int64_t>("c0");
        k.c1 = r.integer<int64_t>("c1");
        k.y0 = r.integer<int64_t>("y0");
        k.y1 = r.integer<int64_t>("y1");
        k.x0 = r.integer<int64_t>("x0");
        k.x1 = r.integer<int64_t>("x1");
        k.units = r.integer<int64_t>("units");
        k.synapses = r.integer<int64_t>("synapses");
        k.max_fan_in = r.integer<int64_t>("max_fan_in");
        k.packets_per_step = r.real("packets_per_step");
        k.x = r.integer<int32_t>("x");
        k.y = r.integer<int32_t>("y");
        r.finish();
    }

    r.next(kRoutesForm);
    const int64_t routes_line = r.line();
    r.expect_line("routes", kRoutesForm);
    const int64_t sources = r.count("routes");
    if (sources != cores + 1)
        r.fail(fmt::format("routes {}: expected {} sources (the {} cores, then the host)", sources, cores + 1, cores));
    r.finish();
    m.routes.offset.reserve(static_cast<size_t>(sources) + 1);
    m.routes.offset.push_back(0);
    m.source_packets.reserve(static_cast<size_t>(sources));
    int64_t total = 0;
    for (int64_t s = 0; s < sources; ++s) {
        r.next(kRouteForm);
        r.item("route", s);
        const int64_t index = r.integer<int64_t>("the source index");
        if (index != s)
            r.fail(fmt::format("{}expected route {}, found route {} (sources are numbered in order)", r.where(), s,
                               index));
        m.source_packets.push_back(r.real("packets_per_step"));
        read_destinations(r, cores, total, m.routes.dest);
        m.routes.offset.push_back(static_cast<int64_t>(m.routes.dest.size()));
    }
    const int64_t route_line0 = routes_line + 1;

    r.next(kEndForm);
    r.expect_line("end", kEndForm);
    r.finish();
    r.expect_eof();

    // Every semantic check, reported at the line holding the offending item.
    const int64_t core_line0 = cores_line + 1;
    check_mapping(m, [&](Part part, int64_t index, int64_t sub, const std::string& what) {
        int64_t line = 0;
        switch (part) {
            case Part::Chip: line = chip_line; break;
            case Part::Noc: line = noc_line; break;
            case Part::Mesh: line = mesh_line; break;
            case Part::Graph: line = graph_line; break;
            case Part::Layer: line = layer_lines.empty() ? cores_line : layer_lines[static_cast<size_t>(index)]; break;
            case Part::Input: line = layer_lines[static_cast<size_t>(index)] + 1 + sub; break;
            case Part::Cores: line = cores_line; break;
            case Part::Core: line = core_line0 + index; break;
            case Part::Routes: line = routes_line; break;
            case Part::Route: line = route_line0 + index; break;
        }
        r.fail_at(line, what);
    });
    return m;
}

}  // namespace neuroemu
