// State shared by the threads of one stress run.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "call_times.h"
#include "ledger.h"
#include "options.h"

namespace stress {

// The two queues every job goes to and every worker fetches from.
inline const std::vector<std::string> kQueues = {"stress_a", "stress_b"};

// Every broken promise found, from any thread. Printed at the end; any entry fails the run.
// A text seen again is counted rather than listed again (a bug tends to repeat).
class Violations {
 public:
  void add(const std::string& text) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto [it, is_new] = index_.emplace(text, list_.size());
    if (is_new) list_.emplace_back(text, 0);
    ++list_[it->second].second;
  }
  void add_all(const std::vector<std::string>& texts) {
    for (const std::string& t : texts) add(t);
  }
  // Each distinct text with how often it was found, in order of first finding.
  std::vector<std::pair<std::string, long>> list() const {
    std::lock_guard<std::mutex> guard(mutex_);
    return list_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, long>> list_;
  std::unordered_map<std::string, std::size_t> index_;
};

// Worker-side call counts, for the summary.
struct Counters {
  std::atomic<long> finish_many_calls{0};
  std::atomic<long> finish_one_calls{0};
  std::atomic<long> heartbeats{0};
  std::atomic<long> abandoned{0};        // claims the crashing worker let expire
  std::atomic<long> reaped{0};           // jobs reap_v1 reported (fetch_v1 reaps too, uncounted)
  std::atomic<long> fetch_v2_calls{0};   // by the workers that switched after the upgrade
  std::atomic<long> fetch_v2_claims{0};  // jobs those calls handed out
};

// The upgrade under load (options.upgrade_to). The flags hand the phases from thread to
// thread; the rest is written by the upgrader alone and read after it was joined.
struct UpgradeState {
  std::atomic<bool> requested{false};  // producer: the share before the upgrade is deferred
  std::atomic<bool> committed{false};  // upgrader: ALTER EXTENSION committed
  std::atomic<bool> done{false};       // the upgrader ended, however (set at once without one)
  std::string from_version;            // extversion before the upgrade
  long waiting_before = -1;            // jobs waiting / running just before it (-1: never ran)
  long running_before = -1;
  int lock_timeouts = 0;  // attempts lock_timeout refused (each retried, up to 3 times)
};

struct Context {
  explicit Context(const Options& o) : options(o) {}

  const Options& options;
  Ledger ledger;
  Violations violations;
  Counters counters;
  CallTimes calls;
  UpgradeState upgrade;
  std::atomic<bool> producer_done{false};
  std::atomic<bool> crasher_done{false};
  std::atomic<bool> stop{false};     // time for every thread to return
  std::atomic<bool> aborted{false};  // an unexpected error or the watchdog ended the run
};

}  // namespace stress
