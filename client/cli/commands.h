// The commands of the baton CLI and what they share: exit codes, the run context
// (connection options, --json) and the command table that main() dispatches on.
#pragma once

#include <baton/client.h>

#include "args.h"

#include <string>
#include <vector>

namespace baton::cli {

// Exit codes (documented in `baton --help`).
enum ExitCode {
  kExitOk = 0,
  kExitFailed = 1,          // the command failed (server error, job in the wrong state, ...)
  kExitUsage = 2,           // bad arguments or config file
  kExitNoConnection = 3,    // cannot connect to the server (or the connection was lost)
  kExitUpgradePending = 4,  // check: the database's baton differs from the installed package
  kExitNotInstalled = 5,    // baton is not installed in the database
};

// baton is not installed in the connected database (exit 5).
class NotInstalled : public Error {
 public:
  using Error::Error;
};

struct Context {
  std::string dsn;  // libpq conninfo or URI; empty: the PG* environment variables
  bool json = false;
  // A baton::Client on dsn (the version handshake included). Throws ConnectionError,
  // NotInstalled when the database lacks baton, or the Client's other errors.
  Client connect() const;
};

struct Command {
  std::string name;
  std::string usage;    // e.g. "baton defer [options] QUEUE TASK [ARGS-JSON]"
  std::string summary;  // one line for `baton --help`
  std::string help;     // the description printed by `baton CMD --help`, after the usage
  std::vector<OptionSpec> options;  // the command's own options (the global ones are added)
  int (*run)(const Context&, const ParsedArgs&);
};

// The options every command takes.
const std::vector<OptionSpec>& global_options();

// One function per command family (cmd_*.cpp).
Command status_command();
Command jobs_command();
Command defer_command();
Command cancel_command();
Command retry_command();
Command check_command();
Command upgrade_command();
Command worker_command();
Command runs_command();

// Helpers shared by the commands.
// Requires the named positionals (e.g. {"QUEUE", "TASK"}) and allows `optional` more;
// UsageError naming what is missing or unexpected otherwise.
void require_positionals(const ParsedArgs& args, const std::vector<std::string>& required,
                         std::size_t optional = 0);
JobId parse_job_id(const std::string& text);
// A timestamp as the server reads it (every PostgreSQL format, e.g. "2030-01-01 12:00+00";
// the session's TimeZone unless the text names one). UsageError if it is not one.
TimePoint parse_time_on_server(Client& client, const std::string& what, const std::string& text);

}  // namespace baton::cli
