#include "upgrader.h"

#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

namespace stress {
namespace {

constexpr const char* kLockNotAvailable = "55P03";  // what lock_timeout raises
constexpr int kLockTimeoutRetries = 3;
constexpr auto kPollPause = std::chrono::milliseconds(1);
// The drain is busy enough that jobs wait and run at nearly every instant, but one sample
// can fall between two claims; looking again for up to a second keeps the check about the
// upgrade meeting load, not about luck.
constexpr int kLoadSamples = 1000;

std::string extension_version(Connection& conn) {
  Result r = conn.exec("SELECT extversion FROM pg_extension WHERE extname = 'baton'");
  return r.rows() == 1 ? r.text(0, 0) : "(not installed)";
}

void sample_load(Context& ctx, Connection& conn) {
  UpgradeState& u = ctx.upgrade;
  for (int i = 0; i < kLoadSamples && !ctx.stop; ++i) {
    Result r = conn.exec(
        "SELECT count(*) FILTER (WHERE status = 'waiting'),"
        " count(*) FILTER (WHERE status = 'running') FROM baton.jobs");
    u.waiting_before = static_cast<long>(r.int64(0, 0));
    u.running_before = static_cast<long>(r.int64(0, 1));
    if (u.waiting_before > 0 && u.running_before > 0) return;
    std::this_thread::sleep_for(kPollPause);
  }
}

// Runs the ALTER, retrying lock_timeout refusals; true once it committed.
bool alter_extension(Context& ctx, Connection& conn) {
  // A utility statement takes no parameters; options.cpp admits only version characters.
  const std::string sql = "ALTER EXTENSION baton UPDATE TO '" + ctx.options.upgrade_to + "'";
  for (int attempt = 0;; ++attempt) {
    try {
      conn.exec(sql);  // autocommit: it returns once the upgrade committed
      return true;
    } catch (const PgError& e) {
      bool timed_out = e.sqlstate() == kLockNotAvailable;
      if (timed_out) ++ctx.upgrade.lock_timeouts;
      if (timed_out && attempt < kLockTimeoutRetries) continue;
      ctx.violations.add("upgrader: " + sql + " failed" +
                         (timed_out ? " after " + std::to_string(attempt + 1) + " attempts" : "") +
                         ": " + e.what());
      return false;
    }
  }
}

long sum(const CallTimes::PerKind& counts, std::initializer_list<Call> calls) {
  long total = 0;
  for (Call c : calls) total += counts[static_cast<std::size_t>(c)];
  return total;
}

std::string ms(CallTimes::Clock::duration d) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << to_ms(d) << " ms";
  return out.str();
}

std::string describe(const CallTimes::Longest& longest) {
  if (!longest.any) return "none";
  return ms(longest.time) + " (" + call_name(longest.call) + ")";
}

}  // namespace

void run_upgrader(Context& ctx) {
  UpgradeState& u = ctx.upgrade;
  Connection conn(ctx.options.dsn);
  // The ALTER takes ACCESS EXCLUSIVE locks, and every call queues behind a waiting one; the
  // timeout bounds how long a wait for a long-running transaction can stall the workers.
  conn.exec("SET lock_timeout = '5s'");
  u.from_version = extension_version(conn);
  if (u.from_version == ctx.options.upgrade_to) {
    ctx.violations.add("upgrader: the database is already at version " + u.from_version +
                       "; create it at an older one (run_upgrade.sh does)");
    return;
  }
  while (!u.requested && !ctx.stop && !ctx.producer_done) std::this_thread::sleep_for(kPollPause);
  if (!u.requested) return;  // check_upgrade reports that it never ran
  sample_load(ctx, conn);
  ctx.calls.open_window();
  bool committed = alter_extension(ctx, conn);
  ctx.calls.close_window();
  u.committed = committed;
}

void check_upgrade(Connection& conn, Context& ctx) {
  const UpgradeState& u = ctx.upgrade;
  Violations& v = ctx.violations;
  std::string version = extension_version(conn);
  if (version != ctx.options.upgrade_to)
    v.add("after the run baton is at version " + version + ", not " + ctx.options.upgrade_to);
  if (!u.committed) v.add("the upgrade never committed");
  if (u.waiting_before <= 0 || u.running_before <= 0)
    v.add("just before the upgrade " + std::to_string(u.waiting_before) + " jobs waited and " +
          std::to_string(u.running_before) +
          " ran: the upgrade did not meet both, so the run proves nothing about them");

  CallTimes::Summary s = ctx.calls.summary();
  const auto defers = {Call::defer_many_v1};
  if (sum(s.before, defers) == 0 || sum(s.overlapping, defers) == 0 || sum(s.after, defers) == 0)
    v.add("defer_many_v1 calls before/during/after the upgrade: " +
          std::to_string(sum(s.before, defers)) + "/" + std::to_string(sum(s.overlapping, defers)) +
          "/" + std::to_string(sum(s.after, defers)) + "; the producer must defer in all three");
  const auto old_worker_calls = {Call::fetch_v1, Call::finish_v1, Call::finish_many_v1,
                                 Call::heartbeat_v1};
  if (sum(s.overlapping, old_worker_calls) == 0)
    v.add("no worker call overlapped the upgrade: it ran while nobody worked");
  if (sum(s.after, {Call::fetch_v1}) == 0)
    v.add("no worker called fetch_v1 after the upgrade: the old procedure was not proven on it");
  if (ctx.counters.fetch_v2_claims == 0)
    v.add("no job was claimed with fetch_v2 after the upgrade (fetch_v2 calls: " +
          std::to_string(ctx.counters.fetch_v2_calls) + "; it needs at least 2 workers)");
}

void print_upgrade_summary(const Context& ctx) {
  const UpgradeState& u = ctx.upgrade;
  CallTimes::Summary s = ctx.calls.summary();
  std::string took = !s.window_opened ? "never started"
                     : !u.committed   ? "failed after " + ms(s.window)
                                      : "in " + ms(s.window);
  std::cout << "  upgrade         " << u.from_version << " -> " << ctx.options.upgrade_to << " "
            << took << "; longest call during it " << describe(s.during)
            << "; longest call of the run " << describe(s.overall) << "\n"
            << "  upgrade load    " << u.waiting_before << " jobs waiting, " << u.running_before
            << " running just before it; lock_timeout retries " << u.lock_timeouts << "\n"
            << "  calls           during the upgrade:";
  for (std::size_t k = 0; k < kCallKinds; ++k)
    std::cout << (k ? ", " : " ") << call_name(static_cast<Call>(k)) << " " << s.overlapping[k];
  std::size_t defer = static_cast<std::size_t>(Call::defer_many_v1);
  std::cout << "\n"
            << "                  defer_many_v1 before " << s.before[defer] << ", after "
            << s.after[defer] << "; fetch_v2 after it " << ctx.counters.fetch_v2_calls
            << " calls claimed " << ctx.counters.fetch_v2_claims << " jobs\n"
            << "UPGRADE_STALL_MS=" << std::fixed << std::setprecision(1)
            << (s.during.any ? to_ms(s.during.time) : 0.0) << "\n";
}

}  // namespace stress
