// Helpers of the client tests: unique names, and raw libpq for what must happen before a
// baton::Client can connect (creating databases, installing a chosen baton version).
#pragma once

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "baton/client.h"

namespace test_support {

// A queue (or lock, role, ...) name unique within the run, so tests sharing the database
// never see each other's jobs.
inline std::string unique(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
}

// Runs SQL in a database through a plain libpq connection (no handshake).
inline void raw_exec(const std::string& dbname, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(("dbname=" + dbname).c_str()),
                                                    &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("connect to " + dbname + ": " + PQerrorMessage(conn.get()));
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
  ExecStatusType s = PQresultStatus(r.get());
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
}

// The database run.sh created (PGDATABASE), which has the installed baton.
inline std::string main_database() {
  const char* db = getenv("PGDATABASE");
  return db != nullptr && *db != '\0' ? db : "baton_client_test";
}

// Drops and creates a database; `setup` (if any) runs in it afterwards.
inline void fresh_database(const std::string& name, const std::string& setup = {}) {
  raw_exec("postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  raw_exec("postgres", "CREATE DATABASE " + name);
  if (!setup.empty()) raw_exec(name, setup);
}

// Polls `done` until it holds or `limit` passes.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Runs `f` and returns the exception of type E it throws; fails the test otherwise.
template <class E, class F>
E thrown(F f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("wrong exception type: ") + typeid(e).name() + ": " +
                             e.what());
  }
  throw std::runtime_error("no exception thrown");
}

}  // namespace test_support
