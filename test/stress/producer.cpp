#include "producer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <thread>

#include "baton_api.h"

namespace stress {
namespace {

// While the upgrade runs the producer defers in batches this many times smaller, back to
// back, so its calls cover the upgrade's window for as long as its share of jobs lasts.
constexpr int kUpgradeBatchDivisor = 10;
constexpr auto kUpgradeWaitPause = std::chrono::milliseconds(1);

DeferBatch make_batch(const Options& o, int first, int count, std::mt19937_64& rng) {
  DeferBatch batch;
  batch.queue = kQueues[(first / o.batch) % kQueues.size()];
  batch.priority = static_cast<int>(rng() % 3) - 1;  // mixes claim order across batches
  batch.max_attempts = o.max_attempts;
  batch.retry_delay = o.retry_delay;
  std::bernoulli_distribution locked(o.lock_share);
  for (int n = first; n < first + count; ++n) {
    std::string args = "{\"n\": " + std::to_string(n);
    Value lock;
    if (locked(rng)) {
      lock = "stress-lock-" + std::to_string(rng() % o.locks);
      args += ", \"lock\": \"" + *lock + "\"";
    }
    batch.args.push_back(args + "}");
    batch.locks.push_back(lock);
  }
  return batch;
}

// How many jobs the next defer_many_v1 call takes. Without an upgrade: full batches. With
// one, the jobs fall in three shares so that deferring spans the upgrade: [0, trigger) in
// full batches, then the upgrader is asked to start; [trigger, cap) in small batches while
// it runs; the rest in full batches once it is done (the producer waits for that at cap,
// so some jobs are always deferred after the upgrade, by the upgraded extension).
class Pacing {
 public:
  explicit Pacing(Context& ctx) : ctx_(ctx), o_(ctx.options) {
    int jobs = o_.jobs;
    trigger_ = std::clamp(static_cast<int>(std::lround(o_.upgrade_after_fraction * jobs)), 1,
                          std::max(1, jobs - 1));
    cap_ = trigger_ + (jobs - trigger_) / 2;
  }

  // 0 when the run was stopped while waiting for the upgrade.
  int next(int first) {
    int full = std::min(o_.batch, o_.jobs - first);
    if (o_.upgrade_to.empty() || ctx_.upgrade.done) return full;
    if (first < trigger_) return std::min(full, trigger_ - first);
    ctx_.upgrade.requested = true;
    if (first < cap_)
      return std::min({full, std::max(1, o_.batch / kUpgradeBatchDivisor), cap_ - first});
    while (!ctx_.upgrade.done && !ctx_.stop) std::this_thread::sleep_for(kUpgradeWaitPause);
    return ctx_.stop ? 0 : full;
  }

 private:
  Context& ctx_;
  const Options& o_;
  int trigger_ = 0;  // jobs deferred before the upgrade is asked for
  int cap_ = 0;      // jobs deferred at most before it is done
};

}  // namespace

std::vector<int64_t> run_producer(Context& ctx) {
  const Options& o = ctx.options;
  std::mt19937_64 rng(o.seed);
  Connection conn(o.dsn);
  Pacing pacing(ctx);
  std::vector<int64_t> ids;
  ids.reserve(o.jobs);
  int count = 0;
  for (int first = 0; first < o.jobs && !ctx.stop; first += count) {
    count = pacing.next(first);
    if (count == 0) break;
    DeferBatch batch = make_batch(o, first, count, rng);
    std::vector<int64_t> batch_ids =
        timed(ctx.calls, Call::defer_many_v1, [&] { return defer_many(conn, batch); });
    if (static_cast<int>(batch_ids.size()) != count)
      throw std::runtime_error("defer_many_v1 returned " + std::to_string(batch_ids.size()) +
                               " ids for " + std::to_string(count) + " jobs");
    ids.insert(ids.end(), batch_ids.begin(), batch_ids.end());
  }
  return ids;
}

}  // namespace stress
