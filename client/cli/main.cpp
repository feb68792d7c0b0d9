// baton: the command-line tool of the baton job queue. main() parses the global options,
// dispatches to the command (cmd_*.cpp) and turns every failure into a message and one of
// the documented exit codes (commands.h).
#include <baton/client.h>

#include "args.h"
#include "commands.h"
#include "output.h"
#include "pg.h"

#include <iostream>
#include <limits>
#include <string>
#include <vector>

namespace baton::cli {

namespace {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      status_command(), jobs_command(),    defer_command(),  cancel_command(), retry_command(),
      check_command(),  upgrade_command(), worker_command(), runs_command(),
  };
  return commands;
}

const Command* find_command(const std::string& name) {
  for (const Command& c : all_commands())
    if (c.name == name) return &c;
  return nullptr;
}

const char* kExitCodesHelp =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  the command failed (a server error is shown with its SQLSTATE; for runs also a\n"
    "     database whose baton predates 0.3.0, which has no workflows)\n"
    "  2  usage error: bad arguments or config file\n"
    "  3  cannot connect to the server (or the connection was lost)\n"
    "  4  check: the database's baton differs from the installed package (upgrade pending)\n"
    "  5  baton is not installed in the database\n";

void print_main_help(std::ostream& out) {
  out << "baton " << kClientVersion << ": the command-line tool of the baton job queue\n\n"
      << "usage: baton [--dsn DSN] [--json] COMMAND [options] [arguments]\n"
      << "       baton help COMMAND | baton COMMAND --help\n\n"
      << "Commands:\n";
  std::size_t width = 0;
  for (const Command& c : all_commands()) width = std::max(width, c.name.size());
  for (const Command& c : all_commands())
    out << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << c.summary << "\n";
  out << "\nGlobal options (before or after the command):\n"
      << format_options(global_options())
      << "\nConnection: --dsn takes a libpq connection string (\"host=db1 dbname=app\") or a\n"
      << "postgresql:// URI; without it the standard PG* environment variables apply\n"
      << "(PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, ...).\n"
      << "Output: aligned tables for people; --json prints one JSON document on stdout with\n"
      << "stable keys (errors then also print {\"error\": {...}} there). Messages and progress\n"
      << "go to stderr.\n\n"
      << kExitCodesHelp;
}

void print_command_help(const Command& c, std::ostream& out) {
  out << "usage: " << c.usage << "\n\n" << c.help;
  if (!c.help.empty() && c.help.back() != '\n') out << "\n";
  if (!c.options.empty()) out << "\nOptions:\n" << format_options(c.options);
  out << "\nGlobal options:\n" << format_options(global_options()) << "\n" << kExitCodesHelp;
}

void print_error_json(const std::string& kind, const std::string& message, const Error* error,
                      int code) {
  Json e{{"kind", kind}, {"message", message}};
  if (error != nullptr) {
    e["sqlstate"] = error->sqlstate().empty() ? Json() : Json(error->sqlstate());
    e["detail"] = error->detail().empty() ? Json() : Json(error->detail());
    e["hint"] = error->hint().empty() ? Json() : Json(error->hint());
  }
  print_json(Json{{"error", e}, {"exit_code", code}});
}

// What kind of failure an Error is, for the message and the JSON "kind".
const char* error_kind(const Error& e) {
  if (dynamic_cast<const NotInstalled*>(&e)) return "not_installed";
  if (dynamic_cast<const ConnectionError*>(&e)) return "connection";
  if (dynamic_cast<const LeaseLost*>(&e)) return "lease_lost";
  if (dynamic_cast<const NotFound*>(&e)) return "not_found";
  if (dynamic_cast<const InvalidArgument*>(&e)) return "invalid_argument";
  if (dynamic_cast<const Conflict*>(&e)) return "conflict";
  if (dynamic_cast<const PermissionDenied*>(&e)) return "permission_denied";
  if (dynamic_cast<const VersionMismatch*>(&e)) return "version_mismatch";
  return "server";
}

// A human hint for the error kinds that have an obvious next step.
std::string error_advice(const std::string& kind) {
  if (kind == "connection")
    return "check --dsn or the PG* environment variables (PGHOST, PGPORT, ...)";
  if (kind == "permission_denied")
    return "grant the role baton_producer, baton_worker or baton_admin (README, Roles)";
  if (kind == "not_installed") return "CREATE EXTENSION baton; in the database (as a superuser)";
  return "";
}

int report_error(const std::string& command, const Error& e, bool json) {
  std::string kind = error_kind(e);
  int code = kind == "connection"      ? kExitNoConnection
             : kind == "not_installed" ? kExitNotInstalled
                                       : kExitFailed;
  std::string what = e.what();
  std::string prefix;
  if (kind == "connection" && what.find("cannot connect") == std::string::npos)
    prefix = e.sqlstate().empty() ? "cannot connect to the server: " : "connection lost: ";
  std::cerr << "baton " << command << ": error: " << prefix << e.what();
  if (!e.sqlstate().empty()) std::cerr << " (SQLSTATE " << e.sqlstate() << ")";
  std::cerr << "\n";
  if (!e.detail().empty()) std::cerr << "  DETAIL: " << e.detail() << "\n";
  if (!e.hint().empty()) std::cerr << "  HINT: " << e.hint() << "\n";
  std::string advice = error_advice(kind);
  if (!advice.empty() && e.hint().empty()) std::cerr << "  (" << advice << ")\n";
  if (json) print_error_json(kind, prefix + e.what(), &e, code);
  return code;
}

int usage_error(const std::string& message, const Command* c, bool json) {
  std::string who = c ? "baton " + c->name : "baton";
  std::cerr << who << ": " << message << "\n"
            << "usage: " << (c ? c->usage : "baton [--dsn DSN] [--json] COMMAND [options]") << "\n"
            << "Try '" << who << " --help' for more information.\n";
  if (json) print_error_json("usage", message, nullptr, kExitUsage);
  return kExitUsage;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Context ctx;
  // Global options before the command.
  std::size_t i = 0;
  std::vector<std::string> leading;
  while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
    leading.push_back(args[i]);
    bool takes_value = args[i] == "--dsn" || args[i] == "-d";
    ++i;
    if (takes_value && i < args.size()) leading.push_back(args[i++]);
  }
  ParsedArgs globals;
  try {
    globals = parse_args(leading, global_options());
  } catch (const UsageError& e) {
    return usage_error(e.what(), nullptr, false);
  }
  ctx.json = globals.has("json");
  if (globals.has("dsn")) ctx.dsn = *globals.get("dsn");
  if (globals.has("version")) {
    std::cout << "baton " << kClientVersion << "\n";
    return kExitOk;
  }
  if (i >= args.size()) {
    if (globals.has("help")) {
      print_main_help(std::cout);
      return kExitOk;
    }
    return usage_error("no command given", nullptr, ctx.json);
  }
  std::string name = args[i++];
  if (name == "help") {
    if (i >= args.size()) {
      print_main_help(std::cout);
      return kExitOk;
    }
    const Command* c = find_command(args[i]);
    if (c == nullptr) return usage_error("unknown command '" + args[i] + "'", nullptr, ctx.json);
    print_command_help(*c, std::cout);
    return kExitOk;
  }
  const Command* command = find_command(name);
  if (command == nullptr) {
    std::string known;
    for (const Command& c : all_commands()) known += (known.empty() ? "" : ", ") + c.name;
    return usage_error("unknown command '" + name + "' (commands: " + known + ")", nullptr,
                       ctx.json);
  }
  if (globals.has("help")) {
    print_command_help(*command, std::cout);
    return kExitOk;
  }
  std::vector<OptionSpec> specs = command->options;
  specs.insert(specs.end(), global_options().begin(), global_options().end());
  try {
    ParsedArgs parsed = parse_args(std::vector<std::string>(args.begin() + i, args.end()), specs);
    if (parsed.has("json")) ctx.json = true;
    if (parsed.has("dsn")) ctx.dsn = *parsed.get("dsn");
    if (parsed.has("help")) {
      print_command_help(*command, std::cout);
      return kExitOk;
    }
    return command->run(ctx, parsed);
  } catch (const UsageError& e) {
    return usage_error(e.what(), command, ctx.json);
  } catch (const Error& e) {
    return report_error(command->name, e, ctx.json);
  } catch (const std::exception& e) {
    std::cerr << "baton " << command->name << ": error: " << e.what() << "\n";
    if (ctx.json) print_error_json("internal", e.what(), nullptr, kExitFailed);
    return kExitFailed;
  }
}

}  // namespace

const std::vector<OptionSpec>& global_options() {
  static const std::vector<OptionSpec> options = {
      {"dsn", 'd', "DSN", "connection string or URI (default: the PG* environment)"},
      {"json", 0, "", "print JSON for scripts instead of tables"},
      {"help", 'h', "", "show this help"},
      {"version", 0, "", "print the client's version (before the command only)"},
  };
  return options;
}

Client Context::connect() const {
  try {
    return Client(dsn);
  } catch (const ConnectionError&) {
    throw;
  } catch (const VersionMismatch&) {
    // The handshake refused: say "not installed" when that is why (exit 5).
    bool installed = true;
    try {
      PgConnection pg(dsn);
      installed =
          !pg.query("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'baton'").empty();
      if (!installed)
        throw NotInstalled("baton is not installed in database \"" + pg.database() + "\"");
    } catch (const NotInstalled&) {
      throw;
    } catch (const Error&) {
    }
    throw;
  }
}

void require_positionals(const ParsedArgs& args, const std::vector<std::string>& required,
                         std::size_t optional) {
  std::size_t n = args.positionals().size(), max = required.size() + optional;
  if (n < required.size()) {
    std::string missing;
    for (std::size_t i = n; i < required.size(); ++i) missing += " " + required[i];
    throw UsageError("missing argument" + std::string(required.size() - n > 1 ? "s" : "") + ":" +
                     missing);
  }
  if (n > max) {
    std::string extra;
    for (std::size_t i = max; i < n; ++i) extra += " " + args.positionals()[i];
    throw UsageError("unexpected arguments:" + extra);
  }
}

JobId parse_job_id(const std::string& text) {
  return parse_int("job ID", text, 1, std::numeric_limits<JobId>::max());
}

}  // namespace baton::cli

int main(int argc, char** argv) {
  return baton::cli::run(argc, argv);
}
