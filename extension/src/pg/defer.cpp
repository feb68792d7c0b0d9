// defer_v1 and defer_many_v1: enqueue jobs.
#include <algorithm>
#include <cstdio>

#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"
#include "args.h"
#include "boundary.h"
#include "int64_order.h"
#include "job_options.h"
#include "jobs_write.h"
#include "lock_keys.h"
#include "notify.h"
#include "queue_row.h"
#include "spi.h"

extern "C" {
#include "commands/sequence.h"
}

namespace baton::pg {
namespace {

namespace limits = core::limits;
namespace sqlstate = core::sqlstate;

// The queue row is read first, directly (queue_row.h): `wake` says whether an idle worker
// listens (await_work_v1), and the queue's keep_succeeded is copied into each job ($13).
// The queueing-lock variant adds ON CONFLICT DO NOTHING, which turns a duplicate into a
// missing id; the plain variant skips speculative insertion.
// run_at is read from the clock as each row is built (claim_floor.h needs it no earlier
// than that). A job claims may have passed already is marked (claim_floor.h): a priority
// above 0, a run_at in the past (a delay is never negative), or a queueing lock (its
// insert may wait for a conflicting transaction after the row is built).
#define BATON_MARKED(QLOCK) \
  "($4 > 0 OR COALESCE($5 < pg_catalog.clock_timestamp(), false) OR " QLOCK " IS NOT NULL)"
#define BATON_DEFER_SQL(SOURCE, STATUS, KEYS, QLOCK, TAIL) \
  "INSERT INTO baton.jobs (queue, task, args, priority, run_at, status,"                     \
  "   max_attempts, retry_backoff, retry_delay, retry_delay_max, lock, queueing_lock,"       \
  "   deferred_at, marked, keep_succeeded)"                                                  \
  " SELECT $1, $2, " SOURCE                                                                  \
  ", $4,"                                                                                    \
  "   COALESCE($5, pg_catalog.clock_timestamp() + COALESCE($6, '0'::pg_catalog.interval)), " \
  STATUS                                                                                     \
  ","                                                                                        \
  "   $7, $8, $9, $10, " KEYS                                                                \
  ", pg_catalog.now(), " BATON_MARKED(QLOCK) ", $13"                                         \
  " " TAIL                                                                                   \
  " RETURNING id, status = 'waiting' AND run_at <= pg_catalog.clock_timestamp() AS due"

// A job whose lock already has an active job queues behind it, blocked.
#define BATON_ONE_STATUS                                                             \
  "CASE WHEN $11::pg_catalog.text IS NOT NULL AND EXISTS ("                          \
  "  SELECT 1 FROM baton.jobs h WHERE h.lock = $11) THEN 'blocked'::baton.job_state" \
  "  ELSE 'waiting' END"
#define BATON_MANY_STATUS                                                                \
  "CASE WHEN a.lock IS NOT NULL AND (a.lock_rank > 1 OR EXISTS ("                        \
  "  SELECT 1 FROM baton.jobs h WHERE h.lock = a.lock)) THEN 'blocked'::baton.job_state" \
  "  ELSE 'waiting' END"
#define BATON_MANY_FROM                                                               \
  "FROM (SELECT u.*, pg_catalog.row_number() OVER (PARTITION BY u.lock ORDER BY u.n)" \
  "  AS lock_rank FROM ROWS FROM (pg_catalog.unnest($3), pg_catalog.unnest($11),"     \
  "  pg_catalog.unnest($12)) WITH ORDINALITY AS u(args, lock, qlock, n)) AS a ORDER BY a.n"
#define BATON_ON_CONFLICT                                                               \
  "ON CONFLICT (queueing_lock) WHERE status IN ('waiting', 'blocked') AND attempts = 0" \
  " AND queueing_lock IS NOT NULL DO NOTHING"

constexpr const char* kDeferOne = BATON_DEFER_SQL("$3", BATON_ONE_STATUS, "$11, $12", "$12", "");
// The common single case, no lock and no queueing lock: no lookup of a lock's head.
constexpr const char* kDeferOnePlain =
    BATON_DEFER_SQL("$3", "'waiting'::baton.job_state", "NULL, NULL", "NULL", "");
constexpr const char* kDeferOneUnique =
    BATON_DEFER_SQL("$3", BATON_ONE_STATUS, "$11, $12", "$12", BATON_ON_CONFLICT);
constexpr const char* kDeferMany =
    BATON_DEFER_SQL("a.args", BATON_MANY_STATUS, "a.lock, a.qlock", "a.qlock", BATON_MANY_FROM);
// The common bulk case, no locks and no queueing locks: no ranking of locks, no lookups.
constexpr const char* kDeferManyPlain =
    BATON_DEFER_SQL("a.args", "'waiting'::baton.job_state", "NULL, NULL", "NULL",
                    "FROM pg_catalog.unnest($3) WITH ORDINALITY AS a(args, n) ORDER BY a.n");
constexpr const char* kDeferManyUnique =
    BATON_DEFER_SQL("a.args", BATON_MANY_STATUS, "a.lock, a.qlock", "a.qlock",
                    BATON_MANY_FROM " " BATON_ON_CONFLICT);

SPIPlanPtr defer_one_plan = nullptr;
SPIPlanPtr defer_one_plain_plan = nullptr;
SPIPlanPtr defer_one_unique_plan = nullptr;
SPIPlanPtr defer_many_plan = nullptr;
SPIPlanPtr defer_many_plain_plan = nullptr;
SPIPlanPtr defer_many_unique_plan = nullptr;

// $1..$12 are the arguments, $13 the queue's keep_succeeded.
constexpr int kDeferParams = 13;
const Oid kDeferOneTypes[kDeferParams] = {
    TEXTOID, TEXTOID,     JSONBOID,    INT4OID, TIMESTAMPTZOID, INTERVALOID, INT4OID,
    TEXTOID, INTERVALOID, INTERVALOID, TEXTOID, TEXTOID,        BOOLOID};
const Oid kDeferManyTypes[kDeferParams] = {
    TEXTOID, TEXTOID,     JSONBARRAYOID, INT4OID,      TIMESTAMPTZOID, INTERVALOID, INT4OID,
    TEXTOID, INTERVALOID, INTERVALOID,   TEXTARRAYOID, TEXTARRAYOID,   BOOLOID};

void bind_options(const JobOptions& o, Datum* values, char* nulls) {
  values[3] = o.priority;
  values[4] = o.run_at;
  nulls[4] = o.run_at_null ? 'n' : ' ';
  values[5] = o.delay;
  nulls[5] = o.delay_null ? 'n' : ' ';
  values[6] = o.max_attempts;
  values[7] = o.retry_backoff;
  values[8] = o.retry_delay;
  values[9] = o.retry_delay_max;
}

// Binds the 12 arguments as $1..$12; the options are re-bound from their checked form.
void bind_arguments(FunctionCallInfo fcinfo, Datum* values, char* nulls) {
  for (int i = 0; i < 12; ++i) {
    nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
    values[i] = PG_ARGISNULL(i) ? (Datum)0 : PG_GETARG_DATUM(i);
  }
}

void check_optional_label(FunctionCallInfo fcinfo, int n, const char* name) {
  if (PG_ARGISNULL(n)) return;
  TextRef value = text_arg(fcinfo, n);
  core::validate_label(name, value.data, value.len, limits::kLockKeyMax);
}

[[noreturn]] void fail_unknown_queue(FunctionCallInfo fcinfo) {
  TextRef queue = text_arg(fcinfo, 0);
  core::fail_hint(sqlstate::kUndefinedObject, "Create it with baton.create_queue_v1().",
                  "queue \"%.*s\" does not exist", static_cast<int>(queue.len), queue.data);
}

// Reads the queue (queue_row.h) and binds its keep_succeeded as $13; raises on an unknown
// queue. Returns whether an idle worker listens.
bool read_queue(FunctionCallInfo fcinfo, Datum* values, char* nulls) {
  QueueRow queue;
  if (!lookup_queue_row(PG_GETARG_DATUM(0), &queue)) fail_unknown_queue(fcinfo);
  values[12] = BoolGetDatum(queue.keep_succeeded);
  nulls[12] = ' ';
  return queue.wake;
}

// After the insert statement: sends the wake-up when a job is due now, and returns how
// many rows were inserted (a queueing-lock duplicate inserts none).
uint64 finish_insert(FunctionCallInfo fcinfo, bool wake) {
  bool isnull;
  bool any_due = false;
  for (uint64 i = 0; i < SPI_processed && !any_due; ++i)
    any_due = DatumGetBool(result_value(static_cast<int>(i), 2, &isnull));
  if (wake && any_due) {
    TextRef queue = text_arg(fcinfo, 0);
    notify_queue(queue.data, queue.len);
  }
  return SPI_processed;
}

// The jsonb '[]' a new job's events start with, built once per backend.
Datum empty_events() {
  static Datum events = (Datum)0;  // a pointer into TopMemoryContext: trivially destructible
  if (events == (Datum)0) {
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    events = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
    MemoryContextSwitchTo(old);
  }
  return events;
}

// The direct path (jobs_layout.h) of a job without a lock or queueing lock: the row the
// plain insert statement would write. Returns the id; *due says whether it is due now.
int64 defer_plain_directly(const JobsLayout* layout, FunctionCallInfo fcinfo, const JobOptions& o,
                           Datum keep_succeeded, bool* due) {
  require_table_rights(layout->jobs, ACL_INSERT | ACL_SELECT);
  JobRow row;
  int64 id = nextval_internal(layout->job_id_seq, true);
  // run_at from the clock as the row is built (claim_floor.h); marked as BATON_MARKED says.
  TimestampTz clock = GetCurrentTimestamp();
  TimestampTz run_at = clock;
  if (!o.run_at_null)
    run_at = DatumGetTimestampTz(o.run_at);
  else if (!o.delay_null)
    run_at = DatumGetTimestampTz(
        DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(clock), o.delay));
  bool marked = DatumGetInt32(o.priority) > 0 || (!o.run_at_null && run_at < clock);
  job_value(&row, kJobId) = Int64GetDatum(id);
  job_value(&row, kJobQueue) = PG_GETARG_DATUM(0);
  job_value(&row, kJobTask) = PG_GETARG_DATUM(1);
  job_value(&row, kJobArgs) = PointerGetDatum(PG_GETARG_JSONB_P(2));
  job_value(&row, kJobPriority) = o.priority;
  job_value(&row, kJobRunAt) = TimestampTzGetDatum(run_at);
  job_value(&row, kJobStatus) = ObjectIdGetDatum(layout->waiting);
  job_value(&row, kJobMarked) = BoolGetDatum(marked);
  job_value(&row, kJobAttempts) = Int32GetDatum(0);
  job_value(&row, kJobMaxAttempts) = o.max_attempts;
  job_value(&row, kJobRetryBackoff) = o.retry_backoff;
  job_value(&row, kJobRetryDelay) = o.retry_delay;
  job_value(&row, kJobRetryDelayMax) = o.retry_delay_max;
  set_job_null(&row, kJobLock);
  set_job_null(&row, kJobQueueingLock);
  set_job_null(&row, kJobWorker);
  set_job_null(&row, kJobLeaseToken);
  set_job_null(&row, kJobLeaseExpiresAt);
  job_value(&row, kJobAbortRequested) = BoolGetDatum(false);
  job_value(&row, kJobKeepSucceeded) = keep_succeeded;
  set_job_null(&row, kJobLastError);
  job_value(&row, kJobDeferredAt) = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
  set_job_null(&row, kJobClaimedAt);
  job_value(&row, kJobEvents) = empty_events();
  JobsTable table;
  open_jobs_table(layout, &table);
  insert_job(&table, &row);
  close_jobs_table(&table);
  CommandCounterIncrement();
  *due = run_at <= GetCurrentTimestamp();
  return id;
}

Datum defer_one(FunctionCallInfo fcinfo) {
  JobOptions options = read_job_options(fcinfo);
  require_arg(fcinfo, 2, "args");
  check_jsonb("args", PG_GETARG_JSONB_P(2), true);
  check_optional_label(fcinfo, 10, "lock");
  check_optional_label(fcinfo, 11, "queueing_lock");

  Datum values[kDeferParams];
  char nulls[kDeferParams];
  bind_arguments(fcinfo, values, nulls);
  values[2] = PointerGetDatum(PG_GETARG_JSONB_P(2));
  bind_options(options, values, nulls);
  bool unique = !PG_ARGISNULL(11);
  if (!PG_ARGISNULL(10)) lock_keys(&values[10], nullptr, 1);
  bool wake = read_queue(fcinfo, values, nulls);

  const JobsLayout* layout = unique || !PG_ARGISNULL(10) ? nullptr : lock_jobs_for_direct_write();
  if (layout != nullptr) {
    bool due;
    int64 id = defer_plain_directly(layout, fcinfo, options, values[12], &due);
    if (wake && due) {
      TextRef queue = text_arg(fcinfo, 0);
      notify_queue(queue.data, queue.len);
    }
    PG_RETURN_INT64(id);
  }

  spi_begin();
  SPIPlanPtr plan;
  if (unique)
    plan = kept_plan(&defer_one_unique_plan, kDeferOneUnique, kDeferParams, kDeferOneTypes);
  else if (!PG_ARGISNULL(10))
    plan = kept_plan(&defer_one_plan, kDeferOne, kDeferParams, kDeferOneTypes);
  else
    plan = kept_plan(&defer_one_plain_plan, kDeferOnePlain, kDeferParams, kDeferOneTypes);
  execute(plan, values, nulls);
  if (finish_insert(fcinfo, wake) == 0) {
    TextRef key = text_arg(fcinfo, 11);
    core::fail_hint(sqlstate::kUniqueViolation,
                    "At most one job per queueing_lock waits at a time; the duplicate was not "
                    "deferred.",
                    "a job with queueing_lock \"%.*s\" is already waiting to start",
                    static_cast<int>(key.len), key.data);
  }
  bool isnull;
  int64 id = DatumGetInt64(result_value(0, 1, &isnull));
  spi_end();
  PG_RETURN_INT64(id);
}

// Reads an optional text[] argument of per-job keys and checks every non-null element.
bool read_keys(FunctionCallInfo fcinfo, int n, const char* name, int count) {
  if (PG_ARGISNULL(n)) return false;
  ArrayArg keys = array_arg(fcinfo, n, TEXTOID);
  require_same_length(name, &keys, count, "args");
  bool any = false;
  for (int i = 0; i < keys.count; ++i) {
    if (keys.nulls[i]) continue;
    TextRef key = text_ref(DatumGetTextPP(keys.values[i]));
    core::validate_label(name, key.data, key.len, limits::kLockKeyMax);
    any = true;
  }
  return any;
}

Datum defer_many(FunctionCallInfo fcinfo) {
  JobOptions options = read_job_options(fcinfo);
  require_arg(fcinfo, 2, "args");
  ArrayArg args = array_arg(fcinfo, 2, JSONBOID);
  if (args.count < 1 || args.count > limits::kBulkMax)
    core::fail(sqlstate::kInvalidParameter, "args must have between 1 and %d elements (got %d)",
               limits::kBulkMax, args.count);
  for (int i = 0; i < args.count; ++i) {
    if (args.nulls[i]) core::fail(sqlstate::kNullValue, "args[%d] must not be null", i + 1);
    check_jsonb("args element", DatumGetJsonbP(args.values[i]), true);
  }
  bool any_lock = read_keys(fcinfo, 10, "locks", args.count);
  bool unique = read_keys(fcinfo, 11, "queueing_locks", args.count);

  Datum values[kDeferParams];
  char nulls[kDeferParams];
  bind_arguments(fcinfo, values, nulls);
  bind_options(options, values, nulls);
  if (any_lock) {
    ArrayArg locks = array_arg(fcinfo, 10, TEXTOID);
    lock_keys(locks.values, locks.nulls, locks.count);
  }

  bool wake = read_queue(fcinfo, values, nulls);

  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  spi_begin();
  SPIPlanPtr plan;
  if (unique)
    plan = kept_plan(&defer_many_unique_plan, kDeferManyUnique, kDeferParams, kDeferManyTypes);
  else if (any_lock)
    plan = kept_plan(&defer_many_plan, kDeferMany, kDeferParams, kDeferManyTypes);
  else
    plan = kept_plan(&defer_many_plain_plan, kDeferManyPlain, kDeferParams, kDeferManyTypes);
  execute(plan, values, nulls);
  uint64 inserted = finish_insert(fcinfo, wake);
  if (inserted != static_cast<uint64>(args.count))
    core::fail_hint(sqlstate::kUniqueViolation,
                    "At most one job per queueing_lock waits at a time; nothing was deferred.",
                    "%d of %d jobs have a queueing_lock that already has a job waiting to start",
                    args.count - static_cast<int>(inserted), args.count);
  // Ids come from one sequence in input order; sorting makes the output order a guarantee.
  int64* ids = static_cast<int64*>(palloc(sizeof(int64) * inserted));
  bool isnull;
  for (uint64 i = 0; i < inserted; ++i)
    ids[i] = DatumGetInt64(result_value(static_cast<int>(i), 1, &isnull));
  qsort(ids, inserted, sizeof(int64), compare_int64);
  for (uint64 i = 0; i < inserted; ++i) {
    Datum value = Int64GetDatum(ids[i]);
    bool null = false;
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &null);
  }
  spi_end();
  return (Datum)0;
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_defer_v1, baton::pg::defer_one)
BATON_ENTRY(baton_defer_many_v1, baton::pg::defer_many)
