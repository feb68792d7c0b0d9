-- Every documented input error: a clear message, its SQLSTATE, and nothing written.
SELECT baton.create_queue_v1('errs');
SELECT count(*) AS jobs_before FROM baton.all_jobs \gset

-- queue names
SELECT try($$SELECT baton.defer_v1('', 't')$$);
SELECT try($$SELECT baton.defer_v1('nope', 't')$$);
SELECT try($$SELECT baton.defer_v1('bad name', 't')$$);
SELECT try($$SELECT baton.defer_v1(repeat('q', 49), 't')$$);
SELECT try($$SELECT baton.defer_v1(NULL, 't')$$);
SELECT try($$SELECT baton.create_queue_v1('bad/name')$$);
SELECT try($$SELECT baton.create_queue_v1('')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['nope'], 'w')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs', 'nope'], 'w')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY[]::text[], 'w')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs', NULL], 'w')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(NULL, 'w')$$);

-- task, worker, lock names
SELECT try($$SELECT baton.defer_v1('errs', '')$$);
SELECT try($$SELECT baton.defer_v1('errs', repeat('t', 201))$$);
SELECT try($$SELECT baton.defer_v1('errs', E'new\nline')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', lock => '')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', queueing_lock => repeat('k', 201))$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], '')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], NULL)$$);

-- malformed args
SELECT try($$SELECT baton.defer_v1('errs', 't', '{"unclosed": ')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', '[1, 2]')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', '"text"')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', NULL)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', jsonb_build_object('blob', repeat('x', 1100000)))$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', ARRAY['{}', '3']::jsonb[])$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', ARRAY['{}', NULL]::jsonb[])$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', ARRAY[]::jsonb[])$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', array_fill('{}'::jsonb, ARRAY[10001]))$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', ARRAY['{}', '{}']::jsonb[], locks => ARRAY['a'])$$);
SELECT try($$SELECT baton.defer_many_v1('errs', 't', ARRAY[['{}'], ['{}']]::jsonb[])$$);

-- negative or absurd numbers and intervals
SELECT try($$SELECT baton.defer_v1('errs', 't', priority => -10001)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', priority => 10001)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', max_attempts => 0)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', max_attempts => -3)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', max_attempts => 1001)$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', delay => '-1 second')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', delay => '11 years')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', run_at => now(), delay => '1 minute')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', run_at => 'infinity')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', retry_backoff => 'fibonacci')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', retry_delay => '-5 seconds')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', retry_delay => '31 days')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', retry_delay => '1 hour', retry_delay_max => '1 minute')$$);
SELECT try($$SELECT baton.defer_v1('errs', 't', priority => NULL)$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], 'w', max_jobs => 0)$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], 'w', max_jobs => 1001)$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], 'w', lease => '0 seconds')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], 'w', lease => '8 days')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['errs'], 'w', lease => NULL)$$);

-- nothing above wrote a job
SELECT count(*) - :jobs_before AS jobs_written FROM baton.all_jobs;

-- finish: bad status, missing token, unknown job, malformed bulk input
SELECT baton.defer_v1('errs', 't') AS job_id \gset
CREATE TABLE errs_held AS SELECT id, lease_token FROM baton.fetch_v1(ARRAY['errs'], 'w', 1);
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'done')$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(%s, NULL, 'succeeded')$$, id)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(NULL, %L, 'succeeded')$$, lease_token)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(%s, %L, NULL)$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'succeeded', retryable => NULL)$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(%s, 'not-a-uuid', 'succeeded')$$, id)) FROM errs_held;
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'succeeded', result => jsonb_build_object('x', repeat('x', 1100000)))$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT * FROM baton.finish_many_v1(ARRAY[%s, %s], ARRAY[%L, %L]::uuid[], ARRAY['succeeded', 'succeeded'])$$, id, id, lease_token, lease_token)) FROM errs_held;
SELECT try(format($$SELECT * FROM baton.finish_many_v1(ARRAY[%s], ARRAY[%L]::uuid[], ARRAY['succeeded', 'failed'])$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT * FROM baton.finish_many_v1(ARRAY[%s], ARRAY[%L]::uuid[], ARRAY['won'])$$, id, lease_token)) FROM errs_held;
SELECT try(format($$SELECT * FROM baton.finish_many_v1(ARRAY[%s], ARRAY[NULL]::uuid[], ARRAY['succeeded'])$$, id)) FROM errs_held;
SELECT try(format($$SELECT * FROM baton.finish_many_v1(ARRAY[%s], ARRAY[%L]::uuid[], ARRAY['succeeded'], errors => ARRAY['a', 'b'])$$, id, lease_token)) FROM errs_held;
SELECT try($$SELECT * FROM baton.finish_many_v1(ARRAY[]::bigint[], ARRAY[]::uuid[], ARRAY[]::text[])$$);
SELECT try($$SELECT * FROM baton.heartbeat_v1(1, NULL)$$);
SELECT try($$SELECT * FROM baton.heartbeat_v1(424242, gen_random_uuid())$$);
-- after all those refusals the job is still running under its lease, untouched
SELECT status, attempts, result IS NULL AS no_result
  FROM baton.all_jobs WHERE id = :job_id;
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM errs_held;

-- Jobs with a lock need statement snapshots (READ COMMITTED): refused, nothing written.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT try($$SELECT baton.defer_v1('errs', 't', lock => 'rr')$$);
SELECT baton.defer_v1('errs', 'no-lock-is-fine') > 0 AS deferred;
COMMIT;
SELECT count(*) AS rr_lock_jobs FROM baton.jobs WHERE lock = 'rr';
