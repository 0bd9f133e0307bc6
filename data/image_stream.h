// Walks images [first, first + count) of an ImageSource in chunks of `chunk` images, decoding the next chunk on
// a background thread while the caller works on the current one. Bounded: the thread starts a chunk only once
// the previous one has been taken, so at most two chunks exist at once (the caller's and the one ahead).
//
//   ImageStream stream(*source, 0, source->count(), 256);
//   for (ImageSet batch; stream.next(batch);) run(batch);
//
// An exception thrown while decoding (a DataError naming the file) is rethrown by the next() that would have
// returned that chunk, after every earlier chunk. Destroying the stream early waits for the chunk in progress
// and joins the thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "data/reader/reader.h"

namespace neuroemu {

class ImageStream {
public:
    ImageStream(const ImageSource& source, int64_t first, int64_t count, int64_t chunk);
    ~ImageStream();
    ImageStream(const ImageStream&) = delete;
    ImageStream& operator=(const ImageStream&) = delete;

    // The next chunk into `out` (count images or fewer for the last); false when none is left.
    bool next(ImageSet& out);

private:
    void produce();

    const ImageSource& source_;
    int64_t next_, end_, chunk_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::optional<ImageSet> ready_;  // decoded, not yet taken
    std::exception_ptr error_;
    bool finished_ = false;  // the thread has stopped: end reached, error, or stop_
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace neuroemu
