// worker_bench: the worker_drain workload of bench/run_bench.sh. Drains N jobs that were
// deferred beforehand, either with a baton::Worker (no-op handlers, batch fetch and finish)
// or with bare-SQL claim/delete loops on the benchmark's bare.jobs table, and prints the rate.
//
//   worker_bench fill  baton|bare [--jobs N]
//   worker_bench drain baton|bare [--jobs N] [--clients S] [--batch B] [--max-slots M]
//
// fill puts N jobs (task "noop", args {"n":1}) into queue "bench": baton.defer_many_v1 in
// chunks of 10,000, or one INSERT ... SELECT into bare.jobs. The queues must be empty.
//
// drain, baton: one baton::Worker on queue "bench" (created by run_bench.sh with
// keep_succeeded => false), max_batch B, slots min(S * B, M), a handler for "noop" that
// returns null, log level warn (no line per job). The worker's fetch is bounded by its free
// slots, so S * B slots give it the bare side's claim size (B) and as many jobs in flight
// (S * B) until the cap M (each slot holds a connection of its own).
// drain, bare: S threads, each with its own libpq connection, loop: claim up to B with the
// benchmark's claim statement (UPDATE ... WHERE id IN (SELECT ... ORDER BY ... LIMIT B FOR
// UPDATE SKIP LOCKED) RETURNING id, task, args), then DELETE those ids; each statement its
// own transaction, as the worker's fetch and finish_many are; a thread ends at an empty claim.
//
// The clock runs from the first claimed job in hand (the worker's first handler call, the
// bare side's first non-empty claim: connecting is not timed on either side) until the last
// job's finish has committed (the worker's counters report N jobs succeeded, which it counts
// when the server confirms; the last bare DELETE returned). Then the queue is checked empty.
// Output, one line:
//   DRAIN side=<baton|bare> clients=<S> slots=<n> batch=<B> jobs=<N> seconds=<s>
//     jobs_per_s=<r> claims=<calls> finishes=<calls> jobs_per_claim=<x> jobs_per_finish=<y>
//     client_cpu_us_per_job=<this process's user+system CPU over the drain, connecting included>
// Connects with the PG* environment variables. Defaults: N = $BENCH_WORKER_JOBS or 50,000,
// S = 1, B = 100, M = 160.
#include <baton/client.h>
#include <baton/worker.h>
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

constexpr const char* kQueue = "bench";
constexpr const char* kTask = "noop";
constexpr int kDeferChunk = 10000;  // defer_many_v1 takes at most 10,000 jobs per call
constexpr auto kTimeout = std::chrono::minutes(10);

struct Options {
  std::string mode;
  std::string side;
  long jobs = 50000;
  int clients = 1;
  int batch = 100;
  int max_slots = 160;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "worker_bench: %s\n"
               "usage: worker_bench fill  baton|bare [--jobs N]\n"
               "       worker_bench drain baton|bare [--jobs N] [--clients S] [--batch B]"
               " [--max-slots M]\n",
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
  if (const char* env = std::getenv("BENCH_WORKER_JOBS"); env != nullptr && *env != '\0')
    o.jobs = parse_positive("BENCH_WORKER_JOBS", env);
  if (argc < 3) usage("missing arguments");
  o.mode = argv[1];
  o.side = argv[2];
  if (o.mode != "fill" && o.mode != "drain") usage("unknown mode " + o.mode);
  if (o.side != "baton" && o.side != "bare") usage("unknown side " + o.side);
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(flag + " needs a value");
    const long v = parse_positive(flag, argv[++i]);
    if (flag == "--jobs")
      o.jobs = v;
    else if (flag == "--clients")
      o.clients = static_cast<int>(v);
    else if (flag == "--batch")
      o.batch = static_cast<int>(v);
    else if (flag == "--max-slots")
      o.max_slots = static_cast<int>(v);
    else
      usage("unknown flag " + flag);
  }
  if (o.batch > 1000) usage("--batch must be at most 1000 (the worker's max_batch)");
  return o;
}

// ---- fill ---------------------------------------------------------------------------------

void fill(const Options& o) {
  if (o.side == "baton") {
    baton::Client c;
    const std::vector<baton::Json> chunk(kDeferChunk, baton::Json{{"n", 1}});
    for (long done = 0; done < o.jobs;) {
      const long n = std::min<long>(kDeferChunk, o.jobs - done);
      const std::vector<baton::Json> args(chunk.begin(), chunk.begin() + n);
      done += static_cast<long>(c.defer_many(kQueue, kTask, args).size());
    }
  } else {
    Conn conn;
    exec(conn,
         "INSERT INTO bare.jobs (queue, task, args) SELECT 'bench', 'noop', '{\"n\":1}'"
         " FROM generate_series(1, " +
             std::to_string(o.jobs) + ")",
         PGRES_COMMAND_OK);
  }
}

// ---- drain --------------------------------------------------------------------------------

struct Drained {
  double seconds = 0;
  int slots = 0;
  unsigned long long claims = 0;
  unsigned long long finishes = 0;
};

Drained drain_baton(const Options& o) {
  baton::WorkerConfig cfg;
  cfg.queues = {kQueue};
  cfg.slots = static_cast<int>(std::min<long>(static_cast<long>(o.clients) * o.batch, o.max_slots));
  cfg.max_batch = o.batch;
  cfg.log_level = baton::LogLevel::warn;  // info logs a line per job
  baton::Worker worker(cfg);

  std::atomic<bool> started{false};
  std::once_flag once;
  Clock::time_point t0;
  worker.handle(kTask, [&](const baton::Job&, baton::JobContext&) -> baton::Json {
    if (!started.load(std::memory_order_acquire)) {
      std::call_once(once, [&] {
        t0 = Clock::now();
        started.store(true, std::memory_order_release);
      });
    }
    return nullptr;
  });

  const Clock::time_point t1 = bench::run_worker_until(worker, o.jobs, kTimeout, "jobs");

  const long left = query_long("SELECT count(*) FROM baton.jobs WHERE queue = 'bench'");
  if (left != 0) throw std::runtime_error(std::to_string(left) + " jobs left in baton's queue");
  if (!started) throw std::runtime_error("the worker ran no job");
  const baton::WorkerStats s = worker.stats();
  return Drained{seconds_between(t0, t1), cfg.slots, s.fetches, s.finish_calls};
}

Drained drain_bare(const Options& o) {
  const std::string claim_sql =
      "UPDATE bare.jobs SET status = 'running', attempts = attempts + 1, locked_by = 'w', "
      "locked_until = now() + interval '5 minutes' WHERE id IN (SELECT id FROM bare.jobs "
      "WHERE queue = 'bench' AND status = 'waiting' AND run_at <= now() ORDER BY priority "
      "DESC, run_at, id LIMIT " +
      std::to_string(o.batch) + " FOR UPDATE SKIP LOCKED) RETURNING id, task, args";
  const char* delete_sql = "DELETE FROM bare.jobs WHERE id = ANY ($1::bigint[])";

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
  std::atomic<long> deleted{0};
  std::atomic<unsigned long long> claims{0};
  std::atomic<unsigned long long> finishes{0};

  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.empty()) error = what;
    abort = true;
    go = true;
    cv.notify_all();
  };

  auto loop = [&](std::size_t index) {
    try {
      Conn conn;
      Result p1(PQprepare(conn.get(), "claim", claim_sql.c_str(), 0, nullptr));
      expect(conn, p1, PGRES_COMMAND_OK, "prepare claim");
      Result p2(PQprepare(conn.get(), "finish", delete_sql, 1, nullptr));
      expect(conn, p2, PGRES_COMMAND_OK, "prepare delete");
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      std::string ids;
      while (!abort) {
        Result c(PQexecPrepared(conn.get(), "claim", 0, nullptr, nullptr, nullptr, 0));
        expect(conn, c, PGRES_TUPLES_OK, "claim");
        claims++;
        const int n = PQntuples(c.get());
        if (n == 0) break;
        if (!started.load(std::memory_order_acquire))
          std::call_once(once, [&] {
            t0 = Clock::now();
            started.store(true, std::memory_order_release);
          });
        ids = "{";
        for (int i = 0; i < n; ++i) {
          if (i > 0) ids += ',';
          ids += PQgetvalue(c.get(), i, 0);
        }
        ids += '}';
        const char* params[1] = {ids.c_str()};
        Result d(PQexecPrepared(conn.get(), "finish", 1, params, nullptr, nullptr, 0));
        expect(conn, d, PGRES_COMMAND_OK, "delete");
        finishes++;
        deleted += std::atol(PQcmdTuples(d.get()));
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
  if (!started) throw std::runtime_error("bare queue: nothing to claim");

  Clock::time_point t1 = t0;
  for (const Clock::time_point& t : last_done) t1 = std::max(t1, t);
  if (deleted != o.jobs)
    throw std::runtime_error("bare queue: deleted " + std::to_string(deleted.load()) + " of " +
                             std::to_string(o.jobs) + " jobs");
  const long left = query_long("SELECT count(*) FROM bare.jobs");
  if (left != 0) throw std::runtime_error(std::to_string(left) + " jobs left in bare.jobs");
  return Drained{seconds_between(t0, t1), 0, claims.load(), finishes.load()};
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
    const Drained d = o.side == "baton" ? drain_baton(o) : drain_bare(o);
    const double client_cpu_us = (process_cpu_seconds() - cpu0) * 1e6 / static_cast<double>(o.jobs);
    const double rate = d.seconds > 0 ? static_cast<double>(o.jobs) / d.seconds : 0;
    std::printf(
        "DRAIN side=%s clients=%d slots=%d batch=%d jobs=%ld seconds=%.3f jobs_per_s=%.0f "
        "claims=%llu finishes=%llu jobs_per_claim=%.1f jobs_per_finish=%.1f "
        "client_cpu_us_per_job=%.1f\n",
        o.side.c_str(), o.clients, d.slots, o.batch, o.jobs, d.seconds, rate, d.claims, d.finishes,
        d.claims > 0 ? static_cast<double>(o.jobs) / static_cast<double>(d.claims) : 0,
        d.finishes > 0 ? static_cast<double>(o.jobs) / static_cast<double>(d.finishes) : 0,
        client_cpu_us);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker_bench: %s %s: %s\n", o.mode.c_str(), o.side.c_str(), e.what());
    return 1;
  }
}
