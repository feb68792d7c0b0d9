// The module's identity; the entry points live in one file per procedure family.
#include "claim_floor.h"
#include "jobs_layout.h"
#include "postgres_headers.h"
#include "relations.h"
#include "release_check.h"
#include "spi.h"
#include "workflow_settings.h"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
void _PG_init(void) {
  // First: a failure here leaves the library unloaded, so the next call checks again.
  baton::pg::refuse_unknown_release();
  baton::pg::register_claim_floor_callbacks();
  baton::pg::register_relation_cache_callback();
  baton::pg::define_direct_access_setting();
  baton::pg::define_workflow_settings();
  baton::pg::register_spi_callbacks();
}
}
