// Whether a process's resident memory measures the program's own use in this build. AddressSanitizer keeps freed
// memory in quarantine (256 MiB by default), pads every allocation with redzones and maps shadow memory, so under it
// RSS says more about the sanitizer than about neuroemu's bounds: the memory-bound assertions run in the Release
// build (the same tests), the sanitizer build checks the same runs for memory errors. ThreadSanitizer's shadow memory
// (several bytes per byte of the heap) likewise swamps RSS (scripts/tsan.sh).
#pragma once

namespace neuroemu::test {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssMeasuresTheProgram = false;
#else
inline constexpr bool kRssMeasuresTheProgram = true;
#endif

}  // namespace neuroemu::test
