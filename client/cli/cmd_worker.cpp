// baton worker: a baton::Worker whose tasks are shell commands mapped in a config file
// (worker_config.h), so operators can run jobs without writing C++. Prints a progress line
// with the worker's counters every progress_interval; exits 0 after SIGTERM/SIGINT.
#include <baton/worker.h>

#include "commands.h"
#include "output.h"
#include "shell_task.h"
#include "worker_config.h"

#include <condition_variable>
#include <csignal>
#include <iostream>
#include <mutex>
#include <thread>

namespace baton::cli {

namespace {

LogLevel parse_level(const std::string& s) {
  if (s == "debug") return LogLevel::debug;
  if (s == "warn") return LogLevel::warn;
  if (s == "error") return LogLevel::error;
  return LogLevel::info;
}

std::string tail_text(const std::string& err) {
  std::string t = err;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\r')) t.pop_back();
  return t.empty() ? "(no output on stderr)" : t;
}

// The handler of one task: runs its command and turns the outcome into the job's.
Handler shell_handler(TaskCommand task, Duration kill_grace) {
  return [task, kill_grace](const Job& job, JobContext& jc) -> Json {
    ShellRun run;
    run.command = task.command;
    run.input = job.args.dump() + "\n";
    run.extra_env = {"BATON_JOB_ID=" + std::to_string(job.id),
                     "BATON_TASK=" + job.task,
                     "BATON_QUEUE=" + job.queue,
                     "BATON_ATTEMPT=" + std::to_string(job.attempt),
                     "BATON_MAX_ATTEMPTS=" + std::to_string(job.max_attempts),
                     "BATON_WORKER=" + jc.worker_name()};
    if (job.last_error) run.extra_env.push_back("BATON_LAST_ERROR=" + *job.last_error);
    run.timeout = task.timeout;
    run.kill_grace = kill_grace;
    run.should_stop = [&jc] { return jc.should_stop(); };
    ShellOutcome o = run_shell(run);
    if (o.stopped) {
      throw JobStopped(jc.abort_requested() ? "abort requested: the command was killed"
                                            : "the job was stopped: the command was killed");
    }
    if (o.timed_out)
      throw JobFailure("timed out after " + format_duration(task.timeout) +
                       " (command killed): " + tail_text(o.err_tail));
    if (!o.exited)
      throw JobFailure("killed by signal " + std::to_string(o.signal) + ": " +
                       tail_text(o.err_tail));
    if (o.exit_status != 0)
      throw JobFailure("exit status " + std::to_string(o.exit_status) + ": " +
                       tail_text(o.err_tail));
    if (o.out_truncated) return Json();  // over the server's 1 MiB: not a result
    try {
      std::string out = o.out;
      if (out.find_first_not_of(" \t\r\n") == std::string::npos) return Json();
      return Json::parse(out);
    } catch (const Json::parse_error&) {
      return Json();  // not JSON: no result
    }
  };
}

std::string progress_line(const std::string& name, const WorkerStats& s,
                          std::chrono::steady_clock::duration up) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(up);
  std::string uptime = secs.count() == 0 ? "0s" : format_duration(secs);
  return "baton worker " + name + ": up " + uptime + ", running " + std::to_string(s.running) +
         ", claimed " + std::to_string(s.claimed) + ", succeeded " + std::to_string(s.succeeded) +
         ", failed " + std::to_string(s.failed) + ", cancelled " + std::to_string(s.cancelled) +
         ", lease lost " + std::to_string(s.lease_lost) + ", reconnects " +
         std::to_string(s.reconnects);
}

Json stats_json(const WorkerStats& s) {
  return Json{{"claimed", s.claimed},
              {"succeeded", s.succeeded},
              {"failed", s.failed},
              {"cancelled", s.cancelled},
              {"lease_lost", s.lease_lost},
              {"released", s.released},
              {"unknown_task", s.unknown_task},
              {"reconnects", s.reconnects},
              {"fetches", s.fetches},
              {"running", s.running}};
}

int run_worker(const Context& ctx, const ParsedArgs& args) {
  std::optional<std::string> path = args.get("config");
  if (path) {
    require_positionals(args, {});
  } else {
    require_positionals(args, {"CONFIG-FILE"});
    path = args.positionals()[0];
  }
  WorkerFileConfig file = load_worker_config(*path);
  if (auto v = args.get("slots")) file.slots = static_cast<int>(parse_int("--slots", *v, 1, 1000));
  if (auto v = args.get("name")) file.name = *v;
  if (auto v = args.get("progress-interval"))
    file.progress_interval = parse_duration("--progress-interval", *v);

  WorkerConfig cfg;
  cfg.conninfo = !ctx.dsn.empty() ? ctx.dsn : file.dsn.value_or("");
  cfg.queues = file.queues;
  cfg.slots = file.slots;
  cfg.name = file.name.value_or("");
  cfg.lease = file.lease;
  cfg.poll_interval = file.poll_interval;
  cfg.grace_period = file.grace_period;
  cfg.install_signal_handlers = true;
  cfg.log_level = parse_level(file.log_level);

  std::optional<Worker> worker;
  try {
    worker.emplace(cfg);
  } catch (const InvalidArgument& e) {
    throw UsageError(*path + ": " + e.what());
  }
  for (const TaskCommand& task : file.tasks) {
    if (task.task == "*")
      worker->handle_default(shell_handler(task, file.kill_grace));
    else
      worker->handle(task.task, shell_handler(task, file.kill_grace));
  }

  if (args.has("check-config")) {
    if (ctx.json) {
      Json tasks = Json::array();
      for (const TaskCommand& t : file.tasks)
        tasks.push_back({{"task", t.task},
                         {"command", t.command},
                         {"timeout_seconds", static_cast<double>(t.timeout.count()) / 1e6}});
      print_json(Json{{"config", file.path},
                      {"queues", file.queues},
                      {"slots", file.slots},
                      {"name", worker->name()},
                      {"tasks", tasks}});
    } else {
      std::cout << file.path << ": ok\n  queues  ";
      for (std::size_t i = 0; i < file.queues.size(); ++i)
        std::cout << (i ? ", " : "") << file.queues[i];
      std::cout << "\n  slots   " << file.slots << "\n  name    " << worker->name() << "\n";
      Table table({"TASK", "TIMEOUT", "COMMAND"});
      for (const TaskCommand& t : file.tasks)
        table.add_row({t.task, format_duration(t.timeout), t.command});
      table.print(std::cout);
    }
    return kExitOk;
  }

  // A command that closes its stdin early must not kill the worker with SIGPIPE (the
  // commands themselves get the default disposition back).
  std::signal(SIGPIPE, SIG_IGN);

  auto started = std::chrono::steady_clock::now();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread progress;
  if (file.progress_interval > Duration(0)) {
    progress = std::thread([&] {
      std::unique_lock<std::mutex> lock(mu);
      while (!cv.wait_for(lock, file.progress_interval, [&] { return done; })) {
        if (worker->running())
          std::cerr << progress_line(worker->name(), worker->stats(),
                                     std::chrono::steady_clock::now() - started)
                    << std::endl;
      }
    });
  }
  std::cerr << "baton worker " << worker->name() << ": queues ";
  for (std::size_t i = 0; i < file.queues.size(); ++i)
    std::cerr << (i ? ", " : "") << file.queues[i];
  std::cerr << "; " << file.slots << " slots; tasks ";
  for (std::size_t i = 0; i < file.tasks.size(); ++i)
    std::cerr << (i ? ", " : "") << file.tasks[i].task;
  std::cerr << " (SIGTERM or Ctrl-C stops it)" << std::endl;
  auto finish_progress = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
    }
    cv.notify_all();
    if (progress.joinable()) progress.join();
  };
  try {
    worker->run();
  } catch (...) {
    finish_progress();
    throw;
  }
  finish_progress();
  WorkerStats stats = worker->stats();
  std::cerr << progress_line(worker->name(), stats, std::chrono::steady_clock::now() - started)
            << " (stopped)" << std::endl;
  if (ctx.json) print_json(Json{{"worker", worker->name()}, {"stats", stats_json(stats)}});
  return kExitOk;
}

}  // namespace

Command worker_command() {
  return {
      "worker",
      "baton worker [options] CONFIG-FILE",
      "run a worker whose tasks are shell commands (config file)",
      std::string("Runs a worker (baton::Worker): claims jobs of the configured queues and\n"
                  "tasks, runs each task's shell command, reports the outcome, until SIGTERM\n"
                  "or SIGINT. A progress line with counters goes to stderr every\n"
                  "progress_interval, and the worker's log (one line per job) too. With\n"
                  "--json, the final counters are printed on stdout as {\"worker\", \"stats\"}.\n"
                  "A bad config file is a usage error (exit 2).\n\n") +
          kWorkerConfigHelp,
      {
          {"config", 'c', "FILE", "the config file (instead of the argument)"},
          {"slots", 0, "N", "override [worker] slots"},
          {"name", 0, "NAME", "override [worker] name"},
          {"progress-interval", 0, "DURATION", "override [worker] progress_interval"},
          {"check-config", 0, "", "check the config file, print it and exit"},
      },
      run_worker};
}

}  // namespace baton::cli
