#include "worker_config.h"

#include "args.h"

#include <fstream>
#include <set>
#include <sstream>

namespace baton::cli {

const char* const kWorkerConfigHelp =
    "Config file (INI): \"key = value\" lines in sections. Lines starting with # or ; are\n"
    "comments; there are no comments at the end of a line (a command may contain # and ;).\n"
    "\n"
    "  # /etc/baton/mailer.ini\n"
    "  [worker]\n"
    "  queues = emails, reports\n"
    "  slots = 4\n"
    "\n"
    "  [task send_welcome]\n"
    "  command = /usr/local/bin/send-welcome --from noreply@example.com\n"
    "  timeout = 30s\n"
    "\n"
    "  [task *]\n"
    "  command = /usr/local/bin/dispatch \"$BATON_TASK\"\n"
    "\n"
    "Keys of [worker]:\n"
    "  queues             required: the queues to claim from, comma-separated\n"
    "  slots              jobs run at the same time (default 4)\n"
    "  name               the worker's name in job histories (default host:pid)\n"
    "  dsn                connection (default: --dsn, else the PG* environment)\n"
    "  lease              lease of each claim, renewed by heartbeats (default 30s)\n"
    "  poll_interval      longest idle wait before fetching again (default 5s)\n"
    "  grace_period       on SIGTERM/SIGINT: time running jobs get to finish (default 30s)\n"
    "  timeout            default timeout of the tasks' commands (default 1h)\n"
    "  kill_grace         after a timeout or abort: SIGTERM, then SIGKILL this much later\n"
    "                     (default 5s)\n"
    "  progress_interval  a progress line with counters on stderr; 0 = none (default 10s)\n"
    "  log_level          debug, info, warn or error: the worker's log on stderr (info)\n"
    "Keys of [task NAME] (one section per task; [task *] runs every task without one):\n"
    "  command            required: the command line, run with /bin/sh -c\n"
    "  timeout            this task's timeout (default: [worker] timeout)\n"
    "Durations: 500ms, 30s, 5m, 1h30m, 2d.\n"
    "\n"
    "The worker claims only the tasks it has sections for (all tasks with [task *]).\n"
    "Each job runs its task's command with /bin/sh -c, in its own process group, with:\n"
    "  stdin        the job's args as JSON (one line)\n"
    "  environment  the worker's, plus BATON_JOB_ID, BATON_TASK, BATON_QUEUE, BATON_ATTEMPT\n"
    "               (1 on the first attempt), BATON_MAX_ATTEMPTS, BATON_WORKER, and\n"
    "               BATON_LAST_ERROR (why the previous attempt failed, when retried)\n"
    "Outcome:\n"
    "  exit 0       succeeded; stdout is stored as the job's result if it is JSON (else\n"
    "               no result)\n"
    "  exit != 0    failed with \"exit status N: <the last 2000 bytes of stderr>\"; the\n"
    "               job is retried after its backoff until its attempts run out (dead)\n"
    "  timeout      the process group gets SIGTERM (SIGKILL after kill_grace); failed\n"
    "               with \"timed out after ...\"\n"
    "  abort        an operator's request_abort_v1 kills the command the same way; the\n"
    "               job ends cancelled\n"
    "On SIGTERM or SIGINT the worker stops claiming, lets running commands finish within\n"
    "grace_period (then kills them; their jobs are failed, to be retried elsewhere), prints\n"
    "its final counters and exits 0.\n";

namespace {

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

WorkerFileConfig load_worker_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read config file " + path);
  WorkerFileConfig cfg;
  cfg.path = path;
  std::string section;  // "worker", "task"
  TaskCommand* task = nullptr;
  std::set<std::string> seen;  // keys of the current section
  std::string line;
  int number = 0;
  auto fail = [&](const std::string& message) {
    return UsageError(path + ":" + std::to_string(number) + ": " + message);
  };
  auto duration = [&](const std::string& key, const std::string& value) {
    try {
      return parse_duration(key, value);
    } catch (const UsageError& e) {
      throw fail(e.what());
    }
  };
  std::vector<std::optional<Duration>> own_timeouts;
  while (std::getline(in, line)) {
    ++number;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t[0] == '[') {
      if (t.back() != ']') throw fail("a section header ends with ]");
      std::string header = trim(t.substr(1, t.size() - 2));
      seen.clear();
      if (header == "worker") {
        section = "worker";
        task = nullptr;
        continue;
      }
      if (header.compare(0, 5, "task ") == 0 || header.compare(0, 5, "task\t") == 0) {
        std::string name = trim(header.substr(5));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
          name = name.substr(1, name.size() - 2);
        if (name.empty() || name.size() > 200) throw fail("a task name has 1 to 200 bytes");
        for (const TaskCommand& other : cfg.tasks)
          if (other.task == name) throw fail("task " + name + " has two sections");
        cfg.tasks.push_back(TaskCommand{name, "", Duration(0)});
        own_timeouts.emplace_back();
        task = &cfg.tasks.back();
        section = "task";
        continue;
      }
      throw fail("unknown section [" + header + "] (sections: [worker], [task NAME])");
    }
    std::size_t eq = t.find('=');
    if (eq == std::string::npos) throw fail("expected key = value");
    std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    if (section.empty()) throw fail("key " + key + " before any section ([worker] or [task NAME])");
    if (!seen.insert(key).second) throw fail("key " + key + " given twice in this section");
    if (section == "task") {
      if (key == "command") {
        if (value.empty()) throw fail("command is empty");
        task->command = value;
      } else if (key == "timeout") {
        own_timeouts.back() = duration(key, value);
        if (*own_timeouts.back() <= Duration(0)) throw fail("timeout must be above 0");
      } else {
        throw fail("unknown key " + key + " in [task " + task->task + "] (keys: command, timeout)");
      }
      continue;
    }
    try {
      if (key == "queues") {
        std::istringstream list(value);
        std::string q;
        while (std::getline(list, q, ',')) {
          q = trim(q);
          if (q.empty()) throw fail("queues: an empty queue name");
          cfg.queues.push_back(q);
        }
      } else if (key == "slots") {
        cfg.slots = static_cast<int>(parse_int("slots", value, 1, 1000));
      } else if (key == "name") {
        cfg.name = value;
      } else if (key == "dsn") {
        cfg.dsn = value;
      } else if (key == "lease") {
        cfg.lease = duration(key, value);
      } else if (key == "poll_interval") {
        cfg.poll_interval = duration(key, value);
      } else if (key == "grace_period") {
        cfg.grace_period = duration(key, value);
      } else if (key == "timeout") {
        cfg.timeout = duration(key, value);
        if (cfg.timeout <= Duration(0)) throw fail("timeout must be above 0");
      } else if (key == "kill_grace") {
        cfg.kill_grace = duration(key, value);
      } else if (key == "progress_interval") {
        cfg.progress_interval = duration(key, value);
      } else if (key == "log_level") {
        if (value != "debug" && value != "info" && value != "warn" && value != "error")
          throw fail("log_level must be debug, info, warn or error");
        cfg.log_level = value;
      } else {
        throw fail("unknown key " + key + " in [worker]");
      }
    } catch (const UsageError& e) {
      std::string m = e.what();
      if (m.compare(0, path.size(), path) == 0) throw;
      throw fail(m);
    }
  }
  number = 0;
  if (cfg.queues.empty()) throw UsageError(path + ": [worker] queues is required");
  if (cfg.tasks.empty())
    throw UsageError(path + ": no [task NAME] section: the worker would have nothing to run");
  for (std::size_t i = 0; i < cfg.tasks.size(); ++i) {
    if (cfg.tasks[i].command.empty())
      throw UsageError(path + ": [task " + cfg.tasks[i].task + "] has no command");
    cfg.tasks[i].timeout = own_timeouts[i].value_or(cfg.timeout);
  }
  return cfg;
}

}  // namespace baton::cli
