// The snapshot payload formats this library can store and that clients may write. A
// snapshot row carries its format_version; a released format is never dropped from this
// list (old snapshots stay readable), a new one is appended with the release that adds it.
#pragma once

namespace baton::core {

inline constexpr int kSnapshotFormats[] = {1};

// The format a snapshot without a version is read as (rows written before versions existed).
inline constexpr int kDefaultSnapshotFormat = 1;

bool snapshot_format_supported(int format_version);

// The newest format, the one writers should use.
int newest_snapshot_format();

}  // namespace baton::core
