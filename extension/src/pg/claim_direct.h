// The direct path of a claim (jobs_layout.h): one queue without marked jobs, the common
// worker loop. It does what the claim statements of fetch.cpp do, without the executor.
#pragma once
#include "../core/claim_floor.h"
#include "jobs_layout.h"

namespace baton::pg {

// fetch_v2 returns these columns; fetch_v1 the first nine.
constexpr int kFetchColumns = 12;
constexpr int kFetchV1Columns = 9;

struct ClaimRequest {
  Datum queue;  // text
  core::ClaimKey floor;
  TimestampTz due_by;  // jobs whose run_at is later are not due
  Datum worker;        // text
  int max_jobs;
  Datum lease;         // interval
  const Datum* tasks;  // fetch_v2's task filter (text), or nullptr for every task
  int task_count;
  int columns;  // of the result: kFetchV1Columns or kFetchColumns
};

// Claims up to max_jobs unmarked due jobs of the queue from the floor on, in claim order,
// skipping rows other transactions hold, and appends them to the set-returning
// function's tuplestore. Returns how many.
int claim_directly(const JobsLayout* layout, const ClaimRequest& request, ReturnSetInfo* rsinfo);

}  // namespace baton::pg
