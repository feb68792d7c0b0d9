// Output of the baton CLI: aligned tables, human-readable times and durations, and the JSON
// forms of the library's value types (the stable keys of --json).
#pragma once

#include <baton/types.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace baton::cli {

// A text table: a header row and data rows, printed with columns aligned to their widest
// cell (numbers right-aligned), separated by two spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> header);
  // Marks a column as numeric (right-aligned).
  void align_right(std::size_t column);
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// "250ms", "42s", "3m05s", "2h07m", "4d03h".
std::string format_duration(Duration d);
// UTC, to the second: "2025-01-02 03:04:05Z"; "-" for nullopt.
std::string format_time(const std::optional<TimePoint>& t);
// RFC 3339 UTC with microseconds: "2025-01-02T03:04:05.123456Z" (for --json).
std::string iso_time(TimePoint t);
Json json_time(const std::optional<TimePoint>& t);      // null for nullopt
Json json_string(const std::optional<std::string>& s);  // null for nullopt
// Cuts a string to at most `max` characters (adding "…") and replaces line breaks by spaces.
std::string one_line(const std::string& s, std::size_t max);

// The --json forms.
Json to_json(const QueueStats& stats);
Json to_json(const JobInfo& job);
Json to_json(const JobEvent& event);

// Prints a JSON document on stdout (indented, with a final newline).
void print_json(const Json& value);

}  // namespace baton::cli
