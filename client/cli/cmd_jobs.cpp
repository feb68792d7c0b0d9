// baton jobs: the list of jobs (baton.all_jobs) with filters, and `jobs show ID`: one job
// with its event history (baton.job_history_v1).
#include "commands.h"
#include "output.h"

#include <iostream>

namespace baton::cli {

namespace {

const char* const kStatuses[] = {"waiting", "running", "blocked", "succeeded", "dead", "cancelled"};

std::string attempts_text(const JobInfo& j) {
  return std::to_string(j.attempts) + "/" + std::to_string(j.max_attempts);
}

int list_jobs(const Context& ctx, const ParsedArgs& args) {
  JobFilter filter;
  filter.queue = args.get("queue");
  if (auto status = args.get("status")) {
    bool known = false;
    for (const char* s : kStatuses) known = known || *status == s;
    if (!known)
      throw UsageError(
          "--status must be one of waiting, running, blocked, succeeded, dead, "
          "cancelled, not \"" +
          *status + "\"");
    filter.status = *status;
  }
  filter.limit = 50;
  if (auto limit = args.get("limit"))
    filter.limit = static_cast<int>(parse_int("--limit", *limit, 1, 100000));
  filter.newest_first = !args.has("oldest-first");

  Client client = ctx.connect();
  std::vector<JobInfo> jobs = client.list_jobs(filter);
  if (ctx.json) {
    Json list = Json::array();
    for (const JobInfo& j : jobs) list.push_back(to_json(j));
    print_json(Json{{"jobs", list}});
    return kExitOk;
  }
  if (jobs.empty()) {
    std::cout << "no jobs\n";
    return kExitOk;
  }
  Table table({"ID", "QUEUE", "TASK", "STATUS", "ATTEMPTS", "PRIORITY", "DEFERRED", "RUN AT",
               "FINISHED", "ERROR"});
  table.align_right(0);
  table.align_right(4);
  table.align_right(5);
  for (const JobInfo& j : jobs)
    table.add_row({std::to_string(j.id), j.queue, j.task, j.status, attempts_text(j),
                   std::to_string(j.priority), format_time(j.deferred_at), format_time(j.run_at),
                   format_time(j.finished_at), j.error ? one_line(*j.error, 60) : ""});
  table.print(std::cout);
  if (static_cast<int>(jobs.size()) == filter.limit)
    std::cerr << "(showing the " << (filter.newest_first ? "newest " : "oldest ") << filter.limit
              << " jobs; --limit N for more)\n";
  return kExitOk;
}

// The job from baton.all_jobs (times as microseconds since the epoch, so they are exact
// whatever the session's TimeZone).
std::optional<JobInfo> fetch_job(Client& client, JobId id) {
  Json rows = client.query(
      "SELECT id, queue, task, args::text AS args, priority, status, attempts, max_attempts,"
      " (extract(epoch FROM run_at) * 1000000)::bigint AS run_at, lock, queueing_lock, worker,"
      " (extract(epoch FROM lease_expires_at) * 1000000)::bigint AS lease_expires_at,"
      " abort_requested, result::text AS result, error,"
      " (extract(epoch FROM deferred_at) * 1000000)::bigint AS deferred_at,"
      " (extract(epoch FROM claimed_at) * 1000000)::bigint AS claimed_at,"
      " (extract(epoch FROM finished_at) * 1000000)::bigint AS finished_at"
      " FROM baton.all_jobs WHERE id = $1::bigint",
      {std::to_string(id)});
  if (rows.empty()) return std::nullopt;
  const Json& r = rows[0];
  auto text = [&](const char* k) -> std::optional<std::string> {
    if (r[k].is_null()) return std::nullopt;
    return r[k].get<std::string>();
  };
  auto time = [&](const char* k) -> std::optional<TimePoint> {
    if (r[k].is_null()) return std::nullopt;
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
        std::chrono::microseconds(std::stoll(r[k].get<std::string>()))));
  };
  JobInfo j;
  j.id = std::stoll(*text("id"));
  j.queue = *text("queue");
  j.task = *text("task");
  j.args = Json::parse(*text("args"));
  j.priority = std::stoi(*text("priority"));
  j.status = *text("status");
  j.attempts = std::stoi(*text("attempts"));
  j.max_attempts = std::stoi(*text("max_attempts"));
  j.run_at = time("run_at");
  j.lock = text("lock");
  j.queueing_lock = text("queueing_lock");
  j.worker = text("worker");
  j.lease_expires_at = time("lease_expires_at");
  j.abort_requested = text("abort_requested").value_or("f") == "t";
  if (auto result = text("result")) j.result = Json::parse(*result);
  j.error = text("error");
  j.deferred_at = *time("deferred_at");
  j.claimed_at = time("claimed_at");
  j.finished_at = time("finished_at");
  return j;
}

int show_job(const Context& ctx, const ParsedArgs& args) {
  for (const char* option : {"queue", "status", "limit", "oldest-first"})
    if (args.has(option))
      throw UsageError(std::string("jobs show takes no --") + option + " option");
  require_positionals(args, {"show", "ID"});
  JobId id = parse_job_id(args.positionals()[1]);
  Client client = ctx.connect();
  // The history first: an unknown job is its P0002 ("job N does not exist").
  std::vector<JobEvent> history = client.job_history(id);
  std::optional<JobInfo> job = fetch_job(client, id);
  if (!job) throw NotFound("job " + std::to_string(id) + " does not exist", "P0002");
  if (ctx.json) {
    Json events = Json::array();
    for (const JobEvent& e : history) events.push_back(to_json(e));
    print_json(Json{{"job", to_json(*job)}, {"history", events}});
    return kExitOk;
  }
  const JobInfo& j = *job;
  auto opt = [](const std::optional<std::string>& s) { return s ? *s : std::string("-"); };
  std::vector<std::pair<std::string, std::string>> fields = {
      {"queue", j.queue},
      {"task", j.task},
      {"status", j.status + (j.abort_requested ? " (abort requested)" : "")},
      {"attempts", attempts_text(j)},
      {"priority", std::to_string(j.priority)},
      {"args", j.args.dump()},
      {"result", j.result.is_null() ? "-" : j.result.dump()},
      {"error", opt(j.error)},
      {"lock", opt(j.lock)},
      {"queueing lock", opt(j.queueing_lock)},
      {"worker", opt(j.worker)},
      {"deferred at", format_time(j.deferred_at)},
      {"run at", format_time(j.run_at)},
      {"claimed at", format_time(j.claimed_at)},
      {"lease expires", format_time(j.lease_expires_at)},
      {"finished at", format_time(j.finished_at)},
  };
  std::cout << "job " << j.id << "\n";
  for (const auto& [name, value] : fields)
    std::cout << "  " << name << std::string(15 - name.size(), ' ') << value << "\n";
  std::cout << "\nhistory\n";
  Table table({"SEQ", "AT", "EVENT", "DETAIL"});
  table.align_right(0);
  for (const JobEvent& e : history)
    table.add_row({std::to_string(e.seq), format_time(e.at), e.kind,
                   e.detail.is_null() || e.detail.empty() ? "" : one_line(e.detail.dump(), 100)});
  table.print(std::cout);
  return kExitOk;
}

int run_jobs(const Context& ctx, const ParsedArgs& args) {
  if (!args.positionals().empty()) {
    if (args.positionals()[0] != "show")
      throw UsageError("unknown jobs subcommand '" + args.positionals()[0] +
                       "' (use: baton jobs [filters] or baton jobs show ID)");
    return show_job(ctx, args);
  }
  return list_jobs(ctx, args);
}

}  // namespace

Command jobs_command() {
  return {
      "jobs",
      "baton jobs [--queue NAME] [--status STATUS] [--limit N] [--oldest-first]\n"
      "       baton jobs show ID",
      "list jobs; `jobs show ID`: one job and its history",
      "Lists jobs, active or finished (baton.all_jobs), newest first. `jobs show ID`\n"
      "prints one job with every column and its event history (baton.job_history_v1);\n"
      "an unknown job fails with P0002.\n"
      "JSON: {\"jobs\": [JOB...]} and {\"job\": JOB, \"history\": [{\"seq\", \"at\", \"kind\",\n"
      "\"detail\"}]}; JOB has the keys id, queue, task, status, args, priority, attempts,\n"
      "max_attempts, run_at, lock, queueing_lock, worker, lease_expires_at,\n"
      "abort_requested, result, error, deferred_at, claimed_at, finished_at (times in\n"
      "RFC 3339 UTC, null when not set).\n",
      {
          {"queue", 'q', "NAME", "only jobs of this queue"},
          {"status", 's', "STATUS",
           "only jobs in this status: waiting, running, blocked,\n"
           "succeeded, dead, cancelled"},
          {"limit", 'n', "N", "at most N jobs (default 50)"},
          {"oldest-first", 0, "", "the oldest jobs first"},
      },
      run_jobs};
}

}  // namespace baton::cli
