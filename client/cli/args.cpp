#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace baton::cli {

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

namespace {

const OptionSpec* find_long(const std::vector<OptionSpec>& specs, const std::string& name) {
  for (const OptionSpec& spec : specs)
    if (spec.name == name) return &spec;
  return nullptr;
}

const OptionSpec* find_short(const std::vector<OptionSpec>& specs, char name) {
  for (const OptionSpec& spec : specs)
    if (spec.short_name != 0 && spec.short_name == name) return &spec;
  return nullptr;
}

}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs) {
  ParsedArgs out;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      out.add_positional(arg);  // includes "-" (e.g. "read from stdin")
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    std::string shown;
    if (arg.compare(0, 2, "--") == 0) {
      std::string name = arg.substr(2);
      std::size_t eq = name.find('=');
      if (eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name.resize(eq);
      }
      spec = find_long(specs, name);
      shown = "--" + name;
    } else {
      spec = find_short(specs, arg[1]);
      shown = arg.substr(0, 2);
      if (arg.size() > 2) inline_value = arg.substr(2);  // -q emails or -qemails
    }
    if (spec == nullptr) throw UsageError("unknown option " + shown);
    if (spec->value_name.empty()) {
      if (inline_value && arg.compare(0, 2, "--") == 0)
        throw UsageError("option " + shown + " takes no value");
      if (inline_value) throw UsageError("unknown option " + arg);
      out.set(spec->name, "");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size())
        throw UsageError("option " + shown + " needs a value (" + spec->value_name + ")");
      inline_value = args[++i];
    }
    out.set(spec->name, *inline_value);
  }
  return out;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 0;
  for (const OptionSpec& spec : specs) {
    std::string left = spec.short_name ? std::string("-") + spec.short_name + ", " : "    ";
    left += "--" + spec.name;
    if (!spec.value_name.empty()) left += " " + spec.value_name;
    width = std::max(width, left.size());
    rows.emplace_back(left, spec.help);
  }
  std::ostringstream out;
  for (const auto& [left, help] : rows) {
    out << "  " << left << std::string(width - left.size() + 2, ' ');
    // Continuation lines of a multi-line help text are indented under the first.
    std::istringstream lines(help);
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
      if (!first) out << "\n" << std::string(width + 4, ' ');
      out << line;
      first = false;
    }
    out << "\n";
  }
  return out.str();
}

long long parse_int(const std::string& what, const std::string& text, long long min,
                    long long max) {
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE)
    throw UsageError(what + " must be an integer, not \"" + text + "\"");
  if (value < min || value > max)
    throw UsageError(what + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", not " + text);
  return value;
}

Duration parse_duration(const std::string& what, const std::string& text) {
  auto bad = [&]() {
    return UsageError(what + " must be a duration like 30s, 500ms, 5m, 1h30m or 2d, not \"" + text +
                      "\"");
  };
  if (text.empty()) throw bad();
  double total_us = 0;
  std::size_t pos = 0;
  bool bare_number_allowed = true;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
      ++pos;
    if (pos == start) throw bad();
    double number = 0;
    try {
      std::size_t used = 0;
      number = std::stod(text.substr(start, pos - start), &used);
      if (used != pos - start) throw bad();
    } catch (const std::logic_error&) {
      throw bad();
    }
    std::size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string unit = text.substr(unit_start, pos - unit_start);
    double scale;
    if (unit.empty()) {
      if (!bare_number_allowed || pos != text.size()) throw bad();
      scale = 1e6;
    } else if (unit == "us") {
      scale = 1;
    } else if (unit == "ms") {
      scale = 1e3;
    } else if (unit == "s") {
      scale = 1e6;
    } else if (unit == "m") {
      scale = 60e6;
    } else if (unit == "h") {
      scale = 3600e6;
    } else if (unit == "d") {
      scale = 86400e6;
    } else {
      throw bad();
    }
    bare_number_allowed = false;
    total_us += number * scale;
  }
  if (!std::isfinite(total_us) || total_us > 1e17) throw bad();
  return Duration(static_cast<Duration::rep>(std::llround(total_us)));
}

Json parse_json(const std::string& what, const std::string& text, bool object_only) {
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw UsageError(what + " is not valid JSON: " + e.what());
  }
  if (object_only && !value.is_object())
    throw UsageError(what + " must be a JSON object, e.g. '{\"user_id\": 42}'");
  return value;
}

}  // namespace baton::cli
