// Jobs sharing a lock: one head (waiting or running) at a time, the rest blocked behind it.
// Every change that can create or remove a head first takes an advisory transaction lock
// on each lock key involved, so producers and finishers of one lock take turns and each
// sees the other's committed work.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// Takes pg_advisory_xact_lock on each key (in a fixed order, so two callers never
// deadlock on one call's keys). NULL entries are skipped.
void lock_keys(const Datum* keys, const bool* nulls, int count);

// Must run inside SPI. Takes the locks, then (with a snapshot taken after them) makes the
// oldest blocked job of each lock its head when the lock has no head. Returns how many.
int64 unblock_locks(Datum keys_array);

// Collects the non-null text values of column `col` of the last SPI result into a text[]
// (palloc'd in the current context), or returns false when there are none.
bool collect_locks(int col, Datum* array);

}  // namespace baton::pg
