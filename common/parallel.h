// Static work sharing over a fixed number of threads; deterministic results need only that each index's
// work is independent of which thread runs it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace neuroemu {

// Threads to use for `requested` (0 = all hardware threads).
inline int resolve_threads(int64_t requested) {
    if (requested > 0) return static_cast<int>(requested);
    return std::max(1u, std::thread::hardware_concurrency());
}

// Calls fn(index, worker) for index in [0, count) on `threads` workers; rethrows the first exception.
template <typename Fn>
void parallel_for(int64_t count, int threads, Fn&& fn) {
    threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, count)));
    std::atomic<int64_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto work = [&](int worker) {
        for (int64_t i; (i = next++) < count;) {
            try {
                fn(i, worker);
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                next = count;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace neuroemu
