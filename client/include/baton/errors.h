// The exceptions of the baton client. Every failure a call can report is a baton::Error
// carrying the server's SQLSTATE (empty when libpq itself failed), its DETAIL and HINT. The
// subclasses let a caller decide what to do without parsing messages:
//
//   ConnectionError   the connection is gone or cannot be made: reconnect() and retry.
//   LeaseLost         QB001: the job is not yours any more; drop it, do not retry the call.
//   NotFound          P0002 unknown job, 42704 unknown queue.
//   InvalidArgument   22023, 22004, 22P02, 54000 (and any other class-22 data error).
//   Conflict          23505 duplicate queueing lock, 55000 job or queue in the wrong state.
//   PermissionDenied  42501: the role lacks a baton_* grant.
//   VersionMismatch   QB002 from the server, a database without baton, or a server that lacks
//                     a procedure this client (or this call) needs.
//   DefinitionConflict  QB003: a workflow version registered with another definition (a
//                     Conflict).
//   RunCancelled      QB004: a fenced write to a run whose cancellation is pending.
//   SnapshotFormatError, NonDeterminismError: raised by the workflow runtime (workflow.h).
//
// Anything else is thrown as a plain baton::Error.
#pragma once

#include <stdexcept>
#include <string>

namespace baton {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string sqlstate = {}, std::string detail = {},
                 std::string hint = {})
      : std::runtime_error(message),
        sqlstate_(std::move(sqlstate)),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}

  // The five-character SQLSTATE, or empty when the error did not come from the server.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // The server's DETAIL and HINT fields (empty when absent).
  const std::string& detail() const noexcept { return detail_; }
  const std::string& hint() const noexcept { return hint_; }

 private:
  std::string sqlstate_;
  std::string detail_;
  std::string hint_;
};

// The connection is gone (or was never made). The Client stays usable after reconnect().
class ConnectionError : public Error {
 public:
  using Error::Error;
};

// QB001: a finish/heartbeat with a wrong token, an expired lease, or for a job that no
// longer runs. Nothing was changed; the job belongs to someone else (or to nobody) now.
class LeaseLost : public Error {
 public:
  using Error::Error;
};

// P0002 (unknown job) or 42704 (unknown queue).
class NotFound : public Error {
 public:
  using Error::Error;
};

// 22023, 22004, 22P02, 54000 and other class-22 data errors: the call was refused before
// anything was written; retrying it unchanged fails again.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// 23505 (a job with that queueing_lock is already waiting) or 55000 (wrong state, e.g.
// cancelling a running job, dropping a busy queue).
class Conflict : public Error {
 public:
  using Error::Error;
};

// 42501: the role may not do this (grant baton_producer, baton_worker or baton_admin).
class PermissionDenied : public Error {
 public:
  using Error::Error;
};

// The client and the server's baton do not fit: QB002 (the server's library is older than
// the database's baton SQL), baton missing from the database, or a procedure missing.
class VersionMismatch : public Error {
 public:
  using Error::Error;
};

// QB003: this workflow version is registered with another definition (its hash differs).
// A changed workflow is a new version.
class DefinitionConflict : public Conflict {
 public:
  using Conflict::Conflict;
};

// QB004: the run was cancelled while this driver held it; stop its code without writing
// (the next driver job applies the cancellation).
class RunCancelled : public Error {
 public:
  using Error::Error;
};

// A snapshot payload in a format this client does not read (or not of its format's shape).
class SnapshotFormatError : public Error {
 public:
  using Error::Error;
};

// A workflow body reached a step other than the one its history recorded at that position.
class NonDeterminismError : public Error {
 public:
  using Error::Error;
};

}  // namespace baton
