#include "output.h"

#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace baton::cli {

Table::Table(std::vector<std::string> header)
    : header_(std::move(header)), right_(header_.size(), false) {}

void Table::align_right(std::size_t column) {
  if (column < right_.size()) right_[column] = true;
}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

namespace {

// Display width of UTF-8 text: code points, not bytes (good enough for the CLI's cells).
std::size_t width_of(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(header_.size());
  for (std::size_t c = 0; c < header_.size(); ++c) widths[c] = width_of(header_[c]);
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], width_of(row[c]));
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      std::string pad(widths[c] - width_of(row[c]), ' ');
      bool last = c + 1 == row.size();
      if (right_[c])
        line += pad + row[c];
      else
        line += row[c] + (last ? "" : pad);
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

std::string format_duration(Duration d) {
  long long us = d.count();
  std::string sign;
  if (us < 0) {
    sign = "-";
    us = -us;
  }
  char buf[64];
  long long s = us / 1000000;
  if (s == 0) {
    std::snprintf(buf, sizeof buf, "%lldms", us / 1000);
  } else if (s < 60) {
    long long ms = us / 1000 % 1000;
    if (ms == 0) {
      std::snprintf(buf, sizeof buf, "%llds", s);
    } else {
      std::snprintf(buf, sizeof buf, "%lld.%03lld", s, ms);
      std::string t = buf;
      while (t.back() == '0') t.pop_back();
      return sign + t + "s";
    }
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
  }
  return sign + buf;
}

namespace {

// Splits a time point into UTC calendar fields and microseconds.
void split_time(TimePoint t, std::tm& tm, long long& micros) {
  long long us =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  long long secs = us / 1000000;
  micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  gmtime_r(&tt, &tm);
}

}  // namespace

std::string format_time(const std::optional<TimePoint>& t) {
  if (!t) return "-";
  std::tm tm{};
  long long micros;
  split_time(*t, tm, micros);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string iso_time(TimePoint t) {
  std::tm tm{};
  long long micros;
  split_time(t, tm, micros);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, micros);
  return out;
}

Json json_time(const std::optional<TimePoint>& t) {
  return t ? Json(iso_time(*t)) : Json();
}

Json json_string(const std::optional<std::string>& s) {
  return s ? Json(*s) : Json();
}

std::string one_line(const std::string& s, std::size_t max) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool starts_char = (c & 0xC0) != 0x80;
    if (starts_char) {
      if (chars == max) {
        out += "…";
        return out;
      }
      ++chars;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : s[i];
  }
  return out;
}

Json to_json(const QueueStats& s) {
  Json age;
  if (s.oldest_waiting_age) age = static_cast<double>(s.oldest_waiting_age->count()) / 1e6;
  return Json{{"queue", s.queue},     {"waiting", s.waiting},     {"scheduled", s.scheduled},
              {"blocked", s.blocked}, {"running", s.running},     {"succeeded", s.succeeded},
              {"dead", s.dead},       {"cancelled", s.cancelled}, {"oldest_waiting_seconds", age}};
}

Json to_json(const JobInfo& j) {
  return Json{{"id", j.id},
              {"queue", j.queue},
              {"task", j.task},
              {"status", j.status},
              {"args", j.args},
              {"priority", j.priority},
              {"attempts", j.attempts},
              {"max_attempts", j.max_attempts},
              {"run_at", json_time(j.run_at)},
              {"lock", json_string(j.lock)},
              {"queueing_lock", json_string(j.queueing_lock)},
              {"worker", json_string(j.worker)},
              {"lease_expires_at", json_time(j.lease_expires_at)},
              {"abort_requested", j.abort_requested},
              {"result", j.result},
              {"error", json_string(j.error)},
              {"deferred_at", iso_time(j.deferred_at)},
              {"claimed_at", json_time(j.claimed_at)},
              {"finished_at", json_time(j.finished_at)}};
}

Json to_json(const JobEvent& e) {
  return Json{{"seq", e.seq}, {"at", iso_time(e.at)}, {"kind", e.kind}, {"detail", e.detail}};
}

void print_json(const Json& value) {
  std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
}

}  // namespace baton::cli
