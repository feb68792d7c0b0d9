// The workflow procedures (0.3.0): registration, starting, cancelling and inspecting runs,
// and the fenced writes of a driver. A driver's calls (claim, load, steps, events,
// snapshots, completion) run as prepared statements; the rare ones do not.
#include <string>
#include <vector>

#include "internal.h"
#include "workflow_internal.h"

namespace baton {
namespace {

using detail::Call;
using detail::ClientAccess;
using detail::Rows;
using detail::to_param;

Rows run(Client& client, const Call& call, const std::string& select_list, bool prepare,
         const std::string& suffix = {}) {
  auto& impl = ClientAccess::impl(client);
  // A database before 0.3.0: VersionMismatch naming the release, not "function does not exist".
  impl.require(call.procedure(), "workflows");
  return impl.run(call, select_list, prepare, suffix);
}

std::vector<WorkflowEvent> events_of(const Rows& rows, int seq, int at, int kind, int payload,
                                     int first = 0) {
  std::vector<WorkflowEvent> out;
  for (int i = first; i < rows.size(); ++i) {
    WorkflowEvent e;
    e.seq = rows.int64(i, seq);
    e.at = rows.time(i, at);
    e.kind = rows.text(i, kind);
    e.payload = rows.json(i, payload);
    out.push_back(std::move(e));
  }
  return out;
}

// Collects the WARNING messages of the statements run while alive (and passes every notice
// on to libpq's default receiver, which calls the Client's notice handler or prints it).
class WarningCollector {
 public:
  explicit WarningCollector(PGconn* conn) : conn_(conn) {
    previous_ = PQsetNoticeReceiver(conn_, &WarningCollector::receive, this);
  }
  ~WarningCollector() { PQsetNoticeReceiver(conn_, previous_, nullptr); }
  WarningCollector(const WarningCollector&) = delete;
  WarningCollector& operator=(const WarningCollector&) = delete;
  std::vector<std::string> warnings;

 private:
  static void receive(void* arg, const PGresult* result) {
    auto* self = static_cast<WarningCollector*>(arg);
    const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    if (severity != nullptr && std::string(severity) == "WARNING" && message != nullptr)
      self->warnings.emplace_back(message);
    // libpq's default receiver ignores its argument and calls the notice processor.
    if (self->previous_ != nullptr) self->previous_(nullptr, result);
  }
  PGconn* conn_;
  PQnoticeReceiver previous_ = nullptr;
};

}  // namespace

RegisterResult register_workflow(Client& client, const Workflow& workflow) {
  Call call("register_workflow_v1");
  call.arg("workflow", "text", workflow.name)
      .arg("version", "integer", to_param(workflow.version))
      .arg("definition", "jsonb", to_param(workflow.definition))
      .opt("snapshot_threshold", "integer", workflow.snapshot_threshold);
  auto& impl = ClientAccess::impl(client);
  WarningCollector collector(impl.live());
  Rows rows = impl.run(call, "definition_hash, created", false);
  RegisterResult out;
  out.definition_hash = rows.text(0, 0);
  out.created = rows.boolean(0, 1);
  out.warnings = std::move(collector.warnings);
  return out;
}

StartedRun start_run(Client& client, const std::string& workflow, const Json& input,
                     const StartRunOptions& options) {
  Call call("start_run_v1");
  call.arg("workflow", "text", workflow)
      .arg("input", "jsonb", to_param(input))
      .opt("idempotency_key", "text", options.idempotency_key)
      .opt("correlation_id", "text", options.correlation_id)
      .opt("queue", "text", options.queue)
      .opt("version", "integer", options.version);
  Rows rows = run(client, call, "run_id, created", false);
  return StartedRun{rows.int64(0, 0), rows.boolean(0, 1)};
}

std::string cancel_run(Client& client, RunId run_id, bool compensate,
                       const std::optional<std::string>& reason) {
  Call call("cancel_run_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("compensate", "boolean", to_param(compensate))
      .opt("reason", "text", reason);
  return run(client, call, {}, false).text(0, 0);
}

std::string resolve_run(Client& client, RunId run_id, const std::string& action) {
  Call call("resolve_run_v1");
  call.arg("run_id", "bigint", to_param(run_id)).arg("action", "text", action);
  return run(client, call, {}, false).text(0, 0);
}

RunInfo run_info(Client& client, RunId run_id) {
  auto& impl = ClientAccess::impl(client);
  impl.require("claim_run_v1", "workflows");
  Rows rows = impl.run(
      "SELECT id, workflow, version, status, queue, input, output, error, idempotency_key, "
      "correlation_id, continued_from, continued_to, fence, holder_job, steps, events, "
      "compensation_mode, cancel_requested, extract(epoch FROM created_at), "
      "extract(epoch FROM finished_at), snapshot_through_seq "
      "FROM baton.workflow_runs WHERE id = $1::bigint",
      {to_param(run_id)}, false);
  if (rows.size() == 0)
    throw NotFound("run " + std::to_string(run_id) + " does not exist", "P0002");
  RunInfo r;
  r.id = rows.int64(0, 0);
  r.workflow = rows.text(0, 1);
  r.version = rows.int32(0, 2);
  r.status = rows.text(0, 3);
  r.queue = rows.text(0, 4);
  r.input = rows.json(0, 5);
  r.output = rows.json(0, 6);
  r.error = rows.opt_text(0, 7);
  r.idempotency_key = rows.opt_text(0, 8);
  r.correlation_id = rows.text(0, 9);
  if (!rows.null(0, 10)) r.continued_from = rows.int64(0, 10);
  if (!rows.null(0, 11)) r.continued_to = rows.int64(0, 11);
  r.fence = rows.int64(0, 12);
  if (!rows.null(0, 13)) r.holder_job = rows.int64(0, 13);
  r.steps = rows.int32(0, 14);
  r.events = rows.int64(0, 15);
  r.compensation_mode = rows.opt_text(0, 16);
  r.cancel_requested = rows.opt_text(0, 17);
  r.created_at = rows.time(0, 18);
  r.finished_at = rows.opt_time(0, 19);
  if (!rows.null(0, 20)) r.snapshot_through_seq = rows.int64(0, 20);
  return r;
}

std::vector<WorkflowEvent> run_history(Client& client, RunId run_id) {
  Call call("run_history_v1");
  call.arg("run_id", "bigint", to_param(run_id));
  Rows rows = run(client, call, "seq, extract(epoch FROM at), kind, payload", false);
  return events_of(rows, 0, 1, 2, 3);
}

LoadedRun load_run(Client& client, RunId run_id) {
  Call call("load_run_v1");
  call.arg("run_id", "bigint", to_param(run_id));
  Rows rows = run(client, call,
                  "item, seq, extract(epoch FROM at), kind, payload, format_version, "
                  "workflow_version",
                  true);
  LoadedRun out;
  int first = 0;
  if (rows.size() > 0 && rows.text(0, 0) == "snapshot") {
    WorkflowSnapshot s;
    s.through_seq = rows.int64(0, 1);
    if (!rows.null(0, 5)) s.format_version = rows.int32(0, 5);
    if (!rows.null(0, 6)) s.workflow_version = rows.int32(0, 6);
    s.payload = rows.json(0, 4);
    out.snapshot = std::move(s);
    first = 1;
  }
  out.events = events_of(rows, 1, 2, 3, 4, first);
  return out;
}

namespace detail {

RunClaim claim_run(Client& client, RunId run_id, JobId job_id, const std::string& lease_token) {
  Call call("claim_run_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("job_id", "bigint", to_param(job_id))
      .arg("lease_token", "uuid", lease_token);
  Rows rows = run(client, call,
                  "id, workflow, version, status, input, fence, snapshot_threshold, last_seq, "
                  "steps, correlation_id, continued_from",
                  true);
  if (rows.size() != 1)
    throw Error("baton workflow: claim_run_v1 returned " + std::to_string(rows.size()) +
                " rows for run " + std::to_string(run_id));
  RunClaim c;
  c.id = rows.int64(0, 0);
  c.workflow = rows.text(0, 1);
  c.version = rows.int32(0, 2);
  c.status = rows.text(0, 3);
  c.input = rows.json(0, 4);
  c.fence = rows.int64(0, 5);
  c.snapshot_threshold = rows.null(0, 6) ? 0 : rows.int32(0, 6);
  c.last_seq = rows.int64(0, 7);
  c.steps = rows.int32(0, 8);
  c.correlation_id = rows.text(0, 9);
  if (!rows.null(0, 10)) c.continued_from = rows.int64(0, 10);
  return c;
}

std::int64_t record_step(Client& client, RunId run_id, std::int64_t fence, int step,
                         const std::string& name, const Json& result,
                         const std::optional<Compensation>& compensation) {
  Call call("record_step_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("step", "integer", to_param(step))
      .arg("name", "text", name)
      .arg("result", "jsonb", to_param(result));
  if (compensation && compensation->is_none()) {
    call.arg("compensation_none", "boolean", to_param(true));
  } else if (compensation) {
    call.arg("compensation_task", "text", compensation->task)
        .arg("compensation_args", "jsonb", to_param(compensation->args))
        .arg("compensation_max_attempts", "integer", to_param(compensation->max_attempts));
  }
  return run(client, call, {}, true).int64(0, 0);
}

std::int64_t append_event(Client& client, RunId run_id, std::int64_t fence, const std::string& kind,
                          const Json& payload) {
  Call call("append_event_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("kind", "text", kind)
      .arg("payload", "jsonb", to_param(payload));
  return run(client, call, {}, true).int64(0, 0);
}

void write_snapshot(Client& client, RunId run_id, std::int64_t fence, std::int64_t through_seq,
                    const Json& state, int format_version) {
  Call call("write_snapshot_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("through_seq", "bigint", to_param(through_seq))
      .arg("state", "jsonb", to_param(state))
      .arg("format_version", "integer", to_param(format_version));
  run(client, call, {}, true);
}

void complete_run(Client& client, RunId run_id, std::int64_t fence, const Json& output) {
  Call call("complete_run_v1");
  call.arg("run_id", "bigint", to_param(run_id)).arg("fence", "bigint", to_param(fence));
  if (!output.is_null()) call.arg("output", "jsonb", to_param(output));
  run(client, call, {}, true);
}

std::string fail_run(Client& client, RunId run_id, std::int64_t fence, const std::string& error,
                     bool compensate) {
  Call call("fail_run_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("error", "text", error)
      .arg("compensate", "boolean", to_param(compensate));
  return run(client, call, {}, false).text(0, 0);
}

std::string compensate_all(Client& client, RunId run_id, std::int64_t fence,
                           const std::string& mode, const std::optional<std::string>& reason) {
  Call call("compensate_all_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("mode", "text", mode)
      .opt("reason", "text", reason);
  return run(client, call, {}, false).text(0, 0);
}

RunId continue_as_new(Client& client, RunId run_id, std::int64_t fence, const Json& input) {
  Call call("continue_as_new_v1");
  call.arg("run_id", "bigint", to_param(run_id))
      .arg("fence", "bigint", to_param(fence))
      .arg("input", "jsonb", to_param(input));
  return run(client, call, {}, false).int64(0, 0);
}

}  // namespace detail
}  // namespace baton
