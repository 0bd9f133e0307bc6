// The wire protocol of `neuroemu serve`, version 1 (docs/serve.md, "Protocol"): encoding and decoding of every
// UDP datagram, byte for byte, little-endian whatever the host. No sockets here: the server (serve/server.h), the
// C++ client (clients/cpp/serve_client.h) and the tests share these functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "serve/session.h"

namespace neuroemu::serve::protocol {

constexpr uint32_t kMagic = 0x5645454E;  // the bytes "NEEV"
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderBytes = 32;
constexpr size_t kMaxDatagramBytes = 65507;  // the UDP payload limit (IPv4)

enum class Type : uint8_t { events = 1, spikes = 2, tick = 3, classification = 4 };

// Flag bits (header offset 6).
constexpr uint16_t kFlat = 1u << 0;    // EVENTS: records are u32 flat indices, else u16 channel, y, x
constexpr uint16_t kCounts = 1u << 1;  // EVENTS: each record is followed by u16 count (1..65535)
constexpr uint16_t kReset = 1u << 2;   // EVENTS: reset the network before the tick runs
constexpr uint16_t kLabel = 1u << 3;   // EVENTS: aux is the sample's true class
constexpr uint16_t kEnd = 1u << 4;     // EVENTS: the sample ends with this tick
constexpr uint16_t kMore = 1u << 5;    // SPIKES: another datagram of the same tick and population follows
constexpr uint16_t kEventFlags = kFlat | kCounts | kReset | kLabel | kEnd;

// TICK record fields, in order (a later version may append fields; a reader ignores those it does not know).
enum TickField : size_t {
    kStep, kInputSpikes, kSpikes, kSops, kDecision, kCycles, kPackets, kMaxLatencyCycles, kDropped,
    kDeadlineMisses, kTickWallNs, kTickEndNs, kTickFields
};

struct Header {
    uint32_t magic = kMagic;
    uint8_t version = kVersion;
    uint8_t type = 0;
    uint16_t flags = 0;
    uint32_t sequence = 0;
    uint32_t count = 0;
    uint64_t tick = 0;
    int32_t aux = -1;
    uint32_t reserved = 0;
};

// The input population's shape, against which EVENTS addresses are checked, and the number of classes (LABEL).
struct InputShape {
    int64_t channels = 1, height = 1, width = 1;
    int64_t classes = 0;  // 0: labels not checked
    int64_t size() const { return channels * height * width; }
};

// An EVENTS datagram decoded: events as flat indices (CYX records converted), counts 1 without COUNTS.
struct Events {
    uint32_t sequence = 0;
    uint64_t tick = 0;   // 0: the next tick to start
    uint16_t flags = 0;  // RESET, LABEL, END as sent (FLAT and COUNTS describe the encoding only)
    int32_t label = -1;  // with LABEL
    std::vector<InputSpike> events;
};

// A datagram sent to subscribers, decoded. Fields by type: SPIKES units; TICK fields; CLASSIFICATION decision
// (header aux), label, steps, readout.
struct Output {
    Header header;
    std::vector<uint32_t> units;
    std::vector<uint64_t> fields;
    int32_t label = -1;
    uint32_t steps = 0;
    std::vector<float> readout;
    Type type() const { return static_cast<Type>(header.type); }
};

// The outcome of a decode: `reason` empty on success, else one word naming the rejection (docs/serve.md):
// too_short, too_long, bad_magic, bad_version, bad_type, bad_flags, bad_reserved, bad_length, bad_address,
// bad_count, bad_label, bad_aux.
template <class T>
struct Decoded {
    T value;
    std::string reason;
    bool ok() const { return reason.empty(); }
};

// The header at the start of `data` (size >= kHeaderBytes), fields as read, unchecked.
Header read_header(const uint8_t* data);
void write_header(const Header& h, uint8_t* out);

// Bytes per EVENTS record with `flags` (6, 8, 4 or 6).
size_t event_record_bytes(uint16_t flags);
// The most records one EVENTS datagram carries with `flags`.
size_t max_events_per_datagram(uint16_t flags);

// Decodes an EVENTS datagram received by the server: checks every header field, the length, each address against
// `shape` (the whole datagram is rejected when one is out of range: a datagram is atomic) and each count.
Decoded<Events> decode_events(const uint8_t* data, size_t size, const InputShape& shape);

// Encodes an EVENTS datagram. `flags` chooses the record layout (FLAT, COUNTS) and carries RESET/LABEL/END;
// events are flat indices, converted to (c, y, x) with `shape` without FLAT. Throws std::invalid_argument when an
// event does not fit the layout (a count other than 1 without COUNTS, an index outside `shape`, too many events for
// one datagram).
std::vector<uint8_t> encode_events(const Events& message, uint16_t flags, const InputShape& shape);

// SPIKES datagrams of one population's spikes in one tick, split so that each is at most `max_bytes` (all but the
// last carry MORE); at least one datagram, empty when no unit spiked. `sequence` is the subscription's counter,
// advanced by one per datagram.
std::vector<std::vector<uint8_t>> encode_spikes(uint32_t& sequence, uint64_t tick, int32_t population,
                                                const std::vector<int32_t>& units,
                                                size_t max_bytes = kMaxDatagramBytes);
std::vector<uint8_t> encode_tick(uint32_t sequence, uint64_t tick, const std::vector<uint64_t>& fields);
std::vector<uint8_t> encode_classification(uint32_t sequence, uint64_t tick, int32_t decision, int32_t label,
                                           uint32_t steps, const std::vector<float>& readout);

// Decodes a SPIKES, TICK or CLASSIFICATION datagram (what a subscriber receives).
Decoded<Output> decode_output(const uint8_t* data, size_t size);

// The sequence distance from `last` to `next` modulo 2^32, as a signed number: +1 is in order, > 1 means
// next - last - 1 datagrams missing so far, <= 0 a duplicate or a reordered datagram.
int64_t sequence_delta(uint32_t last, uint32_t next);

}  // namespace neuroemu::serve::protocol
