// Internals of the workflow runtime: the fenced calls a driver makes (workflow_calls.cpp),
// used by workflow_run.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "baton/workflow.h"

namespace baton {
namespace detail {

// A row of claim_run_v1.
struct RunClaim {
  RunId id = 0;
  std::string workflow;
  int version = 0;
  std::string status;
  Json input;
  std::int64_t fence = 0;
  int snapshot_threshold = 0;
  std::int64_t last_seq = 0;
  int steps = 0;
  std::string correlation_id;
  std::optional<RunId> continued_from;
};

RunClaim claim_run(Client& client, RunId run_id, JobId job_id, const std::string& lease_token);
std::int64_t record_step(Client& client, RunId run_id, std::int64_t fence, int step,
                         const std::string& name, const Json& result,
                         const std::optional<Compensation>& compensation);
std::int64_t append_event(Client& client, RunId run_id, std::int64_t fence, const std::string& kind,
                          const Json& payload);
void write_snapshot(Client& client, RunId run_id, std::int64_t fence, std::int64_t through_seq,
                    const Json& state, int format_version);
void complete_run(Client& client, RunId run_id, std::int64_t fence, const Json& output);
std::string fail_run(Client& client, RunId run_id, std::int64_t fence, const std::string& error,
                     bool compensate);
std::string compensate_all(Client& client, RunId run_id, std::int64_t fence,
                           const std::string& mode, const std::optional<std::string>& reason);
RunId continue_as_new(Client& client, RunId run_id, std::int64_t fence, const Json& input);

}  // namespace detail
}  // namespace baton
