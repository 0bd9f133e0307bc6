// The wire protocol against the spec (docs/serve.md, "Protocol"): datagrams built byte by byte here, decoded and
// encoded by serve/protocol.h, and every rejection's reason.
#include <gtest/gtest.h>

#include <cstring>

#include "serve/protocol.h"

namespace neuroemu::serve::protocol {
namespace {

// Little-endian bytes of `v`, appended: the reference encoding, independent of the codec's.
template <class T>
void le(std::vector<uint8_t>& out, T v) {
    for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
}

std::vector<uint8_t> header(uint8_t type, uint16_t flags, uint32_t seq, uint32_t count, uint64_t tick, int32_t aux,
                            uint32_t magic = 0x5645454E, uint8_t version = 1, uint32_t reserved = 0) {
    std::vector<uint8_t> h;
    le(h, magic);
    h.push_back(version);
    h.push_back(type);
    le(h, flags);
    le(h, seq);
    le(h, count);
    le(h, tick);
    le(h, static_cast<uint32_t>(aux));
    le(h, reserved);
    return h;
}

const InputShape kShape{2, 3, 4, 10};  // 24 input neurons, 10 classes

TEST(Protocol, MagicSpellsNEEV) {
    const auto h = header(1, 0, 0, 0, 0, -1);
    EXPECT_EQ(std::string(h.begin(), h.begin() + 4), "NEEV");
    EXPECT_EQ(h.size(), kHeaderBytes);
}

TEST(Protocol, DecodesCyxEvents) {
    auto d = header(1, kLabel | kEnd, 7, 2, 42, 3);
    for (uint16_t v : {1, 2, 3, 0, 0, 1}) le(d, v);  // (1,2,3) and (0,0,1)
    const auto e = decode_events(d.data(), d.size(), kShape);
    ASSERT_TRUE(e.ok()) << e.reason;
    EXPECT_EQ(e.value.sequence, 7u);
    EXPECT_EQ(e.value.tick, 42u);
    EXPECT_EQ(e.value.label, 3);
    EXPECT_EQ(e.value.flags, kLabel | kEnd);
    ASSERT_EQ(e.value.events.size(), 2u);
    EXPECT_EQ(e.value.events[0].index, 1 * 12 + 2 * 4 + 3);
    EXPECT_EQ(e.value.events[0].count, 1);
    EXPECT_EQ(e.value.events[1].index, 1);
}

TEST(Protocol, DecodesFlatEventsWithCounts) {
    auto d = header(1, kFlat | kCounts | kReset, 0xFFFFFFFF, 2, 0, -1);
    le(d, uint32_t{23});
    le(d, uint16_t{65535});
    le(d, uint32_t{0});
    le(d, uint16_t{2});
    const auto e = decode_events(d.data(), d.size(), kShape);
    ASSERT_TRUE(e.ok()) << e.reason;
    EXPECT_EQ(e.value.sequence, 0xFFFFFFFFu);
    EXPECT_EQ(e.value.tick, 0u);
    EXPECT_EQ(e.value.flags, kReset);
    EXPECT_EQ(e.value.label, -1);
    EXPECT_EQ(e.value.events[0].index, 23);
    EXPECT_EQ(e.value.events[0].count, 65535);
    EXPECT_EQ(e.value.events[1].index, 0);
    EXPECT_EQ(e.value.events[1].count, 2);
}

TEST(Protocol, RecordSizesAreTheSpecs) {
    EXPECT_EQ(event_record_bytes(0), 6u);
    EXPECT_EQ(event_record_bytes(kCounts), 8u);
    EXPECT_EQ(event_record_bytes(kFlat), 4u);
    EXPECT_EQ(event_record_bytes(kFlat | kCounts), 6u);
    EXPECT_EQ(max_events_per_datagram(kFlat), (65507u - 32u) / 4u);
}

TEST(Protocol, EncodesEventsByteForByte) {
    Events m;
    m.sequence = 0x01020304;
    m.tick = 0x1122334455667788ull;
    m.label = 9;
    m.events = {{23, 1}, {5, 1}};
    auto expected = header(1, kLabel, 0x01020304, 2, 0x1122334455667788ull, 9);
    for (uint16_t v : {1, 2, 3, 0, 1, 1}) le(expected, v);  // 23 = (1,2,3), 5 = (0,1,1)
    EXPECT_EQ(encode_events(m, kLabel, kShape), expected);
    m.events = {{23, 300}};
    auto flat = header(1, kFlat | kCounts, 0x01020304, 1, 0x1122334455667788ull, -1);
    le(flat, uint32_t{23});
    le(flat, uint16_t{300});
    EXPECT_EQ(encode_events(m, kFlat | kCounts, kShape), flat);
}

TEST(Protocol, EventsRoundTripInEveryLayout) {
    Events m;
    m.sequence = 99;
    m.tick = 5;
    m.events = {{0, 1}, {23, 1}, {12, 1}};
    for (uint16_t layout : {0, int(kFlat)}) {
        const auto bytes = encode_events(m, layout | kEnd, kShape);
        EXPECT_EQ(bytes.size(), 32 + 3 * event_record_bytes(layout));
        const auto d = decode_events(bytes.data(), bytes.size(), kShape);
        ASSERT_TRUE(d.ok()) << d.reason;
        ASSERT_EQ(d.value.events.size(), 3u);
        for (size_t i = 0; i < 3; ++i) EXPECT_EQ(d.value.events[i].index, m.events[i].index);
        EXPECT_EQ(d.value.flags, kEnd);
    }
}

TEST(Protocol, EncodeRefusesWhatTheLayoutCannotCarry) {
    Events m;
    m.events = {{3, 2}};
    EXPECT_THROW(encode_events(m, kFlat, kShape), std::invalid_argument);  // a count without COUNTS
    m.events = {{24, 1}};
    EXPECT_THROW(encode_events(m, kFlat, kShape), std::invalid_argument);  // outside the input
    m.events.assign(max_events_per_datagram(kFlat) + 1, InputSpike{0, 1});
    EXPECT_THROW(encode_events(m, kFlat, kShape), std::invalid_argument);
}

// Each rejection and its reason word.
std::string reason_of(const std::vector<uint8_t>& d) { return decode_events(d.data(), d.size(), kShape).reason; }

TEST(Protocol, RejectsEachMalformedHeader) {
    auto good = header(1, kFlat, 0, 1, 1, -1);
    le(good, uint32_t{3});
    EXPECT_EQ(reason_of(good), "");
    EXPECT_EQ(reason_of(std::vector<uint8_t>(good.begin(), good.begin() + 31)), "too_short");
    EXPECT_EQ(reason_of({}), "too_short");
    auto d = header(1, kFlat, 0, 1, 1, -1, 0x5645454F);
    le(d, uint32_t{3});
    EXPECT_EQ(reason_of(d), "bad_magic");
    d = header(1, kFlat, 0, 1, 1, -1, kMagic, 2);
    le(d, uint32_t{3});
    EXPECT_EQ(reason_of(d), "bad_version");
    for (uint8_t type : {0, 2, 3, 4, 5, 255}) {
        d = header(type, kFlat, 0, 1, 1, -1);
        le(d, uint32_t{3});
        EXPECT_EQ(reason_of(d), "bad_type") << int(type);
    }
    for (uint16_t flags : {kFlat | kMore, kFlat | 0x40, kFlat | 0x8000}) {
        d = header(1, flags, 0, 1, 1, -1);
        le(d, uint32_t{3});
        EXPECT_EQ(reason_of(d), "bad_flags") << flags;
    }
    d = header(1, kFlat, 0, 1, 1, -1, kMagic, 1, 1);
    le(d, uint32_t{3});
    EXPECT_EQ(reason_of(d), "bad_reserved");
}

TEST(Protocol, RejectsLengthsThatDisagreeWithTheCount) {
    auto d = header(1, kFlat, 0, 2, 1, -1);
    le(d, uint32_t{3});
    EXPECT_EQ(reason_of(d), "bad_length");  // one record for a count of 2
    le(d, uint32_t{3});
    le(d, uint8_t{0});
    EXPECT_EQ(reason_of(d), "bad_length");  // a trailing byte
    d = header(1, kFlat, 0, 0xFFFFFFFF, 1, -1);
    EXPECT_EQ(reason_of(d), "bad_length");  // a count that would overflow 32-bit arithmetic
    std::vector<uint8_t> big = header(1, kFlat, 0, 16369, 1, -1);
    big.resize(32 + 16369 * 4);
    EXPECT_EQ(reason_of(big), "too_long");  // 65508 bytes: over the UDP payload limit
}

TEST(Protocol, RejectsAddressesCountsAndLabels) {
    auto d = header(1, kFlat, 0, 2, 1, -1);
    le(d, uint32_t{3});
    le(d, uint32_t{24});  // the input has 24 neurons: the whole datagram goes
    EXPECT_EQ(reason_of(d), "bad_address");
    for (auto cyx : {std::array<uint16_t, 3>{2, 0, 0}, {0, 3, 0}, {0, 0, 4}}) {
        d = header(1, 0, 0, 1, 1, -1);
        for (uint16_t v : cyx) le(d, v);
        EXPECT_EQ(reason_of(d), "bad_address");
    }
    d = header(1, kFlat | kCounts, 0, 1, 1, -1);
    le(d, uint32_t{3});
    le(d, uint16_t{0});
    EXPECT_EQ(reason_of(d), "bad_count");
    d = header(1, kFlat | kLabel, 0, 0, 1, 10);
    EXPECT_EQ(reason_of(d), "bad_label");  // 10 classes: 0..9
    d = header(1, kFlat | kLabel, 0, 0, 1, -1);
    EXPECT_EQ(reason_of(d), "bad_label");
    d = header(1, kFlat, 0, 0, 1, 4);
    EXPECT_EQ(reason_of(d), "bad_aux");  // aux without LABEL must be -1
}

TEST(Protocol, SpikesSplitAtTheDatagramLimit) {
    std::vector<int32_t> units(40000);
    for (size_t i = 0; i < units.size(); ++i) units[i] = static_cast<int32_t>(i * 3);
    uint32_t seq = 0xFFFFFFFE;
    const auto ds = encode_spikes(seq, 77, 5, units);
    ASSERT_EQ(ds.size(), 3u);  // 16368 units per datagram
    EXPECT_EQ(seq, 1u);        // wrapped
    std::vector<uint32_t> back;
    for (size_t k = 0; k < ds.size(); ++k) {
        EXPECT_LE(ds[k].size(), kMaxDatagramBytes);
        const auto o = decode_output(ds[k].data(), ds[k].size());
        ASSERT_TRUE(o.ok()) << o.reason;
        EXPECT_EQ(o.value.type(), Type::spikes);
        EXPECT_EQ(o.value.header.aux, 5);
        EXPECT_EQ(o.value.header.tick, 77u);
        EXPECT_EQ(o.value.header.sequence, static_cast<uint32_t>(0xFFFFFFFEu + k));
        EXPECT_EQ(o.value.header.flags, k + 1 < ds.size() ? kMore : 0);
        back.insert(back.end(), o.value.units.begin(), o.value.units.end());
    }
    ASSERT_EQ(back.size(), units.size());
    for (size_t i = 0; i < units.size(); ++i) EXPECT_EQ(back[i], static_cast<uint32_t>(units[i]));
    seq = 0;
    EXPECT_EQ(encode_spikes(seq, 1, 0, {}).size(), 1u);  // an empty tick still says so
}

TEST(Protocol, SpikesBytesAreTheSpecs) {
    uint32_t seq = 4;
    auto expected = header(2, 0, 4, 2, 9, 3);
    le(expected, uint32_t{7});
    le(expected, uint32_t{70000});
    EXPECT_EQ(encode_spikes(seq, 9, 3, {7, 70000}).front(), expected);
}

TEST(Protocol, TickAndClassificationBytes) {
    auto expected = header(3, 0, 1, 2, 8, 0);
    le(expected, uint64_t{5});
    le(expected, uint64_t(-1));
    EXPECT_EQ(encode_tick(1, 8, {5, uint64_t(-1)}), expected);
    const float r[2] = {1.5f, -2.0f};
    expected = header(4, 0, 2, 4, 8, 6);
    le(expected, uint32_t(-1));
    le(expected, uint32_t{30});
    for (float f : r) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        le(expected, u);
    }
    const auto c = encode_classification(2, 8, 6, -1, 30, {1.5f, -2.0f});
    EXPECT_EQ(c, expected);
    const auto o = decode_output(c.data(), c.size());
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o.value.header.aux, 6);
    EXPECT_EQ(o.value.label, -1);
    EXPECT_EQ(o.value.steps, 30u);
    EXPECT_EQ(o.value.readout, std::vector<float>({1.5f, -2.0f}));
}

TEST(Protocol, OutputDecodeRejects) {
    auto d = header(1, 0, 0, 0, 0, -1);
    EXPECT_EQ(decode_output(d.data(), d.size()).reason, "bad_type");  // EVENTS are not an output
    d = header(3, kMore, 0, 0, 0, 0);
    EXPECT_EQ(decode_output(d.data(), d.size()).reason, "bad_flags");  // MORE only on SPIKES
    d = header(3, 0, 0, 1, 0, 0);
    le(d, uint32_t{1});
    EXPECT_EQ(decode_output(d.data(), d.size()).reason, "bad_length");  // TICK records are 8 bytes
}

TEST(Protocol, SequenceDeltaWraps) {
    EXPECT_EQ(sequence_delta(5, 6), 1);
    EXPECT_EQ(sequence_delta(0xFFFFFFFF, 0), 1);
    EXPECT_EQ(sequence_delta(0xFFFFFFFE, 2), 4);
    EXPECT_EQ(sequence_delta(6, 5), -1);
    EXPECT_EQ(sequence_delta(6, 6), 0);
}

}  // namespace
}  // namespace neuroemu::serve::protocol

namespace neuroemu::serve::protocol {
namespace {

// The example in docs/serve.md, byte for byte.
TEST(Protocol, TheDocumentedExample) {
    const std::vector<uint8_t> doc = {0x4e, 0x45, 0x45, 0x56, 0x01, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00,
                                      0x2c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};
    Events m;
    m.tick = 5;
    m.events = {{23, 300}, {0, 2}};
    EXPECT_EQ(encode_events(m, kFlat | kCounts, kShape), doc);
}

}  // namespace
}  // namespace neuroemu::serve::protocol
