#include "lock_keys.h"

#include "../core/error.h"
#include "args.h"
#include "boundary.h"
#include "notify.h"
#include "queue_row.h"
#include "spi.h"

extern "C" {
#include "common/hashfn.h"
}

namespace baton::pg {

namespace {

// First half of the two-int advisory key: keeps baton's keys apart from an application's.
constexpr int32 kAdvisoryClass = 0x6261746f;  // "bato"

constexpr const char* kUnblockSql =
    // An unblocked job keeps its run_at, usually long past: it is marked (claim_floor.h).
    "UPDATE baton.jobs j SET status = 'waiting',"
    "  marked = j.priority > 0 OR j.run_at < pg_catalog.clock_timestamp(),"
    "  events = j.events || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object("
    "    'at', pg_catalog.clock_timestamp(), 'kind', 'unblocked'))"
    " WHERE j.id = ANY (ARRAY("
    "   SELECT (SELECT b.id FROM baton.jobs b WHERE b.lock = l.lock AND b.status = 'blocked'"
    "            ORDER BY b.id LIMIT 1)"
    "   FROM (SELECT DISTINCT u.lock FROM pg_catalog.unnest($1) AS u(lock)) AS l"
    "   WHERE NOT EXISTS (SELECT 1 FROM baton.jobs h WHERE h.lock = l.lock"
    "                       AND h.status IN ('waiting', 'running'))))"
    " RETURNING j.queue, j.run_at <= pg_catalog.clock_timestamp()";

SPIPlanPtr unblock_plan = nullptr;

int compare_int32(const void* a, const void* b) {
  int32 x = *static_cast<const int32*>(a);
  int32 y = *static_cast<const int32*>(b);
  return (x > y) - (x < y);
}

Datum lock_keys_entry(FunctionCallInfo fcinfo) {
  ArrayArg keys = array_arg(fcinfo, 0, TEXTOID);
  lock_keys(keys.values, keys.nulls, keys.count);
  PG_RETURN_VOID();
}

int32 key_hash(Datum key) {
  TextRef value = text_ref(DatumGetTextPP(key));
  return static_cast<int32>(
      hash_bytes(reinterpret_cast<const unsigned char*>(value.data), static_cast<int>(value.len)));
}

// The head rule is decided on a snapshot taken after the key; a transaction snapshot
// (REPEATABLE READ, SERIALIZABLE) is older than the key and would miss a committed head.
void require_statement_snapshots() {
  if (IsolationUsesXactSnapshot())
    core::fail_hint("0A000", "Run the transaction at READ COMMITTED.",
                    "jobs with a lock cannot be deferred, finished or cancelled in a "
                    "REPEATABLE READ or SERIALIZABLE transaction");
}

Datum try_lock_key_entry(FunctionCallInfo fcinfo) {
  require_statement_snapshots();
  return DirectFunctionCall2(pg_try_advisory_xact_lock_int4, Int32GetDatum(kAdvisoryClass),
                             Int32GetDatum(key_hash(PG_GETARG_DATUM(0))));
}

Datum unblock_entry(FunctionCallInfo fcinfo) {
  spi_begin();
  int64 promoted = unblock_locks(PG_GETARG_DATUM(0));
  spi_end();
  PG_RETURN_INT32(static_cast<int32>(promoted));
}

}  // namespace

void lock_keys(const Datum* keys, const bool* nulls, int count) {
  int32* hashes = static_cast<int32*>(palloc(sizeof(int32) * (count + 1)));
  int n = 0;
  for (int i = 0; i < count; ++i) {
    if (nulls != nullptr && nulls[i]) continue;
    hashes[n++] = key_hash(keys[i]);
  }
  if (n > 0) require_statement_snapshots();
  qsort(hashes, n, sizeof(int32), compare_int32);
  for (int i = 0; i < n; ++i) {
    if (i > 0 && hashes[i] == hashes[i - 1]) continue;
    DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kAdvisoryClass),
                        Int32GetDatum(hashes[i]));
  }
  pfree(hashes);
}

int64 unblock_locks(Datum keys_array) {
  ArrayType* array = DatumGetArrayTypeP(keys_array);
  Datum* keys;
  bool* nulls;
  int count;
  deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &keys, &nulls, &count);
  lock_keys(keys, nulls, count);
  Oid types[1] = {TEXTARRAYOID};
  execute(kept_plan(&unblock_plan, kUnblockSql, 1, types), &keys_array, nullptr);
  uint64 promoted = SPI_processed;
  // A promoted job that is due wakes its queue's idle workers, as a defer would. A
  // queue's row is not read again for the promotion right after (promotions of one call
  // usually share a queue).
  TextRef checked{nullptr, 0};
  for (uint64 i = 0; i < promoted; ++i) {
    bool isnull;
    if (!DatumGetBool(result_value(static_cast<int>(i), 2, &isnull))) continue;
    Datum queue = result_value(static_cast<int>(i), 1, &isnull);
    TextRef name = text_ref(DatumGetTextPP(queue));
    if (checked.data != nullptr && checked.len == name.len &&
        memcmp(checked.data, name.data, name.len) == 0)
      continue;
    checked = name;
    QueueRow row;
    if (lookup_queue_row(queue, &row) && row.wake) notify_queue(name.data, name.len);
  }
  return static_cast<int64>(promoted);
}

bool collect_locks(int col, Datum* array) {
  uint64 rows = SPI_processed;
  Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (rows + 1)));
  int n = 0;
  for (uint64 i = 0; i < rows; ++i) {
    bool isnull;
    Datum value = result_value(static_cast<int>(i), col, &isnull);
    if (!isnull) values[n++] = value;
  }
  if (n == 0) return false;
  *array = PointerGetDatum(construct_array(values, n, TEXTOID, -1, false, TYPALIGN_INT));
  return true;
}

}  // namespace baton::pg

BATON_ENTRY(baton_lock_keys, baton::pg::lock_keys_entry)
BATON_ENTRY(baton_unblock, baton::pg::unblock_entry)
BATON_ENTRY(baton_try_lock_key, baton::pg::try_lock_key_entry)
