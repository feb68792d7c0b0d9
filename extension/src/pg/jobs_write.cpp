#include "jobs_write.h"

#include "relations.h"

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/snapmgr.h"
}

namespace baton::pg {
namespace {

void add_entry(JobsTable* table, JobIndex index, Datum* keys, bool* nulls, ItemPointer tid,
               bool unique, bool unchanged) {
  index_insert(job_index(table, index), keys, nulls, tid, table->heap,
               unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO, unchanged, table->info[index]);
}

// The entries of one version, by the definitions in jobs_layout.cpp (kJobIndexDefs): an
// index gets an entry when its predicate holds for the version. `unchanged` is the hint
// an UPDATE gives when the key columns stayed the same (bottom-up deletion of the old
// entries); baton's updates never change a key column.
void index_version(JobsTable* table, HeapTuple tuple, const JobRow* row, bool unchanged) {
  const JobsLayout* layout = table->layout;
  const Datum* v = row->values;
  const bool* n = row->isnull;
  ItemPointer tid = &tuple->t_self;
  Oid status = DatumGetObjectId(v[kJobStatus - 1]);
  bool waiting = status == layout->waiting;
  bool running = status == layout->running;
  bool blocked = status == layout->blocked;
  bool nulls[4] = {false, false, false, false};

  Datum id[1] = {v[kJobId - 1]};
  add_entry(table, kIdxPkey, id, nulls, tid, true, unchanged);
  if (waiting) {
    Datum claim_key[4] = {v[kJobQueue - 1], Int32GetDatum(-DatumGetInt32(v[kJobPriority - 1])),
                          v[kJobRunAt - 1], v[kJobId - 1]};
    bool marked = DatumGetBool(v[kJobMarked - 1]);
    add_entry(table, marked ? kIdxMarked : kIdxReady, claim_key, nulls, tid, false, unchanged);
  }
  if (running) add_entry(table, kIdxRunning, id, nulls, tid, false, unchanged);
  if (!n[kJobLock - 1]) {
    Datum lock_id[2] = {v[kJobLock - 1], v[kJobId - 1]};
    add_entry(table, kIdxLock, lock_id, nulls, tid, false, unchanged);
    if (waiting || running) {
      Datum lock[1] = {v[kJobLock - 1]};
      add_entry(table, kIdxLockHead, lock, nulls, tid, true, unchanged);
    }
  }
  if (!n[kJobQueueingLock - 1] && (waiting || blocked) && DatumGetInt32(v[kJobAttempts - 1]) == 0) {
    Datum key[1] = {v[kJobQueueingLock - 1]};
    add_entry(table, kIdxQueueingLock, key, nulls, tid, true, unchanged);
  }
}

}  // namespace

Datum& job_value(JobRow* row, JobColumn column) {
  row->isnull[column - 1] = false;
  return row->values[column - 1];
}

void set_job_null(JobRow* row, JobColumn column) {
  row->values[column - 1] = (Datum)0;
  row->isnull[column - 1] = true;
}

const JobsLayout* lock_jobs_for_direct_write() {
  LockRelationOid(baton_relations().jobs, RowExclusiveLock);
  return direct_jobs_layout();
}

void open_jobs_table(const JobsLayout* layout, JobsTable* table) {
  table->layout = layout;
  table->heap = table_open(layout->jobs, RowExclusiveLock);
  for (int i = 0; i < kJobIndexCount; ++i) {
    table->index[i] = nullptr;
    table->info[i] = nullptr;
  }
}

Relation job_index(JobsTable* table, JobIndex index) {
  if (table->index[index] == nullptr) {
    table->index[index] = index_open(table->layout->job_index[index], RowExclusiveLock);
    table->info[index] = BuildIndexInfo(table->index[index]);
  }
  return table->index[index];
}

void close_jobs_table(JobsTable* table) {
  for (int i = 0; i < kJobIndexCount; ++i)
    if (table->index[i] != nullptr) index_close(table->index[i], NoLock);
  table_close(table->heap, NoLock);
}

void require_table_rights(Oid relid, AclMode mask) {
  if (pg_class_aclmask(relid, GetUserId(), mask, ACLMASK_ALL) != mask)
    aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(relid));
}

void insert_job(JobsTable* table, JobRow* row) {
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(table->heap), row->values, row->isnull);
  simple_heap_insert(table->heap, tuple);
  index_version(table, tuple, row, false);
}

bool lock_job(JobsTable* table, ItemPointer tid, Snapshot snapshot, TupleTableSlot* slot, bool skip,
              bool* traversed) {
  TM_FailureData failure;
  failure.traversed = false;
  // Under READ COMMITTED a row updated since the caller's snapshot is followed to its
  // newest version (as SELECT ... FOR UPDATE does); under a transaction snapshot the lock
  // raises a serialization failure instead.
  uint8 flags = IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION;
  TM_Result result =
      table_tuple_lock(table->heap, tid, snapshot, slot, GetCurrentCommandId(true),
                       LockTupleExclusive, skip ? LockWaitSkip : LockWaitBlock, flags, &failure);
  *traversed = failure.traversed && result == TM_Ok;
  return result == TM_Ok;
}

void read_job(TupleTableSlot* slot, JobRow* row) {
  slot_getallattrs(slot);
  for (int i = 0; i < kJobColumns; ++i) {
    row->values[i] = slot->tts_values[i];
    row->isnull[i] = slot->tts_isnull[i];
  }
}

void update_job(JobsTable* table, TupleTableSlot* slot, JobRow* row) {
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(table->heap), row->values, row->isnull);
  simple_heap_update(table->heap, &slot->tts_tid, tuple);
  // A heap-only version needs no index entries; baton's state changes are never that (the
  // status is in the index predicates), but a change of other columns could be.
  if (!HeapTupleIsHeapOnly(tuple)) index_version(table, tuple, row, true);
}

bool delete_job_if_unchanged(JobsTable* table, ItemPointer tid) {
  TM_FailureData failure;
  TM_Result result = heap_delete(table->heap, tid, GetCurrentCommandId(true), InvalidSnapshot,
                                 true /* wait for a concurrent change */, &failure, false);
  return result == TM_Ok;
}

void insert_finished_job(const JobsLayout* layout, const JobRow* job, Oid final_status,
                         Datum result, bool result_null, Datum error, bool error_null) {
  Datum v[kFinishedColumns];
  bool n[kFinishedColumns];
  const Datum* j = job->values;
  const bool* jn = job->isnull;
  // Columns the two tables share, by their numbers in each.
  const int shared[][2] = {{kFinId, kJobId},
                           {kFinQueue, kJobQueue},
                           {kFinTask, kJobTask},
                           {kFinArgs, kJobArgs},
                           {kFinPriority, kJobPriority},
                           {kFinAttempts, kJobAttempts},
                           {kFinMaxAttempts, kJobMaxAttempts},
                           {kFinRetryBackoff, kJobRetryBackoff},
                           {kFinRetryDelay, kJobRetryDelay},
                           {kFinRetryDelayMax, kJobRetryDelayMax},
                           {kFinLock, kJobLock},
                           {kFinQueueingLock, kJobQueueingLock},
                           {kFinWorker, kJobWorker},
                           {kFinDeferredAt, kJobDeferredAt},
                           {kFinClaimedAt, kJobClaimedAt},
                           {kFinEvents, kJobEvents}};
  for (const auto& pair : shared) {
    v[pair[0] - 1] = j[pair[1] - 1];
    n[pair[0] - 1] = jn[pair[1] - 1];
  }
  v[kFinStatus - 1] = ObjectIdGetDatum(final_status);
  n[kFinStatus - 1] = false;
  v[kFinResult - 1] = result;
  n[kFinResult - 1] = result_null;
  v[kFinError - 1] = error;
  n[kFinError - 1] = error_null;
  v[kFinFinishedAt - 1] = TimestampTzGetDatum(GetCurrentTimestamp());
  n[kFinFinishedAt - 1] = false;

  Relation heap = table_open(layout->jobs_finished, RowExclusiveLock);
  Relation pkey = index_open(layout->finished_pkey, RowExclusiveLock);
  Relation brin = index_open(layout->finished_brin, RowExclusiveLock);
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(heap), v, n);
  simple_heap_insert(heap, tuple);
  bool nulls[1] = {false};
  Datum id[1] = {v[kFinId - 1]};
  index_insert(pkey, id, nulls, &tuple->t_self, heap, UNIQUE_CHECK_YES, false,
               BuildIndexInfo(pkey));
  Datum finished_at[1] = {v[kFinFinishedAt - 1]};
  index_insert(brin, finished_at, nulls, &tuple->t_self, heap, UNIQUE_CHECK_NO, false,
               BuildIndexInfo(brin));
  index_close(brin, NoLock);
  index_close(pkey, NoLock);
  table_close(heap, NoLock);
}

}  // namespace baton::pg
