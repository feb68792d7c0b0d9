// Returning jobs whose lease expired: back to waiting (the attempt counted, after the job's
// retry delay), or into history as dead (attempts used up) or cancelled (abort requested).
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// Must run inside SPI. Handles at most max_jobs expired leases; returns how many.
int64 reap_expired(int32 max_jobs);

// Reaps at most once a second per backend, so fetch_v1 recovers stuck jobs whenever any
// worker polls without paying the probe on every call of a busy worker.
void reap_expired_now_and_then();
// Whether reap_expired_now_and_then() would reap now.
bool reap_due();

}  // namespace baton::pg
