// Reconnects, prepared statements across them, and wake-ups by LISTEN/NOTIFY.
#include <gtest/gtest.h>

#include "support.h"

using namespace test_support;
using namespace std::chrono_literals;
using baton::Client;
using baton::FinishStatus;
using baton::Json;

namespace {

void terminate_backend(Client& admin, int pid) {
  Json r = admin.query("SELECT pg_terminate_backend($1::int) AS ok", {std::to_string(pid)});
  ASSERT_EQ(r[0]["ok"], "t");
  ASSERT_TRUE(eventually([&] {
    return admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", {std::to_string(pid)})
        .empty();
  }));
}

std::size_t prepared_count(Client& c) {
  return static_cast<std::size_t>(std::stoi(
      c.query("SELECT count(*) AS n FROM pg_prepared_statements")[0]["n"].get<std::string>()));
}

}  // namespace

TEST(Connection, HotCallsArePreparedOncePerShape) {
  Client c;
  std::string q = unique("p");
  c.create_queue(q);
  EXPECT_EQ(prepared_count(c), 0u);
  c.defer(q, "t");
  c.defer(q, "t", {{"x", 1}});
  EXPECT_EQ(prepared_count(c), 1u);  // same shape: one statement
  baton::DeferOptions o;
  o.priority = 1;
  c.defer(q, "t", Json::object(), o);
  c.defer(q, "t", Json::object(), o);
  EXPECT_EQ(prepared_count(c), 2u);  // with priority: a second shape
  baton::FetchOptions f;
  f.max_jobs = 10;
  auto jobs = c.fetch({q}, "w", f);
  ASSERT_EQ(jobs.size(), 4u);
  c.finish(jobs[0].id, jobs[0].lease_token, FinishStatus::succeeded);
  c.finish(jobs[1].id, jobs[1].lease_token, FinishStatus::succeeded);
  c.heartbeat(jobs[2].id, jobs[2].lease_token);
  c.finish_many({{jobs[2].id, jobs[2].lease_token, FinishStatus::succeeded, {}, {}, {}}});
  c.finish_many({{jobs[3].id, jobs[3].lease_token, FinishStatus::succeeded, {}, {}, {}}});
  EXPECT_EQ(prepared_count(c), 6u);  // + fetch, finish, heartbeat, finish_many
  // Statements deallocated behind the client's back are prepared again.
  c.execute("DEALLOCATE ALL");
  c.defer(q, "t");
  EXPECT_EQ(prepared_count(c), 1u);
}

TEST(Connection, TerminatedBackendThenReconnect) {
  Client c, admin;
  std::string q = unique("r");
  c.create_queue(q);
  c.defer(q, "before");  // prepared on the first connection
  int pid = c.backend_pid();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(c.connected());
  EXPECT_GE(c.socket(), 0);
  terminate_backend(admin, pid);

  auto e = thrown<baton::ConnectionError>([&] { c.defer(q, "lost"); });
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(c.socket(), -1);
  // Until reconnect() every call says so, quickly and with the same type.
  thrown<baton::ConnectionError>([&] { c.fetch({q}, "w"); });
  thrown<baton::ConnectionError>([&] { c.queue_stats(); });

  c.reconnect();
  EXPECT_TRUE(c.connected());
  EXPECT_NE(c.backend_pid(), pid);
  EXPECT_EQ(c.server().extension_version, "0.3.0");  // handshake ran again
  c.defer(q, "after");  // the prepared statement is made again on the new connection
  baton::FetchOptions f;
  f.max_jobs = 10;
  auto jobs = c.fetch({q}, "w", f);
  ASSERT_EQ(jobs.size(), 2u);  // "lost" was never written
  EXPECT_EQ(jobs[0].task, "before");
  EXPECT_EQ(jobs[1].task, "after");
  for (auto& j : jobs) c.finish(j.id, j.lease_token, FinishStatus::succeeded);
}

TEST(Connection, ConnectionLostInsideATransaction) {
  Client c, admin;
  std::string q = unique("t");
  c.create_queue(q);
  {
    baton::Transaction t(c);
    c.defer(q, "x");
    terminate_backend(admin, c.backend_pid());
    thrown<baton::ConnectionError>([&] { c.defer(q, "y"); });
    thrown<baton::ConnectionError>([&] { t.commit(); });
  }  // the destructor does not throw on a dead connection
  c.reconnect();
  EXPECT_TRUE(c.list_jobs({q, std::nullopt, 10}).empty());
}

TEST(Connection, NotifyWakesAListeningWorker) {
  Client worker, producer;
  std::string q = unique("n");
  producer.create_queue(q);
  worker.listen_queue(q);
  worker.await_work({q}, 30s);
  EXPECT_FALSE(worker.next_notification().has_value());

  auto start = std::chrono::steady_clock::now();
  std::thread defer([&] {
    std::this_thread::sleep_for(200ms);
    producer.defer(q, "wake");
  });
  std::optional<baton::Notification> n = worker.wait_for_notification(20s);
  auto waited = std::chrono::steady_clock::now() - start;
  defer.join();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->channel, Client::channel_for(q));
  EXPECT_EQ(n->channel, "baton_" + q);
  EXPECT_NE(n->backend_pid, worker.backend_pid());
  EXPECT_LT(waited, 5s);  // well before the timeout
  EXPECT_EQ(worker.fetch({q}, "w").size(), 1u);
}

TEST(Connection, NoDeferMeansTimeout) {
  Client worker;
  std::string q = unique("n");
  worker.create_queue(q);
  worker.listen_queue(q);
  worker.await_work({q}, 30s);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(worker.wait_for_notification(400ms).has_value());
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 400ms);
  EXPECT_LT(waited, 3s);
}

TEST(Connection, ListenIsRestoredAfterReconnect) {
  Client worker, producer;
  std::string q = unique("n");
  producer.create_queue(q);
  worker.listen_queue(q);
  worker.set_notice_handler({});  // the FATAL of the terminated backend is expected
  terminate_backend(producer, worker.backend_pid());
  thrown<baton::ConnectionError>([&] { worker.wait_for_notification(2s); });
  worker.reconnect();
  worker.await_work({q}, 30s);
  producer.defer(q, "wake");
  auto n = worker.wait_for_notification(10s);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->channel, "baton_" + q);
  // After UNLISTEN nothing arrives.
  worker.unlisten(Client::channel_for(q));
  worker.await_work({q}, 30s);
  producer.defer(q, "again");
  EXPECT_FALSE(worker.wait_for_notification(300ms).has_value());
}

TEST(Connection, NoticesGoToTheHandler) {
  Client c;
  std::vector<std::string> seen;
  c.set_notice_handler([&](const std::string& line) { seen.push_back(line); });
  c.execute("DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_NE(seen[0].find("hello from the server"), std::string::npos) << seen[0];
  EXPECT_NE(seen[0].back(), '\n');
  c.reconnect();  // kept across reconnects
  c.execute("DO $$ BEGIN RAISE WARNING 'second'; END $$");
  EXPECT_EQ(seen.size(), 2u);
  c.set_notice_handler({});  // discard
  c.execute("DO $$ BEGIN RAISE NOTICE 'third'; END $$");
  EXPECT_EQ(seen.size(), 2u);
}
