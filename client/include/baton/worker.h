// baton::Worker: runs registered task handlers on claimed jobs, N at a time.
//
//   baton::WorkerConfig cfg;
//   cfg.conninfo = "dbname=app";
//   cfg.queues = {"emails"};
//   cfg.slots = 8;
//   cfg.install_signal_handlers = true;          // SIGTERM/SIGINT begin the graceful stop
//   baton::Worker w(cfg);
//   w.handle("send_welcome", [](const baton::Job& job, baton::JobContext& ctx) -> baton::Json {
//     send_mail(job.args.at("user_id"));
//     ctx.defer("emails", "digest", {{"user_id", job.args.at("user_id")}});  // with the success
//     return {{"sent", true}};                    // the job's result (null: no result)
//   });
//   w.run();                                      // blocks until stop() / a signal
//
// How it works (one worker process):
//   * One fetcher thread with its own connection claims up to the number of free slots in
//     one fetch (at most max_batch) and hands the jobs to the slots (ARCHITECTURE §5: one
//     fetcher per process beats many tiny claimers).
//   * One reporter thread with its own connection reports the slots' outcomes, all that
//     queued up while its previous call ran in one finish_many, so that reporting overlaps
//     the next fetch instead of waiting for it. Only the registered tasks are claimed (fetch_v2
//     with `tasks`) unless a default handler is set or the server is 0.1.0 (fetch_v1).
//   * N slot threads run handlers. Each has a Client of its own (Client is not thread safe),
//     connected the first time a handler needs it (JobContext::client(), heartbeat(), or
//     follow-up defers, which are committed with the job's success on it): slots of no-op or
//     pure-compute handlers hold no connection at all.
//   * One heartbeat thread with its own connection extends the lease of every running job
//     every heartbeat_interval (default lease/3).
//   * Idle: after an empty fetch it LISTENs on the queues' channels, calls await_work,
//     fetches once more, then waits for a notification or poll_interval (README
//     "Wake-ups"); nothing depends on NOTIFY arriving.
//   * A dropped connection is re-established with backoff (reconnect_min doubling to
//     reconnect_max). An outcome whose report failed with the connection is reported again
//     after reconnect; if the server then says the job is already in the reported state
//     (the first report had committed), that is success, not a lost lease. No job's outcome
//     is reported twice by one worker.
//
// Outcomes: a handler that returns reports `succeeded` (with its result unless null); one
// that throws reports `failed` with the exception's text (the server's retries apply;
// JobFailure can make it final); if an abort was requested (heartbeat said so) a throwing
// handler reports `cancelled`. A job whose task has no handler fails with "no handler for
// task X on worker W". A job whose lease was lost is not reported at all.
//
// Graceful stop (stop(), SIGTERM, SIGINT): claiming stops at once; running handlers get
// grace_period to finish and their outcomes are reported; jobs still running after it are
// reported failed (retryable, "worker shut down") so another worker retries them, and their
// handlers' eventual results are discarded. run() returns when every handler has returned
// (handlers should poll JobContext::should_stop() or use JobContext::sleep_for). A second
// signal (or stop_now()) ends the grace period at once.
#pragma once

#include <baton/client.h>
#include <baton/errors.h>
#include <baton/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

// ---- logging ------------------------------------------------------------------------------

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
const char* to_string(LogLevel level);

// Receives one formatted line per event, without a trailing newline:
//   ts=2024-05-01T10:00:00.123Z level=info worker=host:123 event=job_done job=17 task=x
//   status=succeeded ms=12
// (key=value; values with spaces, quotes or '=' are double-quoted with \" and \\ escaped).
// Called from any of the worker's threads, one call at a time (the worker serialises them).
using LogSink = std::function<void(LogLevel level, std::string_view line)>;

// ---- configuration ------------------------------------------------------------------------

struct WorkerConfig {
  std::string conninfo;             // as for Client; empty = the PG* environment variables
  std::vector<std::string> queues;  // 1 ... 100 queues to claim from (required)
  std::string name;                 // the worker's name in the jobs' history; empty = host:pid
  int slots = 4;                    // jobs run at the same time (threads), >= 1
  Duration lease = std::chrono::seconds(30);  // lease of each claim and heartbeat (>= 1 s)
  // Longest wait for a notification before fetching again (the polling fallback).
  Duration poll_interval = std::chrono::seconds(5);
  // How long running jobs may go on after stop() before they are released (failed).
  Duration grace_period = std::chrono::seconds(30);
  // Background heartbeat period per running job; nullopt = lease / 3.
  std::optional<Duration> heartbeat_interval;
  int max_batch = 100;  // most jobs one fetch claims (also bounded by free slots; <= 1,000)
  Duration reconnect_min = std::chrono::milliseconds(100);  // first reconnect delay
  Duration reconnect_max = std::chrono::seconds(5);         // cap of the doubling delay
  // Install SIGTERM/SIGINT handlers for the duration of run() (a self-pipe: the handler
  // only writes a byte; a thread of the worker calls stop()). The previous handlers are
  // restored when run() returns. Only one Worker per process may do this at a time.
  bool install_signal_handlers = false;
  // false: run() throws ConnectionError if the server cannot be reached at start (a wrong
  // conninfo shows at once). true: it retries with backoff until connected or stopped.
  bool retry_initial_connect = false;
  // Whether a job with no handler is failed retryable (another worker may have the
  // handler; attempts still run out) or final (dead at once).
  bool unknown_task_retryable = true;
  LogLevel log_level = LogLevel::info;
  LogSink log_sink;  // empty = stderr
};

// ---- counters -----------------------------------------------------------------------------

// Counts since the Worker was constructed (a snapshot; each field is read atomically).
struct WorkerStats {
  std::uint64_t claimed = 0;       // jobs claimed by fetch
  std::uint64_t succeeded = 0;     // reported succeeded (server confirmed)
  std::uint64_t failed = 0;        // reported failed (retry or dead), incl. released/unknown
  std::uint64_t cancelled = 0;     // reported cancelled (abort requested)
  std::uint64_t lease_lost = 0;    // outcomes not reported / refused: the job was not ours
  std::uint64_t released = 0;      // jobs failed at the end of the grace period
  std::uint64_t unknown_task = 0;  // jobs failed for want of a handler
  std::uint64_t reconnects = 0;    // successful reconnects (of any of the connections)
  std::uint64_t fetches = 0;       // fetch calls
  std::uint64_t empty_fetches = 0;
  std::uint64_t finish_calls = 0;   // finish / finish_many calls that returned
  std::uint64_t heartbeats = 0;     // successful heartbeats (background and handler)
  std::uint64_t notifications = 0;  // wake-ups received by NOTIFY
  std::uint64_t running = 0;        // jobs held right now (running or being reported)
};

// ---- handlers -----------------------------------------------------------------------------

class JobContext;

// The handler's return value is the job's result: a JSON object, or null for none.
using Handler = std::function<Json(const Job& job, JobContext& ctx)>;

// Thrown by a handler to choose how the failure is reported. Any other exception is a
// retryable failure with its what() as the error.
class JobFailure : public std::runtime_error {
 public:
  explicit JobFailure(const std::string& error, bool retryable = true)
      : std::runtime_error(error), retryable_(retryable) {}
  bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};

// Thrown by JobContext::check() when the job should stop (abort requested, lease lost or
// released at shutdown); a handler may throw it itself. The outcome is then cancelled
// (abort requested) or not reported at all (lease lost, released); thrown in any other
// situation it is a retryable failure like any exception.
class JobStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
struct RunningJob;
}

struct Workflow;  // workflow.h
class WorkflowVersions;

// What a handler may do besides its work. Valid only during the handler call, on the
// handler's thread (the flag readers are thread safe).
class JobContext {
 public:
  const Job& job() const;
  const std::string& worker_name() const;

  // Extends the lease now on the slot's connection (the background heartbeat does this
  // anyway; call it from a long step to be sure). True when extended; false when the lease
  // is lost or the connection is down (then see lease_lost(); background heartbeats go on).
  bool heartbeat();
  // A heartbeat reported that an operator asked for this job to stop (request_abort_v1).
  bool abort_requested() const;
  // A heartbeat was refused: the job is no longer ours; its outcome will not be reported.
  bool lease_lost() const;
  // The worker is stopping (grace period running); finish soon.
  bool shutting_down() const;
  // The grace period is over and the job was reported failed; the result will be dropped.
  bool released() const;
  // abort_requested() || lease_lost() || released(): nothing useful will come of going on.
  bool should_stop() const;
  // Throws JobStopped when should_stop().
  void check() const;
  // Sleeps up to d, returning early (false) as soon as should_stop() turns true; true when
  // the whole time passed. (The start of the grace period does not cut it short: jobs are
  // meant to finish within it. Check shutting_down() to bail out earlier.)
  bool sleep_for(Duration d);

  // Follow-up jobs, deferred in the same transaction as this job's `succeeded` report, so
  // they exist exactly when the job succeeded (dropped if the handler throws or the lease
  // is lost). Nothing is sent until the handler returns.
  void defer(const std::string& queue, const std::string& task, const Json& args = Json::object(),
             const DeferOptions& options = {});

  // The slot's own connection, for the handler's other SQL (connected on the slot's first
  // use; ConnectionError if that fails). Do not leave a transaction open and do not keep it
  // beyond the call.
  Client& client();

  // For the worker's own use.
  explicit JobContext(detail::RunningJob& running) : r_(&running) {}
  JobContext(const JobContext&) = delete;
  JobContext& operator=(const JobContext&) = delete;

 private:
  detail::RunningJob* r_;
};

// ---- the worker ---------------------------------------------------------------------------

class Worker {
 public:
  // Checks the configuration (InvalidArgument: no queues, slots < 1, lease < 1 s, ...).
  // Connects nothing yet.
  explicit Worker(WorkerConfig config);
  ~Worker();  // stops and joins if still running
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers the handler of a task (replacing an earlier one). Before run() only.
  void handle(const std::string& task, Handler handler);
  // A handler for every task without its own; the worker then claims any task (no task
  // filter). Before run() only.
  void handle_default(Handler handler);
  // Registers a workflow version (workflow.h): the handler of its driver jobs, task
  // "wf:<name>", which runs run_driver_job() on the slot's connection. Several versions of
  // one workflow share the task; each run is driven by its own version. Register the
  // compensation tasks' handlers with handle(). Before run() only.
  void workflow(const Workflow& workflow);
  // The registered task names, sorted.
  std::vector<std::string> tasks() const;

  // Connects (fetcher, reporter, heartbeat; each slot later, on first use), then claims and
  // runs jobs until stop(); returns after the graceful shutdown. Throws ConnectionError (see
  // retry_initial_connect), VersionMismatch or PermissionDenied if it cannot start, and
  // std::logic_error if called twice or with no handler. A Worker runs once.
  void run();
  // Begins the graceful shutdown (thread safe, any time, also before run(): run() then
  // returns at once). Idempotent.
  void stop();
  // Ends the grace period now: running jobs are released at once (thread safe).
  void stop_now();
  // True between the start of run() and its return.
  bool running() const;
  // True once stop() (or a signal) began the shutdown.
  bool stopping() const;

  WorkerStats stats() const;
  const std::string& name() const;
  const WorkerConfig& config() const;

  // The default worker name, "<hostname>:<pid>".
  static std::string default_name();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace baton
