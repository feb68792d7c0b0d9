// Direct writes of baton.jobs and baton.jobs_finished (the direct path, jobs_layout.h):
// heap tuples plus the index entries each new version needs, decided by the index
// definitions the layout check verified. Only for callers that got a layout from
// direct_jobs_layout(). Every function may ERROR (unique violations included): callers
// keep only trivially destructible locals.
#pragma once
#include "jobs_layout.h"

extern "C" {
#include "access/tableam.h"
#include "nodes/execnodes.h"
#include "utils/rel.h"
}

namespace baton::pg {

// A job's columns, indexed by JobColumn - 1.
struct JobRow {
  Datum values[kJobColumns];
  bool isnull[kJobColumns];
};

Datum& job_value(JobRow* row, JobColumn column);
void set_job_null(JobRow* row, JobColumn column);

// baton.jobs, opened (RowExclusiveLock) for one call's writes; its indexes are opened
// when first written (the table's lock keeps their set fixed meanwhile).
struct JobsTable {
  const JobsLayout* layout;
  Relation heap;
  Relation index[kJobIndexCount];   // nullptr until used
  IndexInfo* info[kJobIndexCount];  // built with the index
};
// An index of the table (opening it on first use).
Relation job_index(JobsTable* table, JobIndex index);
void open_jobs_table(const JobsLayout* layout, JobsTable* table);
void close_jobs_table(JobsTable* table);

// The caller's rights on a table, as the SQL statements would check them: ERRORs with
// 42501 unless the user holds every right in `mask` (ACL_INSERT | ACL_SELECT, ...).
void require_table_rights(Oid relid, AclMode mask);

// Inserts a new job (status and every column set by the caller) with its index entries.
void insert_job(JobsTable* table, JobRow* row);

// Locks the newest version of the job whose version `tid` the caller found (SELECT ...
// FOR UPDATE of that row): `skip` says whether a row another transaction holds is skipped
// (SKIP LOCKED) or waited for. On success the newest version is in `slot` and
// *traversed says whether it is a newer one than `tid` (whose conditions the caller must
// check again). Returns false when the job is gone or (with skip) busy.
bool lock_job(JobsTable* table, ItemPointer tid, Snapshot snapshot, TupleTableSlot* slot, bool skip,
              bool* traversed);

// Takes baton.jobs' ROW EXCLUSIVE lock (the one every write of it takes), then returns the
// layout when the direct path may write it (jobs_layout.h), else nullptr.
const JobsLayout* lock_jobs_for_direct_write();

// Replaces the version in `slot` (locked by the caller) with `row`, and indexes it.
void update_job(JobsTable* table, TupleTableSlot* slot, JobRow* row);

// Reads every column of the version in `slot` into `row`.
void read_job(TupleTableSlot* slot, JobRow* row);

// Deletes the version at `tid`, found under the caller's snapshot, unless another
// transaction changed it since (then false: the caller takes the SQL path).
bool delete_job_if_unchanged(JobsTable* table, ItemPointer tid);

// Moves a job that left baton.jobs into baton.jobs_finished: final status (one of the
// layout's final_state labels), result (or null), error (or null).
void insert_finished_job(const JobsLayout* layout, const JobRow* job, Oid final_status,
                         Datum result, bool result_null, Datum error, bool error_null);

}  // namespace baton::pg
