#include "pg.h"

namespace stress {

int64_t Result::int64(int row, int col) const {
  if (is_null(row, col))
    throw std::runtime_error("unexpected NULL in column " + std::to_string(col));
  return std::stoll(text(row, col));
}

Connection::Connection(const std::string& dsn) : conn_(PQconnectdb(dsn.c_str()), &PQfinish) {
  if (!conn_) throw PgError("out of memory creating a connection", "");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw PgError("cannot connect (" + dsn + "): " + PQerrorMessage(conn_.get()), "");
}

namespace {

// The server's message without its CONTEXT (which repeats the whole statement), or libpq's
// own message when there is no server error.
std::string describe_error(const Result& result, PGconn* conn) {
  const char* primary = result.field(PG_DIAG_MESSAGE_PRIMARY);
  if (!primary) return PQerrorMessage(conn);
  std::string text = std::string(primary) + " (SQLSTATE " + result.field(PG_DIAG_SQLSTATE) + ")";
  if (const char* detail = result.field(PG_DIAG_MESSAGE_DETAIL))
    text += " DETAIL: " + std::string(detail);
  return text;
}

}  // namespace

Result Connection::exec(const std::string& sql, const Values& params) {
  std::vector<const char*> raw;
  raw.reserve(params.size());
  for (const Value& p : params) raw.push_back(p ? p->c_str() : nullptr);
  Result result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(raw.size()), nullptr,
                             raw.data(), nullptr, nullptr, 0));
  ExecStatusType status = result.status();
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
  const char* sqlstate = result.field(PG_DIAG_SQLSTATE);
  throw PgError(describe_error(result, conn_.get()), sqlstate ? sqlstate : "");
}

std::string array_literal(const Values& elements) {
  std::string out = "{";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace stress
