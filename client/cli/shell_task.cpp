#include "shell_task.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace baton::cli {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

void make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  read_end.fd = fds[0];
  write_end.fd = fds[1];
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// The environment of the child: ours without the names in extra, then extra.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const std::string& x : extra)
      replaced = replaced || x.compare(0, name.size() + 1, name + "=") == 0;
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace

ShellOutcome run_shell(const ShellRun& run) {
  using Clock = std::chrono::steady_clock;
  Fd in_r, in_w, out_r, out_w, err_r, err_w;
  make_pipe(in_r, in_w);
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group: kill(-pid) reaches all
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env = child_environment(run.extra_env);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", command = run.command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};

  auto started = Clock::now();
  pid_t pid = -1;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error(std::string("cannot start /bin/sh: ") + std::strerror(rc));
  in_r.reset();
  out_w.reset();
  err_w.reset();
  set_nonblocking(in_w.fd);
  set_nonblocking(out_r.fd);
  set_nonblocking(err_r.fd);

  ShellOutcome outcome;
  std::string err;
  std::size_t written = 0;
  if (run.input.empty()) in_w.reset();
  auto deadline = started + run.timeout;
  std::optional<Clock::time_point> kill_at;  // SIGKILL time after a SIGTERM
  bool exited = false;
  int status = 0;
  char buf[65536];

  auto read_from = [&](Fd& fd, bool is_out) {
    while (fd.fd >= 0) {
      ssize_t n = ::read(fd.fd, buf, sizeof buf);
      if (n > 0) {
        if (is_out) {
          std::size_t room = kMaxStdout + 1 - std::min(outcome.out.size(), kMaxStdout + 1);
          outcome.out.append(buf, std::min<std::size_t>(room, n));
          if (outcome.out.size() > kMaxStdout) {
            outcome.out_truncated = true;
            outcome.out.resize(kMaxStdout);
          }
        } else {
          err.append(buf, n);
          if (err.size() > 4 * kErrTail) err.erase(0, err.size() - kErrTail);
        }
        continue;
      }
      if (n == 0) fd.reset();                                      // EOF
      if (n < 0 && errno != EAGAIN && errno != EINTR) fd.reset();  // broken
      return;
    }
  };

  while (!exited) {
    pollfd fds[3];
    nfds_t count = 0;
    if (in_w.fd >= 0) fds[count++] = {in_w.fd, POLLOUT, 0};
    if (out_r.fd >= 0) fds[count++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) fds[count++] = {err_r.fd, POLLIN, 0};
    ::poll(fds, count, 50);
    if (in_w.fd >= 0) {
      ssize_t n = ::write(in_w.fd, run.input.data() + written, run.input.size() - written);
      if (n > 0) written += n;
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == run.input.size())
        in_w.reset();  // done, or the command closed its stdin (EPIPE)
    }
    read_from(out_r, true);
    read_from(err_r, false);

    // Exited? (not reaped yet, so that the process group id cannot be reused meanwhile)
    siginfo_t info{};
    if (::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
      exited = true;
    if (exited) break;

    auto now = Clock::now();
    if (!kill_at) {
      bool stop = run.should_stop && run.should_stop();
      if (stop || now >= deadline) {
        (stop ? outcome.stopped : outcome.timed_out) = true;
        ::kill(-pid, SIGTERM);
        kill_at = now + run.kill_grace;
      }
    } else if (now >= *kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = now + std::chrono::hours(24 * 365);
    }
  }
  // What the command wrote before it exited is in the pipes; processes it left behind in
  // its group are ended.
  read_from(out_r, true);
  read_from(err_r, false);
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  outcome.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - started);
  if (WIFEXITED(status)) {
    outcome.exited = true;
    outcome.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
  }
  outcome.err_tail = err.size() > kErrTail ? err.substr(err.size() - kErrTail) : err;
  return outcome;
}

}  // namespace baton::cli
