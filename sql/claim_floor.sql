-- Claim floors (CONTRIBUTING.md, "Claim floors"): a claim starts its walk of the ready
-- index at its backend's floor for the queue, past the dead entries claimed jobs leave
-- until VACUUM. These tests check that the walk really is short, and that no job a claim
-- must see is ever below the floor: marked jobs (priority above 0, a run_at in the past,
-- unblocked jobs, queueing locks) and rolled-back claims.
SELECT baton.create_queue_v1('floor');
-- No VACUUM may remove the dead entries this test needs.
ALTER TABLE baton.jobs SET (autovacuum_enabled = false);

-- 20,000 jobs deferred, claimed and finished: 20,000 dead entries at the front of the
-- ready index.
DO $$
BEGIN
  FOR i IN 1..20 LOOP
    PERFORM baton.defer_many_v1('floor', 'bulk', array_fill('{}'::jsonb, ARRAY[1000]));
    PERFORM baton.finish_many_v1(array_agg(f.id), array_agg(f.lease_token),
                                 array_fill('succeeded'::text, ARRAY[count(*)::int]))
      FROM baton.fetch_v1(ARRAY['floor'], 'w', 1000) f;
  END LOOP;
END
$$;
SELECT pg_relation_size('baton.jobs_ready_idx') / current_setting('block_size')::int > 100
  AS dead_front_spans_over_100_pages;

-- A claim reads a handful of ready-index blocks, not the dead front. (The first claim of
-- this backend walks from the front once, to find its floor; the claims after it do not.
-- A floor stays a little behind the clock, for rows being inserted: hence the sleep.)
SELECT pg_sleep(0.1);
SELECT baton.defer_v1('floor', 'a') IS NOT NULL AS deferred;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
SELECT baton.defer_v1('floor', 'b') IS NOT NULL AS deferred;
SELECT pg_stat_get_xact_blocks_fetched('baton.jobs_ready_idx'::regclass) AS blocks_before
\gset
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
SELECT pg_stat_get_xact_blocks_fetched('baton.jobs_ready_idx'::regclass) - :blocks_before < 10
  AS claim_read_under_10_index_blocks;

-- A job with a priority above 0 sorts before the floor: it is marked, and claimed first.
SELECT baton.defer_v1('floor', 'plain') IS NOT NULL AS deferred;
SELECT baton.defer_v1('floor', 'urgent', priority => 5) IS NOT NULL AS deferred;
SELECT task, marked FROM baton.jobs WHERE queue = 'floor' AND status = 'waiting' ORDER BY id;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);

-- So does a run_at in the past: older than every job waiting, it is claimed first.
SELECT baton.defer_v1('floor', 'overdue', run_at => now() - interval '1 hour') IS NOT NULL
  AS deferred;
SELECT task, marked FROM baton.jobs WHERE queue = 'floor' AND status = 'waiting' ORDER BY id;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);

-- A job unblocked when its lock's head finishes keeps its old run_at: marked, and claimed
-- before the jobs deferred after it.
SELECT baton.defer_v1('floor', 'head', lock => 'L') IS NOT NULL AS deferred;
SELECT baton.defer_v1('floor', 'behind', lock => 'L') IS NOT NULL AS deferred;
SELECT id AS head_id, lease_token AS head_token FROM baton.fetch_v1(ARRAY['floor'], 'w', 1) \gset
SELECT baton.defer_v1('floor', 'later') IS NOT NULL AS deferred;
SELECT pg_sleep(0.1);  -- past the floor's margin for rows being inserted
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);  -- raises the floor past 'behind'
SELECT baton.finish_v1(:head_id, :'head_token', 'succeeded');
SELECT task, status, marked FROM baton.jobs WHERE queue = 'floor' ORDER BY id;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);

-- A claim rolled back returns its job below the floor the claim's raise set: the floor is
-- forgotten, and the job claimed again. The same for a savepoint rolled back.
SELECT baton.defer_v1('floor', 'first') IS NOT NULL AS deferred;
SELECT baton.defer_v1('floor', 'second') IS NOT NULL AS deferred;
SELECT pg_sleep(0.1);
BEGIN;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);  -- its raise passed 'first'
ROLLBACK;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
BEGIN;
SAVEPOINT s;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
SELECT baton.defer_v1('floor', 'third') IS NOT NULL AS deferred;
SELECT pg_sleep(0.1);
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);  -- passes 'second'
ROLLBACK TO SAVEPOINT s;
SELECT task FROM baton.fetch_v1(ARRAY['floor'], 'w', 1);
COMMIT;

-- A job with a queueing lock is marked (its insert may wait for another transaction after
-- its run_at was read).
SELECT baton.defer_v1('floor', 'unique', queueing_lock => 'Q') IS NOT NULL AS deferred;
SELECT task, marked FROM baton.jobs WHERE queue = 'floor' AND task = 'unique';

-- The several-queues claim keeps a floor per queue, and sees marked jobs too.
SELECT baton.create_queue_v1('floor2');
SELECT baton.defer_v1('floor2', 'other') IS NOT NULL AS deferred;
SELECT baton.defer_v1('floor2', 'other urgent', priority => 3) IS NOT NULL AS deferred;
SELECT task FROM baton.fetch_v1(ARRAY['floor', 'floor2', 'floor'], 'w', 3) ORDER BY task;

ALTER TABLE baton.jobs RESET (autovacuum_enabled);
SELECT baton.drop_queue_v1('floor', true);
SELECT baton.drop_queue_v1('floor2', true);
