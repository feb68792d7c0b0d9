// fetch_v1: claim up to max_jobs due jobs from one or more queues under a lease.
#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"
#include "args.h"
#include "boundary.h"
#include "reap.h"
#include "spi.h"

namespace baton::pg {
namespace {

namespace limits = core::limits;
namespace sqlstate = core::sqlstate;

// The ready index is walked in claim order (priority, due time, id) and stops after
// max_jobs rows that are not locked by another claimer. Jobs behind a lock are 'blocked',
// outside the ready index, so a claim never steps over them and never takes two jobs of
// one lock. The UPDATE finds its rows through the primary key (id = ANY(ARRAY(...)))
// whatever the statistics say.
#define BATON_CLAIM(PICKED_IDS)                                                           \
  " claimed AS ("                                                                         \
  "  UPDATE baton.jobs j SET status = 'running', attempts = j.attempts + 1, worker = $2," \
  "    lease_token = pg_catalog.gen_random_uuid(),"                                       \
  "    lease_expires_at = pg_catalog.clock_timestamp() + $4,"                             \
  "    claimed_at = pg_catalog.clock_timestamp()"                                         \
  "  WHERE j.id = ANY (ARRAY(" PICKED_IDS                                                 \
  "))"                                                                                    \
  "  RETURNING j.id, j.queue, j.task, j.args, j.attempts, j.max_attempts, j.priority,"    \
  "    j.lease_token, j.lease_expires_at, j.run_at)"                                      \
  " SELECT id, queue, task, args, attempts, max_attempts, priority, lease_token,"         \
  "   lease_expires_at FROM claimed ORDER BY priority DESC, run_at, id"

#define BATON_READY(QUEUE, LIMIT)                       \
  " FROM baton.jobs c WHERE c.queue = " QUEUE           \
  " AND c.status = 'waiting'"                           \
  "   AND c.run_at <= pg_catalog.statement_timestamp()" \
  " ORDER BY c.priority DESC, c.run_at, c.id LIMIT " LIMIT " FOR UPDATE OF c SKIP LOCKED"

// One queue (the common case): a single walk of the ready index.
constexpr const char* kClaimOneQueueSql =
    "WITH" BATON_CLAIM("SELECT c.id" BATON_READY("$1[1]", "$3"));

// Several queues: each is walked as above, and the per-queue picks merged in claim order.
// (Rows a queue's walk locked but the merge dropped stay locked until commit; other claimers
// skip them meanwhile, nothing else.)
constexpr const char* kClaimSql =
    "WITH picked AS ("
    "  SELECT p.id, p.priority, p.run_at"
    "  FROM (SELECT DISTINCT u.name FROM pg_catalog.unnest($1) AS u(name)) AS q"
    "  CROSS JOIN LATERAL (SELECT c.id, c.priority, c.run_at" BATON_READY("q.name", "$3")
    "  ) AS p"
    "  ORDER BY p.priority DESC, p.run_at, p.id LIMIT $3),"
    BATON_CLAIM("SELECT picked.id FROM picked");

constexpr const char* kUnknownQueuesSql =
    "SELECT u.name FROM pg_catalog.unnest($1) AS u(name)"
    " WHERE NOT EXISTS (SELECT 1 FROM baton.queues q WHERE q.name = u.name) LIMIT 1";

constexpr int kMaxQueuesPerFetch = 100;

SPIPlanPtr claim_plan = nullptr;
SPIPlanPtr claim_one_queue_plan = nullptr;
SPIPlanPtr unknown_queues_plan = nullptr;

// The last queue list found valid, by hash, and when. Workers pass the same list on every
// call; re-checking it at most every few seconds keeps a lookup off the hot path. A queue
// dropped meanwhile only means the claim finds nothing there.
uint64 checked_queues_hash = 0;
TimestampTz checked_queues_at = 0;
constexpr int64 kQueueCheckInterval = 5 * USECS_PER_SEC;

uint64 fnv1a(const char* data, std::size_t len) {
  uint64 hash = 1469598103934665603ULL;
  for (std::size_t i = 0; i < len; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ULL;
  }
  return hash;
}

struct QueueList {
  uint64 hash;  // for the validity cache
  int count;
};

// Checks every name of the queues argument.
QueueList check_queue_names(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "queues");
  ArrayArg queues = array_arg(fcinfo, 0, TEXTOID);
  if (queues.count < 1 || queues.count > kMaxQueuesPerFetch)
    core::fail(sqlstate::kInvalidParameter, "queues must list between 1 and %d queues (got %d)",
               kMaxQueuesPerFetch, queues.count);
  uint64 hash = 0;
  for (int i = 0; i < queues.count; ++i) {
    if (queues.nulls[i]) core::fail(sqlstate::kNullValue, "queues[%d] must not be null", i + 1);
    TextRef name = text_ref(DatumGetTextPP(queues.values[i]));
    core::validate_queue_name("queue", name.data, name.len);
    hash = hash * 31 + fnv1a(name.data, name.len);
  }
  return QueueList{hash, queues.count};
}

void check_queues_exist(Datum queues, uint64 hash) {
  TimestampTz now = GetCurrentTimestamp();
  if (hash == checked_queues_hash && now - checked_queues_at < kQueueCheckInterval) return;
  Oid types[1] = {TEXTARRAYOID};
  execute(kept_plan(&unknown_queues_plan, kUnknownQueuesSql, 1, types), &queues, nullptr);
  if (SPI_processed > 0) {
    bool isnull;
    TextRef name = text_ref(DatumGetTextPP(result_value(0, 1, &isnull)));
    core::fail_hint(sqlstate::kUndefinedObject, "Create it with baton.create_queue_v1().",
                    "queue \"%.*s\" does not exist", static_cast<int>(name.len), name.data);
  }
  checked_queues_hash = hash;
  checked_queues_at = now;
}

Datum fetch(FunctionCallInfo fcinfo) {
  QueueList queues = check_queue_names(fcinfo);
  require_arg(fcinfo, 1, "worker");
  TextRef worker = text_arg(fcinfo, 1);
  core::validate_label("worker", worker.data, worker.len, limits::kWorkerNameMax);
  require_arg(fcinfo, 2, "max_jobs");
  core::validate_int_range("max_jobs", PG_GETARG_INT32(2), 1, limits::kFetchMax);
  interval_arg_seconds(fcinfo, 3, "lease", limits::kLeaseMinSeconds, limits::kLeaseMaxSeconds);

  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  spi_begin();
  check_queues_exist(PG_GETARG_DATUM(0), queues.hash);
  reap_expired_now_and_then();
  Oid types[4] = {TEXTARRAYOID, TEXTOID, INT4OID, INTERVALOID};
  Datum values[4] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2),
                     PG_GETARG_DATUM(3)};
  SPIPlanPtr plan = queues.count == 1
                        ? kept_plan(&claim_one_queue_plan, kClaimOneQueueSql, 4, types)
                        : kept_plan(&claim_plan, kClaimSql, 4, types);
  execute(plan, values, nullptr);
  for (uint64 i = 0; i < SPI_processed; ++i)
    tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
  spi_end();
  return (Datum)0;
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_fetch_v1, baton::pg::fetch)
