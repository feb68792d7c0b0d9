#include "reap.h"

#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"
#include "args.h"
#include "boundary.h"
#include "lock_keys.h"
#include "spi.h"

namespace baton::pg {

namespace {

constexpr const char* kReapSql =
    "WITH expired AS ("
    "  SELECT j.id, (j.attempts < j.max_attempts AND NOT j.abort_requested) AS again,"
    "         pg_catalog.clock_timestamp() + baton.retry_delay(j.retry_backoff, j.retry_delay,"
    "           j.retry_delay_max, j.attempts) AS retry_at"
    "  FROM baton.jobs j"
    "  WHERE j.status = 'running' AND j.lease_expires_at < pg_catalog.clock_timestamp()"
    // Ending a lock's head needs the lock key; a busy key is left for the next reap
    // rather than making a fetch wait for some producer's open transaction.
    "    AND (j.lock IS NULL OR (j.attempts < j.max_attempts AND NOT j.abort_requested)"
    "         OR baton._try_lock_key(j.lock))"
    "  ORDER BY j.lease_expires_at LIMIT $1 FOR UPDATE OF j SKIP LOCKED),"
    " requeued AS ("
    "  UPDATE baton.jobs j SET status = 'waiting', run_at = e.retry_at, worker = NULL,"
    // retry_at is read from the clock; claim floors need only the priority marked.
    "    marked = j.priority > 0,"
    "    lease_token = NULL, lease_expires_at = NULL, claimed_at = NULL,"
    "    last_error = 'lease expired',"
    "    events = j.events || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object("
    "      'at', pg_catalog.clock_timestamp(), 'kind', 'lease_expired', 'attempt', j.attempts,"
    "      'worker', j.worker, 'claimed_at', j.claimed_at, 'retry_at', e.retry_at))"
    "  FROM expired e"
    "  WHERE j.id = ANY (ARRAY(SELECT x.id FROM expired x WHERE x.again)) AND j.id = e.id"
    "  RETURNING j.id),"
    " gone AS ("
    "  DELETE FROM baton.jobs j"
    "  WHERE j.id = ANY (ARRAY(SELECT x.id FROM expired x WHERE NOT x.again))"
    "  RETURNING j.*),"
    " buried AS ("
    "  INSERT INTO baton.jobs_finished (id, queue, task, args, priority, status, attempts,"
    "    max_attempts, retry_backoff, retry_delay, retry_delay_max, lock, queueing_lock, worker,"
    "    result, error, deferred_at, claimed_at, finished_at, events)"
    "  SELECT g.id, g.queue, g.task, g.args, g.priority,"
    "    (CASE WHEN g.abort_requested THEN 'cancelled' ELSE 'dead' END)::baton.final_state,"
    "    g.attempts,"
    "    g.max_attempts, g.retry_backoff, g.retry_delay, g.retry_delay_max, g.lock,"
    "    g.queueing_lock, g.worker, NULL, 'lease expired', g.deferred_at, g.claimed_at,"
    "    pg_catalog.clock_timestamp(), g.events"
    "  FROM gone g RETURNING id, lock)"
    " SELECT (SELECT pg_catalog.count(*) FROM requeued) + (SELECT pg_catalog.count(*) FROM buried),"
    "   ARRAY(SELECT b.lock FROM buried b WHERE b.lock IS NOT NULL)";

SPIPlanPtr reap_plan = nullptr;
// Per backend, deliberately: besides recovering stuck jobs, each reap's walk of the
// running-jobs index marks the entries of finished jobs dead, which keeps claims' inserts
// into that index cheap. Measured: reaping once a second per database instead (the turn
// taken through a sequence) doubled the server CPU per job at 16 clients (1,050 vs 530 µs
// in cycle_single), as claims' inserts met uncleaned leaf pages.
TimestampTz last_reap = 0;  // trivially destructible

constexpr int32 kOpportunisticReapMax = 100;

Datum reap_entry(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "max_jobs");
  core::validate_int_range("max_jobs", PG_GETARG_INT32(0), 1, 1000000);
  int32 max_jobs = PG_GETARG_INT32(0);
  spi_begin();
  int64 reaped = reap_expired(max_jobs);
  spi_end();
  PG_RETURN_INT32(static_cast<int32>(reaped));
}

}  // namespace

int64 reap_expired(int32 max_jobs) {
  Oid types[1] = {INT4OID};
  Datum values[1] = {Int32GetDatum(max_jobs)};
  execute(kept_plan(&reap_plan, kReapSql, 1, types), values, nullptr);
  bool isnull;
  int64 reaped = DatumGetInt64(result_value(0, 1, &isnull));
  // A job that ended dead or cancelled may have been the head of a lock.
  Datum buried_locks = result_value(0, 2, &isnull);
  if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(buried_locks)),
                     ARR_DIMS(DatumGetArrayTypeP(buried_locks))) > 0)
    unblock_locks(buried_locks);
  return reaped;
}

bool reap_due() {
  return GetCurrentTimestamp() - last_reap >= USECS_PER_SEC;
}

void reap_expired_now_and_then() {
  TimestampTz now = GetCurrentTimestamp();
  if (now - last_reap < USECS_PER_SEC) return;
  last_reap = now;
  reap_expired(kOpportunisticReapMax);
}

}  // namespace baton::pg

BATON_ENTRY(baton_reap_v1, baton::pg::reap_entry)
