// Internals of baton::Worker shared by the worker*.cpp files: the per-job state machine, the
// slots, the logger, the counters and the Worker's state.
//
// Threads and what they own:
//   * the run() thread ("fetcher"): fetch_client; claims, hands jobs to slots, drives the
//     shutdown;
//   * the reporter thread: report_client; reports the outcomes the slots (and the shutdown)
//     queue, with finish_many, while the fetcher claims the next jobs on its own connection;
//   * one thread per slot: its own Client (handler heartbeats, follow-up defers with their
//     finish, the handler's own SQL);
//   * the heartbeat thread: heartbeat_client;
//   * with install_signal_handlers, a thread that turns signals into stop()/stop_now().
// No Client is ever touched by two threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "baton/client.h"
#include "baton/worker.h"

namespace baton {
namespace detail {

using Clock = std::chrono::steady_clock;

// ---- logging ------------------------------------------------------------------------------

// One key=value pair of a log line.
struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(v != nullptr ? v : "") {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
};

// Milliseconds of a duration, for log fields.
inline long long ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
inline long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

class Logger {
 public:
  Logger(LogLevel min_level, LogSink sink, std::string worker);
  bool enabled(LogLevel level) const { return level >= min_level_; }
  void log(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {});

 private:
  LogLevel min_level_;
  LogSink sink_;
  std::string worker_;
  std::mutex mu_;  // one line at a time, whatever the sink
};

// A value as it appears in a log line: bare if it is plain, else double-quoted.
std::string log_value(std::string_view value);

// ---- signals ------------------------------------------------------------------------------

// While alive, SIGTERM and SIGINT are caught by a handler that only writes the signal number
// to a pipe; a thread of its own reads it and calls on_signal(signal, count) (count: 1 for
// the first signal, 2 for the second, ...). The destructor restores the previous handlers
// and joins the thread. One at a time per process (std::logic_error otherwise).
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void(int signal, int count)> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// A non-blocking, close-on-exec pipe: [0] read end, [1] write end.
void make_pipe(Fd& read_end, Fd& write_end);

// ---- jobs ---------------------------------------------------------------------------------

struct Deferral {
  std::string queue;
  std::string task;
  Json args;
  DeferOptions options;
};

// What the worker reports for a job.
struct Outcome {
  FinishStatus status = FinishStatus::succeeded;
  std::optional<Json> result;
  std::optional<std::string> error;
  std::optional<bool> retryable;
};

// A job's life in this worker. `state` only moves forward, under `mu`:
//   running   - the handler runs; the heartbeat thread extends the lease;
//   reporting - the outcome is decided (by the slot when the handler returned, or by the
//               fetcher when it released the job at the end of the grace period) and will be
//               reported exactly once; heartbeats stop;
//   done      - reported (or dropped: lease lost).
// Whoever moves a job from running to reporting owns its report, which is how a job is never
// reported twice (the slot and the shutdown both try).
enum class JobState { running, reporting, done };

struct Slot;
struct WorkerState;

struct RunningJob {
  Job job;
  WorkerState* worker = nullptr;
  Slot* slot = nullptr;
  Clock::time_point started;

  std::atomic<bool> abort{false};     // a heartbeat said abort_requested
  std::atomic<bool> lost{false};      // a heartbeat was refused (LeaseLost)
  std::atomic<bool> released{false};  // failed by the shutdown; the handler's result is dropped

  std::mutex mu;  // guards the fields below
  JobState state = JobState::running;
  Clock::time_point last_heartbeat;
  std::vector<Deferral> followups;  // from JobContext::defer, on the slot's thread only
};
using JobPtr = std::shared_ptr<RunningJob>;

// An outcome waiting for the fetcher to report it.
struct Completed {
  JobPtr job;
  Outcome outcome;
};

struct Slot {
  int index = 0;
  std::optional<Client> client;  // connected on first use; only this slot's thread uses it
  bool client_broken = false;    // a call failed with ConnectionError: reconnect before use
  std::thread thread;
};

// ---- counters -----------------------------------------------------------------------------

struct Counters {
  std::atomic<std::uint64_t> claimed{0}, succeeded{0}, failed{0}, cancelled{0}, lease_lost{0},
      released{0}, unknown_task{0}, reconnects{0}, fetches{0}, empty_fetches{0}, finish_calls{0},
      heartbeats{0}, notifications{0};
};

// ---- the worker ---------------------------------------------------------------------------

struct WorkerState {
  WorkerConfig cfg;
  std::string name;
  Duration heartbeat_interval{};
  std::map<std::string, Handler> handlers;
  Handler default_handler;
  std::map<std::string, std::shared_ptr<WorkflowVersions>> workflows;  // by workflow name
  Logger log;
  Counters counters;

  std::atomic<bool> started{false};
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::atomic<bool> stop_now{false};
  std::atomic<bool> exiting{false};         // run() is tearing down: every wait ends
  std::atomic<std::int64_t> stop_at_ns{0};  // steady clock of the first stop(), for the grace

  // The fetcher sleeps in poll() on this pipe (and its connection's socket); slots and
  // stop() write a byte to wake it.
  Fd wake_read, wake_write;

  // Interruptible sleeps (backoff, JobContext::sleep_for) wait here; notified on stop,
  // stop_now, release, abort, lease loss and exit.
  std::mutex sleep_mu;
  std::condition_variable sleep_cv;

  std::mutex mu;  // guards completed, held, busy, ready, slots_exit, in_hand, report_exit,
                  // fetcher_wants_slot
  std::deque<Completed> completed;
  std::condition_variable report_cv;  // completed has outcomes, or report_exit
  bool report_exit = false;           // the reporter reports what is queued, then returns
  // Running or reporting jobs by lease token (not by id: after a lost lease the same job can
  // be claimed again while the old handler still runs, and each claim is its own entry).
  std::map<std::string, JobPtr> held;
  std::vector<bool> busy;  // per slot: its handler is running
  // Claimed jobs no slot has taken yet. Slots take the next one as soon as their handler
  // returns, without sleeping, so a fast handler costs no thread switch per job; a slot
  // that takes a job while more wait wakes one more slot (see dispatch()).
  std::deque<JobPtr> ready;
  std::condition_variable ready_cv;  // ready has jobs, or slots_exit
  bool slots_exit = false;
  int waiting_slots = 0;            // slots asleep on ready_cv
  bool slot_waking = false;         // a ready_cv wake-up is on its way (at most one at a time)
  int in_hand = 0;                  // jobs in ready or with a running handler (<= slots)
  bool fetcher_wants_slot = false;  // the fetcher sleeps until a slot frees

  std::vector<std::unique_ptr<Slot>> slots;
  std::optional<Client> fetch_client;
  std::optional<Client> report_client;
  std::thread report_thread;
  std::optional<Client> heartbeat_client;
  std::thread heartbeat_thread;

  WorkerState(WorkerConfig config, std::string worker_name);

  void wake();  // wakes the fetcher (async-signal-unsafe is fine: not a handler)
  void notify_sleepers();
  // Sleeps up to d or until stop_now/exiting or `until()`; false when cut short.
  bool sleep_for(Duration d, const std::function<bool()>& until = {});
  Clock::time_point grace_deadline() const;

  // Reconnects `client` with backoff (reconnect_min doubling to reconnect_max) until it
  // succeeds (true) or give_up() (false). `who` names the connection in the logs.
  bool reconnect(Client& client, const char* who, const std::function<bool()>& give_up);
  // Constructs a Client, retrying with backoff when cfg.retry_initial_connect (else the
  // first ConnectionError is thrown).
  Client connect(const char* who);
  // Routes the server's notices and warnings on this connection into the log (libpq would
  // print them to stderr, breaking the one-line-per-event format). Needed again after each
  // reconnect: it belongs to the libpq connection, which reconnect() replaces.
  void attach_notices(Client& client, const char* who);
  struct NoticeTarget {
    Logger* log;
    const char* conn;
  };
  NoticeTarget notice_fetch{&log, "fetch"}, notice_report{&log, "report"},
      notice_heartbeat{&log, "heartbeat"}, notice_slot{&log, "slot"};

  // ---- fetcher (worker_fetch.cpp) ----
  void fetch_loop();
  std::vector<Job> fetch_jobs(int max_jobs);
  enum class Woken { timeout, wake, socket };
  // Waits until the deadline, a byte on the wake pipe or (socket >= 0) data on the socket.
  Woken wait_wake(Clock::time_point deadline, int socket);
  // ---- reports (worker_report.cpp) ----
  void start_reporter();
  void reporter_main();
  // Lets the reporter report everything queued so far, then joins it.
  void stop_reporter();
  // Reports each outcome exactly once (retrying after reconnects), then forgets the jobs.
  void report(std::vector<Completed> batch);
  void enqueue(Completed c);  // for the reporter to report
  void enqueue(std::vector<Completed> batch);
  // The job's outcome is known to the server (status) or will never be (lease_lost,
  // abandoned): counts, logs and forgets it.
  void finished(RunningJob& job, const Outcome& outcome, const std::string& status,
                bool confirmed_on_retry, const std::string& why = {});
  void forget(const RunningJob& job);
  // When a report gives up reconnecting (the shutdown is past its grace and a margin).
  bool report_give_up() const;
  void mark_lost(RunningJob& job, const char* by, const std::string& error);
  // ---- shutdown (worker.cpp) ----
  void drain_and_release();
  // ---- slots (worker_slots.cpp) ----
  void start_slots();
  void slot_main(Slot& slot);
  void run_job(Slot& slot, const JobPtr& job);
  Outcome invoke(RunningJob& job);
  void finish_with_followups(Slot& slot, const JobPtr& job, Outcome outcome);
  // Makes the slot's connection usable, connecting it on first use. While give_up() is
  // false it retries with backoff and returns false once give_up() turns true; a give_up
  // that is true at once means a single attempt, whose failure throws ConnectionError.
  bool slot_connection(Slot& slot, const std::function<bool()>& give_up);
  void stop_slots();
  int free_slots();
  // Sleeps until a slot frees (or a wake-up, or the poll interval).
  void wait_for_slot();
  void dispatch(std::vector<Job> jobs);
  // ---- heartbeats (worker_heartbeat.cpp) ----
  void start_heartbeats();
  void heartbeat_main();
  void stop_heartbeats();
  std::mutex heartbeat_mu;
  std::condition_variable heartbeat_cv;
  std::atomic<bool> heartbeat_exit{false};
};

// Whether a LeaseLost from a repeated report says the first report had committed: the
// server says "it is <status>, not running" with the status that report would have left.
bool already_reported(const LeaseLost& e, FinishStatus reported);

}  // namespace detail

struct Worker::Impl : detail::WorkerState {
  using WorkerState::WorkerState;
};

}  // namespace baton
