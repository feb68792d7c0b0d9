// finish_v1 and finish_many_v1: report the outcome of attempts, fenced by lease tokens.
#include "../core/error.h"
#include "../core/finish_status.h"
#include "../core/limits.h"
#include "args.h"
#include "boundary.h"
#include "int64_order.h"
#include "jobs_write.h"
#include "lease_check.h"
#include "lock_keys.h"
#include "spi.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

namespace baton::pg {
namespace {

namespace limits = core::limits;
namespace sqlstate = core::sqlstate;

// When a failed attempt of job j is tried again: read from the clock as the row is built,
// so the requeued job is marked (claim_floor.h) only for its priority.
#define BATON_RETRY_AT                                                               \
  "pg_catalog.clock_timestamp() + baton.retry_delay(j.retry_backoff, j.retry_delay," \
  " j.retry_delay_max, j.attempts)"

// The event a failed attempt leaves when the job goes back to waiting: the attempt leaves
// the columns (claimed_at, worker), so its claim time and worker go into the event.
#define BATON_FAILED_EVENT(ERROR)                                                            \
  "pg_catalog.jsonb_build_array(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(" \
  "  'at', pg_catalog.clock_timestamp(), 'kind', 'failed', 'attempt', j.attempts,"           \
  "  'worker', j.worker, 'claimed_at', j.claimed_at, 'error', " ERROR                        \
  ","                                                                                        \
  "  'retry_at', " BATON_RETRY_AT ")))"

// The bulk form: one statement for every outcome. Each input row finds its job through the
// primary key (a nested loop over the input, however the statistics look). A failed attempt
// with attempts left goes back to waiting after its retry delay; everything else moves into
// history. The two conditions exclude each other, so the UPDATE and the DELETE touch
// different rows. Rows whose token does not match are absent from the result (the caller
// reports lease_lost).
// A lease token is set exactly while a job runs (a CHECK constraint says so), so matching
// it needs no status test. finish_many_v1 runs with hash joins, merge joins and
// materialization off, so each input row probes the primary key (a parameterized nested
// loop) whatever the statistics say: linear in the batch, never a scan of jobs.
#define BATON_HELD                           \
  " j.id = i.id AND j.lease_token = i.token" \
  " AND j.lease_expires_at > pg_catalog.clock_timestamp()"
#define BATON_AGAIN "(i.status = 'failed' AND i.retryable AND j.attempts < j.max_attempts)"
#define BATON_FINISH_INPUT                                                                 \
  "WITH input AS MATERIALIZED ("                                                           \
  "  SELECT i.id, i.token, i.status, i.result, pg_catalog.left(i.error, 16384) AS error,"  \
  "         COALESCE(i.retryable, true) AS retryable"                                      \
  "  FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3)," \
  "    pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6))"               \
  "       AS i(id, token, status, result, error, retryable)),"
#define BATON_FINISH_REQUEUE                                                                      \
  " requeued AS ("                                                                                \
  "  UPDATE baton.jobs j SET status = 'waiting', run_at = " BATON_RETRY_AT                        \
  ", worker = NULL, marked = j.priority > 0,"                                                     \
  "    lease_token = NULL, lease_expires_at = NULL, abort_requested = false,"                     \
  "    claimed_at = NULL, last_error = i.error,"                                                  \
  "    events = j.events || " BATON_FAILED_EVENT(                                                 \
      "i.error") "  FROM input i WHERE" BATON_HELD " AND " BATON_AGAIN                            \
                 "  RETURNING j.id, 'waiting'::pg_catalog.text AS status, NULL::pg_catalog.text " \
                 "AS lock),"
// Every job that left goes into history, except a succeeded one of a queue that keeps
// none (keep_succeeded). The result comes from the DELETE, so a job not kept is reported
// all the same.
#define BATON_FINISH_BURY                                                                       \
  " gone AS ("                                                                                  \
  "  DELETE FROM baton.jobs j USING input i WHERE" BATON_HELD " AND NOT " BATON_AGAIN           \
  "  RETURNING j.*, (CASE i.status WHEN 'failed' THEN 'dead' ELSE i.status END)"                \
  "    ::baton.final_state AS final,"                                                           \
  "    i.result AS new_result, i.error AS new_error),"                                          \
  " buried AS ("                                                                                \
  "  INSERT INTO baton.jobs_finished (id, queue, task, args, priority, status, attempts,"       \
  "    max_attempts, retry_backoff, retry_delay, retry_delay_max, lock, queueing_lock, worker," \
  "    result, error, deferred_at, claimed_at, finished_at, events)"                            \
  "  SELECT g.id, g.queue, g.task, g.args, g.priority, g.final, g.attempts, g.max_attempts,"    \
  "    g.retry_backoff, g.retry_delay, g.retry_delay_max, g.lock, g.queueing_lock, g.worker,"   \
  "    g.new_result, g.new_error, g.deferred_at, g.claimed_at, pg_catalog.clock_timestamp(),"   \
  "    g.events"                                                                                \
  "  FROM gone g WHERE g.keep_succeeded OR g.final <> 'succeeded')"

constexpr const char* kFinishSql = BATON_FINISH_INPUT BATON_FINISH_REQUEUE BATON_FINISH_BURY
    " SELECT id, status, lock FROM requeued"
    " UNION ALL SELECT id, final::pg_catalog.text, lock FROM gone";
// Without a reported failure nothing can be requeued: the variant skips that part.
constexpr const char* kFinishNoFailureSql =
    BATON_FINISH_INPUT BATON_FINISH_BURY " SELECT id, final::pg_catalog.text, lock FROM gone";

// The single form: a primary-key delete moving the job into history ($3 is the final
// status), and for a retryable failure a primary-key update back to waiting. Both match
// only the job held under the given, unexpired token (a token exists only while running).
constexpr const char* kMoveOneSql =
    "WITH gone AS ("
    "  DELETE FROM baton.jobs j WHERE j.id = $1 AND j.lease_token = $2"
    "    AND j.lease_expires_at > pg_catalog.clock_timestamp() RETURNING j.*),"
    " buried AS ("
    "  INSERT INTO baton.jobs_finished (id, queue, task, args, priority, status, attempts,"
    "    max_attempts, retry_backoff, retry_delay, retry_delay_max, lock, queueing_lock, worker,"
    "    result, error, deferred_at, claimed_at, finished_at, events)"
    "  SELECT g.id, g.queue, g.task, g.args, g.priority, $3::baton.final_state, g.attempts,"
    "    g.max_attempts,"
    "    g.retry_backoff, g.retry_delay, g.retry_delay_max, g.lock, g.queueing_lock, g.worker,"
    "    $4, pg_catalog.left($5, 16384), g.deferred_at, g.claimed_at,"
    "    pg_catalog.clock_timestamp(), g.events"
    "  FROM gone g WHERE g.keep_succeeded OR $3 <> 'succeeded')"
    " SELECT $3, lock FROM gone";

constexpr const char* kRetryOneSql =
    "UPDATE baton.jobs j SET status = 'waiting', run_at = " BATON_RETRY_AT ", worker = NULL,"
    "  marked = j.priority > 0,"
    "  lease_token = NULL, lease_expires_at = NULL, abort_requested = false, claimed_at = NULL,"
    "  last_error = pg_catalog.left($3, 16384),"
    "  events = j.events || " BATON_FAILED_EVENT("pg_catalog.left($3, 16384)")
    " WHERE j.id = $1 AND j.lease_token = $2"
    "   AND j.lease_expires_at > pg_catalog.clock_timestamp() AND j.attempts < j.max_attempts"
    " RETURNING 'waiting'::pg_catalog.text, NULL::pg_catalog.text";

SPIPlanPtr move_one_plan = nullptr;
SPIPlanPtr retry_one_plan = nullptr;

// Runs the move; true when the job was held under the token.
bool move_one(FunctionCallInfo fcinfo, const char* final_status) {
  Oid types[5] = {INT8OID, UUIDOID, TEXTOID, JSONBOID, TEXTOID};
  Datum values[5] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), CStringGetTextDatum(final_status),
                     PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3),
                     PG_ARGISNULL(4) ? (Datum)0 : PG_GETARG_DATUM(4)};
  char nulls[5] = {' ', ' ', ' ', PG_ARGISNULL(3) ? 'n' : ' ', PG_ARGISNULL(4) ? 'n' : ' '};
  execute(kept_plan(&move_one_plan, kMoveOneSql, 5, types), values, nulls);
  return SPI_processed > 0;
}

bool retry_one(FunctionCallInfo fcinfo) {
  Oid types[3] = {INT8OID, UUIDOID, TEXTOID};
  Datum values[3] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1),
                     PG_ARGISNULL(4) ? (Datum)0 : PG_GETARG_DATUM(4)};
  char nulls[3] = {' ', ' ', PG_ARGISNULL(4) ? 'n' : ' '};
  execute(kept_plan(&retry_one_plan, kRetryOneSql, 3, types), values, nulls);
  return SPI_processed > 0;
}

// After a finish: a job that left the active table may have been the head of its lock.
void unblock_finished_locks(int lock_column) {
  Datum locks;
  if (collect_locks(lock_column, &locks)) unblock_locks(locks);
}

const Oid kFinishTypes[6] = {INT8ARRAYOID,  UUIDARRAYOID, TEXTARRAYOID,
                             JSONBARRAYOID, TEXTARRAYOID, BOOLARRAYOID};
SPIPlanPtr finish_plan = nullptr;
SPIPlanPtr finish_no_failure_plan = nullptr;

void run_finish(const Datum* values, const char* nulls, bool any_failed) {
  if (any_failed)
    execute(kept_plan(&finish_plan, kFinishSql, 6, kFinishTypes), values, nulls);
  else
    execute(kept_plan(&finish_no_failure_plan, kFinishNoFailureSql, 6, kFinishTypes), values,
            nulls);
}

bool same_uuid(Datum a, Datum b) {
  return memcmp(DatumGetUUIDP(a)->data, DatumGetUUIDP(b)->data, UUID_LEN) == 0;
}

// The job's version under a fresh snapshot, by its primary key: false when there is none.
bool find_job(JobsTable* table, Snapshot snapshot, Datum job_id, TupleTableSlot* slot) {
  Relation pkey = job_index(table, kIdxPkey);
  ScanKeyData key;
  ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_INT8EQ,
                         job_id);
  IndexScanDesc scan = index_beginscan(table->heap, pkey, snapshot, 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
  index_endscan(scan);
  return found;
}

// The direct path (jobs_layout.h) of a finish that moves the job out of baton.jobs, the
// same change as kMoveOneSql. Only the plain case: the job is held under the token as the
// snapshot shows it and nobody changed it since. Anything else (a wrong token, a retry, a
// concurrent change) returns false without a write, and the SQL statements decide, with
// their errors. A lock the job had is stored in *lock (else null) for the caller's unblock.
bool move_one_directly(const JobsLayout* layout, FunctionCallInfo fcinfo, core::FinishStatus status,
                       bool retryable, const char** outcome, Datum* lock) {
  require_table_rights(layout->jobs, ACL_DELETE | ACL_SELECT);
  require_table_rights(layout->jobs_finished, ACL_INSERT);
  JobsTable table;
  open_jobs_table(layout, &table);
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  TupleTableSlot* slot = table_slot_create(table.heap, nullptr);
  JobRow row;
  bool moved = false;
  if (find_job(&table, snapshot, PG_GETARG_DATUM(0), slot)) {
    read_job(slot, &row);
    bool held = !row.isnull[kJobLeaseToken - 1] &&
                same_uuid(row.values[kJobLeaseToken - 1], PG_GETARG_DATUM(1)) &&
                DatumGetTimestampTz(row.values[kJobLeaseExpiresAt - 1]) > GetCurrentTimestamp();
    bool again = status == core::FinishStatus::kFailed && retryable &&
                 DatumGetInt32(row.values[kJobAttempts - 1]) <
                     DatumGetInt32(row.values[kJobMaxAttempts - 1]);
    if (held && !again && delete_job_if_unchanged(&table, &slot->tts_tid)) {
      Oid final_status = status == core::FinishStatus::kSucceeded   ? layout->succeeded
                         : status == core::FinishStatus::kCancelled ? layout->cancelled
                                                                    : layout->dead;
      *outcome = status == core::FinishStatus::kSucceeded   ? "succeeded"
                 : status == core::FinishStatus::kCancelled ? "cancelled"
                                                            : "dead";
      if (final_status != layout->succeeded || DatumGetBool(row.values[kJobKeepSucceeded - 1])) {
        bool no_error = PG_ARGISNULL(4);
        Datum error = no_error ? (Datum)0
                               : DirectFunctionCall2(text_left, PG_GETARG_DATUM(4),
                                                     Int32GetDatum(limits::kErrorTextMax));
        insert_finished_job(layout, &row, final_status,
                            PG_ARGISNULL(3) ? (Datum)0 : PG_GETARG_DATUM(3), PG_ARGISNULL(3), error,
                            no_error);
      }
      *lock = row.isnull[kJobLock - 1]
                  ? (Datum)0
                  : PointerGetDatum(DatumGetTextPCopy(row.values[kJobLock - 1]));
      moved = true;
    }
  }
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snapshot);
  close_jobs_table(&table);
  if (moved) CommandCounterIncrement();
  return moved;
}

Datum finish_one(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "job_id");
  if (PG_ARGISNULL(1))
    core::fail_hint(sqlstate::kNullValue, "Pass the lease_token that fetch_v1 returned.",
                    "lease_token must not be null");
  require_arg(fcinfo, 2, "status");
  TextRef status_text = text_arg(fcinfo, 2);
  core::FinishStatus status = core::parse_finish_status(status_text.data, status_text.len);
  if (!PG_ARGISNULL(3)) check_jsonb("result", PG_GETARG_JSONB_P(3), false);
  require_arg(fcinfo, 5, "retryable");
  bool retryable = PG_GETARG_BOOL(5);

  const JobsLayout* layout = lock_jobs_for_direct_write();
  const char* moved_as = nullptr;
  Datum lock = (Datum)0;
  if (layout != nullptr && move_one_directly(layout, fcinfo, status, retryable, &moved_as, &lock)) {
    if (lock != (Datum)0) {
      // The job was its lock's head: the next one of the lock may start.
      spi_begin();
      unblock_locks(PointerGetDatum(construct_array(&lock, 1, TEXTOID, -1, false, TYPALIGN_INT)));
      spi_end();
    }
    PG_RETURN_TEXT_P(cstring_to_text(moved_as));
  }

  spi_begin();
  bool held;
  const char* outcome;
  switch (status) {
    case core::FinishStatus::kSucceeded:
      outcome = "succeeded";
      held = move_one(fcinfo, outcome);
      break;
    case core::FinishStatus::kCancelled:
      outcome = "cancelled";
      held = move_one(fcinfo, outcome);
      break;
    case core::FinishStatus::kFailed:
    default:
      // The retry matches only while attempts remain; otherwise the attempt was the last.
      outcome = "waiting";
      held = retryable && retry_one(fcinfo);
      if (!held) {
        outcome = "dead";
        held = move_one(fcinfo, outcome);
      }
      break;
  }
  if (!held) raise_lease_error(PG_GETARG_INT64(0), PG_GETARG_DATUM(1), "finish");
  unblock_finished_locks(2);
  spi_end();
  PG_RETURN_TEXT_P(cstring_to_text(outcome));
}

struct Outcome {
  int64 id;
  Datum status;
};

int compare_outcome(const void* a, const void* b) {
  return compare_int64(&static_cast<const Outcome*>(a)->id, &static_cast<const Outcome*>(b)->id);
}

Datum finish_many(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "job_ids");
  require_arg(fcinfo, 1, "lease_tokens");
  require_arg(fcinfo, 2, "statuses");
  ArrayArg ids = array_arg(fcinfo, 0, INT8OID);
  if (ids.count < 1 || ids.count > limits::kBulkMax)
    core::fail(sqlstate::kInvalidParameter, "job_ids must have between 1 and %d elements (got %d)",
               limits::kBulkMax, ids.count);
  ArrayArg tokens = array_arg(fcinfo, 1, UUIDOID);
  ArrayArg statuses = array_arg(fcinfo, 2, TEXTOID);
  require_same_length("lease_tokens", &tokens, ids.count, "job_ids");
  require_same_length("statuses", &statuses, ids.count, "job_ids");
  bool any_failed = false;
  for (int i = 0; i < ids.count; ++i) {
    if (ids.nulls[i] || tokens.nulls[i] || statuses.nulls[i])
      core::fail(sqlstate::kNullValue, "job_ids, lease_tokens and statuses must not contain nulls");
    TextRef status = text_ref(DatumGetTextPP(statuses.values[i]));
    if (core::parse_finish_status(status.data, status.len) == core::FinishStatus::kFailed)
      any_failed = true;
  }
  if (!PG_ARGISNULL(3)) {
    ArrayArg results = array_arg(fcinfo, 3, JSONBOID);
    require_same_length("results", &results, ids.count, "job_ids");
    for (int i = 0; i < results.count; ++i)
      if (!results.nulls[i]) check_jsonb("result", DatumGetJsonbP(results.values[i]), false);
  }
  for (int n = 4; n <= 5; ++n) {
    if (PG_ARGISNULL(n)) continue;
    ArrayArg extra = array_arg(fcinfo, n, n == 4 ? TEXTOID : BOOLOID);
    require_same_length(n == 4 ? "errors" : "retryable", &extra, ids.count, "job_ids");
  }
  int64* sorted = static_cast<int64*>(palloc(sizeof(int64) * ids.count));
  for (int i = 0; i < ids.count; ++i) sorted[i] = DatumGetInt64(ids.values[i]);
  qsort(sorted, ids.count, sizeof(int64), compare_int64);
  for (int i = 1; i < ids.count; ++i)
    if (sorted[i] == sorted[i - 1])
      core::fail(sqlstate::kInvalidParameter, "job_ids lists job %lld twice",
                 static_cast<long long>(sorted[i]));

  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  Datum values[6];
  char nulls[6];
  for (int i = 0; i < 6; ++i) {
    values[i] = PG_ARGISNULL(i) ? (Datum)0 : PG_GETARG_DATUM(i);
    nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
  }
  spi_begin();
  run_finish(values, nulls, any_failed);
  // Report in input order; a job missing from the result was not held under its token.
  uint64 done = SPI_processed;
  Outcome* outcomes = static_cast<Outcome*>(palloc(sizeof(Outcome) * (done + 1)));
  bool isnull;
  for (uint64 i = 0; i < done; ++i) {
    outcomes[i].id = DatumGetInt64(result_value(static_cast<int>(i), 1, &isnull));
    outcomes[i].status = result_value(static_cast<int>(i), 2, &isnull);
  }
  qsort(outcomes, done, sizeof(Outcome), compare_outcome);
  unblock_finished_locks(3);
  Datum lease_lost = CStringGetTextDatum("lease_lost");
  for (int i = 0; i < ids.count; ++i) {
    Outcome key{DatumGetInt64(ids.values[i]), (Datum)0};
    const Outcome* found = static_cast<const Outcome*>(
        bsearch(&key, outcomes, done, sizeof(Outcome), compare_outcome));
    Datum row[2] = {ids.values[i], found ? found->status : lease_lost};
    bool row_nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, row_nulls);
  }
  spi_end();
  return (Datum)0;
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_finish_v1, baton::pg::finish_one)
BATON_ENTRY(baton_finish_many_v1, baton::pg::finish_many)
