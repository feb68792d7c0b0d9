#include "finish_status.h"

#include <cstring>

#include "error.h"
// Last include: fails the build if anything above pulled in a PostgreSQL header.
#include "pure_zone.h"

namespace baton::core {

FinishStatus parse_finish_status(const char* text, std::size_t len) {
  auto is = [&](const char* word) {
    return std::strlen(word) == len && std::memcmp(text, word, len) == 0;
  };
  if (is("succeeded")) return FinishStatus::kSucceeded;
  if (is("failed")) return FinishStatus::kFailed;
  if (is("cancelled")) return FinishStatus::kCancelled;
  fail_hint(sqlstate::kInvalidParameter, "Use succeeded, failed or cancelled.",
            "status \"%.*s\" is not a finish status", static_cast<int>(len), text);
}

}  // namespace baton::core
