// The version handshake: what this database's baton serves, checked against what the
// client needs, before any call is made.
#include <sstream>

#include "internal.h"

namespace baton {

const char* const kRequiredProcedures[5] = {"defer_v1", "fetch_v1", "finish_v1", "finish_many_v1",
                                            "heartbeat_v1"};

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out.empty() ? "(none)" : out;
}

std::string database_of(PGconn* conn) {
  const char* db = PQdb(conn);
  return db != nullptr ? db : "?";
}

// What the catalog tells about baton in this database, for a database without version_v1()
// (0.1.0) or a role that may not call it: the same query version_v1() runs, minus the
// library version, which only the loaded baton.so knows.
constexpr const char* kCatalogSql =
    "SELECT e.extversion, "
    "       (SELECT a.default_version FROM pg_catalog.pg_available_extensions a"
    "         WHERE a.name = e.extname), "
    "       pg_catalog.array_to_string(ARRAY(SELECT DISTINCT p.proname::text"
    "         FROM pg_catalog.pg_proc p WHERE p.pronamespace = e.extnamespace"
    "          AND p.proname ~ '^[a-z][a-z_]*_v[0-9]+$' ORDER BY 1), ' ') "
    "  FROM pg_catalog.pg_extension e WHERE e.extname = 'baton'";

}  // namespace

void Client::Impl::handshake() {
  PGconn* c = live();
  ServerInfo info;
  detail::ResultPtr r(PQexec(c,
                             "SELECT extension_version, library_version, package_version, "
                             "pg_catalog.array_to_string(api, ' '), upgrade_pending "
                             "FROM baton.version_v1()"));
  std::string state;
  if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK && PQntuples(r.get()) == 1) {
    detail::Rows rows(std::move(r));
    info.extension_version = rows.opt_text(0, 0).value_or("");
    info.library_version = rows.opt_text(0, 1).value_or("");
    info.package_version = rows.opt_text(0, 2).value_or("");
    info.api = split_words(rows.opt_text(0, 3).value_or(""));
    info.upgrade_pending = !rows.null(0, 4) && rows.boolean(0, 4);
    info.has_version_v1 = true;
  } else if (r && PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
    throw VersionMismatch("baton is not installed in database \"" + database_of(c) +
                          "\" (version_v1() found no extension baton); this client needs "
                          "baton 0.1.0 or later: run CREATE EXTENSION baton");
  } else {
    const char* s = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    state = s != nullptr ? s : "";
    if (PQstatus(c) == CONNECTION_BAD || state.empty() || state == "QB002")
      detail::throw_error(c, r.get());
    if (state == "3F000")
      throw VersionMismatch("baton is not installed in database \"" + database_of(c) +
                                "\" (there is no schema baton); this client needs baton 0.1.0 or "
                                "later: run CREATE EXTENSION baton",
                            state);
    if (state != "42883" && state != "42501") detail::throw_error(c, r.get());
    // 42883: no version_v1() (a 0.1.0 database, or a schema named baton without the
    // extension); 42501: the role may not call it. The catalog tells which.
    detail::ResultPtr cat(PQexec(c, kCatalogSql));
    if (!cat || PQresultStatus(cat.get()) != PGRES_TUPLES_OK) detail::throw_error(c, cat.get());
    if (PQntuples(cat.get()) == 0)
      throw VersionMismatch("baton is not installed in database \"" + database_of(c) +
                                "\" (schema baton exists, but not the extension); this client "
                                "needs baton 0.1.0 or later: run CREATE EXTENSION baton",
                            state);
    detail::Rows rows(std::move(cat));
    info.extension_version = rows.text(0, 0);
    info.package_version = rows.opt_text(0, 1).value_or("");
    info.api = split_words(rows.text(0, 2));
    info.upgrade_pending =
        !info.package_version.empty() && info.extension_version != info.package_version;
    info.has_version_v1 = false;
  }

  api.clear();
  api.insert(info.api.begin(), info.api.end());
  std::vector<std::string> missing;
  for (const char* p : kRequiredProcedures)
    if (api.count(p) == 0) missing.push_back(p);
  server = std::move(info);
  if (!missing.empty())
    throw VersionMismatch("the baton " + server.extension_version + " of database \"" +
                          database_of(c) + "\" lacks " + join(missing) + ", which this client (" +
                          kClientVersion + ") needs; it serves: " + join(server.api));
}

void Client::Impl::require(const char* procedure, const char* why) const {
  if (api.count(procedure) != 0) return;
  std::string message = "the server's baton " + server.extension_version + " does not provide " +
                        procedure + " (added in baton " + detail::introduced_in(procedure) +
                        "; run ALTER EXTENSION baton UPDATE on the server)";
  if (why != nullptr) message += std::string("; it is needed for ") + why;
  throw VersionMismatch(message, "", "the server serves: " + join(server.api));
}

const ServerInfo& Client::server() const {
  return impl_->server;
}

const ServerInfo& Client::refresh_server_info() {
  impl_->handshake();
  return impl_->server;
}

bool Client::supports(const std::string& procedure) const {
  return impl_->api.count(procedure) != 0;
}

ServerInfo Client::version() {
  impl_->require("version_v1");
  detail::Rows rows = impl_->run(
      "SELECT extension_version, library_version, package_version, "
      "pg_catalog.array_to_string(api, ' '), upgrade_pending FROM baton.version_v1()",
      {}, false);
  ServerInfo info;
  if (rows.size() == 1) {
    info.extension_version = rows.opt_text(0, 0).value_or("");
    info.library_version = rows.opt_text(0, 1).value_or("");
    info.package_version = rows.opt_text(0, 2).value_or("");
    info.api = split_words(rows.opt_text(0, 3).value_or(""));
    info.upgrade_pending = !rows.null(0, 4) && rows.boolean(0, 4);
    info.has_version_v1 = true;
  }
  return info;
}

}  // namespace baton
