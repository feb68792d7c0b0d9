// baton.retry_delay(): the core's backoff policy, callable from SQL statements.
#include "../core/backoff.h"
#include "args.h"
#include "boundary.h"

namespace baton::pg {
namespace {

Datum retry_delay(FunctionCallInfo fcinfo) {
  TextRef name = text_arg(fcinfo, 0);
  core::Backoff backoff = core::parse_backoff(name.data, name.len);
  double base = interval_seconds(PG_GETARG_INTERVAL_P(1));
  double cap = interval_seconds(PG_GETARG_INTERVAL_P(2));
  double seconds = core::retry_delay_seconds(backoff, base, cap, PG_GETARG_INT32(3));
  Interval* result = static_cast<Interval*>(palloc0(sizeof(Interval)));
  result->time = static_cast<TimeOffset>(seconds * USECS_PER_SEC);
  PG_RETURN_INTERVAL_P(result);
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_retry_delay, baton::pg::retry_delay)
