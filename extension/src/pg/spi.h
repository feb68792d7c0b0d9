// SPI helpers: plans prepared once per backend and kept, and checked execution.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// SPI_connect plus a fixed search path (pg_catalog only, no temp schema) for every
// statement run until spi_end(): names in our statements resolve the same whatever the
// caller's search_path, and kept plans never see a different path (no re-planning). This
// is the hot functions' "fixed search_path": a SET clause would cost a GUC change and two
// search-path recomputations per call. An ERROR unwinds both (transaction abort).
// spi_begin() also turns enable_seqscan and enable_bitmapscan off until spi_end().
void spi_begin();
void spi_end();
// Installs the transaction callbacks that reset the nesting after an error (_PG_init).
void register_spi_callbacks();

// The same fixed search path without SPI, for direct catalog and table access.
void push_fixed_search_path();
void pop_fixed_search_path();

// Returns *slot, preparing and keeping the plan on first use. Forces a generic plan: the
// statements are written (and the calling functions' planner settings chosen) so that the
// generic plan is the right one, and re-planning per call is the cost we exist to avoid.
// Must be called between SPI_connect and SPI_finish.
SPIPlanPtr kept_plan(SPIPlanPtr* slot, const char* sql, int nargs, const Oid* types);

// Executes a kept plan (read-write) and checks the result code. `nulls` uses ' '/'n'.
void execute(SPIPlanPtr plan, const Datum* values, const char* nulls);

// Column `col` (1-based) of row `row` of the last result.
Datum result_value(int row, int col, bool* isnull);

}  // namespace baton::pg
