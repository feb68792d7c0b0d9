// Wake-ups for workers waiting on a queue.
#pragma once
#include "postgres_headers.h"

namespace baton::pg {

// NOTIFY "baton_<queue>". PostgreSQL folds identical notifications of one transaction into
// one, so this sends at most one per queue per transaction. Workers never depend on it.
void notify_queue(const char* queue, std::size_t len);

}  // namespace baton::pg
