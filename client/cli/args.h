// Command-line parsing of the baton CLI: options (--name VALUE, --name=VALUE, -x VALUE,
// flags), positional arguments, and the value parsers of the commands (integers, durations).
// Every problem is a UsageError, which main() reports with the command's usage line (exit 2).
#pragma once

#include <baton/types.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace baton::cli {

// Bad command-line arguments (or a bad config file): exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // long name without the dashes, e.g. "queue"
  char short_name = 0;     // e.g. 'q'; 0 = none
  std::string value_name;  // empty: a flag without a value; else shown in help, e.g. "NAME"
  std::string help;
};

class ParsedArgs {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  // The option's value (the last one given), or nullopt.
  std::optional<std::string> get(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  void set(const std::string& name, std::string value) { values_[name] = std::move(value); }
  void add_positional(std::string value) { positionals_.push_back(std::move(value)); }

 private:
  std::map<std::string, std::string> values_;  // flags map to ""
  std::vector<std::string> positionals_;
};

// Parses args against specs. Options may come before, between or after positionals; "--"
// ends the options. Throws UsageError for an unknown option or a missing value.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs);

// "  -q, --queue NAME      help" lines for a command's --help.
std::string format_options(const std::vector<OptionSpec>& specs);

// Value parsers; `what` names the argument in the error message (e.g. "--limit").
long long parse_int(const std::string& what, const std::string& text, long long min, long long max);
// Durations: a number with a unit, or several: "500ms", "30s", "5m", "1h30m", "2d";
// a bare number is seconds ("1.5" = 1.5 s). Units: us, ms, s, m, h, d.
Duration parse_duration(const std::string& what, const std::string& text);
// A JSON value; `object_only` refuses anything but an object.
Json parse_json(const std::string& what, const std::string& text, bool object_only);

}  // namespace baton::cli
