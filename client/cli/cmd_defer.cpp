// baton defer: enqueues one job (baton.defer_v1) with the options of the SQL API.
#include "commands.h"
#include "output.h"

#include <iostream>
#include <iterator>

namespace baton::cli {

TimePoint parse_time_on_server(Client& client, const std::string& what, const std::string& text) {
  // The server reads every timestamp format PostgreSQL knows, in the session's TimeZone
  // unless the text names one ("2030-01-01 12:00+02", "tomorrow", "now").
  Json rows;
  try {
    rows = client.query("SELECT (extract(epoch FROM $1::timestamptz) * 1000000)::bigint AS us",
                        {text});
  } catch (const InvalidArgument& e) {
    throw UsageError(what + " is not a timestamp: " + e.what());
  }
  if (rows.empty() || rows[0]["us"].is_null())
    throw UsageError(what + " is not a timestamp: " + text);
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::microseconds(std::stoll(rows[0]["us"].get<std::string>()))));
}

namespace {

Backoff parse_backoff(const std::string& text) {
  if (text == "constant") return Backoff::constant;
  if (text == "linear") return Backoff::linear;
  if (text == "exponential") return Backoff::exponential;
  throw UsageError("--retry-backoff must be constant, linear or exponential, not \"" + text + "\"");
}

int run_defer(const Context& ctx, const ParsedArgs& args) {
  require_positionals(args, {"QUEUE", "TASK"}, 1);
  const std::string& queue = args.positionals()[0];
  const std::string& task = args.positionals()[1];
  Json job_args = Json::object();
  if (args.positionals().size() > 2) {
    std::string text = args.positionals()[2];
    if (text == "-")
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    job_args = parse_json("ARGS-JSON", text, true);
  }
  DeferOptions options;
  if (auto v = args.get("priority"))
    options.priority = static_cast<int>(parse_int("--priority", *v, -10000, 10000));
  if (auto v = args.get("max-attempts"))
    options.max_attempts = static_cast<int>(parse_int("--max-attempts", *v, 1, 1000));
  if (auto v = args.get("delay")) options.delay = parse_duration("--delay", *v);
  if (args.has("delay") && args.has("run-at"))
    throw UsageError("--delay and --run-at exclude each other");
  if (auto v = args.get("retry-backoff")) options.retry_backoff = parse_backoff(*v);
  if (auto v = args.get("retry-delay")) options.retry_delay = parse_duration("--retry-delay", *v);
  if (auto v = args.get("retry-delay-max"))
    options.retry_delay_max = parse_duration("--retry-delay-max", *v);
  options.lock = args.get("lock");
  options.queueing_lock = args.get("queueing-lock");

  Client client = ctx.connect();
  if (auto v = args.get("run-at")) options.run_at = parse_time_on_server(client, "--run-at", *v);
  JobId id = client.defer(queue, task, job_args, options);
  if (ctx.json) {
    print_json(Json{{"id", id}, {"queue", queue}, {"task", task}});
  } else {
    std::cout << "deferred job " << id << " (queue " << queue << ", task " << task << ")\n";
  }
  return kExitOk;
}

}  // namespace

Command defer_command() {
  return {"defer",
          "baton defer [options] QUEUE TASK [ARGS-JSON | -]",
          "enqueue a job",
          "Defers one job of TASK on QUEUE (baton.defer_v1). ARGS-JSON is a JSON object\n"
          "(default {}); \"-\" reads it from stdin. Options not given take the server's\n"
          "defaults. Durations: 500ms, 30s, 5m, 1h30m, 2d. Times: any PostgreSQL timestamp,\n"
          "e.g. \"2030-01-01 12:00:00+00\".\n"
          "Prints the new job's id; JSON: {\"id\", \"queue\", \"task\"}.\n"
          "A queueing lock already waiting fails with SQLSTATE 23505, an unknown queue with\n"
          "42704 (exit 1).\n",
          {
              {"priority", 'p', "N", "-10000 ... 10000, higher runs first (default 0)"},
              {"delay", 0, "DURATION", "not before now + DURATION"},
              {"run-at", 0, "TIME", "not before TIME (excludes --delay)"},
              {"max-attempts", 0, "N", "attempts before the job is dead, 1 ... 1000 (default 5)"},
              {"retry-backoff", 0, "KIND", "constant, linear or exponential (default)"},
              {"retry-delay", 0, "DURATION", "base delay between attempts (default 1s)"},
              {"retry-delay-max", 0, "DURATION", "cap of the delay (default 1h)"},
              {"lock", 0, "KEY", "jobs sharing KEY never run at the same time"},
              {"queueing-lock", 0, "KEY", "at most one job per KEY waits for its first attempt"},
          },
          run_defer};
}

}  // namespace baton::cli
