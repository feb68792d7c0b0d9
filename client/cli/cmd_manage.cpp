// baton cancel / baton retry: an operator's changes to one job (baton.cancel_v1,
// baton.retry_v1).
#include "commands.h"
#include "output.h"

#include <iostream>

namespace baton::cli {

namespace {

int run_cancel(const Context& ctx, const ParsedArgs& args) {
  require_positionals(args, {"ID"});
  JobId id = parse_job_id(args.positionals()[0]);
  Client client = ctx.connect();
  client.cancel(id, args.get("reason"));
  if (ctx.json)
    print_json(Json{{"id", id}, {"status", "cancelled"}});
  else
    std::cout << "job " << id << " cancelled\n";
  return kExitOk;
}

int run_retry(const Context& ctx, const ParsedArgs& args) {
  require_positionals(args, {"ID"});
  JobId id = parse_job_id(args.positionals()[0]);
  if (args.has("delay") && args.has("run-at"))
    throw UsageError("--delay and --run-at exclude each other");
  std::optional<Duration> delay;
  if (auto v = args.get("delay")) delay = parse_duration("--delay", *v);
  Client client = ctx.connect();
  std::optional<TimePoint> run_at;
  if (auto v = args.get("run-at")) run_at = parse_time_on_server(client, "--run-at", *v);
  if (delay) run_at = parse_time_on_server(client, "--delay", "now") + *delay;
  client.retry(id, run_at);
  if (ctx.json)
    print_json(Json{{"id", id}, {"status", "waiting"}, {"run_at", json_time(run_at)}});
  else
    std::cout << "job " << id << " is waiting again"
              << (run_at ? " (from " + format_time(run_at) + ")" : "") << "\n";
  return kExitOk;
}

}  // namespace

Command cancel_command() {
  return {"cancel",
          "baton cancel [--reason TEXT] ID",
          "cancel a waiting or blocked job",
          "Cancels a waiting or blocked job (baton.cancel_v1); its history records the\n"
          "reason. A running job cannot be cancelled (SQLSTATE 55000); an unknown job fails\n"
          "with P0002. JSON: {\"id\", \"status\": \"cancelled\"}.\n",
          {{"reason", 'r', "TEXT", "why (kept in the job's history)"}},
          run_cancel};
}

Command retry_command() {
  return {"retry",
          "baton retry [--run-at TIME | --delay DURATION] ID",
          "put a dead or cancelled job back to waiting",
          "Puts a dead or cancelled job back to waiting with a fresh set of attempts\n"
          "(baton.retry_v1), now or at the time given. A job in another state fails with\n"
          "SQLSTATE 55000, an unknown job with P0002.\n"
          "JSON: {\"id\", \"status\": \"waiting\", \"run_at\" (null: now)}.\n",
          {{"run-at", 0, "TIME", "not before TIME (any PostgreSQL timestamp)"},
           {"delay", 0, "DURATION", "not before now + DURATION"}},
          run_retry};
}

}  // namespace baton::cli
