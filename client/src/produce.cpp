// Producing: defer_v1 and defer_many_v1, prepared per combination of options given.
#include "internal.h"

namespace baton {
namespace {

// The options defer_v1 and defer_many_v1 share, in their declared order.
template <class Options>
void add_common(detail::Call& call, const Options& o) {
  call.opt("priority", "integer", o.priority)
      .opt("run_at", "timestamptz", o.run_at)
      .opt("delay", "interval", o.delay)
      .opt("max_attempts", "integer", o.max_attempts)
      .opt("retry_backoff", "text", o.retry_backoff)
      .opt("retry_delay", "interval", o.retry_delay)
      .opt("retry_delay_max", "interval", o.retry_delay_max);
}

void add_array(detail::Call& call, const char* name,
               const std::optional<std::vector<std::optional<std::string>>>& values) {
  if (values) call.arg(name, "text[]", detail::array_literal({values->begin(), values->end()}));
}

}  // namespace

JobId Client::defer(const std::string& queue, const std::string& task, const Json& args,
                    const DeferOptions& options) {
  detail::Call call("defer_v1");
  call.arg("queue", "text", queue).arg("task", "text", task).arg("args", "jsonb", args.dump());
  add_common(call, options);
  call.opt("lock", "text", options.lock).opt("queueing_lock", "text", options.queueing_lock);
  return impl_->run(call, {}, true).int64(0, 0);
}

std::vector<JobId> Client::defer_many(const std::string& queue, const std::string& task,
                                      const std::vector<Json>& args,
                                      const DeferManyOptions& options) {
  std::vector<Param> texts;
  texts.reserve(args.size());
  for (const Json& a : args) texts.emplace_back(a.dump());
  detail::Call call("defer_many_v1");
  call.arg("queue", "text", queue)
      .arg("task", "text", task)
      .arg("args", "jsonb[]", detail::array_literal(texts));
  add_common(call, options);
  add_array(call, "locks", options.locks);
  add_array(call, "queueing_locks", options.queueing_locks);
  detail::Rows rows = impl_->run(call, "*", true);
  std::vector<JobId> ids;
  ids.reserve(rows.size());
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.int64(i, 0));
  return ids;
}

}  // namespace baton
