// The library's half of the version handshake (core/release.h says which releases it serves).
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// ERRORs (QB002, with a HINT) when this database's baton SQL is a release this library
// does not serve. Called from _PG_init, so every call into the library of a backend that
// loads it first fails with that message instead of "could not find function".
void refuse_unknown_release();

}  // namespace baton::pg
