-- The frozen API contract of what baton 0.2.0 added. WRITTEN ONCE, NEVER EDITED AGAIN:
-- every later release must pass it unchanged, on a fresh install and on databases upgraded
-- from every older release (test/upgrade/run.sh). Queues are called api020_*.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, 'job -?[0-9]+', 'job N', 'g');
END
$$;

-- The version handshake: at least 0.2.0 installed, the library serving it, the procedures
-- of 0.1.0 and 0.2.0 served side by side, nothing pending.
SELECT string_to_array(extension_version, '.')::int[] >= '{0,2,0}' AS at_least_0_2_0,
       string_to_array(library_version, '.')::int[] >= string_to_array(extension_version, '.')::int[]
         AS library_serves_it,
       api @> ARRAY['defer_v1', 'defer_many_v1', 'fetch_v1', 'fetch_v2', 'finish_v1',
                    'finish_many_v1', 'heartbeat_v1', 'cancel_v1', 'request_abort_v1',
                    'retry_v1', 'reap_v1', 'purge_finished_v1', 'queue_stats_v1',
                    'job_history_v1', 'create_queue_v1', 'drop_queue_v1', 'await_work_v1',
                    'pause_queue_v1', 'resume_queue_v1', 'version_v1'] AS serves_the_api,
       upgrade_pending
  FROM baton.version_v1();

-- fetch_v2: a task filter, and the job's lock, deferral time and last error.
SELECT baton.create_queue_v1('api020_main') AS created;
SELECT baton.defer_v1('api020_main', 'resize', '{"n": 1}', lock => 'api020:img') > 0 AS deferred,
       baton.defer_v1('api020_main', 'email', '{"n": 2}') > 0 AS deferred,
       baton.defer_v1('api020_main', 'resize', '{"n": 3}') > 0 AS deferred;
SELECT task, args, attempt, lock, deferred_at <= now() AS deferred_before, last_error,
       lease_token IS NOT NULL AS has_token
  FROM baton.fetch_v2(queues => ARRAY['api020_main'], worker => 'w', max_jobs => 10,
                      tasks => ARRAY['email'])
  ORDER BY args ->> 'n';
-- the email job is held now; the resize jobs were left alone
SELECT task, status FROM baton.all_jobs WHERE queue = 'api020_main' ORDER BY args ->> 'n';
CREATE TEMP TABLE api020_held AS
  SELECT * FROM baton.fetch_v2(ARRAY['api020_main'], 'w', 1, tasks => ARRAY['resize', 'other']);
SELECT task, lock, last_error FROM api020_held;
SELECT baton.finish_v1(id, lease_token, 'failed', error => 'disk full') FROM api020_held;
-- a retried job shows its last error (the retry waits 1 second: claim it after that)
SELECT pg_sleep(1.2);
SELECT task, attempt, lock, last_error
  FROM baton.fetch_v2(ARRAY['api020_main'], 'w', 5, '1 minute') ORDER BY args ->> 'n';
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v2(ARRAY['api020_main'], 'w', tasks => ARRAY[]::text[])$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v2(ARRAY['api020_main'], 'w', tasks => ARRAY[NULL::text])$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v2(ARRAY['api020_main'], 'w', tasks => ARRAY['']::text[])$$);
SELECT pg_temp.try($$SELECT * FROM baton.fetch_v2(ARRAY['api020_nowhere'], 'w')$$);

-- Pausing a queue: claims skip it, on both fetch versions and among several queues;
-- defers still queue up; resuming lets them be claimed.
SELECT baton.create_queue_v1('api020_paused') AS created, baton.create_queue_v1('api020_open') AS created;
SELECT updated_at = created_at AS unchanged_since_created FROM baton.queues WHERE name = 'api020_paused';
SELECT baton.pause_queue_v1('api020_paused') AS paused, baton.pause_queue_v1('api020_paused') AS again;
SELECT paused, updated_at >= created_at AS stamped FROM baton.queues WHERE name = 'api020_paused';
SELECT baton.defer_v1('api020_paused', 'held-back') > 0 AS deferred,
       baton.defer_v1('api020_open', 'goes') > 0 AS deferred;
SELECT count(*) AS claimed_v1 FROM baton.fetch_v1(ARRAY['api020_paused'], 'w', 10);
SELECT count(*) AS claimed_v2 FROM baton.fetch_v2(ARRAY['api020_paused'], 'w', 10);
SELECT queue, task FROM baton.fetch_v1(ARRAY['api020_paused', 'api020_open'], 'w', 10);
SELECT baton.resume_queue_v1('api020_paused') AS resumed, baton.resume_queue_v1('api020_paused') AS again;
SELECT queue, task FROM baton.fetch_v2(ARRAY['api020_paused', 'api020_open'], 'w', 10);
SELECT pg_temp.try($$SELECT baton.pause_queue_v1('api020_nowhere')$$);
SELECT pg_temp.try($$SELECT baton.resume_queue_v1(NULL)$$);
-- create_queue_v1 changes settings, not the pause
SELECT baton.pause_queue_v1('api020_open') AS paused;
SELECT baton.create_queue_v1('api020_open', notify => false) AS created;
SELECT notify, paused FROM baton.queues WHERE name = 'api020_open';

SELECT baton.drop_queue_v1(q, force => true) >= 0 AS dropped
  FROM unnest(ARRAY['api020_main', 'api020_paused', 'api020_open']) AS q;
SELECT count(*) AS left_behind FROM baton.all_jobs WHERE queue LIKE 'api020_%';
