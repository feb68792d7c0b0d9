// Reading a queue's row directly (an index probe, no SQL statement): defer and unblock.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

struct QueueRow {
  bool wake;            // notify is on and an idle worker listens now (await_work_v1)
  bool keep_succeeded;  // copied into each job deferred
  bool paused;          // pause_queue_v1 (0.2.0): claims skip the queue
};

// Takes the jobs table's ROW EXCLUSIVE lock first (as the insert that follows would), so a
// drop_queue_v1 in progress is waited for, then reads the queue under a snapshot taken
// after it. False when the queue does not exist.
bool lookup_queue_row(Datum queue, QueueRow* row);

// Whether the queue is paused (false for a queue that does not exist). Reads the row
// without taking the jobs table's lock.
bool queue_paused(Datum queue);

}  // namespace baton::pg
