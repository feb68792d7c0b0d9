// Validation of caller input. Every function throws core::Error with a SQLSTATE and a
// message that names the parameter, so a bad call fails before anything is written.
#pragma once

#include <cstddef>
#include <cstdint>

namespace baton::core {

// 1..48 chars of [A-Za-z0-9_.:-], starting with a letter or digit.
void validate_queue_name(const char* param, const char* name, std::size_t len);
// A non-empty name without control characters, at most max_len bytes.
void validate_label(const char* param, const char* value, std::size_t len, int max_len);
void validate_int_range(const char* param, int64_t value, int64_t min, int64_t max);
void validate_seconds_range(const char* param, double seconds, double min, double max);
void validate_json_size(const char* param, int64_t bytes);

}  // namespace baton::core
