// baton::Worker: configuration, run() from start to shutdown, stop(), counters, and the
// helpers every thread of the worker shares (wake-up pipe, interruptible sleeps, reconnect).
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>

#include "worker_internal.h"

namespace baton {
namespace detail {
namespace {

void check_config(const WorkerConfig& c) {
  auto bad = [](const std::string& what) { throw InvalidArgument("baton worker: " + what); };
  if (c.queues.empty() || c.queues.size() > 100) bad("queues must name 1 ... 100 queues");
  for (const std::string& q : c.queues)
    if (q.empty()) bad("a queue name is empty");
  if (c.slots < 1 || c.slots > 1000) bad("slots must be 1 ... 1000");
  if (c.lease < std::chrono::seconds(1)) bad("lease must be at least 1 second");
  if (c.poll_interval <= Duration::zero()) bad("poll_interval must be positive");
  if (c.grace_period < Duration::zero()) bad("grace_period must not be negative");
  if (c.heartbeat_interval &&
      (*c.heartbeat_interval <= Duration::zero() || *c.heartbeat_interval >= c.lease))
    bad("heartbeat_interval must be positive and shorter than the lease");
  if (c.max_batch < 1 || c.max_batch > 1000) bad("max_batch must be 1 ... 1000");
  if (c.reconnect_min <= Duration::zero() || c.reconnect_max < c.reconnect_min)
    bad("reconnect_min must be positive and at most reconnect_max");
}

}  // namespace

WorkerState::WorkerState(WorkerConfig config, std::string worker_name)
    : cfg(std::move(config)),
      name(std::move(worker_name)),
      heartbeat_interval(cfg.heartbeat_interval ? *cfg.heartbeat_interval : cfg.lease / 3),
      log(cfg.log_level, cfg.log_sink, name) {
  make_pipe(wake_read, wake_write);
}

void WorkerState::wake() {
  const char byte = 1;
  // Non-blocking: a full pipe already holds a wake-up, so a lost byte changes nothing.
  ssize_t ignored = ::write(wake_write.get(), &byte, 1);
  (void)ignored;
}

void WorkerState::notify_sleepers() {
  // Taking the mutex orders the flag change before a sleeper's predicate check.
  { std::lock_guard<std::mutex> lock(sleep_mu); }
  sleep_cv.notify_all();
}

bool WorkerState::sleep_for(Duration d, const std::function<bool()>& until) {
  std::unique_lock<std::mutex> lock(sleep_mu);
  return !sleep_cv.wait_for(lock, d, [&] { return stop_now || exiting || (until && until()); });
}

Clock::time_point WorkerState::grace_deadline() const {
  return Clock::time_point(std::chrono::nanoseconds(stop_at_ns.load())) +
         std::chrono::duration_cast<Clock::duration>(cfg.grace_period);
}

bool WorkerState::reconnect(Client& client, const char* who, const std::function<bool()>& give_up) {
  Duration delay = cfg.reconnect_min;
  const Clock::time_point since = Clock::now();
  for (int attempt = 1;; ++attempt) {
    if (give_up()) {
      log.log(LogLevel::warn, "reconnect_abandoned", {{"conn", who}, {"attempts", attempt - 1}});
      return false;
    }
    try {
      client.reconnect();
      attach_notices(client, who);
      counters.reconnects++;
      log.log(LogLevel::info, "reconnected",
              {{"conn", who}, {"attempts", attempt}, {"down_ms", ms_since(since)}});
      return true;
    } catch (const Error& e) {
      // VersionMismatch and the like are retried too: a server in the middle of a package
      // upgrade can answer oddly for a moment, and giving up would strand the held jobs.
      log.log(
          LogLevel::warn, "reconnect_failed",
          {{"conn", who}, {"attempt", attempt}, {"retry_in_ms", ms(delay)}, {"error", e.what()}});
    }
    sleep_for(delay, give_up);
    delay = std::min<Duration>(delay * 2, cfg.reconnect_max);
  }
}

namespace {

extern "C" void on_notice(void* arg, const char* message) {
  const auto* target = static_cast<const WorkerState::NoticeTarget*>(arg);
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && m.back() == '\n') m.pop_back();
  const bool warning = m.rfind("WARNING", 0) == 0;
  target->log->log(warning ? LogLevel::warn : LogLevel::info, "server_notice",
                   {{"conn", target->conn}, {"message", m}});
}

}  // namespace

void WorkerState::attach_notices(Client& client, const char* who) {
  PGconn* conn = client.native_handle();
  if (conn == nullptr) return;
  const std::string_view w(who);
  NoticeTarget* target = w == "fetch"       ? &notice_fetch
                         : w == "report"    ? &notice_report
                         : w == "heartbeat" ? &notice_heartbeat
                                            : &notice_slot;
  PQsetNoticeProcessor(conn, on_notice, target);
}

Client WorkerState::connect(const char* who) {
  Duration delay = cfg.reconnect_min;
  for (int attempt = 1;; ++attempt) {
    try {
      Client client(cfg.conninfo);
      attach_notices(client, who);
      return client;
    } catch (const ConnectionError& e) {
      if (!cfg.retry_initial_connect || stopping) throw;
      log.log(
          LogLevel::warn, "connect_failed",
          {{"conn", who}, {"attempt", attempt}, {"retry_in_ms", ms(delay)}, {"error", e.what()}});
    }
    sleep_for(delay, [this] { return stopping.load(); });
    delay = std::min<Duration>(delay * 2, cfg.reconnect_max);
  }
}

// After the fetch loop has stopped claiming: lets running jobs finish within the grace
// period, reporting their outcomes, then releases (fails, retryable) whatever still runs.
void WorkerState::drain_and_release() {
  {
    std::lock_guard<std::mutex> lock(mu);
    log.log(LogLevel::info, "shutdown_begun",
            {{"running", held.size()}, {"grace_ms", ms(cfg.grace_period)}});
  }
  for (;;) {
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu);
      idle = held.empty() && completed.empty();
    }
    if (idle) return;
    if (stop_now || Clock::now() >= grace_deadline()) break;
    // The reporter wakes us after each batch it reported; the 1 s cap keeps the deadline check
    // honest whatever the clock does.
    wait_wake(std::min(grace_deadline(), Clock::now() + std::chrono::seconds(1)), -1);
  }
  // Grace is over: every job still running is failed so that another worker retries it.
  std::vector<Completed> releases;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, job] : held) {
      std::lock_guard<std::mutex> job_lock(job->mu);
      if (job->state != JobState::running) continue;
      job->state = JobState::reporting;
      job->released = true;
      Outcome out;
      out.status = FinishStatus::failed;
      out.error = "worker shut down";
      out.retryable = true;
      releases.push_back(Completed{job, std::move(out)});
    }
  }
  notify_sleepers();  // handlers in JobContext::sleep_for see released() at once
  for (const Completed& c : releases)
    log.log(
        LogLevel::warn, "job_released",
        {{"job", c.job->job.id}, {"task", c.job->job.task}, {"ran_ms", ms_since(c.job->started)}});
  counters.released += releases.size();
  enqueue(std::move(releases));  // run() stops the reporter once everything is reported
}

}  // namespace detail

// ---- Worker -------------------------------------------------------------------------------

std::string Worker::default_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "localhost") + ":" + std::to_string(::getpid());
}

Worker::Worker(WorkerConfig config) {
  detail::check_config(config);
  std::string name = config.name.empty() ? default_name() : config.name;
  impl_ = std::make_unique<Impl>(std::move(config), std::move(name));
}

Worker::~Worker() {
  // run() joins everything before it returns; a Worker destroyed while another thread is in
  // run() would be a caller's bug, so only the flags are set here.
  if (impl_) stop_now();
}

void Worker::handle(const std::string& task, Handler handler) {
  if (impl_->started) throw std::logic_error("baton worker: handle() after run()");
  if (task.empty()) throw InvalidArgument("baton worker: a task name is empty");
  if (!handler) throw InvalidArgument("baton worker: empty handler for task " + task);
  impl_->handlers[task] = std::move(handler);
}

void Worker::handle_default(Handler handler) {
  if (impl_->started) throw std::logic_error("baton worker: handle_default() after run()");
  impl_->default_handler = std::move(handler);
}

std::vector<std::string> Worker::tasks() const {
  std::vector<std::string> out;
  for (const auto& [task, handler] : impl_->handlers) out.push_back(task);
  return out;  // std::map: sorted already
}

void Worker::stop() {
  detail::WorkerState& w = *impl_;
  std::int64_t expected = 0;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(detail::Clock::now().time_since_epoch())
          .count();
  w.stop_at_ns.compare_exchange_strong(expected, now == 0 ? 1 : now);
  if (!w.stopping.exchange(true) && w.running) w.log.log(LogLevel::info, "stop_requested", {});
  w.wake();
  w.notify_sleepers();
}

void Worker::stop_now() {
  stop();
  impl_->stop_now = true;
  impl_->wake();
  impl_->notify_sleepers();
}

bool Worker::running() const {
  return impl_->running;
}
bool Worker::stopping() const {
  return impl_->stopping;
}
const std::string& Worker::name() const {
  return impl_->name;
}
const WorkerConfig& Worker::config() const {
  return impl_->cfg;
}

WorkerStats Worker::stats() const {
  const detail::Counters& c = impl_->counters;
  WorkerStats s;
  s.claimed = c.claimed;
  s.succeeded = c.succeeded;
  s.failed = c.failed;
  s.cancelled = c.cancelled;
  s.lease_lost = c.lease_lost;
  s.released = c.released;
  s.unknown_task = c.unknown_task;
  s.reconnects = c.reconnects;
  s.fetches = c.fetches;
  s.empty_fetches = c.empty_fetches;
  s.finish_calls = c.finish_calls;
  s.heartbeats = c.heartbeats;
  s.notifications = c.notifications;
  std::lock_guard<std::mutex> lock(impl_->mu);
  s.running = impl_->held.size();
  return s;
}

namespace {

// Ends every thread run() started, whichever way run() leaves (exceptions included).
struct RunGuard {
  detail::WorkerState& w;
  ~RunGuard() {
    w.exiting = true;
    // Normally nothing runs any more. If run() is leaving by an exception, handlers still
    // running are told to stop (should_stop()) so that their threads can be joined; their
    // jobs are not reported, and come back when their leases expire.
    {
      std::lock_guard<std::mutex> lock(w.mu);
      for (auto& [token, job] : w.held) {
        std::lock_guard<std::mutex> job_lock(job->mu);
        if (job->state == detail::JobState::running) {
          job->state = detail::JobState::reporting;
          job->released = true;
        }
      }
    }
    w.notify_sleepers();
    w.stop_slots();
    w.stop_reporter();
    w.stop_heartbeats();
    w.running = false;
  }
};

}  // namespace

void Worker::run() {
  detail::WorkerState& w = *impl_;
  if (w.started.exchange(true)) throw std::logic_error("baton worker: run() called twice");
  if (w.handlers.empty() && !w.default_handler)
    throw std::logic_error("baton worker: no handler registered");
  if (w.stopping) return;
  w.running = true;
  std::optional<detail::SignalWatcher> signals;
  RunGuard guard{w};
  if (w.cfg.install_signal_handlers) {
    signals.emplace([this](int signal, int count) {
      impl_->log.log(LogLevel::info, "signal",
                     {{"signal", signal == SIGTERM  ? "SIGTERM"
                                 : signal == SIGINT ? "SIGINT"
                                                    : "other"},
                      {"count", count}});
      if (count == 1)
        stop();
      else
        stop_now();  // a second signal: the operator does not want to wait for the grace
    });
  }

  w.fetch_client.emplace(w.connect("fetch"));
  w.report_client.emplace(w.connect("report"));
  w.heartbeat_client.emplace(w.connect("heartbeat"));
  w.slots.reserve(static_cast<std::size_t>(w.cfg.slots));
  for (int i = 0; i < w.cfg.slots; ++i) {
    auto slot = std::make_unique<detail::Slot>();
    slot->index = i;
    w.slots.push_back(std::move(slot));
  }
  const ServerInfo& server = w.fetch_client->server();
  std::string task_list;
  for (const auto& [task, handler] : w.handlers) task_list += (task_list.empty() ? "" : ",") + task;
  std::string queue_list;
  for (const std::string& q : w.cfg.queues) queue_list += (queue_list.empty() ? "" : ",") + q;
  w.log.log(LogLevel::info, "worker_started",
            {{"queues", queue_list},
             {"tasks", w.default_handler ? std::string("*") : task_list},
             {"slots", w.cfg.slots},
             {"lease_ms", detail::ms(w.cfg.lease)},
             {"heartbeat_ms", detail::ms(w.heartbeat_interval)},
             {"poll_ms", detail::ms(w.cfg.poll_interval)},
             {"grace_ms", detail::ms(w.cfg.grace_period)},
             {"server", server.extension_version},
             {"fetch", w.fetch_client->supports("fetch_v2") ? "fetch_v2" : "fetch_v1"}});

  w.start_slots();
  w.start_reporter();
  w.start_heartbeats();
  w.fetch_loop();
  w.drain_and_release();
  w.stop_slots();     // waits for handlers released above to return; their results are dropped
  w.stop_reporter();  // reports what is still queued
  w.stop_heartbeats();
  WorkerStats s = stats();
  w.log.log(LogLevel::info, "worker_stopped",
            {{"claimed", s.claimed},
             {"succeeded", s.succeeded},
             {"failed", s.failed},
             {"cancelled", s.cancelled},
             {"lease_lost", s.lease_lost},
             {"released", s.released},
             {"reconnects", s.reconnects}});
}

}  // namespace baton
