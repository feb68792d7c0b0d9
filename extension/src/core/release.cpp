#include "release.h"

#include <cstdlib>
#include <cstring>

#include "pure_zone.h"

namespace baton::core {

bool serves_release(const char* version) {
  for (const char* release : kServedReleases)
    if (std::strcmp(release, version) == 0) return true;
  return false;
}

int compare_versions(const char* a, const char* b) {
  while (*a != '\0' || *b != '\0') {
    char* end_a;
    char* end_b;
    long x = std::strtol(a, &end_a, 10);
    long y = std::strtol(b, &end_b, 10);
    if (x != y) return x < y ? -1 : 1;
    // On to the next part: past anything that was not a digit, then past the dot.
    a = end_a + std::strcspn(end_a, ".");
    b = end_b + std::strcspn(end_b, ".");
    if (*a == '.') ++a;
    if (*b == '.') ++b;
  }
  return 0;
}

}  // namespace baton::core
