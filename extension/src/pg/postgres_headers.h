// The boundary zone: every file here may call PostgreSQL. Functions in this zone keep only
// trivially destructible locals in frames that call anything able to ereport(ERROR), since
// such an error longjmps past C++ destructors. C++ exceptions (core::Error) are caught in
// run_entry() and turned into ereport(ERROR) there, outside any catch block.
#pragma once

extern "C" {
// postgres.h must come first; the blank line keeps clang-format from sorting it away.
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}
