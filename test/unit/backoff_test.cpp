#include "core/backoff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace baton::core {
namespace {

Backoff parse(const char* text) {
  return parse_backoff(text, std::strlen(text));
}

TEST(Backoff, ParsesTheThreeNames) {
  EXPECT_EQ(parse("constant"), Backoff::kConstant);
  EXPECT_EQ(parse("linear"), Backoff::kLinear);
  EXPECT_EQ(parse("exponential"), Backoff::kExponential);
}

TEST(Backoff, RejectsUnknownAndPrefixNames) {
  for (const char* bad : {"", "expo", "exponentially", "Constant", "linear "}) {
    try {
      parse(bad);
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_STREQ(e.sqlstate(), "22023");
      EXPECT_NE(std::strstr(e.message(), "retry_backoff"), nullptr);
    }
  }
}

TEST(Backoff, ConstantIgnoresAttempts) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kConstant, 2, 100, 1), 2);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kConstant, 2, 100, 9), 2);
}

TEST(Backoff, LinearGrowsByBase) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kLinear, 1.5, 100, 1), 1.5);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kLinear, 1.5, 100, 4), 6);
}

TEST(Backoff, ExponentialDoubles) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 1, 1e9, 1), 1);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 1, 1e9, 2), 2);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 1, 1e9, 5), 16);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 0.25, 1e9, 3), 1);
}

TEST(Backoff, CapApplies) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 1, 60, 7), 60);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kLinear, 10, 25, 3), 25);
}

TEST(Backoff, HugeAttemptCountsStayFiniteAndCapped) {
  double delay = retry_delay_seconds(Backoff::kExponential, 1, 3600, 1000);
  EXPECT_TRUE(std::isfinite(delay));
  EXPECT_DOUBLE_EQ(delay, 3600);
}

TEST(Backoff, ZeroBaseMeansImmediateRetry) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 0, 3600, 5), 0);
}

TEST(Backoff, AttemptsBelowOneCountAsFirstAttempt) {
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kExponential, 3, 3600, 0), 3);
  EXPECT_DOUBLE_EQ(retry_delay_seconds(Backoff::kLinear, 3, 3600, -4), 3);
}

}  // namespace
}  // namespace baton::core
