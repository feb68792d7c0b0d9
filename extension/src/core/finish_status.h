// The outcomes a worker reports for an attempt, and the states a job can be in.
#pragma once

#include <cstddef>

namespace baton::core {

enum class FinishStatus { kSucceeded, kFailed, kCancelled };

// Parses "succeeded", "failed" or "cancelled"; throws core::Error otherwise.
FinishStatus parse_finish_status(const char* text, std::size_t len);

}  // namespace baton::core
