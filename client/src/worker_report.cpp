// Reporting outcomes: finish_many for a batch, finish for one; exactly once per job, also
// across a dropped connection.
#include <iterator>

#include "worker_internal.h"

namespace baton {
namespace detail {

bool already_reported(const LeaseLost& e, FinishStatus reported) {
  // The server's words (extension/src/pg/lease_check.cpp): "cannot finish job 7: it is
  // succeeded, not running".
  const std::string m = e.what();
  const std::string::size_type at = m.find("it is ");
  const std::string::size_type end = m.find(", not running");
  if (at == std::string::npos || end == std::string::npos || end < at) return false;
  const std::string status = m.substr(at + 6, end - at - 6);
  switch (reported) {
    case FinishStatus::succeeded:
      return status == "succeeded";
    case FinishStatus::failed:
      // A failure with attempts left waits for its retry; the last one is dead. ("waiting"
      // might also be a reaped lease: either way the attempt is over and counted once.)
      return status == "waiting" || status == "dead";
    case FinishStatus::cancelled:
      return status == "cancelled";
  }
  return false;
}

bool WorkerState::report_give_up() const {
  // While running: never (the server comes back, the outcomes are reported). In the
  // shutdown: a few seconds past the grace, then the leases expire and the server retries.
  if (exiting || stop_now) return true;
  if (!stopping) return false;
  return Clock::now() >
         grace_deadline() + std::max<Clock::duration>(std::chrono::seconds(5), cfg.reconnect_max);
}

void WorkerState::enqueue(Completed c) {
  {
    std::lock_guard<std::mutex> lock(mu);
    completed.push_back(std::move(c));
  }
  report_cv.notify_one();
}

void WorkerState::enqueue(std::vector<Completed> batch) {
  if (batch.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (Completed& c : batch) completed.push_back(std::move(c));
  }
  report_cv.notify_one();
}

void WorkerState::start_reporter() {
  report_thread = std::thread([this] { reporter_main(); });
}

void WorkerState::stop_reporter() {
  {
    std::lock_guard<std::mutex> lock(mu);
    report_exit = true;
  }
  report_cv.notify_all();
  notify_sleepers();  // a reconnect backoff in progress (it gives up once exiting is set)
  if (report_thread.joinable()) report_thread.join();
}

void WorkerState::reporter_main() {
  // Whatever the slots queued while the previous batch was in flight goes in the next one,
  // so batches grow with the load by themselves (no timer, no added latency when idle).
  for (;;) {
    std::vector<Completed> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      report_cv.wait(lock, [this] { return !completed.empty() || report_exit; });
      if (completed.empty()) return;  // report_exit with nothing left
      batch.assign(std::make_move_iterator(completed.begin()),
                   std::make_move_iterator(completed.end()));
      completed.clear();
    }
    report(std::move(batch));
    wake();  // the shutdown waits for held jobs to be reported
  }
}

void WorkerState::forget(const RunningJob& job) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = held.find(job.job.lease_token);
  if (it != held.end() && it->second.get() == &job) held.erase(it);
}

void WorkerState::finished(RunningJob& job, const Outcome& outcome, const std::string& status,
                           bool confirmed_on_retry, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(job.mu);
    job.state = JobState::done;
  }
  forget(job);
  const Job& j = job.job;
  if (status == "succeeded") {
    counters.succeeded++;
  } else if (status == "waiting" || status == "dead") {
    counters.failed++;
  } else if (status == "cancelled") {
    counters.cancelled++;
  } else if (status == "lease_lost") {
    counters.lease_lost++;
    log.log(LogLevel::warn, "job_lease_lost",
            {{"job", j.id}, {"task", j.task}, {"attempt", j.attempt}, {"error", why}});
    return;
  } else if (status == "abandoned") {
    log.log(LogLevel::error, "report_abandoned",
            {{"job", j.id}, {"task", j.task}, {"status", to_string(outcome.status)}, {"why", why}});
    return;
  }
  const LogLevel level = status == "succeeded" ? LogLevel::info : LogLevel::warn;
  if (!log.enabled(level)) return;
  if (outcome.error)
    log.log(level, "job_done",
            {{"job", j.id},
             {"task", j.task},
             {"attempt", j.attempt},
             {"outcome", to_string(outcome.status)},
             {"status", status},
             {"ms", ms_since(job.started)},
             {"confirmed_on_retry", confirmed_on_retry},
             {"error", *outcome.error}});
  else
    log.log(level, "job_done",
            {{"job", j.id},
             {"task", j.task},
             {"attempt", j.attempt},
             {"outcome", to_string(outcome.status)},
             {"status", status},
             {"ms", ms_since(job.started)},
             {"confirmed_on_retry", confirmed_on_retry}});
}

namespace {

FinishItem item_of(const Completed& c) {
  FinishItem item;
  item.job_id = c.job->job.id;
  item.lease_token = c.job->job.lease_token;
  item.status = c.outcome.status;
  item.result = c.outcome.result;
  item.error = c.outcome.error;
  item.retryable = c.outcome.retryable;
  return item;
}

FinishOptions options_of(const Outcome& o) {
  FinishOptions fo;
  fo.result = o.result;
  fo.error = o.error;
  fo.retryable = o.retryable;
  return fo;
}

}  // namespace

void WorkerState::report(std::vector<Completed> batch) {
  Client& c = *report_client;
  std::deque<Completed> pending(std::make_move_iterator(batch.begin()),
                                std::make_move_iterator(batch.end()));
  // After a lost connection every outcome in flight may have committed, so the rest go one
  // by one: finish_v1's refusal says what the job is now, finish_many's only "lease_lost".
  bool retried = false;
  bool one_by_one = false;
  while (!pending.empty()) {
    try {
      if (!retried && !one_by_one && pending.size() > 1) {
        std::vector<FinishItem> items;
        items.reserve(pending.size());
        for (const Completed& p : pending) items.push_back(item_of(p));
        std::vector<FinishResult> results = c.finish_many(items);
        counters.finish_calls++;
        if (results.size() != pending.size())
          throw Error("baton worker: finish_many answered " + std::to_string(results.size()) +
                      " rows for " + std::to_string(pending.size()) + " jobs");
        for (std::size_t i = 0; i < results.size(); ++i)
          finished(*pending[i].job, pending[i].outcome, results[i].status, false,
                   "finish_many: not held under its token");
        pending.clear();
        continue;
      }
      Completed& p = pending.front();
      const Job& j = p.job->job;
      try {
        std::string status = c.finish(j.id, j.lease_token, p.outcome.status, options_of(p.outcome));
        counters.finish_calls++;
        finished(*p.job, p.outcome, status, false);
      } catch (const LeaseLost& e) {
        counters.finish_calls++;
        if (retried && already_reported(e, p.outcome.status)) {
          // The report before the connection dropped had committed: done, not lost.
          const std::string m = e.what();
          const std::string::size_type at = m.find("it is ") + 6;
          finished(*p.job, p.outcome, m.substr(at, m.find(", not running") - at), true);
        } else {
          finished(*p.job, p.outcome, "lease_lost", false, e.what());
        }
      }
      pending.pop_front();
    } catch (const ConnectionError& e) {
      log.log(LogLevel::warn, "report_failed",
              {{"jobs", pending.size()}, {"conn", "report"}, {"error", e.what()}});
      retried = true;
      if (!reconnect(c, "report", [this] { return report_give_up(); })) {
        for (const Completed& p : pending)
          finished(*p.job, p.outcome, "abandoned", false, "gave up reconnecting at shutdown");
        return;
      }
    } catch (const InvalidArgument& e) {
      if (!one_by_one && pending.size() > 1) {
        one_by_one = true;  // find the outcome the server refuses; report the others
        continue;
      }
      Completed& p = pending.front();
      if (p.outcome.result || p.outcome.status == FinishStatus::succeeded) {
        // The result cannot be stored (not an object, over 1 MiB): running the job again
        // would give the same, so it ends dead with the reason.
        log.log(LogLevel::warn, "result_refused", {{"job", p.job->job.id}, {"error", e.what()}});
        p.outcome =
            Outcome{FinishStatus::failed, std::nullopt,
                    std::string("the handler's result could not be stored: ") + e.what(), false};
      } else {
        finished(*p.job, p.outcome, "abandoned", false, e.what());
        pending.pop_front();
      }
    } catch (const Error& e) {
      if (!one_by_one && pending.size() > 1) {
        one_by_one = true;
        continue;
      }
      // Not ours to fix (permissions, a server bug): the lease expires and the job is
      // retried; the log says why.
      Completed& p = pending.front();
      finished(*p.job, p.outcome, "abandoned", false, e.what());
      pending.pop_front();
    }
  }
}

}  // namespace detail
}  // namespace baton
