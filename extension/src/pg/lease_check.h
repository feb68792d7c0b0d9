// Explains why a call carrying a lease token matched no running job, as an error.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// Must run inside SPI. Always throws: P0002 for an unknown job, QB001 (lease lost) for a
// job that is finished, waiting, held under another token, or whose lease has expired.
[[noreturn]] void raise_lease_error(int64 job_id, Datum lease_token, const char* action);

}  // namespace baton::pg
