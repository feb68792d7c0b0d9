// Workflows (workflow.h) against the live server: registration, starting, memoised steps
// and replays, fencing, snapshots (random histories, frozen payload fixtures), saga
// compensation with a real baton::Worker, cancellation, continue-as-new.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "baton/workflow.h"
#include "support.h"

using namespace test_support;
using namespace std::chrono_literals;
using baton::Client;
using baton::Compensation;
using baton::Json;
using baton::RunId;
using baton::Workflow;
using baton::WorkflowContext;

namespace {

std::string fixture_path(const std::string& name) {
  std::string file = __FILE__;  // ../test/client/workflow_test.cpp, relative to client/
  return file.substr(0, file.find_last_of('/') + 1) + "fixtures/" + name;
}

Json read_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name));
  if (!in) throw std::runtime_error("cannot read fixture " + fixture_path(name));
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

std::vector<std::string> kinds_of(const std::vector<baton::WorkflowEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

// The user fold of the tests: counts and sums user events, keeps the last kind (so that
// the order matters).
Json test_fold(Json state, const baton::WorkflowEvent& e) {
  if (state.is_null()) state = {{"n", 0}, {"sum", 0}, {"last", nullptr}};
  state["n"] = state["n"].get<int>() + 1;
  state["sum"] = state["sum"].get<std::int64_t>() + e.payload.value("v", std::int64_t{0});
  state["last"] = e.kind;
  return state;
}

// A baton::Worker running on a thread of its own until the object is destroyed.
class WorkerThread {
 public:
  WorkerThread(const std::string& queue, const std::function<void(baton::Worker&)>& setup,
               int slots = 4) {
    baton::WorkerConfig cfg;
    cfg.queues = {queue};
    cfg.slots = slots;
    cfg.poll_interval = 200ms;
    cfg.log_sink = [](baton::LogLevel, std::string_view) {};
    worker_ = std::make_unique<baton::Worker>(cfg);
    setup(*worker_);
    thread_ = std::thread([this] { worker_->run(); });
  }
  ~WorkerThread() {
    worker_->stop();
    thread_.join();
  }

 private:
  std::unique_ptr<baton::Worker> worker_;
  std::thread thread_;
};

// Records the order in which compensation handlers ran, and how many ran at once.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> done;
  int running = 0;
  int max_running = 0;
  void begin() {
    std::lock_guard<std::mutex> l(mu);
    max_running = std::max(max_running, ++running);
    cv.notify_all();
  }
  void end(const std::string& what) {
    std::lock_guard<std::mutex> l(mu);
    --running;
    done.push_back(what);
  }
  std::vector<std::string> order() {
    std::lock_guard<std::mutex> l(mu);
    return done;
  }
};

class WorkflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    queue = unique("wfq");
    ASSERT_TRUE(c.create_queue(queue));
    c.set_notice_handler([](const std::string&) {});
  }
  // A registered workflow (unique name) with the given body.
  Workflow make(std::function<Json(WorkflowContext&)> body, int version = 1) {
    Workflow wf(unique("wf"), version);
    wf.body = std::move(body);
    return wf;
  }
  RunId start(const Workflow& wf, const Json& input = Json::object(),
              baton::StartRunOptions o = {}) {
    o.queue = queue;
    return baton::start_run(c, wf.name, input, o).run_id;
  }
  // Claims the next job of the queue (the driver job of a run just started).
  baton::Job fetch_job(baton::Duration lease = std::chrono::minutes(5)) {
    baton::FetchOptions o;
    o.max_jobs = 1;
    o.lease = lease;
    std::vector<baton::Job> jobs;
    eventually([&] { return !(jobs = c.fetch({queue}, "test", o)).empty(); }, 5s);
    if (jobs.size() != 1) throw std::runtime_error("no job in " + queue);
    return jobs[0];
  }
  std::string status(RunId id) { return baton::run_info(c, id).status; }
  bool reaches(RunId id, const std::string& s, std::chrono::milliseconds limit = 20s) {
    return eventually([&] { return status(id) == s; }, limit);
  }
  static baton::WorkflowVersions versions(const Workflow& wf) {
    baton::WorkflowVersions v;
    v.add(wf);
    return v;
  }

  Client c;
  std::string queue;
};

}  // namespace

// ---- pure: folding and snapshot payloads ---------------------------------------------------

TEST(WorkflowState, FrozenFixtureFormat1Decodes) {
  Json f = read_fixture("snapshot_format_1.json");
  ASSERT_EQ(f["format_version"], 1);
  EXPECT_EQ(baton::decode_snapshot(f["format_version"].get<int>(), f["payload"]), f["expected"]);
}

TEST(WorkflowState, FrozenFixtureWithoutVersionReadsAsFormat1) {
  Json f = read_fixture("snapshot_format_1_unversioned.json");
  ASSERT_FALSE(f.contains("format_version"));
  EXPECT_EQ(baton::decode_snapshot(std::nullopt, f["payload"]), f["expected"]);
}

TEST(WorkflowState, UnknownFormatVersionIsRefusedWithTypedError) {
  Json payload = read_fixture("snapshot_format_1.json")["payload"];
  auto e = thrown<baton::SnapshotFormatError>([&] { baton::decode_snapshot(99, payload); });
  EXPECT_NE(std::string(e.what()).find("format 99"), std::string::npos) << e.what();
  EXPECT_THROW(baton::decode_snapshot(0, payload), baton::SnapshotFormatError);
  // Not of format 1's shape.
  EXPECT_THROW(baton::decode_snapshot(1, Json::array()), baton::SnapshotFormatError);
  EXPECT_THROW(baton::decode_snapshot(1, Json{{"steps", 3}}), baton::SnapshotFormatError);
  EXPECT_THROW(baton::decode_snapshot(1, Json{{"steps", {{{"result", 1}}}}}),
               baton::SnapshotFormatError);
  // A snapshot of an unknown format makes the whole fold fail, not silently restart.
  baton::WorkflowSnapshot s{3, 99, 1, payload};
  EXPECT_THROW(baton::fold_history(s, {}, test_fold), baton::SnapshotFormatError);
}

TEST(WorkflowState, FoldsStepsUserEventsAndIgnoresBatonKinds) {
  std::vector<baton::WorkflowEvent> h = {
      {1, {}, "started", {{"input", 1}}},
      {2, {}, "step", {{"step", 1}, {"name", "a"}, {"result", 10}, {"compensation", "none"}}},
      {3, {}, "note", {{"v", 5}}},
      {4, {}, "cancel_requested", Json::object()},
      {5, {}, "step", {{"step", 2}, {"name", "b"}, {"result", nullptr}}},
      {6, {}, "ping", {{"v", 2}}},
  };
  Json s = baton::fold_history(std::nullopt, h, test_fold);
  EXPECT_EQ(s["steps"], Json::parse(R"([{"name":"a","result":10},{"name":"b","result":null}])"));
  EXPECT_EQ(s["events"], 2);
  EXPECT_EQ(s["user"], Json::parse(R"({"n":2,"sum":7,"last":"ping"})"));
  // From a snapshot through seq 3: events up to 3 are skipped even if given.
  baton::WorkflowSnapshot snap{3, std::nullopt, 1,
                               baton::fold_history(std::nullopt, {h[0], h[1], h[2]}, test_fold)};
  EXPECT_EQ(baton::fold_history(snap, h, test_fold), s);
  // Without a user fold the user events are only counted.
  EXPECT_TRUE(baton::fold_history(std::nullopt, h, {})["user"].is_null());
  // A step out of order is a broken history.
  std::vector<baton::WorkflowEvent> bad = {{1, {}, "step", {{"step", 2}, {"name", "x"}}}};
  EXPECT_THROW(baton::fold_history(std::nullopt, bad, {}), baton::Error);
}

// ---- definitions and starting --------------------------------------------------------------

TEST_F(WorkflowTest, RegisterReturnsHashAndRefusesAnotherDefinitionOfTheVersion) {
  Workflow wf = make([](WorkflowContext&) { return Json(); });
  wf.declare_step("a", Compensation{"undo_a"}).declare_step("b", Compensation::none());
  baton::RegisterResult r = baton::register_workflow(c, wf);
  EXPECT_TRUE(r.created);
  EXPECT_TRUE(r.warnings.empty());
  Json md5 = c.query("SELECT md5($1::jsonb::text) AS h", {wf.definition.dump()});
  EXPECT_EQ(r.definition_hash, md5[0]["h"].get<std::string>());
  EXPECT_EQ(wf.definition, Json::parse(R"({"steps":[{"name":"a","compensation":"undo_a"},
                                                    {"name":"b","compensation":"none"}]})"));

  baton::RegisterResult again = baton::register_workflow(c, wf);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.definition_hash, r.definition_hash);

  Workflow changed = wf;
  changed.declare_step("c", Compensation::none());
  auto e = thrown<baton::DefinitionConflict>([&] { baton::register_workflow(c, changed); });
  EXPECT_EQ(e.sqlstate(), "QB003");
  EXPECT_NE(e.hint().find("version 2"), std::string::npos) << e.hint();
  EXPECT_THROW(baton::register_workflow(c, changed), baton::Conflict);  // a kind of Conflict
  changed.version = 2;
  EXPECT_TRUE(baton::register_workflow(c, changed).created);

  Workflow bad = make([](WorkflowContext&) { return Json(); });
  bad.name = "no spaces allowed";
  EXPECT_THROW(baton::register_workflow(c, bad), baton::InvalidArgument);
}

TEST_F(WorkflowTest, RegisterSurfacesTheWarningForUndeclaredCompensation) {
  std::vector<std::string> notices;
  c.set_notice_handler([&](const std::string& n) { notices.push_back(n); });
  Workflow wf = make([](WorkflowContext&) { return Json(); });
  wf.declare_step("reserve", Compensation{"release"}).declare_step("mail");
  baton::RegisterResult r = baton::register_workflow(c, wf);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("mail"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(r.warnings[0].find("reserve"), std::string::npos) << r.warnings[0];
  // The Client's notice handler still sees it.
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("WARNING"), std::string::npos);
  // Each call collects its own WARNINGs (the server warns again on a re-registration).
  baton::RegisterResult again = baton::register_workflow(c, wf);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.warnings.size(), 1u);
  // A saga whose steps all declare their compensation (or none) is not warned about.
  Workflow ok = make([](WorkflowContext&) { return Json(); });
  ok.declare_step("reserve", Compensation{"release"}).declare_step("mail", Compensation::none());
  EXPECT_TRUE(baton::register_workflow(c, ok).warnings.empty());
}

TEST_F(WorkflowTest, StartWithIdempotencyKeyAndCorrelationId) {
  Workflow wf = make([](WorkflowContext&) { return Json(); });
  baton::register_workflow(c, wf);
  baton::StartRunOptions o;
  o.queue = queue;
  o.idempotency_key = "order-17";
  o.correlation_id = "corr-17";
  baton::StartedRun a = baton::start_run(c, wf.name, {{"order", 17}}, o);
  baton::StartedRun b = baton::start_run(c, wf.name, {{"order", 99}}, o);
  EXPECT_TRUE(a.created);
  EXPECT_FALSE(b.created);
  EXPECT_EQ(a.run_id, b.run_id);
  baton::RunInfo info = baton::run_info(c, a.run_id);
  EXPECT_EQ(info.status, "running");
  EXPECT_EQ(info.correlation_id, "corr-17");
  EXPECT_EQ(info.idempotency_key, "order-17");
  EXPECT_EQ(info.input, Json({{"order", 17}}));
  EXPECT_EQ(info.queue, queue);
  EXPECT_EQ(info.version, 1);
  EXPECT_EQ(kinds_of(baton::run_history(c, a.run_id)), std::vector<std::string>{"started"});
  // The driver job: task wf:<name>, args {"run_id": N}.
  baton::Job job = fetch_job();
  EXPECT_EQ(job.task, "wf:" + wf.name);
  EXPECT_EQ(job.args, Json({{"run_id", a.run_id}}));

  RunId plain = start(wf);
  EXPECT_NE(plain, a.run_id);
  EXPECT_EQ(baton::run_info(c, plain).correlation_id, "run:" + std::to_string(plain));
  EXPECT_THROW(baton::start_run(c, unique("nowf")), baton::NotFound);
  EXPECT_THROW(baton::run_info(c, -1), baton::NotFound);
  EXPECT_THROW(baton::run_history(c, -1), baton::NotFound);
}

// ---- steps, replays, fencing ---------------------------------------------------------------

TEST_F(WorkflowTest, StepsRunOnceAndReplayMemoised) {
  std::map<std::string, int> calls;
  bool crash = true;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    Json a = ctx.step("a", [&] {
      ++calls["a"];
      return Json{{"x", 1}};
    });
    Json b = ctx.step("b", [&] {
      ++calls["b"];
      return a["x"].get<int>() + 1;
    });
    if (crash) {
      crash = false;
      throw std::runtime_error("simulated crash after step 2");
    }
    Json d = ctx.step("d", [&] {
      ++calls["d"];
      return Json();
    });
    EXPECT_TRUE(d.is_null());
    return {{"b", b}};
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf, {{"n", 1}});
  baton::Job job = fetch_job();
  baton::WorkflowVersions v = versions(wf);
  // Attempt 1 of 10: the exception is rethrown (the job would be retried).
  EXPECT_THROW(baton::run_driver_job(c, job, v), std::runtime_error);
  EXPECT_EQ(status(id), "running");
  EXPECT_EQ(baton::run_info(c, id).steps, 2);
  // The replay (same job, same lease): steps 1 and 2 come from the history.
  Json out = baton::run_driver_job(c, job, v);
  EXPECT_EQ(out["outcome"], "completed");
  EXPECT_EQ(calls, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"d", 1}}));
  baton::RunInfo info = baton::run_info(c, id);
  EXPECT_EQ(info.status, "completed");
  EXPECT_EQ(info.output, Json({{"b", 2}}));
  EXPECT_EQ(info.steps, 3);
  EXPECT_EQ(info.fence, 2);  // claimed twice
  EXPECT_EQ(kinds_of(baton::run_history(c, id)),
            (std::vector<std::string>{"started", "step", "step", "step", "completed"}));
  // A driver job of the ended run has nothing to do.
  Json again = baton::run_driver_job(c, job, v);
  EXPECT_EQ(again["outcome"], "not_running");
  EXPECT_EQ(again["status"], "completed");
}

TEST_F(WorkflowTest, WorkerRetryResumesWithoutRerunningSteps) {
  std::mutex mu;
  std::map<std::string, int> calls;
  std::vector<int> attempts;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    {
      std::lock_guard<std::mutex> l(mu);
      attempts.push_back(ctx.job().attempt);
    }
    auto counted = [&](const std::string& n) {
      return [&, n] {
        std::lock_guard<std::mutex> l(mu);
        return Json(++calls[n]);
      };
    };
    ctx.step("one", counted("one"));
    ctx.step("two", counted("two"));
    if (ctx.job().attempt == 1) throw std::runtime_error("crash on attempt 1");
    ctx.step("three", counted("three"));
    return {{"ok", true}};
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  {
    WorkerThread w(queue, [&](baton::Worker& wk) { wk.workflow(wf); });
    ASSERT_TRUE(reaches(id, "completed"));
  }
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(calls, (std::map<std::string, int>{{"one", 1}, {"two", 1}, {"three", 1}}));
  EXPECT_EQ(attempts, (std::vector<int>{1, 2}));
  std::vector<baton::WorkflowEvent> h = baton::run_history(c, id);
  EXPECT_EQ(kinds_of(h),
            (std::vector<std::string>{"started", "step", "step", "step", "completed"}));
}

TEST_F(WorkflowTest, LeaseExpiryResumesOnANewLeaseAndFencesTheOldOne) {
  std::map<std::string, int> calls;
  bool crash = true;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    ctx.step("a", [&] { return ++calls["a"]; });
    if (crash) {
      crash = false;
      throw std::runtime_error("the worker dies (its lease will expire)");
    }
    ctx.step("b", [&] { return ++calls["b"]; });
    return Json();
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  baton::WorkflowVersions v = versions(wf);
  baton::Job first = fetch_job(1s);
  EXPECT_THROW(baton::run_driver_job(c, first, v), std::runtime_error);
  const std::int64_t old_fence = baton::run_info(c, id).fence;
  std::this_thread::sleep_for(1200ms);
  // The dead worker's fence: its lease is gone.
  EXPECT_THROW(c.query("SELECT baton.record_step_v1(run_id => $1, fence => $2, step => 2, "
                       "name => 'b')",
                       {std::to_string(id), std::to_string(old_fence)}),
               baton::LeaseLost);
  EXPECT_GE(c.reap(), 1);
  baton::Job second = fetch_job();
  EXPECT_EQ(second.id, first.id);
  EXPECT_NE(second.lease_token, first.lease_token);
  EXPECT_EQ(baton::run_driver_job(c, second, v)["outcome"], "completed");
  EXPECT_EQ(calls, (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
  EXPECT_GT(baton::run_info(c, id).fence, old_fence);
}

TEST_F(WorkflowTest, AnOldFenceIsRefusedAfterAReclaim) {
  Workflow wf = make([](WorkflowContext&) { return Json(); });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  baton::Job job = fetch_job();
  auto claim = [&] {
    return std::stoll(
        c.query("SELECT fence FROM baton.claim_run_v1($1, $2, $3)",
                {std::to_string(id), std::to_string(job.id), job.lease_token})[0]["fence"]
            .get<std::string>());
  };
  auto record = [&](std::int64_t fence, int step) {
    c.query("SELECT baton.record_step_v1(run_id => $1, fence => $2, step => $3, name => 's')",
            {std::to_string(id), std::to_string(fence), std::to_string(step)});
  };
  std::int64_t f1 = claim();
  record(f1, 1);
  std::int64_t f2 = claim();
  EXPECT_EQ(f2, f1 + 1);
  EXPECT_THROW(record(f1, 2), baton::LeaseLost);
  record(f2, 2);
  EXPECT_EQ(baton::run_info(c, id).steps, 2);

  // The same through the runtime: a body whose run is claimed again underneath it.
  Workflow wf2 = make([&](WorkflowContext& ctx) -> Json {
    ctx.step("first", [] { return 1; });
    Client other;
    other.query(
        "SELECT 1 FROM baton.claim_run_v1($1, $2, $3)",
        {std::to_string(ctx.run_id()), std::to_string(ctx.job().id), ctx.job().lease_token});
    ctx.step("second", [] { return 2; });
    ADD_FAILURE() << "the stale write went through";
    return Json();
  });
  baton::register_workflow(c, wf2);
  RunId id2 = start(wf2);
  baton::Job job2 = fetch_job();
  EXPECT_THROW(baton::run_driver_job(c, job2, versions(wf2)), baton::LeaseLost);
  EXPECT_EQ(baton::run_info(c, id2).steps, 1);
  EXPECT_EQ(status(id2), "running");
}

TEST_F(WorkflowTest, AChangedStepOrderIsNonDeterminismAndFailsTheRun) {
  bool first = true;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    if (first) {
      first = false;
      ctx.step("a", [] { return 1; });
      throw std::runtime_error("crash");
    }
    ctx.step("b", [] { return 2; });  // the code changed under a running run
    return Json();
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  baton::Job job = fetch_job();
  baton::WorkflowVersions v = versions(wf);
  EXPECT_THROW(baton::run_driver_job(c, job, v), std::runtime_error);
  Json out = baton::run_driver_job(c, job, v);
  EXPECT_EQ(out["outcome"], "failed");
  baton::RunInfo info = baton::run_info(c, id);
  EXPECT_EQ(info.status, "failed");
  ASSERT_TRUE(info.error);
  EXPECT_NE(info.error->find("not deterministic"), std::string::npos) << *info.error;
  EXPECT_EQ(info.steps, 1);
}

TEST_F(WorkflowTest, EventsAreNotAppendedTwiceOnReplay) {
  int crashes = 2;
  std::vector<bool> appended;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    ctx.step("a", [] { return 1; });
    appended.push_back(ctx.event("note", {{"v", 5}}));
    if (crashes-- == 2) throw std::runtime_error("crash after the first event");
    appended.push_back(ctx.event("note", {{"v", 7}}));
    if (crashes == 0) throw std::runtime_error("crash after the second event");
    return ctx.state()["user"];
  });
  wf.fold = test_fold;
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  baton::Job job = fetch_job();
  baton::WorkflowVersions v = versions(wf);
  EXPECT_THROW(baton::run_driver_job(c, job, v), std::runtime_error);
  EXPECT_THROW(baton::run_driver_job(c, job, v), std::runtime_error);
  EXPECT_EQ(baton::run_driver_job(c, job, v)["outcome"], "completed");
  EXPECT_EQ(appended, (std::vector<bool>{true, false, true, false, false}));
  EXPECT_EQ(kinds_of(baton::run_history(c, id)),
            (std::vector<std::string>{"started", "step", "note", "note", "completed"}));
  EXPECT_EQ(baton::run_info(c, id).output, Json::parse(R"({"n":2,"sum":12,"last":"note"})"));
  // Reserved kinds are refused by the server.
  Workflow bad = make([](WorkflowContext& ctx) -> Json {
    ctx.event("completed");
    return Json();
  });
  bad.max_attempts = 1;
  baton::register_workflow(c, bad);
  RunId bad_id = start(bad);
  EXPECT_EQ(baton::run_driver_job(c, fetch_job(), versions(bad))["outcome"], "failed");
  EXPECT_EQ(status(bad_id), "failed");
}

TEST_F(WorkflowTest, VersionsDispatchByTheRunsVersion) {
  Workflow v1 = make([](WorkflowContext& ctx) -> Json { return {{"by", ctx.version()}}; });
  Workflow v2 = v1;
  v2.version = 2;
  v2.body = [](WorkflowContext& ctx) -> Json { return {{"by", 100 + ctx.version()}}; };
  baton::register_workflow(c, v1);
  baton::register_workflow(c, v2);
  baton::StartRunOptions o;
  o.version = 1;
  RunId old_run = start(v1, {}, o);
  RunId new_run = start(v1);  // the newest version
  {
    WorkerThread w(queue, [&](baton::Worker& wk) {
      wk.workflow(v1);
      wk.workflow(v2);
      EXPECT_EQ(wk.tasks(), std::vector<std::string>{"wf:" + v1.name});
    });
    ASSERT_TRUE(reaches(old_run, "completed"));
    ASSERT_TRUE(reaches(new_run, "completed"));
  }
  EXPECT_EQ(baton::run_info(c, old_run).output, Json({{"by", 1}}));
  EXPECT_EQ(baton::run_info(c, new_run).output, Json({{"by", 102}}));
  // A worker without the run's version leaves it to another (retryable failure).
  baton::WorkflowVersions only_v2 = versions(v2);
  RunId third = start(v1, {}, o);
  EXPECT_THROW(baton::run_driver_job(c, fetch_job(), only_v2), baton::JobFailure);
  EXPECT_EQ(status(third), "running");
}

TEST_F(WorkflowTest, TheLastAttemptFailsTheRun) {
  std::atomic<int> attempts{0};
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    ++attempts;
    ctx.step("a", [] { return 1; });
    throw std::runtime_error("always broken");
  });
  wf.max_attempts = 2;
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  {
    WorkerThread w(queue, [&](baton::Worker& wk) { wk.workflow(wf); });
    ASSERT_TRUE(reaches(id, "failed"));
  }
  EXPECT_EQ(attempts.load(), 2);
  baton::RunInfo info = baton::run_info(c, id);
  EXPECT_EQ(info.error, "always broken");
  EXPECT_EQ(kinds_of(baton::run_history(c, id)),
            (std::vector<std::string>{"started", "step", "failed"}));
}

// ---- snapshots -----------------------------------------------------------------------------

// Many random histories (steps and user events, crashes and replays, thresholds 0 = off to
// 8): at every replay and at the end, the state folded from the newest snapshot plus the
// later events equals the state folded from the whole history and the state the plan
// predicts; every snapshot holds the fold through its through_seq; every step ran once.
TEST_F(WorkflowTest, RandomHistoriesReplayTheSameWithSnapshotsOnAndOff) {
  const unsigned seed = getenv("WF_SEED") ? std::stoul(getenv("WF_SEED")) : 20240501u;
  SCOPED_TRACE("WF_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  const std::vector<int> thresholds = {0, 1, 2, 3, 5, 8};
  int crash_at = -1;
  int mismatches = 0;
  std::map<std::pair<RunId, int>, int> executions;
  auto body = [&](WorkflowContext& ctx) -> Json {
    // What the driver loaded (snapshot + later events) against the whole history.
    if (ctx.state() !=
        baton::fold_history(std::nullopt, baton::run_history(c, ctx.run_id()), test_fold)) {
      ++mismatches;
      ADD_FAILURE() << "run " << ctx.run_id() << ": loaded state " << ctx.state().dump();
    }
    const Json& ops = ctx.input()["ops"];
    for (std::size_t i = 0; i <= ops.size(); ++i) {
      if (static_cast<int>(i) == crash_at) {
        crash_at = -1;
        throw std::runtime_error("crash");
      }
      if (i == ops.size()) break;
      const Json& op = ops[i];
      if (op["t"] == "s") {
        Json r = ctx.step(op["n"].get<std::string>(), [&] {
          ++executions[{ctx.run_id(), static_cast<int>(i)}];
          return op["v"];
        });
        if (r != op["v"]) ++mismatches;
      } else {
        ctx.event(op["k"].get<std::string>(), {{"v", op["v"]}});
      }
    }
    return {{"ops", ops.size()}};
  };
  std::map<int, Workflow> by_threshold;
  for (int t : thresholds) {
    Workflow wf = make(body);
    wf.snapshot_threshold = t;
    wf.fold = test_fold;
    baton::register_workflow(c, wf);
    by_threshold[t] = wf;
  }
  int runs_with_snapshots = 0, replays = 0;
  for (int n = 0; n < 200; ++n) {
    const int t = thresholds[rng() % thresholds.size()];
    const Workflow& wf = by_threshold[t];
    Json ops = Json::array();
    const int count = static_cast<int>(rng() % 16);
    for (int i = 0; i < count; ++i) {
      if (rng() % 3 == 0)
        ops.push_back({{"t", "e"},
                       {"k", std::string("k") + char('a' + rng() % 3)},
                       {"v", static_cast<int>(rng() % 100)}});
      else
        ops.push_back({{"t", "s"},
                       {"n", "s" + std::to_string(i)},
                       {"v", Json{{"r", static_cast<int>(rng() % 1000)}, {"i", i}}}});
    }
    SCOPED_TRACE("run " + std::to_string(n) + " threshold " + std::to_string(t) + " ops " +
                 ops.dump());
    RunId id = start(wf, {{"ops", ops}});
    baton::Job job = fetch_job();
    baton::WorkflowVersions v = versions(wf);
    const int crashes = static_cast<int>(rng() % 3);
    for (int k = 0; k < crashes; ++k) {
      crash_at = static_cast<int>(rng() % (ops.size() + 1));
      EXPECT_THROW(baton::run_driver_job(c, job, v), std::runtime_error);
      ++replays;
    }
    crash_at = -1;
    ASSERT_EQ(baton::run_driver_job(c, job, v)["outcome"], "completed");
    c.finish(job.id, job.lease_token, baton::FinishStatus::succeeded);

    // The state the plan predicts.
    Json expected = baton::initial_state();
    std::int64_t seq = 1;
    for (const Json& op : ops) {
      baton::WorkflowEvent e;
      e.seq = ++seq;
      if (op["t"] == "s") {
        e.kind = "step";
        e.payload = {
            {"step", expected["steps"].size() + 1}, {"name", op["n"]}, {"result", op["v"]}};
      } else {
        e.kind = op["k"];
        e.payload = {{"v", op["v"]}};
      }
      expected = baton::fold_event(expected, e, test_fold);
    }
    std::vector<baton::WorkflowEvent> history = baton::run_history(c, id);
    baton::LoadedRun loaded = baton::load_run(c, id);
    Json with_snapshots = baton::fold_history(loaded.snapshot, loaded.events, test_fold);
    Json without = baton::fold_history(std::nullopt, history, test_fold);
    ASSERT_EQ(without, expected);
    ASSERT_EQ(with_snapshots, expected);

    // Snapshots: as the threshold says, each the fold through its through_seq.
    Json snaps = c.query(
        "SELECT through_seq, format_version, state FROM baton.run_snapshots WHERE run_id = $1 "
        "ORDER BY through_seq",
        {std::to_string(id)});
    const bool due = t > 0 && count > 0 && count + 1 >= t;
    EXPECT_EQ(!snaps.empty(), due);
    if (!snaps.empty()) ++runs_with_snapshots;
    std::int64_t previous = 0;
    for (const Json& s : snaps) {
      const std::int64_t through = std::stoll(s["through_seq"].get<std::string>());
      EXPECT_EQ(s["format_version"], "1");
      EXPECT_GE(through - previous, t);
      previous = through;
      std::vector<baton::WorkflowEvent> prefix;
      for (const auto& e : history)
        if (e.seq <= through) prefix.push_back(e);
      EXPECT_EQ(baton::decode_snapshot(1, Json::parse(s["state"].get<std::string>())),
                baton::fold_history(std::nullopt, prefix, test_fold));
    }
    // load_run: the newest snapshot, then exactly the events after it.
    const std::int64_t through = loaded.snapshot ? loaded.snapshot->through_seq : 0;
    EXPECT_EQ(through, previous);
    ASSERT_EQ(loaded.events.size(), history.size() - static_cast<std::size_t>(through));
    for (std::size_t i = 0; i < loaded.events.size(); ++i)
      EXPECT_EQ(loaded.events[i].seq, through + 1 + static_cast<std::int64_t>(i));
    baton::RunInfo info = baton::run_info(c, id);
    EXPECT_EQ(info.snapshot_through_seq.value_or(0), through);
    for (int i = 0; i < count; ++i)
      if (ops[static_cast<std::size_t>(i)]["t"] == "s") {
        EXPECT_EQ((executions[{id, i}]), 1) << "step " << i;
      }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(runs_with_snapshots, 50);
  EXPECT_GT(replays, 100);
}

TEST_F(WorkflowTest, StoredSnapshotPayloadsDecodeOrAreRefused) {
  // Rows as an older writer left them (no format_version) and one of an unknown format,
  // put into the table directly: the driver reads the first, refuses the second.
  Json unversioned = read_fixture("snapshot_format_1_unversioned.json");
  Json seen;
  Workflow wf = make([&](WorkflowContext& ctx) -> Json {
    seen = ctx.state();
    Json r = ctx.step("reserve", [] { return Json("not called"); });
    ctx.step("ship", [] { return Json("not called"); });
    ctx.step("after", [] { return 3; });
    return r;
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  baton::Job job = fetch_job();
  // Make the history agree with the fixture's two steps, then store the fixture.
  std::int64_t fence =
      std::stoll(c.query("SELECT fence FROM baton.claim_run_v1($1, $2, $3)",
                         {std::to_string(id), std::to_string(job.id), job.lease_token})[0]["fence"]
                     .get<std::string>());
  c.query(
      "SELECT baton.record_step_v1(run_id => $1, fence => $2, step => 1, name => 'reserve', "
      "result => '[1,2,3]')",
      {std::to_string(id), std::to_string(fence)});
  c.query("SELECT baton.record_step_v1(run_id => $1, fence => $2, step => 2, name => 'ship')",
          {std::to_string(id), std::to_string(fence)});
  c.query(
      "INSERT INTO baton.run_snapshots (run_id, through_seq, workflow_version, "
      "format_version, state) VALUES ($1, 3, 1, NULL, $2::jsonb)",
      {std::to_string(id), unversioned["payload"].dump()});
  baton::LoadedRun loaded = baton::load_run(c, id);
  ASSERT_TRUE(loaded.snapshot);
  EXPECT_FALSE(loaded.snapshot->format_version);
  EXPECT_EQ(loaded.snapshot->through_seq, 3);
  EXPECT_TRUE(loaded.events.empty());
  Json out = baton::run_driver_job(c, job, versions(wf));
  EXPECT_EQ(out["outcome"], "completed");
  EXPECT_EQ(seen, unversioned["expected"]);
  EXPECT_EQ(baton::run_info(c, id).output, Json::parse("[1,2,3]"));

  // Format 99: refused by write_snapshot_v1, and by the client when a row has it anyway.
  RunId id2 = start(wf);
  baton::Job job2 = fetch_job();
  std::int64_t fence2 = std::stoll(
      c.query("SELECT fence FROM baton.claim_run_v1($1, $2, $3)",
              {std::to_string(id2), std::to_string(job2.id), job2.lease_token})[0]["fence"]
          .get<std::string>());
  EXPECT_THROW(c.query("SELECT baton.write_snapshot_v1($1, $2, 1, '{}', 99)",
                       {std::to_string(id2), std::to_string(fence2)}),
               baton::InvalidArgument);
  c.query(
      "INSERT INTO baton.run_snapshots (run_id, through_seq, workflow_version, "
      "format_version, state) VALUES ($1, 1, 1, 99, '{\"steps\": []}')",
      {std::to_string(id2)});
  seen = nullptr;
  EXPECT_THROW(baton::run_driver_job(c, job2, versions(wf)), baton::SnapshotFormatError);
  EXPECT_TRUE(seen.is_null());  // the body never ran
  EXPECT_EQ(status(id2), "running");
}

// ---- compensation --------------------------------------------------------------------------

namespace {

// A saga of three compensated steps and one that needs none, then `finish`.
Workflow saga(const std::string& tag, const std::string& task,
              std::function<Json(WorkflowContext&)> finish) {
  Workflow wf(unique("saga"), 1);
  for (const char* s : {"a", "b", "c"}) wf.declare_step(s, Compensation{task});
  wf.declare_step("d", Compensation::none());
  wf.body = [tag, task, finish](WorkflowContext& ctx) -> Json {
    for (const char* s : {"a", "b", "c"})
      ctx.step(
          s, [s] { return Json(std::string("did ") + s); },
          Compensation{task, {{"tag", tag}, {"step", s}}, 2});
    ctx.step(
        "d", [] { return Json(); }, Compensation::none());
    return finish(ctx);
  };
  return wf;
}

}  // namespace

TEST_F(WorkflowTest, CompensateAllSequentialRunsNewestFirstOneAtATime) {
  Recorder rec;
  Workflow wf = saga("seq", "undo", [](WorkflowContext& ctx) -> Json {
    ctx.compensate_all("sequential", "the order was withdrawn");
  });
  EXPECT_TRUE(baton::register_workflow(c, wf).warnings.empty());
  RunId id = start(wf);
  {
    WorkerThread w(queue, [&](baton::Worker& wk) {
      wk.workflow(wf);
      wk.handle("undo", [&](const baton::Job& job, baton::JobContext&) -> Json {
        rec.begin();
        std::this_thread::sleep_for(50ms);
        rec.end(job.args.at("step"));
        return Json();
      });
    });
    ASSERT_TRUE(reaches(id, "compensated"));
  }
  EXPECT_EQ(rec.order(), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_EQ(rec.max_running, 1);
  baton::RunInfo info = baton::run_info(c, id);
  EXPECT_EQ(info.compensation_mode, "sequential");
  std::vector<std::string> k = kinds_of(baton::run_history(c, id));
  EXPECT_EQ(std::count(k.begin(), k.end(), "compensated"), 3);
  EXPECT_EQ(k.back(), "run_compensated");
  EXPECT_TRUE(
      c.query("SELECT 1 FROM baton.pending_compensations WHERE run_id = $1", {std::to_string(id)})
          .empty());
}

TEST_F(WorkflowTest, CompensateAllParallelSchedulesAllAtOnce) {
  Recorder rec;
  Workflow wf =
      saga("par", "undo_par", [](WorkflowContext& ctx) -> Json { ctx.compensate_all("parallel"); });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  {
    WorkerThread w(queue, [&](baton::Worker& wk) {
      wk.workflow(wf);
      wk.handle("undo_par", [&](const baton::Job& job, baton::JobContext&) -> Json {
        rec.begin();
        {  // wait (up to 5 s) until all three run at the same time
          std::unique_lock<std::mutex> l(rec.mu);
          rec.cv.wait_for(l, 5s, [&] { return rec.max_running >= 3; });
        }
        rec.end(job.args.at("step"));
        return Json();
      });
    });
    ASSERT_TRUE(reaches(id, "compensated"));
  }
  EXPECT_EQ(rec.max_running, 3);
  std::vector<std::string> order = rec.order();
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
  // All three were scheduled in the same transaction, before any of them was done.
  std::vector<std::string> k = kinds_of(baton::run_history(c, id));
  auto first = std::find(k.begin(), k.end(), "compensation_scheduled");
  ASSERT_NE(first, k.end());
  EXPECT_EQ(std::vector<std::string>(first, first + 3),
            std::vector<std::string>(3, "compensation_scheduled"));
  EXPECT_EQ(baton::run_info(c, id).compensation_mode, "parallel");
}

TEST_F(WorkflowTest, ACompensationOutOfRetriesNeedsAnOperator) {
  // Three runs whose step b's compensation fails until "fixed": retry, mark_done, give_up.
  Recorder rec;
  std::mutex mu;
  std::set<std::string> fixed;
  std::map<std::string, int> b_attempts;
  std::map<std::string, RunId> runs;
  std::map<std::string, Workflow> wfs;
  for (const char* tag : {"retry", "mark_done", "give_up"}) {
    Workflow wf = saga(tag, "undo_flaky", [](WorkflowContext&) -> Json {
      throw baton::JobFailure("card declined", false);  // fails the run at once
    });
    wf.compensate_on_failure = true;
    baton::register_workflow(c, wf);
    wfs[tag] = wf;
    runs[tag] = start(wf);
  }
  WorkerThread w(queue, [&](baton::Worker& wk) {
    for (auto& [tag, wf] : wfs) wk.workflow(wf);
    wk.handle("undo_flaky", [&](const baton::Job& job, baton::JobContext&) -> Json {
      const std::string tag = job.args.at("tag"), step = job.args.at("step");
      {
        std::lock_guard<std::mutex> l(mu);
        if (step == "b") ++b_attempts[tag];
        if (step == "b" && fixed.count(tag) == 0) throw std::runtime_error("still broken");
      }
      rec.end(tag + ":" + step);
      return Json();
    });
  });
  for (auto& [tag, id] : runs) ASSERT_TRUE(reaches(id, "needs_operator", 30s)) << tag;
  for (auto& [tag, id] : runs) {
    EXPECT_EQ(baton::run_info(c, id).error, "card declined");
    Json failed =
        c.query("SELECT name, status, error FROM baton.pending_compensations WHERE run_id = $1",
                {std::to_string(id)});
    ASSERT_EQ(failed.size(), 2u) << failed.dump();  // b failed, a still pending
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(b_attempts[tag], 2) << tag;  // its max_attempts
  }
  {
    std::lock_guard<std::mutex> l(mu);
    fixed.insert("retry");
  }
  EXPECT_EQ(baton::resolve_run(c, runs["retry"], "retry"), "compensating");
  EXPECT_EQ(baton::resolve_run(c, runs["mark_done"], "mark_done"), "compensating");
  EXPECT_EQ(baton::resolve_run(c, runs["give_up"], "give_up"), "failed");
  EXPECT_TRUE(reaches(runs["retry"], "compensated"));
  EXPECT_TRUE(reaches(runs["mark_done"], "compensated"));
  EXPECT_EQ(status(runs["give_up"]), "failed");
  EXPECT_THROW(baton::resolve_run(c, runs["give_up"], "retry"), baton::Conflict);
  EXPECT_THROW(baton::resolve_run(c, runs["retry"], "bogus"), baton::InvalidArgument);

  std::vector<std::string> order = rec.order();
  auto ran = [&](const std::string& what) {
    return std::find(order.begin(), order.end(), what) - order.begin();
  };
  const auto n = static_cast<long>(order.size());
  // retry: c, then b (once fixed), then a; mark_done: c, then a (b never succeeded);
  // give_up: only c.
  EXPECT_LT(ran("retry:c"), ran("retry:b"));
  EXPECT_LT(ran("retry:b"), ran("retry:a"));
  EXPECT_LT(ran("retry:a"), n);
  EXPECT_LT(ran("mark_done:c"), ran("mark_done:a"));
  EXPECT_LT(ran("mark_done:a"), n);
  EXPECT_EQ(ran("mark_done:b"), n);
  EXPECT_LT(ran("give_up:c"), n);
  EXPECT_EQ(ran("give_up:b"), n);
  EXPECT_EQ(ran("give_up:a"), n);
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(b_attempts["retry"], 3);
}

// ---- cancellation --------------------------------------------------------------------------

TEST_F(WorkflowTest, CancelWhileHeldStopsAtTheNextWriteThenCompensatesOrCancels) {
  Recorder rec;
  std::mutex mu;
  std::condition_variable cv;
  std::set<RunId> in_step, released;
  std::vector<std::string> after_cancel;  // steps the bodies reached after the cancel
  Workflow wf(unique("cancel"), 1);
  wf.body = [&](WorkflowContext& ctx) -> Json {
    const RunId id = ctx.run_id();
    ctx.step(
        "a", [] { return 1; }, Compensation{"undo_c", {{"step", "a"}}});
    ctx.step(
        "b",
        [&] {
          std::unique_lock<std::mutex> l(mu);
          in_step.insert(id);
          cv.notify_all();
          cv.wait_for(l, 10s, [&] { return released.count(id) > 0; });
          return Json(2);
        },
        Compensation{"undo_c", {{"step", "b"}}});
    {
      std::lock_guard<std::mutex> l(mu);
      after_cancel.push_back("c");
    }
    ctx.step(
        "c", [] { return 3; }, Compensation{"undo_c", {{"step", "c"}}});
    return Json();
  };
  baton::register_workflow(c, wf);
  RunId comp = start(wf), plain = start(wf);
  WorkerThread w(queue, [&](baton::Worker& wk) {
    wk.workflow(wf);
    wk.handle("undo_c", [&](const baton::Job& job, baton::JobContext&) -> Json {
      rec.end(job.args.at("step"));
      return Json();
    });
  });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 10s, [&] { return in_step.size() == 2; }));
  }
  // Both are held by their drivers: the cancel is only requested.
  EXPECT_EQ(baton::cancel_run(c, comp, true, "customer asked"), "running");
  EXPECT_EQ(baton::cancel_run(c, plain, false), "running");
  EXPECT_EQ(baton::run_info(c, comp).cancel_requested, "compensate");
  {
    std::lock_guard<std::mutex> l(mu);
    released = {comp, plain};
    cv.notify_all();
  }
  EXPECT_TRUE(reaches(comp, "compensated"));
  EXPECT_TRUE(reaches(plain, "cancelled"));
  // Step b's write was refused (QB004): only a was recorded, and only a was undone.
  EXPECT_EQ(baton::run_info(c, comp).steps, 1);
  EXPECT_EQ(baton::run_info(c, plain).steps, 1);
  EXPECT_EQ(rec.order(), std::vector<std::string>{"a"});
  std::lock_guard<std::mutex> l(mu);
  EXPECT_TRUE(after_cancel.empty());
}

TEST_F(WorkflowTest, CancelOfAnUnheldRun) {
  Workflow wf = make([](WorkflowContext& ctx) -> Json {
    ctx.step(
        "a", [] { return 1; }, Compensation{"undo_u"});
    return Json();
  });
  baton::register_workflow(c, wf);
  RunId id = start(wf);
  EXPECT_EQ(baton::cancel_run(c, id, false, "not wanted"), "cancelled");
  EXPECT_EQ(status(id), "cancelled");
  EXPECT_THROW(baton::cancel_run(c, id), baton::Conflict);
  // Its driver job finds nothing to run.
  Json out = baton::run_driver_job(c, fetch_job(), versions(wf));
  EXPECT_EQ(out["outcome"], "not_running");
  EXPECT_EQ(out["status"], "cancelled");
  std::vector<std::string> k = kinds_of(baton::run_history(c, id));
  EXPECT_EQ(k, (std::vector<std::string>{"started", "cancel_requested", "cancelled"}));
  // With compensate and nothing recorded: compensated at once.
  RunId id2 = start(wf);
  EXPECT_EQ(baton::cancel_run(c, id2, true), "compensated");
}

// ---- continue-as-new -----------------------------------------------------------------------

TEST_F(WorkflowTest, ContinueAsNewChainsRunsWithOneCorrelationId) {
  Workflow wf = make([](WorkflowContext& ctx) -> Json {
    const int n = ctx.input().value("n", 0);
    ctx.step("count", [n] { return n; });
    if (n < 2) ctx.continue_as_new({{"n", n + 1}});
    return {{"done", n}, {"from", ctx.continued_from() ? *ctx.continued_from() : 0}};
  });
  baton::register_workflow(c, wf);
  baton::StartRunOptions o;
  o.correlation_id = unique("chain");
  RunId first = start(wf, {{"n", 0}}, o);
  std::vector<baton::RunInfo> chain;
  {
    WorkerThread w(queue, [&](baton::Worker& wk) { wk.workflow(wf); });
    ASSERT_TRUE(eventually(
        [&] {
          chain.clear();
          std::optional<RunId> id = first;
          while (id) {
            chain.push_back(baton::run_info(c, *id));
            id = chain.back().continued_to;
          }
          return chain.size() == 3 && chain.back().status == "completed";
        },
        20s));
  }
  EXPECT_EQ(chain[0].status, "continued");
  EXPECT_EQ(chain[1].status, "continued");
  EXPECT_FALSE(chain[0].continued_from);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(chain[i].correlation_id, *o.correlation_id);
    EXPECT_EQ(chain[i].input, Json({{"n", i}}));
    EXPECT_EQ(chain[i].queue, queue);
    if (i > 0) {
      EXPECT_EQ(chain[i].continued_from, chain[i - 1].id);
    }
  }
  EXPECT_EQ(chain[2].output, Json({{"done", 2}, {"from", chain[1].id}}));
  std::vector<baton::WorkflowEvent> h = baton::run_history(c, chain[0].id);
  EXPECT_EQ(kinds_of(h), (std::vector<std::string>{"started", "step", "continued_as_new"}));
  EXPECT_EQ(h.back().payload, Json({{"run", chain[1].id}}));
  std::vector<baton::WorkflowEvent> h1 = baton::run_history(c, chain[1].id);
  EXPECT_EQ(h1[0].payload.value("continued_from", RunId{0}), chain[0].id);
}
