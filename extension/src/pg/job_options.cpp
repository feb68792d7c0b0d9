#include "job_options.h"

#include "../core/backoff.h"
#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"
#include "args.h"

namespace baton::pg {

namespace limits = core::limits;

JobOptions read_job_options(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "queue");
  TextRef queue = text_arg(fcinfo, 0);
  core::validate_queue_name("queue", queue.data, queue.len);
  require_arg(fcinfo, 1, "task");
  TextRef task = text_arg(fcinfo, 1);
  core::validate_label("task", task.data, task.len, limits::kTaskNameMax);

  JobOptions options;
  require_arg(fcinfo, 3, "priority");
  core::validate_int_range("priority", PG_GETARG_INT32(3), limits::kPriorityMin,
                           limits::kPriorityMax);
  options.priority = PG_GETARG_DATUM(3);

  options.run_at_null = PG_ARGISNULL(4);
  options.run_at = options.run_at_null ? (Datum)0 : PG_GETARG_DATUM(4);
  options.delay_null = PG_ARGISNULL(5);
  options.delay = options.delay_null ? (Datum)0 : PG_GETARG_DATUM(5);
  if (!options.run_at_null && !options.delay_null)
    core::fail_hint(core::sqlstate::kInvalidParameter, "Pass one of them, not both.",
                    "run_at and delay are mutually exclusive");
  if (!options.run_at_null) {
    TimestampTz run_at = PG_GETARG_TIMESTAMPTZ(4);
    if (TIMESTAMP_NOT_FINITE(run_at))
      core::fail(core::sqlstate::kInvalidParameter, "run_at must be a finite timestamp");
  }
  if (!options.delay_null) interval_arg_seconds(fcinfo, 5, "delay", 0, limits::kDelayMaxSeconds);

  require_arg(fcinfo, 6, "max_attempts");
  core::validate_int_range("max_attempts", PG_GETARG_INT32(6), 1, limits::kMaxAttemptsMax);
  options.max_attempts = PG_GETARG_DATUM(6);

  require_arg(fcinfo, 7, "retry_backoff");
  TextRef backoff = text_arg(fcinfo, 7);
  core::parse_backoff(backoff.data, backoff.len);
  options.retry_backoff = PG_GETARG_DATUM(7);

  double delay = interval_arg_seconds(fcinfo, 8, "retry_delay", 0, limits::kRetryDelayMaxSeconds);
  double delay_max =
      interval_arg_seconds(fcinfo, 9, "retry_delay_max", 0, limits::kRetryDelayMaxSeconds);
  if (delay_max < delay)
    core::fail(core::sqlstate::kInvalidParameter,
               "retry_delay_max (%g s) must not be less than retry_delay (%g s)", delay_max, delay);
  options.retry_delay = PG_GETARG_DATUM(8);
  options.retry_delay_max = PG_GETARG_DATUM(9);
  return options;
}

}  // namespace baton::pg
