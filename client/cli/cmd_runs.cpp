// baton runs: the operator's view of workflow runs (baton 0.3.0, docs/workflows.md): the list
// of runs (baton.workflow_runs), `runs show ID` (the run, its pending compensations and its
// history), and `runs start`, `runs cancel`, `runs resolve` (start_run_v1, cancel_run_v1,
// resolve_run_v1). A database whose baton predates 0.3.0 has no workflows: exit 1 with a
// message saying so (exit 5 when baton is not installed at all).
#include <baton/workflow.h>

#include "commands.h"
#include "output.h"

#include <iostream>
#include <limits>

namespace baton::cli {

namespace {

const char* const kRunStatuses[] = {"running",     "suspended",      "completed",
                                    "failed",      "cancelled",      "compensating",
                                    "compensated", "needs_operator", "continued"};
const char* const kActions[] = {"retry", "mark_done", "give_up"};

// Every option of the family, and which subcommand takes which.
const char* const kAllOptions[] = {"status",          "workflow",       "limit", "input",
                                   "idempotency-key", "correlation-id", "queue", "workflow-version",
                                   "compensate",      "reason"};

void allow_only(const ParsedArgs& args, const std::string& sub,
                const std::vector<std::string>& allowed) {
  for (const char* option : kAllOptions) {
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == option;
    if (!ok && args.has(option))
      throw UsageError((sub.empty() ? std::string("runs") : "runs " + sub) + " takes no --" +
                       option + " option");
  }
}

RunId parse_run_id(const std::string& text) {
  return parse_int("run ID", text, 1, std::numeric_limits<RunId>::max());
}

// A Client on a database whose baton has workflows (0.3.0 or later). A database with an
// older baton is a plain failure (exit 1, JSON kind "version_mismatch") that says so.
Client connect_for_runs(const Context& ctx) {
  Client client = ctx.connect();
  if (!client.supports("start_run_v1")) {
    std::string db = "?";
    try {
      Json rows = client.query("SELECT pg_catalog.current_database() AS db");
      if (!rows.empty() && rows[0]["db"].is_string()) db = rows[0]["db"].get<std::string>();
    } catch (const ConnectionError&) {
      throw;
    } catch (const Error&) {
    }
    throw VersionMismatch("workflows need baton 0.3.0 or later; database \"" + db +
                          "\" has baton " + client.server().extension_version +
                          " (run: baton upgrade --execute, or ALTER EXTENSION baton UPDATE)");
  }
  return client;
}

std::optional<TimePoint> time_of(const Json& r, const char* k) {
  if (r[k].is_null()) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::microseconds(std::stoll(r[k].get<std::string>()))));
}

std::optional<std::string> text_of(const Json& r, const char* k) {
  if (r[k].is_null()) return std::nullopt;
  return r[k].get<std::string>();
}

// The columns of baton.workflow_runs that RunInfo holds (times as microseconds since the
// epoch, exact whatever the session's TimeZone).
const char* const kRunColumns =
    "id, workflow, version, status, queue, input::text AS input, output::text AS output, error,"
    " idempotency_key, correlation_id, continued_from, continued_to, fence, holder_job, steps,"
    " events, compensation_mode, cancel_requested,"
    " (extract(epoch FROM created_at) * 1000000)::bigint AS created_at,"
    " (extract(epoch FROM finished_at) * 1000000)::bigint AS finished_at,"
    " snapshot_through_seq";

RunInfo run_of_row(const Json& r) {
  RunInfo run;
  run.id = std::stoll(*text_of(r, "id"));
  run.workflow = *text_of(r, "workflow");
  run.version = std::stoi(*text_of(r, "version"));
  run.status = *text_of(r, "status");
  run.queue = *text_of(r, "queue");
  if (auto v = text_of(r, "input")) run.input = Json::parse(*v);
  if (auto v = text_of(r, "output")) run.output = Json::parse(*v);
  run.error = text_of(r, "error");
  run.idempotency_key = text_of(r, "idempotency_key");
  run.correlation_id = text_of(r, "correlation_id").value_or("");
  if (auto v = text_of(r, "continued_from")) run.continued_from = std::stoll(*v);
  if (auto v = text_of(r, "continued_to")) run.continued_to = std::stoll(*v);
  run.fence = std::stoll(text_of(r, "fence").value_or("0"));
  if (auto v = text_of(r, "holder_job")) run.holder_job = std::stoll(*v);
  run.steps = std::stoi(text_of(r, "steps").value_or("0"));
  run.events = std::stoll(text_of(r, "events").value_or("0"));
  run.compensation_mode = text_of(r, "compensation_mode");
  run.cancel_requested = text_of(r, "cancel_requested");
  run.created_at = *time_of(r, "created_at");
  run.finished_at = time_of(r, "finished_at");
  if (auto v = text_of(r, "snapshot_through_seq")) run.snapshot_through_seq = std::stoll(*v);
  return run;
}

template <typename T>
Json opt_json(const std::optional<T>& v) {
  return v ? Json(*v) : Json();
}

Json to_json(const RunInfo& r) {
  return Json{{"id", r.id},
              {"workflow", r.workflow},
              {"version", r.version},
              {"status", r.status},
              {"queue", r.queue},
              {"input", r.input},
              {"output", r.output},
              {"error", json_string(r.error)},
              {"idempotency_key", json_string(r.idempotency_key)},
              {"correlation_id", r.correlation_id},
              {"continued_from", opt_json(r.continued_from)},
              {"continued_to", opt_json(r.continued_to)},
              {"fence", r.fence},
              {"holder_job", opt_json(r.holder_job)},
              {"steps", r.steps},
              {"events", r.events},
              {"compensation_mode", json_string(r.compensation_mode)},
              {"cancel_requested", json_string(r.cancel_requested)},
              {"created_at", iso_time(r.created_at)},
              {"finished_at", json_time(r.finished_at)},
              {"snapshot_through_seq", opt_json(r.snapshot_through_seq)}};
}

Json to_json(const WorkflowEvent& e) {
  return Json{{"seq", e.seq}, {"at", iso_time(e.at)}, {"kind", e.kind}, {"payload", e.payload}};
}

int list_runs(const Context& ctx, const ParsedArgs& args) {
  allow_only(args, "", {"status", "workflow", "limit"});
  std::optional<std::string> status = args.get("status");
  if (status) {
    bool known = false;
    for (const char* s : kRunStatuses) known = known || *status == s;
    if (!known)
      throw UsageError(
          "--status must be one of running, suspended, completed, failed, cancelled, "
          "compensating, compensated, needs_operator, continued, not \"" +
          *status + "\"");
  }
  int limit = 50;
  if (auto v = args.get("limit")) limit = static_cast<int>(parse_int("--limit", *v, 1, 100000));

  Client client = connect_for_runs(ctx);
  Json rows = client.query(std::string("SELECT ") + kRunColumns +
                               " FROM baton.workflow_runs"
                               " WHERE ($1::text IS NULL OR status = $1::text)"
                               " AND ($2::text IS NULL OR workflow = $2::text)"
                               " ORDER BY created_at DESC, id DESC LIMIT $3::integer",
                           {status, args.get("workflow"), std::to_string(limit)});
  std::vector<RunInfo> runs;
  for (const Json& r : rows) runs.push_back(run_of_row(r));
  if (ctx.json) {
    Json list = Json::array();
    for (const RunInfo& r : runs) list.push_back(to_json(r));
    print_json(Json{{"runs", list}});
    return kExitOk;
  }
  if (runs.empty()) {
    std::cout << "no runs\n";
    return kExitOk;
  }
  Table table({"ID", "WORKFLOW", "VERSION", "STATUS", "STEPS", "EVENTS", "CORRELATION ID",
               "CREATED", "FINISHED", "ERROR"});
  for (std::size_t c : {0, 2, 4, 5}) table.align_right(c);
  for (const RunInfo& r : runs)
    table.add_row({std::to_string(r.id), r.workflow, std::to_string(r.version), r.status,
                   std::to_string(r.steps), std::to_string(r.events), r.correlation_id,
                   format_time(r.created_at), format_time(r.finished_at),
                   r.error ? one_line(*r.error, 60) : ""});
  table.print(std::cout);
  if (static_cast<int>(runs.size()) == limit)
    std::cerr << "(showing the newest " << limit << " runs; --limit N for more)\n";
  return kExitOk;
}

struct PendingCompensation {
  int step = 0;
  std::string name;
  std::string task;
  Json args;
  std::string status;
  std::optional<JobId> job_id;
  std::optional<std::string> error;
};

std::vector<PendingCompensation> pending_compensations(Client& client, RunId id) {
  Json rows = client.query(
      "SELECT step, name, task, args::text AS args, status, job_id, error"
      " FROM baton.pending_compensations WHERE run_id = $1::bigint ORDER BY step DESC",
      {std::to_string(id)});
  std::vector<PendingCompensation> out;
  for (const Json& r : rows) {
    PendingCompensation p;
    p.step = std::stoi(*text_of(r, "step"));
    p.name = text_of(r, "name").value_or("");
    p.task = text_of(r, "task").value_or("");
    if (auto v = text_of(r, "args")) p.args = Json::parse(*v);
    p.status = text_of(r, "status").value_or("");
    if (auto v = text_of(r, "job_id")) p.job_id = std::stoll(*v);
    p.error = text_of(r, "error");
    out.push_back(std::move(p));
  }
  return out;
}

int show_run(const Context& ctx, const ParsedArgs& args) {
  allow_only(args, "show", {});
  require_positionals(args, {"show", "ID"});
  RunId id = parse_run_id(args.positionals()[1]);
  Client client = connect_for_runs(ctx);
  // The history first: an unknown run is its P0002 ("run N does not exist").
  std::vector<WorkflowEvent> history = run_history(client, id);
  RunInfo r = run_info(client, id);
  std::vector<PendingCompensation> pending = pending_compensations(client, id);
  if (ctx.json) {
    Json comps = Json::array();
    for (const PendingCompensation& p : pending)
      comps.push_back(Json{{"step", p.step},
                           {"name", p.name},
                           {"task", p.task},
                           {"args", p.args},
                           {"status", p.status},
                           {"job_id", opt_json(p.job_id)},
                           {"error", json_string(p.error)}});
    Json events = Json::array();
    for (const WorkflowEvent& e : history) events.push_back(to_json(e));
    print_json(Json{{"run", to_json(r)}, {"pending_compensations", comps}, {"history", events}});
    return kExitOk;
  }
  auto opt = [](const std::optional<std::string>& s) { return s ? *s : std::string("-"); };
  auto opt_id = [](const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("-");
  };
  std::vector<std::pair<std::string, std::string>> fields = {
      {"workflow", r.workflow},
      {"version", std::to_string(r.version)},
      {"status", r.status + (r.cancel_requested ? " (cancel requested)" : "")},
      {"queue", r.queue},
      {"steps", std::to_string(r.steps)},
      {"events", std::to_string(r.events)},
      {"input", r.input.dump()},
      {"output", r.output.is_null() ? "-" : r.output.dump()},
      {"error", opt(r.error)},
      {"correlation id", r.correlation_id},
      {"idempotency key", opt(r.idempotency_key)},
      {"continued from", opt_id(r.continued_from)},
      {"continued to", opt_id(r.continued_to)},
      {"fence", std::to_string(r.fence)},
      {"holder job", opt_id(r.holder_job)},
      {"compensation", opt(r.compensation_mode)},
      {"snapshot", r.snapshot_through_seq ? "through seq " + std::to_string(*r.snapshot_through_seq)
                                          : std::string("-")},
      {"created at", format_time(r.created_at)},
      {"finished at", format_time(r.finished_at)},
  };
  std::cout << "run " << r.id << "\n";
  for (const auto& [name, value] : fields)
    std::cout << "  " << name << std::string(17 - name.size(), ' ') << value << "\n";
  std::cout << "\npending compensations\n";
  if (pending.empty()) {
    std::cout << "none\n";
  } else {
    Table table({"STEP", "NAME", "TASK", "STATUS", "JOB", "ERROR"});
    table.align_right(0);
    table.align_right(4);
    for (const PendingCompensation& p : pending)
      table.add_row({std::to_string(p.step), p.name, p.task, p.status, opt_id(p.job_id),
                     p.error ? one_line(*p.error, 60) : ""});
    table.print(std::cout);
  }
  std::cout << "\nhistory\n";
  Table table({"SEQ", "AT", "EVENT", "PAYLOAD"});
  table.align_right(0);
  for (const WorkflowEvent& e : history)
    table.add_row(
        {std::to_string(e.seq), format_time(e.at), e.kind,
         e.payload.is_null() || e.payload.empty() ? "" : one_line(e.payload.dump(), 100)});
  table.print(std::cout);
  return kExitOk;
}

int start_run_command(const Context& ctx, const ParsedArgs& args) {
  allow_only(args, "start",
             {"input", "idempotency-key", "correlation-id", "queue", "workflow-version"});
  require_positionals(args, {"start", "WORKFLOW"});
  const std::string& workflow = args.positionals()[1];
  Json input = Json::object();
  if (auto v = args.get("input")) input = parse_json("--input", *v, false);
  StartRunOptions options;
  options.idempotency_key = args.get("idempotency-key");
  options.correlation_id = args.get("correlation-id");
  options.queue = args.get("queue");
  if (auto v = args.get("workflow-version"))
    options.version =
        static_cast<int>(parse_int("--workflow-version", *v, 1, std::numeric_limits<int>::max()));
  Client client = connect_for_runs(ctx);
  StartedRun started = start_run(client, workflow, input, options);
  if (ctx.json) {
    print_json(Json{{"id", started.run_id}, {"workflow", workflow}, {"created", started.created}});
  } else if (started.created) {
    std::cout << "started run " << started.run_id << " (workflow " << workflow << ")\n";
  } else {
    std::cout << "run " << started.run_id << " was started before with idempotency key \""
              << *options.idempotency_key << "\" (not created again)\n";
  }
  return kExitOk;
}

int cancel_run_command(const Context& ctx, const ParsedArgs& args) {
  allow_only(args, "cancel", {"compensate", "reason"});
  require_positionals(args, {"cancel", "ID"});
  RunId id = parse_run_id(args.positionals()[1]);
  Client client = connect_for_runs(ctx);
  std::string status = cancel_run(client, id, args.has("compensate"), args.get("reason"));
  if (ctx.json) {
    print_json(Json{{"id", id}, {"status", status}});
    return kExitOk;
  }
  std::string id_text = "run " + std::to_string(id);
  if (status == "cancelled")
    std::cout << id_text << " cancelled\n";
  else if (status == "compensating")
    std::cout << id_text << " cancelled: its steps are being compensated (status compensating)\n";
  else if (status == "compensated")
    std::cout << id_text << " cancelled and compensated\n";
  else if (status == "running")
    std::cout << id_text
              << ": cancellation requested; a driver holds it and stops at its next write "
                 "(status running)\n";
  else
    std::cout << id_text << ": status " << status << "\n";
  return kExitOk;
}

int resolve_run_command(const Context& ctx, const ParsedArgs& args) {
  allow_only(args, "resolve", {});
  require_positionals(args, {"resolve", "ID", "ACTION"});
  RunId id = parse_run_id(args.positionals()[1]);
  const std::string& action = args.positionals()[2];
  bool known = false;
  for (const char* a : kActions) known = known || action == a;
  if (!known)
    throw UsageError("ACTION must be retry, mark_done or give_up, not \"" + action + "\"");
  Client client = connect_for_runs(ctx);
  std::string status = resolve_run(client, id, action);
  if (ctx.json)
    print_json(Json{{"id", id}, {"action", action}, {"status", status}});
  else
    std::cout << "run " << id << " resolved (" << action << "): status " << status << "\n";
  return kExitOk;
}

int run_runs(const Context& ctx, const ParsedArgs& args) {
  if (args.positionals().empty()) return list_runs(ctx, args);
  const std::string& sub = args.positionals()[0];
  if (sub == "show") return show_run(ctx, args);
  if (sub == "start") return start_run_command(ctx, args);
  if (sub == "cancel") return cancel_run_command(ctx, args);
  if (sub == "resolve") return resolve_run_command(ctx, args);
  throw UsageError("unknown runs subcommand '" + sub +
                   "' (use: baton runs [filters], or runs show, start, cancel, resolve)");
}

}  // namespace

Command runs_command() {
  return {
      "runs",
      "baton runs [--status STATUS] [--workflow NAME] [--limit N]\n"
      "       baton runs show ID\n"
      "       baton runs start [--input JSON] [--idempotency-key KEY] [--correlation-id ID]\n"
      "                        [--queue NAME] [--workflow-version N] WORKFLOW\n"
      "       baton runs cancel [--compensate] [--reason TEXT] ID\n"
      "       baton runs resolve ID retry|mark_done|give_up",
      "workflow runs: list, show, start, cancel, resolve (baton 0.3.0)",
      "Workflow runs (baton 0.3.0; docs/workflows.md).\n"
      "  runs            lists runs (baton.workflow_runs), newest first.\n"
      "  runs show ID    one run with every column, its pending compensations\n"
      "                  (baton.pending_compensations) and its history (run_history_v1).\n"
      "  runs start      starts a run of WORKFLOW (start_run_v1): its newest version unless\n"
      "                  --workflow-version, in queue \"workflows\" unless --queue; prints the "
      "run's id\n"
      "                  and whether it was created (a repeated --idempotency-key returns the\n"
      "                  first run, not created). An unknown workflow or queue fails with 42704.\n"
      "  runs cancel ID  cancels a running or suspended run (cancel_run_v1), with\n"
      "                  --compensate through its compensations; prints the status after\n"
      "                  (\"running\" while a driver holds it: it stops at its next write).\n"
      "  runs resolve ID ACTION\n"
      "                  decides for a run in needs_operator (resolve_run_v1): retry the\n"
      "                  failed compensation, mark_done (fixed by hand: go on) or give_up\n"
      "                  (the run ends failed); prints the status after.\n"
      "An unknown run fails with SQLSTATE P0002, a run in the wrong state (cancelling a\n"
      "finished run, resolving one not in needs_operator) with 55000 (exit 1). A database\n"
      "whose baton predates 0.3.0 has no workflows: exit 1 (JSON error kind\n"
      "\"version_mismatch\"); upgrade it with baton upgrade --execute.\n"
      "JSON: {\"runs\": [RUN...]}; show: {\"run\": RUN, \"pending_compensations\": [{\"step\",\n"
      "\"name\", \"task\", \"args\", \"status\", \"job_id\", \"error\"}], \"history\": [{\"seq\",\n"
      "\"at\", \"kind\", \"payload\"}]}; start: {\"id\", \"workflow\", \"created\"}; cancel:\n"
      "{\"id\", \"status\"}; resolve: {\"id\", \"action\", \"status\"}. RUN has the keys id,\n"
      "workflow, version, status, queue, input, output, error, idempotency_key,\n"
      "correlation_id, continued_from, continued_to, fence, holder_job, steps, events,\n"
      "compensation_mode, cancel_requested, created_at, finished_at, snapshot_through_seq\n"
      "(times in RFC 3339 UTC, null when not set).\n",
      {
          {"status", 's', "STATUS",
           "list: only runs in this status: running, suspended,\n"
           "completed, failed, cancelled, compensating, compensated,\n"
           "needs_operator, continued"},
          {"workflow", 'w', "NAME", "list: only runs of this workflow"},
          {"limit", 'n', "N", "list: at most N runs (default 50)"},
          {"input", 'i', "JSON", "start: the run's input (default {})"},
          {"idempotency-key", 0, "KEY", "start: one run per workflow and KEY"},
          {"correlation-id", 0, "ID", "start: the correlation id (default run:<id>)"},
          {"queue", 'q', "NAME", "start: the queue of its driver jobs (default workflows)"},
          {"workflow-version", 0, "N", "start: this workflow version (default the newest)"},
          {"compensate", 0, "", "cancel: undo the finished steps (their compensations)"},
          {"reason", 'r', "TEXT", "cancel: why (kept in the run's history)"},
      },
      run_runs};
}

}  // namespace baton::cli
