// Each exception type for the SQLSTATE the server reports.
#include <gtest/gtest.h>

#include "support.h"

using namespace test_support;
using namespace std::chrono_literals;
using baton::Client;
using baton::FinishStatus;
using baton::Json;

namespace {

class Errors : public ::testing::Test {
 protected:
  void SetUp() override {
    queue = unique("e");
    c.create_queue(queue);
  }
  baton::Job claim(const std::string& task = "t") {
    c.defer(queue, task);
    std::vector<baton::Job> jobs = c.fetch({queue}, "w");
    if (jobs.size() != 1) throw std::runtime_error("no job claimed");
    return jobs[0];
  }
  Client c;
  std::string queue;
};

}  // namespace

TEST_F(Errors, WrongLeaseTokenIsLeaseLost) {
  baton::Job j = claim();
  const std::string other = "11111111-2222-3333-4444-555555555555";
  auto e = thrown<baton::LeaseLost>([&] { c.finish(j.id, other, FinishStatus::succeeded); });
  EXPECT_EQ(e.sqlstate(), "QB001");
  thrown<baton::LeaseLost>([&] { c.heartbeat(j.id, other); });
  // Nothing changed: the real holder still finishes.
  EXPECT_EQ(c.finish(j.id, j.lease_token, FinishStatus::succeeded), "succeeded");
}

TEST_F(Errors, FinishingTwiceIsLeaseLost) {
  baton::Job j = claim();
  c.finish(j.id, j.lease_token, FinishStatus::succeeded);
  auto e = thrown<baton::LeaseLost>([&] { c.finish(j.id, j.lease_token, FinishStatus::failed); });
  EXPECT_EQ(e.sqlstate(), "QB001");
  EXPECT_NE(std::string(e.what()).find("not running"), std::string::npos) << e.what();
  thrown<baton::LeaseLost>([&] { c.heartbeat(j.id, j.lease_token); });
}

TEST_F(Errors, UnknownJobIsNotFound) {
  const baton::JobId nosuch = 9000000000000000000;
  auto e = thrown<baton::NotFound>(
      [&] { c.finish(nosuch, "11111111-2222-3333-4444-555555555555", FinishStatus::succeeded); });
  EXPECT_EQ(e.sqlstate(), "P0002");
  EXPECT_EQ(thrown<baton::NotFound>([&] { c.job_history(nosuch); }).sqlstate(), "P0002");
  thrown<baton::NotFound>([&] { c.cancel(nosuch); });
  thrown<baton::NotFound>([&] { c.request_abort(nosuch); });
  thrown<baton::NotFound>([&] { c.retry(nosuch); });
}

TEST_F(Errors, UnknownQueueIsNotFound) {
  auto e = thrown<baton::NotFound>([&] { c.defer(unique("nosuch"), "t"); });
  EXPECT_EQ(e.sqlstate(), "42704");
  thrown<baton::NotFound>([&] { c.defer_many(unique("nosuch"), "t", {Json::object()}); });
}

TEST_F(Errors, BadArgumentsAreInvalidArgument) {
  baton::DeferOptions o;
  o.priority = 10001;
  auto e = thrown<baton::InvalidArgument>([&] { c.defer(queue, "t", Json::object(), o); });
  EXPECT_EQ(e.sqlstate(), "22023");
  EXPECT_NE(std::string(e.what()).find("priority"), std::string::npos) << e.what();
  // Args that are not an object.
  EXPECT_EQ(thrown<baton::InvalidArgument>([&] { c.defer(queue, "t", Json::array()); }).sqlstate(),
            "22023");
  // A malformed lease token.
  EXPECT_EQ(thrown<baton::InvalidArgument>([&] {
              c.finish(1, "not-a-uuid", FinishStatus::succeeded);
            }).sqlstate(),
            "22P02");
  // Args over 1 MiB.
  Json big = {{"blob", std::string(1100000, 'x')}};
  EXPECT_EQ(thrown<baton::InvalidArgument>([&] { c.defer(queue, "t", big); }).sqlstate(), "54000");
  // An invalid queue name carries the server's hint.
  auto n = thrown<baton::InvalidArgument>([&] { c.create_queue("bad name'; --"); });
  EXPECT_EQ(n.sqlstate(), "22023");
  EXPECT_NE(n.hint().find("48 characters"), std::string::npos) << n.hint();
  // Nothing was written by any of them.
  EXPECT_TRUE(c.list_jobs({queue, std::nullopt, 10}).empty());
}

TEST_F(Errors, DuplicateQueueingLockIsConflict) {
  baton::DeferOptions o;
  o.queueing_lock = unique("key");
  c.defer(queue, "t", Json::object(), o);
  auto e = thrown<baton::Conflict>([&] { c.defer(queue, "t", Json::object(), o); });
  EXPECT_EQ(e.sqlstate(), "23505");
  EXPECT_NE(std::string(e.what()).find(*o.queueing_lock), std::string::npos) << e.what();
}

TEST_F(Errors, CancellingARunningJobIsConflict) {
  baton::Job j = claim();
  auto e = thrown<baton::Conflict>([&] { c.cancel(j.id); });
  EXPECT_EQ(e.sqlstate(), "55000");
  EXPECT_FALSE(e.hint().empty());  // points to request_abort_v1
}

TEST_F(Errors, RoleWithoutRightsIsPermissionDenied) {
  const std::string nobody = "baton_client_test_nobody";
  const std::string producer = "baton_client_test_producer";
  c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + nobody +
            "') THEN CREATE ROLE " + nobody +
            " NOLOGIN; END IF; IF NOT EXISTS (SELECT FROM "
            "pg_roles WHERE rolname = '" +
            producer + "') THEN CREATE ROLE " + producer +
            " NOLOGIN IN ROLE baton_producer; END IF; END $$");
  c.execute("SET ROLE " + nobody);
  auto e = thrown<baton::PermissionDenied>([&] { c.defer(queue, "t"); });
  EXPECT_EQ(e.sqlstate(), "42501");
  thrown<baton::PermissionDenied>([&] { c.queue_stats(); });
  c.execute("RESET ROLE");

  // A producer may defer but not claim or manage queues.
  c.execute("SET ROLE " + producer);
  baton::JobId id = c.defer(queue, "t");
  EXPECT_GT(id, 0);
  thrown<baton::PermissionDenied>([&] { c.fetch({queue}, "w"); });
  thrown<baton::PermissionDenied>([&] { c.pause_queue(queue); });
  thrown<baton::PermissionDenied>([&] { c.cancel(id); });
  c.execute("RESET ROLE");
  c.cancel(id);
}

TEST_F(Errors, AllDeriveFromErrorAndCarryTheirFields) {
  try {
    c.defer(unique("nosuch"), "t");
    FAIL() << "no exception";
  } catch (const baton::Error& e) {
    EXPECT_EQ(e.sqlstate(), "42704");
    EXPECT_NE(dynamic_cast<const baton::NotFound*>(&e), nullptr);
    EXPECT_NE(dynamic_cast<const std::runtime_error*>(&e), nullptr);
  }
  // An error outside baton's mapping is a plain baton::Error with its SQLSTATE.
  try {
    c.query("SELECT 1/0");
    FAIL() << "no exception";
  } catch (const baton::InvalidArgument& e) {
    EXPECT_EQ(e.sqlstate(), "22012");  // class 22: data exception
  }
  try {
    c.query("SELEKT 1");
    FAIL() << "no exception";
  } catch (const baton::Error& e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_EQ(typeid(e), typeid(baton::Error));
  }
}
