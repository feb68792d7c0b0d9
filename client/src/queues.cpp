// Queue management: create, drop, pause, resume, await_work.
#include "internal.h"

namespace baton {

bool Client::create_queue(const std::string& queue, const QueueOptions& options) {
  detail::Call call("create_queue_v1");
  call.arg("queue", "text", queue)
      .opt("notify", "boolean", options.notify)
      .opt("keep_succeeded", "boolean", options.keep_succeeded);
  return impl_->run(call, {}, false).boolean(0, 0);
}

std::int64_t Client::drop_queue(const std::string& queue, bool force) {
  detail::Call call("drop_queue_v1");
  call.arg("queue", "text", queue).arg("force", "boolean", detail::to_param(force));
  return impl_->run(call, {}, false).int64(0, 0);
}

bool Client::pause_queue(const std::string& queue) {
  impl_->require("pause_queue_v1", "pause_queue");
  detail::Call call("pause_queue_v1");
  call.arg("queue", "text", queue);
  return impl_->run(call, {}, false).boolean(0, 0);
}

bool Client::resume_queue(const std::string& queue) {
  impl_->require("resume_queue_v1", "resume_queue");
  detail::Call call("resume_queue_v1");
  call.arg("queue", "text", queue);
  return impl_->run(call, {}, false).boolean(0, 0);
}

void Client::await_work(const std::vector<std::string>& queues, std::optional<Duration> wait) {
  std::vector<Param> names(queues.begin(), queues.end());
  detail::Call call("await_work_v1");
  call.arg("queues", "text[]", detail::array_literal(names)).opt("wait", "interval", wait);
  impl_->run(call, {}, false);
}

}  // namespace baton
