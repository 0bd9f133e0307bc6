// Fuzzing regressions (issue 20): every input in tests/data/fuzz/<target>/ (a minimised crash reproducer that
// bench/fuzz.sh found, kept after the fix) goes through the same entry point as the libFuzzer target
// fuzz/<target>_fuzz.cpp, compiled here with g++ and without libFuzzer: it must return, having either parsed the
// input or thrown one of the documented errors the entry point swallows. Under the ASan/UBSan build of the suite a
// memory or undefined-behaviour error fails the test as it did the fuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/idx_dataset.h"
#include "fuzz/fuzz_target.h"
#include "nir/nir_file.h"

namespace fs = std::filesystem;

namespace {

using Entry = int (*)(const uint8_t*, size_t);

const std::map<std::string, Entry>& targets() {
    static const std::map<std::string, Entry> t = {
        {"onnx", neuroemu::fuzz::onnx},   {"snn", neuroemu::fuzz::snn},     {"map", neuroemu::fuzz::map},
        {"nir", neuroemu::fuzz::nir},     {"config", neuroemu::fuzz::config}, {"idx", neuroemu::fuzz::idx},
        {"cifar", neuroemu::fuzz::cifar}, {"image", neuroemu::fuzz::image}, {"datagram", neuroemu::fuzz::datagram}, {"control", neuroemu::fuzz::control},
        {"aer", neuroemu::fuzz::aer},     {"sweep", neuroemu::fuzz::sweep}};
    return t;
}

const fs::path kCases = fs::path(NEUROEMU_SOURCE_DIR) / "tests" / "data" / "fuzz";

std::vector<uint8_t> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> files;
    if (fs::is_directory(dir))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

// The files the entry points wrote for this process (fuzz_target.h temp_file), removed after each target.
void remove_temp_files() {
    const fs::path dir = fs::path(neuroemu::fuzz::temp_file(nullptr, 0, ".probe")).parent_path();
    const std::string prefix = "neuroemu_fuzz_" + std::to_string(::getpid());
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove(e.path());
}

// Replays every file of one target's folder; the failure names the file.
void replay(const std::string& target) {
    const Entry entry = targets().at(target);
    for (const fs::path& file : files_in(kCases / target)) {
        SCOPED_TRACE(file.string());
        const std::vector<uint8_t> bytes = read_bytes(file);
        EXPECT_EQ(entry(bytes.data(), bytes.size()), 0);
    }
    remove_temp_files();
}

}  // namespace

// A folder that names no target would be skipped silently: its reproducers would protect nothing.
TEST(FuzzReplay, EveryFolderNamesATarget) {
    for (const auto& e : fs::directory_iterator(kCases)) {
        if (e.is_directory()) {
            EXPECT_TRUE(targets().count(e.path().filename().string())) << e.path();
        }
    }
}

// The committed seeds that drive the targets are themselves valid inputs of each entry point.
TEST(FuzzReplay, SeedsRunThroughTheirTargets) {
    const fs::path seeds = fs::path(NEUROEMU_SOURCE_DIR) / "fuzz" / "seeds";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"snn", "tiny.snn"}, {"map", "tiny.map"}, {"aer", "tiny.aer"}, {"aer", "tiny.aer.gz"}, {"config", "tiny.yaml"}};
    for (const auto& [target, name] : cases) {
        SCOPED_TRACE(name);
        const std::vector<uint8_t> bytes = read_bytes(seeds / name);
        ASSERT_FALSE(bytes.empty());
        EXPECT_EQ(targets().at(target)(bytes.data(), bytes.size()), 0);
    }
    remove_temp_files();
}

TEST(FuzzReplay, Onnx) { replay("onnx"); }
TEST(FuzzReplay, Snn) { replay("snn"); }
TEST(FuzzReplay, Map) { replay("map"); }
TEST(FuzzReplay, Nir) { replay("nir"); }
TEST(FuzzReplay, Config) { replay("config"); }
TEST(FuzzReplay, Sweep) { replay("sweep"); }
TEST(FuzzReplay, Idx) { replay("idx"); }
TEST(FuzzReplay, Cifar) { replay("cifar"); }
TEST(FuzzReplay, Image) { replay("image"); }
TEST(FuzzReplay, Datagram) { replay("datagram"); }
TEST(FuzzReplay, Control) { replay("control"); }
TEST(FuzzReplay, Aer) { replay("aer"); }

// What the fixed findings now say, on inputs built here from their description rather than the fuzzer's bytes.
namespace {

std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (fs::path(testing::TempDir()) / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return path;
}

std::vector<uint8_t> be32s(std::initializer_list<uint32_t> words) {
    std::vector<uint8_t> out;
    for (uint32_t w : words)
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(w >> shift));
    return out;
}

// Reading the NIR file `path` fails with a ModelError naming the file and holding `what`.
void expect_nir_refused(const std::string& path, const std::string& what) {
    try {
        neuroemu::nir::read_file(path);
        FAIL() << "expected a ModelError";
    } catch (const neuroemu::ModelError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
}

// nir: an int64's datatype stating a precision of 0 bits (the fuzzer's damage to an input_shape of cnn_sinabs,
// applied to lif_rockpool): libhdf5 1.10 converted it to double bit by bit far outside the value (SIGBUS); now
// refused before HDF5 reads it.
TEST(FuzzFindings, NirIntegerOfZeroBitsIsAModelError) {
    const std::string path = (kCases / "nir" / "integer_precision_zero").string();
    expect_nir_refused(path, "damaged datatype (a precision of 0 bits");
}

// nir: /node/edges's layout turned compact with 0 bytes of data (the fuzzer's damage to the braille fixture, applied
// to lif_rockpool): libhdf5 1.10 copied the 3 x 2 strings' references from a null pointer; now refused before H5Dread.
TEST(FuzzFindings, NirCompactDatasetOfZeroBytesIsAModelError) {
    const std::string path = (kCases / "nir" / "compact_layout_of_zero_bytes").string();
    expect_nir_refused(path, "/node/edges: damaged compact dataset (0 bytes stored for 6 values");
}

}  // namespace

// idx: 2^32 - 1 images of 65536 x 65536 bytes (2^64 - 2^32 bytes in all: past int64) is refused by name.
TEST(FuzzFindings, IdxRecordCountTimesSizePastInt64IsADataError) {
    const std::string images = write_file("overflow-images.idx", be32s({0x803, 0xFFFFFFFFu, 65536, 65536}));
    const std::string labels = write_file("overflow-labels.idx", be32s({0x801, 0xFFFFFFFFu}));
    try {
        neuroemu::load_idx(images, labels);
        FAIL() << "expected a DataError";
    } catch (const neuroemu::DataError& e) {
        EXPECT_NE(std::string(e.what()).find(images), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("4294967295 images of 4294967296 bytes"), std::string::npos) << e.what();
    }
}

// nir: a superblock (version 0: base address at byte 24) whose base address is not where the superblock lies.
TEST(FuzzFindings, NirSuperblockBaseAddressOtherThanItsPositionIsAModelError) {
    std::vector<uint8_t> bytes = read_bytes(fs::path(NEUROEMU_SOURCE_DIR) / "tests/data/nir/cnn_sinabs.nir");
    ASSERT_GT(bytes.size(), 32u);
    ASSERT_EQ(bytes[8], 0) << "the fixture's superblock is no longer version 0";
    bytes[24] = 249;
    const std::string path = write_file("base_address.nir", bytes);
    expect_nir_refused(path, "base address 249");
}

// nir: a group's local heap stating more bytes than the file holds (libhdf5 allocated it before reading; the
// fuzzer's input, a damaged fixture) is refused from the file's bytes before HDF5 reads it.
TEST(FuzzFindings, NirLocalHeapPastTheEndOfTheFileIsAModelError) {
    const std::string path = (kCases / "nir" / "local_heap_size_past_eof").string();
    expect_nir_refused(path, "damaged group (a local heap of");
}

// nir: a datatype message turned into an enum of 257 members whose names run past the message (the fuzzer's
// damage to cnn_sinabs's /node/nodes/5/type, the class byte 0x19 to 0x28, applied to lif_rockpool's /version):
// libhdf5 1.10 copied the names with strdup past its object header chunk; now refused before HDF5 decodes it.
TEST(FuzzFindings, NirEnumNamesPastTheDatatypeMessageIsAModelError) {
    const std::string path = (kCases / "nir" / "datatype_enum_names_past_the_message").string();
    expect_nir_refused(path, "/version: damaged datatype (the name of member 1");
}
