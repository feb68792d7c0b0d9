// Value types of the baton client: options of the calls and the rows they return.
//
// Conventions (the same in every call):
//   * Intervals are baton::Duration (std::chrono::microseconds, the server's resolution);
//     any std::chrono duration of whole microseconds or coarser converts implicitly, e.g.
//     std::chrono::seconds(30) or std::chrono::minutes(5).
//   * Timestamps are baton::TimePoint (std::chrono::system_clock::time_point), exact to the
//     microsecond in both directions.
//   * JSON (job args, results, event details) is nlohmann::json.
//   * An option left as std::nullopt is not sent at all, so the server's documented default
//     applies (the client never repeats the server's defaults).
//   * Statuses the server returns are its own words as strings ("waiting", "dead",
//     "lease_lost", ...), so a newer server's status is passed through, not rejected.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace baton {

using Json = nlohmann::json;
using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::system_clock::time_point;
using JobId = std::int64_t;

// The result of the version handshake (baton.version_v1(), or what a 0.1.0 database tells).
struct ServerInfo {
  std::string extension_version;  // baton SQL installed in the database, e.g. "0.2.0"
  std::string library_version;    // loaded baton.so; empty on a 0.1.0 database (unknown)
  std::string package_version;    // package on the server (control file); may be empty
  std::vector<std::string> api;   // versioned procedures the database serves, sorted
  bool upgrade_pending = false;   // ALTER EXTENSION baton UPDATE is due
  bool has_version_v1 = false;    // false: a 0.1.0 database, found without version_v1()
};

// ---- queues -------------------------------------------------------------------------------

// create_queue_v1 settings. Note the server's rule: a setting not given returns to its
// default when the queue already exists.
struct QueueOptions {
  std::optional<bool> notify;
  std::optional<bool> keep_succeeded;
};

// ---- producing ----------------------------------------------------------------------------

enum class Backoff { constant, linear, exponential };

// Options of defer_v1. Leave a field unset for the server's default.
struct DeferOptions {
  std::optional<int> priority;               // -10,000 ... 10,000; higher runs first (default 0)
  std::optional<TimePoint> run_at;           // not before this time (exclusive with delay)
  std::optional<Duration> delay;             // not before now + delay
  std::optional<int> max_attempts;           // 1 ... 1,000 (default 5)
  std::optional<Backoff> retry_backoff;      // default exponential
  std::optional<Duration> retry_delay;       // default 1 second
  std::optional<Duration> retry_delay_max;   // default 1 hour
  std::optional<std::string> lock;           // jobs sharing a lock run one at a time
  std::optional<std::string> queueing_lock;  // one job per key waits for its first attempt
};

// Options of defer_many_v1: the same for every job, except the locks, which are per job
// (same length as the args; an element left nullopt means "no lock" for that job).
struct DeferManyOptions {
  std::optional<int> priority;
  std::optional<TimePoint> run_at;
  std::optional<Duration> delay;
  std::optional<int> max_attempts;
  std::optional<Backoff> retry_backoff;
  std::optional<Duration> retry_delay;
  std::optional<Duration> retry_delay_max;
  std::optional<std::vector<std::optional<std::string>>> locks;
  std::optional<std::vector<std::optional<std::string>>> queueing_locks;
};

// ---- working ------------------------------------------------------------------------------

struct FetchOptions {
  std::optional<int> max_jobs;     // 1 ... 1,000 (default 1)
  std::optional<Duration> lease;   // 1 s ... 7 days (default 5 minutes)
  std::vector<std::string> tasks;  // empty: any task; else only these (needs fetch_v2)
};

// A claimed job. The last three fields come from fetch_v2 only (nullopt through fetch_v1).
struct Job {
  JobId id = 0;
  std::string queue;
  std::string task;
  Json args;
  int attempt = 0;
  int max_attempts = 0;
  int priority = 0;
  std::string lease_token;  // uuid text; pass it back to heartbeat/finish
  TimePoint lease_expires_at;
  std::optional<std::string> lock;
  std::optional<TimePoint> deferred_at;
  std::optional<std::string> last_error;  // why the previous attempt failed
};

enum class FinishStatus { succeeded, failed, cancelled };

struct FinishOptions {
  std::optional<Json> result;
  std::optional<std::string> error;
  std::optional<bool> retryable;  // default true; false makes a failure final (dead)
};

// One element of finish_many.
struct FinishItem {
  JobId job_id = 0;
  std::string lease_token;
  FinishStatus status = FinishStatus::succeeded;
  std::optional<Json> result;
  std::optional<std::string> error;
  std::optional<bool> retryable;
};

// One row of finish_many's answer, in input order. status is the job's new status, or
// "lease_lost" for a job not held under its token (left untouched).
struct FinishResult {
  JobId job_id = 0;
  std::string status;
};

struct Heartbeat {
  TimePoint lease_expires_at;
  bool abort_requested = false;  // stop the job and finish it cancelled
};

// ---- operating ----------------------------------------------------------------------------

struct QueueStats {
  std::string queue;
  std::int64_t waiting = 0;    // due now
  std::int64_t scheduled = 0;  // due later
  std::int64_t blocked = 0;
  std::int64_t running = 0;
  std::int64_t succeeded = 0;
  std::int64_t dead = 0;
  std::int64_t cancelled = 0;
  std::optional<Duration> oldest_waiting_age;  // nullopt when nothing waits
};

struct JobEvent {
  std::int64_t seq = 0;
  TimePoint at;
  std::string kind;  // deferred, claimed, failed, lease_expired, unblocked, ...
  Json detail;       // null when the event has none
};

// Filter of list_jobs (the view baton.all_jobs).
struct JobFilter {
  std::optional<std::string> queue;
  std::optional<std::string> status;  // waiting, running, blocked, succeeded, dead, cancelled
  int limit = 100;                    // at most this many rows (must be >= 1)
  bool newest_first = true;           // order by id descending (else ascending)
};

// A row of baton.all_jobs: every job, active or finished.
struct JobInfo {
  JobId id = 0;
  std::string queue;
  std::string task;
  Json args;
  int priority = 0;
  std::string status;
  int attempts = 0;
  int max_attempts = 0;
  std::optional<TimePoint> run_at;  // active jobs only
  std::optional<std::string> lock;
  std::optional<std::string> queueing_lock;
  std::optional<std::string> worker;
  std::optional<TimePoint> lease_expires_at;
  bool abort_requested = false;
  Json result;                       // null unless finished with one
  std::optional<std::string> error;  // last error
  TimePoint deferred_at;
  std::optional<TimePoint> claimed_at;
  std::optional<TimePoint> finished_at;
};

// A NOTIFY received on a LISTENed channel.
struct Notification {
  std::string channel;
  std::string payload;
  int backend_pid = 0;
};

// A text parameter of Client::query/execute; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// Text form of the enums, as the server spells them.
const char* to_string(Backoff backoff);
const char* to_string(FinishStatus status);

}  // namespace baton
