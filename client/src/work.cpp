// Working: fetch (v1/v2), heartbeat, finish, finish_many. All prepared: they run per job.
#include "internal.h"

namespace baton {
namespace {

constexpr const char* kFetchV1Columns =
    "id, queue, task, args, attempt, max_attempts, priority, lease_token, "
    "extract(epoch FROM lease_expires_at)";
constexpr const char* kFetchV2Columns =
    "id, queue, task, args, attempt, max_attempts, priority, lease_token, "
    "extract(epoch FROM lease_expires_at), lock, extract(epoch FROM deferred_at), last_error";

detail::Call fetch_call(const char* procedure, const std::vector<std::string>& queues,
                        const std::string& worker, const FetchOptions& options) {
  detail::Call call(procedure);
  call.arg("queues", "text[]", detail::array_literal({queues.begin(), queues.end()}))
      .arg("worker", "text", worker)
      .opt("max_jobs", "integer", options.max_jobs)
      .opt("lease", "interval", options.lease);
  return call;
}

std::vector<Job> read_jobs(const detail::Rows& rows, bool v2) {
  std::vector<Job> jobs(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    Job& j = jobs[static_cast<std::size_t>(i)];
    j.id = rows.int64(i, 0);
    j.queue = rows.text(i, 1);
    j.task = rows.text(i, 2);
    j.args = rows.json(i, 3);
    j.attempt = rows.int32(i, 4);
    j.max_attempts = rows.int32(i, 5);
    j.priority = rows.int32(i, 6);
    j.lease_token = rows.text(i, 7);
    j.lease_expires_at = rows.time(i, 8);
    if (v2) {
      j.lock = rows.opt_text(i, 9);
      j.deferred_at = rows.opt_time(i, 10);
      j.last_error = rows.opt_text(i, 11);
    }
  }
  return jobs;
}

}  // namespace

std::vector<Job> Client::fetch(const std::vector<std::string>& queues, const std::string& worker,
                               const FetchOptions& options) {
  if (supports("fetch_v2")) return fetch_v2(queues, worker, options);
  if (!options.tasks.empty()) impl_->require("fetch_v2", "fetch with a task filter");
  return fetch_v1(queues, worker, options);
}

std::vector<Job> Client::fetch_v1(const std::vector<std::string>& queues, const std::string& worker,
                                  const FetchOptions& options) {
  if (!options.tasks.empty())
    throw InvalidArgument("baton client: fetch_v1 takes no task filter (use fetch or fetch_v2)");
  detail::Call call = fetch_call("fetch_v1", queues, worker, options);
  return read_jobs(impl_->run(call, kFetchV1Columns, true), false);
}

std::vector<Job> Client::fetch_v2(const std::vector<std::string>& queues, const std::string& worker,
                                  const FetchOptions& options) {
  impl_->require("fetch_v2", options.tasks.empty() ? nullptr : "fetch with a task filter");
  detail::Call call = fetch_call("fetch_v2", queues, worker, options);
  if (!options.tasks.empty())
    call.arg("tasks", "text[]",
             detail::array_literal({options.tasks.begin(), options.tasks.end()}));
  return read_jobs(impl_->run(call, kFetchV2Columns, true), true);
}

Heartbeat Client::heartbeat(JobId job_id, const std::string& lease_token,
                            std::optional<Duration> lease) {
  detail::Call call("heartbeat_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id))
      .arg("lease_token", "uuid", lease_token)
      .opt("lease", "interval", lease);
  detail::Rows rows =
      impl_->run(call, "extract(epoch FROM lease_expires_at), abort_requested", true);
  if (rows.size() != 1) throw Error("baton client: heartbeat_v1 returned no row");
  return Heartbeat{rows.time(0, 0), rows.boolean(0, 1)};
}

std::string Client::finish(JobId job_id, const std::string& lease_token, FinishStatus status,
                           const FinishOptions& options) {
  detail::Call call("finish_v1");
  call.arg("job_id", "bigint", detail::to_param(job_id))
      .arg("lease_token", "uuid", lease_token)
      .arg("status", "text", to_string(status))
      .opt("result", "jsonb", options.result)
      .opt("error", "text", options.error)
      .opt("retryable", "boolean", options.retryable);
  return impl_->run(call, {}, true).text(0, 0);
}

std::vector<FinishResult> Client::finish_many(const std::vector<FinishItem>& items) {
  std::vector<Param> ids, tokens, statuses, results, errors, retryable;
  bool any_result = false, any_error = false, any_retryable = false;
  for (const FinishItem& item : items) {
    ids.emplace_back(detail::to_param(item.job_id));
    tokens.emplace_back(item.lease_token);
    statuses.emplace_back(to_string(item.status));
    results.push_back(item.result ? Param(item.result->dump()) : std::nullopt);
    errors.push_back(item.error);
    retryable.push_back(item.retryable ? Param(detail::to_param(*item.retryable)) : std::nullopt);
    any_result |= item.result.has_value();
    any_error |= item.error.has_value();
    any_retryable |= item.retryable.has_value();
  }
  // Arrays no item uses are left out, so the call's shape (and its prepared statement)
  // stays the same for the common all-succeeded batch.
  detail::Call call("finish_many_v1");
  call.arg("job_ids", "bigint[]", detail::array_literal(ids))
      .arg("lease_tokens", "uuid[]", detail::array_literal(tokens))
      .arg("statuses", "text[]", detail::array_literal(statuses));
  if (any_result) call.arg("results", "jsonb[]", detail::array_literal(results));
  if (any_error) call.arg("errors", "text[]", detail::array_literal(errors));
  if (any_retryable) call.arg("retryable", "boolean[]", detail::array_literal(retryable));
  detail::Rows rows = impl_->run(call, "job_id, status", true);
  std::vector<FinishResult> out;
  out.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i)
    out.push_back(FinishResult{rows.int64(i, 0), rows.text(i, 1)});
  return out;
}

}  // namespace baton
