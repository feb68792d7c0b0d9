// What the demo's producer (defer_jobs.cpp) and worker (demo_worker.cpp) agree on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace demo {

// The queues of the demo's imaginary web shop, and the task each is seeded with.
inline const std::vector<std::string> kQueues = {"emails", "images", "webhooks"};

// Mail to this domain bounces: send_email fails for good (the job goes dead at once).
inline const std::string kBounceDomain = "@example.invalid";

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// 1234567 -> "1,234,567".
inline std::string group(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace demo
