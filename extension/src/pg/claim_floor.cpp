#include "claim_floor.h"

#include "args.h"
#include "spi.h"

extern "C" {
#include "access/twophase.h"
#include "utils/backend_status.h"
}

namespace baton::pg {
namespace {

// The moment between a transaction fixing its start time (now()) and publishing it in
// pg_stat_activity is a few instructions; the margin covers a backend descheduled there.
constexpr int64 kPublishMarginUs = 20 * 1000;
// Reading every backend's status costs tens of microseconds; an older reading only gives
// an earlier (safe) bound, so it is reused this long.
constexpr int64 kStatusReadEveryUs = 20 * 1000;
// The several-queues claim raises each queue's floor at most this often.
constexpr int64 kCheapRaiseEveryUs = 10 * 1000;

// The first unmarked waiting job at or after the floor, whether due or not, locked by a
// claimer or not: a plain read, so a claim in flight elsewhere (which may roll back) still
// counts as waiting. And whether any marked job waits (claims then walk their index too).
constexpr const char* kRaiseSql =
    "SELECT f.np, f.run_at, f.id, EXISTS (SELECT 1 FROM baton.jobs m"
    "   WHERE m.queue = $1 AND m.status = 'waiting' AND m.marked)"
    " FROM (SELECT) AS one LEFT JOIN LATERAL ("
    "   SELECT (- c.priority) AS np, c.run_at, c.id FROM baton.jobs c"
    "   WHERE c.queue = $1 AND c.status = 'waiting' AND NOT c.marked"
    "     AND ((- c.priority), c.run_at, c.id) >= ($2, $3, $4)"
    "   ORDER BY (- c.priority), c.run_at, c.id LIMIT 1) AS f ON true";

constexpr const char* kPreparedHereSql =
    "SELECT 1 FROM pg_catalog.pg_prepared_xact() AS p(transaction, gid, prepared, ownerid, dbid)"
    " WHERE p.dbid = $1 LIMIT 1";

SPIPlanPtr raise_plan = nullptr;
SPIPlanPtr prepared_here_plan = nullptr;

core::FloorCache floors;         // per backend; trivially destructible
bool raised_in_transaction = false;

// A prepared transaction is in no backend's pg_stat_activity entry; its jobs keep the
// start time of the transaction that prepared them.
bool prepared_transactions_here() {
  if (max_prepared_xacts == 0) return false;
  Oid types[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(MyDatabaseId)};
  execute(kept_plan(&prepared_here_plan, kPreparedHereSql, 1, types), values, nullptr);
  return SPI_processed > 0;
}

// The start of the oldest transaction open in this database, or false when it cannot be
// known: activity tracking off somewhere, or a prepared transaction.
bool read_oldest_open_transaction_start(TimestampTz now, TimestampTz* oldest) {
  if (!pgstat_track_activities || prepared_transactions_here()) return false;
  *oldest = now;
  int backends = pgstat_fetch_stat_numbackends();
  for (int i = 1; i <= backends; ++i) {
    LocalPgBackendStatus* local = pgstat_fetch_stat_local_beentry(i);
    if (local == nullptr) continue;
    const PgBackendStatus& status = local->backendStatus;
    if (status.st_databaseid != MyDatabaseId) continue;
    if (status.st_state == STATE_DISABLED) return false;
    if (status.st_xact_start_timestamp != 0 && status.st_xact_start_timestamp < *oldest)
      *oldest = status.st_xact_start_timestamp;
  }
  return true;
}

// The last reading, reused for kStatusReadEveryUs.
TimestampTz status_read_at = 0;
bool status_known = false;
TimestampTz status_oldest_start = 0;

bool oldest_open_transaction_start(TimestampTz now, TimestampTz* oldest) {
  if (now - status_read_at >= kStatusReadEveryUs || now < status_read_at) {
    status_known = read_oldest_open_transaction_start(now, &status_oldest_start);
    status_read_at = now;
  }
  *oldest = status_oldest_start;
  return status_known;
}

ClaimStart raise(Datum queue, const core::ClaimKey& from, TimestampTz oldest_start) {
  Oid types[4] = {TEXTOID, INT4OID, TIMESTAMPTZOID, INT8OID};
  Datum values[4] = {queue};
  bind_claim_key(from, values + 1);
  execute(kept_plan(&raise_plan, kRaiseSql, 4, types), values, nullptr);
  core::ClaimKey cap = core::safe_writer_cap(oldest_start, kPublishMarginUs);
  bool isnull;
  bool marked_jobs = DatumGetBool(result_value(0, 4, &isnull));
  Datum np = result_value(0, 1, &isnull);
  if (isnull) return ClaimStart{core::raised_floor(nullptr, cap), marked_jobs};
  core::ClaimKey first{DatumGetInt32(np), DatumGetTimestampTz(result_value(0, 2, &isnull)),
                       DatumGetInt64(result_value(0, 3, &isnull))};
  return ClaimStart{core::raised_floor(&first, cap), marked_jobs};
}

void on_transaction_event(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
      raised_in_transaction = false;
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
    case XACT_EVENT_PREPARE:  // a prepared claim may still be rolled back
      if (raised_in_transaction) floors.reset();
      raised_in_transaction = false;
      break;
    default:
      break;
  }
}

// A floor raised after this transaction's own claims or cancels would pass jobs that a
// rollback (of the transaction or of a savepoint) makes waiting again.
void on_subtransaction_event(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB && raised_in_transaction) floors.reset();
}

}  // namespace

void bind_claim_key(const core::ClaimKey& key, Datum* values) {
  values[0] = Int32GetDatum(key.neg_priority);
  values[1] = TimestampTzGetDatum(key.run_at);
  values[2] = Int64GetDatum(key.id);
}

ClaimStart claim_start_for(Datum queue, bool cheap) {
  TextRef name = text_ref(DatumGetTextPP(queue));
  TimestampTz now = GetCurrentTimestamp();
  core::ClaimKey floor = floors.floor(name.data, name.len, now);
  bool from_front = core::claim_key_equal(floor, core::kLowestClaimKey);
  if (cheap && !from_front && floors.raised_since(name.data, name.len, now - kCheapRaiseEveryUs))
    return ClaimStart{floor, true};
  TimestampTz oldest_start;
  // A transaction snapshot (REPEATABLE READ, SERIALIZABLE) predates the status read, so
  // a raise there could miss a job committed in between.
  if (IsolationUsesXactSnapshot() || !oldest_open_transaction_start(now, &oldest_start))
    return ClaimStart{floor, true};
  ClaimStart start = raise(queue, floor, oldest_start);
  floors.store(name.data, name.len, start.floor, from_front, now);
  raised_in_transaction = true;
  return start;
}

void register_claim_floor_callbacks() {
  RegisterXactCallback(on_transaction_event, nullptr);
  RegisterSubXactCallback(on_subtransaction_event, nullptr);
}

}  // namespace baton::pg
