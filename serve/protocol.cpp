#include "serve/protocol.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/little_endian.h"

namespace neuroemu::serve::protocol {

namespace {

// A float's bits as the u32 that carries it on the wire (put_le/get_le: little-endian on any host).
uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// The checks every datagram shares: size, magic, version, reserved; the type is the caller's.
std::string check_header(const Header& h, size_t size) {
    if (size > kMaxDatagramBytes) return "too_long";
    if (h.magic != kMagic) return "bad_magic";
    if (h.version != kVersion) return "bad_version";
    if (h.reserved != 0) return "bad_reserved";
    return "";
}

std::vector<uint8_t> message(const Header& h, size_t record_bytes) {
    std::vector<uint8_t> out(kHeaderBytes + static_cast<size_t>(h.count) * record_bytes);
    write_header(h, out.data());
    return out;
}

Header output_header(Type type, uint16_t flags, uint32_t sequence, size_t count, uint64_t tick, int32_t aux) {
    Header h;
    h.type = static_cast<uint8_t>(type);
    h.flags = flags;
    h.sequence = sequence;
    h.count = static_cast<uint32_t>(count);
    h.tick = tick;
    h.aux = aux;
    return h;
}

}  // namespace

Header read_header(const uint8_t* p) {
    Header h;
    h.magic = get_le<uint32_t>(p);
    h.version = p[4];
    h.type = p[5];
    h.flags = get_le<uint16_t>(p + 6);
    h.sequence = get_le<uint32_t>(p + 8);
    h.count = get_le<uint32_t>(p + 12);
    h.tick = get_le<uint64_t>(p + 16);
    h.aux = get_le<int32_t>(p + 24);
    h.reserved = get_le<uint32_t>(p + 28);
    return h;
}

void write_header(const Header& h, uint8_t* p) {
    put_le(p, h.magic);
    p[4] = h.version;
    p[5] = h.type;
    put_le(p + 6, h.flags);
    put_le(p + 8, h.sequence);
    put_le(p + 12, h.count);
    put_le(p + 16, h.tick);
    put_le(p + 24, h.aux);
    put_le(p + 28, h.reserved);
}

size_t event_record_bytes(uint16_t flags) { return ((flags & kFlat) ? 4 : 6) + ((flags & kCounts) ? 2 : 0); }

size_t max_events_per_datagram(uint16_t flags) {
    return (kMaxDatagramBytes - kHeaderBytes) / event_record_bytes(flags);
}

Decoded<Events> decode_events(const uint8_t* data, size_t size, const InputShape& shape) {
    Decoded<Events> d;
    if (size < kHeaderBytes) return d.reason = "too_short", d;
    const Header h = read_header(data);
    if (d.reason = check_header(h, size); !d.ok()) return d;
    if (h.type != static_cast<uint8_t>(Type::events)) return d.reason = "bad_type", d;
    if (h.flags & ~kEventFlags) return d.reason = "bad_flags", d;
    const size_t record = event_record_bytes(h.flags);
    // Compared in 64 bits: count * record cannot overflow them (count < 2^32).
    if (uint64_t{kHeaderBytes} + uint64_t{h.count} * record != size) return d.reason = "bad_length", d;
    if (h.flags & kLabel) {
        if (h.aux < 0 || (shape.classes > 0 && h.aux >= shape.classes)) return d.reason = "bad_label", d;
    } else if (h.aux != -1) {
        return d.reason = "bad_aux", d;
    }
    Events& e = d.value;
    e.sequence = h.sequence;
    e.tick = h.tick;
    e.flags = h.flags & (kReset | kLabel | kEnd);
    e.label = (h.flags & kLabel) ? h.aux : -1;
    e.events.resize(h.count);
    const uint8_t* p = data + kHeaderBytes;
    for (uint32_t i = 0; i < h.count; ++i, p += record) {
        int64_t index;
        if (h.flags & kFlat) {
            index = get_le<uint32_t>(p);
            if (index >= shape.size()) return d.reason = "bad_address", d;
        } else {
            const int64_t c = get_le<uint16_t>(p), y = get_le<uint16_t>(p + 2), x = get_le<uint16_t>(p + 4);
            if (c >= shape.channels || y >= shape.height || x >= shape.width) return d.reason = "bad_address", d;
            index = (c * shape.height + y) * shape.width + x;
        }
        uint16_t count = 1;
        if (h.flags & kCounts) {
            count = get_le<uint16_t>(p + record - 2);
            if (count == 0) return d.reason = "bad_count", d;
        }
        e.events[i] = {static_cast<int32_t>(index), count};
    }
    return d;
}

std::vector<uint8_t> encode_events(const Events& m, uint16_t flags, const InputShape& shape) {
    if (flags & ~kEventFlags) throw std::invalid_argument("encode_events: unknown flag bits");
    if (m.events.size() > max_events_per_datagram(flags))
        throw std::invalid_argument("encode_events: " + std::to_string(m.events.size()) +
                                    " events do not fit one datagram (at most " +
                                    std::to_string(max_events_per_datagram(flags)) + ")");
    Header h;
    h.type = static_cast<uint8_t>(Type::events);
    h.flags = flags;
    h.sequence = m.sequence;
    h.count = static_cast<uint32_t>(m.events.size());
    h.tick = m.tick;
    h.aux = (flags & kLabel) ? m.label : -1;
    const size_t record = event_record_bytes(flags);
    std::vector<uint8_t> out = message(h, record);
    uint8_t* p = out.data() + kHeaderBytes;
    const int64_t plane = shape.height * shape.width;
    for (const InputSpike& s : m.events) {
        if (s.index < 0 || s.index >= shape.size())
            throw std::invalid_argument("encode_events: index " + std::to_string(s.index) + " outside the input");
        if (!(flags & kCounts) && s.count != 1)
            throw std::invalid_argument("encode_events: a count other than 1 needs the COUNTS flag");
        if (flags & kFlat) {
            put_le(p, static_cast<uint32_t>(s.index));
        } else {
            put_le(p, static_cast<uint16_t>(s.index / plane));
            put_le(p + 2, static_cast<uint16_t>(s.index % plane / shape.width));
            put_le(p + 4, static_cast<uint16_t>(s.index % shape.width));
        }
        if (flags & kCounts) put_le(p + record - 2, s.count);
        p += record;
    }
    return out;
}

std::vector<std::vector<uint8_t>> encode_spikes(uint32_t& sequence, uint64_t tick, int32_t population,
                                                const std::vector<int32_t>& units, size_t max_bytes) {
    if (max_bytes < kHeaderBytes + 4 || max_bytes > kMaxDatagramBytes)
        throw std::invalid_argument("encode_spikes: max_bytes outside [36, 65507]");
    const size_t per = (max_bytes - kHeaderBytes) / 4;
    std::vector<std::vector<uint8_t>> out;
    size_t first = 0;
    do {
        const size_t n = std::min(per, units.size() - first);
        const bool more = first + n < units.size();
        std::vector<uint8_t> d =
            message(output_header(Type::spikes, more ? kMore : 0, sequence++, n, tick, population), 4);
        for (size_t i = 0; i < n; ++i) put_le(d.data() + kHeaderBytes + 4 * i, static_cast<uint32_t>(units[first + i]));
        out.push_back(std::move(d));
        first += n;
    } while (first < units.size());
    return out;
}

std::vector<uint8_t> encode_tick(uint32_t sequence, uint64_t tick, const std::vector<uint64_t>& fields) {
    std::vector<uint8_t> d = message(output_header(Type::tick, 0, sequence, fields.size(), tick, 0), 8);
    for (size_t i = 0; i < fields.size(); ++i) put_le(d.data() + kHeaderBytes + 8 * i, fields[i]);
    return d;
}

std::vector<uint8_t> encode_classification(uint32_t sequence, uint64_t tick, int32_t decision, int32_t label,
                                           uint32_t steps, const std::vector<float>& readout) {
    std::vector<uint8_t> d =
        message(output_header(Type::classification, 0, sequence, 2 + readout.size(), tick, decision), 4);
    uint8_t* p = d.data() + kHeaderBytes;
    put_le(p, static_cast<uint32_t>(label));
    put_le(p + 4, steps);
    for (size_t i = 0; i < readout.size(); ++i) put_le(p + 8 + 4 * i, float_bits(readout[i]));
    return d;
}

Decoded<Output> decode_output(const uint8_t* data, size_t size) {
    Decoded<Output> d;
    if (size < kHeaderBytes) return d.reason = "too_short", d;
    Output& o = d.value;
    const Header h = o.header = read_header(data);
    if (d.reason = check_header(h, size); !d.ok()) return d;
    const Type type = static_cast<Type>(h.type);
    if (type != Type::spikes && type != Type::tick && type != Type::classification) return d.reason = "bad_type", d;
    if (h.flags & ~(type == Type::spikes ? kMore : 0)) return d.reason = "bad_flags", d;
    const size_t record = type == Type::tick ? 8 : 4;
    if (uint64_t{kHeaderBytes} + uint64_t{h.count} * record != size) return d.reason = "bad_length", d;
    const uint8_t* p = data + kHeaderBytes;
    if (type == Type::spikes) {
        for (uint32_t i = 0; i < h.count; ++i) o.units.push_back(get_le<uint32_t>(p + 4 * i));
    } else if (type == Type::tick) {
        for (uint32_t i = 0; i < h.count; ++i) o.fields.push_back(get_le<uint64_t>(p + 8 * i));
    } else {
        if (h.count < 2) return d.reason = "bad_count", d;
        o.label = get_le<int32_t>(p);
        o.steps = get_le<uint32_t>(p + 4);
        for (uint32_t i = 2; i < h.count; ++i) o.readout.push_back(bits_float(get_le<uint32_t>(p + 4 * i)));
    }
    return d;
}

int64_t sequence_delta(uint32_t last, uint32_t next) {
    return static_cast<int64_t>(static_cast<int32_t>(next - last));
}

}  // namespace neuroemu::serve::protocol
