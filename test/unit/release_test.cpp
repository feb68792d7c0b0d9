#include "core/release.h"

#include <gtest/gtest.h>

namespace baton::core {
namespace {

TEST(Release, ServesEveryReleaseUpToItsOwn) {
  EXPECT_TRUE(serves_release("0.1.0"));
  EXPECT_TRUE(serves_release(kLibraryVersion));
  EXPECT_TRUE(serves_release("0.2.0"));
  EXPECT_TRUE(serves_release("0.3.0"));
  EXPECT_FALSE(serves_release("0.4.0"));
  EXPECT_FALSE(serves_release("0.1"));
  EXPECT_FALSE(serves_release(""));
}

TEST(Release, TheLibraryVersionIsTheNewestServed) {
  const char* newest = kServedReleases[0];
  for (const char* release : kServedReleases) {
    EXPECT_GE(compare_versions(release, newest), 0) << release;
    newest = release;
  }
  EXPECT_STREQ(newest, kLibraryVersion);
}

TEST(Release, ComparesNumerically) {
  EXPECT_LT(compare_versions("0.9.1", "0.10.0"), 0);
  EXPECT_GT(compare_versions("1.0.0", "0.99.99"), 0);
  EXPECT_EQ(compare_versions("0.2.0", "0.2.0"), 0);
  EXPECT_LT(compare_versions("0.2", "0.2.1"), 0);
  EXPECT_EQ(compare_versions("0.2", "0.2.0"), 0);
}

}  // namespace
}  // namespace baton::core
