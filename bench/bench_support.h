// What the benchmark programs share: this process's CPU time, elapsed seconds, and small
// RAII wrappers of libpq for their bare-SQL sides (connections from the PG* environment).
#pragma once

#include <libpq-fe.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bench {

using Clock = std::chrono::steady_clock;

// User + system CPU time of this process so far, in seconds.
inline double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

class Conn {
 public:
  Conn() : c_(PQconnectdb("")) {
    if (PQstatus(c_) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(c_);
      PQfinish(c_);
      throw std::runtime_error("connect: " + msg);
    }
  }
  ~Conn() { PQfinish(c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  PGconn* get() const { return c_; }

 private:
  PGconn* c_;
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

inline void expect(const Conn& conn, const Result& r, ExecStatusType status, const char* what) {
  if (PQresultStatus(r.get()) != status)
    throw std::runtime_error(std::string(what) + ": " + PQerrorMessage(conn.get()));
}

inline void exec(const Conn& conn, const std::string& sql, ExecStatusType status) {
  Result r(PQexec(conn.get(), sql.c_str()));
  expect(conn, r, status, sql.c_str());
}

// The first column of the first row of a query on a connection of its own, as a number.
inline long query_long(const std::string& sql) {
  Conn conn;
  Result r(PQexec(conn.get(), sql.c_str()));
  expect(conn, r, PGRES_TUPLES_OK, sql.c_str());
  return std::atol(PQgetvalue(r.get(), 0, 0));
}

}  // namespace bench
