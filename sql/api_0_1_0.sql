-- The frozen API contract of baton 0.1.0. WRITTEN ONCE, NEVER EDITED AGAIN: every later
-- release must pass it unchanged, on a fresh install and on a database upgraded from
-- 0.1.0 (test/upgrade/run.sh runs it on both, and on 0.1.0 SQL served by the newest
-- library). It uses only what 0.1.0 documents, in named notation, and prints statuses,
-- counts and booleans, never ids, tokens or times. Its queues are called api010_*.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  -- Job ids differ between databases; the rest of the message is part of the contract.
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'job -?[0-9]+', 'job N', 'g');
END
$$;

-- Queues
SELECT baton.create_queue_v1('api010_main') AS created;
SELECT baton.create_queue_v1('api010_main', notify => false) AS created_again;
SELECT baton.create_queue_v1(queue => 'api010_lean', keep_succeeded => false) AS created;
SELECT pg_temp.try($$SELECT baton.create_queue_v1('bad name!')$$);
SELECT pg_temp.try($$SELECT baton.create_queue_v1(NULL)$$);

-- Producing
SELECT baton.defer_v1('api010_main', 'plain', '{"n": 1}') > 0 AS deferred;
SELECT baton.defer_v1(queue => 'api010_main', task => 'urgent', args => '{"n": 2}',
                      priority => 10, max_attempts => 2, retry_backoff => 'constant',
                      retry_delay => '0', retry_delay_max => '0') > 0 AS deferred;
SELECT baton.defer_v1(queue => 'api010_main', task => 'later', delay => '1 hour') > 0 AS deferred;
SELECT baton.defer_v1(queue => 'api010_main', task => 'at', run_at => now() + interval '1 day') > 0
  AS deferred;
SELECT count(*) AS bulk FROM baton.defer_many_v1('api010_main', 'bulk',
  ARRAY['{"i": 1}', '{"i": 2}', '{"i": 3}']::jsonb[], retry_delay => '1 hour',
  retry_delay_max => '1 hour');
SELECT baton.defer_v1('api010_main', 'locked', lock => 'api010:k') > 0 AS head,
       baton.defer_v1('api010_main', 'locked-next', lock => 'api010:k') > 0 AS behind;
SELECT baton.defer_v1('api010_main', 'unique', queueing_lock => 'api010:q') > 0 AS deferred;
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'unique', queueing_lock => 'api010:q')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_nowhere', 'x')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', '[1]')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', priority => 20000)$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', run_at => now(), delay => '1 s')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', retry_backoff => 'random')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', '')$$);
SELECT pg_temp.try($$SELECT baton.defer_v1('api010_main', 'x', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM baton.defer_many_v1('api010_main', 'x', ARRAY[]::jsonb[])$$);
SELECT status, count(*) FROM baton.all_jobs WHERE queue = 'api010_main' GROUP BY 1 ORDER BY 1;

-- Working: claim order is priority, then run_at, then age; a lock's second job waits.
CREATE TEMP TABLE api010_held AS
  SELECT * FROM baton.fetch_v1(queues => ARRAY['api010_main'], worker => 'w1', max_jobs => 10,
                               lease => '1 minute');
SELECT task, attempt, max_attempts, priority, lease_token IS NOT NULL AS has_token,
       lease_expires_at > now() AS leased
  FROM api010_held ORDER BY priority DESC, id;
SELECT count(*) AS nothing_left_due FROM baton.fetch_v1(ARRAY['api010_main'], 'w1', 10);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v1(ARRAY['api010_main'], 'w', 0)$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v1(ARRAY['api010_main'], 'w', 1, '0 seconds')$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v1(ARRAY['api010_nowhere'], 'w')$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v1(ARRAY[]::text[], 'w')$$);

SELECT l.abort_requested, l.lease_expires_at > now() AS extended
  FROM api010_held h, baton.heartbeat_v1(h.id, h.lease_token, lease => '2 minutes') AS l
 WHERE h.task = 'plain';
SELECT pg_temp.try(format('SELECT * FROM baton.heartbeat_v1(%s, %L)', id, gen_random_uuid()))
  FROM api010_held WHERE task = 'plain';

SELECT task, baton.finish_v1(id, lease_token, 'succeeded', result => '{"ok": true}') AS outcome
  FROM api010_held WHERE task IN ('plain', 'locked') ORDER BY task;
SELECT task, baton.finish_v1(job_id => id, lease_token => lease_token, status => 'failed',
                             error => 'boom') AS outcome
  FROM api010_held WHERE task = 'urgent';
SELECT task, baton.finish_v1(id, lease_token, 'cancelled') AS outcome
  FROM api010_held WHERE task = 'unique';
SELECT pg_temp.try(format('SELECT baton.finish_v1(%s, %L, %L)', id, lease_token, 'succeeded'))
  FROM api010_held WHERE task = 'plain';
SELECT pg_temp.try(format('SELECT baton.finish_v1(%s, %L, %L)', id, lease_token, 'done'))
  FROM api010_held WHERE task = 'bulk' LIMIT 1;
SELECT pg_temp.try($$SELECT baton.finish_v1(-1, gen_random_uuid(), 'succeeded')$$);
SELECT pg_temp.try($$SELECT baton.finish_v1(1, NULL, 'succeeded')$$);
SELECT b.status, count(*) FROM baton.finish_many_v1(
    ARRAY(SELECT id FROM api010_held WHERE task = 'bulk' ORDER BY id),
    ARRAY(SELECT lease_token FROM api010_held WHERE task = 'bulk' ORDER BY id),
    ARRAY['succeeded', 'failed', 'cancelled']) AS b GROUP BY 1 ORDER BY 1;
SELECT b.status FROM baton.finish_many_v1(
    ARRAY(SELECT id FROM api010_held WHERE task = 'plain'),
    ARRAY[gen_random_uuid()], ARRAY['succeeded']) AS b;
SELECT pg_temp.try($$SELECT * FROM baton.finish_many_v1(ARRAY[1, 1], ARRAY[gen_random_uuid(), gen_random_uuid()], ARRAY['succeeded', 'succeeded'])$$);

-- The failed urgent job is waiting again (attempts left); the lock's next job is unblocked.
SELECT task, status, attempts FROM baton.all_jobs
 WHERE queue = 'api010_main' AND task IN ('urgent', 'locked-next') ORDER BY task;

-- Operating
SELECT baton.cancel_v1(id, reason => 'not needed') FROM baton.all_jobs
 WHERE queue = 'api010_main' AND task = 'later';
SELECT pg_temp.try(format('SELECT baton.cancel_v1(%s)', id))
  FROM baton.all_jobs WHERE queue = 'api010_main' AND task = 'later';
SELECT pg_temp.try($$SELECT baton.cancel_v1(-1)$$);
SELECT baton.retry_v1(id) FROM baton.all_jobs WHERE queue = 'api010_main' AND task = 'later';
SELECT status, attempts FROM baton.all_jobs WHERE queue = 'api010_main' AND task = 'later';
SELECT pg_temp.try(format('SELECT baton.retry_v1(%s)', id))
  FROM baton.all_jobs WHERE queue = 'api010_main' AND task = 'at';

CREATE TEMP TABLE api010_abort AS
  SELECT * FROM baton.fetch_v1(ARRAY['api010_main'], 'w2', 1);
SELECT task FROM api010_abort;
SELECT baton.request_abort_v1(id) FROM api010_abort;
SELECT l.abort_requested FROM api010_abort a, baton.heartbeat_v1(a.id, a.lease_token) AS l;
SELECT baton.finish_v1(id, lease_token, 'cancelled') AS outcome FROM api010_abort;
SELECT pg_temp.try(format('SELECT baton.request_abort_v1(%s)', id)) FROM api010_abort;

SELECT baton.reap_v1() >= 0 AS reaped;
SELECT baton.reap_v1(max_jobs => 10) >= 0 AS reaped;
SELECT pg_temp.try($$SELECT baton.reap_v1(0)$$);
SELECT baton.purge_finished_v1('1 day') >= 0 AS purged;
SELECT pg_temp.try($$SELECT baton.purge_finished_v1('-1 day')$$);
SELECT baton.await_work_v1(ARRAY['api010_main'], '1 second');

-- A queue that keeps no succeeded jobs
SELECT baton.defer_v1('api010_lean', 'gone') > 0 AS deferred;
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM baton.fetch_v1(ARRAY['api010_lean'], 'w');
SELECT count(*) AS kept FROM baton.all_jobs WHERE queue = 'api010_lean';

-- Inspecting
SELECT queue, waiting, scheduled, blocked, running, succeeded, dead, cancelled,
       oldest_waiting_age IS NOT NULL AS has_oldest
  FROM baton.queue_stats_v1() WHERE queue LIKE 'api010_%' ORDER BY queue;
SELECT queue, waiting, scheduled, succeeded FROM baton.queue_stats
 WHERE queue LIKE 'api010_%' ORDER BY queue;
SELECT h.seq, h.kind FROM baton.all_jobs a, baton.job_history_v1(a.id) AS h
 WHERE a.queue = 'api010_main' AND a.task = 'urgent' ORDER BY h.seq;
SELECT e.kind, count(*) FROM baton.job_events e JOIN baton.all_jobs a ON a.id = e.job_id
 WHERE a.queue = 'api010_main' GROUP BY 1 ORDER BY 1;
SELECT pg_temp.try($$SELECT * FROM baton.job_history_v1(-1)$$);

-- Dropping
SELECT pg_temp.try($$SELECT baton.drop_queue_v1('api010_main')$$);
SELECT baton.drop_queue_v1('api010_main', force => true) > 0 AS dropped;
SELECT baton.drop_queue_v1('api010_lean') >= 0 AS dropped;
SELECT pg_temp.try($$SELECT baton.drop_queue_v1('api010_main')$$);
SELECT count(*) AS left_behind FROM baton.all_jobs WHERE queue LIKE 'api010_%';
