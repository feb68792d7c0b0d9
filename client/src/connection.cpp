// Connecting, reconnecting and the connection's accessors.
#include "internal.h"

namespace baton {

Client::Client(const std::string& conninfo) : impl_(std::make_unique<Impl>()) {
  impl_->conninfo = conninfo;
  impl_->connect();
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

void Client::Impl::connect() {
  // Keywords before "dbname" are defaults: the caller's conninfo (expanded from dbname)
  // overrides them. JSON travels as UTF-8 whatever the database's encoding.
  const char* keywords[] = {"client_encoding", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"UTF8", "baton-client", conninfo.c_str(), nullptr};
  prepared.clear();
  statements_made = 0;
  conn.reset(PQconnectdbParams(keywords, values, 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = "baton client: cannot connect: " + detail::conn_message(conn.get());
    conn.reset();
    throw ConnectionError(message);
  }
  install_notice_handler();
  handshake();
  for (const std::string& channel : channels) {
    std::unique_ptr<char, detail::FreememDeleter> quoted(
        PQescapeIdentifier(conn.get(), channel.c_str(), channel.size()));
    if (!quoted) detail::throw_error(conn.get(), nullptr);
    run(std::string("LISTEN ") + quoted.get(), {}, false);
  }
}

namespace {

// libpq calls this with the handler inside Impl (heap allocated, so its address survives
// moves of the Client).
void forward_notice(void* arg, const char* message) {
  auto* handler = static_cast<std::function<void(const std::string&)>*>(arg);
  if (!*handler) return;
  std::string line = message != nullptr ? message : "";
  while (!line.empty() && line.back() == '\n') line.pop_back();
  (*handler)(line);
}

}  // namespace

void Client::Impl::install_notice_handler() {
  if (conn && notice_handler_set)
    PQsetNoticeProcessor(conn.get(), &forward_notice, &notice_handler);
}

void Client::set_notice_handler(std::function<void(const std::string&)> handler) {
  impl_->notice_handler = std::move(handler);
  impl_->notice_handler_set = true;
  impl_->install_notice_handler();
}

PGconn* Client::Impl::live() {
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw ConnectionError(
        "baton client: not connected (the connection was lost; call reconnect())");
  return conn.get();
}

bool Client::connected() const {
  return impl_ && impl_->conn && PQstatus(impl_->conn.get()) == CONNECTION_OK;
}

void Client::reconnect() {
  impl_->conn.reset();
  impl_->connect();
}

int Client::backend_pid() const {
  return connected() ? PQbackendPID(impl_->conn.get()) : 0;
}

int Client::socket() const {
  return connected() ? PQsocket(impl_->conn.get()) : -1;
}

PGconn* Client::native_handle() const {
  return impl_ ? impl_->conn.get() : nullptr;
}

}  // namespace baton
