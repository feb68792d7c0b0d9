// Internals shared by the client's source files: RAII for libpq handles, result access,
// parameter conversions, the named-notation call builder and the Client's state.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "baton/client.h"

namespace baton {
namespace detail {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

struct ConnDeleter {
  void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

struct FreememDeleter {
  void operator()(void* p) const noexcept { PQfreemem(p); }
};

// A successful result, read by row and column index. Columns that hold timestamps or
// intervals are selected as `extract(epoch FROM x)` (seconds as numeric text), which is
// exact to the microsecond and independent of the session's DateStyle and TimeZone.
class Rows {
 public:
  explicit Rows(ResultPtr result) : result_(std::move(result)) {}
  int size() const { return PQntuples(result_.get()); }
  bool null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(result_.get(), row, col); }
  std::optional<std::string> opt_text(int row, int col) const;
  std::int64_t int64(int row, int col) const;
  int int32(int row, int col) const;
  bool boolean(int row, int col) const;
  Json json(int row, int col) const;  // SQL NULL -> JSON null
  TimePoint time(int row, int col) const;
  std::optional<TimePoint> opt_time(int row, int col) const;
  std::optional<Duration> opt_duration(int row, int col) const;
  PGresult* get() const { return result_.get(); }

 private:
  ResultPtr result_;
};

// Parameter text of the client's value types.
std::string to_param(const std::string& s);
std::string to_param(const char* s);  // (else a literal would convert to bool)
std::string to_param(int v);
std::string to_param(std::int64_t v);
std::string to_param(bool v);
std::string to_param(Duration d);   // "-1.500000 seconds"
std::string to_param(TimePoint t);  // "2024-05-01T12:00:00.000001Z"
std::string to_param(Backoff b);
std::string to_param(const Json& j);
// A PostgreSQL array literal, every element quoted ({"a",NULL,"b \"c\""}).
std::string array_literal(const std::vector<Param>& elements);

// Seconds as numeric text ("1714564800.123456", "-3.5") to microseconds, exactly.
std::int64_t parse_epoch_micros(const char* text);

// One call of baton.<procedure> in named notation. Only arguments added are sent, so the
// server's defaults apply to the rest; each is cast to its declared type so the statement
// parses the same whatever the values (and can be prepared without parameter types).
class Call {
 public:
  explicit Call(const char* procedure) : procedure_(procedure) {}
  Call& arg(const char* name, const char* type, Param value);
  template <class T>
  Call& opt(const char* name, const char* type, const std::optional<T>& value) {
    if (value) arg(name, type, to_param(*value));
    return *this;
  }
  // "SELECT <select_list> FROM baton.<procedure>(...) <suffix>", or with an empty
  // select_list "SELECT baton.<procedure>(...)" (scalar and void functions).
  std::string sql(const std::string& select_list = {}, const std::string& suffix = {}) const;
  const std::vector<Param>& params() const { return params_; }
  const char* procedure() const { return procedure_; }

 private:
  const char* procedure_;
  std::string args_;
  std::vector<Param> params_;
};

// Throws the baton::Error subclass for a failed result (result may be null when libpq
// returned none). A lost connection is always ConnectionError, whatever the SQLSTATE.
[[noreturn]] void throw_error(PGconn* conn, const PGresult* result);
// The exception class for a SQLSTATE, thrown with these fields.
[[noreturn]] void throw_for_sqlstate(const std::string& message, const std::string& sqlstate,
                                     const std::string& detail, const std::string& hint);
// libpq's last message without its trailing newline.
std::string conn_message(PGconn* conn);

// The release that introduced a versioned procedure (for messages), "0.1.0" by default.
const char* introduced_in(const std::string& procedure);

}  // namespace detail

struct Client::Impl {
  std::string conninfo;
  detail::ConnPtr conn;
  ServerInfo server;
  std::unordered_set<std::string> api;
  // Prepared statements of this connection: SQL text -> statement name. One entry per
  // distinct call shape (procedure + the options given), so a hot call is parsed once.
  std::unordered_map<std::string, std::string> prepared;
  int statements_made = 0;
  std::vector<std::string> channels;  // LISTENed, re-issued after reconnect
  bool notice_handler_set = false;
  std::function<void(const std::string&)> notice_handler;

  void connect();                 // connection.cpp: a new connection, handshake, re-LISTEN
  void handshake();               // handshake.cpp
  void install_notice_handler();  // connection.cpp
  // The connection, or ConnectionError when there is none or it is known to be dead.
  PGconn* live();
  // VersionMismatch unless the server has the procedure; `why` says what needs it.
  void require(const char* procedure, const char* why = nullptr) const;
  // Runs a statement; prepared (once per connection and SQL text) when `prepare`.
  detail::Rows run(const std::string& sql, const std::vector<Param>& params, bool prepare);
  detail::Rows run(const detail::Call& call, const std::string& select_list, bool prepare,
                   const std::string& suffix = {}) {
    require(call.procedure());
    return run(call.sql(select_list, suffix), call.params(), prepare);
  }
};

namespace detail {
// The Client's state for calls implemented outside its member functions (workflow_calls.cpp).
struct ClientAccess {
  static Client::Impl& impl(Client& client) { return *client.impl_; }
};
}  // namespace detail

}  // namespace baton
