// Workflow settings and checks that live in the library: the global snapshot threshold
// (GUC baton.snapshot_threshold) and the snapshot formats this library accepts. Being C
// functions, calling them loads the library, so the GUC is always defined and validated
// when the workflow procedures read it (a PL/pgSQL current_setting() would see only a
// placeholder in a backend that has not loaded baton yet).
#include "workflow_settings.h"

#include "../core/snapshot_format.h"
#include "boundary.h"

extern "C" {
#include "utils/guc.h"
}

namespace baton::pg {
namespace {

int snapshot_threshold = 0;  // a plain int: the GUC machinery writes it

Datum default_snapshot_threshold(FunctionCallInfo fcinfo) {
  PG_RETURN_INT32(snapshot_threshold);
}

Datum snapshot_format_supported(FunctionCallInfo fcinfo) {
  PG_RETURN_BOOL(core::snapshot_format_supported(PG_GETARG_INT32(0)));
}

Datum newest_snapshot_format(FunctionCallInfo fcinfo) {
  PG_RETURN_INT32(core::newest_snapshot_format());
}

}  // namespace

void define_workflow_settings() {
  DefineCustomIntVariable(
      "baton.snapshot_threshold",
      "Events since a run's last snapshot after which its worker writes a new one (0: off).",
      "The default of every workflow registered without a threshold of its own. Snapshots "
      "only shorten the replay of long histories; the history stays the source of truth.",
      &snapshot_threshold, 0, 0, 1000000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace baton::pg

BATON_ENTRY(baton_default_snapshot_threshold, baton::pg::default_snapshot_threshold)
BATON_ENTRY(baton_snapshot_format_supported, baton::pg::snapshot_format_supported)
BATON_ENTRY(baton_newest_snapshot_format, baton::pg::newest_snapshot_format)
