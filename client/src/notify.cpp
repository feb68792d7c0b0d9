// Wake-ups: LISTEN/UNLISTEN and waiting for a NOTIFY on the connection's socket.
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "internal.h"

namespace baton {
namespace {

std::string quoted_identifier(PGconn* conn, const std::string& name) {
  // LISTEN takes no parameters: the channel is quoted by libpq as an identifier instead.
  std::unique_ptr<char, detail::FreememDeleter> quoted(
      PQescapeIdentifier(conn, name.c_str(), name.size()));
  if (!quoted) detail::throw_error(conn, nullptr);
  return quoted.get();
}

std::optional<Notification> take(PGconn* conn) {
  std::unique_ptr<PGnotify, detail::FreememDeleter> n(PQnotifies(conn));
  if (!n) return std::nullopt;
  return Notification{n->relname, n->extra != nullptr ? n->extra : "", n->be_pid};
}

void consume(PGconn* conn) {
  if (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD)
    throw ConnectionError("baton client: connection lost while waiting for notifications: " +
                          detail::conn_message(conn));
}

}  // namespace

std::string Client::channel_for(const std::string& queue) {
  return "baton_" + queue;
}

void Client::listen(const std::string& channel) {
  impl_->run("LISTEN " + quoted_identifier(impl_->live(), channel), {}, false);
  if (std::find(impl_->channels.begin(), impl_->channels.end(), channel) == impl_->channels.end())
    impl_->channels.push_back(channel);
}

void Client::unlisten(const std::string& channel) {
  impl_->run("UNLISTEN " + quoted_identifier(impl_->live(), channel), {}, false);
  impl_->channels.erase(std::remove(impl_->channels.begin(), impl_->channels.end(), channel),
                        impl_->channels.end());
}

std::optional<Notification> Client::next_notification() {
  PGconn* conn = impl_->live();
  if (auto n = take(conn)) return n;  // already read along with an earlier result
  consume(conn);
  return take(conn);
}

std::optional<Notification> Client::wait_for_notification(Duration timeout) {
  using Clock = std::chrono::steady_clock;
  PGconn* conn = impl_->live();
  const Clock::time_point deadline = Clock::now() + timeout;
  if (auto n = take(conn)) return n;
  for (;;) {
    consume(conn);
    if (auto n = take(conn)) return n;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now() + std::chrono::microseconds(999));
    if (left.count() <= 0) return std::nullopt;
    pollfd pfd{PQsocket(conn), POLLIN, 0};
    if (pfd.fd < 0) throw ConnectionError("baton client: the connection has no socket");
    int timeout_ms = static_cast<int>(std::min<std::int64_t>(left.count(), 1 << 30));
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR)
      throw ConnectionError(std::string("baton client: poll failed: ") + std::strerror(errno));
  }
}

}  // namespace baton
