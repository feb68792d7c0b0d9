// Retry policy: when a failed attempt is retried, and after how long.
#pragma once

#include <cstddef>

namespace baton::core {

enum class Backoff { kConstant, kLinear, kExponential };

// Parses "constant", "linear" or "exponential"; throws core::Error otherwise.
Backoff parse_backoff(const char* text, std::size_t len);

// Seconds to wait before the next attempt after `attempts` attempts have run (>= 1):
// constant = base, linear = base * attempts, exponential = base * 2^(attempts-1); never
// more than cap. Deterministic so a test (and an operator) can predict it.
double retry_delay_seconds(Backoff backoff, double base, double cap, int attempts);

}  // namespace baton::core
