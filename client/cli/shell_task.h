// Runs one job's shell command for `baton worker`: /bin/sh -c COMMAND in its own process
// group, the args JSON on stdin, BATON_* variables in the environment, stdout and stderr
// captured, with a timeout and an early stop (abort, shutdown) that kill the process group.
#pragma once

#include <baton/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace baton::cli {

struct ShellRun {
  std::string command;
  std::string input;                   // written to stdin, then stdin is closed
  std::vector<std::string> extra_env;  // "NAME=value", replacing inherited ones
  Duration timeout;
  Duration kill_grace;                // SIGTERM, then SIGKILL this much later
  std::function<bool()> should_stop;  // polled; true kills the command
};

struct ShellOutcome {
  bool timed_out = false;
  bool stopped = false;  // should_stop() turned true
  bool exited = false;   // exited normally with exit_status
  int exit_status = -1;
  int signal = 0;   // killed by this signal (when !exited)
  std::string out;  // stdout (up to kMaxStdout bytes)
  bool out_truncated = false;
  std::string err_tail;  // the last kErrTail bytes of stderr
  Duration elapsed{0};
};

inline constexpr std::size_t kMaxStdout = 1 << 20;  // the server's limit of a result
inline constexpr std::size_t kErrTail = 2000;

// Throws std::runtime_error when the command cannot be started (pipe/spawn failure).
ShellOutcome run_shell(const ShellRun& run);

}  // namespace baton::cli
