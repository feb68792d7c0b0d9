// baton's own relations, looked up once per backend and forgotten whenever any of them is
// invalidated (DROP EXTENSION, REINDEX, ...), for the code that reads them directly rather
// than through SQL.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

struct BatonRelations {
  Oid jobs;
  Oid jobs_ready_idx;
  Oid jobs_marked_idx;
  Oid queues;
  Oid queues_pkey;
  AttrNumber jobs_priority;
  AttrNumber jobs_run_at;
  AttrNumber jobs_id;
  AttrNumber queues_notify;
  AttrNumber queues_listening_until;
  AttrNumber queues_keep_succeeded;
  AttrNumber queues_paused;  // InvalidAttrNumber before 0.2.0 (no queue is paused)
};

// ERRORs if the extension's schema or a relation is missing.
const BatonRelations& baton_relations();

// Installs the invalidation callback; called once from _PG_init.
void register_relation_cache_callback();

}  // namespace baton::pg
