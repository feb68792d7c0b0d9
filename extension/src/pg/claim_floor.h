// The boundary half of claim floors (core/claim_floor.h): raising a backend's floor for a
// queue from what the database shows, and forgetting floors when a transaction that raised
// one rolls back.
#pragma once
#include "../core/claim_floor.h"
#include "postgres_headers.h"

namespace baton::pg {

// Where a claim on `queue` may start: the floor, raised first, and whether the queue may
// hold marked waiting jobs (false only when the raise just saw none). Call it before the
// claim statement, so the raise never sees this call's own claims. With `cheap`, the
// raise is skipped when the queue's floor was raised moments ago.
struct ClaimStart {
  core::ClaimKey floor;
  bool marked_jobs;
};
ClaimStart claim_start_for(Datum queue, bool cheap);

// The key as the three parameters of a claim statement (int4, timestamptz, int8).
void bind_claim_key(const core::ClaimKey& key, Datum* values);

// Installs the transaction callbacks; called once from _PG_init.
void register_claim_floor_callbacks();

}  // namespace baton::pg
