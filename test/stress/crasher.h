// The crashing worker: the lease-expiry and fencing path.
#pragma once

#include "context.h"

namespace stress {

inline constexpr const char* kCrasherName = "crasher";

// For each round: claims a few jobs under the shortest lease, "crashes" holding them (never
// reports), waits until the server's clock is past the lease, then checks that every late
// report is refused: finish_v1 and heartbeat_v1 with SQLSTATE QB001, finish_many_v1 with
// lease_lost. The jobs must come back through the reaper and end like any other; even
// rounds call reap_v1 themselves, odd rounds leave it to fetch_v1's opportunistic reaping.
void run_crasher(Context& ctx);

}  // namespace stress
