// The single wrapper every SQL-callable entry point runs through.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

using EntryBody = Datum (*)(FunctionCallInfo fcinfo);

// Runs body; a core::Error (or any other C++ exception) is copied out, the catch block is
// left, and only then raised as a PostgreSQL ERROR with its SQLSTATE, detail and hint.
Datum run_entry(FunctionCallInfo fcinfo, EntryBody body);

}  // namespace baton::pg

// Defines the exported C symbol `symbol` (named in the install/upgrade scripts) that runs
// `body` inside run_entry. Symbols named in a released script must stay exported forever.
#define BATON_ENTRY(symbol, body)                \
  extern "C" {                                   \
  PG_FUNCTION_INFO_V1(symbol);                   \
  Datum symbol(PG_FUNCTION_ARGS) {               \
    return baton::pg::run_entry(fcinfo, (body)); \
  }                                              \
  }
