#include "core/validate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "core/error.h"
#include "core/finish_status.h"
#include "core/limits.h"

namespace baton::core {
namespace {

// Runs f and returns the SQLSTATE it raised, or "" when it did not throw.
template <typename F>
std::string sqlstate_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.sqlstate();
  }
  return "";
}

void queue(const std::string& name) {
  validate_queue_name("queue", name.data(), name.size());
}

TEST(QueueName, AcceptsDocumentedAlphabet) {
  for (const char* ok : {"a", "emails", "Q1", "billing.v2", "tenant:42", "low-prio", "a_b"})
    EXPECT_EQ(sqlstate_of([&] { queue(ok); }), "") << ok;
  EXPECT_EQ(sqlstate_of([&] { queue(std::string(limits::kQueueNameMax, 'q')); }), "");
}

TEST(QueueName, RejectsEmptyLongAndStrangeNames) {
  EXPECT_EQ(sqlstate_of([&] { queue(""); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { queue(std::string(limits::kQueueNameMax + 1, 'q')); }), "22023");
  for (const char* bad : {"-lead", "_x", "has space", "semi;colon", "quote'", "ümlaut", "a/b"})
    EXPECT_EQ(sqlstate_of([&] { queue(bad); }), "22023") << bad;
}

TEST(QueueName, MessageNamesTheQueue) {
  try {
    queue("bad name");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::strstr(e.message(), "\"bad name\""), nullptr) << e.message();
    EXPECT_NE(std::strlen(e.hint()), 0u);
  }
}

TEST(Label, RejectsEmptyTooLongAndControlCharacters) {
  auto label = [](const std::string& v) { validate_label("task", v.data(), v.size(), 10); };
  EXPECT_EQ(sqlstate_of([&] { label("send_email"); }), "");
  EXPECT_EQ(sqlstate_of([&] { label("App::Job"); }), "");
  EXPECT_EQ(sqlstate_of([&] { label(""); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { label("12345678901"); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { label("tab\there"); }), "22023");
  EXPECT_EQ(sqlstate_of([&] { label(std::string("nul\0x", 5)); }), "22023");
}

TEST(Ranges, IntegerBoundsAreInclusive) {
  EXPECT_EQ(sqlstate_of([] { validate_int_range("p", 1, 1, 5); }), "");
  EXPECT_EQ(sqlstate_of([] { validate_int_range("p", 5, 1, 5); }), "");
  EXPECT_EQ(sqlstate_of([] { validate_int_range("p", 0, 1, 5); }), "22023");
  EXPECT_EQ(sqlstate_of([] { validate_int_range("p", 6, 1, 5); }), "22023");
}

TEST(Ranges, SecondsRejectNaNAndOutOfRange) {
  EXPECT_EQ(sqlstate_of([] { validate_seconds_range("lease", 30, 1, 60); }), "");
  EXPECT_EQ(sqlstate_of([] { validate_seconds_range("lease", 0.5, 1, 60); }), "22023");
  EXPECT_EQ(sqlstate_of([] { validate_seconds_range("lease", 61, 1, 60); }), "22023");
  EXPECT_EQ(sqlstate_of([] { validate_seconds_range("lease", std::nan(""), 1, 60); }), "22023");
}

TEST(Json, SizeLimitIsProgramLimit) {
  EXPECT_EQ(sqlstate_of([] { validate_json_size("args", limits::kJsonMaxBytes); }), "");
  EXPECT_EQ(sqlstate_of([] { validate_json_size("args", limits::kJsonMaxBytes + 1); }), "54000");
}

TEST(FinishStatus, ParsesExactlyThreeWords) {
  auto parse = [](const char* s) { return parse_finish_status(s, std::strlen(s)); };
  EXPECT_EQ(parse("succeeded"), FinishStatus::kSucceeded);
  EXPECT_EQ(parse("failed"), FinishStatus::kFailed);
  EXPECT_EQ(parse("cancelled"), FinishStatus::kCancelled);
  for (const char* bad : {"", "success", "dead", "waiting", "FAILED", "canceled"})
    EXPECT_EQ(sqlstate_of([&] { parse(bad); }), "22023") << bad;
}

TEST(ErrorText, LongMessagesAreTruncatedNotOverflowed) {
  std::string huge(5000, 'x');
  Error e("22023", huge.c_str(), huge.c_str(), nullptr);
  EXPECT_EQ(std::strlen(e.message()), Error::kTextSize - 1);
  EXPECT_EQ(std::strlen(e.detail()), Error::kTextSize - 1);
  EXPECT_STREQ(e.hint(), "");
  EXPECT_STREQ(e.sqlstate(), "22023");
}

}  // namespace
}  // namespace baton::core
