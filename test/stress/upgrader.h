// The upgrade under load (--upgrade-to): ALTER EXTENSION baton UPDATE runs on its own
// connection while the workers keep calling the old procedures and the producer keeps
// deferring; the normal audit then proves no job was lost or run twice across it.
#pragma once

#include "context.h"
#include "pg.h"

namespace stress {

// Waits until the producer asks for the upgrade (a share of the jobs is deferred), notes
// how many jobs wait and run at that moment, then runs ALTER EXTENSION under lock_timeout,
// retrying a lock_timeout a few times; any other error is a violation. Sets
// ctx.upgrade.committed once it committed, which moves half of the workers to fetch_v2.
void run_upgrader(Context& ctx);

// After the run: the database is at the target version, and the run proved what it claims
// (the upgrade met waiting and running jobs; defers came before, during and after it; old
// and new procedures worked after it). Adds a violation for each that fails.
void check_upgrade(Connection& conn, Context& ctx);

// The summary lines of the upgrade, ending with UPGRADE_STALL_MS=<ms> for scripts.
void print_upgrade_summary(const Context& ctx);

}  // namespace stress
