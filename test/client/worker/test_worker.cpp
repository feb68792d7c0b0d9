// A worker process for test/client/worker/run.sh: baton::Worker with test handlers that
// sleep and fail as each job's args say, and append every start and end to a log file that
// the driver checks against the database.
//
//   test_worker --queues q1[,q2] [--slots 4] [--lease-ms 30000] [--poll-ms 5000]
//               [--grace-ms 30000] [--heartbeat-ms N] [--name NAME] --log FILE
//               [--stats FILE] [--log-level debug|info|warn|error] [--workflow]
//
// Tasks:
//   work   {"sleep_ms": N, "fail_pct": P, "ctx_sleep": bool}: sleeps N ms (in
//          JobContext::sleep_for when ctx_sleep, else in plain sleeps, checking
//          should_stop() every 10 ms), then fails with probability P %.
//   chain  like work, and on success defers a follow-up `work` job {"parent": <id>} into
//          the same queue with JobContext::defer (committed with the success).
// Workflow (with --workflow): "steps4" version 1, four steps; step 3 sleeps the input's
// "sleep_ms" (checking should-stop is not possible inside a step: a kill -9 is the test).
// Log lines (one write(2) each, O_APPEND, so processes sharing the file do not interleave):
//   S <job> <attempt> <pid> <unix_us>
//   E <job> <attempt> <pid> <unix_us> <ok|fail|stopped>
//   W <run> <step> <pid> <unix_us> begin|end    (a workflow step's fn starts / returns)
// --stats writes the worker's counters as key=value lines when run() returns.
#include <fcntl.h>
#include <unistd.h>

#include <baton/worker.h>
#include <baton/workflow.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

long long now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class RunLog {
 public:
  explicit RunLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  }
  ~RunLog() { ::close(fd_); }
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  void line(const std::string& text) {
    std::string l = text + "\n";
    if (::write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
      throw std::runtime_error("short write to the run log");
  }

 private:
  int fd_;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

bool chance(int pct) {
  thread_local std::mt19937 rng(std::random_device{}());
  return std::uniform_int_distribution<int>(0, 99)(rng) < pct;
}

baton::Json work(const baton::Job& job, baton::JobContext& ctx, RunLog& log, bool chain) {
  const std::string id =
      std::to_string(job.id) + " " + std::to_string(job.attempt) + " " + std::to_string(::getpid());
  log.line("S " + id + " " + std::to_string(now_us()));
  const int sleep_ms = job.args.value("sleep_ms", 0);
  const int fail_pct = job.args.value("fail_pct", 0);
  bool stopped = false;
  if (job.args.value("ctx_sleep", false)) {
    stopped = !ctx.sleep_for(std::chrono::milliseconds(sleep_ms));
  } else {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (ctx.should_stop()) {
        stopped = true;
        break;
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(10), until - std::chrono::steady_clock::now()));
    }
  }
  if (stopped) {
    log.line("E " + id + " " + std::to_string(now_us()) + " stopped");
    throw baton::JobStopped("stopped");
  }
  if (chance(fail_pct)) {
    log.line("E " + id + " " + std::to_string(now_us()) + " fail");
    throw std::runtime_error("random failure of job " + std::to_string(job.id));
  }
  if (chain) ctx.defer(job.queue, "work", {{"parent", job.id}});
  log.line("E " + id + " " + std::to_string(now_us()) + " ok");
  return {{"by", ::getpid()}, {"attempt", job.attempt}};
}

// The workflow of the crash test: four memoised steps, each logged when its fn begins and
// ends, so the driver can tell which steps ran twice.
baton::Workflow steps4(RunLog& log) {
  baton::Workflow wf("steps4", 1);
  for (int k = 1; k <= 4; ++k)
    wf.declare_step("s" + std::to_string(k), baton::Compensation::none());
  wf.body = [&log](baton::WorkflowContext& ctx) -> baton::Json {
    const std::string run = std::to_string(ctx.run_id());
    baton::Json out = baton::Json::array();
    for (int k = 1; k <= 4; ++k) {
      out.push_back(ctx.step(
          "s" + std::to_string(k),
          [&] {
            const std::string at =
                run + " " + std::to_string(k) + " " + std::to_string(::getpid()) + " ";
            log.line("W " + at + std::to_string(now_us()) + " begin");
            if (k == 3)
              std::this_thread::sleep_for(
                  std::chrono::milliseconds(ctx.input().value("sleep_ms", 0)));
            log.line("W " + at + std::to_string(now_us()) + " end");
            return baton::Json{{"k", k}, {"pid", ::getpid()}};
          },
          baton::Compensation::none()));
    }
    return {{"steps", out}};
  };
  return wf;
}

}  // namespace

int main(int argc, char** argv) {
  baton::WorkerConfig cfg;
  cfg.install_signal_handlers = true;
  std::string log_path, stats_path;
  bool with_workflow = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "test_worker: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    auto millis = [&] { return std::chrono::milliseconds(std::stoll(value())); };
    if (a == "--queues") {
      cfg.queues = split(value());
    } else if (a == "--slots") {
      cfg.slots = std::stoi(value());
    } else if (a == "--lease-ms") {
      cfg.lease = millis();
    } else if (a == "--poll-ms") {
      cfg.poll_interval = millis();
    } else if (a == "--grace-ms") {
      cfg.grace_period = millis();
    } else if (a == "--heartbeat-ms") {
      cfg.heartbeat_interval = millis();
    } else if (a == "--name") {
      cfg.name = value();
    } else if (a == "--workflow") {
      with_workflow = true;
    } else if (a == "--log") {
      log_path = value();
    } else if (a == "--stats") {
      stats_path = value();
    } else if (a == "--log-level") {
      std::string l = value();
      cfg.log_level = l == "debug"   ? baton::LogLevel::debug
                      : l == "warn"  ? baton::LogLevel::warn
                      : l == "error" ? baton::LogLevel::error
                                     : baton::LogLevel::info;
    } else {
      std::cerr << "test_worker: unknown option " << a << "\n";
      return 2;
    }
  }
  if (log_path.empty()) {
    std::cerr << "test_worker: --log is required\n";
    return 2;
  }
  try {
    RunLog log(log_path);
    baton::Worker worker(cfg);
    worker.handle("work", [&log](const baton::Job& job, baton::JobContext& ctx) {
      return work(job, ctx, log, false);
    });
    worker.handle("chain", [&log](const baton::Job& job, baton::JobContext& ctx) {
      return work(job, ctx, log, true);
    });
    if (with_workflow) {
      baton::Workflow wf = steps4(log);
      baton::Client client(cfg.conninfo);
      baton::register_workflow(client, wf);
      worker.workflow(wf);
    }
    worker.run();
    if (!stats_path.empty()) {
      baton::WorkerStats s = worker.stats();
      std::ofstream out(stats_path);
      out << "claimed=" << s.claimed << "\nsucceeded=" << s.succeeded << "\nfailed=" << s.failed
          << "\ncancelled=" << s.cancelled << "\nlease_lost=" << s.lease_lost
          << "\nreleased=" << s.released << "\nunknown_task=" << s.unknown_task
          << "\nreconnects=" << s.reconnects << "\nfetches=" << s.fetches
          << "\nempty_fetches=" << s.empty_fetches << "\nfinish_calls=" << s.finish_calls
          << "\nheartbeats=" << s.heartbeats << "\nnotifications=" << s.notifications
          << "\nrunning=" << s.running << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "test_worker: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
