#include "core/claim_floor.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

namespace baton::core {
namespace {

constexpr int64_t kSecond = 1'000'000;

ClaimKey key(int32_t neg_priority, int64_t run_at, int64_t id) {
  return ClaimKey{neg_priority, run_at, id};
}

TEST(ClaimKey, OrdersByNegatedPriorityThenRunAtThenId) {
  // Higher priority (more negative neg_priority) first, then earlier run_at, then lower id.
  EXPECT_TRUE(claim_key_less(key(-5, 100, 9), key(0, 1, 1)));
  EXPECT_TRUE(claim_key_less(key(0, 1, 9), key(0, 2, 1)));
  EXPECT_TRUE(claim_key_less(key(0, 2, 1), key(0, 2, 2)));
  EXPECT_FALSE(claim_key_less(key(0, 2, 2), key(0, 2, 2)));
  EXPECT_TRUE(claim_key_equal(key(3, 4, 5), key(3, 4, 5)));
  EXPECT_TRUE(claim_key_less(kLowestClaimKey, key(-10000, INT64_MIN, 0)));
}

TEST(ClaimKey, CapSitsAtPriorityZeroAMarginBeforeTheRaise) {
  ClaimKey cap = safe_writer_cap(10 * kSecond, 50'000);
  EXPECT_EQ(cap.neg_priority, 0);
  EXPECT_EQ(cap.run_at, 10 * kSecond - 50'000);
  // A safe writer's job (priority <= 0, run_at from the clock) is never below it.
  EXPECT_FALSE(claim_key_less(key(0, 10 * kSecond, 1), cap));
  EXPECT_FALSE(claim_key_less(key(7, 0, 1), cap));  // priority -7
  // A higher-priority job is, which is why such jobs are marked.
  EXPECT_TRUE(claim_key_less(key(-1, 99 * kSecond, 1), cap));
  // No overflow at the far end of the clock.
  EXPECT_EQ(safe_writer_cap(INT64_MIN + 10, 50'000).run_at, INT64_MIN);
}

TEST(ClaimKey, RaisedFloorIsTheFirstWaitingJobButNeverAboveTheCap) {
  ClaimKey cap = key(0, 100, INT64_MIN);
  ClaimKey early = key(0, 50, 7);
  ClaimKey late = key(0, 150, 8);
  ClaimKey low_priority = key(3, 1, 9);
  EXPECT_TRUE(claim_key_equal(raised_floor(&early, cap), early));
  EXPECT_TRUE(claim_key_equal(raised_floor(&late, cap), cap));
  EXPECT_TRUE(claim_key_equal(raised_floor(&low_priority, cap), cap));
  EXPECT_TRUE(claim_key_equal(raised_floor(nullptr, cap), cap));
}

TEST(FloorCache, UnknownQueueStartsAtTheFront) {
  FloorCache cache;
  EXPECT_TRUE(claim_key_equal(cache.floor("q", 1, 0), kLowestClaimKey));
}

TEST(FloorCache, KeepsAFloorPerQueueUntilTheNextFullWalkIsDue) {
  FloorCache cache;
  int64_t t0 = 1000 * kSecond;
  cache.store("a", 1, key(0, 5, 5), true, t0);
  cache.store("b", 1, key(0, 9, 9), true, t0);
  EXPECT_TRUE(claim_key_equal(cache.floor("a", 1, t0 + 1), key(0, 5, 5)));
  EXPECT_TRUE(claim_key_equal(cache.floor("b", 1, t0 + 1), key(0, 9, 9)));
  // Raises that did not walk from the front move the floor but not the full-walk clock.
  cache.store("a", 1, key(0, 6, 6), false, t0 + 2 * kSecond);
  EXPECT_TRUE(claim_key_equal(cache.floor("a", 1, t0 + 3 * kSecond), key(0, 6, 6)));
  EXPECT_TRUE(
      claim_key_equal(cache.floor("a", 1, t0 + FloorCache::kFullWalkEveryUs), kLowestClaimKey));
  // A clock that went back also forces a walk from the front.
  EXPECT_TRUE(claim_key_equal(cache.floor("b", 1, t0 - 1), kLowestClaimKey));
}

TEST(FloorCache, ANewSlotTakesOnlyAFloorFoundFromTheFront) {
  FloorCache cache;
  cache.store("a", 1, key(0, 5, 5), false, 10);
  EXPECT_TRUE(claim_key_equal(cache.floor("a", 1, 11), kLowestClaimKey));
}

TEST(FloorCache, TellsWhenAQueueWasLastRaised) {
  FloorCache cache;
  EXPECT_FALSE(cache.raised_since("a", 1, 0));
  cache.store("a", 1, key(0, 5, 5), true, 100);
  EXPECT_TRUE(cache.raised_since("a", 1, 100));
  EXPECT_FALSE(cache.raised_since("a", 1, 101));
  EXPECT_FALSE(cache.raised_since("b", 1, 0));
}

TEST(FloorCache, ResetForgetsEverything) {
  FloorCache cache;
  cache.store("a", 1, key(0, 5, 5), true, 10);
  cache.reset();
  EXPECT_TRUE(claim_key_equal(cache.floor("a", 1, 11), kLowestClaimKey));
}

TEST(FloorCache, EvictsTheLeastRecentlyRaisedQueueWhenFull) {
  FloorCache cache;
  char name[8];
  for (int i = 0; i < FloorCache::kSlots; ++i) {
    int len = std::snprintf(name, sizeof name, "q%d", i);
    cache.store(name, len, key(0, i, i), true, 100 + i);
  }
  cache.store("new", 3, key(0, 77, 77), true, 1000);
  EXPECT_TRUE(claim_key_equal(cache.floor("q0", 2, 1001), kLowestClaimKey));  // evicted
  EXPECT_TRUE(claim_key_equal(cache.floor("q1", 2, 1001), key(0, 1, 1)));
  EXPECT_TRUE(claim_key_equal(cache.floor("new", 3, 1001), key(0, 77, 77)));
}

TEST(FloorCache, NamesLongerThanAQueueNameAreNotCached) {
  FloorCache cache;
  char long_name[FloorCache::kNameMax + 1];
  std::memset(long_name, 'x', sizeof long_name);
  cache.store(long_name, sizeof long_name, key(0, 1, 1), true, 10);
  EXPECT_TRUE(claim_key_equal(cache.floor(long_name, sizeof long_name, 11), kLowestClaimKey));
}

}  // namespace
}  // namespace baton::core
