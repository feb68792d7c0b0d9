// fetch_v1: claim up to max_jobs due jobs from one or more queues under a lease.
#include "../core/error.h"
#include "../core/limits.h"
#include "../core/validate.h"
#include "args.h"
#include "boundary.h"
#include "claim_direct.h"
#include "claim_floor.h"
#include "jobs_write.h"
#include "queue_row.h"
#include "reap.h"
#include "spi.h"

namespace baton::pg {
namespace {

namespace limits = core::limits;
namespace sqlstate = core::sqlstate;

// A claim walks the ready indexes in claim order, (-priority, run_at, id), and stops after
// max_jobs rows that are not locked by another claimer. Unmarked jobs are walked from the
// claim floor on (claim_floor.h), marked ones from the front of their own small index; the
// two ordered walks are merged. Jobs behind a lock are 'blocked', outside both indexes,
// so a claim never steps over them and never takes two jobs of one lock. The UPDATE finds
// its rows through the primary key (id = ANY(ARRAY(...))) whatever the statistics say.
// (Rows a walk locked but the merge dropped stay locked until commit; other claimers skip
// them meanwhile, nothing else.)
#define BATON_CLAIM_SET                                                                   \
  "  UPDATE baton.jobs j SET status = 'running', attempts = j.attempts + 1, worker = $2," \
  "    lease_token = pg_catalog.gen_random_uuid(),"                                       \
  "    lease_expires_at = pg_catalog.clock_timestamp() + $4,"                             \
  "    claimed_at = pg_catalog.clock_timestamp()"
// The columns of fetch_v2; fetch_v1 returns the first nine.
#define BATON_CLAIM_RETURNING                                                         \
  " RETURNING j.id, j.queue, j.task, j.args, j.attempts, j.max_attempts, j.priority," \
  "   j.lease_token, j.lease_expires_at, j.lock, j.deferred_at, j.last_error"
#define BATON_CLAIM(PICKED_IDS)                                                   \
  " claimed AS (" BATON_CLAIM_SET "  WHERE j.id = ANY (ARRAY(" PICKED_IDS         \
  "))" BATON_CLAIM_RETURNING                                                      \
  ", j.run_at)"                                                                   \
  " SELECT id, queue, task, args, attempts, max_attempts, priority, lease_token," \
  "   lease_expires_at, lock, deferred_at, last_error"                            \
  " FROM claimed ORDER BY priority DESC, run_at, id"

#define BATON_KEY(T) "(- " T ".priority), " T ".run_at, " T ".id"

// One walk: the due waiting jobs of QUEUE that satisfy EXTRA, in claim order; $9 is
// fetch_v2's task filter (NULL: every task).
#define BATON_WALK(QUEUE, EXTRA, LIMIT)                                       \
  "(SELECT c.id, (- c.priority) AS np, c.run_at, c.id AS i FROM baton.jobs c" \
  " WHERE c.queue = " QUEUE " AND c.status = 'waiting' AND " EXTRA            \
  "   AND c.run_at <= $8 AND ($9 IS NULL OR c.task = ANY ($9))"               \
  " ORDER BY " BATON_KEY("c") " LIMIT " LIMIT " FOR UPDATE OF c SKIP LOCKED)"

// The marked jobs and the unmarked ones from the floor (NP, RUN_AT, ID) on, merged.
#define BATON_READY(QUEUE, NP, RUN_AT, ID, LIMIT) \
  "SELECT w.id, w.np, w.run_at, w.i FROM ("                                                \
  "  SELECT * FROM " BATON_WALK(QUEUE, "c.marked", LIMIT) " AS m"                          \
  "  UNION ALL"                                                                            \
  "  SELECT * FROM " BATON_WALK(QUEUE, "NOT c.marked AND (" BATON_KEY("c") ") >= (" NP "," \
                                RUN_AT "," ID ")", LIMIT) " AS r"                          \
  ") AS w ORDER BY w.np, w.run_at, w.i LIMIT " LIMIT

// One queue (the common case): $5..$7 are its floor, $8 the time jobs must be due by.
constexpr const char* kClaimOneQueueSql = "WITH picked AS (" BATON_READY(
    "$1[1]", "$5", "$6", "$7", "$3") ")," BATON_CLAIM("SELECT picked.id FROM picked");
// One queue where a probe just saw no marked job: the unmarked walk alone. (A marked job
// committed since waits for the next claim, as it would had it committed a moment later.)
// And for a single job (max_jobs 1, the common worker loop): no merge, no sort.
constexpr const char* kClaimOneJobUnmarkedSql =
    BATON_CLAIM_SET " WHERE j.id = (SELECT w.id FROM " BATON_WALK(
        "$1[1]", "NOT c.marked AND (" BATON_KEY("c") ") >= ($5, $6, $7)",
        "1") " AS w)" BATON_CLAIM_RETURNING;
constexpr const char* kClaimOneQueueUnmarkedSql = "WITH" BATON_CLAIM("SELECT w.id FROM " BATON_WALK(
    "$1[1]", "NOT c.marked AND (" BATON_KEY("c") ") >= ($5, $6, $7)", "$3") " AS w");

// Several queues: $5..$7 hold the floors of the queues of $1, in the same order. Each
// queue is walked as above, and the per-queue picks merged in claim order.
constexpr const char* kClaimSql =
    "WITH picked AS ("
    "  SELECT p.id FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($5),"
    "    pg_catalog.unnest($6), pg_catalog.unnest($7)) AS q(name, np, run_at, id)"
    "  CROSS JOIN LATERAL (" BATON_READY("q.name", "q.np", "q.run_at", "q.id", "$3") ") AS p"
    "  ORDER BY p.np, p.run_at, p.i LIMIT $3),"
    BATON_CLAIM("SELECT picked.id FROM picked");

constexpr const char* kUnknownQueuesSql =
    "SELECT u.name FROM pg_catalog.unnest($1) AS u(name)"
    " WHERE NOT EXISTS (SELECT 1 FROM baton.queues q WHERE q.name = u.name) LIMIT 1";

constexpr int kMaxQueuesPerFetch = 100;
constexpr int kMaxTasksPerFetch = 100;

SPIPlanPtr claim_plan = nullptr;
SPIPlanPtr claim_one_queue_plan = nullptr;
SPIPlanPtr claim_one_queue_unmarked_plan = nullptr;
SPIPlanPtr claim_one_job_unmarked_plan = nullptr;
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
  ArrayArg names;
  ClaimStart start;  // of a single queue, once raised
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
  return QueueList{hash, queues, ClaimStart{core::kLowestClaimKey, true}};
}

// The distinct queues of the list that are not paused, with their claim floors, as the
// arrays $1, $5, $6, $7 of the several-queues claim. Returns how many.
int bind_queue_floors(const ArrayArg& names, Datum* values) {
  Datum* distinct = static_cast<Datum*>(palloc(sizeof(Datum) * names.count));
  Datum* np = static_cast<Datum*>(palloc(sizeof(Datum) * names.count));
  Datum* run_at = static_cast<Datum*>(palloc(sizeof(Datum) * names.count));
  Datum* id = static_cast<Datum*>(palloc(sizeof(Datum) * names.count));
  int n = 0;
  for (int i = 0; i < names.count; ++i) {
    bool seen = false;
    for (int k = 0; k < n && !seen; ++k) seen = same_text(distinct[k], names.values[i]);
    if (seen || queue_paused(names.values[i])) continue;
    distinct[n] = names.values[i];
    Datum key[3];
    bind_claim_key(claim_start_for(names.values[i], true).floor, key);
    np[n] = key[0];
    run_at[n] = key[1];
    id[n] = key[2];
    ++n;
  }
  values[0] = PointerGetDatum(construct_array(distinct, n, TEXTOID, -1, false, TYPALIGN_INT));
  values[4] = PointerGetDatum(construct_array(np, n, INT4OID, 4, true, TYPALIGN_INT));
  values[5] = PointerGetDatum(
      construct_array(run_at, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
  values[6] = PointerGetDatum(construct_array(id, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
  return n;
}

bool queue_check_due(uint64 hash) {
  return hash != checked_queues_hash ||
         GetCurrentTimestamp() - checked_queues_at >= kQueueCheckInterval;
}

void check_queues_exist(Datum queues, uint64 hash) {
  if (!queue_check_due(hash)) return;
  TimestampTz now = GetCurrentTimestamp();
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

// fetch_v2's task filter (argument 4): NULL for every task, else 1..100 task names.
bool read_tasks(FunctionCallInfo fcinfo, ArrayArg* tasks) {
  if (PG_NARGS() < 5 || PG_ARGISNULL(4)) return false;
  *tasks = array_arg(fcinfo, 4, TEXTOID);
  if (tasks->count < 1 || tasks->count > kMaxTasksPerFetch)
    core::fail_hint(sqlstate::kInvalidParameter, "Pass NULL to claim jobs of every task.",
                    "tasks must list between 1 and %d tasks (got %d)", kMaxTasksPerFetch,
                    tasks->count);
  for (int i = 0; i < tasks->count; ++i) {
    if (tasks->nulls[i]) core::fail(sqlstate::kNullValue, "tasks[%d] must not be null", i + 1);
    TextRef task = text_ref(DatumGetTextPP(tasks->values[i]));
    core::validate_label("task", task.data, task.len, limits::kTaskNameMax);
  }
  return true;
}

// Moves the claimed rows of the statement into the result: all twelve columns for
// fetch_v2, the first nine for fetch_v1.
void emit_claimed(ReturnSetInfo* rsinfo, int columns) {
  Datum values[kFetchColumns];
  bool nulls[kFetchColumns];
  for (uint64 i = 0; i < SPI_processed; ++i) {
    for (int c = 0; c < columns; ++c)
      values[c] = result_value(static_cast<int>(i), c + 1, &nulls[c]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
}

// fetch_v1 (columns 9, no task filter) and fetch_v2 (columns 12, argument 4 the tasks).
Datum fetch(FunctionCallInfo fcinfo, int columns) {
  QueueList queues = check_queue_names(fcinfo);
  require_arg(fcinfo, 1, "worker");
  TextRef worker = text_arg(fcinfo, 1);
  core::validate_label("worker", worker.data, worker.len, limits::kWorkerNameMax);
  require_arg(fcinfo, 2, "max_jobs");
  core::validate_int_range("max_jobs", PG_GETARG_INT32(2), 1, limits::kFetchMax);
  interval_arg_seconds(fcinfo, 3, "lease", limits::kLeaseMinSeconds, limits::kLeaseMaxSeconds);
  ArrayArg tasks{nullptr, nullptr, 0};
  bool filtered = read_tasks(fcinfo, &tasks);

  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);

  // The queue check and the reap run only now and then; SPI is entered only for them or
  // for the claim statements.
  bool spi = false;
  if (queue_check_due(queues.hash) || reap_due()) {
    spi_begin();
    spi = true;
    check_queues_exist(PG_GETARG_DATUM(0), queues.hash);
    reap_expired_now_and_then();
  }
  // Due means due by the clock now: defers read run_at from the clock too, so a job deferred
  // earlier in this statement or transaction is due (statement_timestamp() would not do).
  Datum values[9] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2),
                     PG_GETARG_DATUM(3)};
  char nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', filtered ? ' ' : 'n'};
  values[7] = TimestampTzGetDatum(GetCurrentTimestamp());
  values[8] = filtered ? PG_GETARG_DATUM(4) : (Datum)0;
  if (queues.names.count == 1) {
    if (queue_paused(queues.names.values[0])) {
      if (spi) spi_end();
      return (Datum)0;
    }
    ClaimStart start = claim_start_for(queues.names.values[0], false);
    const JobsLayout* layout = start.marked_jobs ? nullptr : lock_jobs_for_direct_write();
    if (layout != nullptr) {
      ClaimRequest request{queues.names.values[0],
                           start.floor,
                           DatumGetTimestampTz(values[7]),
                           values[1],
                           PG_GETARG_INT32(2),
                           values[3],
                           filtered ? tasks.values : nullptr,
                           filtered ? tasks.count : 0,
                           columns};
      claim_directly(layout, request, rsinfo);
      if (spi) spi_end();
      return (Datum)0;
    }
    queues.start = start;
  }
  if (!spi) spi_begin();
  SPIPlanPtr plan;
  if (queues.names.count == 1) {
    const ClaimStart& start = queues.start;
    bind_claim_key(start.floor, values + 4);
    Oid types[9] = {TEXTARRAYOID,   TEXTOID, INT4OID,        INTERVALOID, INT4OID,
                    TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID, TEXTARRAYOID};
    if (start.marked_jobs)
      plan = kept_plan(&claim_one_queue_plan, kClaimOneQueueSql, 9, types);
    else if (PG_GETARG_INT32(2) == 1)
      plan = kept_plan(&claim_one_job_unmarked_plan, kClaimOneJobUnmarkedSql, 9, types);
    else
      plan = kept_plan(&claim_one_queue_unmarked_plan, kClaimOneQueueUnmarkedSql, 9, types);
  } else {
    if (bind_queue_floors(queues.names, values) == 0) {  // every queue is paused
      spi_end();
      return (Datum)0;
    }
    Oid types[9] = {TEXTARRAYOID,        TEXTOID,      INT4OID,        INTERVALOID, INT4ARRAYOID,
                    TIMESTAMPTZARRAYOID, INT8ARRAYOID, TIMESTAMPTZOID, TEXTARRAYOID};
    plan = kept_plan(&claim_plan, kClaimSql, 9, types);
  }
  execute(plan, values, nulls);
  emit_claimed(rsinfo, columns);
  spi_end();
  return (Datum)0;
}

Datum fetch_v1(FunctionCallInfo fcinfo) {
  return fetch(fcinfo, kFetchV1Columns);
}
Datum fetch_v2(FunctionCallInfo fcinfo) {
  return fetch(fcinfo, kFetchColumns);
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_fetch_v1, baton::pg::fetch_v1)
BATON_ENTRY(baton_fetch_v2, baton::pg::fetch_v2)
