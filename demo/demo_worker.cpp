// The demo's worker: a baton::Worker with 4 slots runs the demo shop's tasks until the demo
// queues are drained, with a progress line (updated in place on a terminal, one line a second
// otherwise), then stops gracefully and checks the outcome.
//
//   demo_worker [--log FILE] [--timeout SECONDS]
//
// Tasks (see defer_jobs.cpp for what is deferred):
//   send_email       ~1 ms "SMTP"; an address at example.invalid bounces: JobFailure, final,
//                    so the job is dead at once (no retries for a permanent error)
//   resize_image     ~2-4 ms; on success defers a send_email to the image's owner, in the
//                    same transaction as its own success (JobContext::defer)
//   deliver_webhook  ~1 ms; the receiver answers 503 to ~10 % of attempts: the handler
//                    throws and baton retries the job (200 ms constant backoff, 10 attempts)
// The worker's own log (key=value lines) goes to FILE (default: discarded); errors also to
// stderr. Exit status 0 only if the queues drained in time, nothing is left waiting, running
// or blocked, every dead job is a bounce and every bounce is dead, and no lease was lost.
// Connects with the PG* environment.
#include "demo_common.h"

#include <baton/client.h>
#include <baton/worker.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Simulated work that gives up when the job should stop (abort, lost lease, released).
void work_for(baton::JobContext& ctx, baton::Duration d) {
  if (!ctx.sleep_for(d)) ctx.check();
}

std::mt19937& rng() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return gen;
}

int uniform(int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng());
}

void register_tasks(baton::Worker& w) {
  w.handle("send_email", [](const baton::Job& job, baton::JobContext& ctx) -> baton::Json {
    const std::string to = job.args.at("to").get<std::string>();
    work_for(ctx, 1ms);  // talking to the SMTP relay
    if (demo::ends_with(to, demo::kBounceDomain))
      throw baton::JobFailure("550 5.1.1 <" + to + ">: recipient address rejected",
                              /*retryable=*/false);
    return {{"accepted_by", "smtp.example.com"}, {"queue_id", "Q" + std::to_string(job.id)}};
  });

  w.handle("resize_image", [](const baton::Job& job, baton::JobContext& ctx) -> baton::Json {
    const auto image_id = job.args.at("image_id").get<std::int64_t>();
    baton::Json thumbnails = baton::Json::array();
    for (const auto& size : job.args.at("sizes")) {
      work_for(ctx, std::chrono::microseconds(uniform(600, 1300)));  // decode, scale, encode
      const int px = size.get<int>();
      thumbnails.push_back({{"size", px}, {"bytes", px * px / 12 + uniform(0, 999)}});
    }
    // Exists exactly when this job succeeds: sent in the transaction of its success report.
    ctx.defer(
        "emails", "send_email",
        {{"to", job.args.at("owner")}, {"template", "thumbnails_ready"}, {"image_id", image_id}});
    return {{"thumbnails", thumbnails}};
  });

  w.handle("deliver_webhook", [](const baton::Job& job, baton::JobContext& ctx) -> baton::Json {
    const std::string url = job.args.at("url").get<std::string>();
    work_for(ctx, 1ms);  // the HTTP round trip
    if (uniform(1, 100) <= 10)
      throw std::runtime_error("POST " + url + ": HTTP 503 Service Unavailable");
    return {{"http_status", 200}, {"attempt", job.attempt}};
  });
}

// The demo queues' jobs, summed over the queues (from baton.queue_stats).
struct Totals {
  std::int64_t pending = 0;  // waiting, scheduled (e.g. a retry's backoff), blocked, running
  std::int64_t succeeded = 0, dead = 0, cancelled = 0;
  std::int64_t finished() const { return succeeded + dead + cancelled; }
  std::int64_t all() const { return pending + finished(); }
};

Totals totals(baton::Client& client) {
  Totals t;
  for (const baton::QueueStats& s : client.queue_stats()) {
    bool ours = false;
    for (const std::string& q : demo::kQueues) ours = ours || q == s.queue;
    if (!ours) continue;
    t.pending += s.waiting + s.scheduled + s.blocked + s.running;
    t.succeeded += s.succeeded;
    t.dead += s.dead;
    t.cancelled += s.cancelled;
  }
  return t;
}

std::string progress_line(const Totals& t, const baton::WorkerStats& s, double rate) {
  // Failed attempts that were retried: every failure report that did not end its job.
  const std::int64_t retried =
      std::max<std::int64_t>(0, static_cast<std::int64_t>(s.failed) - t.dead);
  return "processed " + demo::group(t.finished()) + "/" + demo::group(t.all()) + " · succeeded " +
         demo::group(t.succeeded) + " · retried " + demo::group(retried) + " · dead " +
         demo::group(t.dead) + " · " + demo::group(static_cast<std::uint64_t>(rate + 0.5)) +
         " jobs/s";
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: demo_worker [--log FILE] [--timeout SECONDS]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string log_path;
  double timeout_s = 45;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--log") && i + 1 < argc)
      log_path = argv[++i];
    else if (!std::strcmp(argv[i], "--timeout") && i + 1 < argc)
      timeout_s = std::atof(argv[++i]);
    else
      usage();
  }
  if (timeout_s <= 0) usage();

  std::FILE* log = log_path.empty() ? nullptr : std::fopen(log_path.c_str(), "w");
  if (!log_path.empty() && !log) {
    std::perror(log_path.c_str());
    return 1;
  }
  const bool tty = isatty(STDOUT_FILENO);

  try {
    baton::WorkerConfig cfg;  // conninfo empty: the PG* environment
    cfg.queues = demo::kQueues;
    cfg.name = "demo-worker";
    cfg.slots = 4;
    // A retry's backoff ends without a NOTIFY; poll often so the tail of retries is short.
    cfg.poll_interval = 200ms;
    cfg.grace_period = 5s;
    cfg.install_signal_handlers = true;  // Ctrl-C: graceful stop (the demo then fails)
    cfg.log_level = baton::LogLevel::info;
    cfg.log_sink = [log, tty](baton::LogLevel level, std::string_view line) {
      if (log) std::fprintf(log, "%.*s\n", static_cast<int>(line.size()), line.data());
      if (level >= baton::LogLevel::error)
        std::fprintf(stderr, "%s%.*s\n", tty ? "\n" : "", static_cast<int>(line.size()),
                     line.data());
    };
    baton::Worker worker(cfg);
    register_tasks(worker);

    baton::Client monitor;  // a connection of its own for the progress line
    std::printf("worker %s: %d slots on queues emails, images, webhooks\n", cfg.name.c_str(),
                cfg.slots);
    std::fflush(stdout);

    const Totals before = totals(monitor);
    std::exception_ptr run_error;
    std::atomic<bool> run_returned{false};
    const auto start = Clock::now();
    std::thread runner([&] {
      try {
        worker.run();
      } catch (...) {
        run_error = std::current_exception();
      }
      run_returned = true;
    });
    // Should the progress loop throw (say the monitor's connection is lost), stop the worker
    // at once and wait for it before the exception leaves main.
    struct StopOnExit {
      baton::Worker& worker;
      std::thread& runner;
      ~StopOnExit() {
        if (!runner.joinable()) return;
        worker.stop();
        worker.stop_now();
        runner.join();
      }
    } stop_on_exit{worker, runner};

    // Poll every 100 ms; print in place on a terminal, else once a second.
    std::deque<std::pair<Clock::time_point, std::int64_t>> window{{start, before.finished()}};
    auto last_print = start;
    bool drained = false, timed_out = false;
    while (true) {
      std::this_thread::sleep_for(100ms);
      const auto now = Clock::now();
      const Totals t = totals(monitor);
      const baton::WorkerStats s = worker.stats();
      window.emplace_back(now, t.finished());
      while (now - window.front().first > 1s) window.pop_front();
      const double span = std::chrono::duration<double>(now - window.front().first).count();
      const double rate = span > 0 ? (t.finished() - window.front().second) / span : 0;
      drained = t.pending == 0 && s.running == 0;
      timed_out = now - start > std::chrono::duration<double>(timeout_s);
      if (drained || timed_out || run_returned) break;
      if (tty) {
        std::printf("\r%s\033[K", progress_line(t, s, rate).c_str());
        std::fflush(stdout);
      } else if (now - last_print >= 1s) {
        std::printf("%s\n", progress_line(t, s, rate).c_str());
        std::fflush(stdout);
        last_print = now;
      }
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    worker.stop();  // graceful: stop claiming, let running handlers finish, report them
    runner.join();

    const Totals t = totals(monitor);
    const baton::WorkerStats s = worker.stats();
    const double average = (t.finished() - before.finished()) / elapsed;
    std::printf("%s%s%s\n", tty ? "\r" : "", progress_line(t, s, average).c_str(),
                tty ? "\033[K" : "");
    if (run_error) std::rethrow_exception(run_error);

    std::printf(
        "%s in %.1f s; the worker stopped gracefully (%s fetches claimed %s jobs, "
        "%s finish calls reported them)\n",
        drained ? "drained" : "NOT drained", elapsed, demo::group(s.fetches).c_str(),
        demo::group(s.claimed).c_str(), demo::group(s.finish_calls).c_str());

    // The checks: nothing left over, nothing lost, and dead exactly where it should be.
    bool ok = true;
    auto fail = [&ok](const std::string& why) {
      std::fprintf(stderr, "demo_worker: FAILED: %s\n", why.c_str());
      ok = false;
    };
    if (!drained && !timed_out) fail("the worker stopped before the queues were drained");
    if (timed_out) fail("the queues were not drained within " + seconds(timeout_s));
    if (t.pending != 0) fail(demo::group(t.pending) + " jobs still waiting, scheduled or running");
    if (t.cancelled != 0) fail(demo::group(t.cancelled) + " jobs cancelled");
    if (s.lease_lost || s.released || s.unknown_task)
      fail("leases lost " + std::to_string(s.lease_lost) + ", jobs released " +
           std::to_string(s.released) + ", jobs without a handler " +
           std::to_string(s.unknown_task));
    baton::JobFilter dead_filter;
    dead_filter.status = "dead";
    dead_filter.limit = 100000;
    std::int64_t dead_bounces = 0;
    for (const baton::JobInfo& j : monitor.list_jobs(dead_filter)) {
      const bool bounce = j.task == "send_email" &&
                          demo::ends_with(j.args.value("to", std::string()), demo::kBounceDomain);
      if (bounce)
        ++dead_bounces;
      else
        fail("job " + std::to_string(j.id) + " (" + j.task + ") is dead: " + j.error.value_or("?"));
    }
    const baton::Json bounces = monitor.query(
        "SELECT count(*) AS n FROM baton.all_jobs WHERE task = 'send_email' AND "
        "right(args->>'to', length($1)) = $1",
        {demo::kBounceDomain});
    const std::int64_t expected = std::stoll(bounces.at(0).at("n").get<std::string>());
    if (drained && dead_bounces != expected)
      fail(std::to_string(expected) + " emails bounce but " + std::to_string(dead_bounces) +
           " of them are dead");
    if (!ok) return 1;
    const std::string dead_note =
        t.dead == 0 ? "no job is dead"
                    : "the " + demo::group(t.dead) + " dead jobs are the emails that bounce";
    std::printf("checks passed: nothing left waiting or running; %s\n", dead_note.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%sdemo_worker: %s\n", tty ? "\n" : "", e.what());
    return 1;
  }
}
