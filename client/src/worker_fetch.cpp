// The fetcher: claims up to the free slots in one call, hands the jobs out (the reporter
// thread reports their outcomes), and when idle waits for a NOTIFY or the poll interval (README
// "Wake-ups").
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "worker_internal.h"

namespace baton {
namespace detail {

WorkerState::Woken WorkerState::wait_wake(Clock::time_point deadline, int socket) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    // Round up so that a wait never ends a hair early and spins.
    int timeout = static_cast<int>(std::clamp<long long>(left.count() + 1, 0, 60 * 60 * 1000));
    pollfd fds[2] = {{wake_read.get(), POLLIN, 0}, {socket, POLLIN, 0}};
    int n = ::poll(fds, socket >= 0 ? 2 : 1, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Woken::timeout;
    }
    if (n == 0) return Woken::timeout;
    if (fds[0].revents != 0) {
      char buf[64];
      while (::read(wake_read.get(), buf, sizeof buf) > 0) {
      }
      return Woken::wake;
    }
    return Woken::socket;
  }
}

std::vector<Job> WorkerState::fetch_jobs(int max_jobs) {
  FetchOptions options;
  options.max_jobs = max_jobs;
  options.lease = cfg.lease;
  // Claim only what we can run: the server's task filter (0.2.0). Without it (a default
  // handler, more tasks than the filter takes, a 0.1.0 server) unknown tasks are failed.
  if (!default_handler && handlers.size() <= 100 && fetch_client->supports("fetch_v2"))
    for (const auto& [task, handler] : handlers) options.tasks.push_back(task);
  counters.fetches++;
  std::vector<Job> jobs = fetch_client->fetch(cfg.queues, name, options);
  if (jobs.empty())
    counters.empty_fetches++;
  else
    counters.claimed += jobs.size();
  return jobs;
}

void WorkerState::fetch_loop() {
  bool listening = false;
  bool warned_no_filter = false;
  const auto give_up = [this] { return stopping || exiting; };
  while (!stopping) {
    try {
      if (!warned_no_filter && !default_handler && !fetch_client->supports("fetch_v2")) {
        warned_no_filter = true;
        log.log(LogLevel::warn, "no_task_filter",
                {{"server", fetch_client->server().extension_version},
                 {"note", "fetch_v1 claims every task; jobs without a handler are failed"}});
      }
      const int free = free_slots();
      if (free == 0) {
        // Every slot busy: nothing to claim until one frees (it wakes us).
        wait_for_slot();
        continue;
      }
      std::vector<Job> jobs = fetch_jobs(std::min(free, cfg.max_batch));
      if (!jobs.empty()) {
        dispatch(std::move(jobs));
        continue;
      }
      if (stopping) break;
      // Idle: LISTEN, announce it, fetch once more (a job deferred before the announcement
      // sent no NOTIFY), then wait for a NOTIFY or the poll interval.
      if (!listening) {
        for (const std::string& q : cfg.queues) fetch_client->listen_queue(q);
        listening = true;  // the Client re-issues LISTEN after a reconnect
      }
      // The announcement outlives our wait a little, so a defer during the wait notifies.
      fetch_client->await_work(cfg.queues, cfg.poll_interval + std::chrono::seconds(1));
      jobs = fetch_jobs(std::min(free_slots(), cfg.max_batch));
      if (!jobs.empty()) {
        dispatch(std::move(jobs));
        continue;
      }
      // A NOTIFY read along with an earlier result sits in libpq's buffer, where poll()
      // would not see it.
      bool notified = false;
      while (auto n = fetch_client->next_notification()) {
        counters.notifications++;
        notified = true;
      }
      if (notified) continue;
      const Clock::time_point idle_since = Clock::now();
      if (wait_wake(idle_since + cfg.poll_interval, fetch_client->socket()) == Woken::socket) {
        while (auto n = fetch_client->next_notification()) {
          counters.notifications++;
          notified = true;
        }
        if (notified) log.log(LogLevel::debug, "notified", {{"idle_ms", ms_since(idle_since)}});
      }
    } catch (const ConnectionError& e) {
      // A fetch whose answer was lost may have claimed jobs we never saw: they come back to
      // waiting when their lease expires (fetch's reaper), so nothing is lost.
      log.log(LogLevel::warn, "connection_lost", {{"conn", "fetch"}, {"error", e.what()}});
      if (!reconnect(*fetch_client, "fetch", give_up)) break;
    } catch (const Error& e) {
      // An unknown queue, a revoked grant...: the operator can fix it while we wait.
      log.log(LogLevel::error, "fetch_error",
              {{"error", e.what()},
               {"sqlstate", e.sqlstate()},
               {"retry_in_ms", ms(cfg.poll_interval)}});
      sleep_for(cfg.poll_interval, [this] { return stopping.load(); });
    }
  }
}

}  // namespace detail
}  // namespace baton
