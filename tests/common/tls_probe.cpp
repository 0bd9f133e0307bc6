// The CI failure of stop 27, as a program (tests/common/sanitizer_defaults_test.cpp runs it; sanitized builds only).
//   tls_probe layout J MODULE: fills the heap's 12-byte size class so that the J-th block after it sits 16 bytes
//     past a page boundary, loads MODULE (tls_module.cpp) and touches its thread-local block, which glibc
//     allocates among the next few blocks of that class; prints where that block is and exits 0, with nothing
//     leaked, so LeakSanitizer's check at exit must pass.
//   tls_probe leak: drops a 33-byte block, which LeakSanitizer must report.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {
std::vector<void*>* kept;  // reachable to the end: not leaks

void* volatile dropped;

__attribute__((noinline)) void drop_block() {
    dropped = std::malloc(33);
    dropped = nullptr;
}

// Overwrites the stack drop_block used, so no stale copy of its pointer is left for the leak check to find.
__attribute__((noinline)) void scrub_stack() {
    volatile char bytes[4096];
    for (char& b : const_cast<char(&)[4096]>(bytes)) b = 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "leak") == 0) {
        drop_block();
        scrub_stack();
        return 0;
    }
    if (argc != 4 || std::strcmp(argv[1], "layout") != 0) {
        std::fprintf(stderr, "usage: tls_probe layout J MODULE | tls_probe leak\n");
        return 2;
    }
    const uintptr_t j = std::strtoul(argv[2], nullptr, 10);
    constexpr uintptr_t kStride = 0x20;  // ASan's chunk for a 12-byte block: 16-byte header, 16 bytes of user data
    kept = new std::vector<void*>;
    kept->reserve(1 << 16);
    for (int n = 0; n < (1 << 16); ++n) {
        void* p = std::malloc(12);
        kept->push_back(p);
        if ((reinterpret_cast<uintptr_t>(p) + kStride * (j + 1)) % 4096 == 16) break;
    }
    void* module = dlopen(argv[3], RTLD_NOW);
    if (!module) {
        std::fprintf(stderr, "tls_probe: %s\n", dlerror());
        return 2;
    }
    auto block = reinterpret_cast<int* (*)()>(dlsym(module, "neuroemu_tls_block"));
    if (!block) return 2;
    int* tls = block();
    tls[0] = 1;
    std::printf("tls block %p page offset %u\n", static_cast<void*>(tls),
                static_cast<unsigned>(reinterpret_cast<uintptr_t>(tls) % 4096));
    std::fflush(stdout);
    return 0;
}
