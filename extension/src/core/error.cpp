#include "error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
// Last include: fails the build if anything above pulled in a PostgreSQL header.
#include "pure_zone.h"

namespace baton::core {

namespace {
void copy_text(char* dst, std::size_t size, const char* src) {
  if (src == nullptr) src = "";
  std::snprintf(dst, size, "%s", src);
}
}  // namespace

Error::Error(const char* sqlstate, const char* message, const char* detail, const char* hint) {
  copy_text(sqlstate_, sizeof sqlstate_, sqlstate);
  copy_text(message_, sizeof message_, message);
  copy_text(detail_, sizeof detail_, detail);
  copy_text(hint_, sizeof hint_, hint);
}

void fail(const char* sqlstate, const char* format, ...) {
  char text[Error::kTextSize];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  throw Error(sqlstate, text);
}

void fail_hint(const char* sqlstate, const char* hint, const char* format, ...) {
  char text[Error::kTextSize];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  throw Error(sqlstate, text, nullptr, hint);
}

}  // namespace baton::core
