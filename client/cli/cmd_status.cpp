// baton status: per queue, the jobs by status and how long the oldest due job has waited
// (baton.queue_stats).
#include "commands.h"
#include "output.h"

#include <iostream>
#include <set>

namespace baton::cli {

namespace {

int run_status(const Context& ctx, const ParsedArgs& args) {
  std::set<std::string> wanted(args.positionals().begin(), args.positionals().end());
  Client client = ctx.connect();
  std::vector<QueueStats> stats = client.queue_stats();
  std::vector<QueueStats> shown;
  for (const QueueStats& s : stats)
    if (wanted.empty() || wanted.count(s.queue)) shown.push_back(s);
  for (const std::string& q : wanted) {
    bool found = false;
    for (const QueueStats& s : shown) found = found || s.queue == q;
    if (!found) throw NotFound("queue \"" + q + "\" does not exist");
  }
  if (ctx.json) {
    Json queues = Json::array();
    for (const QueueStats& s : shown) queues.push_back(to_json(s));
    print_json(Json{{"queues", queues}});
    return kExitOk;
  }
  if (shown.empty()) {
    std::cout << "no queues (create one: SELECT baton.create_queue_v1('name'))\n";
    return kExitOk;
  }
  Table table({"QUEUE", "WAITING", "SCHEDULED", "BLOCKED", "RUNNING", "SUCCEEDED", "DEAD",
               "CANCELLED", "OLDEST WAITING"});
  for (std::size_t c = 1; c <= 8; ++c) table.align_right(c);
  for (const QueueStats& s : shown)
    table.add_row({s.queue, std::to_string(s.waiting), std::to_string(s.scheduled),
                   std::to_string(s.blocked), std::to_string(s.running),
                   std::to_string(s.succeeded), std::to_string(s.dead), std::to_string(s.cancelled),
                   s.oldest_waiting_age ? format_duration(*s.oldest_waiting_age) : "-"});
  table.print(std::cout);
  return kExitOk;
}

}  // namespace

Command status_command() {
  return {"status",
          "baton status [QUEUE...]",
          "per queue: jobs by status, oldest waiting job",
          "Shows, for every queue (or the queues named), its jobs by status from\n"
          "baton.queue_stats: waiting (due now), scheduled (due later), blocked (behind a\n"
          "lock), running, and the finished ones kept in history (succeeded, dead,\n"
          "cancelled), plus how long the oldest due job has been waiting.\n"
          "JSON: {\"queues\": [{\"queue\", \"waiting\", \"scheduled\", \"blocked\", \"running\",\n"
          "\"succeeded\", \"dead\", \"cancelled\", \"oldest_waiting_seconds\" (null: none)}]}\n",
          {},
          run_status};
}

}  // namespace baton::cli
