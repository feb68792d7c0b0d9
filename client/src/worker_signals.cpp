// SIGTERM/SIGINT for Worker::run(): a self-pipe. The handler only write()s the signal number
// (async-signal-safe); a thread of the watcher reads it and does the real work (stop(),
// logging), which a signal handler may not.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

#include "worker_internal.h"

namespace baton {
namespace detail {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

void make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("baton worker: pipe2 failed: ") + std::strerror(errno));
  read_end = Fd(fds[0]);
  write_end = Fd(fds[1]);
}

namespace {

// The write end for the handler. A plain int because that is all a handler may touch;
// -1 while no watcher is installed.
volatile sig_atomic_t g_signal_fd = -1;
std::atomic<bool> g_installed{false};

extern "C" void on_signal(int signal) {
  const int saved = errno;
  const int fd = g_signal_fd;
  if (fd >= 0) {
    const unsigned char byte = static_cast<unsigned char>(signal);
    // A full pipe (hundreds of unread signals) loses this byte, which is harmless.
    ssize_t ignored = ::write(fd, &byte, 1);
    (void)ignored;
  }
  errno = saved;
}

}  // namespace

struct SignalWatcher::State {
  std::function<void(int, int)> callback;
  Fd read_end, write_end;
  Fd quit_read, quit_write;  // the destructor ends the thread through this pipe
  struct sigaction old_term {};
  struct sigaction old_int {};
  std::thread thread;
};

SignalWatcher::SignalWatcher(std::function<void(int, int)> on_signal_cb)
    : state_(std::make_unique<State>()) {
  bool expected = false;
  if (!g_installed.compare_exchange_strong(expected, true))
    throw std::logic_error("baton worker: signal handlers are installed by another Worker");
  try {
    state_->callback = std::move(on_signal_cb);
    make_pipe(state_->read_end, state_->write_end);
    make_pipe(state_->quit_read, state_->quit_write);
    g_signal_fd = state_->write_end.get();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(SIGTERM, &sa, &state_->old_term) != 0 ||
        ::sigaction(SIGINT, &sa, &state_->old_int) != 0)
      throw std::runtime_error(std::string("baton worker: sigaction failed: ") +
                               std::strerror(errno));
    State* s = state_.get();
    s->thread = std::thread([s] {
      int count = 0;
      for (;;) {
        pollfd fds[2] = {{s->read_end.get(), POLLIN, 0}, {s->quit_read.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
          if (errno == EINTR) continue;
          return;
        }
        if (fds[1].revents != 0) return;
        unsigned char byte = 0;
        while (::read(s->read_end.get(), &byte, 1) == 1) s->callback(byte, ++count);
      }
    });
  } catch (...) {
    ::sigaction(SIGTERM, &state_->old_term, nullptr);
    ::sigaction(SIGINT, &state_->old_int, nullptr);
    g_signal_fd = -1;
    g_installed = false;
    throw;
  }
}

SignalWatcher::~SignalWatcher() {
  // Handlers first, so that no signal writes to a pipe that is about to close.
  ::sigaction(SIGTERM, &state_->old_term, nullptr);
  ::sigaction(SIGINT, &state_->old_int, nullptr);
  g_signal_fd = -1;
  const unsigned char byte = 0;
  ssize_t ignored = ::write(state_->quit_write.get(), &byte, 1);
  (void)ignored;
  if (state_->thread.joinable()) state_->thread.join();
  g_installed = false;
}

}  // namespace detail
}  // namespace baton
