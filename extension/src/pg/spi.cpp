#include "spi.h"

extern "C" {
#include "catalog/namespace.h"
#include "utils/guc.h"
}

namespace baton::pg {

void push_fixed_search_path() {
  OverrideSearchPath path{NIL, true, false, 0};  // copied by the push
  PushOverrideSearchPath(&path);
}

void pop_fixed_search_path() {
  PopOverrideSearchPath();
}

namespace {
// The GUC nest level of each open spi_begin(), innermost last; trivially destructible.
constexpr int kMaxSpiDepth = 16;
int spi_levels[kMaxSpiDepth];
int spi_depth = 0;

void on_transaction_end(XactEvent event, void*) {
  // An ERROR unwinds SPI and the settings without spi_end(); start afresh.
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) spi_depth = 0;
}

void on_subtransaction_end(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  if (event == SUBXACT_EVENT_ABORT_SUB) spi_depth = 0;
}
}  // namespace

void register_spi_callbacks() {
  RegisterXactCallback(on_transaction_end, nullptr);
  RegisterSubXactCallback(on_subtransaction_end, nullptr);
}

void spi_begin() {
  SPI_connect();
  push_fixed_search_path();
  // The planner settings that keep every statement on its index, for the statements run
  // until spi_end() (and any re-planning of their kept plans): the hot functions carry no
  // SET clause for them, so the direct path pays nothing for them.
  int level = NewGUCNestLevel();
  if (spi_depth < kMaxSpiDepth) spi_levels[spi_depth] = level;
  ++spi_depth;
  set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                    false);
  set_config_option("enable_bitmapscan", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                    0, false);
}

void spi_end() {
  --spi_depth;
  if (spi_depth >= 0 && spi_depth < kMaxSpiDepth) AtEOXact_GUC(true, spi_levels[spi_depth]);
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
