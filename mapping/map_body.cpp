// The `.map` file's CBOR body: the cores as columns (one list per Core field) and the routes as three lists
// (packets per step and destination count of each source, then every destination), docs/mapping-format.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>

#include "mapping/map_file_parts.h"

namespace neuroemu {
namespace {

template <typename T>
struct CoreColumn {
    const char* name;
    T Core::*member;
};

// The body's core columns, in file order.
constexpr CoreColumn<int32_t> kLayerColumn{"layer", &Core::layer};
constexpr CoreColumn<int64_t> kSizeColumns[] = {{"c0", &Core::c0},
                                                {"c1", &Core::c1},
                                                {"y0", &Core::y0},
                                                {"y1", &Core::y1},
                                                {"x0", &Core::x0},
                                                {"x1", &Core::x1},
                                                {"units", &Core::units},
                                                {"synapses", &Core::synapses},
                                                {"max_fan_in", &Core::max_fan_in}};
constexpr CoreColumn<double> kPacketsColumn{"packets_per_step", &Core::packets_per_step};
constexpr CoreColumn<int32_t> kPositionColumns[] = {{"x", &Core::x}, {"y", &Core::y}};

// The few CBOR items the body uses (RFC 8949), written straight from the mapping: a DOM of a million numbers
// would cost more than the encoding.
class CborWriter {
public:
    void map(size_t n) { head(5, n); }
    void array(size_t n) { head(4, n); }
    void text(std::string_view s) {
        head(3, s.size());
        out_.append(s);
    }
    void integer(int64_t v) { v >= 0 ? head(0, static_cast<uint64_t>(v)) : head(1, static_cast<uint64_t>(-(v + 1))); }
    // A float32 when that holds the value exactly (as nlohmann's to_cbor writes), else a float64.
    void real(double v) {
        const auto f = static_cast<float>(v);
        if (std::isfinite(v) && static_cast<double>(f) == v) {
            uint32_t b;
            std::memcpy(&b, &f, sizeof b);
            out_.push_back(static_cast<char>(0xFA));
            big_endian(b, 4);
        } else {
            uint64_t b;
            std::memcpy(&b, &v, sizeof b);
            out_.push_back(static_cast<char>(0xFB));
            big_endian(b, 8);
        }
    }
    std::string& bytes() { return out_; }

private:
    void head(int major, uint64_t n) {
        const auto type = static_cast<char>(major << 5);
        if (n < 24) {
            out_.push_back(static_cast<char>(type | static_cast<char>(n)));
        } else {
            const int bytes = n <= 0xFF ? 1 : n <= 0xFFFF ? 2 : n <= 0xFFFFFFFFu ? 4 : 8;
            out_.push_back(static_cast<char>(type | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27)));
            big_endian(n, bytes);
        }
    }
    void big_endian(uint64_t v, int bytes) {
        for (int i = bytes - 1; i >= 0; --i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
    std::string out_;
};

template <typename T>
void write_column(CborWriter& w, const std::vector<Core>& from, const CoreColumn<T>& column) {
    w.text(column.name);
    w.array(from.size());
    for (const Core& c : from) {
        if constexpr (std::is_floating_point_v<T>)
            w.real(c.*column.member);
        else
            w.integer(c.*column.member);
    }
}

using Section = std::map<std::string, std::vector<json>>;

const Section& section(const JsonReader& r, const CborColumns& body, const char* name) {
    const auto it = body.find(name);
    if (it == body.end()) r.fail("body", fmt::format("missing field '{}'", name));
    return it->second;
}

// Refuses columns other than `names`, as the header refuses unknown fields.
void only(const JsonReader& r, const Section& section, const char* where, std::initializer_list<const char*> names) {
    for (const auto& column : section) {
        const auto& name = column.first;  // not a structured binding: clang 14 cannot capture one (fuzz build)
        if (std::none_of(names.begin(), names.end(), [&](const char* n) { return name == n; }))
            r.fail(fmt::format("body: {}", where), fmt::format("unexpected field '{}'", name));
    }
}

// The column `name` of `section`, which must hold exactly `n` values.
const std::vector<json>& column(const JsonReader& r, const Section& section, const char* where, const char* name,
                                int64_t n) {
    const auto it = section.find(name);
    if (it == section.end()) r.fail(fmt::format("body: {}", where), fmt::format("missing field '{}'", name));
    if (static_cast<int64_t>(it->second.size()) != n)
        r.fail(fmt::format("body: {}.{}", where, name),
               fmt::format("expected a list of {}, found a list of {}", n, it->second.size()));
    return it->second;
}

template <typename T>
void read_column(const JsonReader& r, const Section& cores, const CoreColumn<T>& column_of, std::vector<Core>& to) {
    const auto& list = column(r, cores, "cores", column_of.name, static_cast<int64_t>(to.size()));
    for (size_t i = 0; i < to.size(); ++i) {
        auto where = [&] { return fmt::format("core {}: {}", i, column_of.name); };
        if constexpr (std::is_floating_point_v<T>)
            to[i].*column_of.member = r.real(list[i], where);
        else
            to[i].*column_of.member = r.integer<T>(list[i], where);
    }
}

void read_cores(const JsonReader& r, const Section& cores, int64_t count, std::vector<Core>& to) {
    only(r, cores, "cores",
         {"layer", "c0", "c1", "y0", "y1", "x0", "x1", "units", "synapses", "max_fan_in", "packets_per_step", "x",
          "y"});
    // The first column's length is checked before anything is allocated for `count` cores.
    column(r, cores, "cores", kLayerColumn.name, count);
    to.resize(static_cast<size_t>(count));
    read_column(r, cores, kLayerColumn, to);
    for (const auto& c : kSizeColumns) read_column(r, cores, c, to);
    read_column(r, cores, kPacketsColumn, to);
    for (const auto& c : kPositionColumns) read_column(r, cores, c, to);
}

void read_routes(const JsonReader& r, const Section& routes, const BodyCounts& counts, Mapping& mapping) {
    only(r, routes, "routes", {"packets_per_step", "destination_counts", "destinations"});
    const auto& packets = column(r, routes, "routes", "packets_per_step", counts.sources);
    const auto& lengths = column(r, routes, "routes", "destination_counts", counts.sources);
    const auto& dest = column(r, routes, "routes", "destinations", counts.destinations);
    mapping.source_packets.resize(packets.size());
    mapping.routes.offset.assign(1, 0);
    mapping.routes.offset.reserve(lengths.size() + 1);
    for (size_t s = 0; s < lengths.size(); ++s) {
        mapping.source_packets[s] = r.real(packets[s], [&] { return fmt::format("route {}: packets_per_step", s); });
        const auto n = r.integer<int64_t>(lengths[s], [&] { return fmt::format("route {}: destination count", s); });
        const int64_t begin = mapping.routes.offset.back();
        if (n < 0 || n > counts.destinations - begin)
            r.fail(fmt::format("route {}", s),
                   fmt::format("destination count {} must be 0 to {} (the destinations left of {})", n,
                               counts.destinations - begin, counts.destinations));
        mapping.routes.offset.push_back(begin + n);
    }
    if (mapping.routes.offset.back() != counts.destinations)
        r.fail("body: routes.destination_counts", fmt::format("they add up to {}, but there are {} destinations",
                                                              mapping.routes.offset.back(), counts.destinations));
    mapping.routes.dest.resize(dest.size());
    for (size_t k = 0; k < dest.size(); ++k)
        mapping.routes.dest[k] =
            r.integer<int32_t>(dest[k], [&] { return fmt::format("body: routes.destinations[{}]", k); });
}

// Explicit inputs in layer and input order (the body's `explicit` section lists their synapses in this order).
std::vector<UnitInput*> explicit_inputs(MapGraph& graph) {
    std::vector<UnitInput*> out;
    for (auto& l : graph.layers)
        for (auto& in : l.inputs)
            if (in.pattern == InputPattern::Explicit) out.push_back(&in);
    return out;
}

// Units of an input's source, or -1 when more than `most` (checked factor by factor: a damaged header's shape
// must not overflow).
int64_t source_units(const MapGraph& graph, int source, int64_t most) {
    const bool host = source == kHostSource;
    const MapLayer* l = host ? nullptr : &graph.layers[static_cast<size_t>(source)];
    int64_t n = 1;
    for (int64_t d : {host ? graph.host_channels : l->channels, host ? graph.host_height : l->height,
                      host ? graph.host_width : l->width}) {
        if (d < 0 || (d > 0 && n > most / d)) return -1;
        n *= d;
    }
    return n;
}

// The `explicit` section: every explicit input's row offsets (source units + 1 each) and targets, concatenated.
void read_explicit(const JsonReader& r, const CborColumns& body, Mapping& mapping) {
    std::vector<UnitInput*> inputs = explicit_inputs(mapping.graph);
    const auto it = body.find("explicit");
    if (it == body.end()) {
        if (!inputs.empty()) r.fail("body", "missing field 'explicit' (the synapses of the explicit inputs)");
        return;
    }
    if (inputs.empty()) r.fail("body", "unexpected field 'explicit' (no input is explicit)");
    only(r, it->second, "explicit", {"ptr", "target"});
    const auto ptr_at = it->second.find("ptr"), target_at = it->second.find("target");
    if (ptr_at == it->second.end() || target_at == it->second.end())
        r.fail("body: explicit", "missing field 'ptr' or 'target'");
    const std::vector<json>& ptr = ptr_at->second;
    const std::vector<json>& target = target_at->second;
    size_t p = 0, t = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
        auto where = [&] { return fmt::format("body: explicit input {}", k); };
        if (inputs[k]->source >= static_cast<int>(mapping.graph.layers.size()))
            r.fail(where(), fmt::format("source {} is not a layer", inputs[k]->source));
        const int64_t left = static_cast<int64_t>(ptr.size() - p);
        const int64_t units = source_units(mapping.graph, inputs[k]->source, left);
        const int64_t rows = units + 1;
        if (units < 0 || rows > left)
            r.fail(where(), fmt::format("expected the source's units + 1 row offsets, {} are left in explicit.ptr", left));
        auto e = std::make_shared<ExplicitSynapses>();
        e->ptr.resize(static_cast<size_t>(rows));
        for (auto& v : e->ptr) v = r.integer<int32_t>(ptr[p++], where);
        const int64_t n = e->ptr.back();
        if (n < 0 || n > static_cast<int64_t>(target.size() - t))
            r.fail(where(), fmt::format("{} targets, {} are left in explicit.target", n, target.size() - t));
        e->target.resize(static_cast<size_t>(n));
        for (auto& v : e->target) v = r.integer<int32_t>(target[t++], where);
        inputs[k]->synapses = std::move(e);
    }
    if (p != ptr.size() || t != target.size())
        r.fail("body: explicit", fmt::format("{} row offsets and {} targets left over", ptr.size() - p, target.size() - t));
}

}  // namespace

std::string mapping_body(const Mapping& mapping) {
    CborWriter w;
    std::vector<const UnitInput*> explicit_in;
    for (const auto& l : mapping.graph.layers)
        for (const auto& in : l.inputs)
            if (in.pattern == InputPattern::Explicit) explicit_in.push_back(&in);
    w.map(explicit_in.empty() ? 2 : 3);  // files without explicit inputs keep their bytes
    w.text("cores");
    w.map(1 + std::size(kSizeColumns) + 1 + std::size(kPositionColumns));
    write_column(w, mapping.cores, kLayerColumn);
    for (const auto& column : kSizeColumns) write_column(w, mapping.cores, column);
    write_column(w, mapping.cores, kPacketsColumn);
    for (const auto& column : kPositionColumns) write_column(w, mapping.cores, column);

    const auto sources = static_cast<size_t>(mapping.routes.sources());
    w.text("routes");
    w.map(3);
    w.text("packets_per_step");
    w.array(sources);
    for (double p : mapping.source_packets) w.real(p);
    w.text("destination_counts");
    w.array(sources);
    for (size_t s = 0; s < sources; ++s) w.integer(mapping.routes.offset[s + 1] - mapping.routes.offset[s]);
    w.text("destinations");
    w.array(mapping.routes.dest.size());
    for (int32_t d : mapping.routes.dest) w.integer(d);
    if (!explicit_in.empty()) {
        size_t ptrs = 0, targets = 0;
        for (const UnitInput* in : explicit_in) ptrs += in->synapses->ptr.size(), targets += in->synapses->target.size();
        w.text("explicit");
        w.map(2);
        w.text("ptr");
        w.array(ptrs);
        for (const UnitInput* in : explicit_in)
            for (int32_t v : in->synapses->ptr) w.integer(v);
        w.text("target");
        w.array(targets);
        for (const UnitInput* in : explicit_in)
            for (int32_t v : in->synapses->target) w.integer(v);
    }
    return std::move(w.bytes());
}

void read_mapping_body(const JsonReader& r, const CborColumns& body, const BodyCounts& counts, Mapping& mapping) {
    for (const auto& item : body)
        if (item.first != "cores" && item.first != "routes" && item.first != "explicit")
            r.fail("body", fmt::format("unexpected field '{}'", item.first));
    read_cores(r, section(r, body, "cores"), counts.cores, mapping.cores);
    read_routes(r, section(r, body, "routes"), counts, mapping);
    read_explicit(r, body, mapping);
}

}  // namespace neuroemu
