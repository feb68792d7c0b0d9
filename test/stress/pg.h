// RAII wrappers around libpq: a connection, a result, and the one error type the stress
// test throws for anything the server or libpq reports.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stress {

// A parameter or array element; nullopt is SQL NULL.
using Value = std::optional<std::string>;
using Values = std::vector<Value>;

// A failed statement or connection. sqlstate is empty when libpq itself failed.
class PgError : public std::runtime_error {
 public:
  PgError(const std::string& message, std::string sqlstate)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

class Result {
 public:
  explicit Result(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(result_.get(), row, col); }
  int64_t int64(int row, int col) const;
  ExecStatusType status() const { return PQresultStatus(result_.get()); }
  const char* field(int code) const { return PQresultErrorField(result_.get(), code); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class Connection {
 public:
  explicit Connection(const std::string& dsn);

  // Runs one statement with text parameters; throws PgError unless it succeeds.
  Result exec(const std::string& sql, const Values& params = {});

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// A PostgreSQL array literal ('{"a",NULL}') of the given elements, every element quoted.
std::string array_literal(const Values& elements);

}  // namespace stress
