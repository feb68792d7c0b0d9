#include "queue_row.h"

#include "relations.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

namespace baton::pg {

namespace {

bool read_queue_row(const BatonRelations& rel, Datum queue, QueueRow* row) {
  Relation queues = table_open(rel.queues, AccessShareLock);
  Relation pkey = index_open(rel.queues_pkey, AccessShareLock);
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  ScanKeyData key;
  ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, pkey->rd_indcollation[0],
                         F_TEXTEQ, queue);
  TupleTableSlot* slot = table_slot_create(queues, nullptr);
  IndexScanDesc scan = index_beginscan(queues, pkey, snapshot, 1, 0);
  index_rescan(scan, &key, 1, nullptr, 0);
  bool found = index_getnext_slot(scan, ForwardScanDirection, slot);
  if (found) {
    bool isnull;
    bool notify = DatumGetBool(slot_getattr(slot, rel.queues_notify, &isnull));
    TimestampTz listening_until =
        DatumGetTimestampTz(slot_getattr(slot, rel.queues_listening_until, &isnull));
    row->wake = notify && listening_until > GetCurrentTimestamp();
    row->keep_succeeded = DatumGetBool(slot_getattr(slot, rel.queues_keep_succeeded, &isnull));
    row->paused = rel.queues_paused != InvalidAttrNumber &&
                  DatumGetBool(slot_getattr(slot, rel.queues_paused, &isnull));
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(slot);
  UnregisterSnapshot(snapshot);
  index_close(pkey, NoLock);
  table_close(queues, NoLock);
  return found;
}

}  // namespace

bool lookup_queue_row(Datum queue, QueueRow* row) {
  const BatonRelations& rel = baton_relations();
  LockRelationOid(rel.jobs, RowExclusiveLock);
  return read_queue_row(rel, queue, row);
}

bool queue_paused(Datum queue) {
  const BatonRelations& rel = baton_relations();
  if (rel.queues_paused == InvalidAttrNumber) return false;
  QueueRow row;
  return read_queue_row(rel, queue, &row) && row.paused;
}

}  // namespace baton::pg
