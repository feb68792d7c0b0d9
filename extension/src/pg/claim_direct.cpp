#include "claim_direct.h"

#include "args.h"
#include "jobs_write.h"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
}

namespace baton::pg {
namespace {

// The ready index's scan: queue = q AND (-priority, run_at, id) >= floor AND run_at <= due
// (the row comparison bounds the walk's start, as in the claim statements; the last key
// filters jobs scheduled for later).
struct ClaimScanKeys {
  ScanKeyData keys[3];
  ScanKeyData row[3];
};

void build_scan_keys(Relation index, const ClaimRequest& request, ClaimScanKeys* k) {
  ScanKeyEntryInitialize(&k->keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
                         index->rd_indcollation[0], F_TEXTEQ, request.queue);
  // Row members carry the btree comparison procedures, as the executor builds them.
  ScanKeyEntryInitialize(&k->row[0], SK_ROW_MEMBER, 2, BTGreaterEqualStrategyNumber, InvalidOid,
                         InvalidOid, F_BTINT4CMP, Int32GetDatum(request.floor.neg_priority));
  ScanKeyEntryInitialize(&k->row[1], SK_ROW_MEMBER, 3, BTGreaterEqualStrategyNumber, InvalidOid,
                         InvalidOid, F_TIMESTAMP_CMP, TimestampTzGetDatum(request.floor.run_at));
  ScanKeyEntryInitialize(&k->row[2], SK_ROW_MEMBER | SK_ROW_END, 4, BTGreaterEqualStrategyNumber,
                         InvalidOid, InvalidOid, F_BTINT8CMP, Int64GetDatum(request.floor.id));
  ScanKeyEntryInitialize(&k->keys[1], SK_ROW_HEADER, 2, BTGreaterEqualStrategyNumber, InvalidOid,
                         InvalidOid, InvalidOid, PointerGetDatum(k->row));
  ScanKeyEntryInitialize(&k->keys[2], 0, 3, BTLessEqualStrategyNumber, InvalidOid, InvalidOid,
                         F_TIMESTAMPTZ_LE, TimestampTzGetDatum(request.due_by));
}

// A newer version than the index entry showed (it changed after the scan's snapshot):
// claimed only if it still is what the walk looks for, as the executor rechecks a row
// locked FOR UPDATE.
bool still_claimable(const JobsLayout* layout, JobRow* row, const ClaimRequest& request) {
  return DatumGetObjectId(row->values[kJobStatus - 1]) == layout->waiting &&
         !DatumGetBool(row->values[kJobMarked - 1]) &&
         DatumGetTimestampTz(row->values[kJobRunAt - 1]) <= request.due_by &&
         same_text(row->values[kJobQueue - 1], request.queue);
}

// gen_random_uuid(): a version 4 UUID (RFC 4122).
Datum random_uuid() {
  pg_uuid_t* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
  if (!pg_strong_random(uuid->data, UUID_LEN))
    elog(ERROR, "baton: could not generate a lease token");
  uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;
  uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;
  return UUIDPGetDatum(uuid);
}

// The claim's change of the row, as the claim statements' SET list.
void claim_row(const JobsLayout* layout, JobRow* row, const ClaimRequest& request) {
  TimestampTz clock = GetCurrentTimestamp();
  job_value(row, kJobStatus) = ObjectIdGetDatum(layout->running);
  job_value(row, kJobAttempts) = Int32GetDatum(DatumGetInt32(row->values[kJobAttempts - 1]) + 1);
  job_value(row, kJobWorker) = request.worker;
  job_value(row, kJobLeaseToken) = random_uuid();
  job_value(row, kJobLeaseExpiresAt) =
      DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(clock), request.lease);
  job_value(row, kJobClaimedAt) = TimestampTzGetDatum(clock);
}

// The output columns of fetch_v2, in order; fetch_v1 returns the first nine.
constexpr JobColumn kFetchColumnOf[kFetchColumns] = {
    kJobId,       kJobQueue,      kJobTask,           kJobArgs, kJobAttempts,   kJobMaxAttempts,
    kJobPriority, kJobLeaseToken, kJobLeaseExpiresAt, kJobLock, kJobDeferredAt, kJobLastError};

void emit(ReturnSetInfo* rsinfo, const JobRow* row, int columns) {
  Datum out[kFetchColumns];
  bool nulls[kFetchColumns];
  for (int c = 0; c < columns; ++c) {
    out[c] = row->values[kFetchColumnOf[c] - 1];
    nulls[c] = row->isnull[kFetchColumnOf[c] - 1];
  }
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
}

// fetch_v2's task filter, checked on the version the walk found (a job's task never
// changes), before the row is locked.
bool wanted_task(const ClaimRequest& request, TupleTableSlot* seen) {
  if (request.tasks == nullptr) return true;
  bool isnull;
  Datum task = slot_getattr(seen, kJobTask, &isnull);
  for (int i = 0; i < request.task_count; ++i)
    if (same_text(task, request.tasks[i])) return true;
  return false;
}

}  // namespace

int claim_directly(const JobsLayout* layout, const ClaimRequest& request, ReturnSetInfo* rsinfo) {
  require_table_rights(layout->jobs, ACL_UPDATE | ACL_SELECT);
  JobsTable table;
  open_jobs_table(layout, &table);
  Relation ready = job_index(&table, kIdxReady);
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  ClaimScanKeys keys;
  build_scan_keys(ready, request, &keys);
  TupleTableSlot* seen = table_slot_create(table.heap, nullptr);
  TupleTableSlot* held = table_slot_create(table.heap, nullptr);
  IndexScanDesc scan = index_beginscan(table.heap, ready, snapshot, 3, 0);
  index_rescan(scan, keys.keys, 3, nullptr, 0);
  int claimed = 0;
  JobRow row;
  while (claimed < request.max_jobs && index_getnext_slot(scan, ForwardScanDirection, seen)) {
    bool traversed;
    if (!wanted_task(request, seen)) continue;
    if (!lock_job(&table, &seen->tts_tid, snapshot, held, true, &traversed)) continue;
    read_job(held, &row);
    if (traversed && !still_claimable(layout, &row, request)) continue;
    claim_row(layout, &row, request);
    update_job(&table, held, &row);
    emit(rsinfo, &row, request.columns);
    ++claimed;
  }
  index_endscan(scan);
  ExecDropSingleTupleTableSlot(held);
  ExecDropSingleTupleTableSlot(seen);
  UnregisterSnapshot(snapshot);
  close_jobs_table(&table);
  // Later statements of the transaction (and of a calling function) see the claims.
  if (claimed > 0) CommandCounterIncrement();
  return claimed;
}

}  // namespace baton::pg
