-- One pgbench transaction = one worker round: claim up to 50 jobs, "run" them (about one
-- in eight fails, and is retried by baton with backoff), report all outcomes in one call.
WITH claimed AS MATERIALIZED (
  SELECT id, lease_token FROM baton.fetch_v1(ARRAY['demo'], 'demo-worker', 50)),
batch AS (
  SELECT array_agg(id) AS ids, array_agg(lease_token) AS tokens,
         array_agg(CASE WHEN random() < 0.125 THEN 'failed' ELSE 'succeeded' END) AS statuses
    FROM claimed)
SELECT count(*)
  FROM batch, LATERAL baton.finish_many_v1(batch.ids, batch.tokens, batch.statuses,
                                           errors => array_fill('simulated failure'::text,
                                                                ARRAY[cardinality(batch.ids)]))
 WHERE batch.ids IS NOT NULL;
