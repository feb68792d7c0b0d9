// baton check / baton upgrade: whether the database's baton lags the package installed on
// the server, and `ALTER EXTENSION baton UPDATE` with its pre-checks (dry-run unless
// --execute). Both use plain libpq (pg.h): they must work on a database without baton and
// on every release's SQL, where baton::Client's handshake would refuse or not apply.
#include "commands.h"
#include "output.h"
#include "pg.h"

#include <iostream>
#include <thread>

namespace baton::cli {

namespace {

// What the catalogs say about baton in this database and on this server.
struct VersionState {
  std::string database;
  bool installed = false;
  std::optional<std::string> extension_version;  // installed in the database
  std::optional<std::string> package_version;    // the server's control file default_version
  std::optional<std::string> library_version;    // baton.version_v1() (0.2.0 and later)
  std::optional<std::string> schema;
  std::optional<std::string> owner;
};

VersionState read_versions(PgConnection& pg) {
  VersionState s;
  s.database = pg.database();
  auto ext = pg.query(
      "SELECT e.extversion, n.nspname, pg_catalog.pg_get_userbyid(e.extowner) FROM "
      "pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'baton'");
  if (!ext.empty()) {
    s.installed = true;
    s.extension_version = ext[0][0];
    s.schema = ext[0][1];
    s.owner = ext[0][2];
  }
  auto pkg = pg.query(
      "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = 'baton'");
  if (!pkg.empty()) s.package_version = pkg[0][0];
  if (s.installed) {
    // The loaded library's version, where the database has the handshake (0.2.0+) and
    // the role may call it.
    auto has = pg.query(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_extension e"
        " ON e.extnamespace = p.pronamespace WHERE e.extname = 'baton'"
        " AND p.proname = 'version_v1' AND p.pronargs = 0"
        " AND pg_catalog.has_schema_privilege(p.pronamespace, 'USAGE')"
        " AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE'))");
    if (!has.empty() && has[0][0] == std::optional<std::string>("t")) {
      try {
        auto v = pg.query("SELECT library_version FROM \"" + *s.schema + "\".version_v1()");
        if (!v.empty()) s.library_version = v[0][0];
      } catch (const ConnectionError&) {
        throw;
      } catch (const Error& e) {
        std::cerr << "baton: note: version_v1() failed: " << e.what() << "\n";
      }
    }
  }
  return s;
}

Json opt_json(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json();
}

int run_check(const Context& ctx, const ParsedArgs& args) {
  require_positionals(args, {});
  PgConnection pg(ctx.dsn);
  VersionState s = read_versions(pg);
  std::string status;
  std::string message;
  int code;
  std::string db = "database \"" + s.database + "\"";
  std::string package = s.package_version ? *s.package_version : "(none)";
  if (!s.installed) {
    status = "not_installed";
    code = kExitNotInstalled;
    message = "baton is not installed in " + db +
              (s.package_version
                   ? " (the server has package " + *s.package_version + ": CREATE EXTENSION baton)"
                   : " (and the server has no baton package)");
  } else if (!s.package_version) {
    status = "package_missing";
    code = kExitUpgradePending;
    message = "baton " + *s.extension_version + " is installed in " + db +
              ", but the server has no baton package (install it)";
  } else if (*s.extension_version == *s.package_version) {
    status = "current";
    code = kExitOk;
    message = "baton " + *s.extension_version + " in " + db + " is current (package " + package +
              (s.library_version ? ", library " + *s.library_version : "") + ")";
  } else if (compare_versions(*s.extension_version, *s.package_version) < 0) {
    status = "upgrade_pending";
    code = kExitUpgradePending;
    message = "upgrade pending: " + db + " has baton " + *s.extension_version +
              ", the installed package is " + package +
              " (run: baton upgrade --execute, or ALTER EXTENSION baton UPDATE)";
  } else {
    status = "package_older";
    code = kExitUpgradePending;
    message = db + " has baton " + *s.extension_version + ", newer than the installed package " +
              package + ": install the package of " + *s.extension_version +
              " (the older library refuses with QB002)";
  }
  if (ctx.json) {
    print_json(Json{{"database", s.database},
                    {"installed", s.installed},
                    {"extension_version", opt_json(s.extension_version)},
                    {"package_version", opt_json(s.package_version)},
                    {"library_version", opt_json(s.library_version)},
                    {"upgrade_pending", code == kExitUpgradePending},
                    {"status", status}});
    if (code != kExitOk) std::cerr << "baton check: " << message << "\n";
  } else {
    (code == kExitOk ? std::cout : std::cerr)
        << (code == kExitOk ? "" : "baton check: ") << message << "\n";
  }
  return code;
}

std::string ms_text(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

int run_upgrade(const Context& ctx, const ParsedArgs& args) {
  require_positionals(args, {});
  Duration lock_timeout = std::chrono::seconds(5);
  if (auto v = args.get("lock-timeout")) lock_timeout = parse_duration("--lock-timeout", *v);
  if (lock_timeout < std::chrono::milliseconds(1) || lock_timeout > std::chrono::hours(24))
    throw UsageError("--lock-timeout must be between 1ms and 24h");
  int attempts = 3;
  if (auto v = args.get("attempts"))
    attempts = static_cast<int>(parse_int("--attempts", *v, 1, 100));
  Duration retry_wait = std::chrono::seconds(1);
  if (auto v = args.get("retry-wait")) retry_wait = parse_duration("--retry-wait", *v);
  bool execute = args.has("execute");

  PgConnection pg(ctx.dsn);
  VersionState s = read_versions(pg);
  std::string db = "database \"" + s.database + "\"";
  if (!s.installed)
    throw NotInstalled("baton is not installed in " + db +
                       " (upgrade updates an installed baton; CREATE EXTENSION baton installs it)");
  if (!s.package_version)
    throw Error("the server has no baton package installed: install the package first");
  const std::string from = *s.extension_version, to = *s.package_version;
  Json report{{"database", s.database}, {"from", from}, {"to", to}, {"executed", false}};
  if (from == to) {
    report["status"] = "current";
    if (ctx.json)
      print_json(report);
    else
      std::cout << "baton " << from << " in " << db << " is current: nothing to do\n";
    return kExitOk;
  }
  if (compare_versions(from, to) > 0)
    throw Error(db + " has baton " + from + ", newer than the installed package " + to +
                ": install the package of " + from + " (baton is never downgraded)");

  // Pre-check: an update path exists.
  auto path = pg.query(
      "SELECT path FROM pg_catalog.pg_extension_update_paths('baton') "
      "WHERE source = $1 AND target = $2 AND path IS NOT NULL",
      {from, to});
  if (path.empty())
    throw Error("no update path from baton " + from + " to " + to +
                " on this server (pg_extension_update_paths): the package lacks the scripts");
  std::string path_text = *path[0][0];
  // Pre-check: the role may update it. ALTER EXTENSION needs the extension's owner; a
  // version whose control file says superuser (and not trusted) needs a superuser too.
  auto role = pg.query(
      "SELECT current_user, r.rolsuper, "
      " pg_catalog.pg_has_role(current_user, e.extowner, 'USAGE'), "
      " EXISTS (SELECT 1 FROM pg_catalog.pg_available_extension_versions v "
      "          WHERE v.name = 'baton' AND v.superuser AND NOT v.trusted "
      "            AND v.version = ANY (pg_catalog.string_to_array($1, '--'))"
      "            AND v.version <> $2) "
      "FROM pg_catalog.pg_roles r, pg_catalog.pg_extension e "
      "WHERE r.rolname = current_user AND e.extname = 'baton'",
      {path_text, from});
  std::string user = role.empty() ? pg.user() : *role[0][0];
  bool superuser = !role.empty() && role[0][1] == std::optional<std::string>("t");
  bool owner = !role.empty() && role[0][2] == std::optional<std::string>("t");
  bool needs_superuser = !role.empty() && role[0][3] == std::optional<std::string>("t");
  if (!superuser && (!owner || needs_superuser)) {
    std::string why =
        !owner ? "it is owned by " + s.owner.value_or("?") + ": connect as its owner or a superuser"
               : "the update scripts need a superuser (superuser = true in "
                 "baton.control)";
    throw PermissionDenied("role \"" + user + "\" may not update baton in " + db + ": " + why,
                           "42501");
  }

  std::string set_timeout = "SET lock_timeout = '" + ms_text(lock_timeout) + "'";
  std::string alter = "ALTER EXTENSION baton UPDATE";
  Json path_json = Json::array();
  {
    std::size_t pos = 0, next;
    while ((next = path_text.find("--", pos)) != std::string::npos) {
      path_json.push_back(path_text.substr(pos, next - pos));
      pos = next + 2;
    }
    path_json.push_back(path_text.substr(pos));
  }
  report["path"] = path_json;
  report["role"] = user;
  report["statements"] = Json::array({set_timeout, alter});
  report["lock_timeout_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(lock_timeout).count();
  report["max_attempts"] = attempts;
  if (!execute) {
    report["status"] = "dry_run";
    if (ctx.json) {
      print_json(report);
    } else {
      std::cout << db << ": baton " << from << ", installed package " << to << "\n"
                << "update path: ";
      for (std::size_t i = 0; i < path_json.size(); ++i)
        std::cout << (i ? " -> " : "") << path_json[i].get<std::string>();
      std::cout << "\nrole \"" << user << "\" may run it ("
                << (superuser ? "superuser" : "owner of the extension") << ")\n"
                << "would run: " << set_timeout << "; " << alter << ";\n"
                << "  retrying up to " << attempts << " attempts when the lock wait times out "
                << "(SQLSTATE 55P03)\n"
                << "dry run: nothing changed. Run again with --execute to update.\n";
    }
    return kExitOk;
  }

  pg.query(set_timeout);
  auto started = std::chrono::steady_clock::now();
  int attempt = 1;
  for (;; ++attempt) {
    std::cerr << "baton upgrade: " << alter << " (" << from << " -> " << to << "), attempt "
              << attempt << " of " << attempts << ", lock_timeout " << format_duration(lock_timeout)
              << "\n";
    try {
      pg.execute_with_progress(alter, [&](std::chrono::seconds waited) {
        std::cerr << "baton upgrade: waiting for a lock: " << waited.count() << "s (attempt "
                  << attempt << " of " << attempts << ")\n";
      });
      break;
    } catch (const Error& e) {
      if (e.sqlstate() != "55P03") throw;
      if (attempt >= attempts)
        throw Error("gave up after " + std::to_string(attempts) +
                        " attempts: every one waited longer than lock_timeout " +
                        format_duration(lock_timeout) +
                        " for a lock (a long transaction holds baton's tables; try later or "
                        "raise --lock-timeout): " +
                        e.what(),
                    e.sqlstate(), e.detail(), e.hint());
      std::cerr << "baton upgrade: lock wait timed out (" << e.what() << "); retrying in "
                << format_duration(retry_wait) << "\n";
      std::this_thread::sleep_for(retry_wait);
    }
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  VersionState after = read_versions(pg);
  std::string now = after.extension_version.value_or("?");
  report["executed"] = true;
  report["status"] = "updated";
  report["attempts"] = attempt;
  report["version"] = now;
  if (ctx.json)
    print_json(report);
  else
    std::cout << "baton updated in " << db << ": " << from << " -> " << now << " (attempt "
              << attempt << ", " << took.count() << " ms)\n";
  return now == to ? kExitOk : kExitFailed;
}

}  // namespace

Command check_command() {
  return {"check",
          "baton check",
          "does the database's baton lag the installed package? (exit 4)",
          "Compares the baton SQL installed in the database with the package installed on\n"
          "the server (pg_available_extensions), for deploy pipelines. Works on every\n"
          "release, also on 0.1.0 databases (which lack baton.version_v1()).\n"
          "Exit 0 when current, 4 when they differ (upgrade pending: run `baton upgrade`;\n"
          "also when the database is newer than the package or the package is missing),\n"
          "5 when baton is not installed in the database.\n"
          "JSON: {\"database\", \"installed\", \"extension_version\", \"package_version\",\n"
          "\"library_version\", \"upgrade_pending\", \"status\": current | upgrade_pending |\n"
          "not_installed | package_older | package_missing}.\n",
          {},
          run_check};
}

Command upgrade_command() {
  return {"upgrade",
          "baton upgrade [--execute] [--lock-timeout DURATION] [--attempts N]",
          "ALTER EXTENSION baton UPDATE, after pre-checks (dry-run unless --execute)",
          "Updates the database's baton SQL to the installed package's version. First it\n"
          "checks that baton is installed (exit 5 otherwise), that the server has an update\n"
          "path (pg_extension_update_paths) and that the connected role may run it (the\n"
          "extension's owner or a superuser; exit 1 otherwise), then prints what it would\n"
          "do. With --execute it runs SET lock_timeout and ALTER EXTENSION baton UPDATE,\n"
          "retries when the lock wait times out (SQLSTATE 55P03: a long transaction holds\n"
          "baton's tables; workers' calls queue behind the waiting upgrade for at most the\n"
          "timeout), shows progress while it waits, and prints the new version. Workers\n"
          "may keep running (README, Upgrades).\n"
          "JSON: {\"database\", \"from\", \"to\", \"executed\", \"status\": current | dry_run |\n"
          "updated, \"path\", \"role\", \"statements\", \"lock_timeout_ms\", \"max_attempts\",\n"
          "\"attempts\" and \"version\" (after --execute)}.\n",
          {
              {"execute", 0, "", "really run it (default: dry run, changes nothing)"},
              {"lock-timeout", 0, "DURATION", "lock_timeout of each attempt (default 5s)"},
              {"attempts", 0, "N", "attempts when the lock wait times out (default 3)"},
              {"retry-wait", 0, "DURATION", "pause between attempts (default 1s)"},
          },
          run_upgrade};
}

}  // namespace baton::cli
