// The config file of `baton worker`: which queues to work, how many slots, and per task the
// shell command that runs it. An INI file (the format is documented in kConfigHelp, which
// `baton worker --help` prints).
#pragma once

#include <baton/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace baton::cli {

extern const char* const kWorkerConfigHelp;

struct TaskCommand {
  std::string task;     // "*" for the default (every task without its own section)
  std::string command;  // run with /bin/sh -c
  Duration timeout;     // then the command's process group is killed and the job failed
};

struct WorkerFileConfig {
  std::string path;
  std::optional<std::string> dsn;
  std::vector<std::string> queues;
  int slots = 4;
  std::optional<std::string> name;
  Duration lease = std::chrono::seconds(30);
  Duration poll_interval = std::chrono::seconds(5);
  Duration grace_period = std::chrono::seconds(30);
  Duration timeout = std::chrono::hours(1);       // default of the tasks' timeout
  Duration kill_grace = std::chrono::seconds(5);  // SIGTERM -> SIGKILL of a timed-out command
  Duration progress_interval = std::chrono::seconds(10);  // 0: no progress lines
  std::string log_level = "info";
  std::vector<TaskCommand> tasks;  // in file order
};

// Reads and checks the file; UsageError("FILE:LINE: ...") for every problem.
WorkerFileConfig load_worker_config(const std::string& path);

}  // namespace baton::cli
