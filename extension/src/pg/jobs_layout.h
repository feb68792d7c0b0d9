// The direct path: the hot functions read and write baton.jobs and baton.jobs_finished
// through the heap and index access methods instead of SQL statements, which spares each
// call the executor's start-up and shutdown (most of a one-job call's cost, measured).
//
// It serves only tables exactly as this .so knows them: the columns (names, types, order)
// and every index definition are compared with the layouts below once per backend and
// again after any invalidation of either table. A table that differs (a later release's
// schema this .so predates, a trigger, a CHECK constraint, row-level security, an index a
// user added) turns the direct path off for that backend: the callers then run their SQL
// statements, which handle every case. So does `SET baton.direct_access = off`.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// Column numbers of baton.jobs (the layout check guarantees them).
enum JobColumn : int {
  kJobId = 1,
  kJobQueue,
  kJobTask,
  kJobArgs,
  kJobPriority,
  kJobRunAt,
  kJobStatus,
  kJobMarked,
  kJobAttempts,
  kJobMaxAttempts,
  kJobRetryBackoff,
  kJobRetryDelay,
  kJobRetryDelayMax,
  kJobLock,
  kJobQueueingLock,
  kJobWorker,
  kJobLeaseToken,
  kJobLeaseExpiresAt,
  kJobAbortRequested,
  kJobKeepSucceeded,
  kJobLastError,
  kJobDeferredAt,
  kJobClaimedAt,
  kJobEvents,
};
constexpr int kJobColumns = kJobEvents;

// Column numbers of baton.jobs_finished.
enum FinishedColumn : int {
  kFinId = 1,
  kFinQueue,
  kFinTask,
  kFinArgs,
  kFinPriority,
  kFinStatus,
  kFinAttempts,
  kFinMaxAttempts,
  kFinRetryBackoff,
  kFinRetryDelay,
  kFinRetryDelayMax,
  kFinLock,
  kFinQueueingLock,
  kFinWorker,
  kFinResult,
  kFinError,
  kFinDeferredAt,
  kFinClaimedAt,
  kFinFinishedAt,
  kFinEvents,
};
constexpr int kFinishedColumns = kFinEvents;

// The indexes of baton.jobs, in this order in JobsLayout::job_index.
enum JobIndex : int {
  kIdxPkey,
  kIdxReady,
  kIdxMarked,
  kIdxRunning,
  kIdxLock,
  kIdxLockHead,
  kIdxQueueingLock,
  kJobIndexCount,
};

struct JobsLayout {
  Oid jobs;
  Oid jobs_finished;
  Oid job_id_seq;
  Oid job_index[kJobIndexCount];
  Oid finished_pkey;
  Oid finished_brin;
  // Labels of baton.job_state and baton.final_state.
  Oid waiting;
  Oid running;
  Oid blocked;
  Oid succeeded;
  Oid dead;
  Oid cancelled;
};

// The layout when the direct path may serve this backend, else nullptr. Call it after the
// caller's lock on baton.jobs is taken: taking a lock processes pending invalidations, so
// the answer then holds until the caller's transaction ends.
const JobsLayout* direct_jobs_layout();

// Forgets the checked layout (relcache invalidation of either table).
void forget_jobs_layout();

// Defines the baton.direct_access setting; called once from _PG_init.
void define_direct_access_setting();

}  // namespace baton::pg
