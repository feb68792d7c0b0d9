#include "baton_api.h"

#include <stdexcept>

namespace stress {
namespace {

// Microseconds since the epoch, computed by the server so no timestamp text is parsed here.
std::string epoch_us(const std::string& expr) {
  return "(extract(epoch FROM " + expr + ") * 1000000)::bigint";
}

std::string seconds(int n) {
  return std::to_string(n) + " seconds";
}

Values claim_ids(const std::vector<Claim>& claims) {
  Values ids;
  for (const Claim& c : claims) ids.push_back(std::to_string(c.job_id));
  return ids;
}

// The columns both fetch versions return that make a Claim, in read_claim's order.
constexpr int kClaimColumns = 6;
std::string claim_columns() {
  return "id, coalesce(args ->> 'lock', ''), attempt, max_attempts, lease_token, " +
         epoch_us("lease_expires_at");
}

Claim read_claim(const Result& r, int row, int lease_seconds) {
  Claim c;
  c.job_id = r.int64(row, 0);
  c.lock = r.text(row, 1);
  c.attempt = static_cast<int>(r.int64(row, 2));
  c.max_attempts = static_cast<int>(r.int64(row, 3));
  c.token = r.text(row, 4);
  c.expires_at_us = r.int64(row, 5);
  c.claimed_at_us = c.expires_at_us - int64_t{lease_seconds} * 1000000;
  return c;
}

}  // namespace

std::vector<int64_t> defer_many(Connection& conn, const DeferBatch& batch) {
  Result r = conn.exec(
      "SELECT * FROM baton.defer_many_v1(queue => $1, task => 'stress', args => $2::jsonb[],"
      " priority => $3::int, max_attempts => $4::int, retry_backoff => 'constant',"
      " retry_delay => $5::interval, locks => $6::text[])",
      {batch.queue, array_literal(batch.args), std::to_string(batch.priority),
       std::to_string(batch.max_attempts), batch.retry_delay, array_literal(batch.locks)});
  std::vector<int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids.push_back(r.int64(i, 0));
  return ids;
}

std::vector<Claim> fetch(Connection& conn, const std::vector<std::string>& queues,
                         const std::string& worker, int max_jobs, int lease_seconds) {
  Values queue_values(queues.begin(), queues.end());
  Result r = conn.exec(
      "SELECT " + claim_columns() + " FROM baton.fetch_v1($1::text[], $2, $3::int, $4::interval)",
      {array_literal(queue_values), worker, std::to_string(max_jobs), seconds(lease_seconds)});
  std::vector<Claim> claims;
  for (int i = 0; i < r.rows(); ++i) claims.push_back(read_claim(r, i, lease_seconds));
  return claims;
}

std::vector<ClaimV2> fetch_v2(Connection& conn, const std::vector<std::string>& queues,
                              const std::string& worker, int max_jobs, int lease_seconds,
                              const std::vector<std::string>& tasks) {
  Values queue_values(queues.begin(), queues.end()), task_values(tasks.begin(), tasks.end());
  Result r = conn.exec("SELECT " + claim_columns() +
                           ", lock, task FROM baton.fetch_v2($1::text[], $2, $3::int,"
                           " $4::interval, tasks => $5::text[])",
                       {array_literal(queue_values), worker, std::to_string(max_jobs),
                        seconds(lease_seconds), array_literal(task_values)});
  std::vector<ClaimV2> claims;
  for (int i = 0; i < r.rows(); ++i) {
    ClaimV2 c{read_claim(r, i, lease_seconds), std::nullopt, r.text(i, kClaimColumns + 1)};
    if (!r.is_null(i, kClaimColumns)) c.lock = r.text(i, kClaimColumns);
    claims.push_back(std::move(c));
  }
  return claims;
}

std::string finish_one(Connection& conn, const Claim& claim, const Outcome& outcome) {
  Value error = outcome.failed ? Value(outcome.error) : std::nullopt;
  Result r = conn.exec(
      "SELECT baton.finish_v1($1::bigint, $2::uuid, $3, error => $4)",
      {std::to_string(claim.job_id), claim.token, outcome.failed ? "failed" : "succeeded", error});
  return r.text(0, 0);
}

std::vector<std::string> finish_many(Connection& conn, const std::vector<Claim>& claims,
                                     const std::vector<Outcome>& outcomes) {
  Values tokens, statuses, errors;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    tokens.push_back(claims[i].token);
    statuses.push_back(outcomes[i].failed ? "failed" : "succeeded");
    errors.push_back(outcomes[i].failed ? Value(outcomes[i].error) : std::nullopt);
  }
  Result r = conn.exec(
      "SELECT job_id, status FROM baton.finish_many_v1($1::bigint[], $2::uuid[], $3::text[],"
      " errors => $4::text[])",
      {array_literal(claim_ids(claims)), array_literal(tokens), array_literal(statuses),
       array_literal(errors)});
  if (r.rows() != static_cast<int>(claims.size()))
    throw std::runtime_error("finish_many_v1 returned " + std::to_string(r.rows()) + " rows for " +
                             std::to_string(claims.size()) + " jobs");
  std::vector<std::string> result;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.int64(i, 0) != claims[i].job_id)
      throw std::runtime_error("finish_many_v1 row " + std::to_string(i + 1) + " is job " +
                               r.text(i, 0) + ", expected job " + std::to_string(claims[i].job_id));
    result.push_back(r.text(i, 1));
  }
  return result;
}

int64_t heartbeat(Connection& conn, const Claim& claim, int lease_seconds) {
  Result r = conn.exec("SELECT " + epoch_us("lease_expires_at") +
                           ", abort_requested FROM baton.heartbeat_v1($1::bigint, $2::uuid,"
                           " $3::interval)",
                       {std::to_string(claim.job_id), claim.token, seconds(lease_seconds)});
  if (r.rows() != 1 || r.text(0, 1) != "f")
    throw std::runtime_error("heartbeat_v1 of job " + std::to_string(claim.job_id) +
                             " returned no row or an abort request nobody made");
  return r.int64(0, 0);
}

int reap(Connection& conn) {
  return static_cast<int>(conn.exec("SELECT baton.reap_v1()").int64(0, 0));
}

int64_t server_now_us(Connection& conn) {
  return conn.exec("SELECT " + epoch_us("pg_catalog.clock_timestamp()")).int64(0, 0);
}

}  // namespace stress
