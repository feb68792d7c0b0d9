// The after-the-run audit: the database's history against what was deferred and what the
// workers saw.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "context.h"
#include "pg.h"

namespace stress {

// Counts from the history, for the summary.
struct Tally {
  long jobs = 0;
  long locked = 0;  // jobs with a lock
  long succeeded = 0;
  long dead = 0;
  long claims = 0;          // sum of attempts
  long failures = 0;        // attempts that failed and were retried
  long lease_expiries = 0;  // attempts that ended because their lease ran out
};

// Checks, adding every violation found: nothing is left active; history holds every
// deferred id exactly once and nothing else; each job's events tell a consistent story that
// ends in its status; the claims and final answers the workers saw match that story; jobs
// sharing a lock never ran at overlapping times; queue_stats_v1 agrees.
Tally verify_history(Connection& conn, const std::vector<int64_t>& deferred,
                     const std::unordered_map<int64_t, JobLog>& logs, Violations& violations);

}  // namespace stress
