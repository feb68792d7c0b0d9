// baton-stress: evidence that no job is lost, none runs twice at once, and every job ends in
// exactly one final state. A producer defers jobs while worker threads claim, run, fail,
// heartbeat and finish them and a crashing worker lets leases expire; the ledger catches
// double runs as they happen, and after the drain the history is audited (verify.cpp).
// With --upgrade-to, ALTER EXTENSION baton UPDATE runs in the middle of it (upgrader.h).
#include <chrono>
#include <functional>
#include <iomanip>
#include <iostream>
#include <thread>

#include "context.h"
#include "crasher.h"
#include "producer.h"
#include "upgrader.h"
#include "verify.h"
#include "worker.h"

namespace stress {
namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(100);
constexpr std::size_t kViolationsShown = 50;

// The audit counts every row of baton's tables, so the run needs a database of its own.
void prepare_database(Connection& conn) {
  Result r = conn.exec(
      "SELECT (SELECT count(*) FROM baton.jobs) + (SELECT count(*) FROM baton.jobs_finished)");
  if (r.int64(0, 0) != 0)
    throw std::runtime_error("the database already holds jobs; run.sh creates a fresh one");
  for (const std::string& queue : kQueues) conn.exec("SELECT baton.create_queue_v1($1)", {queue});
}

// A thread body that turns any exception into a violation and ends the run; `done` (if
// given) is set however the body ends, so the drain never waits for a dead thread.
std::thread start(Context& ctx, const std::string& name, std::function<void()> body,
                  std::atomic<bool>* done = nullptr) {
  return std::thread([&ctx, name, body, done] {
    try {
      body();
    } catch (const std::exception& e) {
      ctx.violations.add(name + ": unexpected error: " + e.what());
      ctx.aborted = true;
      ctx.stop = true;
    }
    if (done) *done = true;
  });
}

// Until the producer, the crasher and the upgrader (if any) are done and no job is waiting
// or running, or the run was aborted, or the watchdog fires.
void wait_for_drain(Connection& conn, Context& ctx) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(ctx.options.timeout_seconds);
  while (!ctx.stop) {
    int64_t active = conn.exec("SELECT count(*) FROM baton.jobs").int64(0, 0);
    if (ctx.producer_done && ctx.crasher_done && ctx.upgrade.done && active == 0) return;
    if (std::chrono::steady_clock::now() > deadline) {
      ctx.violations.add("watchdog: " + std::to_string(active) + " jobs still active after " +
                         std::to_string(ctx.options.timeout_seconds) + " s");
      ctx.aborted = true;
      return;
    }
    std::this_thread::sleep_for(kDrainPoll);
  }
}

// The lease expiries in history must be exactly the claims the crasher abandoned.
void check_expiries(Context& ctx, const Tally& tally) {
  if (tally.lease_expiries != ctx.counters.abandoned)
    ctx.violations.add("the crasher abandoned " + std::to_string(ctx.counters.abandoned) +
                       " claims but history shows " + std::to_string(tally.lease_expiries) +
                       " lease expiries");
}

void print_summary(const Context& ctx, const Tally& t, double seconds) {
  const Options& o = ctx.options;
  std::cout << "  jobs            " << t.jobs << " in " << kQueues.size() << " queues, " << t.locked
            << " sharing " << o.locks << " locks\n"
            << "  workers         " << o.workers << " + 1 crashing\n"
            << "  claims          " << t.claims << " (retries after failure " << t.failures
            << ", lease expiries " << t.lease_expiries << ")\n"
            << "  final states    succeeded " << t.succeeded << ", dead " << t.dead << "\n"
            << "  calls           finish_many_v1 " << ctx.counters.finish_many_calls
            << ", finish_v1 " << ctx.counters.finish_one_calls << ", heartbeat_v1 "
            << ctx.counters.heartbeats << ", reap_v1 reaped " << ctx.counters.reaped << "\n"
            << "  elapsed         " << std::fixed << std::setprecision(1) << seconds << " s ("
            << static_cast<long>(t.jobs / seconds) << " jobs/s)\n";
}

// Prints the violations; true when there were none.
bool report_violations(const Violations& violations) {
  std::vector<std::pair<std::string, long>> list = violations.list();
  long total = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    total += list[i].second;
    if (i == kViolationsShown) std::cout << "... more violations not shown\n";
    if (i >= kViolationsShown) continue;
    std::cout << "VIOLATION: " << list[i].first;
    if (list[i].second > 1) std::cout << " (" << list[i].second << " times)";
    std::cout << "\n";
  }
  std::cout << (list.empty() ? "PASS" : "FAIL") << ": " << total << " violations\n";
  return list.empty();
}

int run(const Options& o) {
  std::cout << "baton-stress: " << o.jobs << " jobs, " << o.workers << " workers, seed " << o.seed;
  if (!o.upgrade_to.empty())
    std::cout << ", upgrade to " << o.upgrade_to << " after " << o.upgrade_after_fraction
              << " of the jobs";
  std::cout << std::endl;
  Connection conn(o.dsn);
  prepare_database(conn);
  Context ctx(o);
  auto started = std::chrono::steady_clock::now();

  std::vector<int64_t> deferred;
  std::vector<std::thread> threads;
  threads.push_back(start(
      ctx, "producer", [&] { deferred = run_producer(ctx); }, &ctx.producer_done));
  for (int i = 1; i <= o.workers; ++i)
    threads.push_back(start(ctx, "worker-" + std::to_string(i), [&ctx, i] { run_worker(ctx, i); }));
  threads.push_back(start(
      ctx, kCrasherName, [&] { run_crasher(ctx); }, &ctx.crasher_done));
  if (o.upgrade_to.empty())
    ctx.upgrade.done = true;
  else
    threads.push_back(start(
        ctx, "upgrader", [&] { run_upgrader(ctx); }, &ctx.upgrade.done));

  wait_for_drain(conn, ctx);
  ctx.stop = true;
  for (std::thread& t : threads) t.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  if (!ctx.aborted) {
    Tally tally = verify_history(conn, deferred, ctx.ledger.logs(), ctx.violations);
    check_expiries(ctx, tally);
    if (!o.upgrade_to.empty()) check_upgrade(conn, ctx);
    print_summary(ctx, tally, seconds);
    if (!o.upgrade_to.empty()) print_upgrade_summary(ctx);
  }
  return report_violations(ctx.violations) ? 0 : 1;
}

}  // namespace
}  // namespace stress

int main(int argc, char** argv) {
  stress::Options options;
  try {
    options = stress::parse_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  try {
    return stress::run(options);
  } catch (const std::exception& e) {
    std::cerr << "baton-stress: " << e.what() << "\n";
    return 1;
  }
}
