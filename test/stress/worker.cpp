#include "worker.h"

#include <chrono>
#include <random>
#include <thread>

#include "baton_api.h"

namespace stress {
namespace {

// Pause after an empty fetch: retries wait 10 ms by default, so keep polling briskly.
constexpr auto kIdlePause = std::chrono::milliseconds(2);
constexpr int kMaxWorkMicros = 200;

// What finish must answer: a failed attempt with attempts left goes back to waiting.
std::string expected_answer(const Claim& claim, const Outcome& outcome) {
  if (!outcome.failed) return "succeeded";
  return claim.attempt < claim.max_attempts ? "waiting" : "dead";
}

class Worker {
 public:
  Worker(Context& ctx, int index)
      : ctx_(ctx),
        name_("worker-" + std::to_string(index)),
        switches_(index % 2 == 0),
        conn_(ctx.options.dsn),
        rng_(ctx.options.seed + index) {}

  void run() {
    std::uniform_int_distribution<int> batch_size(1, ctx_.options.max_fetch);
    while (!ctx_.stop) {
      std::vector<Claim> claims;
      // Read once per fetch, so the error names the procedure that failed.
      bool v2 = switches_ && ctx_.upgrade.committed;
      try {
        claims = v2 ? fetch_new(batch_size(rng_)) : fetch_old(batch_size(rng_));
      } catch (const PgError& e) {
        // A server error in a fetch fails the run but claimed nothing (one statement, rolled
        // back), so the run goes on and the audit still shows whether anything else broke.
        if (e.sqlstate().empty()) throw;
        ctx_.violations.add(name_ + ": " + call_name(v2 ? Call::fetch_v2 : Call::fetch_v1) +
                            " failed: " + e.what());
        continue;
      }
      if (claims.empty()) {
        std::this_thread::sleep_for(kIdlePause);
        continue;
      }
      for (const Claim& c : claims) ctx_.violations.add_all(ctx_.ledger.acquire(name_, c));
      std::vector<Outcome> outcomes = work(claims);
      // Released before the report: once a finish commits, the server may hand the job (or
      // its lock) to another worker at once, and that must not look like a double run.
      for (const Claim& c : claims) ctx_.ledger.release(c);
      report(claims, outcomes);
    }
  }

 private:
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::vector<Claim> fetch_old(int max_jobs) {
    return timed(ctx_.calls, Call::fetch_v1,
                 [&] { return fetch(conn_, kQueues, name_, max_jobs, kWorkerLeaseSeconds); });
  }

  // fetch_v2 returns the job's lock column, which must be the lock the producer deferred
  // it with (copied into its args), and only jobs of the tasks asked for.
  std::vector<Claim> fetch_new(int max_jobs) {
    std::vector<ClaimV2> got = timed(ctx_.calls, Call::fetch_v2, [&] {
      return fetch_v2(conn_, kQueues, name_, max_jobs, kWorkerLeaseSeconds, {kTask});
    });
    ++ctx_.counters.fetch_v2_calls;
    ctx_.counters.fetch_v2_claims += static_cast<long>(got.size());
    std::vector<Claim> claims;
    for (ClaimV2& c : got) {
      const std::string job = "job " + std::to_string(c.claim.job_id);
      if (c.lock.value_or("") != c.claim.lock)
        ctx_.violations.add(name_ + ": fetch_v2 returned lock " + c.lock.value_or("NULL") +
                            " for " + job + ", deferred with lock " +
                            (c.claim.lock.empty() ? "NULL" : c.claim.lock));
      if (c.task != kTask)
        ctx_.violations.add(name_ + ": fetch_v2 with tasks => ARRAY['" + kTask + "'] returned " +
                            job + " of task " + c.task);
      claims.push_back(std::move(c.claim));
    }
    return claims;
  }

  std::vector<Outcome> work(std::vector<Claim>& claims) {
    std::uniform_int_distribution<int> micros(0, kMaxWorkMicros);
    std::vector<Outcome> outcomes;
    for (Claim& c : claims) {
      if (chance(ctx_.options.heartbeat_rate)) {
        c.expires_at_us = timed(ctx_.calls, Call::heartbeat_v1,
                                [&] { return heartbeat(conn_, c, kWorkerLeaseSeconds); });
        ctx_.ledger.extend(c, c.expires_at_us);
        ++ctx_.counters.heartbeats;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(micros(rng_)));
      Outcome outcome;
      outcome.failed = chance(ctx_.options.fail_rate);
      if (outcome.failed)
        outcome.error =
            "simulated failure of attempt " + std::to_string(c.attempt) + " by " + name_;
      outcomes.push_back(outcome);
    }
    return outcomes;
  }

  void report(const std::vector<Claim>& claims, const std::vector<Outcome>& outcomes) {
    if (chance(ctx_.options.finish_one_rate)) {
      for (std::size_t i = 0; i < claims.size(); ++i) {
        ++ctx_.counters.finish_one_calls;
        std::string answer = timed(ctx_.calls, Call::finish_v1,
                                   [&] { return finish_one(conn_, claims[i], outcomes[i]); });
        check_answer(claims[i], outcomes[i], answer);
      }
      return;
    }
    ++ctx_.counters.finish_many_calls;
    std::vector<std::string> answers = timed(ctx_.calls, Call::finish_many_v1,
                                             [&] { return finish_many(conn_, claims, outcomes); });
    for (std::size_t i = 0; i < claims.size(); ++i)
      check_answer(claims[i], outcomes[i], answers[i]);
  }

  void check_answer(const Claim& claim, const Outcome& outcome, const std::string& answer) {
    std::string expected = expected_answer(claim, outcome);
    if (answer != expected)
      ctx_.violations.add("job " + std::to_string(claim.job_id) + " attempt " +
                          std::to_string(claim.attempt) + " by " + name_ + ": finish answered " +
                          answer + ", expected " + expected);
    if (answer == "succeeded" || answer == "dead") ctx_.ledger.record_final(claim.job_id, answer);
  }

  Context& ctx_;
  std::string name_;
  bool switches_;  // moves to fetch_v2 once the upgrade committed (the even-numbered half)
  Connection conn_;
  std::mt19937_64 rng_;
};

}  // namespace

void run_worker(Context& ctx, int index) {
  Worker(ctx, index).run();
}

}  // namespace stress
