// The one exception type of the pure core. It carries a SQLSTATE so the boundary can raise
// it as a PostgreSQL error without guessing; the text lives in fixed buffers so copying it
// out at the boundary never allocates.
#pragma once

#include <cstddef>
#include <exception>

namespace baton::core {

// SQLSTATEs baton raises. Standard codes where one fits; QB001 is baton's own (class QB,
// implementation-defined range) so clients can tell "you no longer hold this job" apart.
namespace sqlstate {
inline constexpr const char* kInvalidParameter = "22023";  // invalid_parameter_value
inline constexpr const char* kNullValue = "22004";         // null_value_not_allowed
inline constexpr const char* kUndefinedObject = "42704";   // undefined_object (queue)
inline constexpr const char* kNoDataFound = "P0002";       // no_data_found (job)
inline constexpr const char* kWrongState = "55000";        // object_not_in_prerequisite_state
inline constexpr const char* kUniqueViolation = "23505";   // unique_violation
inline constexpr const char* kProgramLimit = "54000";      // program_limit_exceeded
inline constexpr const char* kLeaseLost = "QB001";         // baton: lease lost / fencing
inline constexpr const char* kLibraryTooOld = "QB002";     // baton: SQL newer than the library
inline constexpr const char* kInternal = "XX000";          // internal_error
}  // namespace sqlstate

class Error : public std::exception {
 public:
  static constexpr std::size_t kTextSize = 512;

  Error(const char* sqlstate, const char* message, const char* detail = nullptr,
        const char* hint = nullptr);

  const char* what() const noexcept override { return message_; }
  const char* sqlstate() const noexcept { return sqlstate_; }
  const char* message() const noexcept { return message_; }
  const char* detail() const noexcept { return detail_; }  // "" when absent
  const char* hint() const noexcept { return hint_; }      // "" when absent

 private:
  char sqlstate_[6];
  char message_[kTextSize];
  char detail_[kTextSize];
  char hint_[kTextSize];
};

// printf-style constructor helper: Error(sqlstate, formatted message).
[[noreturn]] void fail(const char* sqlstate, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
[[noreturn]] void fail_hint(const char* sqlstate, const char* hint, const char* format, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace baton::core
