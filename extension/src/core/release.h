// Which releases of baton's SQL this library serves. One baton.so serves every release
// up to its own (ARCHITECTURE §2): after a package upgrade it runs against the SQL of a
// database not yet updated with ALTER EXTENSION. A database on a release this library
// does not know needs a newer library, and is refused with a clear error.
#pragma once

namespace baton::core {

// This library's version; test/release/check.sh checks it equals baton.control's
// default_version.
inline constexpr const char* kLibraryVersion = "0.3.0";

// Every release whose SQL this library serves, oldest first.
inline constexpr const char* kServedReleases[] = {"0.1.0", "0.2.0", "0.3.0"};

// Whether `version` (an extension version as pg_extension records it) is one of them.
bool serves_release(const char* version);

// Orders dotted numeric versions ("0.10.0" after "0.9.1"): negative, zero or positive.
// A part that is not a number sorts as 0.
int compare_versions(const char* a, const char* b);

}  // namespace baton::core
