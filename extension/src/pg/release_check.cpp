// The version handshake on the library's side: baton._library_version(), and the refusal
// to serve a database whose baton SQL is newer than this library knows.
#include "release_check.h"

#include "../core/error.h"
#include "../core/release.h"
#include "boundary.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
}

namespace baton::pg {
namespace {

// pg_extension.extversion of baton in this database, palloc'd; nullptr when baton is not
// installed here.
char* installed_release() {
  Oid extension = get_extension_oid("baton", true);
  if (!OidIsValid(extension)) return nullptr;
  Relation catalog = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
              ObjectIdGetDatum(extension));
  SysScanDesc scan = systable_beginscan(catalog, ExtensionOidIndexId, true, nullptr, 1, &key);
  HeapTuple tuple = systable_getnext(scan);
  char* version = nullptr;
  if (HeapTupleIsValid(tuple)) {
    bool isnull;
    Datum value =
        heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(catalog), &isnull);
    if (!isnull) version = text_to_cstring(DatumGetTextPP(value));
  }
  systable_endscan(scan);
  table_close(catalog, AccessShareLock);
  return version;
}

Datum library_version(FunctionCallInfo fcinfo) {
  PG_RETURN_TEXT_P(cstring_to_text(core::kLibraryVersion));
}

}  // namespace

void refuse_unknown_release() {
  // Only where a catalog can be read, and never while CREATE or ALTER EXTENSION runs a
  // script (the version recorded then is on its way to another).
  if (!IsTransactionState() || creating_extension) return;
  char* version = installed_release();
  if (version == nullptr || core::serves_release(version)) return;
  ereport(ERROR,
          (errcode(MAKE_SQLSTATE('Q', 'B', '0', '0', '2')),
           errmsg("the baton library %s cannot serve baton %s, the version installed in this "
                  "database",
                  core::kLibraryVersion, version),
           errdetail("This library serves baton's SQL up to version %s.", core::kLibraryVersion),
           errhint("Install the baton package of version %s or later on this server, then "
                   "reconnect.",
                   version)));
}

}  // namespace baton::pg

BATON_ENTRY(baton_library_version, baton::pg::library_version)
