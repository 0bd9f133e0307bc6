#include "common/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace neuroemu {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

bool Progress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void Progress::advance(int64_t n) {
    const int64_t done = done_ += n;
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_ || now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    draw(done);
}

void Progress::finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!enabled_ || finished_) return;
    finished_ = true;
    draw(done_);
    std::fputs("\n", stderr);
}

void Progress::draw(int64_t done) {
    constexpr int kWidth = 30;
    const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(frac * kWidth);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    std::fputs(fmt::format("\r{} [{}{}] {}/{} ({:.0f}/s)", label_, std::string(static_cast<size_t>(filled), '#'),
                           std::string(static_cast<size_t>(kWidth - filled), ' '), done, total_, rate)
                   .c_str(),
               stderr);
    std::fflush(stderr);
}

}  // namespace neuroemu
