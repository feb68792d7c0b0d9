#include "verify.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "crasher.h"

namespace stress {
namespace {

struct Event {
  std::string kind;
  int64_t at_us = 0;
  int attempt = 0;
  std::string worker;  // on claims: who claimed
};

// One attempt of a job: its claim and the event that ended it.
struct Attempt {
  const Event* claim;
  const Event* end;
};

struct FinishedJob {
  std::string queue, status, lock, args_lock;
  int attempts = 0;
  int max_attempts = 0;
  std::vector<Event> events;
  std::vector<Attempt> attempt_list;  // filled once the events are found consistent
};

using History = std::map<int64_t, FinishedJob>;

std::string job_name(int64_t id) {
  return "job " + std::to_string(id);
}

std::string describe(const std::vector<Event>& events) {
  std::string text;
  for (const Event& e : events) {
    if (!text.empty()) text += ", ";
    text += e.kind;
    if (e.attempt > 0) text += "#" + std::to_string(e.attempt);
    if (e.kind == "claimed") text += " by " + e.worker;
  }
  return text;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : ",") + (w.empty() ? "?" : w);
  return "[" + text + "]";
}

History load_history(Connection& conn) {
  History history;
  Result jobs = conn.exec(
      "SELECT id, queue, status, attempts, max_attempts, coalesce(lock, ''),"
      " coalesce(args ->> 'lock', '') FROM baton.jobs_finished");
  for (int i = 0; i < jobs.rows(); ++i) {
    FinishedJob& job = history[jobs.int64(i, 0)];
    job.queue = jobs.text(i, 1);
    job.status = jobs.text(i, 2);
    job.attempts = static_cast<int>(jobs.int64(i, 3));
    job.max_attempts = static_cast<int>(jobs.int64(i, 4));
    job.lock = jobs.text(i, 5);
    job.args_lock = jobs.text(i, 6);
  }
  // Times are turned into microseconds by the server, so no timestamp text is parsed here.
  // The history as baton publishes it (the job_events view), not its storage.
  Result events = conn.exec(
      "SELECT e.job_id, e.kind, (extract(epoch FROM e.at) * 1000000)::bigint,"
      " coalesce((e.detail ->> 'attempt')::int, 0), coalesce(e.detail ->> 'worker', '')"
      " FROM baton.job_events e ORDER BY e.job_id, e.seq");
  for (int i = 0; i < events.rows(); ++i) {
    auto job = history.find(events.int64(i, 0));
    if (job == history.end()) throw std::runtime_error("events of an unknown job");
    job->second.events.push_back(Event{events.text(i, 1), events.int64(i, 2),
                                       static_cast<int>(events.int64(i, 3)), events.text(i, 4)});
  }
  return history;
}

void check_nothing_active(Connection& conn, Violations& v) {
  int64_t active = conn.exec("SELECT count(*) FROM baton.jobs").int64(0, 0);
  if (active != 0) v.add(std::to_string(active) + " jobs are still waiting or running");
}

void check_ids(const std::vector<int64_t>& deferred, const History& history,
               const std::unordered_map<int64_t, JobLog>& logs, Violations& v) {
  std::vector<int64_t> sorted = deferred;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (sorted[i] == sorted[i - 1])
      v.add("defer_many_v1 returned id " + std::to_string(sorted[i]) + " twice");
  if (history.size() != deferred.size())
    v.add("history holds " + std::to_string(history.size()) + " jobs but " +
          std::to_string(deferred.size()) + " were deferred");
  for (int64_t id : sorted)
    if (history.count(id) == 0) v.add(job_name(id) + " was deferred but is not in history: lost");
  for (const auto& entry : history)
    if (!std::binary_search(sorted.begin(), sorted.end(), entry.first))
      v.add(job_name(entry.first) + " is in history but was never deferred");
  for (const auto& entry : logs)
    if (history.count(entry.first) == 0)
      v.add("workers claimed " + job_name(entry.first) + ", which is not in history");
}

// The events must read: deferred, for a job that queued behind its lock an 'unblocked'
// (it became the lock's head), then per attempt n a claim of attempt n and the event that
// ended it: failed or lease_expired (attempts left, another claim follows) or succeeded or
// dead (the last event, matching the status). Fills attempt_list; false when inconsistent.
bool read_attempts(int64_t id, FinishedJob& job, Violations& v) {
  const std::vector<Event>& e = job.events;
  auto fail = [&](const std::string& what) {
    v.add(job_name(id) + ": " + what + " (status " + job.status + ", attempts " +
          std::to_string(job.attempts) + "/" + std::to_string(job.max_attempts) +
          ", events: " + describe(e) + ")");
    return false;
  };
  if (e.empty() || e[0].kind != "deferred") return fail("history does not start with deferred");
  for (std::size_t i = 1; i < e.size(); ++i)
    if (e[i].at_us < e[i - 1].at_us) return fail("event times go backwards");
  job.attempt_list.clear();
  std::size_t first_claim = 1;
  if (e.size() > 1 && e[1].kind == "unblocked") {
    if (job.lock.empty()) return fail("unblocked without a lock");
    first_claim = 2;
  }
  for (std::size_t i = first_claim; i < e.size(); i += 2) {
    int n = static_cast<int>(job.attempt_list.size()) + 1;
    std::string nth = "attempt " + std::to_string(n);
    if (e[i].kind != "claimed" || e[i].attempt != n) return fail("expected the claim of " + nth);
    if (i + 1 == e.size()) return fail(nth + " never ended");
    const Event& end = e[i + 1];
    bool last = i + 2 == e.size();
    bool retried = end.kind == "failed" || end.kind == "lease_expired";
    bool final = end.kind == "succeeded" || end.kind == "dead";
    if (end.attempt != n) return fail(nth + " ended as attempt " + std::to_string(end.attempt));
    if (!retried && !final) return fail(nth + " ended with unexpected event " + end.kind);
    if (retried && (last || n >= job.max_attempts))
      return fail(nth + " ended with " + end.kind + " but was not retried");
    if (final && !last) return fail("events follow the final " + end.kind);
    if (final && end.kind != job.status) return fail("the final event is " + end.kind);
    job.attempt_list.push_back(Attempt{&e[i], &end});
  }
  int claims = static_cast<int>(job.attempt_list.size());
  if (claims == 0) return fail("never claimed");
  if (claims != job.attempts) return fail("attempts does not match the claims");
  // Every failure is retryable, so a dead job used all of its attempts.
  if (job.status == "dead" && claims != job.max_attempts) return fail("dead too early");
  if (job.lock != job.args_lock) return fail("lock differs from the args' copy " + job.args_lock);
  return true;
}

// Only the crasher's leases run out, and none of its late reports may land.
void check_fencing(int64_t id, const FinishedJob& job, Violations& v) {
  for (const Attempt& a : job.attempt_list) {
    bool crashed = a.claim->worker == kCrasherName;
    bool expired = a.end->kind == "lease_expired" || (crashed && a.end->kind == "dead");
    if (crashed != expired)
      v.add(job_name(id) + " attempt " + std::to_string(a.claim->attempt) + " by " +
            a.claim->worker + " ended with " + a.end->kind +
            (crashed ? ": a report after the lease expired was accepted"
                     : ": the lease of a live worker ran out"));
  }
}

// The workers' view of a job must match its history: the same claims, and exactly one
// finish that answered the final status (none when the crasher held the last attempt and
// the reaper buried the job).
void check_against_ledger(int64_t id, const FinishedJob& job, const JobLog& log, Violations& v) {
  std::vector<std::string> claimed_by;
  for (const Attempt& a : job.attempt_list) claimed_by.push_back(a.claim->worker);
  if (claimed_by != log.claimed_by)
    v.add(job_name(id) + ": history records claims by " + join(claimed_by) +
          " but the workers saw " + join(log.claimed_by));
  int expected = job.attempt_list.back().claim->worker == kCrasherName ? 0 : 1;
  if (log.final_reports != expected)
    v.add(job_name(id) + ": finish answered a final status " + std::to_string(log.final_reports) +
          " times, expected " + std::to_string(expected));
  else if (expected == 1 && log.final_status != job.status)
    v.add(job_name(id) + ": a worker was told " + log.final_status + " but history says " +
          job.status);
}

// An attempt of a job with a lock runs from its claim to the event that ended it; attempts
// of jobs sharing a lock must not overlap.
void check_lock_intervals(const History& history, Violations& v) {
  struct Interval {
    int64_t start, end, job;
    int attempt;
  };
  std::map<std::string, std::vector<Interval>> by_lock;
  for (const auto& [id, job] : history)
    if (!job.lock.empty())
      for (const Attempt& a : job.attempt_list)
        by_lock[job.lock].push_back(Interval{a.claim->at_us, a.end->at_us, id, a.claim->attempt});
  for (auto& [lock, intervals] : by_lock) {
    std::sort(intervals.begin(), intervals.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });
    const Interval* latest = nullptr;  // the one reaching furthest so far
    for (const Interval& i : intervals) {
      if (latest && i.start < latest->end)
        v.add("lock " + lock + ": " + job_name(i.job) + " attempt " + std::to_string(i.attempt) +
              " was claimed " + std::to_string(latest->end - i.start) + " us before " +
              job_name(latest->job) + " attempt " + std::to_string(latest->attempt) + " ended");
      if (!latest || i.end > latest->end) latest = &i;
    }
  }
}

void check_queue_stats(Connection& conn, const History& history, Violations& v) {
  std::map<std::string, std::pair<long, long>> expected;  // queue -> succeeded, dead
  for (const auto& entry : history)
    (entry.second.status == "dead" ? expected[entry.second.queue].second
                                   : expected[entry.second.queue].first)++;
  Result r = conn.exec(
      "SELECT queue, waiting + scheduled + running + cancelled, succeeded, dead"
      " FROM baton.queue_stats_v1()");
  for (int i = 0; i < r.rows(); ++i) {
    std::pair<long, long> want = expected[r.text(i, 0)];
    if (r.int64(i, 1) != 0 || r.int64(i, 2) != want.first || r.int64(i, 3) != want.second)
      v.add("queue_stats_v1 for " + r.text(i, 0) + ": other " + r.text(i, 1) + ", succeeded " +
            r.text(i, 2) + ", dead " + r.text(i, 3) + "; history says succeeded " +
            std::to_string(want.first) + ", dead " + std::to_string(want.second));
  }
}

Tally tally(const History& history) {
  Tally t;
  for (const auto& entry : history) {
    const FinishedJob& job = entry.second;
    ++t.jobs;
    t.locked += !job.lock.empty();
    t.succeeded += job.status == "succeeded";
    t.dead += job.status == "dead";
    t.claims += job.attempts;
    for (const Event& e : job.events) t.failures += e.kind == "failed";
    for (const Attempt& a : job.attempt_list) t.lease_expiries += a.claim->worker == kCrasherName;
  }
  return t;
}

}  // namespace

Tally verify_history(Connection& conn, const std::vector<int64_t>& deferred,
                     const std::unordered_map<int64_t, JobLog>& logs, Violations& violations) {
  check_nothing_active(conn, violations);
  History history = load_history(conn);
  check_ids(deferred, history, logs, violations);
  const JobLog no_log;
  for (auto& [id, job] : history) {
    if (!read_attempts(id, job, violations)) continue;
    check_fencing(id, job, violations);
    auto log = logs.find(id);
    check_against_ledger(id, job, log == logs.end() ? no_log : log->second, violations);
  }
  check_lock_intervals(history, violations);
  check_queue_stats(conn, history, violations);
  return tally(history);
}

}  // namespace stress
