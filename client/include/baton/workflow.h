// baton workflows in C++: durable runs whose steps are memoised in the server's history.
//
//   baton::Workflow order("order", 1);
//   order.declare_step("reserve", baton::Compensation{"release_stock"})
//        .declare_step("charge", baton::Compensation{"refund_card"})
//        .declare_step("ship", baton::Compensation::none());
//   order.compensate_on_failure = true;
//   order.body = [](baton::WorkflowContext& ctx) -> baton::Json {
//     baton::Json r = ctx.step("reserve", [&] { return reserve(ctx.input()); },
//                              baton::Compensation{"release_stock", {{"order", 7}}});
//     ctx.step("charge", [&] { return charge(r); }, baton::Compensation{"refund_card", r});
//     ctx.step("ship", [&] { return ship(r); }, baton::Compensation::none());
//     return {{"shipped", true}};                // the run's output
//   };
//   baton::register_workflow(client, order);     // once per version (e.g. at deploy)
//   worker.workflow(order);                      // the handler of task "wf:order"
//   worker.handle("refund_card", ...);           // compensations are ordinary tasks
//   baton::start_run(client, "order", {{"order", 7}}, {.idempotency_key = "order-7"});
//
// THE MODEL (extension/baton--0.2.0--0.3.0.sql has the server side):
//   * start_run defers a *driver job* (task "wf:<workflow>", args {"run_id": N}) in the run's
//     queue. A Worker with the workflow registered (Worker::workflow) runs it: it claims the
//     run with the job's id and lease token (claim_run_v1: the run's lease is the job's
//     lease and the claim bumps the run's *fence*), loads the run (load_run_v1: the newest
//     snapshot, then the events after it), folds them into the state and calls the body.
//     The body's return value completes the run (complete_run_v1).
//   * ctx.step(name, fn, compensation): step k (the k-th step() call, from 1) returns the
//     memoised result when the history already holds step k (fn is not called again);
//     otherwise it calls fn, records the result (record_step_v1) and returns it. A step k
//     recorded under another name means the body is not deterministic: NonDeterminismError,
//     which fails the run at once. The body must reach the same steps in the same order on
//     every replay; anything not deterministic (I/O, clocks, randomness) belongs in a step.
//   * ctx.event(kind, payload): a user event (append_event_v1), folded into the state by the
//     workflow's `fold`. Events are counted like steps: the body's n-th event() call is
//     skipped when the history already holds n user events (it was appended by an earlier
//     attempt), so a replay never appends one twice. Emit events in a deterministic order.
//   * Failures. An exception from the body (or from a step's fn) ends the driver job's
//     attempt: the job is retried (the replay re-runs no finished step) until the attempt
//     limit (the driver job's max_attempts, at most Workflow::max_attempts); at the last
//     attempt, or at once for JobFailure(.., retryable = false) and NonDeterminismError,
//     the run fails (fail_run_v1, with compensation when compensate_on_failure).
//     RunCancelled (QB004: the run was cancelled meanwhile) ends the handler quietly: the
//     driver job that cancel_run_v1 deferred applies the cancellation. LeaseLost (QB001: the
//     job's lease is gone or another job claimed the run) and ConnectionError are rethrown:
//     nothing more is written with this fence. A claim refused with 55P03 (another live job
//     advances the run) is rethrown too, so the job is retried later.
//   * ctx.compensate_all(mode) and ctx.continue_as_new(input) call the server and end the
//     body (they throw an internal exception that the handler catches; do not catch
//     `...` around them without rethrowing).
//   * Compensation jobs are ordinary jobs of the run's queue (task = the compensation's
//     task, args = its args), run by whatever handler the worker has for that task; the
//     server drives them (each is followed in its job lock by a driver job, whose claim
//     advances the compensation). Sequential mode runs them newest first (LIFO), parallel
//     mode schedules all at once. A compensation that runs out of attempts puts the run in
//     needs_operator: resolve_run(retry | mark_done | give_up).
//
// THE FOLDED STATE (what ctx.state() returns and snapshots store, payload format 1):
//   {"steps": [{"name": "reserve", "result": <json>}, ...],   // step k at index k-1
//    "events": <number of user events folded>,                 // absent reads as 0
//    "user": <the user fold's state>}                          // null until folded
// History events of kind "step" append to "steps"; baton's own kinds (started, completed,
// cancel_requested, compensation_*, ...) are not folded; every other kind is a user event:
// "events" counts it and `fold(user, event)` gives the new "user" (no fold: "user" stays
// null). ctx.state() is the fold of the whole history recorded so far (on a replay also of
// what the body has not reached again yet).
//   Snapshots: after a write, when at least `snapshot_threshold` history events (of any
// kind) came after the newest snapshot, the runtime writes the state as a snapshot
// (write_snapshot_v1, format_version 1). The threshold is the one claim_run_v1 reports:
// the workflow's own (Workflow::snapshot_threshold, sent at registration) or the server's
// baton.snapshot_threshold; 0 = no snapshots. A snapshot only shortens the replay:
// folding the newest snapshot and the events after it gives exactly the state that folding
// the whole history gives. decode_snapshot() reads a snapshot's payload: a format_version
// that is absent (NULL) reads as 1; any other version throws SnapshotFormatError.
//
// THREADS: the functions taking a Client& use that connection (not thread safe, as Client).
#pragma once

#include <baton/client.h>
#include <baton/errors.h>
#include <baton/types.h>
#include <baton/worker.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace baton {

using RunId = std::int64_t;

// The newest snapshot payload format this client reads and writes.
inline constexpr int kSnapshotFormat = 1;

// ---- definitions --------------------------------------------------------------------------

// How a step is undone: a job of `task` with `args` in the run's queue, at most
// `max_attempts` attempts (1 ... 1,000). An empty task means "declared none": the step
// needs no undoing (Compensation::none()).
struct Compensation {
  std::string task;
  Json args = Json::object();
  int max_attempts = 5;

  static Compensation none() { return Compensation{}; }
  bool is_none() const { return task.empty(); }
};

// One history event of a run (run_history_v1, load_run_v1).
struct WorkflowEvent {
  std::int64_t seq = 0;
  TimePoint at;
  std::string kind;
  Json payload;
};

// The user's fold: the new user state from the old one (null at first) and a user event.
using UserFold = std::function<Json(Json state, const WorkflowEvent& event)>;

class WorkflowContext;

struct Workflow {
  Workflow() = default;
  Workflow(std::string name_, int version_) : name(std::move(name_)), version(version_) {}

  std::string name;  // 1 to 48 letters, digits, _ - . : (the server checks)
  int version = 1;   // >= 1; a changed definition or body is a new version
  // What is registered (its md5 is the version's identity). declare_step() appends to
  // "steps"; other members may be added freely.
  Json definition = Json::object();
  // Events since the newest snapshot after which a snapshot is written; nullopt = the
  // server's setting baton.snapshot_threshold; 0 = off. Sent at registration.
  std::optional<int> snapshot_threshold;
  // Whether a failed run compensates its recorded steps (sequential) before it ends.
  bool compensate_on_failure = false;
  // The most driver-job attempts that may end in an exception before the run fails
  // (the driver job's own max_attempts, 10, caps it). >= 1.
  int max_attempts = 10;
  UserFold fold;                               // may be empty: user events are only counted
  std::function<Json(WorkflowContext&)> body;  // required to run

  // Declares a step in the definition: {"name": name, "compensation": task | "none"}, or
  // without "compensation" when undeclared. Registration warns when some steps declare a
  // compensation and others declare neither one nor "none".
  Workflow& declare_step(const std::string& step_name);
  Workflow& declare_step(const std::string& step_name, const Compensation& compensation);

  // The driver jobs' task: "wf:<name>".
  std::string task() const { return "wf:" + name; }
};

// ---- state: snapshots and folding ---------------------------------------------------------

// A snapshot row of load_run_v1.
struct WorkflowSnapshot {
  std::int64_t through_seq = 0;
  std::optional<int> format_version;  // nullopt: written without one (reads as 1)
  std::optional<int> workflow_version;
  Json payload;
};

// The state a snapshot payload holds. Format 1 (or absent): an object with a "steps" array
// of {"name", "result"} objects, optional "events" (a count) and "user"; returns it
// normalised (all three members present). SnapshotFormatError for an unknown version or a
// payload that does not have that shape.
Json decode_snapshot(std::optional<int> format_version, const Json& payload);
// The state of an empty history.
Json initial_state();
// One event folded into a state (see THE FOLDED STATE). Throws Error for a step event out
// of order (step k must follow k-1 steps).
Json fold_event(Json state, const WorkflowEvent& event, const UserFold& fold);
// The state of a history: the snapshot (if any) decoded, then the events with a greater seq
// folded in order (events up to its through_seq are skipped).
Json fold_history(const std::optional<WorkflowSnapshot>& snapshot,
                  const std::vector<WorkflowEvent>& events, const UserFold& fold);

// Kinds of history events that baton writes itself (never folded as user events).
bool is_baton_event_kind(const std::string& kind);

// ---- client calls -------------------------------------------------------------------------

struct RegisterResult {
  std::string definition_hash;
  bool created = false;  // false: this version was registered before with this definition
  // The server's WARNING messages of the call (e.g. steps declaring no compensation).
  std::vector<std::string> warnings;
};

// register_workflow_v1. DefinitionConflict (QB003) when the version is registered with
// another definition; InvalidArgument for a bad name, version, definition or threshold.
RegisterResult register_workflow(Client& client, const Workflow& workflow);

struct StartRunOptions {
  std::optional<std::string> idempotency_key;  // one run per workflow and key
  std::optional<std::string> correlation_id;   // default "run:<id>"
  std::optional<std::string> queue;            // default "workflows" (must exist)
  std::optional<int> version;                  // default the newest registered
};

struct StartedRun {
  RunId run_id = 0;
  bool created = false;  // false: the idempotency key's run, started before
};

// start_run_v1. NotFound for an unknown workflow (version) or queue.
StartedRun start_run(Client& client, const std::string& workflow,
                     const Json& input = Json::object(), const StartRunOptions& options = {});
// cancel_run_v1: the status now ("cancelled", "compensating", "compensated", or still
// "running" while a driver holds it: its next write stops it). Conflict when the run is not
// running or suspended.
std::string cancel_run(Client& client, RunId run_id, bool compensate = false,
                       const std::optional<std::string>& reason = {});
// resolve_run_v1 (action "retry", "mark_done" or "give_up"): the status afterwards.
std::string resolve_run(Client& client, RunId run_id, const std::string& action);

// A row of baton.workflow_runs.
struct RunInfo {
  RunId id = 0;
  std::string workflow;
  int version = 0;
  std::string status;  // running, completed, failed, cancelled, compensating, ...
  std::string queue;
  Json input;
  Json output;  // null unless completed with one
  std::optional<std::string> error;
  std::optional<std::string> idempotency_key;
  std::string correlation_id;
  std::optional<RunId> continued_from;
  std::optional<RunId> continued_to;
  std::int64_t fence = 0;
  std::optional<JobId> holder_job;
  int steps = 0;
  std::int64_t events = 0;  // the newest history event's seq
  std::optional<std::string> compensation_mode;
  std::optional<std::string> cancel_requested;
  TimePoint created_at;
  std::optional<TimePoint> finished_at;
  std::optional<std::int64_t> snapshot_through_seq;
};

// The run's row; NotFound for an unknown run.
RunInfo run_info(Client& client, RunId run_id);
// run_history_v1: every event in order. NotFound for an unknown run.
std::vector<WorkflowEvent> run_history(Client& client, RunId run_id);

// What load_run_v1 returns: the newest snapshot (if any) and the events after it.
struct LoadedRun {
  std::optional<WorkflowSnapshot> snapshot;
  std::vector<WorkflowEvent> events;
};
LoadedRun load_run(Client& client, RunId run_id);

// ---- running ------------------------------------------------------------------------------

// The registered versions of one workflow, by version.
class WorkflowVersions {
 public:
  void add(const Workflow& workflow);  // replaces a version added before
  const Workflow* find(int version) const;
  const std::string& name() const { return name_; }
  bool empty() const { return by_version_.empty(); }

 private:
  std::string name_;
  std::map<int, Workflow> by_version_;
};

// Runs one driver job of a run on `client` (the connection of the job's worker slot): what
// the handler Worker::workflow() registers does. Returns the job's result,
// {"run_id": N, "outcome": ...}: "completed", "failed", "compensating", "compensated",
// "continued", "cancel_pending" (QB004 stopped the body) or "not_running" (with "status":
// the claim found nothing to run). Throws (so that the job is retried) as THE MODEL says.
Json run_driver_job(Client& client, const Job& job, const WorkflowVersions& versions);

// What a run's body may do. Valid only during the body call, on its thread.
class WorkflowContext {
 public:
  RunId run_id() const;
  int version() const;
  const Json& input() const;
  const std::string& correlation_id() const;
  std::optional<RunId> continued_from() const;
  std::int64_t fence() const;
  const Job& job() const;  // the driver job
  // The folded state (see THE FOLDED STATE).
  const Json& state() const;
  // Steps called so far in this attempt, and steps the history holds.
  int steps_called() const;
  int steps_recorded() const;

  // See THE MODEL. fn's result is the step's result (null allowed); compensation nullopt =
  // undeclared (neither a compensation nor "none").
  Json step(const std::string& name, const std::function<Json()>& fn,
            const std::optional<Compensation>& compensation = std::nullopt);
  // A user event (kind: 1 to 63 of a-z 0-9 _ . : -, not one of baton's). Skipped on a
  // replay when already recorded. Returns true when appended now.
  bool event(const std::string& kind, const Json& payload = Json::object());
  // compensate_all_v1 ("sequential": newest first, one at a time; "parallel": all at once),
  // then ends the body; the run is then compensating (or compensated when none is pending).
  [[noreturn]] void compensate_all(const std::string& mode = "sequential",
                                   const std::optional<std::string>& reason = {});
  // continue_as_new_v1: ends this run ("continued") and starts its successor with `input`
  // (same correlation id), then ends the body.
  [[noreturn]] void continue_as_new(const Json& input);

  struct State;
  explicit WorkflowContext(State& state) : s_(&state) {}
  WorkflowContext(const WorkflowContext&) = delete;
  WorkflowContext& operator=(const WorkflowContext&) = delete;

 private:
  State* s_;
};

}  // namespace baton
