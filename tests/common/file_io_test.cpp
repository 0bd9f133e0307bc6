// The one atomic-write helper: whole files or none, the old file kept on failure, errors naming the file.
#include "common/file_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstring>

#include "common/csv.h"
#include "common/error.h"
#include "common/hash.h"
#include "tests/support/full_disk.h"

namespace neuroemu {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

fs::path scratch_dir(const char* name) {
    const fs::path d = fs::temp_directory_path() / fmt::format("neuroemu_file_io_{}_{}", name, ::getpid());
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

TEST(FileIo, WritesWholeContentIncludingNulBytesAndLeavesNoTemporary) {
    const fs::path d = scratch_dir("write");
    const std::string content("a\0b\nc", 5);
    write_file_atomic((d / "out.bin").string(), content);
    EXPECT_EQ(slurp(d / "out.bin"), content);
    EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
    write_file_atomic((d / "out.bin").string(), "new");
    EXPECT_EQ(slurp(d / "out.bin"), "new");
    fs::remove_all(d);
}

TEST(FileIo, FailureNamesTheFileAndKeepsTheOldContent) {
    const fs::path d = scratch_dir("fail");
    // A directory in the way: the rename onto it fails, and the temporary file must not stay behind.
    fs::create_directories(d / "taken" / "inside");
    try {
        write_file_atomic((d / "taken").string(), "x");
        FAIL() << "expected DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot write " + (d / "taken").string()));
    }
    EXPECT_TRUE(fs::is_directory(d / "taken" / "inside"));
    EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
    EXPECT_THROW(write_file_atomic((d / "no-such-dir" / "f").string(), "x"), DataError);
    fs::remove_all(d);
}

TEST(FileIo, FullDiskNamesTheFileAndLeavesNothingUnderTheFinalName) {
    // A file-size limit stands in for a full disk (tests/support/full_disk.h).
    const fs::path d = scratch_dir("efbig");
    const std::string path = (d / "model.snn").string();
    EXPECT_EQ(test::full_disk_error(4096, [&] { write_file_atomic(path, std::string(1 << 20, 'x')); },
                                    {"cannot write " + path, std::strerror(EFBIG)}),
              0)
        << test::kFullDiskCodes;
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::is_empty(d)) << "a temporary file stayed behind";
    fs::remove_all(d);
}

TEST(FileIo, UnwritableDirectoryNamesTheFile) {
    if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
    const fs::path d = scratch_dir("readonly");
    fs::permissions(d, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string path = (d / "map.json").string();
    try {
        write_file_atomic(path, "{}");
        ADD_FAILURE() << "expected DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot write " + path + ": " + std::strerror(EACCES)));
    }
    fs::permissions(d, fs::perms::owner_all);
    EXPECT_TRUE(fs::is_empty(d));
    fs::remove_all(d);
}

TEST(FileIo, ReplaceFileNamesBothPaths) {
    try {
        replace_file("/nonexistent-a", "/nonexistent-b");
        FAIL() << "expected DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr("cannot move /nonexistent-a to /nonexistent-b"));
    }
}

TEST(Hash, Fnv1a64MatchesPublishedVectorsAndIntegersAreLittleEndianBytes) {
    // Test vectors of the FNV reference (Fowler, Noll, Vo: isthe.com/chongo/tech/comp/fnv).
    EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
    EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
    const char le[8] = {0x01, 0x02, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(fnv1a64(int64_t{0x0201}, kFnv1a64Offset), fnv1a64(std::string_view(le, 8)));
}

TEST(Csv, QuotesOnlyFieldsThatNeedItAndDoublesQuotes) {
    EXPECT_EQ(csv_field("plain"), "plain");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

}  // namespace
}  // namespace neuroemu
