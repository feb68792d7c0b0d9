#include "pg.h"

#include <libpq-fe.h>
#include <poll.h>

#include <memory>
#include <sstream>

namespace baton::cli {

namespace {

std::string trim_message(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string field(const PGresult* res, int code) {
  const char* v = PQresultErrorField(res, code);
  return v ? v : "";
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

}  // namespace

[[noreturn]] void throw_server_error(const std::string& message, const std::string& sqlstate,
                                     const std::string& detail, const std::string& hint) {
  if (sqlstate == "QB001") throw LeaseLost(message, sqlstate, detail, hint);
  if (sqlstate == "P0002" || sqlstate == "42704") throw NotFound(message, sqlstate, detail, hint);
  if (sqlstate.compare(0, 2, "22") == 0 || sqlstate == "54000")
    throw InvalidArgument(message, sqlstate, detail, hint);
  if (sqlstate == "23505" || sqlstate == "55000") throw Conflict(message, sqlstate, detail, hint);
  if (sqlstate == "42501") throw PermissionDenied(message, sqlstate, detail, hint);
  if (sqlstate == "QB002") throw VersionMismatch(message, sqlstate, detail, hint);
  if (sqlstate.compare(0, 2, "08") == 0) throw ConnectionError(message, sqlstate, detail, hint);
  throw Error(message, sqlstate, detail, hint);
}

PgConnection::PgConnection(const std::string& conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (conn_ == nullptr) throw ConnectionError("out of memory allocating a libpq connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string message = trim_message(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    throw ConnectionError(message);
  }
  PQsetClientEncoding(conn_, "UTF8");
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

namespace {

// Throws for a failed result (or a lost connection).
void check_result(PGconn* conn, PGresult* res) {
  ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
  std::string message =
      trim_message(res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : PQerrorMessage(conn));
  if (message.empty()) message = trim_message(PQerrorMessage(conn));
  std::string sqlstate = res ? field(res, PG_DIAG_SQLSTATE) : "";
  std::string detail = res ? field(res, PG_DIAG_MESSAGE_DETAIL) : "";
  std::string hint = res ? field(res, PG_DIAG_MESSAGE_HINT) : "";
  if (PQstatus(conn) != CONNECTION_OK) throw ConnectionError(message, sqlstate, detail, hint);
  throw_server_error(message, sqlstate, detail, hint);
}

}  // namespace

std::vector<Row> PgConnection::query(const std::string& sql,
                                     const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  ResultPtr res(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
  check_result(conn_, res.get());
  std::vector<Row> rows;
  int n = PQntuples(res.get()), cols = PQnfields(res.get());
  for (int r = 0; r < n; ++r) {
    Row row;
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(res.get(), r, c))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void PgConnection::execute_with_progress(const std::string& sql,
                                         const std::function<void(std::chrono::seconds)>& waiting) {
  if (!PQsendQuery(conn_, sql.c_str())) check_result(conn_, nullptr);
  auto start = std::chrono::steady_clock::now();
  auto next_report = start + std::chrono::seconds(1);
  while (PQisBusy(conn_)) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    auto now = std::chrono::steady_clock::now();
    // Round up so that poll() does not wake just before the report is due.
    int timeout_ms =
        static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next_report - now).count());
    if (timeout_ms < 0) timeout_ms = 0;
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready > 0 && !PQconsumeInput(conn_)) break;  // the error surfaces from PQgetResult
    now = std::chrono::steady_clock::now();
    if (PQisBusy(conn_) && now >= next_report) {
      if (waiting) waiting(std::chrono::round<std::chrono::seconds>(now - start));
      next_report += std::chrono::seconds(1);
    }
  }
  // Read every result; the first failure wins.
  ResultPtr failed;
  while (PGresult* raw = PQgetResult(conn_)) {
    ResultPtr res(raw);
    ExecStatusType status = PQresultStatus(raw);
    if (!failed && status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) failed = std::move(res);
  }
  if (failed) check_result(conn_, failed.get());
  if (PQstatus(conn_) != CONNECTION_OK) check_result(conn_, nullptr);
}

std::string PgConnection::database() const {
  return PQdb(conn_);
}
std::string PgConnection::user() const {
  return PQuser(conn_);
}

std::string sql_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

int compare_versions(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string pa, pb;
  while (true) {
    bool ha = static_cast<bool>(std::getline(sa, pa, '.'));
    bool hb = static_cast<bool>(std::getline(sb, pb, '.'));
    if (!ha && !hb) return 0;
    long long na = ha ? std::atoll(pa.c_str()) : 0, nb = hb ? std::atoll(pb.c_str()) : 0;
    if (na != nb) return na < nb ? -1 : 1;
    if (ha && hb && pa != pb) return pa < pb ? -1 : 1;  // non-numeric parts
  }
}

}  // namespace baton::cli
