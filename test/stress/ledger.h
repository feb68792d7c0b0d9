// What the workers saw, kept in process. Two jobs:
//  - the holds: which job (and which lock) each worker is running right now, to catch a
//    job run twice at once or two jobs of one lock at once while it happens;
//  - the log: per job, who claimed each attempt and which final outcome the server
//    reported, to cross-check the database's history after the run.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "baton_api.h"

namespace stress {

struct JobLog {
  std::vector<std::string> claimed_by;  // worker per attempt (attempt n at index n-1)
  int final_reports = 0;                // finish calls that answered succeeded or dead
  std::string final_status;             // what the last of them answered
};

class Ledger {
 public:
  // Logs the claim and takes the hold. Returns the violations it reveals (none normally).
  std::vector<std::string> acquire(const std::string& worker, const Claim& claim);
  // A heartbeat moved the lease.
  void extend(const Claim& claim, int64_t expires_at_us);
  // Drops the hold if it is still this claim's (a reclaim after expiry replaced it).
  void release(const Claim& claim);
  void record_final(int64_t job_id, const std::string& status);

  std::unordered_map<int64_t, JobLog> logs() const;

 private:
  struct Hold {
    std::string worker;
    std::string token;
    std::string lock;
    int64_t expires_at_us;
  };

  // A hold whose lease ran out before the new claim is stale, not a conflict: the server
  // may hand the job (or the lock) to someone else once it has reaped the lease.
  const Hold* live_hold(int64_t job_id, int64_t claimed_at_us) const;

  mutable std::mutex mutex_;  // one lock for all: a map lookup is cheap next to a round trip
  std::unordered_map<int64_t, Hold> holds_;
  std::unordered_map<std::string, int64_t> lock_holders_;  // lock -> job that took it last
  std::unordered_map<int64_t, JobLog> logs_;
};

}  // namespace stress
