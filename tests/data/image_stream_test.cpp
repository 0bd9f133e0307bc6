#include "data/image_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/error.h"

namespace neuroemu {
namespace {

// Image i is one pixel of value i % 256, label i; counts reads, can fail at one image, can be slow.
class CountingSource final : public ImageSource {
public:
    explicit CountingSource(int64_t n, int64_t bad = -1, int delay_ms = 0) : n_(n), bad_(bad), delay_ms_(delay_ms) {}
    int64_t count() const override { return n_; }
    int64_t channels() const override { return 1; }
    int64_t height() const override { return 1; }
    int64_t width() const override { return 1; }
    ImageSet read(int64_t first, int64_t n) const override {
        ++reads;
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
        if (bad_ >= first && bad_ < first + n) throw DataError("image" + std::to_string(bad_) + ".jpg: bad");
        ImageSet s;
        s.count = n;
        s.height = s.width = 1;
        for (int64_t i = first; i < first + n; ++i) {
            s.pixels.push_back(static_cast<uint8_t>(i % 256));
            s.labels.push_back(static_cast<int32_t>(i));
        }
        return s;
    }
    mutable std::atomic<int> reads{0};

private:
    int64_t n_, bad_;
    int delay_ms_;
};

TEST(ImageStream, ChunksComeInOrderAndCoverTheRange) {
    const CountingSource source(100);
    ImageStream stream(source, 5, 23, 7);  // images 5..27: chunks of 7, 7, 7, 2
    std::vector<int32_t> labels;
    std::vector<int64_t> sizes, firsts;
    for (ImageSet s; stream.next(s);) {
        sizes.push_back(s.count);
        firsts.push_back(s.first);  // each chunk knows where it starts in the dataset (Poisson seeds)
        labels.insert(labels.end(), s.labels.begin(), s.labels.end());
    }
    EXPECT_EQ(sizes, (std::vector<int64_t>{7, 7, 7, 2}));
    EXPECT_EQ(firsts, (std::vector<int64_t>{5, 12, 19, 26}));
    ASSERT_EQ(labels.size(), 23u);
    for (int i = 0; i < 23; ++i) EXPECT_EQ(labels[i], 5 + i);
    ImageSet s;
    EXPECT_FALSE(stream.next(s));  // stays finished
}

TEST(ImageStream, DecodesOneChunkAheadAndNoMore) {
    const CountingSource source(40);
    ImageStream stream(source, 0, 40, 4);
    ImageSet s;
    for (int taken = 1; stream.next(s); ++taken) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // time enough to run ahead, were it allowed
        EXPECT_LE(source.reads.load(), taken + 1) << "more than one chunk ahead";
        EXPECT_EQ(s.labels.front(), (taken - 1) * 4);
    }
    EXPECT_EQ(source.reads.load(), 10);
}

TEST(ImageStream, ADecodingErrorReachesNextAfterTheEarlierChunks) {
    const CountingSource source(30, 17);
    ImageStream stream(source, 0, 30, 5);
    ImageSet s;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream.next(s));  // 0..14
    try {
        stream.next(s);
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_STREQ(e.what(), "image17.jpg: bad");
    }
    EXPECT_FALSE(stream.next(s));
}

TEST(ImageStream, StoppingEarlyJoinsCleanly) {
    const CountingSource source(1000, -1, 30);
    {
        ImageStream stream(source, 0, 1000, 10);
        ImageSet s;
        ASSERT_TRUE(stream.next(s));
    }  // the destructor waits for the chunk in progress, then the thread ends
    EXPECT_LE(source.reads.load(), 2);
    { ImageStream untouched(source, 0, 1000, 10); }
    EXPECT_THROW(ImageStream(source, 990, 20, 10), InternalError);
}

}  // namespace
}  // namespace neuroemu
