// Typed calls of the baton procedures the stress test drives. Every call throws PgError on
// any error; a caller that expects a refusal catches it and checks the SQLSTATE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg.h"

namespace stress {

// The SQLSTATE baton raises when a caller no longer holds a job under its lease.
inline constexpr const char* kLeaseLost = "QB001";

// The task defer_many gives every job (spelled out in its statement).
inline constexpr const char* kTask = "stress";

struct DeferBatch {
  std::string queue;
  int priority = 0;
  int max_attempts = 1;
  std::string retry_delay;  // constant backoff
  Values args;              // jsonb text per job
  Values locks;             // per job; nullopt for none
};

// One job as fetch_v1 handed it out. Times are on the server's clock, in microseconds.
struct Claim {
  int64_t job_id = 0;
  std::string lock;  // from the job's args (the producer copies it there); empty for none
  std::string token;
  int attempt = 0;
  int max_attempts = 0;
  int64_t claimed_at_us = 0;  // lease_expires_at minus the lease asked for
  int64_t expires_at_us = 0;
};

// One job as fetch_v2 (0.2.0) handed it out: the claim, and the columns fetch_v1 lacks
// that the test checks.
struct ClaimV2 {
  Claim claim;  // claim.lock is the args' copy, as from fetch_v1
  Value lock;   // the job's lock column; nullopt for none
  std::string task;
};

// What a worker reports for one claim.
struct Outcome {
  bool failed = false;
  std::string error;  // only when failed
};

std::vector<int64_t> defer_many(Connection& conn, const DeferBatch& batch);
std::vector<Claim> fetch(Connection& conn, const std::vector<std::string>& queues,
                         const std::string& worker, int max_jobs, int lease_seconds);
// Only after ALTER EXTENSION baton UPDATE TO '0.2.0'; claims only jobs of these tasks.
std::vector<ClaimV2> fetch_v2(Connection& conn, const std::vector<std::string>& queues,
                              const std::string& worker, int max_jobs, int lease_seconds,
                              const std::vector<std::string>& tasks);
// Returns the outcome the server reports (succeeded, waiting, dead, ...).
std::string finish_one(Connection& conn, const Claim& claim, const Outcome& outcome);
// Returns one outcome per claim, in input order; throws if the rows do not line up.
std::vector<std::string> finish_many(Connection& conn, const std::vector<Claim>& claims,
                                     const std::vector<Outcome>& outcomes);
// Extends the lease; returns the new expiry. Throws if the server asks to abort (nobody
// requests aborts in this test).
int64_t heartbeat(Connection& conn, const Claim& claim, int lease_seconds);
int reap(Connection& conn);
int64_t server_now_us(Connection& conn);

}  // namespace stress
