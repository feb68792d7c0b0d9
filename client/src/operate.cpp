// Operating: cancel, abort, retry, reap, purge, statistics, history, job listing.
#include "internal.h"

namespace baton {

void Client::cancel(JobId job_id, const std::optional<std::string>& reason) {
  detail::Call call("cancel_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id)).opt("reason", "text", reason);
  impl_->run(call, {}, false);
}

void Client::request_abort(JobId job_id) {
  detail::Call call("request_abort_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id));
  impl_->run(call, {}, false);
}

void Client::retry(JobId job_id, std::optional<TimePoint> run_at) {
  detail::Call call("retry_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id)).opt("run_at", "timestamptz", run_at);
  impl_->run(call, {}, false);
}

int Client::reap(std::optional<int> max_jobs) {
  detail::Call call("reap_v1");
  call.opt("max_jobs", "integer", max_jobs);
  return impl_->run(call, {}, false).int32(0, 0);
}

std::int64_t Client::purge_finished(Duration older_than, std::optional<int> max_jobs) {
  detail::Call call("purge_finished_v1");
  call.arg("older_than", "interval", detail::to_param(older_than))
      .opt("max_jobs", "integer", max_jobs);
  return impl_->run(call, {}, false).int64(0, 0);
}

std::vector<QueueStats> Client::queue_stats() {
  detail::Call call("queue_stats_v1");
  detail::Rows rows = impl_->run(call,
                                 "queue, waiting, scheduled, blocked, running, succeeded, dead, "
                                 "cancelled, extract(epoch FROM oldest_waiting_age)",
                                 false, "ORDER BY queue");
  std::vector<QueueStats> out(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    QueueStats& s = out[static_cast<std::size_t>(i)];
    s.queue = rows.text(i, 0);
    s.waiting = rows.int64(i, 1);
    s.scheduled = rows.int64(i, 2);
    s.blocked = rows.int64(i, 3);
    s.running = rows.int64(i, 4);
    s.succeeded = rows.int64(i, 5);
    s.dead = rows.int64(i, 6);
    s.cancelled = rows.int64(i, 7);
    s.oldest_waiting_age = rows.opt_duration(i, 8);
  }
  return out;
}

std::vector<JobEvent> Client::job_history(JobId job_id) {
  detail::Call call("job_history_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id));
  detail::Rows rows = impl_->run(call, "seq, extract(epoch FROM at), kind, detail", false);
  std::vector<JobEvent> out(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    JobEvent& e = out[static_cast<std::size_t>(i)];
    e.seq = rows.int64(i, 0);
    e.at = rows.time(i, 1);
    e.kind = rows.text(i, 2);
    e.detail = rows.json(i, 3);
  }
  return out;
}

std::vector<JobInfo> Client::list_jobs(const JobFilter& filter) {
  // all_jobs is a view, not a versioned procedure: a plain statement, built from the
  // filters given (a "$1 IS NULL OR ..." form would hide the predicates from the planner).
  std::string sql =
      "SELECT id, queue, task, args, priority, status, attempts, max_attempts, "
      "extract(epoch FROM run_at), lock, queueing_lock, worker, "
      "extract(epoch FROM lease_expires_at), abort_requested, result, error, "
      "extract(epoch FROM deferred_at), extract(epoch FROM claimed_at), "
      "extract(epoch FROM finished_at) FROM baton.all_jobs";
  std::vector<Param> params;
  std::string where;
  if (filter.queue) {
    params.emplace_back(*filter.queue);
    where += " WHERE queue = $" + std::to_string(params.size()) + "::text";
  }
  if (filter.status) {
    params.emplace_back(*filter.status);
    where += (where.empty() ? " WHERE" : " AND") + std::string(" status = $") +
             std::to_string(params.size()) + "::text";
  }
  params.emplace_back(detail::to_param(filter.limit));
  sql += where + " ORDER BY id " + (filter.newest_first ? "DESC" : "ASC") + " LIMIT $" +
         std::to_string(params.size()) + "::bigint";
  detail::Rows rows = impl_->run(sql, params, false);
  std::vector<JobInfo> out(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    JobInfo& j = out[static_cast<std::size_t>(i)];
    j.id = rows.int64(i, 0);
    j.queue = rows.text(i, 1);
    j.task = rows.text(i, 2);
    j.args = rows.json(i, 3);
    j.priority = rows.int32(i, 4);
    j.status = rows.text(i, 5);
    j.attempts = rows.int32(i, 6);
    j.max_attempts = rows.int32(i, 7);
    j.run_at = rows.opt_time(i, 8);
    j.lock = rows.opt_text(i, 9);
    j.queueing_lock = rows.opt_text(i, 10);
    j.worker = rows.opt_text(i, 11);
    j.lease_expires_at = rows.opt_time(i, 12);
    j.abort_requested = !rows.null(i, 13) && rows.boolean(i, 13);
    j.result = rows.json(i, 14);
    j.error = rows.opt_text(i, 15);
    j.deferred_at = rows.time(i, 16);
    j.claimed_at = rows.opt_time(i, 17);
    j.finished_at = rows.opt_time(i, 18);
  }
  return out;
}

}  // namespace baton
