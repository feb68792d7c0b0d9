#include "validate.h"

#include <cctype>

#include "error.h"
#include "limits.h"
// Last include: fails the build if anything above pulled in a PostgreSQL header.
#include "pure_zone.h"

namespace baton::core {

namespace {
bool is_queue_char(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}
}  // namespace

void validate_queue_name(const char* param, const char* name, std::size_t len) {
  if (len == 0) fail(sqlstate::kInvalidParameter, "%s must not be empty", param);
  if (len > static_cast<std::size_t>(limits::kQueueNameMax))
    fail(sqlstate::kInvalidParameter, "%s is longer than %d characters", param,
         limits::kQueueNameMax);
  if (!std::isalnum(static_cast<unsigned char>(name[0])))
    fail(sqlstate::kInvalidParameter, "%s \"%.*s\" must start with a letter or digit", param,
         static_cast<int>(len), name);
  for (std::size_t i = 0; i < len; ++i) {
    if (!is_queue_char(static_cast<unsigned char>(name[i])))
      fail_hint(sqlstate::kInvalidParameter,
                "Queue names use letters, digits and the characters _ - . :",
                "%s \"%.*s\" contains an invalid character", param, static_cast<int>(len), name);
  }
}

void validate_label(const char* param, const char* value, std::size_t len, int max_len) {
  if (len == 0) fail(sqlstate::kInvalidParameter, "%s must not be empty", param);
  if (len > static_cast<std::size_t>(max_len))
    fail(sqlstate::kInvalidParameter, "%s is longer than %d bytes", param, max_len);
  for (std::size_t i = 0; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7f)
      fail(sqlstate::kInvalidParameter, "%s must not contain control characters", param);
  }
}

void validate_int_range(const char* param, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max)
    fail(sqlstate::kInvalidParameter, "%s must be between %lld and %lld (got %lld)", param,
         static_cast<long long>(min), static_cast<long long>(max), static_cast<long long>(value));
}

void validate_seconds_range(const char* param, double seconds, double min, double max) {
  // Written so that NaN fails too.
  if (!(seconds >= min && seconds <= max))
    fail(sqlstate::kInvalidParameter, "%s must be between %.10g and %.10g seconds (got %.10g)",
         param, min, max, seconds);
}

void validate_json_size(const char* param, int64_t bytes) {
  if (bytes > limits::kJsonMaxBytes)
    fail(sqlstate::kProgramLimit, "%s is %lld bytes; the limit is %lld", param,
         static_cast<long long>(bytes), static_cast<long long>(limits::kJsonMaxBytes));
}

}  // namespace baton::core
