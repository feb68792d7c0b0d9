#include "crasher.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "baton_api.h"

namespace stress {
namespace {

constexpr int kCrashLeaseSeconds = 1;  // the shortest lease fetch_v1 accepts
constexpr auto kPollPause = std::chrono::milliseconds(5);

bool nothing_left(Context& ctx, Connection& conn) {
  return ctx.producer_done &&
         conn.exec("SELECT NOT EXISTS (SELECT 1 FROM baton.jobs)").text(0, 0) == "t";
}

// Claims up to crash_jobs jobs; empty only when the run is over or there is nothing left.
std::vector<Claim> claim_some(Context& ctx, Connection& conn) {
  while (!ctx.stop && !nothing_left(ctx, conn)) {
    std::vector<Claim> claims =
        fetch(conn, kQueues, kCrasherName, ctx.options.crash_jobs, kCrashLeaseSeconds);
    if (!claims.empty()) return claims;
    std::this_thread::sleep_for(kPollPause);
  }
  return {};
}

// The one timing wait of the test: the server's clock decides when a lease has run out.
void wait_for_expiry(Connection& conn, const std::vector<Claim>& claims) {
  int64_t last = 0;
  for (const Claim& c : claims) last = std::max(last, c.expires_at_us);
  for (int64_t now = server_now_us(conn); now <= last; now = server_now_us(conn))
    std::this_thread::sleep_for(std::chrono::microseconds(last - now + 1000));
}

// Runs a call that must be refused because the lease is gone; returns what went wrong.
template <typename Call>
std::vector<std::string> expect_lease_lost(const std::string& what, Call call) {
  try {
    call();
    return {what + " after the lease expired was accepted"};
  } catch (const PgError& e) {
    if (e.sqlstate() == kLeaseLost) return {};
    return {what + " after the lease expired failed with SQLSTATE " + e.sqlstate() +
            " instead of " + kLeaseLost + ": " + e.what()};
  }
}

std::vector<std::string> check_late_reports(Connection& conn, const std::vector<Claim>& claims) {
  std::vector<std::string> found;
  auto add = [&](std::vector<std::string> more) {
    found.insert(found.end(), more.begin(), more.end());
  };
  for (const Claim& c : claims)
    add(expect_lease_lost("crasher: finish_v1 of job " + std::to_string(c.job_id),
                          [&] { finish_one(conn, c, Outcome{}); }));
  add(expect_lease_lost("crasher: heartbeat_v1 of job " + std::to_string(claims[0].job_id),
                        [&] { heartbeat(conn, claims[0], kCrashLeaseSeconds); }));
  std::vector<std::string> answers = finish_many(conn, claims, std::vector<Outcome>(claims.size()));
  for (std::size_t i = 0; i < claims.size(); ++i)
    if (answers[i] != "lease_lost")
      found.push_back("crasher: finish_many_v1 of job " + std::to_string(claims[i].job_id) +
                      " after the lease expired answered " + answers[i] + ", not lease_lost");
  return found;
}

}  // namespace

void run_crasher(Context& ctx) {
  Connection conn(ctx.options.dsn);
  for (int round = 1; round <= ctx.options.crash_rounds && !ctx.stop; ++round) {
    std::vector<Claim> claims = claim_some(ctx, conn);
    if (claims.empty()) {
      if (!ctx.stop)
        ctx.violations.add("crasher: no job left to claim in round " + std::to_string(round) +
                           "; the lease-expiry path was not exercised (defer more jobs)");
      return;
    }
    for (const Claim& c : claims) ctx.violations.add_all(ctx.ledger.acquire(kCrasherName, c));
    ctx.counters.abandoned += static_cast<long>(claims.size());
    wait_for_expiry(conn, claims);
    if (round % 2 == 0) ctx.counters.reaped += reap(conn);
    ctx.violations.add_all(check_late_reports(conn, claims));
    for (const Claim& c : claims) ctx.ledger.release(c);
  }
}

}  // namespace stress
