// nir/nir_file: the HDF5 reader and writer on the real fixtures (facts from tests/data/nir/README.md), write ->
// read round trips, and hostile files (truncated, corrupted, not HDF5, malformed NIR) that must give a
// ModelError naming the file, never a crash. The comparison with an independent reader (h5py) is in
// nir_file_h5py_test.cpp.
#include <hdf5.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <tuple>

#include <gtest/gtest.h>

#include "common/error.h"
#include "nir/nir_file.h"
#include "nir_test_util.h"

namespace neuroemu::nir {
namespace {

using test::fixture;
using test::flatten;
using test::temp_path;

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path;
}

const Node& node_named(const Graph& g, const std::string& name) {
    const Node* n = g.find(name);
    if (n == nullptr) throw std::runtime_error("no node " + name);
    return *n;
}

TEST(NirFile, LifNorseHoldsTheReadmeFacts) {
    const File f = read_file(fixture("lif_norse.nir"));
    EXPECT_FALSE(f.version.empty());
    ASSERT_EQ(f.root.type, "NIRGraph");
    const Graph& g = *f.root.graph;
    ASSERT_EQ(g.nodes.size(), 4u);
    // h5py's (and HDF5's) order: by name.
    EXPECT_EQ(g.nodes[0].name, "0");
    EXPECT_EQ(g.nodes[1].name, "1");
    EXPECT_EQ(g.nodes[2].name, "input");
    EXPECT_EQ(g.nodes[3].name, "output");
    const Node& lif = node_named(g, "1");
    EXPECT_EQ(lif.type, "LIF");
    ASSERT_TRUE(lif.has("tau"));
    EXPECT_EQ(lif.params.at("tau").shape, std::vector<int64_t>{1});
    EXPECT_EQ(lif.params.at("tau").values[0], static_cast<double>(0.0025f));  // stored as float32
    EXPECT_FALSE(lif.params.at("tau").float64);
    EXPECT_EQ(lif.params.at("v_threshold").values[0], static_cast<double>(0.1f));
    EXPECT_EQ(lif.params.at("r").values[0], 1.0);
    EXPECT_EQ(lif.params.at("v_leak").values[0], 0.0);
    const Node& affine = node_named(g, "0");
    EXPECT_EQ(affine.type, "Affine");
    EXPECT_EQ(affine.params.at("weight").shape, (std::vector<int64_t>{1, 1}));
    EXPECT_EQ(affine.params.at("weight").values[0], 1.0);
    const Node& input = node_named(g, "input");
    EXPECT_EQ(input.type, "Input");
    EXPECT_TRUE(input.params.at("shape").integer);
    const std::vector<std::pair<std::string, std::string>> edges = {{"input", "0"}, {"0", "1"}, {"1", "output"}};
    EXPECT_EQ(g.edges, edges);
}

TEST(NirFile, BrailleHasSevenEdgesAndARecurrentWeight) {
    const File f = read_file(fixture("braille_noDelay_noBias_subtract.nir"));
    const Graph& g = *f.root.graph;
    EXPECT_EQ(g.edges.size(), 7u);
    const Node& rec = node_named(g, "lif1.w_rec");
    EXPECT_EQ(rec.type, "Linear");
    EXPECT_EQ(rec.params.at("weight").shape, (std::vector<int64_t>{40, 40}));
    EXPECT_EQ(rec.params.at("weight").size(), 1600);
    const Node& lif = node_named(g, "lif1.lif");
    EXPECT_EQ(lif.type, "CubaLIF");
    EXPECT_TRUE(lif.params.at("tau_mem").float64);  // snnTorch writes float64
    EXPECT_EQ(lif.params.at("tau_mem").shape, std::vector<int64_t>{40});
    // The recurrent cycle lif1.lif -> lif1.w_rec -> lif1.lif.
    const auto has_edge = [&](const std::string& a, const std::string& b) {
        return std::find(g.edges.begin(), g.edges.end(), std::make_pair(a, b)) != g.edges.end();
    };
    EXPECT_TRUE(has_edge("lif1.lif", "lif1.w_rec"));
    EXPECT_TRUE(has_edge("lif1.w_rec", "lif1.lif"));
}

TEST(NirFile, CnnSinabsHasScalarIntegersAndFourDimensionalWeights) {
    const File f = read_file(fixture("cnn_sinabs.nir"));
    const Graph& g = *f.root.graph;
    EXPECT_EQ(g.edges.size(), 14u);
    const Node& conv = node_named(g, "0");
    EXPECT_EQ(conv.type, "Conv2d");
    EXPECT_EQ(conv.params.at("weight").shape, (std::vector<int64_t>{16, 2, 5, 5}));
    EXPECT_TRUE(conv.params.at("groups").shape.empty());  // a scalar dataset
    EXPECT_TRUE(conv.params.at("groups").integer);
    EXPECT_EQ(conv.params.at("groups").values, std::vector<double>{1});
    EXPECT_EQ(conv.params.at("stride").values, (std::vector<double>{2, 2}));
}

TEST(NirFile, EveryFixtureRoundTripsThroughWrite) {
    for (const std::string& name : test::fixtures()) {
        const File original = read_file(fixture(name));
        const std::string out = temp_path(name);
        write_file(out, original);
        const File again = read_file(out);
        const auto a = flatten(original), b = flatten(again);
        ASSERT_EQ(a.size(), b.size()) << name;
        for (const auto& [path, x] : a) {
            ASSERT_TRUE(b.count(path)) << name << " " << path;
            const test::Flat& y = b.at(path);
            EXPECT_EQ(x.shape, y.shape) << name << " " << path;
            EXPECT_EQ(x.kind, y.kind) << name << " " << path;
            EXPECT_EQ(x.float64, y.float64) << name << " " << path;
            EXPECT_EQ(x.numbers, y.numbers) << name << " " << path;
            EXPECT_EQ(x.strings, y.strings) << name << " " << path;
        }
        // Node order, names and edge order too (flatten keys are sorted, so check the lists themselves).
        ASSERT_EQ(original.root.graph->nodes.size(), again.root.graph->nodes.size());
        for (size_t i = 0; i < original.root.graph->nodes.size(); ++i)
            EXPECT_EQ(original.root.graph->nodes[i].name, again.root.graph->nodes[i].name) << name;
        EXPECT_EQ(original.root.graph->edges, again.root.graph->edges) << name;
        std::remove(out.c_str());
    }
}

TEST(NirFile, WriteKeepsNestedGraphsMetadataAndEmptyGraphs) {
    File f;
    f.version = "1.0.0";
    f.root.type = "NIRGraph";
    f.root.graph = std::make_shared<Graph>();
    Node inner;
    inner.name = "sub";
    inner.type = "NIRGraph";
    inner.graph = std::make_shared<Graph>();  // empty: no nodes, no edges
    inner.metadata_strings["neuroemu.reset"] = "subtract";
    inner.metadata["neuroemu.level"] = Array{{}, {3}, true, false};
    Node scale;
    scale.name = "s";
    scale.type = "Scale";
    scale.params["scale"] = Array{{2, 3}, {1, -2, 3.5, 1e-3, 0, 7}, false, true};
    scale.strings["note"] = "ünïcode";
    f.root.graph->nodes = {scale, inner};
    f.root.graph->edges = {{"s", "sub"}};
    const std::string out = temp_path("nested.nir");
    write_file(out, f);
    const File g = read_file(out);
    ASSERT_EQ(g.root.graph->nodes.size(), 2u);
    const Node& s = node_named(*g.root.graph, "s");
    EXPECT_EQ(s.params.at("scale").values, scale.params.at("scale").values);  // float64 keeps every bit
    EXPECT_EQ(s.strings.at("note"), "ünïcode");
    const Node& sub = node_named(*g.root.graph, "sub");
    ASSERT_TRUE(sub.graph);
    EXPECT_TRUE(sub.graph->nodes.empty());
    EXPECT_TRUE(sub.graph->edges.empty());
    EXPECT_EQ(sub.metadata_strings.at("neuroemu.reset"), "subtract");
    EXPECT_EQ(sub.metadata.at("neuroemu.level").values, std::vector<double>{3});
    EXPECT_TRUE(sub.metadata.at("neuroemu.level").integer);
    std::remove(out.c_str());
}

TEST(NirFile, WriteRefusesWhatHdf5CannotNameAndLeavesNoFile) {
    File f;
    f.version = "1.0.0";
    f.root.type = "NIRGraph";
    f.root.graph = std::make_shared<Graph>();
    Node bad;
    bad.name = "a/b";
    bad.type = "Linear";
    f.root.graph->nodes = {bad};
    const std::string out = temp_path("bad.nir");
    try {
        write_file(out, f);
        FAIL() << "no error";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("a/b"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::ifstream(out).good());
}

// --------------------------------------------------------------------------------------------- hostile files

void expect_model_error(const std::string& path, const std::string& expect_in_message = "") {
    try {
        read_file(path);
        ADD_FAILURE() << path << ": read without error";
    } catch (const ModelError& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find(path), std::string::npos) << m;
        if (!expect_in_message.empty()) {
            EXPECT_NE(m.find(expect_in_message), std::string::npos) << m;
        }
    }
}

TEST(NirFileHostile, EveryTruncationOfCnnSinabsIsAModelError) {
    const std::string bytes = read_bytes(fixture("cnn_sinabs.nir"));
    ASSERT_GT(bytes.size(), 1000u);
    const std::string path = temp_path("trunc.nir");
    for (int i = 0; i < 40; ++i) {
        const size_t length = bytes.size() * static_cast<size_t>(i) / 40;  // 0 .. 39/40 of the file
        write_bytes(path, bytes.substr(0, length));
        SCOPED_TRACE(length);
        expect_model_error(path);
    }
    std::remove(path.c_str());
}

TEST(NirFileHostile, RandomCorruptionsNeverCrash) {
    const std::string bytes = read_bytes(fixture("cnn_sinabs.nir"));
    const std::string path = temp_path("corrupt.nir");
    std::mt19937 rng(19);
    int errors = 0, reads = 0;
    for (int i = 0; i < 200; ++i) {
        std::string damaged = bytes;
        // Mostly the first 4 KiB (superblock, object headers, B-trees: where damage bites), some anywhere.
        const size_t limit = i % 4 == 0 ? damaged.size() : std::min<size_t>(4096, damaged.size());
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int k = 0; k < flips; ++k) damaged[rng() % limit] = static_cast<char>(rng() & 0xff);
        write_bytes(path, damaged);
        try {
            read_file(path);  // damage in unused bytes or in values may well read
            ++reads;
        } catch (const ModelError& e) {
            ++errors;
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        }
    }
    EXPECT_GT(errors, 0);  // the damage did reach the structure
    std::remove(path.c_str());
}

// Found by fuzzing: one byte of the braille file's /version datatype (the size of a string's character, 1)
// damaged into 0x8e000001 sent HDF5's string conversion into a near-endless memset.
TEST(NirFileHostile, DamagedStringCharacterSize) {
    std::string bytes = read_bytes(fixture("braille_noDelay_noBias_subtract.nir"));
    ASSERT_EQ(bytes[855], 0);
    bytes[855] = static_cast<char>(0x8e);
    const std::string path = temp_path("charsize.nir");
    write_bytes(path, bytes);
    expect_model_error(path, "/version: damaged variable-length string type");
    std::remove(path.c_str());
}

// Found by fuzzing: HDF5 1.10 allocates an object header's chunks at the sizes the file states before reading
// them, so a damaged size made it ask malloc for 17 GB. The address of /version's header comes from HDF5 itself
// (H5Oget_info_by_name); its version 1 prefix keeps the first chunk's size at byte 8 and its messages from byte 16
// as {uint16 type, uint16 size, flags, 3 reserved, data} (HDF5 file format spec, "Object Header Prefix").
TEST(NirFileHostile, DamagedObjectHeaderChunkSizes) {
    const std::string source = fixture("lif_rockpool.nir");
    const hid_t f = H5Fopen(source.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5O_info_t info, root;
    ASSERT_GE(H5Oget_info_by_name2(f, "version", &info, H5O_INFO_BASIC, H5P_DEFAULT), 0);
    ASSERT_GE(H5Oget_info_by_name2(f, "/", &root, H5O_INFO_BASIC, H5P_DEFAULT), 0);
    H5Fclose(f);
    const std::string clean = read_bytes(source);
    const size_t at = static_cast<size_t>(info.addr);  // no user block in the fixture: file offsets
    ASSERT_LT(at + 48, clean.size());
    ASSERT_EQ(clean[at], 1) << "the fixture's /version header is no longer version 1";
    const auto put = [](std::string& b, size_t pos, uint64_t v, int n) {
        for (int i = 0; i < n; ++i) b[pos + i] = static_cast<char>(v >> (8 * i));
    };
    const std::string path = temp_path("object_header.nir");
    std::string bytes = clean;
    put(bytes, at + 8, 0xFFFFFF00u, 4);  // the first chunk: 4 GB
    write_bytes(path, bytes);
    expect_model_error(path, "/version: damaged object header (a chunk of 4294967056 bytes");
    // The fuzzer's shape: a continuation message stating 0 bytes, HDF5 decoding its address and size from the
    // bytes after it anyway: a chunk of 17181909009 bytes at address 0.
    bytes = clean;
    put(bytes, at + 16, 0x10, 2);
    put(bytes, at + 18, 0, 2);
    put(bytes, at + 24, 0, 8);
    put(bytes, at + 32, 17181909009u, 8);
    write_bytes(path, bytes);
    expect_model_error(path, "/version: damaged object header (a chunk of 17181909009 bytes at 0");
    // The root group's header, which H5Fopen itself reads: checked before H5Fopen.
    bytes = clean;
    ASSERT_EQ(clean[static_cast<size_t>(root.addr)], 1);
    put(bytes, static_cast<size_t>(root.addr) + 8, 0xFFFFFF00u, 4);
    write_bytes(path, bytes);
    expect_model_error(path, ": /: damaged object header (a chunk of 4294967056 bytes");
    std::remove(path.c_str());
}

// The address of an object's header, from HDF5 itself.
haddr_t header_of(const std::string& path, const char* name) {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    H5O_info_t info{};
    info.addr = HADDR_UNDEF;
    if (f >= 0) H5Oget_info_by_name2(f, name, &info, H5O_INFO_BASIC, H5P_DEFAULT);
    if (f >= 0) H5Fclose(f);
    return info.addr;
}

// The first message of `type` in a version 1 object header's first chunk (HDF5 file format spec, "Object Header
// Prefix": {version 1, reserved, uint16 messages, uint32 references, uint32 chunk size, 4 reserved}, then messages
// {uint16 type, uint16 size, flags, 3 reserved, data}): where its data starts and its size, or {0, 0}.
std::pair<size_t, size_t> message_of(const std::string& bytes, haddr_t header, int type) {
    const auto u16 = [&](size_t pos) {
        return static_cast<size_t>(static_cast<uint8_t>(bytes[pos]) | static_cast<uint8_t>(bytes[pos + 1]) << 8);
    };
    const auto at = static_cast<size_t>(header);
    if (header == HADDR_UNDEF || at + 16 > bytes.size() || bytes[at] != 1) return {0, 0};
    for (size_t p = at + 16, n = 0; n < u16(at + 2) && p + 8 <= bytes.size(); ++n, p += 8 + u16(p + 2))
        if (static_cast<int>(u16(p)) == type) return {p + 8, u16(p + 2)};
    return {0, 0};
}

// Found by fuzzing: HDF5 1.10 decodes a datatype message without bounds, copying compound and enum member names
// with strdup. The fuzzer turned cnn_sinabs's variable-length string type of /node/nodes/5/type (class byte 0x19)
// into an enum of 257 members (0x28), whose names strdup read past the object header chunk. The same damage here on
// lif_rockpool's /version (its datatype message: type 3).
TEST(NirFileHostile, DamagedDatatypeMessages) {
    const std::string source = fixture("lif_rockpool.nir"), clean = read_bytes(source);
    const auto [at, size] = message_of(clean, header_of(source, "version"), 3);
    ASSERT_EQ(size, 24u) << "no datatype message of 24 bytes in /version's (version 1) header";
    ASSERT_EQ(clean[at], 0x19) << "/version is no longer a variable-length string (class 9, version 1)";
    const std::string path = temp_path("datatype.nir");
    std::string bytes = clean;
    bytes[at] = 0x28;  // an enum (class 8, version 2) of 0x000101 = 257 members: 8 + 12 bytes of uint8 base type,
    write_bytes(path, bytes);  // then an empty name at 20 padded to 28: member 1's name starts past the message
    expect_model_error(path, "/version: damaged datatype (the name of member 1 runs past its message of 24 bytes)");
    bytes = clean;
    bytes[at] = 0x26;  // a compound (class 6, version 2) whose first member's name fills the message, no NUL
    for (size_t i = 8; i < size; ++i) bytes[at + i] = 'x';
    write_bytes(path, bytes);
    expect_model_error(path, "/version: damaged datatype (the name of member 0 runs past its message of 24 bytes)");
    bytes = clean;
    bytes[at] = 0x2a;  // an array (class 10, version 2) of rank 16 (0x10, the base type's first byte)
    write_bytes(path, bytes);
    expect_model_error(path, "/version: damaged datatype (an array type's dimensions beyond its message of 24 bytes)");
    std::remove(path.c_str());
}

// Found by fuzzing: HDF5 1.10 converts numbers bit by bit at the offset and precision their datatype states,
// unchecked: a precision of 0 in an int64 input_shape of cnn_sinabs made the conversion to double read far outside
// the value (SIGBUS in H5T__bit_copy). Here on lif_rockpool's int64 /node/nodes/input/shape and float32
// /node/nodes/1_LIFNeuronTorch/tau, whose datatype messages are {class | version << 4, 3 class bits, uint32 size,
// uint16 bit offset, uint16 precision, float: exponent at, exponent size, mantissa at, mantissa size, uint32 bias}.
TEST(NirFileHostile, DamagedNumberTypes) {
    const std::string source = fixture("lif_rockpool.nir"), clean = read_bytes(source);
    const auto [integer, integer_bytes] = message_of(clean, header_of(source, "/node/nodes/input/shape"), 3);
    const auto [real, real_bytes] = message_of(clean, header_of(source, "/node/nodes/1_LIFNeuronTorch/tau"), 3);
    ASSERT_GE(integer_bytes, 12u);
    ASSERT_EQ(std::string(clean, integer, 12), std::string("\x10\x08\0\0\x08\0\0\0\0\0\x40\0", 12)) << "not an int64";
    ASSERT_GE(real_bytes, 20u);
    ASSERT_EQ(std::string(clean, real + 4, 12), std::string("\x04\0\0\0\0\0\x20\0\x17\x08\0\x17", 12)) << "not a float";
    const std::string path = temp_path("numbers.nir");
    const auto expect = [&](size_t at, char value, const std::string& message) {
        std::string bytes = clean;
        bytes[at] = value;
        write_bytes(path, bytes);
        expect_model_error(path, message);
    };
    const std::string shape = "/node/nodes/input/shape: damaged datatype (a precision of ";
    expect(integer + 10, 0, shape + "0 bits at bit 0 in a number of 8 bytes)");
    expect(integer + 10, 65, shape + "65 bits at bit 0 in a number of 8 bytes)");
    expect(integer + 8, 1, shape + "64 bits at bit 1 in a number of 8 bytes)");
    expect(real + 13, 0, "/node/nodes/1_LIFNeuronTorch/tau: damaged datatype (a floating-point type's sign, exponent");
    expect(real + 14, 10, "/node/nodes/1_LIFNeuronTorch/tau: damaged datatype (a floating-point type's sign, exponent");
    std::remove(path.c_str());
}

// Datasets of every datatype class and of the layouts, fill values and filters HDF5 writes, added to /node of a
// copy of lif_rockpool (the reader walks /node's members; the root's others it never opens), in the oldest encodings
// (HDF5's default: version 1 object headers) or the latest (version 2 headers, version 3 datatypes, version 4
// layouts). Returns the copy's path.
std::string fixture_with_datasets(const std::string& name, bool latest) {
    const std::string path = temp_path(name);
    write_bytes(path, read_bytes(fixture("lif_rockpool.nir")));
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (latest) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
    const hid_t e = H5Tenum_create(H5T_NATIVE_INT16);
    for (short v = 0; v < 3; ++v) H5Tenum_insert(e, v == 0 ? "zero" : v == 1 ? "one_longer_than_eight" : "", &v);
    const hsize_t dims[2] = {2, 3}, four = 4;
    const hid_t a = H5Tarray_create2(H5T_NATIVE_FLOAT, 2, dims), c = H5Tcreate(H5T_COMPOUND, 64);
    H5Tinsert(c, "e", 0, e);
    H5Tinsert(c, "an_array_member", 8, a);
    H5Tinsert(c, "d", 32, H5T_NATIVE_DOUBLE);
    const hid_t o = H5Tcreate(H5T_OPAQUE, 4), v = H5Tvlen_create(c);
    H5Tset_tag(o, "a tag");
    const hid_t scalar = H5Screate(H5S_SCALAR), vector = H5Screate_simple(1, &four, nullptr);
    const hid_t chunked = H5Pcreate(H5P_DATASET_CREATE), compact = H5Pcreate(H5P_DATASET_CREATE);
    const int fill = 7;
    H5Pset_chunk(chunked, 1, &four);
    H5Pset_deflate(chunked, 6);
    H5Pset_fill_value(chunked, H5T_NATIVE_INT, &fill);
    H5Pset_layout(compact, H5D_COMPACT);
    H5Pset_fill_value(compact, H5T_NATIVE_INT, &fill);
    const std::vector<std::tuple<const char*, hid_t, hid_t, hid_t>> datasets{
        {"enum", e, scalar, H5P_DEFAULT},     {"compound", c, scalar, H5P_DEFAULT},
        {"opaque", o, scalar, H5P_DEFAULT},   {"vlen", v, scalar, H5P_DEFAULT},
        {"filtered", H5T_NATIVE_INT, vector, chunked}, {"compact", H5T_NATIVE_INT, vector, compact}};
    for (const auto& [dataset, type, space, dcpl] : datasets) {
        const hid_t d = H5Dcreate2(f, (std::string("/node/") + dataset).c_str(), type, space, H5P_DEFAULT, dcpl,
                                   H5P_DEFAULT);
        EXPECT_GE(d, 0) << dataset;
        H5Dclose(d);
    }
    for (hid_t id : {e, a, c, o, v}) H5Tclose(id);
    for (hid_t id : {chunked, compact, fapl}) H5Pclose(id);
    H5Sclose(scalar);
    H5Sclose(vector);
    H5Fclose(f);
    return path;
}

// The header walk accepts what HDF5 itself writes: such a file fails, if at all, on the NIR structure, never as
// damaged.
TEST(NirFileHostile, MessagesHdf5WritesAreNotDamaged) {
    for (const bool latest : {false, true}) {
        const std::string path = fixture_with_datasets(latest ? "types_latest.nir" : "types_earliest.nir", latest);
        try {
            read_file(path);
        } catch (const ModelError& err) {
            EXPECT_EQ(std::string(err.what()).find("damaged"), std::string::npos) << err.what();
        }
        std::remove(path.c_str());
    }
}

// A compact dataset HDF5 writes is read: lif_rockpool's tau (float32, {1}) written again in a compact layout.
TEST(NirFileHostile, CompactDatasetsAreRead) {
    const std::string path = temp_path("compact.nir");
    write_bytes(path, read_bytes(fixture("lif_rockpool.nir")));
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const char* tau = "/node/nodes/1_LIFNeuronTorch/tau";
    ASSERT_GE(H5Ldelete(f, tau, H5P_DEFAULT), 0);
    const hsize_t one = 1;
    const float value = 0.125f;
    const hid_t space = H5Screate_simple(1, &one, nullptr), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_COMPACT);
    const hid_t d = H5Dcreate2(f, tau, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value), 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
    const File file = read_file(path);
    EXPECT_EQ(node_named(*file.root.graph, "1_LIFNeuronTorch").params.at("tau").values, std::vector<double>{0.125});
    std::remove(path.c_str());
}

// HDF5 1.10 decodes the other messages a dataset's opening reads without bounds too (a compact dataset's data, a
// fill value, a filter's name at the sizes they state), and follows external file lists and virtual layouts to
// other files: each damaged here in a message found from the spec (message_of) and HDF5's header addresses.
TEST(NirFileHostile, DamagedDatasetMessages) {
    const std::string source = fixture("lif_rockpool.nir"), clean = read_bytes(source);
    const haddr_t version = header_of(source, "version");
    const auto [layout, layout_bytes] = message_of(clean, version, 8);
    const auto [fill, fill_bytes] = message_of(clean, version, 5);
    ASSERT_GE(layout_bytes, 2u);
    ASSERT_EQ(clean[layout], 3) << "/version's layout message is no longer version 3";
    ASSERT_GE(fill_bytes, 8u);
    ASSERT_EQ(clean[fill], 2) << "/version's fill value message is no longer version 2";
    const std::string path = temp_path("messages.nir");
    const auto expect = [&](const std::function<void(std::string&)>& damage, const std::string& message) {
        std::string bytes = clean;
        damage(bytes);
        write_bytes(path, bytes);
        expect_model_error(path, message);
    };
    // compact (class 0) data of 65535 bytes in a message of a few
    expect([&](std::string& b) { b[layout + 1] = 0, b[layout + 2] = b[layout + 3] = '\xff'; },
           "/version: damaged layout message (it runs past its " + std::to_string(layout_bytes) + " bytes)");
    expect([&](std::string& b) { b[layout + 1] = 3; }, "/version: damaged layout message (a virtual dataset");
    // compact data of 0 bytes for the one string of {uint32 length, 8-byte heap address, uint32 index}
    expect([&](std::string& b) { b[layout + 1] = b[layout + 2] = b[layout + 3] = 0; },
           "/version: damaged compact dataset (0 bytes stored for 1 values of 16 bytes)");
    // a fill value defined (byte 3) of 2^20 bytes
    expect([&](std::string& b) { b[fill + 3] = 1, b[fill + 4] = b[fill + 5] = 0, b[fill + 6] = 0x10, b[fill + 7] = 0; },
           "/version: damaged fill value message (it runs past its " + std::to_string(fill_bytes) + " bytes)");
    expect([&](std::string& b) { b[fill - 8] = 7; }, "/version: data in external files");
    // the deflate filter's name ("deflate", NUL, in 8 bytes after {version 1, 1 filter, 6 reserved, id, name
    // length, flags, values}) without its NUL
    const std::string added = fixture_with_datasets("filtered.nir", false), with_filter = read_bytes(added);
    const auto [pipeline, pipeline_bytes] = message_of(with_filter, header_of(added, "/node/filtered"), 0x0B);
    ASSERT_GE(pipeline_bytes, 24u);
    ASSERT_EQ(with_filter.substr(pipeline + 16, 8), std::string("deflate\0", 8));
    std::string bytes = with_filter;
    bytes[pipeline + 23] = 'x';
    write_bytes(path, bytes);
    expect_model_error(path, "/node/filtered: damaged filter pipeline message (the name of filter 0 runs past its 8");
    std::remove(added.c_str());
    std::remove(path.c_str());
}

TEST(NirFileHostile, EmptyTextAndMissingFiles) {
    const std::string path = temp_path("x.nir");
    write_bytes(path, "");
    expect_model_error(path, "not an HDF5 file");
    write_bytes(path, "input -> 0 -> output\nthis is not HDF5\n");
    expect_model_error(path, "not an HDF5 file");
    std::remove(path.c_str());
    expect_model_error(path, "cannot read");
}

// A valid small file (written by write_file), then damaged with the HDF5 C API by `mutate`.
std::string mutated(const std::string& tag, const std::function<void(hid_t)>& mutate) {
    File f;
    f.version = "1.0.0";
    f.root.type = "NIRGraph";
    f.root.graph = std::make_shared<Graph>();
    Node lin;
    lin.name = "a";
    lin.type = "Linear";
    lin.params["weight"] = Array{{2, 2}, {1, 2, 3, 4}, false, false};
    f.root.graph->nodes = {lin};
    const std::string path = temp_path(tag + ".nir");
    write_file(path, f);
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    mutate(file);
    H5Fclose(file);
    return path;
}

void write_strings(hid_t loc, const char* name, std::vector<hsize_t> dims, std::vector<const char*> values) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    const hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Tclose(type);
}

TEST(NirFileHostile, MalformedNirStructure) {
    struct Case {
        const char* tag;
        std::function<void(hid_t)> mutate;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"no_version", [](hid_t f) { H5Ldelete(f, "version", H5P_DEFAULT); }, "/version: missing"},
        {"no_node", [](hid_t f) { H5Ldelete(f, "node", H5P_DEFAULT); }, "/node: missing"},
        {"node_without_type", [](hid_t f) { H5Ldelete(f, "node/nodes/a/type", H5P_DEFAULT); },
         "/node/nodes/a/type: missing"},
        {"root_without_type", [](hid_t f) { H5Ldelete(f, "node/type", H5P_DEFAULT); }, "/node/type: missing"},
        {"edges_of_shape_3",
         [](hid_t f) {
             H5Ldelete(f, "node/edges", H5P_DEFAULT);
             write_strings(f, "node/edges", {3}, {"a", "b", "c"});
         },
         "/node/edges: expected N x 2 strings"},
        {"edges_of_numbers",
         [](hid_t f) {
             H5Ldelete(f, "node/edges", H5P_DEFAULT);
             const hsize_t dims[2] = {1, 2};
             const hid_t space = H5Screate_simple(2, dims, nullptr);
             const hid_t d = H5Dcreate2(f, "node/edges", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
             H5Dclose(d);
             H5Sclose(space);
         },
         "/node/edges: expected N x 2 strings"},
        {"strings_as_weight",
         [](hid_t f) {
             H5Ldelete(f, "node/nodes/a/weight", H5P_DEFAULT);
             write_strings(f, "node/nodes/a/weight", {2}, {"1", "2"});
         },
         "/node/nodes/a/weight: expected one string"},
        {"compound",
         [](hid_t f) {
             const hid_t type = H5Tcreate(H5T_COMPOUND, 16);
             H5Tinsert(type, "x", 0, H5T_IEEE_F64LE);
             H5Tinsert(type, "y", 8, H5T_IEEE_F64LE);
             const hsize_t dims[1] = {3};
             const hid_t space = H5Screate_simple(1, dims, nullptr);
             const hid_t d = H5Dcreate2(f, "node/nodes/a/bias", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
             H5Dclose(d);
             H5Sclose(space);
             H5Tclose(type);
         },
         "/node/nodes/a/bias: expected numbers or a string, found a compound"},
        {"huge",
         [](hid_t f) {
             // 10^12 float32 values declared, none written: the reader must refuse before allocating.
             const hsize_t dims[2] = {1000000, 1000000};
             const hsize_t max_dims[2] = {H5S_UNLIMITED, H5S_UNLIMITED};
             const hsize_t chunk[2] = {64, 64};
             const hid_t space = H5Screate_simple(2, dims, max_dims);
             const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
             H5Pset_chunk(dcpl, 2, chunk);
             const hid_t d = H5Dcreate2(f, "node/nodes/a/bias", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
             EXPECT_GE(d, 0);
             H5Dclose(d);
             H5Pclose(dcpl);
             H5Sclose(space);
         },
         "/node/nodes/a/bias: declares more than"},
        {"root_not_a_graph",
         [](hid_t f) {
             H5Ldelete(f, "node/type", H5P_DEFAULT);
             const hid_t type = H5Tcopy(H5T_C_S1);
             H5Tset_size(type, H5T_VARIABLE);
             const hid_t space = H5Screate(H5S_SCALAR);
             const hid_t d = H5Dcreate2(f, "node/type", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
             const char* value = "LIF";
             H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
             H5Dclose(d);
             H5Sclose(space);
             H5Tclose(type);
         },
         "expected \"NIRGraph\""},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.tag);
        const std::string path = mutated(c.tag, c.mutate);
        expect_model_error(path, c.message);
        std::remove(path.c_str());
    }
}

// Fixed-length strings (other writers than h5py's defaults) and an empty graph's edges of shape (0,) read too.
TEST(NirFile, FixedLengthStringsAndEmptyEdgesRead) {
    const auto fixed_strings = [](hid_t loc, const char* name, std::vector<hsize_t> dims, const std::string& bytes,
                                  size_t size) {
        H5Ldelete(loc, name, H5P_DEFAULT);
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_size(type, size);
        H5Tset_strpad(type, H5T_STR_NULLPAD);
        const hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                                         : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
        const hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        EXPECT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), 0);
        H5Dclose(d);
        H5Sclose(space);
        H5Tclose(type);
    };
    const std::string path = mutated("fixed", [&](hid_t f) {
        fixed_strings(f, "version", {}, std::string("0.2.0\0\0\0", 8), 8);
        fixed_strings(f, "node/edges", {1, 2}, std::string("a\0\0\0a\0\0\0", 8), 4);
        fixed_strings(f, "node/nodes/a/type", {}, "Linear", 6);  // exactly full: no terminator
    });
    const File file = read_file(path);
    EXPECT_EQ(file.version, "0.2.0");
    EXPECT_EQ(file.root.graph->edges, (std::vector<std::pair<std::string, std::string>>{{"a", "a"}}));
    EXPECT_EQ(file.root.graph->nodes.at(0).type, "Linear");
    std::remove(path.c_str());
    const std::string empty = mutated("empty_edges", [](hid_t f) {
        H5Ldelete(f, "node/edges", H5P_DEFAULT);
        write_strings(f, "node/edges", {0}, {});
    });
    EXPECT_TRUE(read_file(empty).root.graph->edges.empty());
    std::remove(empty.c_str());
}

TEST(NirFileHostile, LimitsOnDepthAndNodes) {
    // Graphs nested 5 deep against max_depth 3, and 4 nodes against max_nodes 3.
    File f;
    f.version = "1.0.0";
    f.root.type = "NIRGraph";
    f.root.graph = std::make_shared<Graph>();
    Graph* g = f.root.graph.get();
    for (int level = 0; level < 5; ++level) {
        Node n;
        n.name = "g" + std::to_string(level);
        n.type = "NIRGraph";
        n.graph = std::make_shared<Graph>();
        g->nodes.push_back(n);
        g = g->nodes.back().graph.get();
    }
    const std::string path = temp_path("deep.nir");
    write_file(path, f);
    EXPECT_NO_THROW(read_file(path));
    ReadLimits shallow;
    shallow.max_depth = 3;
    EXPECT_THROW(read_file(path, shallow), ModelError);
    ReadLimits few;
    few.max_nodes = 3;
    EXPECT_THROW(read_file(path, few), ModelError);
    ReadLimits tiny;
    tiny.max_values_per_dataset = 3;
    EXPECT_THROW(read_file(fixture("lif_norse.nir"), tiny), ModelError);
    std::remove(path.c_str());
}

}  // namespace
}  // namespace neuroemu::nir
