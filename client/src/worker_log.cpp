// The worker's structured log: one line per event, key=value, to stderr or the caller's sink.
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "worker_internal.h"

namespace baton {

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

namespace detail {

std::string log_value(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        // Other control characters would break the one-line-per-event promise.
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

Logger::Logger(LogLevel min_level, LogSink sink, std::string worker)
    : min_level_(min_level), sink_(std::move(sink)), worker_(std::move(worker)) {}

void Logger::log(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis.count()));
  std::string line = "ts=";
  line += ts;
  line += " level=";
  line += to_string(level);
  line += " worker=";
  line += log_value(worker_);
  line += " event=";
  line += event;
  for (const Field& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    line += log_value(f.value);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (sink_) {
    try {
      sink_(level, line);
    } catch (...) {
      // A failing sink must not take a job's report down with it.
    }
    return;
  }
  line += '\n';
  // One write per line, so that lines of several processes sharing stderr do not interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace detail
}  // namespace baton
