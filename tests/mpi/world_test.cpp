// mpi/world.h and mpi/pack.h in one process: the block partition, exact packing, and collectives that are the
// identity without mpirun (the same binary must behave as before when not launched by mpirun).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "mpi/pack.h"
#include "mpi/world.h"

namespace neuroemu::mpi {
namespace {

TEST(MpiBlocks, PartitionCoversEveryItemOnceWithSizesDifferingByAtMostOne) {
    for (int64_t count : {0, 1, 2, 5, 7, 350, 50000})
        for (int ranks : {1, 2, 3, 16, 1024}) {
            int64_t next = 0, smallest = count, largest = 0;
            for (int r = 0; r < ranks; ++r) {
                const Block b = block_of(count, r, ranks);
                EXPECT_EQ(b.first, next) << count << " items, rank " << r << " of " << ranks;
                next = b.last;
                smallest = std::min(smallest, b.size());
                largest = std::max(largest, b.size());
                if (r > 0) {
                    EXPECT_LE(b.size(), block_of(count, r - 1, ranks).size()) << "larger blocks first";
                }
            }
            EXPECT_EQ(next, count);
            EXPECT_LE(largest - smallest, 1);
        }
}

TEST(MpiPack, RoundTripIsBitExact) {
    const double tricky[] = {0.1, -0.0, 1e-310, std::numeric_limits<double>::quiet_NaN(), 1.0 / 3.0};
    Packer p;
    p.put(int64_t{-5}).put(std::string("layer/conv1")).put(std::vector<double>(std::begin(tricky), std::end(tricky)));
    p.put(std::vector<std::string>{"a", "", "bc"}).put(std::vector<int32_t>{});
    Unpacker u(p.bytes());
    EXPECT_EQ(u.get<int64_t>(), -5);
    EXPECT_EQ(u.get<std::string>(), "layer/conv1");
    const auto d = u.get<std::vector<double>>();
    ASSERT_EQ(d.size(), std::size(tricky));
    for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(std::memcmp(&d[i], &tricky[i], sizeof(double)), 0) << i;
    EXPECT_THAT(u.get<std::vector<std::string>>(), ::testing::ElementsAre("a", "", "bc"));
    EXPECT_TRUE(u.get<std::vector<int32_t>>().empty());
    EXPECT_TRUE(u.done());
}

TEST(MpiPack, TruncatedOrCorruptMessageIsAnErrorNotARead) {
    Packer p;
    p.put(std::vector<int64_t>{1, 2, 3});
    const std::string cut = p.bytes().substr(0, p.bytes().size() - 1);
    Unpacker u(cut);
    EXPECT_THROW(u.get<std::vector<int64_t>>(), InternalError);
    Packer huge;
    huge.put(uint64_t{1} << 60);  // a length no message holds
    Unpacker v(huge.bytes());
    EXPECT_THROW(v.get<std::vector<std::string>>(), InternalError);
}

TEST(MpiWorld, WithoutMpirunEveryCollectiveIsTheIdentity) {
    ASSERT_FALSE(launched()) << "run this test without mpirun";
    EXPECT_EQ(rank(), 0);
    EXPECT_EQ(size(), 1);
    EXPECT_TRUE(root());
    EXPECT_FALSE(distributed());
    EXPECT_EQ(where(), "");
    EXPECT_THAT(gather("abc"), ::testing::ElementsAre("abc"));
    EXPECT_THAT(all_gather("x"), ::testing::ElementsAre("x"));
    EXPECT_EQ(broadcast("payload"), "payload");
    EXPECT_THAT(all_to_all({"self"}), ::testing::ElementsAre("self"));
    EXPECT_THROW(all_to_all({"a", "b"}), InternalError);
    EXPECT_EQ(all_min(7), 7);
    EXPECT_EQ(all_sum(7), 7);
    EXPECT_TRUE(any(true));
    EXPECT_FALSE(any(false));
    barrier();
}

}  // namespace
}  // namespace neuroemu::mpi
