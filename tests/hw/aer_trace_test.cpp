// AER traces without a chip: the writer and reader against a real mapping, unicast copies folded into events, and
// every kind of bad file giving a DataError that names the file and the record or byte (and never a crash).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <random>

#include "common/error.h"
#include "fixture.h"
#include "hw/aer_trace.h"
#include "tests/support/full_disk.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
using test::temp_path;

// The mapping of the shipped ResNet-8, and a core of its first layer that sends to at least two cores.
struct TraceSetup {
    Mapping m;
    int32_t core = -1;
    int32_t host = 0;
};

const TraceSetup& setup() {
    static const TraceSetup s = [] {
        TraceSetup r;
        const test::Fixture f = test::shipped_resnet8(1);
        r.m = map_network(f.model, ChipSpec{}, MapOptions{});
        r.host = static_cast<int32_t>(r.m.cores.size());
        for (size_t k = 0; k < r.m.cores.size() && r.core < 0; ++k)
            if (r.m.routes.offset[k + 1] - r.m.routes.offset[k] >= 2) r.core = static_cast<int32_t>(k);
        return r;
    }();
    return s;
}

AerRecord record(int64_t tick, int64_t cycle, int32_t source, int32_t layer, int32_t c, int32_t y, int32_t x, int32_t dest) {
    AerRecord r;
    r.tick = tick, r.cycle = cycle, r.source = source, r.layer = layer, r.c = c, r.y = y, r.x = x, r.dest = dest;
    return r;
}

// Two steps of one image: a host pixel and a multicast spike at tick 0, a unicast spike (two packets) at tick 1.
std::string write_valid(const std::string& path) {
    const TraceSetup& s = setup();
    const Core& c = s.m.cores[static_cast<size_t>(s.core)];
    const int32_t d0 = s.m.routes.dest[static_cast<size_t>(s.m.routes.offset[static_cast<size_t>(s.core)])];
    const int32_t d1 = s.m.routes.dest[static_cast<size_t>(s.m.routes.offset[static_cast<size_t>(s.core)]) + 1];
    const auto c0 = static_cast<int32_t>(c.c0), y0 = static_cast<int32_t>(c.y0), x0 = static_cast<int32_t>(c.x0);
    AerWriter w(path, s.m);
    w.begin(2);
    w.write(record(0, 0, s.host, -1, 0, 5, 6, -1));
    w.write(record(0, 10, s.core, c.layer, c0, y0, x0, -1));
    w.write(record(1, 50, s.core, c.layer, c0, y0, x0 + 1 < c.x1 ? x0 + 1 : x0, d0));
    w.write(record(1, 51, s.core, c.layer, c0, y0, x0 + 1 < c.x1 ? x0 + 1 : x0, d1));
    w.close(2);
    return test::file_bytes(path);
}

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

// A raw record: the fields as stored (tick field = zigzag(delta) + 1, layer + 1, dest + 1).
std::string raw(uint64_t tick_field, uint64_t cycle_delta, uint64_t source, uint64_t layer1, uint64_t unit, uint64_t dest1) {
    std::string s;
    for (uint64_t v : {tick_field, cycle_delta, source, layer1, unit, dest1}) put_varint(s, v);
    return s;
}

// `body` (header and records) closed by the end marker, the totals and the CRC-32 of everything before it.
std::string sealed(const std::string& body, uint64_t ticks, uint64_t packets) {
    std::string s = body + std::string(1, '\0');
    for (uint64_t v : {ticks, packets})
        for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size()));
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
    return s;
}

// Reads `bytes` as a trace file; the DataError message, or "" when it is valid.
std::string read_error(const std::string& path, const std::string& bytes) {
    test::write_bytes(path, bytes);
    try {
        AerReader r(path);
        r.scan(setup().m);
        RecordedImage image;
        while (r.next_image(image)) {
        }
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}

// The unit index of (c, y, x) in layer `l`.
uint64_t unit_of(const Mapping& m, int32_t l, int64_t c, int64_t y, int64_t x) {
    const MapLayer& L = m.graph.layers[static_cast<size_t>(l)];
    return static_cast<uint64_t>((c * L.height + y) * L.width + x);
}

TEST(AerTrace, WrittenAndReadBackWithUnicastCopiesFolded) {
    const TraceSetup& s = setup();
    ASSERT_GE(s.core, 0);
    for (const std::string name : {"valid.aer", "valid.aer.gz"}) {
        const std::string path = temp_path(name);
        const std::string bytes = write_valid(path);
        if (name.size() > 9)
            EXPECT_EQ(static_cast<unsigned char>(bytes.at(0)), 0x1f) << "gzip";
        else
            EXPECT_EQ(bytes.substr(0, 8), "NEUROAER");
        AerReader r(path);
        EXPECT_EQ(r.header().version, kAerVersion);
        EXPECT_EQ(r.header().steps, 2u);
        EXPECT_TRUE(r.recorded_with_tree());
        const AerSummary sum = r.scan(s.m);
        EXPECT_EQ(sum.images, 1);
        EXPECT_EQ(sum.ticks, 2);
        EXPECT_EQ(sum.packets, 4);
        EXPECT_EQ(sum.events, 3);  // the two unicast packets are one event
        RecordedImage image;
        ASSERT_TRUE(r.next_image(image));
        EXPECT_EQ(image.packets, 4);
        ASSERT_EQ(image.events.size(), 2u);
        ASSERT_EQ(image.events[0].size(), 2u);
        EXPECT_EQ(image.events[0][0].source, s.core);  // grouped by source: cores first, the host last
        EXPECT_EQ(image.events[0][1].source, s.host);
        EXPECT_EQ(image.events[0][1].e.y, 5);
        EXPECT_EQ(image.events[0][1].e.x, 6);
        EXPECT_EQ(image.events[1].size(), 1u);
        EXPECT_FALSE(r.next_image(image));
        std::remove(path.c_str());
    }
}

// Files in the temporary directory whose names start with `path`'s: the final file and any temporary beside it.
std::vector<std::string> files_named_like(const std::string& path) {
    namespace fs = std::filesystem;
    const std::string stem = fs::path(path).filename().string();
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(fs::path(path).parent_path()))
        if (e.path().filename().string().rfind(stem, 0) == 0) out.push_back(e.path().string());
    return out;
}

// Host events at successive cycles: 48 bytes of header and about 6 per record, enough to pass any small file limit.
void write_host_records(AerWriter& w, int64_t n) {
    w.begin(1);
    for (int64_t i = 0; i < n; ++i) w.write(record(0, i, setup().host, -1, 0, 5, 6, -1));
}

TEST(AerTrace, AnUnclosedTraceLeavesNoFileUnderTheFinalName) {
    for (const std::string name : {"unclosed.aer", "unclosed.aer.gz"}) {
        const std::string path = temp_path(name);
        {
            AerWriter w(path, setup().m);
            write_host_records(w, 1000);
            EXPECT_TRUE(files_named_like(path).size() == 1 && files_named_like(path)[0] != path)
                << "streams to one temporary name";
        }  // destroyed without close(): as when a run fails part way
        EXPECT_TRUE(files_named_like(path).empty()) << name;
        write_valid(path);  // closed: the whole file appears under its name, alone
        EXPECT_EQ(files_named_like(path), std::vector<std::string>{path});
        std::remove(path.c_str());
    }
}

TEST(AerTrace, FullDiskNamesTheFileAndLeavesNothing) {
    // A 64 KiB file-size limit stands in for a full disk (tests/support/full_disk.h).
    const std::string path = temp_path("full.aer");
    setup();  // the mapping, before the fork
    EXPECT_EQ(test::full_disk_error(1 << 16,
                                    [&] {
                                        AerWriter w(path, setup().m);
                                        write_host_records(w, 1 << 20);
                                        w.close(1);
                                    },
                                    {"cannot write the AER trace " + path + ": " + std::strerror(EFBIG)}),
              0)
        << test::kFullDiskCodes;
    EXPECT_TRUE(files_named_like(path).empty());
}

TEST(AerTrace, BadFilesNameTheFileAndTheRecord) {
    const TraceSetup& s = setup();
    const std::string path = temp_path("bad.aer");
    const std::string valid = write_valid(path);
    const std::string header = valid.substr(0, kAerHeaderBytes);
    const Core& c = s.m.cores[static_cast<size_t>(s.core)];
    const uint64_t unit = unit_of(s.m, c.layer, c.c0, c.y0, c.x0);
    const auto layer1 = static_cast<uint64_t>(c.layer + 1);
    const auto core = static_cast<uint64_t>(s.core);
    auto expect = [&](const std::string& bytes, const std::string& what) {
        const std::string e = read_error(path, bytes);
        EXPECT_THAT(e, HasSubstr("AER trace " + path + ": ")) << what;
        EXPECT_THAT(e, HasSubstr(what));
    };
    EXPECT_EQ(read_error(path, valid), "");

    expect("", "truncated header (0 of 40 bytes)");
    expect(header.substr(0, 20), "truncated header (20 of 40 bytes)");
    std::string magic = valid;
    magic[3] = 'X';
    expect(magic, "not a neuroemu AER trace");
    expect("GARBAGE", "not a neuroemu AER trace");
    std::string version = valid;
    version[8] = 7;
    expect(version, "format version 7; this neuroemu reads version 1");
    // Cut inside the first record, after the last record, inside the trailer.
    expect(valid.substr(0, kAerHeaderBytes + 2), "record 1 (byte 40): the file ends inside the record");
    expect(header + raw(1, 0, core, layer1, unit, 0), "truncated: the file ends after record 1");
    expect(valid.substr(0, valid.size() - 3), "truncated: the file ends inside the trailer");
    // Records that do not fit the mapping.
    const uint64_t cores = s.m.cores.size(), layers = s.m.graph.layers.size();
    expect(sealed(header + raw(1, 0, cores + 3, layer1, unit, 0), 2, 1),
           "record 1 (byte 40): source core " + std::to_string(cores + 3) + " does not exist");
    expect(sealed(header + raw(1, 0, core, layers + 5, 0, 0), 2, 1),
           "record 1 (byte 40): source layer " + std::to_string(layers + 4) + " does not exist");
    expect(sealed(header + raw(1, 0, core, layer1, unit, cores + 9), 2, 1),
           "destination core " + std::to_string(cores + 8) + " does not exist");
    expect(sealed(header + raw(1, 0, core, layer1 + 1, 0, 0), 2, 1), "source core " + std::to_string(core) + " belongs to layer " + std::to_string(c.layer));
    expect(sealed(header + raw(1, 0, cores, layer1, 0, 0), 2, 1), "the host (source");
    const MapLayer& L = s.m.graph.layers[static_cast<size_t>(c.layer)];
    expect(sealed(header + raw(1, 0, core, layer1, static_cast<uint64_t>(L.units()), 0), 2, 1), "does not exist: layer");
    if (c.c1 < L.channels || c.y1 < L.height || c.x1 < L.width) {
        const uint64_t outside = unit_of(s.m, c.layer, c.c1 < L.channels ? c.c1 : c.c0, c.y1 < L.height ? c.y1 : c.y0,
                                         c.x1 < L.width ? c.x1 : c.x0);
        expect(sealed(header + raw(1, 0, core, layer1, outside, 0), 2, 1), "is not in source core " + std::to_string(core));
    }
    // Ticks out of order: tick 1, then tick 0 (zigzag(-1) + 1 = 2).
    const std::string first = raw(3, 0, core, layer1, unit, 0);
    expect(sealed(header + first + raw(2, 1, core, layer1, unit, 0), 2, 2),
           "record 2 (byte " + std::to_string(kAerHeaderBytes + first.size()) + "): ticks out of order: tick 0 after tick 1");
    // The trailer must agree with the records and end the file.
    expect(sealed(header + first, 2, 5), "counts 5 packets, the file holds 1");
    expect(sealed(header + first, 3, 1), "counts 3 ticks, not a whole number of images of 2 steps");
    expect(sealed(header + raw(9, 0, core, layer1, unit, 0), 2, 1), "but a record belongs to tick 4");
    expect(sealed(header + first, 2, 1) + "x", "unexpected bytes after the trailer");
    expect(header + std::string(12, '\xff'), "is not a valid number");
    std::string damaged = valid;
    damaged[kAerHeaderBytes + 1] = 5;  // the first record's cycle: still a valid record
    expect(damaged, "the file is damaged: its CRC-32 is");
    // Written on another partition of the network.
    {
        const test::Fixture f = test::shipped_resnet8(1);
        ChipSpec small;
        small.core.neurons = 128;
        const Mapping other = map_network(f.model, small, MapOptions{});
        test::write_bytes(path, valid);
        AerReader r(path);
        try {
            r.scan(other);
            FAIL() << "expected DataError";
        } catch (const DataError& e) {
            EXPECT_THAT(e.what(), HasSubstr(path));
            EXPECT_THAT(e.what(), ::testing::AnyOf(HasSubstr("different partition"), HasSubstr("recorded on a mapping of")));
        }
    }
    std::remove(path.c_str());
}

// Every prefix of a valid file and random byte damage: a DataError or a valid read, never a crash or a hang.
TEST(AerTrace, DamagedFilesNeverCrash) {
    const std::string path = temp_path("damaged.aer");
    const std::string valid = write_valid(path);
    for (size_t n = 0; n < valid.size(); ++n) EXPECT_NE(read_error(path, valid.substr(0, n)), "") << n;
    std::mt19937 rng(5);
    for (int trial = 0; trial < 300; ++trial) {
        std::string bytes = valid;
        const int flips = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
        read_error(path, bytes);  // either outcome; ASan/UBSan watch the rest
    }
    // A damaged gzip stream.
    const std::string gz = temp_path("damaged.aer.gz");
    const std::string packed = write_valid(gz);
    EXPECT_THAT(read_error(gz, packed.substr(0, packed.size() - 12)), HasSubstr(gz));
    std::remove(path.c_str());
    std::remove(gz.c_str());
}

}  // namespace
}  // namespace neuroemu
