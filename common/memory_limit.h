// The memory budget: every stage estimates what an input would make it allocate and checks the estimate here
// BEFORE allocating, so that a small hostile file (a 1 KB ONNX file declaring a 10 GB tensor, a NIR graph of 10^12
// neurons, a mesh of 10^6 x 10^6 routers) is refused with the estimate and the limit instead of exhausting memory.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace neuroemu {

// The machine's physical memory in bytes (sysconf, else /proc/meminfo's MemTotal); 0 when neither says.
int64_t physical_memory_bytes();

// The budget in bytes: the value of set_memory_limit_bytes when set, else the environment variable
// NEUROEMU_MEMORY_LIMIT_BYTES (a positive integer) when set, else physical_memory_bytes(), else 2^62.
int64_t memory_limit_bytes();
// Where the budget came from, for messages ("NEUROEMU_MEMORY_LIMIT_BYTES", "the machine's physical memory", ...).
std::string memory_limit_source();

// Overrides the budget for this process (tests; a CLI option); 0 restores the default.
void set_memory_limit_bytes(int64_t bytes);

// a * b, or INT64_MAX when the product would overflow (or an operand is negative): estimates saturate instead of
// wrapping into a small number that would pass the check.
int64_t saturating_mul(int64_t a, int64_t b);
int64_t saturating_add(int64_t a, int64_t b);

// "12.5 GB" (powers of 1000), for messages.
std::string byte_size_text(int64_t bytes);

// Empty when `estimate_bytes` fits the budget; else the message "<what> needs an estimated 10000000000 bytes
// (10 GB), over the memory limit of 1073741824 bytes (1.07 GB, <source>)".
std::string memory_over_limit(const std::string& what, int64_t estimate_bytes);

// Throws `ErrorKind` (ConfigError, ModelError, DataError...) with memory_over_limit's message when over the budget.
template <typename ErrorKind>
void require_memory(const std::string& what, int64_t estimate_bytes) {
    std::string message = memory_over_limit(what, estimate_bytes);
    if (!message.empty()) throw ErrorKind(message);
}

// Sets the budget for a scope and restores the previous override at its end (tests).
class ScopedMemoryLimit {
public:
    explicit ScopedMemoryLimit(int64_t bytes);
    ~ScopedMemoryLimit();
    ScopedMemoryLimit(const ScopedMemoryLimit&) = delete;
    ScopedMemoryLimit& operator=(const ScopedMemoryLimit&) = delete;

private:
    int64_t previous_;
};

}  // namespace neuroemu
