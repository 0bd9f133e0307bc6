#include "common/isa.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>

#include "common/error.h"

namespace neuroemu {
namespace {

bool supported(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    switch (isa) {
        case Isa::Generic: return true;
        case Isa::Avx2: return __builtin_cpu_supports("avx2");
        case Isa::Avx512: return __builtin_cpu_supports("avx512f");
    }
    return false;
#else
    return isa == Isa::Generic;
#endif
}

Isa from_environment() {
    const char* env = std::getenv("NEUROEMU_ISA");
    return env && *env ? parse_isa(env, "environment variable NEUROEMU_ISA") : best_isa();
}

// -1 until the first call reads the environment.
std::atomic<int> chosen{-1};

}  // namespace

Isa best_isa() {
    if (supported(Isa::Avx512)) return Isa::Avx512;
    return supported(Isa::Avx2) ? Isa::Avx2 : Isa::Generic;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Generic: return "generic";
        case Isa::Avx2: return "avx2";
        case Isa::Avx512: return "avx512";
    }
    return "?";
}

Isa parse_isa(const std::string& name, const std::string& where) {
    Isa isa;
    if (name == "auto") return best_isa();
    if (name == "generic") isa = Isa::Generic;
    else if (name == "avx2") isa = Isa::Avx2;
    else if (name == "avx512") isa = Isa::Avx512;
    else throw ConfigError(fmt::format("{}: unknown instruction set '{}'; expected generic, avx2, avx512 or auto", where, name));
    if (!supported(isa))
        throw ConfigError(fmt::format("{}: this CPU does not support '{}' (its widest: {})", where, name, isa_name(best_isa())));
    return isa;
}

Isa active_isa() {
    int v = chosen.load(std::memory_order_relaxed);
    if (v < 0) {
        v = static_cast<int>(from_environment());
        int expected = -1;
        if (!chosen.compare_exchange_strong(expected, v, std::memory_order_relaxed)) v = expected;
    }
    return static_cast<Isa>(v);
}

void set_active_isa(Isa isa) {
    if (!supported(isa)) throw ConfigError(fmt::format("this CPU does not support '{}'", isa_name(isa)));
    chosen.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace neuroemu
