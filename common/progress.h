// A progress bar on stderr for long runs, shown only when stderr is a terminal and output is not quiet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace neuroemu {

class Progress {
public:
    Progress(std::string label, int64_t total, bool enabled);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    // Thread-safe; redraws at most every 100 ms.
    void advance(int64_t n = 1);
    void finish();

    // True when stderr is a terminal (the default for `enabled`).
    static bool stderr_is_terminal();

private:
    void draw(int64_t done);

    std::string label_;
    int64_t total_;
    bool enabled_;
    std::atomic<int64_t> done_{0};
    std::mutex mutex_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool finished_ = false;
};

}  // namespace neuroemu
