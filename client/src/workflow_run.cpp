// Running a workflow: the driver job's handler (run_driver_job), the body's context
// (steps, events, snapshots, compensate/continue) and Worker::workflow().
#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "baton/workflow.h"
#include "worker_internal.h"
#include "workflow_internal.h"

namespace baton {

// Ends the body after compensate_all()/continue_as_new() (not a std::exception, so that a
// body's catch (const std::exception&) does not swallow it).
namespace {
struct RunEnded {
  std::string outcome;
  Json detail;
};
}  // namespace

struct WorkflowContext::State {
  Client* client = nullptr;
  const Job* job = nullptr;
  const Workflow* workflow = nullptr;
  detail::RunClaim claim;
  Json state;
  int steps_called = 0;
  std::int64_t events_called = 0;
  std::int64_t last_seq = 0;      // the newest history event folded into `state`
  std::int64_t snapshot_seq = 0;  // the newest snapshot's through_seq (0: none)

  // After a write: a snapshot when enough events came after the newest one.
  void maybe_snapshot() {
    const int threshold = claim.snapshot_threshold;
    if (threshold <= 0 || last_seq - snapshot_seq < threshold) return;
    detail::write_snapshot(*client, claim.id, claim.fence, last_seq, state, kSnapshotFormat);
    snapshot_seq = last_seq;
  }
};

RunId WorkflowContext::run_id() const {
  return s_->claim.id;
}
int WorkflowContext::version() const {
  return s_->claim.version;
}
const Json& WorkflowContext::input() const {
  return s_->claim.input;
}
const std::string& WorkflowContext::correlation_id() const {
  return s_->claim.correlation_id;
}
std::optional<RunId> WorkflowContext::continued_from() const {
  return s_->claim.continued_from;
}
std::int64_t WorkflowContext::fence() const {
  return s_->claim.fence;
}
const Job& WorkflowContext::job() const {
  return *s_->job;
}
const Json& WorkflowContext::state() const {
  return s_->state;
}
int WorkflowContext::steps_called() const {
  return s_->steps_called;
}
int WorkflowContext::steps_recorded() const {
  return static_cast<int>(s_->state["steps"].size());
}

Json WorkflowContext::step(const std::string& name, const std::function<Json()>& fn,
                           const std::optional<Compensation>& compensation) {
  State& s = *s_;
  const int k = ++s.steps_called;
  const Json& steps = s.state["steps"];
  if (k <= static_cast<int>(steps.size())) {
    const Json& recorded = steps[static_cast<std::size_t>(k - 1)];
    if (recorded["name"] != name)
      throw NonDeterminismError("baton workflow: run " + std::to_string(s.claim.id) + " (" +
                                s.claim.workflow + " version " + std::to_string(s.claim.version) +
                                ") reached step " + std::to_string(k) + " \"" + name +
                                "\", but its history recorded step " + std::to_string(k) + " as " +
                                recorded["name"].dump() +
                                ": the body is not deterministic (a changed workflow is a new "
                                "version)");
    return recorded["result"];
  }
  Json result = fn ? fn() : Json();
  const std::int64_t seq =
      detail::record_step(*s.client, s.claim.id, s.claim.fence, k, name, result, compensation);
  WorkflowEvent e;
  e.seq = seq;
  e.at = std::chrono::system_clock::now();
  e.kind = "step";
  e.payload = {{"step", k}, {"name", name}, {"result", result}};
  s.state = fold_event(std::move(s.state), e, s.workflow->fold);
  s.last_seq = seq;
  s.maybe_snapshot();
  return result;
}

bool WorkflowContext::event(const std::string& kind, const Json& payload) {
  State& s = *s_;
  const std::int64_t n = ++s.events_called;
  if (n <= s.state["events"].get<std::int64_t>()) return false;  // appended by an earlier attempt
  const std::int64_t seq =
      detail::append_event(*s.client, s.claim.id, s.claim.fence, kind, payload);
  WorkflowEvent e;
  e.seq = seq;
  e.at = std::chrono::system_clock::now();
  e.kind = kind;
  e.payload = payload;
  s.state = fold_event(std::move(s.state), e, s.workflow->fold);
  s.last_seq = seq;
  s.maybe_snapshot();
  return true;
}

void WorkflowContext::compensate_all(const std::string& mode,
                                     const std::optional<std::string>& reason) {
  std::string status =
      detail::compensate_all(*s_->client, s_->claim.id, s_->claim.fence, mode, reason);
  throw RunEnded{status, Json::object()};
}

void WorkflowContext::continue_as_new(const Json& input) {
  RunId next = detail::continue_as_new(*s_->client, s_->claim.id, s_->claim.fence, input);
  throw RunEnded{"continued", {{"continued_to", next}}};
}

Json run_driver_job(Client& client, const Job& job, const WorkflowVersions& versions) {
  const Json* id =
      job.args.is_object() && job.args.contains("run_id") ? &job.args["run_id"] : nullptr;
  if (id == nullptr || !id->is_number_integer())
    throw JobFailure(
        "baton workflow: driver job " + std::to_string(job.id) + " has no run_id in its args",
        false);
  const RunId run_id = id->get<RunId>();
  Json out = {{"run_id", run_id}};

  WorkflowContext::State s;
  s.client = &client;
  s.job = &job;
  s.claim = detail::claim_run(client, run_id, job.id, job.lease_token);
  if (s.claim.status != "running") {
    out["outcome"] = "not_running";
    out["status"] = s.claim.status;
    return out;
  }
  s.workflow = versions.find(s.claim.version);
  if (s.workflow == nullptr || !s.workflow->body)
    // Another worker may have this version: retryable.
    throw JobFailure("baton workflow: no version " + std::to_string(s.claim.version) +
                     " of workflow " + s.claim.workflow + " on this worker");

  LoadedRun loaded = load_run(client, run_id);
  s.state = fold_history(loaded.snapshot, loaded.events, s.workflow->fold);
  s.snapshot_seq = loaded.snapshot ? loaded.snapshot->through_seq : 0;
  s.last_seq = loaded.events.empty() ? s.snapshot_seq : loaded.events.back().seq;

  WorkflowContext ctx(s);
  try {
    Json output = s.workflow->body(ctx);
    detail::complete_run(client, run_id, s.claim.fence, output);
    out["outcome"] = "completed";
  } catch (const RunEnded& e) {
    out["outcome"] = e.outcome;
    out.update(e.detail);
  } catch (const RunCancelled&) {
    out["outcome"] = "cancel_pending";  // the driver job cancel_run_v1 deferred applies it
  } catch (const LeaseLost&) {
    throw;  // not ours any more: write nothing
  } catch (const ConnectionError&) {
    throw;
  } catch (const JobStopped&) {
    throw;
  } catch (const std::exception& e) {
    const auto* failure = dynamic_cast<const JobFailure*>(&e);
    const bool final = dynamic_cast<const NonDeterminismError*>(&e) != nullptr ||
                       (failure != nullptr && !failure->retryable()) ||
                       job.attempt >= std::min(job.max_attempts, s.workflow->max_attempts);
    if (!final) throw;  // the job's retry replays the run
    try {
      out["outcome"] = detail::fail_run(client, run_id, s.claim.fence, e.what(),
                                        s.workflow->compensate_on_failure);
      out["error"] = e.what();
    } catch (const RunCancelled&) {
      out["outcome"] = "cancel_pending";
    }
  }
  return out;
}

void Worker::workflow(const Workflow& workflow) {
  if (impl_->started) throw std::logic_error("baton worker: workflow() after run()");
  if (workflow.name.empty()) throw InvalidArgument("baton worker: a workflow name is empty");
  if (!workflow.body)
    throw InvalidArgument("baton worker: workflow " + workflow.name + " has no body");
  std::shared_ptr<WorkflowVersions>& versions = impl_->workflows[workflow.name];
  if (!versions) {
    versions = std::make_shared<WorkflowVersions>();
    std::shared_ptr<const WorkflowVersions> shared = versions;
    Impl* w = impl_.get();
    handle(workflow.task(), [shared, w](const Job& job, JobContext& ctx) -> Json {
      Json result = run_driver_job(ctx.client(), job, *shared);
      if (w->log.enabled(LogLevel::debug) || result.value("outcome", "") != "not_running")
        w->log.log(LogLevel::info, "run_driven",
                   {{"run", result.value("run_id", RunId{0})},
                    {"job", job.id},
                    {"task", job.task},
                    {"outcome", result.value("outcome", std::string())}});
      return result;
    });
  }
  versions->add(workflow);
}

}  // namespace baton
