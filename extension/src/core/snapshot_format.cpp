#include "snapshot_format.h"

#include "pure_zone.h"

namespace baton::core {

bool snapshot_format_supported(int format_version) {
  for (int f : kSnapshotFormats)
    if (f == format_version) return true;
  return false;
}

int newest_snapshot_format() {
  int newest = 0;
  for (int f : kSnapshotFormats)
    if (f > newest) newest = f;
  return newest;
}

}  // namespace baton::core
