#pragma once

namespace baton::pg {

// Defines the GUC baton.snapshot_threshold (from _PG_init).
void define_workflow_settings();

}  // namespace baton::pg
