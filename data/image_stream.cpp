#include "data/image_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/error.h"

namespace neuroemu {

ImageStream::ImageStream(const ImageSource& source, int64_t first, int64_t count, int64_t chunk)
    : source_(source), next_(first), end_(first + count), chunk_(chunk) {
    if (first < 0 || count < 0 || first + count > source.count() || chunk < 1)
        throw InternalError(fmt::format("ImageStream({}, {}, {}) over {} images", first, count, chunk,
                                        source.count()));
    thread_ = std::thread([this] { produce(); });
}

ImageStream::~ImageStream() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
}

void ImageStream::produce() {
    for (;;) {
        int64_t first, n;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            changed_.wait(lock, [this] { return stop_ || !ready_; });
            if (stop_ || next_ >= end_) {
                finished_ = true;
                break;
            }
            first = next_;
            n = std::min(chunk_, end_ - next_);
        }
        std::optional<ImageSet> set;
        std::exception_ptr error;
        try {
            set = source_.read(first, n);
            set->first = first;  // as readers do; a source that does not still seeds by the dataset index
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (error) {
            error_ = error;
            finished_ = true;
            break;
        }
        ready_ = std::move(set);
        next_ += n;
        changed_.notify_all();
    }
    changed_.notify_all();  // the lock released: next() sees finished_
}

bool ImageStream::next(ImageSet& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return ready_.has_value() || finished_; });
    if (ready_) {
        out = std::move(*ready_);
        ready_.reset();
        lock.unlock();
        changed_.notify_all();
        return true;
    }
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return false;
}

}  // namespace neuroemu
