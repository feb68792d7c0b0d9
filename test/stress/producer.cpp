#include "producer.h"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "baton_api.h"

namespace stress {
namespace {

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

}  // namespace

std::vector<int64_t> run_producer(Context& ctx) {
  const Options& o = ctx.options;
  std::mt19937_64 rng(o.seed);
  Connection conn(o.dsn);
  std::vector<int64_t> ids;
  ids.reserve(o.jobs);
  for (int first = 0; first < o.jobs && !ctx.stop; first += o.batch) {
    int count = std::min(o.batch, o.jobs - first);
    std::vector<int64_t> batch_ids = defer_many(conn, make_batch(o, first, count, rng));
    if (static_cast<int>(batch_ids.size()) != count)
      throw std::runtime_error("defer_many_v1 returned " + std::to_string(batch_ids.size()) +
                               " ids for " + std::to_string(count) + " jobs");
    ids.insert(ids.end(), batch_ids.begin(), batch_ids.end());
  }
  return ids;
}

}  // namespace stress
