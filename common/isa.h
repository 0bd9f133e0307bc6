#pragma once
// The instruction set the simulation's hot kernels run with, chosen at run time (the build itself is portable
// x86-64 unless NEUROEMU_NATIVE is on). Every path performs the same floating-point operations in the same order
// on every element (only how many elements one instruction handles differs; no path fuses a multiply and an add:
// the build sets -ffp-contract=off), so the choice changes the speed, never a bit of the results; the tests
// compare the paths bit for bit (tests/sim/isa_dispatch_test.cpp).
#include <string>

namespace neuroemu {

enum class Isa { Generic, Avx2, Avx512 };

// The kernels' instruction set: the environment variable NEUROEMU_ISA (generic, avx2, avx512 or auto) when set,
// else the widest the CPU supports. Read once; a value the CPU cannot run or an unknown name throws ConfigError.
Isa active_isa();
// Overrides the choice for this process (tests; the benchmark of the generic path). Throws ConfigError when the
// CPU lacks `isa`.
void set_active_isa(Isa isa);
// The widest instruction set this CPU runs.
Isa best_isa();
const char* isa_name(Isa isa);
// "generic", "avx2", "avx512" or "auto" (best_isa()) -> Isa; throws ConfigError naming `where` otherwise.
Isa parse_isa(const std::string& name, const std::string& where);

}  // namespace neuroemu
