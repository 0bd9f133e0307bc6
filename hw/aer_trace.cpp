// AER packet traces; the format is documented in traces/README.md.
#include "hw/aer_trace.h"

#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "common/file_io.h"
#include "common/hash.h"
#include "common/little_endian.h"
#include "router/multicast/multicast.h"

namespace neuroemu {

namespace {

constexpr char kMagic[8] = {'N', 'E', 'U', 'R', 'O', 'A', 'E', 'R'};
constexpr size_t kTrailerBytes = 16;
constexpr size_t kFlushBytes = size_t{1} << 20;

struct Fnv {  // the trace's checksum over its fields as 64-bit little-endian integers
    uint64_t h = kFnv1a64Offset;
    void add(int64_t v) { h = fnv1a64(v, h); }
};

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Units of a source layer (the host: the input image) as [C][H][W].
struct Shape {
    int64_t c = 0, h = 0, w = 0;
};
Shape source_shape(const Mapping& mapping, int32_t layer) {
    if (layer < 0) return {mapping.graph.host_channels, mapping.graph.host_height, mapping.graph.host_width};
    const MapLayer& l = mapping.graph.layers[static_cast<size_t>(layer)];
    return {l.channels, l.height, l.width};
}

}  // namespace

uint64_t partition_fingerprint(const Mapping& mapping) {
    Fnv f;
    f.add(mapping.graph.host_channels), f.add(mapping.graph.host_height), f.add(mapping.graph.host_width);
    f.add(static_cast<int64_t>(mapping.graph.layers.size()));
    for (const MapLayer& l : mapping.graph.layers) {
        f.add(static_cast<int64_t>(l.kind)), f.add(l.population);
        f.add(l.channels), f.add(l.height), f.add(l.width), f.add(l.first_core), f.add(l.cores);
    }
    f.add(static_cast<int64_t>(mapping.cores.size()));
    for (const Core& c : mapping.cores) {
        f.add(c.layer);
        f.add(c.c0), f.add(c.c1), f.add(c.y0), f.add(c.y1), f.add(c.x0), f.add(c.x1);
    }
    return f.h;
}

uint64_t placement_fingerprint(const Mapping& mapping) {
    Fnv f;
    f.add(mapping.mesh.chip_width), f.add(mapping.mesh.chip_height);
    f.add(mapping.mesh.chips_x), f.add(mapping.mesh.chips_y);
    f.add(mapping.host_x), f.add(mapping.host_y);
    for (const Core& c : mapping.cores) f.add(c.x), f.add(c.y);
    return f.h;
}

// ------------------------------------------------------------------------------------------------ writer
AerWriter::AerWriter(const std::string& path, const Mapping& mapping)
    : path_(path), temp_path_(fmt::format("{}.tmp{}", path, static_cast<long>(::getpid()))) {
    // Streamed to a temporary name beside the final one, renamed by close(): a run that fails or is killed never
    // leaves a partial trace under the final name.
    errno = 0;
    file_ = gzopen(temp_path_.c_str(), ends_with(path, ".gz") ? "wb9" : "wbT");
    if (!file_)
        throw DataError(fmt::format("cannot write the AER trace {}: {}", path, errno ? std::strerror(errno) : "gzopen failed"));
    header_.flags = make_multicast(mapping.chip.noc.multicast)->forks_in_routers() ? kAerFlagTree : 0;
    header_.cores = static_cast<uint32_t>(mapping.cores.size());
    header_.layers = static_cast<uint32_t>(mapping.graph.layers.size());
    header_.partition = partition_fingerprint(mapping);
    header_.placement = placement_fingerprint(mapping);
    for (int32_t l = -1; l < static_cast<int32_t>(mapping.graph.layers.size()); ++l) {
        const Shape s = source_shape(mapping, l);
        height_.push_back(s.h);
        width_.push_back(s.w);
    }
    buf_.reserve(kFlushBytes + 64);
}

AerWriter::~AerWriter() {
    if (!file_) return;
    try {
        drain();
        flush();
    } catch (const Error&) {  // a destructor must not throw
    }
    gzclose(file_);
    std::remove(temp_path_.c_str());  // never closed: the run failed, and its partial trace goes
}

void AerWriter::begin(int64_t steps_per_image) {
    if (begun_) return;
    begun_ = true;
    header_.steps = static_cast<uint32_t>(steps_per_image);
    char h[kAerHeaderBytes] = {};
    std::memcpy(h, kMagic, sizeof(kMagic));
    put_le<uint16_t>(h + 8, header_.version);
    put_le<uint16_t>(h + 10, header_.flags);
    put_le<uint32_t>(h + 12, header_.cores);
    put_le<uint32_t>(h + 16, header_.layers);
    put_le<uint32_t>(h + 20, header_.steps);
    put_le<uint64_t>(h + 24, header_.partition);
    put_le<uint64_t>(h + 32, header_.placement);
    buf_.append(h, sizeof(h));
}

void AerWriter::write(const AerRecord& r) {
    if (!begun_) throw InternalError(fmt::format("AER trace {}: a record before the header", path_));
    if (r.layer < -1 || r.layer + 1 >= static_cast<int64_t>(height_.size()))
        throw InternalError(fmt::format("AER trace {}: packet of layer {}, which the mapping lacks", path_, r.layer));
    if (!cycle_records_.empty() && r.cycle != cycle_records_.front().cycle) drain();
    cycle_records_.push_back(r);
    ++packets_;
}

void AerWriter::drain() {
    std::stable_sort(cycle_records_.begin(), cycle_records_.end(), [](const AerRecord& a, const AerRecord& b) {
        return a.tick != b.tick ? a.tick < b.tick : a.source < b.source;
    });
    for (const AerRecord& r : cycle_records_) encode(r);
    cycle_records_.clear();
    if (buf_.size() >= kFlushBytes) flush();
}

void AerWriter::encode(const AerRecord& r) {
    const int64_t dt = r.tick - last_tick_;
    const uint64_t zigzag = (static_cast<uint64_t>(dt) << 1) ^ static_cast<uint64_t>(dt >> 63);
    put_varint(buf_, zigzag + 1);
    put_varint(buf_, static_cast<uint64_t>(r.cycle - last_cycle_));
    put_varint(buf_, static_cast<uint64_t>(r.source));
    put_varint(buf_, static_cast<uint64_t>(r.layer + 1));
    const auto l = static_cast<size_t>(r.layer + 1);
    put_varint(buf_, static_cast<uint64_t>((r.c * height_[l] + r.y) * width_[l] + r.x));
    put_varint(buf_, static_cast<uint64_t>(r.dest + 1));
    last_tick_ = r.tick;
    last_cycle_ = r.cycle;
}

void AerWriter::close(int64_t ticks) {
    if (closed_ || !file_) return;
    closed_ = true;
    if (!begun_) begin(1);  // nothing was simulated: a valid empty trace
    drain();
    buf_.push_back(0);
    char t[kTrailerBytes];
    put_le<uint64_t>(t, static_cast<uint64_t>(ticks));
    put_le<uint64_t>(t + 8, static_cast<uint64_t>(packets_));
    buf_.append(t, sizeof(t));
    flush();
    char c[4];  // CRC-32 of every byte before it
    put_le<uint32_t>(c, static_cast<uint32_t>(crc_));
    buf_.append(c, sizeof(c));
    flush();
    gzFile f = file_;
    file_ = nullptr;
    errno = 0;
    if (const int rc = gzclose(f); rc != Z_OK) {
        const int error = errno;
        std::remove(temp_path_.c_str());
        throw DataError(fmt::format("cannot write the AER trace {}: {}", path_,
                                    rc == Z_ERRNO && error ? std::strerror(error) : "close failed"));
    }
    replace_file(temp_path_, path_);
}

void AerWriter::flush() {
    if (buf_.empty() || !file_) return;
    crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(buf_.data()), static_cast<uInt>(buf_.size()));
    const int n = gzwrite(file_, buf_.data(), static_cast<unsigned>(buf_.size()));
    if (n != static_cast<int>(buf_.size())) {
        int err = 0;
        const char* msg = gzerror(file_, &err);
        buf_.clear();
        throw DataError(fmt::format("cannot write the AER trace {}: {}", path_,
                                    err == Z_ERRNO ? std::strerror(errno) : msg));
    }
    buf_.clear();
}

// ------------------------------------------------------------------------------------------------ reader
AerReader::AerReader(const std::string& path) : path_(path), buf_(size_t{1} << 16) {
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (!file_)
        throw DataError(fmt::format("cannot read the AER trace {}: {}", path, errno ? std::strerror(errno) : "gzopen failed"));
    try {
        read_header();
    } catch (...) {  // no destructor runs for a constructor that throws
        gzclose(file_);
        file_ = nullptr;
        throw;
    }
}

AerReader::~AerReader() {
    if (file_) gzclose(file_);
}

void AerReader::fail(const std::string& what) const {
    int err = Z_OK;
    const char* msg = gzerror(file_, &err);
    const bool zlib_error = err != Z_OK && err != Z_STREAM_END && msg && *msg;
    throw DataError(fmt::format("AER trace {}: {}{}", path_, what, zlib_error ? fmt::format(" ({})", msg) : ""));
}

void AerReader::fail_record(const std::string& what) const {
    fail(fmt::format("record {} (byte {}): {}", record_, record_offset_, what));
}

bool AerReader::fill() {
    crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(buf_.data()) + crc_from_, static_cast<uInt>(end_ - crc_from_));
    crc_from_ = 0;
    const int n = gzread(file_, buf_.data(), static_cast<unsigned>(buf_.size()));
    if (n < 0) {
        int err = 0;
        const char* msg = gzerror(file_, &err);
        throw DataError(fmt::format("AER trace {}: read error at byte {}: {}", path_, offset_,
                                    err == Z_ERRNO ? std::strerror(errno) : msg));
    }
    pos_ = 0;
    end_ = static_cast<size_t>(n);
    return n > 0;
}

int AerReader::read_byte() {
    if (pos_ == end_ && !fill()) return -1;
    ++offset_;
    return static_cast<unsigned char>(buf_[pos_++]);
}

uint64_t AerReader::read_varint(const char* field) {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        const int b = read_byte();
        if (b < 0) fail_record(fmt::format("the file ends inside the record (field {}): truncated", field));
        if (shift == 63 && b > 1) fail_record(fmt::format("field {} is not a valid number (more than 64 bits)", field));
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
        if (shift == 63) fail_record(fmt::format("field {} is not a valid number (more than 64 bits)", field));
    }
}

void AerReader::read_header() {
    unsigned char h[kAerHeaderBytes];
    size_t got = 0;
    for (; got < sizeof(h); ++got) {
        const int b = read_byte();
        if (b < 0) break;
        h[got] = static_cast<unsigned char>(b);
    }
    if (got >= sizeof(kMagic) && std::memcmp(h, kMagic, sizeof(kMagic)) != 0)
        fail("not a neuroemu AER trace (the file does not start with \"NEUROAER\")");
    if (got < sizeof(h)) {
        if (got < sizeof(kMagic) && std::memcmp(h, kMagic, got) != 0)
            fail("not a neuroemu AER trace (the file does not start with \"NEUROAER\")");
        fail(fmt::format("truncated header ({} of {} bytes)", got, sizeof(h)));
    }
    header_.version = static_cast<uint16_t>(get_le<uint16_t>(h + 8));
    if (header_.version != kAerVersion)
        fail(fmt::format("format version {}; this neuroemu reads version {}", header_.version, kAerVersion));
    header_.flags = static_cast<uint16_t>(get_le<uint16_t>(h + 10));
    header_.cores = static_cast<uint32_t>(get_le<uint32_t>(h + 12));
    header_.layers = static_cast<uint32_t>(get_le<uint32_t>(h + 16));
    header_.steps = static_cast<uint32_t>(get_le<uint32_t>(h + 20));
    header_.partition = get_le<uint64_t>(h + 24);
    header_.placement = get_le<uint64_t>(h + 32);
    if (header_.flags & ~kAerFlagTree) fail(fmt::format("unknown flags {:#x} in the header (byte 10)", header_.flags));
    if (header_.steps == 0 || header_.steps > kMaxSnnSteps)
        fail(fmt::format("the header gives {} steps per image (byte 20); 1 to {} are possible", header_.steps, kMaxSnnSteps));
}

bool AerReader::next(AerRecord& r) {
    if (done_) return false;
    record_offset_ = offset_;
    ++record_;
    const int first = read_byte();
    if (first < 0)
        fail(fmt::format("truncated: the file ends after record {} (byte {}) without the end marker", record_ - 1, offset_));
    // Put the byte back: the tick field is a varint like the others.
    --pos_;
    --offset_;
    const uint64_t t = read_varint("tick");
    if (t == 0) {  // the end marker and the trailer
        unsigned char tr[kTrailerBytes];
        for (size_t i = 0; i < sizeof(tr); ++i) {
            const int b = read_byte();
            if (b < 0) fail(fmt::format("truncated: the file ends inside the trailer after the end marker (byte {})", offset_));
            tr[i] = static_cast<unsigned char>(b);
        }
        crc_ = crc32(crc_, reinterpret_cast<const Bytef*>(buf_.data()) + crc_from_, static_cast<uInt>(pos_ - crc_from_));
        crc_from_ = pos_;
        unsigned char stored[4];
        for (unsigned char& byte : stored) {
            const int b = read_byte();
            if (b < 0) fail(fmt::format("truncated: the file ends inside the trailer after the end marker (byte {})", offset_));
            byte = static_cast<unsigned char>(b);
        }
        if (get_le<uint32_t>(stored) != crc_)
            fail(fmt::format("the file is damaged: its CRC-32 is {:08x}, the trailer (byte {}) says {:08x}", crc_,
                             offset_ - 4, get_le<uint32_t>(stored)));
        const uint64_t ticks = get_le<uint64_t>(tr), packets = get_le<uint64_t>(tr + 8);
        const int64_t records = record_ - 1;
        if (packets != static_cast<uint64_t>(records))
            fail(fmt::format("the trailer (byte {}) counts {} packets, the file holds {}", record_offset_ + 1, packets, records));
        if (ticks % header_.steps != 0 || ticks > (uint64_t{1} << 62))
            fail(fmt::format("the trailer (byte {}) counts {} ticks, not a whole number of images of {} steps",
                             record_offset_ + 1, ticks, header_.steps));
        if (records > 0 && static_cast<int64_t>(ticks) <= tick_)
            fail(fmt::format("the trailer (byte {}) counts {} ticks, but a record belongs to tick {}", record_offset_ + 1,
                             ticks, tick_));
        if (read_byte() >= 0) fail(fmt::format("unexpected bytes after the trailer (byte {})", offset_ - 1));
        summary_.ticks = static_cast<int64_t>(ticks);
        summary_.images = summary_.ticks / header_.steps;
        summary_.packets = records;
        done_ = true;
        --record_;
        return false;
    }
    const uint64_t zz = t - 1;
    const int64_t dt = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
    if (dt < 0) fail_record(fmt::format("ticks out of order: tick {} after tick {}", tick_ + dt, tick_));
    if (dt > (int64_t{1} << 40)) fail_record(fmt::format("tick {} is out of range", tick_ + dt));
    r.tick = tick_ + dt;
    const uint64_t dc = read_varint("cycle");
    if (dc > (uint64_t{1} << 56) || cycle_ > (int64_t{1} << 60)) fail_record("the cycle is out of range");
    r.cycle = cycle_ + static_cast<int64_t>(dc);
    const uint64_t source = read_varint("source");
    const uint64_t layer = read_varint("layer");
    const uint64_t unit = read_varint("unit");
    const uint64_t dest = read_varint("dest");
    const uint64_t cores = header_.cores;
    if (source > cores)
        fail_record(fmt::format("source core {} does not exist (the trace has {} cores; the host is {})", source, cores, cores));
    if (layer > header_.layers)
        fail_record(fmt::format("source layer {} does not exist (the trace has {} layers)", static_cast<int64_t>(layer) - 1,
                                header_.layers));
    if (dest > cores)
        fail_record(fmt::format("destination core {} does not exist (the trace has {} cores)", dest - 1, cores));
    r.source = static_cast<int32_t>(source);
    r.layer = static_cast<int32_t>(layer) - 1;
    r.dest = static_cast<int32_t>(dest) - 1;
    const Shape s = source_shape(*m_, r.layer);
    if (unit >= static_cast<uint64_t>(s.c * s.h * s.w))
        fail_record(fmt::format("unit {} does not exist: {} has {} units", unit,
                                r.layer < 0 ? std::string("the input image")
                                            : fmt::format("layer {} ('{}')", r.layer, m_->graph.layers[static_cast<size_t>(r.layer)].name),
                                s.c * s.h * s.w));
    const auto u = static_cast<int64_t>(unit);
    r.c = static_cast<int32_t>(u / (s.h * s.w));
    r.y = static_cast<int32_t>(u / s.w % s.h);
    r.x = static_cast<int32_t>(u % s.w);
    tick_ = r.tick;
    cycle_ = r.cycle;
    check(r);
    return true;
}

// A record against the mapping: the source's layer, the unit inside the source core's slice, a destination the
// source reaches.
void AerReader::check(const AerRecord& r) {
    const Mapping& mapping = *m_;
    const auto host = static_cast<int32_t>(mapping.cores.size());
    if (r.source == host) {
        if (r.layer != -1) fail_record(fmt::format("the host (source {}) sends as layer -1, not layer {}", host, r.layer));
    } else {
        const Core& c = mapping.cores[static_cast<size_t>(r.source)];
        if (c.layer != r.layer)
            fail_record(fmt::format("source core {} belongs to layer {} ('{}'), the record says layer {}", r.source, c.layer,
                                    mapping.graph.layers[static_cast<size_t>(c.layer)].name, r.layer));
        if (r.c < c.c0 || r.c >= c.c1 || r.y < c.y0 || r.y >= c.y1 || r.x < c.x0 || r.x >= c.x1)
            fail_record(fmt::format("unit (c {}, y {}, x {}) is not in source core {} (c [{}, {}), y [{}, {}), x [{}, {}))",
                                    r.c, r.y, r.x, r.source, c.c0, c.c1, c.y0, c.y1, c.x0, c.x1));
    }
    const auto b = mapping.routes.dest.begin() + mapping.routes.offset[static_cast<size_t>(r.source)];
    const auto e = mapping.routes.dest.begin() + mapping.routes.offset[static_cast<size_t>(r.source) + 1];
    if (b == e) fail_record(fmt::format("source {} sends to no core in this mapping", r.source));
    if (r.dest >= 0 && !std::binary_search(b, e, r.dest))
        fail_record(fmt::format("core {} is not a destination of source {} in this mapping", r.dest, r.source));
}

bool AerReader::copy_of_last(const AerRecord& r) {
    Last& l = last_[static_cast<size_t>(r.source)];
    const bool copy = r.dest >= 0 && l.tick == r.tick && l.dest >= 0 && r.dest > l.dest && l.layer == r.layer &&
                      l.c == r.c && l.y == r.y && l.x == r.x;
    l = {r.tick, r.layer, r.c, r.y, r.x, r.dest};
    return copy;
}

AerSummary AerReader::scan(const Mapping& mapping) {
    m_ = &mapping;
    if (header_.cores != mapping.cores.size() || header_.layers != mapping.graph.layers.size())
        fail(fmt::format("recorded on a mapping of {} cores and {} layers; this one has {} cores and {} layers",
                         header_.cores, header_.layers, mapping.cores.size(), mapping.graph.layers.size()));
    if (header_.partition != partition_fingerprint(mapping))
        fail("recorded on a different partition of the network (layers or core slices differ): use the model, "
             "chip and mapping settings it was recorded with");
    last_.assign(mapping.cores.size() + 1, Last{});
    AerRecord r;
    int64_t events = 0;
    while (next(r))
        if (!copy_of_last(r)) ++events;
    summary_.events = events;
    const AerSummary s = summary_;
    // Rewind to the first record.
    if (gzrewind(file_) != 0) fail("cannot rewind");
    pos_ = end_ = crc_from_ = 0;
    crc_ = 0;
    offset_ = 0;
    record_ = 0;
    tick_ = cycle_ = 0;
    done_ = false;
    read_header();
    last_.assign(mapping.cores.size() + 1, Last{});
    have_pending_ = false;
    image_ = 0;
    return s;
}

bool AerReader::next_image(RecordedImage& out) {
    if (!m_) throw InternalError("AerReader::next_image before scan");
    if (image_ >= summary_.images) return false;
    const int64_t steps = header_.steps, first = image_ * steps;
    out.steps = steps;
    out.image = image_;
    out.packets = 0;
    out.events.assign(static_cast<size_t>(steps), {});
    for (;;) {
        if (!have_pending_) {
            if (!next(pending_)) break;
            have_pending_ = true;
        }
        if (pending_.tick >= first + steps) break;
        have_pending_ = false;
        ++out.packets;
        if (copy_of_last(pending_)) continue;
        out.events[static_cast<size_t>(pending_.tick - first)].push_back({pending_.source, {pending_.c, pending_.y, pending_.x}});
    }
    for (auto& step : out.events)
        std::stable_sort(step.begin(), step.end(), [](const SourcedEvent& a, const SourcedEvent& b) { return a.source < b.source; });
    ++image_;
    return true;
}

}  // namespace neuroemu
