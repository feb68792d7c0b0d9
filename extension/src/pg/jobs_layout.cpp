#include "jobs_layout.h"

#include "boundary.h"
#include "relations.h"
#include "spi.h"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "storage/lmgr.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace baton::pg {
namespace {

struct ColumnDef {
  const char* name;
  const char* type;  // format_type_be() under the fixed search path
  bool not_null;
};

// baton.jobs and baton.jobs_finished as the 0.1.0 script creates them.
const ColumnDef kJobColumnDefs[kJobColumns] = {
    {"id", "bigint", true},
    {"queue", "text", true},
    {"task", "text", true},
    {"args", "jsonb", true},
    {"priority", "integer", true},
    {"run_at", "timestamp with time zone", true},
    {"status", "baton.job_state", true},
    {"marked", "boolean", true},
    {"attempts", "integer", true},
    {"max_attempts", "integer", true},
    {"retry_backoff", "text", true},
    {"retry_delay", "interval", true},
    {"retry_delay_max", "interval", true},
    {"lock", "text", false},
    {"queueing_lock", "text", false},
    {"worker", "text", false},
    {"lease_token", "uuid", false},
    {"lease_expires_at", "timestamp with time zone", false},
    {"abort_requested", "boolean", true},
    {"keep_succeeded", "boolean", true},
    {"last_error", "text", false},
    {"deferred_at", "timestamp with time zone", true},
    {"claimed_at", "timestamp with time zone", false},
    {"events", "jsonb", true},
};

const ColumnDef kFinishedColumnDefs[kFinishedColumns] = {
    {"id", "bigint", true},
    {"queue", "text", true},
    {"task", "text", true},
    {"args", "jsonb", true},
    {"priority", "integer", true},
    {"status", "baton.final_state", true},
    {"attempts", "integer", true},
    {"max_attempts", "integer", true},
    {"retry_backoff", "text", true},
    {"retry_delay", "interval", true},
    {"retry_delay_max", "interval", true},
    {"lock", "text", false},
    {"queueing_lock", "text", false},
    {"worker", "text", false},
    {"result", "jsonb", false},
    {"error", "text", false},
    {"deferred_at", "timestamp with time zone", true},
    {"claimed_at", "timestamp with time zone", false},
    {"finished_at", "timestamp with time zone", true},
    {"events", "jsonb", true},
};

struct IndexDef {
  const char* name;
  const char* definition;  // pg_get_indexdef() under the fixed search path
};

// In JobIndex order: jobs_write.cpp keeps each one's entries by these definitions.
const IndexDef kJobIndexDefs[kJobIndexCount] = {
    {"jobs_pkey", "CREATE UNIQUE INDEX jobs_pkey ON baton.jobs USING btree (id)"},
    {"jobs_ready_idx",
     "CREATE INDEX jobs_ready_idx ON baton.jobs USING btree (queue, ((- priority)), run_at, id) "
     "WHERE ((status = 'waiting'::baton.job_state) AND (NOT marked))"},
    {"jobs_marked_idx",
     "CREATE INDEX jobs_marked_idx ON baton.jobs USING btree (queue, ((- priority)), run_at, id) "
     "WHERE ((status = 'waiting'::baton.job_state) AND marked)"},
    {"jobs_running_idx",
     "CREATE INDEX jobs_running_idx ON baton.jobs USING btree (id) "
     "WHERE (status = 'running'::baton.job_state)"},
    {"jobs_lock_idx",
     "CREATE INDEX jobs_lock_idx ON baton.jobs USING btree (lock, id) WHERE (lock IS NOT NULL)"},
    {"jobs_lock_head_key",
     "CREATE UNIQUE INDEX jobs_lock_head_key ON baton.jobs USING btree (lock) "
     "WHERE ((status = ANY (ARRAY['waiting'::baton.job_state, 'running'::baton.job_state])) "
     "AND (lock IS NOT NULL))"},
    {"jobs_queueing_lock_key",
     "CREATE UNIQUE INDEX jobs_queueing_lock_key ON baton.jobs USING btree (queueing_lock) "
     "WHERE ((status = ANY (ARRAY['waiting'::baton.job_state, 'blocked'::baton.job_state])) "
     "AND (attempts = 0) AND (queueing_lock IS NOT NULL))"},
};

const IndexDef kFinishedIndexDefs[2] = {
    {"jobs_finished_pkey",
     "CREATE UNIQUE INDEX jobs_finished_pkey ON baton.jobs_finished USING btree (id)"},
    {"jobs_finished_finished_at_idx",
     "CREATE INDEX jobs_finished_finished_at_idx ON baton.jobs_finished USING brin "
     "(finished_at)"},
};

enum class LayoutState { kUnchecked, kUsable, kRefused };

JobsLayout layout;  // trivially destructible, like everything per backend here
LayoutState state = LayoutState::kUnchecked;
bool direct_access = true;  // the baton.direct_access setting
bool callback_registered = false;

bool same_text(Datum text_value, const char* expected) {
  text* value = DatumGetTextPP(text_value);
  size_t len = VARSIZE_ANY_EXHDR(value);
  return len == strlen(expected) && memcmp(VARDATA_ANY(value), expected, len) == 0;
}

// Columns, constraints and triggers: nothing the direct writes would bypass.
bool table_matches(Relation rel, const ColumnDef* columns, int count) {
  if (rel->rd_rel->relkind != RELKIND_RELATION || rel->trigdesc != nullptr ||
      rel->rd_rel->relrowsecurity || rel->rd_rules != nullptr)
    return false;
  TupleDesc desc = RelationGetDescr(rel);
  if (desc->natts != count) return false;
  if (desc->constr != nullptr &&
      (desc->constr->num_check > 0 || desc->constr->has_generated_stored))
    return false;
  for (int i = 0; i < count; ++i) {
    Form_pg_attribute attr = TupleDescAttr(desc, i);
    if (attr->attisdropped || strcmp(NameStr(attr->attname), columns[i].name) != 0 ||
        attr->attnotnull != columns[i].not_null ||
        strcmp(format_type_be(attr->atttypid), columns[i].type) != 0)
      return false;
  }
  return true;
}

// Every index of `rel` is one of `defs` (by name and definition) and each is there: the
// OIDs go into `oids` in the order of `defs`.
bool indexes_match(Relation rel, const IndexDef* defs, int count, Oid* oids) {
  List* indexes = RelationGetIndexList(rel);
  bool ok = list_length(indexes) == count;
  for (int i = 0; i < count; ++i) oids[i] = InvalidOid;
  ListCell* cell;
  foreach (cell, indexes) {
    if (!ok) break;
    Oid index = lfirst_oid(cell);
    const char* name = get_rel_name(index);
    int k = 0;
    while (k < count && (name == nullptr || strcmp(name, defs[k].name) != 0)) ++k;
    ok = k < count && oids[k] == InvalidOid &&
         same_text(DirectFunctionCall1(pg_get_indexdef, ObjectIdGetDatum(index)),
                   defs[k].definition);
    if (ok) oids[k] = index;
  }
  list_free(indexes);
  return ok;
}

Oid enum_label(Oid type, const char* label) {
  return GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid, ObjectIdGetDatum(type),
                         CStringGetDatum(label));
}

bool check_layout() {
  Oid schema = get_namespace_oid("baton", true);
  if (!OidIsValid(schema)) return false;
  layout.jobs = get_relname_relid("jobs", schema);
  layout.jobs_finished = get_relname_relid("jobs_finished", schema);
  layout.job_id_seq = get_relname_relid("job_id_seq", schema);
  if (!OidIsValid(layout.jobs) || !OidIsValid(layout.jobs_finished) ||
      !OidIsValid(layout.job_id_seq))
    return false;
  Relation jobs = table_open(layout.jobs, AccessShareLock);
  Relation finished = table_open(layout.jobs_finished, AccessShareLock);
  Oid finished_indexes[2];
  bool ok = table_matches(jobs, kJobColumnDefs, kJobColumns) &&
            table_matches(finished, kFinishedColumnDefs, kFinishedColumns) &&
            indexes_match(jobs, kJobIndexDefs, kJobIndexCount, layout.job_index) &&
            indexes_match(finished, kFinishedIndexDefs, 2, finished_indexes);
  if (ok) {
    layout.finished_pkey = finished_indexes[0];
    layout.finished_brin = finished_indexes[1];
    Oid job_state = TupleDescAttr(RelationGetDescr(jobs), kJobStatus - 1)->atttypid;
    Oid final_state = TupleDescAttr(RelationGetDescr(finished), kFinStatus - 1)->atttypid;
    layout.waiting = enum_label(job_state, "waiting");
    layout.running = enum_label(job_state, "running");
    layout.blocked = enum_label(job_state, "blocked");
    layout.succeeded = enum_label(final_state, "succeeded");
    layout.dead = enum_label(final_state, "dead");
    layout.cancelled = enum_label(final_state, "cancelled");
    ok = OidIsValid(layout.waiting) && OidIsValid(layout.running) && OidIsValid(layout.blocked) &&
         OidIsValid(layout.succeeded) && OidIsValid(layout.dead) && OidIsValid(layout.cancelled);
  }
  table_close(finished, AccessShareLock);
  table_close(jobs, AccessShareLock);
  return ok;
}

void on_relation_invalidated(Datum, Oid relid) {
  if (state == LayoutState::kUnchecked) return;
  bool ours = relid == InvalidOid || relid == layout.jobs || relid == layout.jobs_finished;
  if (ours) state = LayoutState::kUnchecked;
}

}  // namespace

const JobsLayout* direct_jobs_layout() {
  if (!direct_access) return nullptr;
  if (state == LayoutState::kUnchecked) {
    if (!callback_registered) {
      CacheRegisterRelcacheCallback(on_relation_invalidated, (Datum)0);
      callback_registered = true;
    }
    // Type and index names print schema-qualified under the fixed path, whatever the
    // caller's search_path.
    push_fixed_search_path();
    bool ok = check_layout();
    pop_fixed_search_path();
    state = ok ? LayoutState::kUsable : LayoutState::kRefused;
    if (!ok)
      elog(DEBUG1,
           "baton: baton.jobs or baton.jobs_finished differ from the layout this "
           "library knows; the hot functions use SQL statements");
  }
  return state == LayoutState::kUsable ? &layout : nullptr;
}

void forget_jobs_layout() {
  state = LayoutState::kUnchecked;
}

void define_direct_access_setting() {
  DefineCustomBoolVariable(
      "baton.direct_access",
      "Lets baton's hot functions read and write their tables directly instead of through SQL.",
      "Off makes them run SQL statements: the same results, slower. For diagnosis and tests.",
      &direct_access, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace baton::pg

namespace baton::pg {
namespace {

// baton._direct_path_active(): whether this backend's hot functions use the direct path.
Datum direct_path_active(FunctionCallInfo fcinfo) {
  LockRelationOid(baton_relations().jobs, AccessShareLock);
  PG_RETURN_BOOL(direct_jobs_layout() != nullptr);
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_direct_path_active, baton::pg::direct_path_active)
