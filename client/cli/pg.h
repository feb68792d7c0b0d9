// A minimal libpq connection for the commands that must work where baton::Client cannot
// (a database without baton, or one to upgrade): check and upgrade. Errors are thrown as
// the baton::Error subclasses of errors.h, mapped from the SQLSTATE as the client does.
#pragma once

#include <baton/errors.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

typedef struct pg_conn PGconn;

namespace baton::cli {

using Row = std::vector<std::optional<std::string>>;

class PgConnection {
 public:
  // Connects (conninfo as libpq takes it; empty = PG* environment). ConnectionError if the
  // server cannot be reached.
  explicit PgConnection(const std::string& conninfo);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with text parameters; returns its rows (text values, nullopt = NULL).
  std::vector<Row> query(const std::string& sql,
                         const std::vector<std::optional<std::string>>& params = {});
  // Runs one statement without parameters, calling `waiting(elapsed)` about once a second
  // while the server has not answered (for progress output).
  void execute_with_progress(const std::string& sql,
                             const std::function<void(std::chrono::seconds)>& waiting);

  std::string database() const;
  std::string user() const;

 private:
  PGconn* conn_ = nullptr;
};

// Throws the baton::Error subclass for a SQLSTATE (as errors.h describes).
[[noreturn]] void throw_server_error(const std::string& message, const std::string& sqlstate,
                                     const std::string& detail, const std::string& hint);

// Quotes a string as an SQL literal ('it''s').
std::string sql_literal(const std::string& s);

// Compares dotted version strings numerically ("0.10.0" > "0.2.0"): <0, 0, >0.
int compare_versions(const std::string& a, const std::string& b);

}  // namespace baton::cli
