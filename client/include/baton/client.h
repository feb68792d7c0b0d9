// baton::Client: typed calls of baton's versioned SQL procedures over one libpq connection.
//
//   baton::Client c("dbname=app");            // "" = the PG* environment variables
//   c.create_queue("emails");
//   baton::JobId id = c.defer("emails", "send_welcome", {{"user_id", 42}});
//   for (const baton::Job& job : c.fetch({"emails"}, "worker-1", {10})) {
//     ...
//     c.finish(job.id, job.lease_token, baton::FinishStatus::succeeded);
//   }
//
// THREAD SAFETY: one Client is one connection and is NOT thread safe. Do not share one
// between threads without your own locking; give each thread (each worker slot) its own.
// A Client may be moved; a moved-from Client may only be destroyed or assigned to.
//
// Every call runs in its own implicit transaction unless a Transaction is open (see below).
// Calls pass every value as a libpq parameter, never spliced into SQL, and use named
// notation (`baton.defer_v1(queue => $1, ...)`) so that only the options given are sent and
// the server's defaults apply to the rest. The hot calls (defer, defer_many, fetch, finish,
// finish_many, heartbeat) run as prepared statements, prepared once per connection (per
// combination of options given) and prepared again after reconnect().
//
// Errors: every failure throws a subclass of baton::Error (errors.h). When the connection
// is lost, the call throws ConnectionError and connected() turns false; the Client does not
// reconnect by itself (a job's lease may have been lost meanwhile, which only the caller can
// judge): call reconnect().
#pragma once

#include <baton/errors.h>
#include <baton/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// libpq's handle, so that this header does not include libpq-fe.h.
typedef struct pg_conn PGconn;

namespace baton {

namespace detail {
struct ClientAccess;  // the workflow calls (workflow_calls.cpp) reach the connection's state
}

// Version of this client library.
inline constexpr const char* kClientVersion = "0.3.0";

// The procedures this client cannot work without; the handshake refuses a server that lacks
// any of them (VersionMismatch).
extern const char* const kRequiredProcedures[5];

class Client {
 public:
  // Connects (conninfo as libpq takes it: "host=... dbname=..." or a postgresql:// URI;
  // empty = the standard PG* environment variables) and runs the version handshake.
  // Throws ConnectionError if the server cannot be reached, VersionMismatch if baton is
  // missing from the database or lacks a procedure the client needs.
  explicit Client(const std::string& conninfo = "");
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- connection -------------------------------------------------------------------------

  // True while the connection is up, as far as libpq knows (it learns of a dead connection
  // on the next call).
  bool connected() const;
  // Drops the connection (if any), connects again with the same conninfo, re-runs the
  // handshake, forgets prepared statements (they are prepared again on first use) and
  // re-issues LISTEN for every channel listen()ed before. An open Transaction is lost.
  // Throws like the constructor.
  void reconnect();
  // The backend's process id (for pg_terminate_backend, logs), 0 when not connected.
  int backend_pid() const;
  // The connection's socket, for a caller's own poll/select loop (-1 when not connected).
  int socket() const;
  // The libpq handle, for what this class does not offer. Do not PQfinish it.
  PGconn* native_handle() const;
  // Receives the server's NOTICE/WARNING messages and libpq's own notices (e.g. the FATAL
  // text of a terminated backend), one line each without the trailing newline. By default
  // libpq prints them to stderr; an empty function discards them. Kept across reconnect().
  void set_notice_handler(std::function<void(const std::string&)> handler);

  // ---- version handshake ------------------------------------------------------------------

  // What the handshake found (cached; refreshed by reconnect() and refresh_server_info()).
  const ServerInfo& server() const;
  // Runs the handshake again on this connection (e.g. after ALTER EXTENSION baton UPDATE).
  const ServerInfo& refresh_server_info();
  // Whether the database serves this versioned procedure, e.g. supports("fetch_v2").
  bool supports(const std::string& procedure) const;
  // Calls baton.version_v1() now. VersionMismatch on a 0.1.0 database.
  ServerInfo version();

  // ---- queues (create/drop/pause/resume need baton_admin) ---------------------------------

  // create_queue_v1: true if created, false if it existed (its settings were updated).
  bool create_queue(const std::string& queue, const QueueOptions& options = {});
  // drop_queue_v1: the number of jobs removed. Conflict (55000) while jobs are active and
  // force is false.
  std::int64_t drop_queue(const std::string& queue, bool force = false);
  // pause_queue_v1 / resume_queue_v1 (0.2.0): true when the state changed.
  bool pause_queue(const std::string& queue);
  bool resume_queue(const std::string& queue);
  // await_work_v1: announces that this connection LISTENs on these queues for up to `wait`
  // (server default 30 s). Call listen_queue() for each queue first (see README Wake-ups).
  void await_work(const std::vector<std::string>& queues, std::optional<Duration> wait = {});

  // ---- producing --------------------------------------------------------------------------

  // defer_v1: the new job's id. Conflict (23505) for a queueing_lock already waiting.
  JobId defer(const std::string& queue, const std::string& task, const Json& args = Json::object(),
              const DeferOptions& options = {});
  // defer_many_v1: ids in input order; one statement, all or nothing (1 ... 10,000 jobs).
  std::vector<JobId> defer_many(const std::string& queue, const std::string& task,
                                const std::vector<Json>& args,
                                const DeferManyOptions& options = {});

  // ---- working ----------------------------------------------------------------------------

  // Claims due jobs: fetch_v2 when the server has it (the Job then carries lock,
  // deferred_at and last_error), else fetch_v1. A task filter needs fetch_v2:
  // VersionMismatch on a 0.1.0 server.
  std::vector<Job> fetch(const std::vector<std::string>& queues, const std::string& worker,
                         const FetchOptions& options = {});
  // The same, pinned to one procedure version (fetch_v1 refuses a task filter with
  // InvalidArgument, fetch_v2 is VersionMismatch on a 0.1.0 server).
  std::vector<Job> fetch_v1(const std::vector<std::string>& queues, const std::string& worker,
                            const FetchOptions& options = {});
  std::vector<Job> fetch_v2(const std::vector<std::string>& queues, const std::string& worker,
                            const FetchOptions& options = {});
  // heartbeat_v1: extends the lease (server default 5 minutes). LeaseLost when the job is
  // no longer held under this token.
  Heartbeat heartbeat(JobId job_id, const std::string& lease_token,
                      std::optional<Duration> lease = {});
  // finish_v1: the job's new status ("succeeded", "waiting" for a retry, "dead",
  // "cancelled"). LeaseLost when the job is no longer held under this token (also when
  // finishing twice).
  std::string finish(JobId job_id, const std::string& lease_token, FinishStatus status,
                     const FinishOptions& options = {});
  // finish_many_v1: one row per item in input order; items not held come back "lease_lost"
  // (no exception), the others are applied.
  std::vector<FinishResult> finish_many(const std::vector<FinishItem>& items);

  // ---- operating --------------------------------------------------------------------------

  // cancel_v1: a waiting or blocked job. Conflict (55000) for a running job.
  void cancel(JobId job_id, const std::optional<std::string>& reason = {});
  // request_abort_v1: the worker of a running job learns it from heartbeat().
  void request_abort(JobId job_id);
  // retry_v1: a dead or cancelled job back to waiting (at run_at, default now).
  void retry(JobId job_id, std::optional<TimePoint> run_at = {});
  // reap_v1: expired leases returned to waiting (or ended); the number of jobs handled.
  int reap(std::optional<int> max_jobs = {});
  // purge_finished_v1: finished jobs older than older_than deleted (one bounded batch).
  std::int64_t purge_finished(Duration older_than, std::optional<int> max_jobs = {});
  // queue_stats_v1: one row per queue, ordered by queue name.
  std::vector<QueueStats> queue_stats();
  // job_history_v1: the job's events in order. NotFound for an unknown job.
  std::vector<JobEvent> job_history(JobId job_id);
  // Jobs from the view baton.all_jobs, filtered by queue and status.
  std::vector<JobInfo> list_jobs(const JobFilter& filter = {});

  // ---- wake-ups ---------------------------------------------------------------------------

  // The channel a queue's wake-ups are sent on: "baton_<queue>".
  static std::string channel_for(const std::string& queue);
  // LISTEN on a channel (quoted as an identifier). Remembered and re-issued on reconnect().
  void listen(const std::string& channel);
  void listen_queue(const std::string& queue) { listen(channel_for(queue)); }
  void unlisten(const std::string& channel);
  // Returns a notification already received, or waits up to `timeout` for one (poll on the
  // socket); nullopt on timeout. ConnectionError if the connection drops while waiting.
  std::optional<Notification> wait_for_notification(Duration timeout);
  // Returns a notification already received without waiting (after reading what the socket
  // has), or nullopt.
  std::optional<Notification> next_notification();

  // ---- raw SQL (for tools and tests) ------------------------------------------------------

  // Runs one statement with text parameters ($1, $2, ...). Returns the rows as a JSON array
  // of objects: column name -> text value, or null for SQL NULL. Errors map as for the
  // typed calls.
  Json query(const std::string& sql, const std::vector<Param>& params = {});
  // Runs one or more statements without parameters, ignoring rows (SET ROLE, BEGIN, ...).
  void execute(const std::string& sql);

 private:
  friend struct detail::ClientAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A transaction on a Client: BEGIN at construction, ROLLBACK at destruction unless
// commit() was called. Calls made on the client meanwhile are part of it (e.g. a worker that
// defers a follow-up job and finishes its own job atomically).
class Transaction {
 public:
  explicit Transaction(Client& client);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();
  void rollback();

 private:
  Client& client_;
  bool open_ = true;
};

}  // namespace baton
