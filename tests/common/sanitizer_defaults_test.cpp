// The sanitizer defaults built into every executable of a sanitized build (common/sanitizer_defaults.cpp), through
// tls_probe. CI lost two MPI tests (stop 27) to LeakSanitizer's tracer dying at exit ("Tracer caught signal 11"):
// the __tls_get_addr interceptor of GCC 12's runtime misreads a dynamic TLS block that lands 16 bytes past a page
// boundary. These tests put one there and check that the leak check at exit survives it, that it crashes when the
// interceptor is turned back on (so the first test is not vacuous), and that leaks are still reported.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/cli_run.h"

namespace neuroemu {
namespace {

using cli_test::capture;

const std::string kProbe = TLS_PROBE;
const std::string kModule = TLS_MODULE;
const std::string kLeakCheck = "ASAN_OPTIONS=detect_leaks=1";

// Runs the probe for J = 0, 1, ...: the first J whose thread-local block lands 16 bytes past a page boundary
// (how many blocks of its size dlopen allocates first is glibc's business), or -1.
int landing_j(const std::string& options) {
    for (int j = 0; j < 16; ++j) {
        const auto r = capture(options + " " + kProbe + " layout " + std::to_string(j) + " " + kModule);
        EXPECT_EQ(r.status, 0) << "J = " << j << ":\n" << r.output;
        if (r.status != 0) return -1;
        if (r.output.find("page offset 16\n") != std::string::npos) return j;
    }
    return -1;
}

TEST(SanitizerDefaults, LeakCheckSurvivesADynamicTlsBlockAtPageOffset16) {
    EXPECT_GE(landing_j(kLeakCheck), 0) << "no J put the thread-local block 16 bytes past a page boundary";
}

TEST(SanitizerDefaults, TheInterceptorOnKillsTheLeakCheckThere) {
    const int j = landing_j(kLeakCheck);
    ASSERT_GE(j, 0);
    const auto r = capture(kLeakCheck + ":intercept_tls_get_addr=1 " + kProbe + " layout " + std::to_string(j) + " " +
                           kModule);
    // If this fails, the runtime no longer misreads the block: common/sanitizer_defaults.cpp can go.
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("Tracer caught signal"), std::string::npos) << r.output;
}

TEST(SanitizerDefaults, LeaksAreStillReported) {
    const auto r = capture(kLeakCheck + " " + kProbe + " leak");
    EXPECT_NE(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("LeakSanitizer: detected memory leaks"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("33 byte(s)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace neuroemu
