#include "options.h"

#include <cctype>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

namespace stress {
namespace {

struct Flag {
  const char* name;
  const char* help;
  std::function<void(const std::string&)> set;
};

int to_int(const std::string& text, int min) {
  std::size_t used = 0;
  int value = std::stoi(text, &used);
  if (used != text.size() || value < min)
    throw std::invalid_argument("expected an integer >= " + std::to_string(min));
  return value;
}

double to_fraction(const std::string& text) {
  std::size_t used = 0;
  double value = std::stod(text, &used);
  if (used != text.size() || !(value >= 0.0 && value <= 1.0))
    throw std::invalid_argument("expected a number between 0 and 1");
  return value;
}

// Strictly between 0 and 1: the upgrade needs jobs deferred before it and after it.
double to_open_fraction(const std::string& text) {
  double value = to_fraction(text);
  if (value <= 0.0 || value >= 1.0) throw std::invalid_argument("expected a number in (0, 1)");
  return value;
}

// The version goes into ALTER EXTENSION as a literal (a utility statement takes no
// parameters), so only the characters of a version name are accepted.
std::string to_version(const std::string& text) {
  for (char c : text)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      throw std::invalid_argument("expected a version such as 0.2.0");
  return text;
}

std::vector<Flag> flags(Options& o) {
  return {
      {"dsn", "libpq connection string", [&](auto v) { o.dsn = v; }},
      {"jobs", "jobs to defer", [&](auto v) { o.jobs = to_int(v, 1); }},
      {"workers", "concurrent worker threads", [&](auto v) { o.workers = to_int(v, 1); }},
      {"batch", "jobs per defer_many_v1 call", [&](auto v) { o.batch = to_int(v, 1); }},
      {"lock-share", "fraction of jobs with a lock",
       [&](auto v) { o.lock_share = to_fraction(v); }},
      {"locks", "distinct lock values", [&](auto v) { o.locks = to_int(v, 1); }},
      {"max-attempts", "max_attempts of every job", [&](auto v) { o.max_attempts = to_int(v, 1); }},
      {"retry-delay", "retry_delay interval (constant backoff)",
       [&](auto v) { o.retry_delay = v; }},
      {"fail-rate", "fraction of attempts reported failed",
       [&](auto v) { o.fail_rate = to_fraction(v); }},
      {"heartbeat-rate", "fraction of attempts that heartbeat",
       [&](auto v) { o.heartbeat_rate = to_fraction(v); }},
      {"finish-one-rate", "fraction of batches finished one by one",
       [&](auto v) { o.finish_one_rate = to_fraction(v); }},
      {"max-fetch", "largest fetch_v1 max_jobs", [&](auto v) { o.max_fetch = to_int(v, 1); }},
      {"crash-rounds", "rounds of the crashing worker",
       [&](auto v) { o.crash_rounds = to_int(v, 0); }},
      {"crash-jobs", "jobs abandoned per crash round",
       [&](auto v) { o.crash_jobs = to_int(v, 1); }},
      {"timeout", "seconds before the watchdog fails the run",
       [&](auto v) { o.timeout_seconds = to_int(v, 1); }},
      {"seed", "random seed (0: random)", [&](auto v) { o.seed = std::stoull(v); }},
      {"upgrade-to", "ALTER EXTENSION baton UPDATE TO this version under load (empty: none)",
       [&](auto v) { o.upgrade_to = to_version(v); }},
      {"upgrade-after-fraction", "share of the jobs deferred before the upgrade starts",
       [&](auto v) { o.upgrade_after_fraction = to_open_fraction(v); }},
  };
}

std::string usage(const std::vector<Flag>& all) {
  std::string text = "usage: baton-stress [--flag value]...\n";
  for (const Flag& f : all) text += "  --" + std::string(f.name) + "  " + f.help + "\n";
  return text;
}

const Flag& find_flag(const std::vector<Flag>& all, const std::string& name) {
  for (const Flag& f : all)
    if (name == f.name) return f;
  throw std::invalid_argument("unknown flag --" + name + "\n" + usage(all));
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  std::vector<Flag> all = flags(options);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") throw std::invalid_argument(usage(all));
    if (arg.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + arg);
    std::string name = arg.substr(2), value;
    if (std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument("--" + name + " needs a value");
    }
    const Flag& flag = find_flag(all, name);
    try {
      flag.set(value);
    } catch (const std::logic_error& e) {  // std::stoi & co. throw logic_error subclasses
      throw std::invalid_argument("--" + name + " " + value + ": " + e.what());
    }
  }
  if (options.seed == 0) options.seed = std::random_device{}() | 1;
  return options;
}

}  // namespace stress
