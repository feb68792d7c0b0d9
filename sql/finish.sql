-- Reporting outcomes: success, retry with backoff, dead, cancelled, the bulk form, and
-- the lease checks (fencing) that refuse a finish and change nothing.
SELECT baton.create_queue_v1('work');
SELECT count(*) FROM baton.defer_many_v1('work', 'job',
  ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[],
  max_attempts => 2, retry_backoff => 'constant', retry_delay => '0');
CREATE TABLE held AS
  SELECT (args ->> 'n')::int AS n, id, lease_token, attempt
    FROM baton.fetch_v1(ARRAY['work'], 'w', 10);
SELECT n, attempt FROM held ORDER BY n;

-- Success keeps the result; the job leaves the active table for history.
SELECT baton.finish_v1(id, lease_token, 'succeeded', result => '{"sent": true}') FROM held WHERE n = 1;
SELECT status, result, error, attempts, finished_at >= deferred_at AS ordered,
       (SELECT string_agg(h.kind, ',' ORDER BY h.seq) FROM baton.job_history_v1(id) h) AS kinds
  FROM baton.jobs_finished WHERE id = (SELECT id FROM held WHERE n = 1);
SELECT count(*) AS still_active FROM baton.jobs WHERE id = (SELECT id FROM held WHERE n = 1);

-- A failure with attempts left goes back to waiting (retry_delay 0: due at once).
SELECT baton.finish_v1(id, lease_token, 'failed', error => 'smtp timeout') FROM held WHERE n = 2;
SELECT status, attempts, last_error, worker, lease_token, run_at <= clock_timestamp() AS due
  FROM baton.jobs WHERE id = (SELECT id FROM held WHERE n = 2);
-- The second attempt fails too: attempts are used up, the job is dead.
SELECT attempt FROM baton.fetch_v1(ARRAY['work'], 'w', 10);
SELECT baton.finish_v1(id, (SELECT lease_token FROM baton.jobs j WHERE j.id = h.id), 'failed',
                       error => 'smtp timeout again')
  FROM held h WHERE n = 2;
SELECT status, error, attempts,
       (SELECT string_agg(h.kind, ',' ORDER BY h.seq) FROM baton.job_history_v1(id) h) AS kinds
  FROM baton.jobs_finished WHERE id = (SELECT id FROM held WHERE n = 2);

-- retryable => false: dead at once, whatever attempts remain.
SELECT baton.finish_v1(id, lease_token, 'failed', error => 'bad address', retryable => false)
  FROM held WHERE n = 3;
-- A worker may report an attempt as cancelled (e.g. after an abort request).
SELECT baton.finish_v1(id, lease_token, 'cancelled', error => 'aborted') FROM held WHERE n = 4;
SELECT (SELECT n FROM held h WHERE h.id = f.id) AS n, status, error, attempts
  FROM baton.jobs_finished f WHERE queue = 'work' ORDER BY 1;

-- Fencing: finishing twice, a wrong token, an unknown job, an expired lease.
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'succeeded')$$, id, lease_token)) FROM held WHERE n = 1;
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'failed')$$, id, lease_token)) FROM held WHERE n = 3;
SELECT try($$SELECT baton.finish_v1(999999, gen_random_uuid(), 'succeeded')$$);
SELECT baton.defer_v1('work', 'fenced') AS fenced_id \gset
CREATE TABLE fenced AS SELECT id, lease_token FROM baton.fetch_v1(ARRAY['work'], 'w', 1, lease => '1 second');
SELECT try(format($$SELECT baton.finish_v1(%s, gen_random_uuid(), 'succeeded')$$, id)) FROM fenced;
SELECT try(format($$SELECT baton.heartbeat_v1(%s, gen_random_uuid())$$, id)) FROM fenced;
-- A heartbeat under the right token extends the lease and reports no abort.
SELECT lease_expires_at > clock_timestamp() + interval '50 seconds' AS extended, abort_requested
  FROM fenced, baton.heartbeat_v1(fenced.id, fenced.lease_token, lease => '1 minute');
SELECT baton.heartbeat_v1(id, lease_token, lease => '1 second') IS NOT NULL AS shortened FROM fenced;
SELECT pg_sleep(1.2);
SELECT try(format($$SELECT baton.finish_v1(%s, %L, 'succeeded')$$, id, lease_token)) FROM fenced;
SELECT try(format($$SELECT baton.heartbeat_v1(%s, %L)$$, id, lease_token)) FROM fenced;
-- Refused finishes changed nothing: the job is still running under its (expired) lease.
SELECT status, attempts, lease_token = (SELECT lease_token FROM fenced) AS same_token
  FROM baton.jobs WHERE id = :fenced_id;
SELECT baton.reap_v1() AS reaped;
SELECT status, attempts, last_error FROM baton.jobs WHERE id = :fenced_id;

-- Bulk: mixed outcomes in input order; a job not held under its token is 'lease_lost' and
-- untouched while the others are applied.
DELETE FROM held;
SELECT count(*) FROM baton.defer_many_v1('work', 'bulk',
  ARRAY['{"n": 11}', '{"n": 12}', '{"n": 13}', '{"n": 14}']::jsonb[], max_attempts => 3);
INSERT INTO held
  SELECT (args ->> 'n')::int, id, lease_token, attempt FROM baton.fetch_v1(ARRAY['work'], 'w', 10)
   WHERE task = 'bulk';
SELECT (SELECT n FROM held h WHERE h.id = r.job_id) AS n, r.status
  FROM baton.finish_many_v1(
    ARRAY(SELECT id FROM held ORDER BY n DESC),
    ARRAY(SELECT CASE WHEN n = 11 THEN gen_random_uuid() ELSE lease_token END FROM held ORDER BY n DESC),
    ARRAY['succeeded', 'failed', 'failed', 'cancelled'],
    results => ARRAY['{"r": 14}', NULL, NULL, NULL]::jsonb[],
    errors => ARRAY[NULL, 'oops', 'fatal', NULL],
    retryable => ARRAY[NULL, true, false, NULL]) r;
SELECT (SELECT n FROM held h WHERE h.id = j.id) AS n, status, last_error
  FROM baton.jobs j WHERE task = 'bulk' ORDER BY 1;
SELECT (SELECT n FROM held h WHERE h.id = f.id) AS n, status, result, error
  FROM baton.jobs_finished f WHERE task = 'bulk' ORDER BY 1;

-- The backoff policies, as the finish path computes them.
SELECT b, a, baton.retry_delay(b, '10 seconds', '1 minute', a) AS delay
  FROM unnest(ARRAY['constant', 'linear', 'exponential']) b, generate_series(1, 4) a ORDER BY 1, 2;
-- A failed attempt is retried after the job's own delay.
SELECT baton.defer_v1('work', 'slow-retry', retry_delay => '10 seconds', priority => 100) AS slow_id \gset
SELECT baton.finish_v1(id, lease_token, 'failed') FROM baton.fetch_v1(ARRAY['work'], 'w', 1);
SELECT run_at BETWEEN clock_timestamp() + interval '9 seconds'
                  AND clock_timestamp() + interval '10 seconds' AS in_ten_seconds
  FROM baton.jobs WHERE id = :slow_id;

-- A queue that keeps no succeeded jobs: a success deletes the job, from the single and the
-- bulk finish alike; dead and cancelled jobs are kept, and a retried one keeps the setting.
SELECT baton.create_queue_v1('lean', keep_succeeded => false);
SELECT keep_succeeded FROM baton.queues WHERE name = 'lean';
SELECT count(*) FROM baton.defer_many_v1('lean', 'l', array_fill('{}'::jsonb, ARRAY[4]),
                                          max_attempts => 1);
CREATE TEMP TABLE lean_held AS
  SELECT row_number() OVER (ORDER BY id) AS n, id, lease_token
  FROM baton.fetch_v1(ARRAY['lean'], 'w', 4);
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM lean_held WHERE n = 1;
SELECT baton.finish_v1(id, lease_token, 'failed', error => 'gave up') FROM lean_held WHERE n = 2;
SELECT r.status FROM lean_held h, baton.finish_many_v1(
    ARRAY[h.id], ARRAY[h.lease_token], ARRAY[CASE h.n WHEN 3 THEN 'succeeded' ELSE 'cancelled' END]) r
  WHERE h.n IN (3, 4) ORDER BY h.n;
SELECT h.n, f.status, f.error FROM lean_held h LEFT JOIN baton.jobs_finished f USING (id)
  ORDER BY h.n;
SELECT count(*) AS still_active FROM baton.jobs WHERE queue = 'lean';
SELECT split_part(try(format('SELECT baton.job_history_v1(%s)', id)), ':', 1) AS sqlstate
  FROM lean_held WHERE n = 1;
SELECT succeeded, dead, cancelled FROM baton.queue_stats WHERE queue = 'lean';
SELECT baton.retry_v1(id) FROM lean_held WHERE n = 2;
SELECT keep_succeeded FROM baton.jobs WHERE id = (SELECT id FROM lean_held WHERE n = 2);
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM baton.fetch_v1(ARRAY['lean'], 'w', 1);
SELECT count(*) AS lean_jobs_anywhere FROM baton.all_jobs WHERE queue = 'lean' AND status <> 'cancelled';
-- Re-creating the queue sets its settings again (to the defaults unless given).
SELECT baton.create_queue_v1('lean') AS created;
SELECT keep_succeeded FROM baton.queues WHERE name = 'lean';
SELECT baton.drop_queue_v1('lean', true) AS dropped_jobs;
