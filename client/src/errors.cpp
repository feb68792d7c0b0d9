// SQLSTATE -> exception class. The mapping is the contract the worker runtime relies on:
// ConnectionError means "reconnect and retry", LeaseLost means "the job is not yours".
#include <string>

#include "internal.h"

namespace baton {
namespace detail {

std::string conn_message(PGconn* conn) {
  std::string message = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message.empty() ? "connection failed" : message;
}

void throw_for_sqlstate(const std::string& message, const std::string& sqlstate,
                        const std::string& detail, const std::string& hint) {
  const std::string& s = sqlstate;
  if (s.empty() || s.compare(0, 2, "08") == 0 || s.compare(0, 3, "57P") == 0)
    // 08: connection exceptions; 57P01..57P03: the server is shutting down or terminated
    // this backend (pg_terminate_backend), so the connection is gone.
    throw ConnectionError(message, s, detail, hint);
  if (s == "QB001") throw LeaseLost(message, s, detail, hint);
  if (s == "QB003") throw DefinitionConflict(message, s, detail, hint);
  if (s == "QB004") throw RunCancelled(message, s, detail, hint);
  if (s == "P0002" || s == "42704") throw NotFound(message, s, detail, hint);
  if (s.compare(0, 2, "22") == 0 || s == "54000") throw InvalidArgument(message, s, detail, hint);
  if (s == "23505" || s == "55000") throw Conflict(message, s, detail, hint);
  if (s == "42501") throw PermissionDenied(message, s, detail, hint);
  // 42883 at a call: the server has no such procedure (or not with these parameter names);
  // 3F000: no schema baton. Both mean the database's baton does not fit this client.
  if (s == "QB002" || s == "42883" || s == "3F000") throw VersionMismatch(message, s, detail, hint);
  throw Error(message, s, detail, hint);
}

void throw_error(PGconn* conn, const PGresult* result) {
  auto field = [result](int code) {
    const char* v = result != nullptr ? PQresultErrorField(result, code) : nullptr;
    return std::string(v != nullptr ? v : "");
  };
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = conn_message(conn);
  std::string sqlstate = field(PG_DIAG_SQLSTATE);
  if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD)
    throw ConnectionError(message, sqlstate, field(PG_DIAG_MESSAGE_DETAIL),
                          field(PG_DIAG_MESSAGE_HINT));
  throw_for_sqlstate(message, sqlstate, field(PG_DIAG_MESSAGE_DETAIL), field(PG_DIAG_MESSAGE_HINT));
}

const char* introduced_in(const std::string& procedure) {
  if (procedure == "fetch_v2" || procedure == "pause_queue_v1" || procedure == "resume_queue_v1" ||
      procedure == "version_v1")
    return "0.2.0";
  static const char* const workflow_procedures[] = {
      "register_workflow_v1", "start_run_v1",      "claim_run_v1",       "load_run_v1",
      "record_step_v1",       "append_event_v1",   "write_snapshot_v1",  "complete_run_v1",
      "fail_run_v1",          "compensate_all_v1", "continue_as_new_v1", "cancel_run_v1",
      "resolve_run_v1",       "run_history_v1"};
  for (const char* p : workflow_procedures)
    if (procedure == p) return "0.3.0";
  return "0.1.0";
}

}  // namespace detail

const char* to_string(Backoff backoff) {
  switch (backoff) {
    case Backoff::constant:
      return "constant";
    case Backoff::linear:
      return "linear";
    case Backoff::exponential:
      return "exponential";
  }
  return "exponential";
}

const char* to_string(FinishStatus status) {
  switch (status) {
    case FinishStatus::succeeded:
      return "succeeded";
    case FinishStatus::failed:
      return "failed";
    case FinishStatus::cancelled:
      return "cancelled";
  }
  return "succeeded";
}

}  // namespace baton
