// A well-behaved worker thread.
#pragma once

#include "context.h"

namespace stress {

// Long enough that no lease of a well-behaved worker runs out during the run.
inline constexpr int kWorkerLeaseSeconds = 30;

// Until told to stop: claims a batch of 1..max_fetch jobs under its own connection, holds
// them in the ledger while it "runs" them (a short sleep, now and then a heartbeat), lets a
// share fail, and reports the batch with finish_many_v1 or job by job with finish_v1,
// checking every answer against the outcome it must produce.
// In an upgrade run, the even-numbered workers fetch with fetch_v2 (0.2.0) once the upgrade
// committed, the others keep fetch_v1: old and new procedures side by side.
void run_worker(Context& ctx, int index);

}  // namespace stress
