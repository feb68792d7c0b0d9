// The module's identity; the entry points live in one file per procedure family.
#include "postgres_headers.h"

extern "C" {
PG_MODULE_MAGIC;
}
