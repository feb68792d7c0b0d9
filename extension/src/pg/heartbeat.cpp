// heartbeat_v1: extend the lease on a running job and learn whether an abort was requested.
#include "../core/limits.h"
#include "args.h"
#include "boundary.h"
#include "lease_check.h"
#include "spi.h"

namespace baton::pg {
namespace {

namespace limits = core::limits;

// An expired lease cannot be revived: the job may already belong to someone else. (A token
// exists only while the job runs, so no status test is needed.)
constexpr const char* kHeartbeatSql =
    "UPDATE baton.jobs SET lease_expires_at = pg_catalog.clock_timestamp() + $3"
    " WHERE id = $1 AND lease_token = $2"
    "   AND lease_expires_at > pg_catalog.clock_timestamp()"
    " RETURNING lease_expires_at, abort_requested";

SPIPlanPtr heartbeat_plan = nullptr;

Datum heartbeat(FunctionCallInfo fcinfo) {
  require_arg(fcinfo, 0, "job_id");
  require_arg(fcinfo, 1, "lease_token");
  interval_arg_seconds(fcinfo, 2, "lease", limits::kLeaseMinSeconds, limits::kLeaseMaxSeconds);

  InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  spi_begin();
  Oid types[3] = {INT8OID, UUIDOID, INTERVALOID};
  Datum values[3] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)};
  execute(kept_plan(&heartbeat_plan, kHeartbeatSql, 3, types), values, nullptr);
  if (SPI_processed == 0) raise_lease_error(PG_GETARG_INT64(0), PG_GETARG_DATUM(1), "heartbeat");
  tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[0]);
  spi_end();
  return (Datum)0;
}

}  // namespace
}  // namespace baton::pg

BATON_ENTRY(baton_heartbeat_v1, baton::pg::heartbeat)
