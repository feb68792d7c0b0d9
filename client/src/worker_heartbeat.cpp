// Background lease heartbeats: every running job's lease is extended each heartbeat_interval
// on a connection of its own, so a long handler keeps its job without doing anything.
#include <algorithm>

#include "worker_internal.h"

namespace baton {
namespace detail {

void WorkerState::start_heartbeats() {
  heartbeat_thread = std::thread([this] { heartbeat_main(); });
}

void WorkerState::stop_heartbeats() {
  {
    std::lock_guard<std::mutex> lock(heartbeat_mu);
    heartbeat_exit = true;
  }
  heartbeat_cv.notify_all();
  notify_sleepers();  // a reconnect backoff in progress
  if (heartbeat_thread.joinable()) heartbeat_thread.join();
}

void WorkerState::heartbeat_main() {
  // Checking a tenth of the interval keeps each job's heartbeat within 10 % of its due time.
  const Duration tick = std::clamp<Duration>(heartbeat_interval / 10, std::chrono::milliseconds(10),
                                             std::chrono::milliseconds(500));
  Client& c = *heartbeat_client;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(heartbeat_mu);
      if (heartbeat_cv.wait_for(lock, tick, [this] { return heartbeat_exit.load(); })) return;
    }
    std::vector<JobPtr> due;
    const Clock::time_point now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [token, job] : held) {
        std::lock_guard<std::mutex> job_lock(job->mu);
        if (job->state == JobState::running && !job->lost &&
            now - job->last_heartbeat >= heartbeat_interval)
          due.push_back(job);
      }
    }
    for (const JobPtr& job : due) {
      try {
        Heartbeat hb = c.heartbeat(job->job.id, job->job.lease_token, cfg.lease);
        counters.heartbeats++;
        {
          std::lock_guard<std::mutex> lock(job->mu);
          job->last_heartbeat = Clock::now();
        }
        log.log(LogLevel::debug, "heartbeat", {{"job", job->job.id}});
        if (hb.abort_requested && !job->abort.exchange(true)) {
          log.log(LogLevel::info, "abort_requested", {{"job", job->job.id}, {"by", "heartbeat"}});
          notify_sleepers();
        }
      } catch (const LeaseLost& e) {
        mark_lost(*job, "heartbeat", e.what());
      } catch (const ConnectionError& e) {
        log.log(LogLevel::warn, "connection_lost", {{"conn", "heartbeat"}, {"error", e.what()}});
        if (!reconnect(c, "heartbeat", [this] { return heartbeat_exit.load(); })) return;
        break;  // the due list is stale after the wait; start over
      } catch (const Error& e) {
        log.log(LogLevel::warn, "heartbeat_failed", {{"job", job->job.id}, {"error", e.what()}});
      }
    }
  }
}

}  // namespace detail
}  // namespace baton
