// The version handshake against the installed newest release, a 0.1.0 database, a database without
// baton, and a server that is not there.
#include <gtest/gtest.h>

#include <algorithm>

#include "support.h"

using namespace test_support;
using baton::Client;

namespace {

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

TEST(Handshake, InstalledRelease) {
  Client c;
  const baton::ServerInfo& s = c.server();
  EXPECT_EQ(s.extension_version, "0.3.0");
  EXPECT_EQ(s.library_version, "0.3.0");
  EXPECT_EQ(s.package_version, "0.3.0");
  EXPECT_TRUE(s.has_version_v1);
  EXPECT_FALSE(s.upgrade_pending);
  EXPECT_TRUE(has(s.api, "fetch_v2"));
  EXPECT_TRUE(has(s.api, "version_v1"));
  EXPECT_TRUE(has(s.api, "finish_many_v1"));
  EXPECT_FALSE(has(s.api, "_history"));  // internal helpers are not API
  EXPECT_TRUE(std::is_sorted(s.api.begin(), s.api.end()));
  EXPECT_TRUE(c.supports("fetch_v2"));
  EXPECT_TRUE(c.supports("pause_queue_v1"));
  EXPECT_FALSE(c.supports("fetch_v3"));
  baton::ServerInfo now = c.version();
  EXPECT_EQ(now.api, s.api);
  EXPECT_EQ(now.extension_version, s.extension_version);
}

TEST(Handshake, OldRelease010SpeaksV1Only) {
  const std::string db = "baton_client_test_v010";
  fresh_database(db, "CREATE EXTENSION baton VERSION '0.1.0'");
  Client c("dbname=" + db);
  const baton::ServerInfo& s = c.server();
  EXPECT_EQ(s.extension_version, "0.1.0");
  EXPECT_FALSE(s.has_version_v1);
  EXPECT_TRUE(s.upgrade_pending);  // the package on the server is 0.3.0
  EXPECT_EQ(s.package_version, "0.3.0");
  EXPECT_TRUE(c.supports("fetch_v1"));
  EXPECT_FALSE(c.supports("fetch_v2"));
  EXPECT_FALSE(c.supports("pause_queue_v1"));
  EXPECT_FALSE(c.supports("version_v1"));

  c.create_queue("old");
  baton::JobId id = c.defer("old", "t1", {{"n", 1}});
  c.defer("old", "t2");

  // The 0.2.0 calls refuse with a message naming what is missing and what to do.
  baton::FetchOptions only_t2;
  only_t2.tasks = {"t2"};
  auto e = thrown<baton::VersionMismatch>([&] { c.fetch({"old"}, "w", only_t2); });
  EXPECT_NE(std::string(e.what()).find("fetch_v2"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("0.1.0"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("ALTER EXTENSION"), std::string::npos) << e.what();
  thrown<baton::VersionMismatch>([&] { c.fetch_v2({"old"}, "w"); });
  thrown<baton::VersionMismatch>([&] { c.pause_queue("old"); });
  thrown<baton::VersionMismatch>([&] { c.resume_queue("old"); });
  thrown<baton::VersionMismatch>([&] { c.version(); });

  // A plain fetch goes through fetch_v1 (so without fetch_v2's extra columns).
  std::vector<baton::Job> jobs = c.fetch({"old"}, "w");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, id);
  EXPECT_EQ(jobs[0].args, baton::Json({{"n", 1}}));
  EXPECT_FALSE(jobs[0].deferred_at.has_value());
  EXPECT_EQ(c.finish(jobs[0].id, jobs[0].lease_token, baton::FinishStatus::succeeded), "succeeded");

  // After the upgrade, a refreshed handshake sees the new procedures.
  c.execute("ALTER EXTENSION baton UPDATE");
  c.refresh_server_info();
  EXPECT_EQ(c.server().extension_version, "0.3.0");
  EXPECT_TRUE(c.server().has_version_v1);
  EXPECT_TRUE(c.supports("fetch_v2"));
  jobs = c.fetch({"old"}, "w", only_t2);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].task, "t2");
  EXPECT_TRUE(jobs[0].deferred_at.has_value());
}

TEST(Handshake, DatabaseWithoutBaton) {
  const std::string db = "baton_client_test_none";
  fresh_database(db);
  auto e = thrown<baton::VersionMismatch>([&] { Client c("dbname=" + db); });
  std::string m = e.what();
  EXPECT_NE(m.find("not installed"), std::string::npos) << m;
  EXPECT_NE(m.find(db), std::string::npos) << m;
  EXPECT_NE(m.find("CREATE EXTENSION baton"), std::string::npos) << m;
  EXPECT_EQ(e.sqlstate(), "3F000");
}

TEST(Handshake, SchemaNamedBatonWithoutTheExtension) {
  const std::string db = "baton_client_test_schema";
  fresh_database(db, "CREATE SCHEMA baton");
  auto e = thrown<baton::VersionMismatch>([&] { Client c("dbname=" + db); });
  EXPECT_NE(std::string(e.what()).find("not installed"), std::string::npos) << e.what();
}

TEST(Handshake, ServerLackingARequiredProcedure) {
  // A database whose baton lacks finish_many_v1 (here: dropped by hand) is refused at once,
  // naming the procedure, rather than failing on the first bulk finish.
  const std::string db = "baton_client_test_lacking";
  fresh_database(db,
                 "CREATE EXTENSION baton; ALTER EXTENSION baton DROP FUNCTION "
                 "baton.finish_many_v1(bigint[], uuid[], text[], jsonb[], text[], boolean[]); "
                 "DROP FUNCTION baton.finish_many_v1(bigint[], uuid[], text[], jsonb[], text[], "
                 "boolean[])");
  auto e = thrown<baton::VersionMismatch>([&] { Client c("dbname=" + db); });
  EXPECT_NE(std::string(e.what()).find("finish_many_v1"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("lacks"), std::string::npos) << e.what();
}

TEST(Handshake, UnreachableServerIsConnectionError) {
  // A port nobody listens on (on the same socket directory or host as the test server).
  const char* host = getenv("PGHOST");
  std::string conninfo = std::string("port=1 connect_timeout=3") +
                         (host != nullptr ? std::string(" host=") + host : "");
  auto e = thrown<baton::ConnectionError>([&] { Client c(conninfo); });
  EXPECT_EQ(e.sqlstate(), "");
  EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
}

TEST(Handshake, UnknownDatabaseIsConnectionError) {
  auto e = thrown<baton::ConnectionError>([&] { Client c("dbname=baton_client_no_such_db"); });
  EXPECT_NE(std::string(e.what()).find("baton_client_no_such_db"), std::string::npos) << e.what();
}
