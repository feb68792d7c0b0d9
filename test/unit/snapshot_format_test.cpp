#include "core/snapshot_format.h"

#include <gtest/gtest.h>

namespace baton::core {
namespace {

TEST(SnapshotFormat, FormatOneIsReadAndIsTheDefault) {
  EXPECT_TRUE(snapshot_format_supported(1));
  EXPECT_EQ(kDefaultSnapshotFormat, 1);
  EXPECT_TRUE(snapshot_format_supported(kDefaultSnapshotFormat));
}

TEST(SnapshotFormat, UnknownFormatsAreRefused) {
  EXPECT_FALSE(snapshot_format_supported(0));
  EXPECT_FALSE(snapshot_format_supported(-1));
  EXPECT_FALSE(snapshot_format_supported(newest_snapshot_format() + 1));
  EXPECT_FALSE(snapshot_format_supported(99));
}

TEST(SnapshotFormat, TheNewestIsSupportedAndNoneIsNewer) {
  const int newest = newest_snapshot_format();
  EXPECT_TRUE(snapshot_format_supported(newest));
  for (int f : kSnapshotFormats) EXPECT_LE(f, newest);
}

}  // namespace
}  // namespace baton::core
