#include "lease_check.h"

#include "../core/error.h"
#include "spi.h"

namespace baton::pg {

namespace {
SPIPlanPtr diagnose_plan = nullptr;

constexpr const char* kDiagnoseSql =
    "SELECT j.status::pg_catalog.text, j.lease_token = $2, j.lease_expires_at > "
    "pg_catalog.clock_timestamp()"
    "  FROM baton.jobs j WHERE j.id = $1"
    " UNION ALL "
    "SELECT f.status::pg_catalog.text, false, false FROM baton.jobs_finished f WHERE f.id = $1";
}  // namespace

void raise_lease_error(int64 job_id, Datum lease_token, const char* action) {
  Oid types[2] = {INT8OID, UUIDOID};
  Datum values[2] = {Int64GetDatum(job_id), lease_token};
  execute(kept_plan(&diagnose_plan, kDiagnoseSql, 2, types), values, nullptr);
  if (SPI_processed == 0)
    core::fail(core::sqlstate::kNoDataFound, "job %lld does not exist",
               static_cast<long long>(job_id));
  bool isnull;
  char status[16];
  text* status_text = DatumGetTextPP(result_value(0, 1, &isnull));
  snprintf(status, sizeof status, "%.*s", static_cast<int>(VARSIZE_ANY_EXHDR(status_text)),
           VARDATA_ANY(status_text));
  bool same_token = DatumGetBool(result_value(0, 2, &isnull)) && !isnull;
  bool unexpired = DatumGetBool(result_value(0, 3, &isnull)) && !isnull;

  char message[256];
  const char* hint = "The job is no longer held under this lease; do not report its outcome.";
  if (strcmp(status, "running") != 0) {
    snprintf(message, sizeof message, "cannot %s job %lld: it is %s, not running", action,
             static_cast<long long>(job_id), status);
  } else if (!same_token) {
    snprintf(message, sizeof message, "cannot %s job %lld: the lease token does not match", action,
             static_cast<long long>(job_id));
  } else if (!unexpired) {
    snprintf(message, sizeof message, "cannot %s job %lld: its lease has expired", action,
             static_cast<long long>(job_id));
  } else {
    snprintf(message, sizeof message, "cannot %s job %lld: lease check failed", action,
             static_cast<long long>(job_id));
  }
  throw core::Error(core::sqlstate::kLeaseLost, message, nullptr, hint);
}

}  // namespace baton::pg
