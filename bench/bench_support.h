// What the benchmark programs share: this process's CPU time, elapsed seconds, and small
// RAII wrappers of libpq for their bare-SQL sides (connections from the PG* environment).
#pragma once

#include <baton/worker.h>
#include <libpq-fe.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

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

// Runs `worker` on a thread of its own until it has reported `jobs` jobs succeeded; returns
// when that was seen (polled every 200 µs), then stops the worker and joins it. Throws if a
// job failed or lost its lease, if run() returned early, or after `timeout`. `noun` names
// the jobs in the messages.
inline Clock::time_point run_worker_until(baton::Worker& worker, long jobs, Clock::duration timeout,
                                          const std::string& noun) {
  std::string error;
  std::atomic<bool> returned{false};
  std::thread runner([&] {
    try {
      worker.run();
    } catch (const std::exception& e) {
      error = e.what();
    }
    returned = true;
  });
  const Clock::time_point deadline = Clock::now() + timeout;
  Clock::time_point done;
  std::string failure;
  for (;;) {
    const baton::WorkerStats s = worker.stats();
    if (s.succeeded >= static_cast<unsigned long long>(jobs)) {
      done = Clock::now();
      break;
    }
    if (s.failed != 0 || s.lease_lost != 0) {
      failure = "the worker reported " + std::to_string(s.failed) + " failed and " +
                std::to_string(s.lease_lost) + " lost " + noun;
      break;
    }
    if (returned) {
      failure = "the worker stopped early: " + error;
      break;
    }
    if (Clock::now() > deadline) {
      failure = "timed out with " + std::to_string(s.succeeded) + " of " + std::to_string(jobs) +
                " " + noun + " done";
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  worker.stop();
  runner.join();
  if (!failure.empty()) throw std::runtime_error(failure);
  if (!error.empty()) throw std::runtime_error("worker: " + error);
  return done;
}

}  // namespace bench
