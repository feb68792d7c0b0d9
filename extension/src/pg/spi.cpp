#include "spi.h"

extern "C" {
#include "catalog/namespace.h"
}

namespace baton::pg {

void push_fixed_search_path() {
  OverrideSearchPath path{NIL, true, false, 0};  // copied by the push
  PushOverrideSearchPath(&path);
}

void pop_fixed_search_path() {
  PopOverrideSearchPath();
}

void spi_begin() {
  SPI_connect();
  push_fixed_search_path();
}

void spi_end() {
  pop_fixed_search_path();
  SPI_finish();
}

SPIPlanPtr kept_plan(SPIPlanPtr* slot, const char* sql, int nargs, const Oid* types) {
  if (*slot != nullptr) return *slot;
  SPIPlanPtr plan =
      SPI_prepare_cursor(sql, nargs, const_cast<Oid*>(types), CURSOR_OPT_GENERIC_PLAN);
  if (plan == nullptr)
    elog(ERROR, "baton: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
  if (SPI_keepplan(plan) != 0) elog(ERROR, "baton: SPI_keepplan failed");
  *slot = plan;
  return plan;
}

void execute(SPIPlanPtr plan, const Datum* values, const char* nulls) {
  int rc = SPI_execute_plan(plan, const_cast<Datum*>(values), nulls, false, 0);
  if (rc < 0) elog(ERROR, "baton: SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

Datum result_value(int row, int col, bool* isnull) {
  return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

}  // namespace baton::pg
