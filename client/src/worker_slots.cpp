// The slots: one thread per slot runs handlers on the jobs the fetcher queues, with its own
// Client; and JobContext, the handler's view of its job.
#include <algorithm>

#include "worker_internal.h"

namespace baton {
namespace detail {

void WorkerState::start_slots() {
  {
    std::lock_guard<std::mutex> lock(mu);
    busy.assign(slots.size(), false);
  }
  for (auto& slot : slots) {
    Slot* s = slot.get();
    s->thread = std::thread([this, s] { slot_main(*s); });
  }
}

void WorkerState::stop_slots() {
  {
    std::lock_guard<std::mutex> lock(mu);
    slots_exit = true;
  }
  ready_cv.notify_all();
  // A handler that ignores should_stop() holds the shutdown up; say which one, now and then.
  Clock::time_point next_warning = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    std::vector<std::string> stuck;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& [token, job] : held)
        if (job->released) stuck.push_back(std::to_string(job->job.id));
      if (in_hand == 0) break;
    }
    if (Clock::now() >= next_warning) {
      std::string ids;
      for (const std::string& id : stuck) ids += (ids.empty() ? "" : ",") + id;
      log.log(LogLevel::warn, "waiting_for_handlers", {{"jobs", ids}});
      next_warning = Clock::now() + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& slot : slots)
    if (slot->thread.joinable()) slot->thread.join();
}

int WorkerState::free_slots() {
  std::lock_guard<std::mutex> lock(mu);
  return static_cast<int>(slots.size()) - in_hand;
}

void WorkerState::wait_for_slot() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (in_hand < static_cast<int>(slots.size())) return;
    fetcher_wants_slot = true;  // the slot that frees first wakes us (once)
  }
  wait_wake(Clock::now() + cfg.poll_interval, -1);
}

void WorkerState::dispatch(std::vector<Job> jobs) {
  if (jobs.empty()) return;
  const Clock::time_point now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    // The fetch asked for no more jobs than free slots, and only this thread adds to
    // in_hand, so they all fit.
    if (in_hand + static_cast<int>(jobs.size()) > static_cast<int>(slots.size()))
      throw std::logic_error("baton worker: more jobs claimed than free slots");
    for (Job& j : jobs) {
      auto job = std::make_shared<RunningJob>();
      job->job = std::move(j);
      job->worker = this;
      job->started = now;
      job->last_heartbeat = now;
      held[job->job.lease_token] = job;
      ready.push_back(std::move(job));
    }
    in_hand += static_cast<int>(jobs.size());
    // No slot asleep: the busy ones take the jobs when their handlers return. A wake-up
    // on its way: that slot will pass it on.
    if (waiting_slots == 0 || slot_waking) return;
    slot_waking = true;
  }
  // One wake-up at a time: the slot it wakes wakes the next if jobs are still waiting,
  // and slots whose handlers return take the next job themselves. So quick handlers are
  // run back to back by the few slots already awake (no thread switch per job), while
  // slow ones soon have every slot busy, one wake-up after the other.
  ready_cv.notify_one();
}

void WorkerState::slot_main(Slot& slot) {
  const auto index = static_cast<std::size_t>(slot.index);
  for (;;) {
    JobPtr job;
    bool more = false;
    {
      std::unique_lock<std::mutex> lock(mu);
      while (ready.empty() && !slots_exit) {
        ++waiting_slots;
        ready_cv.wait(lock);
        --waiting_slots;
        // Ours was the wake-up on its way (or a spurious one: then allowing another
        // wake-up early is harmless). A notify_one only goes out while a slot waits, so
        // it always reaches one and the flag never sticks.
        slot_waking = false;
      }
      // At exit the jobs still queued have been released by the shutdown: taking them
      // below only counts them out.
      if (ready.empty()) return;
      job = std::move(ready.front());
      ready.pop_front();
      more = !ready.empty() && waiting_slots > 0 && !slot_waking;
      if (more) slot_waking = true;
      busy[index] = true;
    }
    if (more) ready_cv.notify_one();
    job->slot = &slot;
    bool run = true;
    {
      std::lock_guard<std::mutex> job_lock(job->mu);
      run = job->state == JobState::running;  // else released before a slot took it
    }
    if (run) {
      log.log(LogLevel::debug, "job_started",
              {{"job", job->job.id},
               {"task", job->job.task},
               {"attempt", job->job.attempt},
               {"slot", slot.index}});
      try {
        run_job(slot, job);
      } catch (const std::exception& e) {
        // Only the worker's own bookkeeping can get here (handlers are caught in invoke());
        // the job's lease then expires and it is retried elsewhere.
        log.log(LogLevel::error, "slot_error", {{"job", job->job.id}, {"error", e.what()}});
        forget(*job);
      }
    }
    bool wake_fetcher = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      busy[index] = false;
      --in_hand;
      wake_fetcher = fetcher_wants_slot;
      fetcher_wants_slot = false;
    }
    if (wake_fetcher) wake();  // a free slot: the fetcher may claim again
  }
}

Outcome WorkerState::invoke(RunningJob& job) {
  Outcome out;
  const Handler* handler = nullptr;
  auto it = handlers.find(job.job.task);
  if (it != handlers.end())
    handler = &it->second;
  else if (default_handler)
    handler = &default_handler;
  if (handler == nullptr) {
    // Possible without a task filter (a 0.1.0 server): fail clearly instead of crashing, so
    // the job is retried by a worker that has the handler, or ends dead for all to see.
    counters.unknown_task++;
    out.status = FinishStatus::failed;
    out.error = "no handler for task " + job.job.task + " on worker " + name;
    out.retryable = cfg.unknown_task_retryable;
    return out;
  }
  JobContext ctx(job);
  try {
    Json result = (*handler)(job.job, ctx);
    if (!result.is_null()) out.result = std::move(result);
    return out;
  } catch (const JobFailure& e) {
    out.status = FinishStatus::failed;
    out.error = e.what();
    out.retryable = e.retryable();
  } catch (const std::exception& e) {
    out.status = FinishStatus::failed;
    out.error = e.what();
  } catch (...) {
    out.status = FinishStatus::failed;
    out.error = "handler threw a non-standard exception";
  }
  // A job the operator asked to stop that stops is cancelled, as request_abort_v1 expects.
  if (job.abort) {
    out.status = FinishStatus::cancelled;
    out.retryable.reset();
  }
  return out;
}

void WorkerState::run_job(Slot& slot, const JobPtr& job) {
  Outcome out = invoke(*job);
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->state != JobState::running) {
      // Released at the end of the grace period and reported failed already.
      log.log(LogLevel::info, "result_discarded",
              {{"job", job->job.id}, {"task", job->job.task}, {"reason", "released"}});
      return;
    }
    job->state = JobState::reporting;
  }
  if (job->lost) {
    // Someone else may hold the job now; reporting would at best be refused.
    finished(*job, out, "lease_lost", false, "lease lost while running");
    return;
  }
  if (out.status == FinishStatus::succeeded && !job->followups.empty()) {
    finish_with_followups(slot, job, std::move(out));
    return;
  }
  enqueue(Completed{job, std::move(out)});
}

// The follow-up defers and the success go in one transaction on the slot's connection, so
// the follow-ups exist exactly when the job succeeded. If the commit's answer is lost with
// the connection, the retry repeats the whole transaction: had the first committed, its
// finish is refused (QB001, "succeeded, not running") and the retry's defers roll back.
void WorkerState::finish_with_followups(Slot& slot, const JobPtr& job, Outcome out) {
  const Job& j = job->job;
  bool retried = false;
  for (;;) {
    try {
      if (!slot_connection(slot, [this] { return report_give_up(); })) {
        finished(*job, out, "abandoned", false, "gave up reconnecting at shutdown");
        return;
      }
      Transaction tx(*slot.client);
      for (const Deferral& d : job->followups)
        slot.client->defer(d.queue, d.task, d.args, d.options);
      FinishOptions fo;
      fo.result = out.result;
      std::string status = slot.client->finish(j.id, j.lease_token, FinishStatus::succeeded, fo);
      tx.commit();
      counters.finish_calls++;
      finished(*job, out, status, false);
      return;
    } catch (const ConnectionError& e) {
      log.log(LogLevel::warn, "report_failed",
              {{"job", j.id}, {"conn", "slot"}, {"error", e.what()}});
      slot.client_broken = true;
      retried = true;
    } catch (const LeaseLost& e) {
      counters.finish_calls++;
      if (retried && already_reported(e, FinishStatus::succeeded))
        finished(*job, out, "succeeded", true);
      else
        finished(*job, out, "lease_lost", false, e.what());
      return;
    } catch (const Error& e) {
      // A follow-up the server refuses (unknown queue, bad args): the job fails visibly
      // rather than succeeding without the work it promised.
      log.log(LogLevel::warn, "followup_failed", {{"job", j.id}, {"error", e.what()}});
      Outcome failed;
      failed.status = FinishStatus::failed;
      failed.error = std::string("follow-up defer failed: ") + e.what();
      enqueue(Completed{job, std::move(failed)});
      return;
    }
  }
}

bool WorkerState::slot_connection(Slot& slot, const std::function<bool()>& give_up) {
  if (!slot.client) {
    // Connected on first use: a slot whose handlers never need SQL of their own (no
    // follow-up defers, no ctx.client(), no ctx.heartbeat()) never holds a connection, so
    // a worker with many slots does not hold (and pay the server for) as many idle backends.
    const bool single = give_up();
    Duration delay = cfg.reconnect_min;
    for (;;) {
      try {
        slot.client.emplace(cfg.conninfo);
        attach_notices(*slot.client, "slot");
        slot.client_broken = false;
        return true;
      } catch (const ConnectionError& e) {
        log.log(LogLevel::warn, "connect_failed",
                {{"conn", "slot"}, {"slot", slot.index}, {"error", e.what()}});
        if (single) throw;
      }
      sleep_for(delay, give_up);
      if (give_up()) return false;
      delay = std::min<Duration>(delay * 2, cfg.reconnect_max);
    }
  }
  if (!slot.client_broken && slot.client->connected()) return true;
  if (give_up()) {
    // A single attempt (the caller has its own fallback): a failure throws ConnectionError.
    slot.client->reconnect();
    attach_notices(*slot.client, "slot");
    counters.reconnects++;
  } else if (!reconnect(*slot.client, "slot", give_up)) {
    return false;
  }
  slot.client_broken = false;
  return true;
}

void WorkerState::mark_lost(RunningJob& job, const char* by, const std::string& error) {
  {
    std::lock_guard<std::mutex> lock(job.mu);
    // A refusal after the outcome was decided is the report's business (it may simply have
    // committed first), not a lost lease.
    if (job.state != JobState::running || job.lost) return;
    job.lost = true;
  }
  log.log(LogLevel::warn, "lease_lost",
          {{"job", job.job.id}, {"task", job.job.task}, {"by", by}, {"error", error}});
  notify_sleepers();
}

}  // namespace detail

// ---- JobContext ---------------------------------------------------------------------------

const Job& JobContext::job() const {
  return r_->job;
}
const std::string& JobContext::worker_name() const {
  return r_->worker->name;
}

bool JobContext::heartbeat() {
  detail::WorkerState& w = *r_->worker;
  detail::Slot& slot = *r_->slot;
  if (r_->lost || r_->released) return false;
  try {
    // One attempt: the background heartbeat keeps trying too.
    w.slot_connection(slot, [] { return true; });
    Heartbeat hb = slot.client->heartbeat(r_->job.id, r_->job.lease_token, w.cfg.lease);
    {
      std::lock_guard<std::mutex> lock(r_->mu);
      r_->last_heartbeat = detail::Clock::now();
    }
    w.counters.heartbeats++;
    if (hb.abort_requested && !r_->abort.exchange(true)) {
      w.log.log(LogLevel::info, "abort_requested", {{"job", r_->job.id}, {"by", "handler"}});
      w.notify_sleepers();
    }
    return true;
  } catch (const LeaseLost& e) {
    w.mark_lost(*r_, "handler", e.what());
  } catch (const ConnectionError& e) {
    slot.client_broken = true;
    w.log.log(LogLevel::warn, "heartbeat_failed",
              {{"job", r_->job.id}, {"by", "handler"}, {"error", e.what()}});
  } catch (const Error& e) {
    w.log.log(LogLevel::warn, "heartbeat_failed",
              {{"job", r_->job.id}, {"by", "handler"}, {"error", e.what()}});
  }
  return false;
}

bool JobContext::abort_requested() const {
  return r_->abort;
}
bool JobContext::lease_lost() const {
  return r_->lost;
}
bool JobContext::shutting_down() const {
  return r_->worker->stopping;
}
bool JobContext::released() const {
  return r_->released;
}
bool JobContext::should_stop() const {
  return r_->abort || r_->lost || r_->released;
}

void JobContext::check() const {
  if (r_->abort) throw JobStopped("abort requested");
  if (r_->lost) throw JobStopped("lease lost");
  if (r_->released) throw JobStopped("worker shut down");
}

bool JobContext::sleep_for(Duration d) {
  return r_->worker->sleep_for(d, [this] { return should_stop(); });
}

void JobContext::defer(const std::string& queue, const std::string& task, const Json& args,
                       const DeferOptions& options) {
  r_->followups.push_back(detail::Deferral{queue, task, args, options});
}

Client& JobContext::client() {
  detail::Slot& slot = *r_->slot;
  r_->worker->slot_connection(slot, [] { return true; });  // one attempt; throws if it fails
  return *slot.client;
}

}  // namespace baton
