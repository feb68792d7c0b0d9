// Command-line parameters of the stress test. The defaults meet the minimums the test is
// meant to prove its claims at (20,000 jobs, 4 workers).
#pragma once

#include <cstdint>
#include <string>

namespace stress {

struct Options {
  std::string dsn = "dbname=baton_stress";
  int jobs = 20000;
  int workers = 4;
  int batch = 500;           // jobs per defer_many_v1 call
  double lock_share = 0.10;  // fraction of jobs that carry a lock
  int locks = 4;             // distinct lock values they share
  int max_attempts = 4;
  std::string retry_delay = "10 milliseconds";
  double fail_rate = 0.20;        // attempts a worker reports as failed
  double heartbeat_rate = 0.02;   // attempts that send a heartbeat first
  double finish_one_rate = 0.25;  // batches reported with finish_v1 one by one
  int max_fetch = 20;             // fetch_v1 max_jobs is drawn from 1..max_fetch
  int crash_rounds = 2;           // rounds of the crashing worker
  int crash_jobs = 5;             // jobs it claims and abandons per round
  int timeout_seconds = 100;      // watchdog: a drain that never ends fails the run
  uint64_t seed = 0;              // 0: pick one (printed, for a rerun)
  // Upgrade under load: empty runs no upgrade. Otherwise an upgrader thread runs ALTER
  // EXTENSION baton UPDATE TO this version once upgrade_after_fraction of the jobs were
  // deferred, while the workers keep working (upgrader.h).
  std::string upgrade_to;
  double upgrade_after_fraction = 0.33;
};

// Parses --name value or --name=value flags; throws std::invalid_argument with a message
// (the usage text for --help).
Options parse_options(int argc, char** argv);

}  // namespace stress
