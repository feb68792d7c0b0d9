// Bounds on every value a caller passes in. They are part of the documented API
// (README "Limits"): changing one is a behaviour change and needs a new _vN procedure.
#pragma once

#include <cstdint>

namespace baton::core::limits {

inline constexpr int kQueueNameMax = 48;  // so "baton_" || queue fits a NOTIFY channel
inline constexpr int kTaskNameMax = 200;
inline constexpr int kWorkerNameMax = 200;
inline constexpr int kLockKeyMax = 200;
inline constexpr int kPriorityMin = -10000;
inline constexpr int kPriorityMax = 10000;
inline constexpr int kMaxAttemptsMax = 1000;
inline constexpr double kRetryDelayMaxSeconds = 30.0 * 86400;  // 30 days
inline constexpr double kDelayMaxSeconds = 3650.0 * 86400;     // ten years
inline constexpr double kLeaseMinSeconds = 1.0;
inline constexpr double kLeaseMaxSeconds = 7.0 * 86400;
inline constexpr int kFetchMax = 1000;
inline constexpr int kBulkMax = 10000;
inline constexpr int64_t kJsonMaxBytes = 1 << 20;  // args and results: 1 MiB
inline constexpr int kErrorTextMax = 16384;        // characters of an error kept

}  // namespace baton::core::limits
