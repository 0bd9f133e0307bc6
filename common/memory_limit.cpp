#include "common/memory_limit.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace neuroemu {
namespace {

constexpr int64_t kNoLimit = INT64_C(1) << 62;
std::atomic<int64_t> g_override{0};

int64_t env_limit() {
    const char* text = std::getenv("NEUROEMU_MEMORY_LIMIT_BYTES");
    if (text == nullptr || *text == '\0') return 0;
    char* end = nullptr;
    const long long v = std::strtoll(text, &end, 10);
    return (end != nullptr && *end == '\0' && v > 0) ? static_cast<int64_t>(v) : 0;
}

int64_t meminfo_total() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key;
        int64_t kib = 0;
        if (words >> key >> kib && key == "MemTotal:") return saturating_mul(kib, 1024);
    }
    return 0;
}

}  // namespace

int64_t physical_memory_bytes() {
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
    if (pages > 0 && page > 0) return saturating_mul(pages, page);
    return meminfo_total();
}

int64_t memory_limit_bytes() {
    if (const int64_t o = g_override.load()) return o;
    if (const int64_t e = env_limit()) return e;
    static const int64_t physical = physical_memory_bytes();
    return physical > 0 ? physical : kNoLimit;
}

std::string memory_limit_source() {
    if (g_override.load()) return "set for this run";
    if (env_limit()) return "NEUROEMU_MEMORY_LIMIT_BYTES";
    return physical_memory_bytes() > 0 ? "the machine's physical memory" : "no limit known";
}

void set_memory_limit_bytes(int64_t bytes) { g_override.store(bytes > 0 ? bytes : 0); }

int64_t saturating_mul(int64_t a, int64_t b) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (a < 0 || b < 0) return kMax;
    if (a == 0 || b == 0) return 0;
    return a > kMax / b ? kMax : a * b;
}

int64_t saturating_add(int64_t a, int64_t b) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (a < 0 || b < 0) return kMax;
    return a > kMax - b ? kMax : a + b;
}

std::string byte_size_text(int64_t bytes) {
    static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = static_cast<double>(bytes);
    size_t unit = 0;
    while (v >= 1000.0 && unit + 1 < sizeof kUnits / sizeof kUnits[0]) v /= 1000.0, ++unit;
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.3g} {}", v, kUnits[unit]);
}

std::string memory_over_limit(const std::string& what, int64_t estimate_bytes) {
    const int64_t limit = memory_limit_bytes();
    if (estimate_bytes <= limit) return {};
    const std::string estimate = estimate_bytes == std::numeric_limits<int64_t>::max()
                                     ? std::string("more than 9.2e18 bytes")
                                     : fmt::format("an estimated {} bytes ({})", estimate_bytes, byte_size_text(estimate_bytes));
    return fmt::format("{} needs {}, over the memory limit of {} bytes ({}, {}; set NEUROEMU_MEMORY_LIMIT_BYTES to "
                       "change it)",
                       what, estimate, limit, byte_size_text(limit), memory_limit_source());
}

ScopedMemoryLimit::ScopedMemoryLimit(int64_t bytes) : previous_(g_override.load()) { set_memory_limit_bytes(bytes); }
ScopedMemoryLimit::~ScopedMemoryLimit() { g_override.store(previous_); }

}  // namespace neuroemu
