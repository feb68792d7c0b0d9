#include "ledger.h"

namespace stress {
namespace {

std::string job_name(int64_t job_id) {
  return "job " + std::to_string(job_id);
}

}  // namespace

const Ledger::Hold* Ledger::live_hold(int64_t job_id, int64_t claimed_at_us) const {
  auto it = holds_.find(job_id);
  if (it == holds_.end() || it->second.expires_at_us <= claimed_at_us) return nullptr;
  return &it->second;
}

std::vector<std::string> Ledger::acquire(const std::string& worker, const Claim& claim) {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<std::string> violations;
  const std::string job = job_name(claim.job_id);

  std::vector<std::string>& claimed_by = logs_[claim.job_id].claimed_by;
  if (claim.attempt < 1 || claim.attempt > claim.max_attempts) {
    violations.push_back(job + " handed out as attempt " + std::to_string(claim.attempt) + " of " +
                         std::to_string(claim.max_attempts));
  } else {
    if (claimed_by.size() < static_cast<std::size_t>(claim.attempt))
      claimed_by.resize(claim.attempt);
    std::string& slot = claimed_by[claim.attempt - 1];
    if (!slot.empty())
      violations.push_back(job + " attempt " + std::to_string(claim.attempt) +
                           " claimed twice: by " + slot + " and by " + worker);
    slot = worker;
  }

  if (const Hold* other = live_hold(claim.job_id, claim.claimed_at_us))
    violations.push_back(job + " run twice at once: " + worker + " claimed it while " +
                         other->worker + " still held it");

  if (!claim.lock.empty()) {
    auto holder = lock_holders_.find(claim.lock);
    if (holder != lock_holders_.end() && holder->second != claim.job_id) {
      if (const Hold* other = live_hold(holder->second, claim.claimed_at_us))
        violations.push_back("lock " + claim.lock + " held twice at once: " + worker + " claimed " +
                             job + " while " + other->worker + " held " + job_name(holder->second));
    }
    lock_holders_[claim.lock] = claim.job_id;
  }
  holds_[claim.job_id] = Hold{worker, claim.token, claim.lock, claim.expires_at_us};
  return violations;
}

void Ledger::extend(const Claim& claim, int64_t expires_at_us) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = holds_.find(claim.job_id);
  if (it != holds_.end() && it->second.token == claim.token)
    it->second.expires_at_us = expires_at_us;
}

void Ledger::release(const Claim& claim) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = holds_.find(claim.job_id);
  if (it == holds_.end() || it->second.token != claim.token) return;
  if (!claim.lock.empty()) {
    auto holder = lock_holders_.find(claim.lock);
    if (holder != lock_holders_.end() && holder->second == claim.job_id)
      lock_holders_.erase(holder);
  }
  holds_.erase(it);
}

void Ledger::record_final(int64_t job_id, const std::string& status) {
  std::lock_guard<std::mutex> guard(mutex_);
  JobLog& log = logs_[job_id];
  ++log.final_reports;
  log.final_status = status;
}

std::unordered_map<int64_t, JobLog> Ledger::logs() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return logs_;
}

}  // namespace stress
