// The memory budget: estimates saturate instead of wrapping, and a refusal carries the estimate and the limit.
#include "common/memory_limit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/error.h"

namespace neuroemu {
namespace {

using ::testing::HasSubstr;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(MemoryLimit, PhysicalMemoryMatchesProcMeminfo) {
    // An independent path: /proc/meminfo's MemTotal (kB) against sysconf's pages. They differ by the kernel's
    // reserved memory at most, a few percent.
    std::ifstream in("/proc/meminfo");
    std::string key;
    int64_t kib = 0;
    while (in >> key >> kib && key != "MemTotal:") in.ignore(1 << 10, '\n');
    ASSERT_EQ(key, "MemTotal:");
    const double meminfo = static_cast<double>(kib) * 1024.0;
    EXPECT_NEAR(static_cast<double>(physical_memory_bytes()), meminfo, 0.05 * meminfo);
}

TEST(MemoryLimit, SaturatingArithmeticNeverWraps) {
    EXPECT_EQ(saturating_mul(INT64_C(1) << 31, INT64_C(1) << 31), INT64_C(1) << 62);
    EXPECT_EQ(saturating_mul(INT64_C(1) << 32, INT64_C(1) << 32), kMax);  // 2^64 would wrap to 0
    EXPECT_EQ(saturating_mul(INT64_C(1000000), INT64_C(1000000)), INT64_C(1000000000000));
    EXPECT_EQ(saturating_mul(0, kMax), 0);
    EXPECT_EQ(saturating_mul(-1, 5), kMax);
    EXPECT_EQ(saturating_add(kMax - 1, 2), kMax);
    EXPECT_EQ(saturating_add(40, 2), 42);
}

TEST(MemoryLimit, RefusalCarriesEstimateAndLimitAndTheOverrideIsScoped) {
    const int64_t before = memory_limit_bytes();
    {
        ScopedMemoryLimit limit(INT64_C(1) << 30);
        EXPECT_EQ(memory_limit_bytes(), INT64_C(1) << 30);
        EXPECT_TRUE(memory_over_limit("x", INT64_C(1) << 30).empty());
        try {
            require_memory<ModelError>("tensor 'w'", INT64_C(10000000000));
            FAIL() << "expected ModelError";
        } catch (const ModelError& e) {
            EXPECT_THAT(e.what(), HasSubstr("tensor 'w' needs an estimated 10000000000 bytes (10 GB)"));
            EXPECT_THAT(e.what(), HasSubstr("memory limit of 1073741824 bytes (1.07 GB"));
        }
        EXPECT_THAT(memory_over_limit("y", kMax), HasSubstr("more than 9.2e18 bytes"));
    }
    EXPECT_EQ(memory_limit_bytes(), before);
}

TEST(MemoryLimit, EnvironmentVariableSetsTheDefault) {
    ASSERT_EQ(::setenv("NEUROEMU_MEMORY_LIMIT_BYTES", "123456", 1), 0);
    EXPECT_EQ(memory_limit_bytes(), 123456);
    EXPECT_THAT(memory_over_limit("z", 123457), HasSubstr("NEUROEMU_MEMORY_LIMIT_BYTES"));
    ASSERT_EQ(::setenv("NEUROEMU_MEMORY_LIMIT_BYTES", "12x", 1), 0);  // not a number: ignored
    EXPECT_NE(memory_limit_bytes(), 12);
    ASSERT_EQ(::unsetenv("NEUROEMU_MEMORY_LIMIT_BYTES"), 0);
}

}  // namespace
}  // namespace neuroemu
