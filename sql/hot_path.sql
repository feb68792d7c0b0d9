-- The hot path never reads history and never scans the active table sequentially, even
-- when the statistics say every active row is ready (the planner flip that sank other
-- Postgres queues): claim cost follows waiting and running jobs, not finished ones.
SELECT baton.create_queue_v1('hot');
INSERT INTO baton.jobs_finished (id, queue, task, args, priority, status, attempts, max_attempts,
    retry_backoff, retry_delay, retry_delay_max, deferred_at, finished_at, events)
  SELECT nextval('baton.job_id_seq'), 'hot', 'old', '{}', 0, 'succeeded', 1, 5, 'exponential',
         '1 second', '1 hour', now(), now(), '[]'
    FROM generate_series(1, 20000);
SELECT count(*) FROM baton.defer_many_v1('hot', 'new', array_fill('{}'::jsonb, ARRAY[5000]));
ANALYZE baton.jobs;
ANALYZE baton.jobs_finished;

-- pg_stat_xact_user_tables counts table accesses of this backend not yet reported, which
-- include this transaction's: no sequential scan of jobs, no read of jobs_finished at all.
BEGIN;
SELECT baton.defer_v1('hot', 'one') > 0 AS deferred;
CREATE TEMP TABLE hot_held ON COMMIT DROP AS
  SELECT id, lease_token FROM baton.fetch_v1(ARRAY['hot'], 'w', 100);
SELECT count(*) AS claimed FROM hot_held;
SELECT status, count(*) FROM baton.finish_many_v1(
    ARRAY(SELECT id FROM hot_held ORDER BY id), ARRAY(SELECT lease_token FROM hot_held ORDER BY id),
    array_fill('succeeded'::text, ARRAY[100]))
  GROUP BY status;
SELECT relname, seq_scan, idx_scan > 0 AS used_an_index
  FROM pg_stat_xact_user_tables WHERE relid IN ('baton.jobs'::regclass, 'baton.jobs_finished'::regclass)
 ORDER BY relname;
COMMIT;
