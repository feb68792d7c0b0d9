// workflow_bench: the workflow_steps workload of bench/run_bench.sh. Drives R workflow runs of
// K no-op steps each, started beforehand, to completion, either as baton workflows run by a
// baton::Worker or as bare-SQL runs (a run table and a history table) driven by plain libpq
// loops, and prints the rate of durable steps.
//
//   workflow_bench fill baton|bare [--runs R]
//   workflow_bench run  baton|bare [--runs R] [--steps K] [--clients S]
//                       [--slots-per-client P] [--max-slots M]
//
// fill (not timed; the tables must be empty):
//   baton: registers workflow "bench_steps" version 1 (register_workflow_v1; a no-op after
//     the first time; snapshot_threshold 0, so no snapshots are written) and starts R runs
//     of it (input {"n": i}) in queue "bench_wf" (created by run_bench.sh with
//     keep_succeeded => false) in one statement: start_run_v1 per run, which inserts the run,
//     appends its "started" history event (seq 1) and defers its driver job (under the job lock
//     baton:run:<id>).
//   bare: one INSERT ... SELECT of R rows into bare.runs (status 'waiting', input {"n": i},
//     last_seq 1) and one of R "started" rows (seq 1) into bare.run_history, so both
//     histories start the same.
//
// run, baton: one baton::Worker on queue "bench_wf", slots min(S * P, M) (each slot is a
//   thread with a connection of its own), max_batch 100, log level warn, with the workflow
//   registered (Worker::workflow). Its body runs K steps "s1" ... "sK", each a no-op
//   returning {"i": k}, undeclared compensation, and returns {"steps": K} (the run's
//   output). Per run the server sees, each call its own transaction (autocommit):
//     the fetch of its driver job (fetch_v2, batched over the free slots, on the worker's
//     fetcher connection), claim_run_v1 (lease check, run row locked, fence bumped),
//     load_run_v1 (the history so far: the "started" event), K x record_step_v1 (fence and
//     lease check, step order check, a history row, a run_steps row, two updates of the run
//     row), complete_run_v1 (output, status, a "completed" history row), and the driver
//     job's finish (finish_many, batched, which deletes it: keep_succeeded => false).
//     Background heartbeats of running jobs come every lease/3 = 10 s (runs take
//     milliseconds, so hardly any).
// run, bare: S threads, each with its own libpq connection and three prepared statements,
//   loop until a claim comes back empty:
//     claim:    UPDATE bare.runs SET status = 'running', attempts + 1, locked_by,
//               locked_until WHERE id = (SELECT id ... WHERE status = 'waiting' ORDER BY id
//               LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, input, last_seq
//     K steps:  WITH h AS (INSERT INTO bare.run_history (run_id, seq, kind, payload)
//               VALUES (id, seq, 'step', {"step": k, "name": "sk", "result": {"i": k}}))
//               UPDATE bare.runs SET last_seq = seq, steps = k, updated_at = now()
//               WHERE id = $1: one statement, so one transaction and one round trip per
//               step, as record_step_v1 is
//     complete: UPDATE bare.runs SET status = 'completed', output = {"steps": K},
//               finished_at = now(), locked_by = NULL, locked_until = NULL WHERE id = $1
//   each statement its own transaction (autocommit), durable commits like baton's. So per
//   step both sides commit one history row and an update of the run row; baton also
//   writes a run_steps row, checks the fence, the lease and the step order, and per run
//   it fetches, claims, loads and finishes a driver job and appends a "completed" event,
//   none of which the bare side does (its claim is the run row itself, no lease, no
//   fence, no replay). And baton runs S * P runs at once over as many connections, the
//   bare side S over S (set --slots-per-client 1 for the same concurrency).
//
// The clock runs from the first step in hand (baton: the first call of a step's function in
// the body, after that run's claim and load; bare: the first non-empty claim; connecting is
// not timed on either side) until every run is completed (baton: the worker's counters report
// R driver jobs succeeded, each counted when the server confirmed its finish, which comes
// after complete_run_v1 committed; bare: the last completing UPDATE returned). Then the tables
// are checked: R runs completed, R x K step events, no job left in the queue.
// Output, one line:
//   WORKFLOW side=<baton|bare> clients=<S> slots=<n> runs=<R> steps_per_run=<K> steps=<R*K>
//     seconds=<s> steps_per_s=<r> runs_per_s=<x> client_cpu_us_per_step=<this process's
//     user+system CPU over the run, connecting included>
// Connects with the PG* environment variables. Defaults: R = $BENCH_WF_RUNS or 2,000,
// K = $BENCH_WF_STEPS or 10, S = 1, P = 4, M = 64.
#include <baton/client.h>
#include <baton/worker.h>
#include <baton/workflow.h>
#include <libpq-fe.h>

#include <sys/resource.h>
#include "bench_support.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using bench::Clock;
using bench::Conn;
using bench::exec;
using bench::expect;
using bench::process_cpu_seconds;
using bench::query_long;
using bench::Result;
using bench::seconds_between;

constexpr const char* kQueue = "bench_wf";
constexpr const char* kWorkflow = "bench_steps";
constexpr auto kTimeout = std::chrono::minutes(10);

struct Options {
  std::string mode;
  std::string side;
  long runs = 2000;
  int steps = 10;
  int clients = 1;
  int slots_per_client = 4;
  int max_slots = 64;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "workflow_bench: %s\n"
               "usage: workflow_bench fill baton|bare [--runs R]\n"
               "       workflow_bench run  baton|bare [--runs R] [--steps K] [--clients S]"
               " [--slots-per-client P] [--max-slots M]\n",
               why.c_str());
  std::exit(2);
}

long parse_positive(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 1) usage(flag + " needs a positive integer");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("BENCH_WF_RUNS"); env != nullptr && *env != '\0')
    o.runs = parse_positive("BENCH_WF_RUNS", env);
  if (const char* env = std::getenv("BENCH_WF_STEPS"); env != nullptr && *env != '\0')
    o.steps = static_cast<int>(parse_positive("BENCH_WF_STEPS", env));
  if (argc < 3) usage("missing arguments");
  o.mode = argv[1];
  o.side = argv[2];
  if (o.mode != "fill" && o.mode != "run") usage("unknown mode " + o.mode);
  if (o.side != "baton" && o.side != "bare") usage("unknown side " + o.side);
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const long v = parse_positive(flag, argv[++i]);
    if (flag == "--runs")
      o.runs = v;
    else if (flag == "--steps")
      o.steps = static_cast<int>(v);
    else if (flag == "--clients")
      o.clients = static_cast<int>(v);
    else if (flag == "--slots-per-client")
      o.slots_per_client = static_cast<int>(v);
    else if (flag == "--max-slots")
      o.max_slots = static_cast<int>(v);
    else
      usage("unknown flag " + flag);
  }
  if (o.steps > 10000) usage("--steps must be at most 10000");
  return o;
}

// ---- the workflow -----------------------------------------------------------------------------

std::string step_name(int k) {
  return "s" + std::to_string(k);
}

baton::Workflow make_workflow(int steps, std::atomic<bool>* started, std::once_flag* once,
                              Clock::time_point* t0) {
  baton::Workflow wf(kWorkflow, 1);
  wf.snapshot_threshold = 0;  // no snapshots: the history is the whole state
  wf.body = [steps, started, once, t0](baton::WorkflowContext& ctx) -> baton::Json {
    for (int k = 1; k <= steps; ++k) {
      ctx.step(step_name(k), [&]() -> baton::Json {
        if (started != nullptr && !started->load(std::memory_order_acquire))
          std::call_once(*once, [&] {
            *t0 = Clock::now();
            started->store(true, std::memory_order_release);
          });
        return {{"i", k}};
      });
    }
    return {{"steps", steps}};
  };
  return wf;
}

// ---- fill -----------------------------------------------------------------------------------

void fill(const Options& o) {
  if (o.side == "baton") {
    baton::Client c;
    baton::register_workflow(c, make_workflow(o.steps, nullptr, nullptr, nullptr));
    // The call must depend on g (its input does): an uncorrelated LATERAL function is
    // evaluated once, not once per row.
    const long started = query_long(
        "SELECT count(*) FROM generate_series(1, " + std::to_string(o.runs) +
        ") AS g, LATERAL baton.start_run_v1('" + kWorkflow +
        "', jsonb_build_object('n', g), queue => '" + kQueue + "') AS s WHERE s.created");
    const long runs = query_long("SELECT count(*) FROM baton.runs");
    if (started != o.runs || runs != o.runs)
      throw std::runtime_error("started " + std::to_string(runs) + " runs, not " +
                               std::to_string(o.runs));
  } else {
    Conn conn;
    exec(conn, "BEGIN", PGRES_COMMAND_OK);
    exec(conn,
         "INSERT INTO bare.runs (input, last_seq) SELECT jsonb_build_object('n', g), 1 "
         "FROM generate_series(1, " +
             std::to_string(o.runs) + ") AS g",
         PGRES_COMMAND_OK);
    exec(conn,
         "INSERT INTO bare.run_history (run_id, seq, kind, payload) SELECT id, 1, 'started', "
         "jsonb_build_object('workflow', 'bench_steps', 'version', 1, 'input', input) "
         "FROM bare.runs",
         PGRES_COMMAND_OK);
    exec(conn, "COMMIT", PGRES_COMMAND_OK);
  }
}

// ---- run ------------------------------------------------------------------------------------

struct Ran {
  double seconds = 0;
  int slots = 0;
};

Ran run_baton(const Options& o) {
  std::atomic<bool> started{false};
  std::once_flag once;
  Clock::time_point t0;

  baton::WorkerConfig cfg;
  cfg.queues = {kQueue};
  cfg.slots = static_cast<int>(
      std::min<long>(static_cast<long>(o.clients) * o.slots_per_client, o.max_slots));
  cfg.max_batch = 100;
  cfg.log_level = baton::LogLevel::warn;  // info logs a line per job
  baton::Worker worker(cfg);
  worker.workflow(make_workflow(o.steps, &started, &once, &t0));

  const Clock::time_point t1 = bench::run_worker_until(worker, o.runs, kTimeout, "driver jobs");
  if (!started) throw std::runtime_error("the worker ran no step");

  const std::string w = std::string("'") + kWorkflow + "'";
  const long completed = query_long("SELECT count(*) FROM baton.runs WHERE workflow = " + w +
                                    " AND status = 'completed'");
  const long open = query_long("SELECT count(*) FROM baton.runs WHERE status <> 'completed'");
  const long steps = query_long(
      "SELECT count(*) FROM baton.run_history h JOIN baton.runs r ON r.id = h.run_id "
      "WHERE r.workflow = " +
      w + " AND h.kind = 'step'");
  const long jobs = query_long("SELECT count(*) FROM baton.jobs WHERE queue = 'bench_wf'");
  if (completed != o.runs || open != 0 || steps != o.runs * o.steps || jobs != 0)
    throw std::runtime_error("baton: " + std::to_string(completed) + " runs completed, " +
                             std::to_string(open) + " not, " + std::to_string(steps) +
                             " steps recorded, " + std::to_string(jobs) + " jobs left");
  return Ran{seconds_between(t0, t1), cfg.slots};
}

Ran run_bare(const Options& o) {
  const char* claim_sql =
      "UPDATE bare.runs SET status = 'running', attempts = attempts + 1, locked_by = 'w', "
      "locked_until = now() + interval '5 minutes', updated_at = now() WHERE id = (SELECT id "
      "FROM bare.runs WHERE status = 'waiting' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
      "RETURNING id, input, last_seq";
  const char* step_sql =
      "WITH h AS (INSERT INTO bare.run_history (run_id, seq, kind, payload) "
      "VALUES ($1::bigint, $2::bigint, 'step', $3::jsonb)) "
      "UPDATE bare.runs SET last_seq = $2::bigint, steps = $4::integer, updated_at = now() "
      "WHERE id = $1::bigint";
  const char* complete_sql =
      "UPDATE bare.runs SET status = 'completed', output = $2::jsonb, finished_at = now(), "
      "updated_at = now(), locked_by = NULL, locked_until = NULL WHERE id = $1::bigint";

  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  std::string error;
  std::atomic<bool> abort{false};
  std::atomic<bool> started{false};
  std::once_flag once;
  Clock::time_point t0;
  std::vector<Clock::time_point> last_done(static_cast<std::size_t>(o.clients));
  std::atomic<long> completed{0};

  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.empty()) error = what;
    abort = true;
    go = true;
    cv.notify_all();
  };

  const std::string output = "{\"steps\":" + std::to_string(o.steps) + "}";
  auto loop = [&](std::size_t index) {
    try {
      Conn conn;
      Result p1(PQprepare(conn.get(), "claim", claim_sql, 0, nullptr));
      expect(conn, p1, PGRES_COMMAND_OK, "prepare claim");
      Result p2(PQprepare(conn.get(), "step", step_sql, 4, nullptr));
      expect(conn, p2, PGRES_COMMAND_OK, "prepare step");
      Result p3(PQprepare(conn.get(), "complete", complete_sql, 2, nullptr));
      expect(conn, p3, PGRES_COMMAND_OK, "prepare complete");
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      while (!abort) {
        Result c(PQexecPrepared(conn.get(), "claim", 0, nullptr, nullptr, nullptr, 0));
        expect(conn, c, PGRES_TUPLES_OK, "claim");
        if (PQntuples(c.get()) == 0) break;
        if (!started.load(std::memory_order_acquire))
          std::call_once(once, [&] {
            t0 = Clock::now();
            started.store(true, std::memory_order_release);
          });
        const std::string id = PQgetvalue(c.get(), 0, 0);
        long seq = std::atol(PQgetvalue(c.get(), 0, 2));
        for (int k = 1; k <= o.steps && !abort; ++k) {
          const std::string seq_text = std::to_string(++seq);
          const std::string name = step_name(k);
          const std::string payload = "{\"step\":" + std::to_string(k) + ",\"name\":\"" + name +
                                      "\",\"result\":{\"i\":" + std::to_string(k) + "}}";
          const std::string k_text = std::to_string(k);
          const char* params[4] = {id.c_str(), seq_text.c_str(), payload.c_str(), k_text.c_str()};
          Result s(PQexecPrepared(conn.get(), "step", 4, params, nullptr, nullptr, 0));
          expect(conn, s, PGRES_COMMAND_OK, "step");
        }
        const char* params[2] = {id.c_str(), output.c_str()};
        Result d(PQexecPrepared(conn.get(), "complete", 2, params, nullptr, nullptr, 0));
        expect(conn, d, PGRES_COMMAND_OK, "complete");
        completed += std::atol(PQcmdTuples(d.get()));
        last_done[index] = Clock::now();
      }
    } catch (const std::exception& e) {
      fail(e.what());
    }
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) threads.emplace_back(loop, static_cast<std::size_t>(i));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == o.clients || abort; });
    go = true;
    cv.notify_all();
  }
  for (std::thread& t : threads) t.join();
  if (!error.empty()) throw std::runtime_error(error);
  if (!started) throw std::runtime_error("bare: no run to claim");

  Clock::time_point t1 = t0;
  for (const Clock::time_point& t : last_done) t1 = std::max(t1, t);
  const long done = query_long("SELECT count(*) FROM bare.runs WHERE status = 'completed'");
  const long steps = query_long("SELECT count(*) FROM bare.run_history WHERE kind = 'step'");
  if (completed != o.runs || done != o.runs || steps != o.runs * o.steps)
    throw std::runtime_error("bare: " + std::to_string(done) + " of " + std::to_string(o.runs) +
                             " runs completed, " + std::to_string(steps) + " steps recorded");
  return Ran{seconds_between(t0, t1), 0};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    if (o.mode == "fill") {
      fill(o);
      return 0;
    }
    const double cpu0 = process_cpu_seconds();
    const Ran r = o.side == "baton" ? run_baton(o) : run_bare(o);
    const double steps = static_cast<double>(o.runs) * o.steps;
    const double client_cpu_us = (process_cpu_seconds() - cpu0) * 1e6 / steps;
    std::printf(
        "WORKFLOW side=%s clients=%d slots=%d runs=%ld steps_per_run=%d steps=%.0f seconds=%.3f "
        "steps_per_s=%.0f runs_per_s=%.1f client_cpu_us_per_step=%.1f\n",
        o.side.c_str(), o.clients, r.slots, o.runs, o.steps, steps, r.seconds,
        r.seconds > 0 ? steps / r.seconds : 0,
        r.seconds > 0 ? static_cast<double>(o.runs) / r.seconds : 0, client_cpu_us);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "workflow_bench: %s %s: %s\n", o.mode.c_str(), o.side.c_str(), e.what());
    return 1;
  }
}
