// A full disk for a test: runs `write` in a child process (the limit is per process) under a file-size limit of
// `limit_bytes`, with SIGXFSZ ignored so that a write past the limit fails with EFBIG instead of killing the
// process. Returns 0 when `write` threw an exception whose message holds every one of `message_parts`; otherwise
// 10 (the limit could not be set), 11 (another message), 12 (no error) or -1 (the child did not exit normally).
// Make what `write` needs that is expensive (a fixture) before the call, so that the child does not redo it.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace neuroemu::test {

inline constexpr const char* kFullDiskCodes = "10: setrlimit failed, 11: wrong message, 12: no error, -1: crashed";

inline int full_disk_error(rlim_t limit_bytes, const std::function<void()>& write,
                           const std::vector<std::string>& message_parts) {
    const pid_t child = ::fork();
    if (child < 0) return -1;
    if (child == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{limit_bytes, limit_bytes};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
        try {
            write();
        } catch (const std::exception& e) {
            const std::string what = e.what();
            for (const std::string& part : message_parts)
                if (what.find(part) == std::string::npos) ::_exit(11);
            ::_exit(0);
        }
        ::_exit(12);
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

}  // namespace neuroemu::test
