// Text conversions between the client's value types and PostgreSQL's text formats.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "internal.h"

namespace baton {
namespace detail {
namespace {

[[noreturn]] void bad_value(const char* what, const char* text) {
  throw Error(std::string("baton client: unexpected ") + what + " from the server: \"" + text +
              "\"");
}

}  // namespace

std::int64_t parse_epoch_micros(const char* text) {
  // Parsed by hand rather than as a double: 16 significant digits would round microseconds.
  const char* p = text;
  bool negative = *p == '-';
  if (negative || *p == '+') ++p;
  if (*p < '0' || *p > '9') bad_value("number of seconds", text);
  std::int64_t seconds = 0;
  for (; *p >= '0' && *p <= '9'; ++p) seconds = seconds * 10 + (*p - '0');
  std::int64_t micros = 0;
  int digits = 0;
  if (*p == '.') {
    for (++p; *p >= '0' && *p <= '9'; ++p, ++digits)
      if (digits < 6) micros = micros * 10 + (*p - '0');
  }
  if (*p != '\0') bad_value("number of seconds", text);
  for (int d = digits; d < 6; ++d) micros *= 10;
  std::int64_t total = seconds * 1000000 + micros;
  return negative ? -total : total;
}

std::optional<std::string> Rows::opt_text(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return text(row, col);
}

std::int64_t Rows::int64(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0') bad_value("integer", v);
  return static_cast<std::int64_t>(n);
}

int Rows::int32(int row, int col) const {
  return static_cast<int>(int64(row, col));
}

bool Rows::boolean(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  if (v[0] == 't' && v[1] == '\0') return true;
  if (v[0] == 'f' && v[1] == '\0') return false;
  bad_value("boolean", v);
}

Json Rows::json(int row, int col) const {
  if (null(row, col)) return Json();
  const char* v = PQgetvalue(result_.get(), row, col);
  try {
    return Json::parse(v);
  } catch (const Json::exception&) {
    bad_value("JSON", v);
  }
}

TimePoint Rows::time(int row, int col) const {
  if (null(row, col)) throw Error("baton client: unexpected NULL timestamp from the server");
  auto micros = std::chrono::microseconds(parse_epoch_micros(PQgetvalue(result_.get(), row, col)));
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(micros));
}

std::optional<TimePoint> Rows::opt_time(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return time(row, col);
}

std::optional<Duration> Rows::opt_duration(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return Duration(parse_epoch_micros(PQgetvalue(result_.get(), row, col)));
}

std::string to_param(const std::string& s) {
  return s;
}
std::string to_param(const char* s) {
  return s;
}
std::string to_param(int v) {
  return std::to_string(v);
}
std::string to_param(std::int64_t v) {
  return std::to_string(v);
}
std::string to_param(bool v) {
  return v ? "true" : "false";
}
std::string to_param(Backoff b) {
  return to_string(b);
}
std::string to_param(const Json& j) {
  return j.dump();
}

std::string to_param(Duration d) {
  // Seconds with six decimals: the interval parser reads it exactly, and the integer part
  // stays within its range for every interval baton accepts (at most 10 years).
  std::int64_t us = d.count();
  std::uint64_t magnitude = us < 0 ? 0 - static_cast<std::uint64_t>(us) : us;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%" PRIu64 ".%06" PRIu64 " seconds", us < 0 ? "-" : "",
                magnitude / 1000000, magnitude % 1000000);
  return buf;
}

std::string to_param(TimePoint t) {
  // ISO 8601 in UTC with an explicit Z: independent of the session's TimeZone and DateStyle.
  std::int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::int64_t secs = us / 1000000;
  std::int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string array_literal(const std::vector<Param>& elements) {
  std::string out = "{";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Call& Call::arg(const char* name, const char* type, Param value) {
  params_.push_back(std::move(value));
  if (!args_.empty()) args_ += ", ";
  args_ += name;
  args_ += " => $";
  args_ += std::to_string(params_.size());
  args_ += "::";
  args_ += type;
  return *this;
}

std::string Call::sql(const std::string& select_list, const std::string& suffix) const {
  std::string call = std::string("baton.") + procedure_ + "(" + args_ + ")";
  std::string out =
      select_list.empty() ? "SELECT " + call : "SELECT " + select_list + " FROM " + call;
  if (!suffix.empty()) out += " " + suffix;
  return out;
}

}  // namespace detail
}  // namespace baton
