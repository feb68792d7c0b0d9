#include "relations.h"

extern "C" {
#include "catalog/namespace.h"
#include "utils/inval.h"
}

namespace baton::pg {
namespace {

BatonRelations relations;  // trivially destructible
bool relations_known = false;

Oid relation_in(Oid schema, const char* name) {
  Oid relid = get_relname_relid(name, schema);
  if (!OidIsValid(relid)) elog(ERROR, "baton: relation baton.%s is missing", name);
  return relid;
}

AttrNumber column_of(Oid relid, const char* name) {
  AttrNumber attnum = get_attnum(relid, name);
  if (attnum == InvalidAttrNumber) elog(ERROR, "baton: column %s is missing", name);
  return attnum;
}

void forget(Datum, Oid relid) {
  if (relid == InvalidOid || relid == relations.jobs || relid == relations.jobs_ready_idx ||
      relid == relations.jobs_marked_idx || relid == relations.queues ||
      relid == relations.queues_pkey)
    relations_known = false;
}

}  // namespace

const BatonRelations& baton_relations() {
  if (!relations_known) {
    Oid schema = get_namespace_oid("baton", false);
    relations.jobs = relation_in(schema, "jobs");
    relations.jobs_ready_idx = relation_in(schema, "jobs_ready_idx");
    relations.jobs_marked_idx = relation_in(schema, "jobs_marked_idx");
    relations.queues = relation_in(schema, "queues");
    relations.queues_pkey = relation_in(schema, "queues_pkey");
    relations.jobs_priority = column_of(relations.jobs, "priority");
    relations.jobs_run_at = column_of(relations.jobs, "run_at");
    relations.jobs_id = column_of(relations.jobs, "id");
    relations.queues_notify = column_of(relations.queues, "notify");
    relations.queues_listening_until = column_of(relations.queues, "listening_until");
    relations.queues_keep_succeeded = column_of(relations.queues, "keep_succeeded");
    // One library serves every release's SQL: a column added by a later release is optional.
    relations.queues_paused = get_attnum(relations.queues, "paused");
    relations_known = true;
  }
  return relations;
}

void register_relation_cache_callback() {
  CacheRegisterRelcacheCallback(forget, (Datum)0);
}

}  // namespace baton::pg
