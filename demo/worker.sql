-- One pgbench transaction = one worker round: claim up to 20 jobs, "run" them (about one
-- in eight attempts fails, and baton retries it with backoff), report all outcomes in one
-- call.
WITH claimed AS MATERIALIZED (
  SELECT id, lease_token, random() < 0.125 AS fails
    FROM baton.fetch_v1(ARRAY['demo'], 'demo-worker', 20)),
batch AS (
  SELECT array_agg(id) AS ids, array_agg(lease_token) AS tokens,
         array_agg(CASE WHEN fails THEN 'failed' ELSE 'succeeded' END) AS statuses,
         array_agg(CASE WHEN fails THEN 'simulated failure' END) AS errors
    FROM claimed)
SELECT count(*)
  FROM batch, LATERAL baton.finish_many_v1(batch.ids, batch.tokens, batch.statuses,
                                           errors => batch.errors)
 WHERE batch.ids IS NOT NULL;
