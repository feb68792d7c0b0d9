// The scheduling and retry options shared by defer_v1 and defer_many_v1, read and checked
// once per call. Argument positions 3..9 are the same in both functions.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

struct JobOptions {
  // Datums ready to bind, in the order of parameters $4..$10 of the insert statements.
  Datum priority;
  Datum run_at;  // NULL when run_at_null
  bool run_at_null;
  Datum delay;  // NULL when delay_null
  bool delay_null;
  Datum max_attempts;
  Datum retry_backoff;
  Datum retry_delay;
  Datum retry_delay_max;
};

// Reads queue (0), task (1) and options (3..9); throws core::Error on bad input.
JobOptions read_job_options(FunctionCallInfo fcinfo);

}  // namespace baton::pg
