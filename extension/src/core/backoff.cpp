#include "backoff.h"

#include <cmath>
#include <cstring>

#include "error.h"
// Last include: fails the build if anything above pulled in a PostgreSQL header.
#include "pure_zone.h"

namespace baton::core {

namespace {
bool equals(const char* text, std::size_t len, const char* word) {
  return std::strlen(word) == len && std::memcmp(text, word, len) == 0;
}
}  // namespace

Backoff parse_backoff(const char* text, std::size_t len) {
  if (equals(text, len, "constant")) return Backoff::kConstant;
  if (equals(text, len, "linear")) return Backoff::kLinear;
  if (equals(text, len, "exponential")) return Backoff::kExponential;
  fail_hint(sqlstate::kInvalidParameter, "Use constant, linear or exponential.",
            "retry_backoff \"%.*s\" is not a known backoff", static_cast<int>(len), text);
}

double retry_delay_seconds(Backoff backoff, double base, double cap, int attempts) {
  if (attempts < 1) attempts = 1;
  if (base <= 0) return 0;
  double delay = base;
  switch (backoff) {
    case Backoff::kConstant:
      break;
    case Backoff::kLinear:
      delay = base * attempts;
      break;
    case Backoff::kExponential:
      // 2^(attempts-1) overflows double near 1024; the cap makes anything past 2^62 moot.
      delay = base * std::ldexp(1.0, attempts - 1 > 62 ? 62 : attempts - 1);
      break;
  }
  return delay < cap ? delay : cap;
}

}  // namespace baton::core
