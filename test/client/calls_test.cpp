// Every typed call, round trip against the live server.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "support.h"

using namespace test_support;
using namespace std::chrono_literals;
using baton::Client;
using baton::FinishStatus;
using baton::Json;

namespace {

class Calls : public ::testing::Test {
 protected:
  void SetUp() override {
    queue = unique("q");
    ASSERT_TRUE(c.create_queue(queue));
  }
  baton::Job fetch_one(const baton::FetchOptions& o = {}) {
    std::vector<baton::Job> jobs = c.fetch({queue}, "w1", o);
    if (jobs.size() != 1)
      throw std::runtime_error("expected one job, got " + std::to_string(jobs.size()));
    return jobs[0];
  }
  std::string status_of(baton::JobId id) {
    for (const baton::JobInfo& j : c.list_jobs({queue, std::nullopt, 1000}))
      if (j.id == id) return j.status;
    return "(absent)";
  }
  std::vector<std::string> kinds(baton::JobId id) {
    std::vector<std::string> out;
    for (const baton::JobEvent& e : c.job_history(id)) out.push_back(e.kind);
    return out;
  }
  Client c;
  std::string queue;
};

}  // namespace

TEST_F(Calls, CreateQueueThenUpdateThenDrop) {
  EXPECT_FALSE(c.create_queue(queue, {false, false}));  // exists: settings updated
  Json row = c.query("SELECT notify, keep_succeeded FROM baton.queues WHERE name = $1", {queue});
  EXPECT_EQ(row[0]["notify"], "f");
  EXPECT_EQ(row[0]["keep_succeeded"], "f");
  c.defer(queue, "t");
  c.defer(queue, "t");
  auto e = thrown<baton::Conflict>([&] { c.drop_queue(queue); });
  EXPECT_EQ(e.sqlstate(), "55000");
  EXPECT_EQ(c.drop_queue(queue, true), 2);
  thrown<baton::NotFound>([&] { c.defer(queue, "t"); });
}

TEST_F(Calls, DeferFetchFinishRoundTrip) {
  Json args = {{"user", 42}, {"name", "it's \"quoted\" \\ {x}"}, {"list", {1, 2, 3}}};
  const std::string task = "send'); DROP TABLE baton.jobs; --";  // data, never SQL
  auto before = std::chrono::system_clock::now();
  baton::JobId id = c.defer(queue, task, args);
  baton::FetchOptions o;
  o.lease = 2min;
  baton::Job job = fetch_one(o);
  EXPECT_EQ(job.id, id);
  EXPECT_EQ(job.queue, queue);
  EXPECT_EQ(job.task, task);
  EXPECT_EQ(job.args, args);
  EXPECT_EQ(job.attempt, 1);
  EXPECT_EQ(job.max_attempts, 5);
  EXPECT_EQ(job.priority, 0);
  EXPECT_EQ(job.lease_token.size(), 36u);
  EXPECT_GT(job.lease_expires_at, before + 110s);
  EXPECT_LT(job.lease_expires_at, before + 130s);
  ASSERT_TRUE(job.deferred_at.has_value());
  EXPECT_GE(*job.deferred_at, before - 5s);
  EXPECT_FALSE(job.lock.has_value());
  EXPECT_FALSE(job.last_error.has_value());
  EXPECT_TRUE(c.fetch({queue}, "w1").empty());

  baton::FinishOptions f;
  f.result = Json{{"sent", true}};
  EXPECT_EQ(c.finish(job.id, job.lease_token, FinishStatus::succeeded, f), "succeeded");
  std::vector<baton::JobInfo> jobs = c.list_jobs({queue, std::nullopt, 10});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status, "succeeded");
  EXPECT_EQ(jobs[0].result, (Json{{"sent", true}}));
  EXPECT_EQ(jobs[0].worker, std::optional<std::string>("w1"));
  EXPECT_TRUE(jobs[0].finished_at.has_value());
  EXPECT_FALSE(jobs[0].run_at.has_value());  // finished jobs have none
  EXPECT_EQ(kinds(id), (std::vector<std::string>{"deferred", "claimed", "succeeded"}));
}

TEST_F(Calls, DeferOptionsReachTheServer) {
  // run_at round-trips to the microsecond.
  auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(4102444800123456));
  baton::DeferOptions o;
  o.run_at = at;
  o.priority = 7;
  o.max_attempts = 3;
  baton::JobId later = c.defer(queue, "later", Json::object(), o);
  baton::DeferOptions d;
  d.delay = 1h;
  baton::JobId delayed = c.defer(queue, "delayed", Json::object(), d);
  std::vector<baton::JobInfo> jobs = c.list_jobs({queue, std::string("waiting"), 10, false});
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, later);
  EXPECT_EQ(jobs[0].run_at, std::optional<baton::TimePoint>(at));
  EXPECT_EQ(jobs[0].priority, 7);
  EXPECT_EQ(jobs[0].max_attempts, 3);
  EXPECT_EQ(jobs[1].id, delayed);
  ASSERT_TRUE(jobs[1].run_at.has_value());
  auto in = *jobs[1].run_at - std::chrono::system_clock::now();
  EXPECT_GT(in, 59min);
  EXPECT_LT(in, 61min);
  EXPECT_TRUE(c.fetch({queue}, "w").empty());  // neither is due
  auto stats = c.queue_stats();
  auto s = std::find_if(stats.begin(), stats.end(), [&](auto& x) { return x.queue == queue; });
  ASSERT_NE(s, stats.end());
  EXPECT_EQ(s->scheduled, 2);
  EXPECT_EQ(s->waiting, 0);
  EXPECT_FALSE(s->oldest_waiting_age.has_value());
}

TEST_F(Calls, PriorityOrdersClaims) {
  c.defer(queue, "low");
  baton::DeferOptions hi;
  hi.priority = 5;
  baton::JobId high = c.defer(queue, "high", Json::object(), hi);
  EXPECT_EQ(fetch_one().id, high);
}

TEST_F(Calls, FailureRetriesWithBackoffThenDies) {
  baton::DeferOptions o;
  o.max_attempts = 2;
  o.retry_backoff = baton::Backoff::constant;
  o.retry_delay = 0s;
  o.retry_delay_max = 0s;
  baton::JobId id = c.defer(queue, "flaky", Json::object(), o);
  baton::Job j1 = fetch_one();
  baton::FinishOptions fail;
  fail.error = "smtp timeout";
  EXPECT_EQ(c.finish(j1.id, j1.lease_token, FinishStatus::failed, fail), "waiting");
  baton::Job j2 = fetch_one();
  EXPECT_EQ(j2.id, id);
  EXPECT_EQ(j2.attempt, 2);
  EXPECT_EQ(j2.last_error, std::optional<std::string>("smtp timeout"));
  EXPECT_NE(j2.lease_token, j1.lease_token);
  EXPECT_EQ(c.finish(j2.id, j2.lease_token, FinishStatus::failed, fail), "dead");
  EXPECT_EQ(status_of(id), "dead");
}

TEST_F(Calls, NotRetryableFailureIsFinal) {
  baton::JobId id = c.defer(queue, "t");
  baton::Job j = fetch_one();
  baton::FinishOptions f;
  f.error = "bad input";
  f.retryable = false;
  EXPECT_EQ(c.finish(j.id, j.lease_token, FinishStatus::failed, f), "dead");
  // retry_v1 brings it back with fresh attempts.
  c.retry(id);
  EXPECT_EQ(status_of(id), "waiting");
  EXPECT_EQ(fetch_one().attempt, 1);
}

TEST_F(Calls, LockSerialisesAndQueueingLockDeduplicates) {
  baton::DeferOptions o;
  o.lock = unique("user");
  baton::JobId a = c.defer(queue, "a", Json::object(), o);
  baton::JobId b = c.defer(queue, "b", Json::object(), o);
  EXPECT_EQ(status_of(b), "blocked");
  baton::Job ja = fetch_one();
  EXPECT_EQ(ja.id, a);
  EXPECT_EQ(ja.lock, o.lock);
  EXPECT_TRUE(c.fetch({queue}, "w").empty());
  c.finish(ja.id, ja.lease_token, FinishStatus::succeeded);
  EXPECT_EQ(fetch_one().id, b);

  baton::DeferOptions q;
  q.queueing_lock = unique("digest");
  c.defer(queue, "d", Json::object(), q);
  auto e = thrown<baton::Conflict>([&] { c.defer(queue, "d", Json::object(), q); });
  EXPECT_EQ(e.sqlstate(), "23505");
}

TEST_F(Calls, DeferManyKeepsOrderAndPerJobLocks) {
  std::string lock = unique("l");
  baton::DeferManyOptions o;
  o.priority = 2;
  o.locks = std::vector<std::optional<std::string>>{lock, std::nullopt, lock};
  std::vector<baton::JobId> ids =
      c.defer_many(queue, "bulk", {Json{{"i", 0}}, Json{{"i", 1}}, Json{{"i", 2}}}, o);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);
  EXPECT_EQ(status_of(ids[0]), "waiting");
  EXPECT_EQ(status_of(ids[1]), "waiting");
  EXPECT_EQ(status_of(ids[2]), "blocked");
  baton::FetchOptions f;
  f.max_jobs = 10;
  std::vector<baton::Job> jobs = c.fetch({queue}, "w", f);
  ASSERT_EQ(jobs.size(), 2u);
  for (const baton::Job& j : jobs) {
    EXPECT_EQ(j.priority, 2);
    EXPECT_EQ(j.args["i"], j.id == ids[0] ? 0 : 1);
  }
  // Bulk queueing locks: one duplicate refuses the whole call, writing nothing.
  baton::DeferManyOptions q;
  std::string key = unique("k");
  q.queueing_locks = std::vector<std::optional<std::string>>{key, key};
  thrown<baton::Conflict>([&] { c.defer_many(queue, "dup", {Json::object(), Json::object()}, q); });
  EXPECT_EQ(c.list_jobs({queue, std::nullopt, 100}).size(), 3u);
}

TEST_F(Calls, FetchV2TaskFilter) {
  c.defer(queue, "other");
  baton::JobId mine = c.defer(queue, "mine");
  baton::FetchOptions o;
  o.tasks = {"mine", "also_mine"};
  o.max_jobs = 5;
  std::vector<baton::Job> jobs = c.fetch({queue}, "w", o);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, mine);
  // fetch_v1 pinned: no task filter, no v2 columns.
  thrown<baton::InvalidArgument>([&] { c.fetch_v1({queue}, "w", o); });
  std::vector<baton::Job> v1 = c.fetch_v1({queue}, "w");
  ASSERT_EQ(v1.size(), 1u);
  EXPECT_EQ(v1[0].task, "other");
  EXPECT_FALSE(v1[0].deferred_at.has_value());
}

TEST_F(Calls, FinishManyAppliesHeldJobsAndReportsLostOnes) {
  std::vector<baton::JobId> ids =
      c.defer_many(queue, "t", {Json::object(), Json::object(), Json::object()});
  baton::FetchOptions o;
  o.max_jobs = 3;
  std::vector<baton::Job> jobs = c.fetch({queue}, "w", o);
  ASSERT_EQ(jobs.size(), 3u);
  std::vector<baton::FinishItem> items(3);
  items[0] = {jobs[0].id, jobs[0].lease_token, FinishStatus::succeeded, Json{{"ok", 1}}, {}, {}};
  items[1] = {jobs[1].id, jobs[1].lease_token, FinishStatus::failed,
              {},         std::string("boom"), false};
  items[2] = {jobs[2].id, "00000000-0000-0000-0000-000000000000", FinishStatus::succeeded, {}, {},
              {}};
  std::vector<baton::FinishResult> out = c.finish_many(items);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].job_id, jobs[0].id);
  EXPECT_EQ(out[0].status, "succeeded");
  EXPECT_EQ(out[1].status, "dead");
  EXPECT_EQ(out[2].job_id, jobs[2].id);
  EXPECT_EQ(out[2].status, "lease_lost");
  EXPECT_EQ(status_of(jobs[2].id), "running");  // untouched
  auto all = c.list_jobs({queue, std::string("dead"), 10});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].error, std::optional<std::string>("boom"));
  // The plain all-succeeded form.
  out = c.finish_many({{jobs[2].id, jobs[2].lease_token, FinishStatus::succeeded, {}, {}, {}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, "succeeded");
}

TEST_F(Calls, HeartbeatExtendsAndReportsAbort) {
  c.defer(queue, "long");
  baton::FetchOptions o;
  o.lease = 10s;
  baton::Job j = fetch_one(o);
  baton::Heartbeat h = c.heartbeat(j.id, j.lease_token, 10min);
  EXPECT_GT(h.lease_expires_at, j.lease_expires_at + 9min);
  EXPECT_FALSE(h.abort_requested);
  c.request_abort(j.id);
  h = c.heartbeat(j.id, j.lease_token);
  EXPECT_TRUE(h.abort_requested);
  EXPECT_EQ(c.finish(j.id, j.lease_token, FinishStatus::cancelled), "cancelled");
  auto k = kinds(j.id);
  EXPECT_NE(std::find(k.begin(), k.end(), "abort_requested"), k.end());
}

TEST_F(Calls, CancelRetryAndHistory) {
  baton::JobId id = c.defer(queue, "t");
  c.cancel(id, std::string("not needed"));
  EXPECT_EQ(status_of(id), "cancelled");
  auto e = thrown<baton::Conflict>([&] { c.cancel(id); });  // already cancelled
  EXPECT_EQ(e.sqlstate(), "55000");
  c.retry(id, std::chrono::system_clock::now() + 1h);
  EXPECT_EQ(status_of(id), "waiting");
  EXPECT_TRUE(c.fetch({queue}, "w").empty());  // retried for later
  std::vector<baton::JobEvent> h = c.job_history(id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].kind, "deferred");
  EXPECT_EQ(h[1].kind, "cancelled");
  EXPECT_EQ(h[2].kind, "retried");
  EXPECT_LT(h[0].seq, h[1].seq);
  EXPECT_LE(h[0].at, h[1].at);
  EXPECT_LE(h[1].at, std::chrono::system_clock::now() + 5s);
}

TEST_F(Calls, ReapReturnsExpiredLeases) {
  baton::DeferOptions o;
  o.retry_delay = 0s;
  o.retry_backoff = baton::Backoff::constant;
  baton::JobId id = c.defer(queue, "t", Json::object(), o);
  baton::FetchOptions f;
  f.lease = 1s;
  baton::Job j = fetch_one(f);
  std::this_thread::sleep_for(1200ms);
  EXPECT_GE(c.reap(), 1);
  EXPECT_EQ(status_of(id), "waiting");
  thrown<baton::LeaseLost>([&] { c.heartbeat(j.id, j.lease_token); });
  baton::Job again = fetch_one();
  EXPECT_EQ(again.attempt, 2);
  auto k = kinds(id);
  EXPECT_NE(std::find(k.begin(), k.end(), "lease_expired"), k.end());
  EXPECT_EQ(c.reap(10), 0);
}

TEST_F(Calls, PurgeFinishedDeletesHistory) {
  baton::JobId id = c.defer(queue, "t");
  baton::Job j = fetch_one();
  c.finish(j.id, j.lease_token, FinishStatus::succeeded);
  EXPECT_EQ(c.purge_finished(1h), 0);  // too young
  std::int64_t removed = 0;
  for (std::int64_t n; (n = c.purge_finished(0s, 1000)) > 0;) removed += n;
  EXPECT_GE(removed, 1);
  thrown<baton::NotFound>([&] { c.job_history(id); });
  thrown<baton::InvalidArgument>([&] { c.purge_finished(-1s); });
}

TEST_F(Calls, QueueStatsCountEveryState) {
  c.defer(queue, "w1");
  c.defer(queue, "w2");
  baton::DeferOptions later;
  later.delay = 1h;
  c.defer(queue, "s", Json::object(), later);
  baton::Job j = fetch_one();
  baton::JobId cancelled = c.defer(queue, "x");
  c.cancel(cancelled);
  std::this_thread::sleep_for(20ms);
  auto stats = c.queue_stats();
  auto s = std::find_if(stats.begin(), stats.end(), [&](auto& x) { return x.queue == queue; });
  ASSERT_NE(s, stats.end());
  EXPECT_EQ(s->waiting, 1);
  EXPECT_EQ(s->scheduled, 1);
  EXPECT_EQ(s->running, 1);
  EXPECT_EQ(s->cancelled, 1);
  EXPECT_EQ(s->succeeded, 0);
  ASSERT_TRUE(s->oldest_waiting_age.has_value());
  EXPECT_GT(*s->oldest_waiting_age, 10ms);
  EXPECT_LT(*s->oldest_waiting_age, 1min);
  EXPECT_TRUE(std::is_sorted(stats.begin(), stats.end(),
                             [](auto& a, auto& b) { return a.queue < b.queue; }));
  c.finish(j.id, j.lease_token, FinishStatus::succeeded);
}

TEST_F(Calls, PauseAndResume) {
  c.defer(queue, "t");
  EXPECT_TRUE(c.pause_queue(queue));
  EXPECT_FALSE(c.pause_queue(queue));
  EXPECT_TRUE(c.fetch({queue}, "w").empty());
  EXPECT_TRUE(c.fetch_v1({queue}, "w").empty());
  EXPECT_TRUE(c.resume_queue(queue));
  EXPECT_FALSE(c.resume_queue(queue));
  EXPECT_EQ(c.fetch({queue}, "w").size(), 1u);
  thrown<baton::NotFound>([&] { c.pause_queue(unique("nosuch")); });
}

TEST_F(Calls, ListJobsFiltersAndLimits) {
  std::vector<baton::JobId> ids = c.defer_many(queue, "t", std::vector<Json>(5, Json::object()));
  baton::Job j = fetch_one();
  EXPECT_EQ(j.id, ids[0]);
  auto newest = c.list_jobs({queue, std::nullopt, 2});
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].id, ids[4]);
  EXPECT_EQ(newest[1].id, ids[3]);
  auto oldest = c.list_jobs({queue, std::nullopt, 2, false});
  EXPECT_EQ(oldest[0].id, ids[0]);
  auto running = c.list_jobs({queue, std::string("running"), 100});
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].id, j.id);
  EXPECT_EQ(running[0].worker, std::optional<std::string>("w1"));
  EXPECT_EQ(running[0].lease_expires_at, std::optional<baton::TimePoint>(j.lease_expires_at));
  EXPECT_EQ(c.list_jobs({queue, std::string("waiting"), 100}).size(), 4u);
  // Without a queue filter, other tests' jobs show too.
  EXPECT_GE(c.list_jobs({std::nullopt, std::nullopt, 1000}).size(), 5u);
  thrown<baton::InvalidArgument>([&] { c.list_jobs({queue, std::nullopt, -1}); });
}

TEST_F(Calls, AwaitWorkValidatesItsWait) {
  c.await_work({queue});
  c.await_work({queue}, 5s);
  auto e = thrown<baton::InvalidArgument>([&] { c.await_work({queue}, std::chrono::hours(48)); });
  EXPECT_EQ(e.sqlstate(), "22023");
}

TEST_F(Calls, TransactionCommitsOrRollsBack) {
  {
    baton::Transaction t(c);
    c.defer(queue, "rolled_back");
  }
  EXPECT_TRUE(c.list_jobs({queue, std::nullopt, 10}).empty());
  {
    baton::Transaction t(c);
    c.defer(queue, "a");
    c.defer(queue, "b");
    t.commit();
  }
  EXPECT_EQ(c.list_jobs({queue, std::nullopt, 10}).size(), 2u);
  {
    baton::Transaction t(c);
    thrown<baton::NotFound>([&] { c.defer(unique("nosuch"), "x"); });
    thrown<baton::Error>([&] { t.commit(); });  // the failed transaction is not committed
  }
  EXPECT_EQ(c.list_jobs({queue, std::nullopt, 10}).size(), 2u);
}
