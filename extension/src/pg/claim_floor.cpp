#include "claim_floor.h"

#include "args.h"
#include "relations.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace baton::pg {
namespace {

// A raise places the floor no later than this long before it started: an unmarked job's
// run_at is read from the clock while its row is built, so a job whose index entry the
// raise's walk did not yet see is one built at most this long before the entry went in.
constexpr int64 kBuildToIndexMarginUs = 50 * 1000;
// The several-queues claim raises each queue's floor at most this often.
constexpr int64 kCheapRaiseEveryUs = 10 * 1000;

core::FloorCache floors;  // per backend; trivially destructible
bool raised_in_transaction = false;

// Walks `index` with `keys` under a dirty snapshot, which shows every entry no committed
// transaction removed: committed jobs, jobs a transaction in flight is inserting, and jobs
// a claimer in flight holds (it may roll back). Stores the first one's key in *first.
bool first_not_removed(Relation heap, Relation index, ScanKeyData* keys, int nkeys,
                       const BatonRelations& rel, core::ClaimKey* first) {
  SnapshotData dirty;
  InitDirtySnapshot(dirty);
  TupleTableSlot* slot = table_slot_create(heap, nullptr);
  IndexScanDesc scan = index_beginscan(heap, index, &dirty, nkeys, 0);
  index_rescan(scan, keys, nkeys, nullptr, 0);
  bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
  if (found) {
    bool isnull;
    first->neg_priority = -DatumGetInt32(slot_getattr(slot, rel.jobs_priority, &isnull));
    first->run_at = DatumGetTimestampTz(slot_getattr(slot, rel.jobs_run_at, &isnull));
    first->id = DatumGetInt64(slot_getattr(slot, rel.jobs_id, &isnull));
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  return found;
}

void queue_key(ScanKeyData* key, Relation index, Datum queue) {
  ScanKeyEntryInitialize(key, 0, 1, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[0],
                         F_TEXTEQ, queue);
}

// The first unmarked job at or after `from` that no committed transaction removed, due or
// not: (queue, -priority = from's, run_at >= from's), then (queue, -priority > from's).
bool first_unmarked(Relation heap, Datum queue, const core::ClaimKey& from,
                    const BatonRelations& rel, core::ClaimKey* first) {
  Relation index = index_open(rel.jobs_ready_idx, AccessShareLock);
  ScanKeyData keys[3];
  queue_key(&keys[0], index, queue);
  ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_INT4EQ,
                         Int32GetDatum(from.neg_priority));
  ScanKeyEntryInitialize(&keys[2], 0, 3, BTGreaterEqualStrategyNumber, InvalidOid, InvalidOid,
                         F_TIMESTAMPTZ_GE, TimestampTzGetDatum(from.run_at));
  bool found = first_not_removed(heap, index, keys, 3, rel, first);
  if (!found) {
    ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterStrategyNumber, InvalidOid, InvalidOid,
                           F_INT4GT, Int32GetDatum(from.neg_priority));
    found = first_not_removed(heap, index, keys, 2, rel, first);
  }
  index_close(index, NoLock);
  return found;
}

bool any_marked(Relation heap, Datum queue, const BatonRelations& rel) {
  Relation index = index_open(rel.jobs_marked_idx, AccessShareLock);
  ScanKeyData key;
  queue_key(&key, index, queue);
  core::ClaimKey unused;
  bool found = first_not_removed(heap, index, &key, 1, rel, &unused);
  index_close(index, NoLock);
  return found;
}

ClaimStart raise(Datum queue, const core::ClaimKey& from, TimestampTz now) {
  const BatonRelations& rel = baton_relations();
  Relation heap = table_open(rel.jobs, AccessShareLock);
  core::ClaimKey first;
  bool found = first_unmarked(heap, queue, from, rel, &first);
  bool marked = any_marked(heap, queue, rel);
  table_close(heap, NoLock);
  core::ClaimKey cap = core::safe_writer_cap(now, kBuildToIndexMarginUs);
  return ClaimStart{core::raised_floor(found ? &first : nullptr, cap), marked};
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

// A raise does not see this transaction's own claims and cancels (the dirty snapshot hides
// rows the current transaction removed), so a floor raised after them would pass jobs that
// a rollback, of the transaction or of a savepoint, makes waiting again.
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
  ClaimStart start = raise(queue, floor, now);
  floors.store(name.data, name.len, start.floor, from_front, now);
  raised_in_transaction = true;
  return start;
}

void register_claim_floor_callbacks() {
  RegisterXactCallback(on_transaction_event, nullptr);
  RegisterSubXactCallback(on_subtransaction_event, nullptr);
}

}  // namespace baton::pg
