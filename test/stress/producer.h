// The producer: defers every job of the run.
#pragma once

#include <cstdint>
#include <vector>

#include "context.h"

namespace stress {

// Defers options.jobs jobs with defer_many_v1, batch by batch, alternating the queues, while
// the workers already run. A share of the jobs carries one of a few locks, also copied into
// the args so a worker knows the lock of what it claimed. In an upgrade run it paces itself
// so that it defers before, during and after the upgrade (see Pacing in producer.cpp).
// Returns every id the server gave.
std::vector<int64_t> run_producer(Context& ctx);

}  // namespace stress
