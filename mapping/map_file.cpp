// The `.map` file's frame: a version line, the header's length, the JSON header, the CBOR body
// (docs/mapping-format.md). The header and body halves are in map_header.cpp and map_body.cpp.
#include "mapping/map_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string_view>

#include "common/error.h"
#include "common/file_io.h"
#include "mapping/map_file_parts.h"

namespace neuroemu {
namespace {

constexpr char kFormatName[] = "neuroemu-mapping";
constexpr size_t kLengthBytes = 8;  // the header's length, little-endian
// Deepest nesting a valid header uses: layers[i].inputs[k].kernel, 5 levels with the header itself.
constexpr int kMaxDepth = 6;

std::string version_line(int version) { return fmt::format("{} {}\n", kFormatName, version); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(fmt::format("{}: cannot open", path));
    std::string bytes;
    std::vector<char> chunk(1 << 20);
    while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0)
        bytes.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (in.bad()) throw DataError(fmt::format("{}: read failed", path));
    return bytes;
}

// The first line names the format and its version; every version of neuroemu has written one, so a file of
// another version is recognised before anything else is read.
void check_version_line(const std::string& path, std::string_view bytes) {
    const std::string expected = version_line(kMappingFormatVersion);
    if (bytes.substr(0, expected.size()) == expected) return;
    auto fail = [&](const std::string& what) { throw DataError(fmt::format("{}{}", path, what)); };
    if (expected.compare(0, bytes.size(), bytes) == 0) fail(": the file ends inside its first line (truncated?)");
    const std::string prefix = std::string(kFormatName) + " ";
    const std::string_view line = bytes.substr(0, bytes.find('\n'));
    int version = -1;
    if (line.size() > prefix.size() && line.size() < prefix.size() + 9 && line.substr(0, prefix.size()) == prefix &&
        line.find_first_not_of("0123456789", prefix.size()) == std::string_view::npos)
        version = std::stoi(std::string(line.substr(prefix.size())));
    if (version < 0)
        fail(fmt::format(": not a neuroemu mapping file (it should start with '{} {}'); make one with `neuroemu map`",
                         kFormatName, kMappingFormatVersion));
    if (version < kMappingFormatVersion)
        fail(fmt::format(" was written by an older neuroemu (format {}); regenerate it with `neuroemu map`", version));
    fail(
        fmt::format(" was written by a newer neuroemu (format {}; this one reads format {}); read it with that "
                    "neuroemu or regenerate it with `neuroemu map`",
                    version, kMappingFormatVersion));
}

// The header's bytes, after the version line and its length.
std::string_view header_bytes(const JsonReader& r, std::string_view bytes) {
    const size_t at = version_line(kMappingFormatVersion).size();
    if (bytes.size() < at + kLengthBytes) r.fail("header", "the file ends inside the header length (truncated?)");
    uint64_t length = 0;
    for (size_t i = 0; i < kLengthBytes; ++i) length |= uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
    const size_t left = bytes.size() - at - kLengthBytes;
    if (length > left)
        r.fail("header", fmt::format("{} bytes long, but only {} bytes follow (truncated?)", length, left));
    return bytes.substr(at + kLengthBytes, length);
}

// Whether any value inside `v` (at any depth) is an object.
bool holds_object(const nlohmann::ordered_json& v) {
    return std::any_of(v.begin(), v.end(),
                       [](const auto& e) { return e.is_object() || (e.is_array() && holds_object(e)); });
}

// JSON text a person can read: one member per line, but a value holding no object (a number, a list of numbers,
// an object of numbers such as `mesh` or a layer's input) on one line.
void append_json(const nlohmann::ordered_json& v, int depth, std::string& out) {
    if (v.is_primitive()) {
        out += v.dump();
        return;
    }
    const bool one_line = !holds_object(v);
    const std::string indent = one_line ? "" : "\n" + std::string(static_cast<size_t>(depth) + 1, ' ');
    out += v.is_object() ? '{' : '[';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it, first = false) {
        out += first ? indent : "," + (one_line ? std::string(" ") : indent);
        if (v.is_object()) out += nlohmann::ordered_json(it.key()).dump() + ": ";
        append_json(*it, depth + 1, out);
    }
    if (!one_line && !v.empty()) out += "\n" + std::string(static_cast<size_t>(depth), ' ');
    out += v.is_object() ? '}' : ']';
}

json parse_header(const JsonReader& r, std::string_view text) {
    json out;
    const std::string error = parse_bounded(text, json::input_format_t::json, kMaxDepth, out);
    if (!error.empty()) r.fail("header", fmt::format("not valid JSON: {} (damaged or truncated?)", error));
    return out;
}

// The header's counts and the body's size and encoding, after the format and version fields.
BodyCounts read_frame_fields(const JsonReader& r, const json& header, size_t body_bytes) {
    r.only(header, {"format", "version", "model", "chip", "mesh", "host", "graph", "layers", "counts", "body"},
           "header");
    if (r.field(header, "format", "header") != kFormatName)
        r.fail("header: format", fmt::format("expected \"{}\", found {}", kFormatName, describe(header["format"])));
    const int version = r.integer<int>(r.field(header, "version", "header"), [] { return "header: version"; });
    if (version != kMappingFormatVersion)
        r.fail("header: version",
               fmt::format("{} disagrees with the first line's {} (damaged?)", version, kMappingFormatVersion));
    const json& body = r.field(header, "body", "header");
    r.only(body, {"encoding", "bytes"}, "header: body");
    if (r.field(body, "encoding", "header: body") != "cbor")
        r.fail("header: body.encoding", fmt::format("expected \"cbor\", found {}", describe(body["encoding"])));
    const auto bytes = r.integer<int64_t>(r.field(body, "bytes", "header: body"), [] { return "header: body.bytes"; });
    if (bytes < 0 || static_cast<uint64_t>(bytes) != body_bytes)
        r.fail("body", fmt::format("the header says {} bytes, but {} bytes follow it (truncated or damaged?)", bytes,
                                   body_bytes));

    const json& counts = r.field(header, "counts", "header");
    r.only(counts, {"cores", "sources", "destinations"}, "header: counts");
    BodyCounts c;
    c.cores = r.integer<int64_t>(r.field(counts, "cores", "header: counts"), [] { return "header: counts.cores"; });
    c.sources =
        r.integer<int64_t>(r.field(counts, "sources", "header: counts"), [] { return "header: counts.sources"; });
    c.destinations = r.integer<int64_t>(r.field(counts, "destinations", "header: counts"),
                                        [] { return "header: counts.destinations"; });
    if (c.cores < 0 || c.sources != c.cores + 1)
        r.fail("header: counts",
               fmt::format("{} cores and {} sources, expected one source per core and the host", c.cores, c.sources));
    if (c.destinations < 0) r.fail("header: counts.destinations", "must not be negative");
    return c;
}

}  // namespace

void save_mapping(const Mapping& mapping, const std::string& path) {
    // A mapping the reader would refuse is never written: the error shows now, not at `neuroemu simulate`.
    validate_mapping(mapping, path);
    const std::string body = mapping_body(mapping);
    nlohmann::ordered_json header = {{"format", kFormatName}, {"version", kMappingFormatVersion}};
    header.update(mapping_header(mapping));
    header["counts"] = {
        {"cores", mapping.cores.size()},
        {"sources", mapping.routes.sources()},
        {"destinations", mapping.routes.dest.size()}};
    header["body"] = {{"encoding", "cbor"}, {"bytes", body.size()}};
    std::string text;
    try {
        append_json(header, 0, text);
        text += '\n';
    } catch (const json::type_error& e) {
        throw DataError(fmt::format("{}: a name (model, chip, layer, projection or binding) is not UTF-8 text: {}",
                                    path, e.what()));
    }
    std::string bytes = version_line(kMappingFormatVersion);
    for (size_t i = 0; i < kLengthBytes; ++i) bytes.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xFF));
    bytes += text;
    bytes += body;
    write_file_atomic(path, bytes);
}

Mapping load_mapping(const std::string& path) {
    const std::string bytes = read_file(path);
    const JsonReader r(path);
    check_version_line(path, bytes);
    const std::string_view header_text = header_bytes(r, bytes);
    const json header = parse_header(r, header_text);
    const size_t body_at = static_cast<size_t>(header_text.data() + header_text.size() - bytes.data());
    const BodyCounts counts = read_frame_fields(r, header, bytes.size() - body_at);
    Mapping mapping;
    read_mapping_header(r, header, mapping);
    CborColumns body;
    const std::string error = parse_cbor_columns(std::string_view(bytes).substr(body_at), body);
    if (!error.empty()) r.fail("body", error + (error.rfind("not valid", 0) == 0 ? " (damaged or truncated?)" : ""));
    read_mapping_body(r, body, counts, mapping);
    validate_mapping(mapping, path);
    return mapping;
}

}  // namespace neuroemu
