-- Durable workflows (0.3.0, extension/baton--0.2.0--0.3.0.sql) in plain SQL: definitions,
-- runs driven by real driver jobs (claimed with fetch_v2, finished with finish_v1),
-- fencing, memoised steps, snapshots, saga compensation (sequential and parallel,
-- needs_operator and its resolutions), cancellation, continue-as-new, inspection, roles.
-- Each scenario has a queue of its own, so a fetch takes only that scenario's jobs.
-- Prints no ids, tokens or times: runs and held jobs are kept by name in temp tables.
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(regexp_replace(SQLERRM,
    'job -?[0-9]+', 'job J', 'g'), 'run -?[0-9]+', 'run R', 'g');
END
$$;
-- runs by name, jobs the test holds by tag
CREATE TEMP TABLE t_runs (name text PRIMARY KEY, id bigint NOT NULL);
CREATE TEMP TABLE t_held (tag text PRIMARY KEY, id bigint NOT NULL, token uuid NOT NULL,
                          task text, args jsonb, lock text);
GRANT ALL ON t_runs, t_held TO PUBLIC;  -- the roles section uses them too
CREATE FUNCTION pg_temp.run(name text) RETURNS bigint LANGUAGE sql AS
  $$SELECT id FROM t_runs WHERE t_runs.name = $1$$;
CREATE FUNCTION pg_temp.job(tag text) RETURNS bigint LANGUAGE sql AS
  $$SELECT id FROM t_held WHERE t_held.tag = $1$$;
CREATE FUNCTION pg_temp.token(tag text) RETURNS uuid LANGUAGE sql AS
  $$SELECT token FROM t_held WHERE t_held.tag = $1$$;
-- starts a run and remembers it under `name`; returns created
CREATE FUNCTION pg_temp.start(name text, workflow text, queue text, input jsonb DEFAULT '{}',
                              idempotency_key text DEFAULT NULL) RETURNS boolean
  LANGUAGE plpgsql AS $$
DECLARE got record;
BEGIN
  SELECT * INTO got FROM baton.start_run_v1(workflow, input, idempotency_key => idempotency_key,
                                            queue => queue);
  INSERT INTO t_runs VALUES (name, got.run_id) ON CONFLICT DO NOTHING;
  RETURN got.created;
END $$;
-- claims (fetch_v2) the next due job of `queue` under `tag`; returns its task (NULL: none);
-- whether its args name the run and its lock is the run's are checked by the callers
CREATE FUNCTION pg_temp.take(tag text, queue text) RETURNS text LANGUAGE sql AS $$
  INSERT INTO t_held
  SELECT $1, f.id, f.lease_token, f.task, f.args, f.lock
    FROM baton.fetch_v2(ARRAY[$2], 'wf-test', 1, '5 minutes') f
  RETURNING task;
$$;
-- claim_run_v1 of run `name` with held job `tag`
CREATE FUNCTION pg_temp.claim(name text, tag text)
  RETURNS TABLE (status text, fence bigint, last_seq bigint, steps integer)
  LANGUAGE sql AS $$
  SELECT c.status, c.fence, c.last_seq, c.steps
    FROM baton.claim_run_v1(pg_temp.run($1), pg_temp.job($2), pg_temp.token($2)) c;
$$;
CREATE FUNCTION pg_temp.finish(tag text, status text DEFAULT 'succeeded') RETURNS text
  LANGUAGE sql AS $$SELECT baton.finish_v1(pg_temp.job($1), pg_temp.token($1), $2)$$;
-- the history kinds of a run, in order
CREATE FUNCTION pg_temp.kinds(name text) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(kind, ',' ORDER BY seq) FROM baton.run_history_v1(pg_temp.run($1));
$$;
-- a run's row, without ids and times
CREATE FUNCTION pg_temp.state(name text)
  RETURNS TABLE (status text, fence bigint, steps integer, events bigint, held boolean,
                 cancel_requested text, compensation_mode text, finished boolean)
  LANGUAGE sql AS $$
  SELECT status, fence, steps, events, holder_job IS NOT NULL, cancel_requested,
         compensation_mode, finished_at IS NOT NULL
    FROM baton.workflow_runs WHERE id = pg_temp.run($1);
$$;
-- the jobs of a queue: task, status, and whether it is a driver of run `name`
CREATE FUNCTION pg_temp.jobs(queue text)
  RETURNS TABLE (task text, status text, args jsonb, lock text)
  LANGUAGE sql AS $$
  SELECT a.task, a.status, a.args - 'run_id' || CASE WHEN a.args ? 'run_id'
           THEN jsonb_build_object('run_id', (SELECT r.name FROM t_runs r WHERE r.id = (a.args ->> 'run_id')::bigint))
           ELSE '{}' END,
         (SELECT string_agg(regexp_replace(a.lock, '^baton:run:' || r.id || '($|:)',
                                           'baton:run:<' || r.name || '>\1'), '')
            FROM t_runs r WHERE a.lock ~ ('^baton:run:' || r.id || '($|:)'))
    FROM baton.all_jobs a WHERE a.queue = $1 ORDER BY a.id;
$$;

SELECT baton.create_queue_v1(q) AS created
  FROM unnest(ARRAY['workflows', 'wf_a', 'wf_seq', 'wf_par', 'wf_op', 'wf_cancel',
                    'wf_can', 'wf_roles', 'wf_other', 'wf_any', 'wf_fail']) AS q;

-- ---------------------------------------------------------------------------------------
-- register_workflow_v1
-- ---------------------------------------------------------------------------------------
SELECT definition_hash = md5('{"steps": [{"name": "reserve"}, {"name": "charge"}]}'::jsonb::text)
         AS md5_of_definition, created
  FROM baton.register_workflow_v1('order', 1, '{"steps": [{"name": "reserve"}, {"name": "charge"}]}');
-- the same definition again (keys in another order: the same jsonb): a no-op
SELECT definition_hash = md5('{"steps": [{"name": "reserve"}, {"name": "charge"}]}'::jsonb::text)
         AS same_hash, created
  FROM baton.register_workflow_v1('order', 1, '{ "steps":[{"name":"reserve"},  {"name":"charge"}] }');
-- a changed definition under a registered version: QB003, nothing changed
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('order', 1, '{"steps": [{"name": "reserve"}]}')$$);
SELECT definition FROM baton.workflows WHERE name = 'order';
-- its threshold may change on a re-register of the same definition
SELECT created FROM baton.register_workflow_v1('order', 1,
  '{"steps": [{"name": "reserve"}, {"name": "charge"}]}', snapshot_threshold => 50);
SELECT version, snapshot_threshold FROM baton.workflows WHERE name = 'order';
SELECT created FROM baton.register_workflow_v1('order', 2, '{"steps": [{"name": "reserve"}]}');
-- a saga with a step that declares neither a compensation nor "none": a WARNING
SELECT created FROM baton.register_workflow_v1('trip', 1, '{"steps": [
  {"name": "flight", "compensation": "cancel_flight"}, {"name": "hotel"},
  {"name": "notify", "compensation": "none"}, {"compensation": "refund"}]}');
-- no WARNING: every step declares one, or none uses compensation
SELECT created FROM baton.register_workflow_v1('trip', 2, '{"steps": [
  {"name": "flight", "compensation": "cancel_flight"}, {"name": "notify", "compensation": "none"}]}');
SELECT created FROM baton.register_workflow_v1('plain', 1, '{"steps": [{"name": "a"}, {"name": "b"}]}');
SELECT created FROM baton.register_workflow_v1('saga', 1);
-- bad input
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('bad name', 1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('', 1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1(repeat('w', 49), 1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 0)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 1, '[]')$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 1, '{"steps": {}}')$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 1, snapshot_threshold => -1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 1, snapshot_threshold => 1000001)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1(NULL, 1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('w', 1, NULL)$$);
SELECT count(*) AS registered_w FROM baton.workflows WHERE name = 'w';

-- ---------------------------------------------------------------------------------------
-- start_run_v1
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.start('a', 'order', 'wf_a', '{"order": 7}', idempotency_key => 'order-7') AS created;
-- the same key again: the same run, created = false, no second driver job
SELECT run_id = pg_temp.run('a') AS same_run, created
  FROM baton.start_run_v1('order', '{"order": 7, "again": true}', idempotency_key => 'order-7',
                          queue => 'wf_a');
-- the key is per workflow
SELECT pg_temp.start('other', 'plain', 'wf_other', idempotency_key => 'order-7') AS created,
       pg_temp.run('other') <> pg_temp.run('a') AS other_run;
-- the newest version, the input kept, the correlation id defaults to run:<id>
SELECT workflow, version, status, input, idempotency_key, correlation_id = 'run:' || id AS default_correlation,
       fence, holder_job IS NULL AS unheld, steps, events, continued_from, continued_to
  FROM baton.workflow_runs WHERE id = pg_temp.run('a');
SELECT seq, kind, payload FROM baton.run_history_v1(pg_temp.run('a'));
-- the driver job: task wf:<workflow>, args {"run_id": N}, under the run's job lock
SELECT task, status, args = jsonb_build_object('run_id', pg_temp.run('a')) AS args_name_the_run,
       lock = 'baton:run:' || pg_temp.run('a') AS run_lock, max_attempts
  FROM baton.all_jobs WHERE queue = 'wf_a';
-- an explicit correlation id and version
SELECT created FROM baton.start_run_v1('order', correlation_id => 'cust-42', queue => 'wf_other',
                                       version => 1);
INSERT INTO t_runs SELECT 'cust', id FROM baton.runs WHERE correlation_id = 'cust-42';
SELECT version, correlation_id, status FROM baton.workflow_runs WHERE correlation_id = 'cust-42';
-- bad input: nothing written
SELECT count(*) AS runs_before FROM baton.runs \gset
SELECT count(*) AS jobs_before FROM baton.all_jobs \gset
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('nope')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', version => 3, queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', queue => 'nowhere')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', queue => NULL)$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', NULL, queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1(NULL, queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', idempotency_key => '', queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', idempotency_key => repeat('k', 201), queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', correlation_id => '', queue => 'wf_a')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('order', jsonb_build_object('blob', repeat('x', 1100000)), queue => 'wf_a')$$);
SELECT count(*) - :runs_before AS runs_written, (SELECT count(*) FROM baton.all_jobs) - :jobs_before AS jobs_written
  FROM baton.runs;

-- ---------------------------------------------------------------------------------------
-- claim_run_v1 with a real driver job, steps, events, fencing
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.take('a1', 'wf_a') AS task;
SELECT args = jsonb_build_object('run_id', pg_temp.run('a')) AS args_name_the_run FROM t_held WHERE tag = 'a1';
SELECT id = pg_temp.run('a') AS the_run, workflow, version, status, input, fence,
       snapshot_threshold, last_seq, steps, correlation_id = 'run:' || id AS correlation,
       continued_from
  FROM baton.claim_run_v1(pg_temp.run('a'), pg_temp.job('a1'), pg_temp.token('a1'));
SELECT * FROM pg_temp.state('a');
-- the same job claims again (a worker restarting its replay): the fence moves on
SELECT * FROM pg_temp.claim('a', 'a1');
-- steps in order: 1, then 2; a step again is 23505, a gap 22023
SELECT baton.record_step_v1(pg_temp.run('a'), 2, 1, 'reserve', '{"sku": "X1"}',
                            compensation_task => 'release', compensation_args => '{"sku": "X1"}') AS seq;
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 1, 'reserve')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 3, 'ship')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 0, 'zero')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, '')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, NULL)$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, NULL, 'x')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'x', compensation_task => 'undo', compensation_none => true)$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'x', compensation_task => 'undo', compensation_args => '[1]')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'x', compensation_task => 'undo', compensation_max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'x', compensation_task => '')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'x', jsonb_build_object('blob', repeat('x', 1100000)))$$);
SELECT baton.record_step_v1(pg_temp.run('a'), 2, 2, 'charge', '{"paid": 10}', compensation_none => true) AS seq;
SELECT baton.append_event_v1(pg_temp.run('a'), 2, 'note.added', '{"by": "test"}') AS seq;
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('a'), 2, 'step')$$);
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('a'), 2, 'Bad Kind')$$);
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('a'), 2, 'x', NULL)$$);
SELECT step, name, result, compensation_task, compensation_args, compensation_max_attempts,
       compensation_status, seq FROM baton.run_steps WHERE run_id = pg_temp.run('a') ORDER BY step;
-- fencing: the old fence is stale
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 1, 3, 'ship')$$);
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('a'), 1, 'note')$$);
SELECT pg_temp.try($$SELECT baton.complete_run_v1(pg_temp.run('a'), 1)$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), NULL, 3, 'ship')$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(-1, 1, 3, 'ship')$$);
-- another job with a live lease cannot take the run from its holder (55P03)
SELECT baton.defer_v1('wf_any', 'any-task') > 0 AS deferred;
SELECT pg_temp.take('x1', 'wf_any') AS task;
SELECT pg_temp.try($$SELECT * FROM pg_temp.claim('a', 'x1')$$);
-- claim_run_v1's own checks
SELECT pg_temp.try($$SELECT * FROM baton.claim_run_v1(pg_temp.run('a'), pg_temp.job('x1'), gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT * FROM baton.claim_run_v1(-1, pg_temp.job('x1'), pg_temp.token('x1'))$$);
SELECT pg_temp.try($$SELECT * FROM baton.claim_run_v1(pg_temp.run('a'), NULL, pg_temp.token('x1'))$$);
SELECT pg_temp.try($$SELECT * FROM baton.claim_run_v1(pg_temp.run('a'), pg_temp.job('x1'), NULL)$$);
-- the holder's lease ends (its worker died): writes under its fence are refused (QB001)...
UPDATE baton.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = pg_temp.job('a1');
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 3, 'ship')$$);
-- ...and another job may claim the run; the old fence stays refused, the new one writes
SELECT * FROM pg_temp.claim('a', 'x1');
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 2, 3, 'ship')$$);
SELECT baton.record_step_v1(pg_temp.run('a'), 3, 3, 'ship', compensation_task => 'unship') AS seq;
SELECT * FROM pg_temp.state('a');
-- the expired driver comes back through the reaper and claims again (the same job, a new
-- token): it takes over from the other job only once that job's lease is gone too
SELECT baton.reap_v1() AS reaped;
SELECT pg_sleep(1.2);  -- the driver's retry backoff
SELECT pg_temp.take('a1b', 'wf_a') AS task;
SELECT pg_temp.job('a1b') = pg_temp.job('a1') AS same_job, pg_temp.token('a1b') <> pg_temp.token('a1') AS new_token;
SELECT pg_temp.try($$SELECT * FROM pg_temp.claim('a', 'a1b')$$);
SELECT pg_temp.finish('x1');
SELECT * FROM pg_temp.claim('a', 'a1b');
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('a'), 3, 4, 'late')$$);

-- ---------------------------------------------------------------------------------------
-- snapshots and load_run_v1
-- ---------------------------------------------------------------------------------------
SELECT last_seq FROM pg_temp.claim('a', 'a1b');  -- fence 5; events so far
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 3, '{"s": 1}', format_version => 99)$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 0, '{"s": 1}')$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 99, '{"s": 1}')$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, NULL, '{"s": 1}')$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 3, NULL)$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(pg_temp.run('a'), 4, 3, '{"s": 1}')$$);
SELECT count(*) AS snapshots FROM baton.run_snapshots WHERE run_id = pg_temp.run('a');
-- no snapshot yet: load_run_v1 is the whole history
SELECT item, seq, kind FROM baton.load_run_v1(pg_temp.run('a'));
SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 2, '{"through": 2}', format_version => 1);
SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 4, '{"through": 4}');
-- a second snapshot through the same seq does not replace the first
SELECT baton.write_snapshot_v1(pg_temp.run('a'), 5, 4, '{"through": "again"}');
SELECT through_seq, workflow_version, format_version, state FROM baton.run_snapshots
 WHERE run_id = pg_temp.run('a') ORDER BY through_seq;
SELECT baton.append_event_v1(pg_temp.run('a'), 5, 'after.snapshot') AS seq;
-- the newest snapshot, then only the events after it
SELECT item, seq, kind, payload, format_version, workflow_version FROM baton.load_run_v1(pg_temp.run('a'));
SELECT snapshot_through_seq, events FROM baton.workflow_runs WHERE id = pg_temp.run('a');
SELECT pg_temp.try($$SELECT * FROM baton.load_run_v1(-1)$$);
-- the snapshot threshold: the workflow's own, else the setting baton.snapshot_threshold
SET baton.snapshot_threshold = 7;
SELECT snapshot_threshold FROM baton.claim_run_v1(pg_temp.run('a'), pg_temp.job('a1b'), pg_temp.token('a1b'));
SELECT pg_temp.take('ot1', 'wf_other') AS task, pg_temp.take('cu1', 'wf_other') AS task;
SELECT (SELECT args FROM t_held WHERE tag = 'ot1') = jsonb_build_object('run_id', pg_temp.run('other')) AS plain_run,
       (SELECT args FROM t_held WHERE tag = 'cu1') = jsonb_build_object('run_id', pg_temp.run('cust')) AS order_v1_run;
SELECT snapshot_threshold FROM baton.claim_run_v1(pg_temp.run('other'), pg_temp.job('ot1'), pg_temp.token('ot1'));
SELECT version, snapshot_threshold FROM baton.claim_run_v1(pg_temp.run('cust'), pg_temp.job('cu1'), pg_temp.token('cu1'));
RESET baton.snapshot_threshold;
SELECT snapshot_threshold FROM baton.claim_run_v1(pg_temp.run('other'), pg_temp.job('ot1'), pg_temp.token('ot1'));
SELECT baton.complete_run_v1(pg_temp.run('other'), 2), baton.complete_run_v1(pg_temp.run('cust'), 1);
SELECT pg_temp.finish('ot1'), pg_temp.finish('cu1');

-- ---------------------------------------------------------------------------------------
-- complete_run_v1
-- ---------------------------------------------------------------------------------------
SELECT * FROM pg_temp.claim('a', 'a1b');
SELECT pg_temp.try($$SELECT baton.complete_run_v1(pg_temp.run('a'), 7, jsonb_build_object('blob', repeat('x', 1100000)))$$);
SELECT baton.complete_run_v1(pg_temp.run('a'), 7, '{"shipped": true}');
SELECT * FROM pg_temp.state('a');
SELECT output, error FROM baton.workflow_runs WHERE id = pg_temp.run('a');
SELECT pg_temp.kinds('a');
-- an ended run takes no more writes; a claim of it returns its status and changes nothing.
-- A write with the current fence to an ended run: 55000 "run R is completed, not running"
-- (the status is checked before the lease, which ending the run released).
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('a'), 7, 'late')$$);
SELECT * FROM pg_temp.claim('a', 'a1b');
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(pg_temp.run('a'))$$);
SELECT pg_temp.finish('a1b');
SELECT task, status FROM baton.all_jobs WHERE queue = 'wf_a' ORDER BY id;

-- ---------------------------------------------------------------------------------------
-- fail_run_v1 without compensation
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.start('f', 'plain', 'wf_fail') AS created;
SELECT pg_temp.take('f1', 'wf_fail') AS task;
SELECT status, fence FROM pg_temp.claim('f', 'f1');
SELECT pg_temp.try($$SELECT baton.fail_run_v1(pg_temp.run('f'), 1, NULL)$$);
SELECT baton.fail_run_v1(pg_temp.run('f'), 1, 'card declined');
SELECT * FROM pg_temp.state('f');
SELECT error, pg_temp.kinds('f') FROM baton.workflow_runs WHERE id = pg_temp.run('f');
SELECT pg_temp.finish('f1');

-- ---------------------------------------------------------------------------------------
-- Compensation, sequential (LIFO): each compensation a job under the run's lock, a driver
-- behind it; the worker finishes them with finish_v1 and the next driver advances.
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.start('s', 'trip', 'wf_seq') AS created;
SELECT pg_temp.take('s1', 'wf_seq') AS task;
SELECT status, fence FROM pg_temp.claim('s', 's1');
SELECT baton.record_step_v1(pg_temp.run('s'), 1, 1, 'flight', compensation_task => 'cancel_flight',
                            compensation_args => '{"flight": "LH1"}') AS seq;
SELECT baton.record_step_v1(pg_temp.run('s'), 1, 2, 'notify', compensation_none => true) AS seq;
SELECT baton.record_step_v1(pg_temp.run('s'), 1, 3, 'hotel', compensation_task => 'cancel_hotel',
                            compensation_args => '{"hotel": "Ritz"}', compensation_max_attempts => 3) AS seq;
SELECT baton.record_step_v1(pg_temp.run('s'), 1, 4, 'car', compensation_task => 'return_car') AS seq;
SELECT baton.record_step_v1(pg_temp.run('s'), 1, 5, 'log') AS seq;  -- undeclared
SELECT step, name, task, args, status FROM baton.pending_compensations
 WHERE run_id = pg_temp.run('s') ORDER BY step;
-- the WARNING names the undeclared step; the newest compensation is scheduled first
SELECT baton.compensate_all_v1(pg_temp.run('s'), 1, reason => 'payment failed');
SELECT * FROM pg_temp.state('s');
SELECT * FROM pg_temp.jobs('wf_seq');
-- the run's code may write no more
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('s'), 1, 6, 'more')$$);
SELECT pg_temp.try($$SELECT baton.compensate_all_v1(pg_temp.run('s'), 1)$$);
-- the driver's worker finishes its job: the compensation runs, then the next driver
SELECT pg_temp.finish('s1');
SELECT pg_temp.take('c4', 'wf_seq') AS task;
SELECT args FROM t_held WHERE tag = 'c4';
SELECT pg_temp.take('none', 'wf_seq') AS task;  -- its driver waits behind it
SELECT pg_temp.finish('c4');
SELECT pg_temp.take('s2', 'wf_seq') AS task;
SELECT status, fence FROM pg_temp.claim('s', 's2');
SELECT pg_temp.finish('s2');
SELECT pg_temp.take('c3', 'wf_seq') AS task;
SELECT args FROM t_held WHERE tag = 'c3';
-- a failed attempt is retried (3 attempts): the driver stays behind it
SELECT pg_temp.finish('c3', 'failed');
SELECT status FROM baton.all_jobs WHERE id = pg_temp.job('c3');
SELECT * FROM pg_temp.jobs('wf_seq') WHERE status <> 'succeeded';
SELECT pg_sleep(1.2);
SELECT pg_temp.take('c3b', 'wf_seq') AS task;
SELECT pg_temp.finish('c3b');
SELECT pg_temp.take('s3', 'wf_seq') AS task;
SELECT status, fence FROM pg_temp.claim('s', 's3');
SELECT pg_temp.finish('s3');
SELECT pg_temp.take('c1', 'wf_seq') AS task;
SELECT pg_temp.finish('c1');
SELECT pg_temp.take('s4', 'wf_seq') AS task;
SELECT status, fence FROM pg_temp.claim('s', 's4');
SELECT pg_temp.finish('s4');
SELECT * FROM pg_temp.state('s');
-- LIFO: car, hotel, flight (notify needs none, log declared nothing)
SELECT payload ->> 'name' AS step, kind FROM baton.run_history_v1(pg_temp.run('s'))
 WHERE kind IN ('compensation_scheduled', 'compensated') ORDER BY seq;
SELECT pg_temp.kinds('s');
SELECT payload FROM baton.run_history_v1(pg_temp.run('s')) WHERE kind = 'compensation_started';
SELECT step, name, compensation_status FROM baton.run_steps WHERE run_id = pg_temp.run('s') ORDER BY step;
SELECT count(*) AS pending_left FROM baton.pending_compensations WHERE run_id = pg_temp.run('s');
SELECT count(*) AS jobs_left FROM baton.jobs WHERE queue = 'wf_seq';
-- a compensation job deleted on success (keep_succeeded => false) counts as done
SELECT baton.create_queue_v1('wf_nokeep', keep_succeeded => false) AS created;
SELECT pg_temp.start('k', 'trip', 'wf_nokeep') AS created;
SELECT pg_temp.take('k1', 'wf_nokeep') AS task;
SELECT status, fence FROM pg_temp.claim('k', 'k1');
SELECT baton.record_step_v1(pg_temp.run('k'), 1, 1, 'flight', compensation_task => 'cancel_flight') AS seq;
SELECT baton.fail_run_v1(pg_temp.run('k'), 1, 'no seats', compensate => true);
SELECT pg_temp.finish('k1');
SELECT pg_temp.take('k2', 'wf_nokeep') AS task;
SELECT pg_temp.finish('k2');
SELECT count(*) AS comp_job_kept FROM baton.all_jobs WHERE id = pg_temp.job('k2');
SELECT pg_temp.take('k3', 'wf_nokeep') AS task;
SELECT status, fence FROM pg_temp.claim('k', 'k3');
SELECT pg_temp.finish('k3');
SELECT status, error, pg_temp.kinds('k') FROM baton.workflow_runs WHERE id = pg_temp.run('k');
-- a crash during compensate_all resumes at the next uncompensated step: two compensations;
-- after the first, the driver behind it dies twice (its claim rolled back; then its worker
-- gone, lease expired and reaped) and the retried driver still goes on with the second
SELECT baton.create_queue_v1('wf_crash') AS created;
SELECT pg_temp.start('cx', 'trip', 'wf_crash') AS created;
SELECT pg_temp.take('cx1', 'wf_crash') AS task;
SELECT status, fence FROM pg_temp.claim('cx', 'cx1');
SELECT baton.record_step_v1(pg_temp.run('cx'), 1, s, 'step' || s, compensation_task => 'undo' || s) AS seq
  FROM generate_series(1, 2) AS s;
SELECT baton.compensate_all_v1(pg_temp.run('cx'), 1);
SELECT pg_temp.finish('cx1');
SELECT pg_temp.take('cx2', 'wf_crash') AS task;
SELECT pg_temp.finish('cx2');
SELECT pg_temp.take('cx3', 'wf_crash') AS task;
BEGIN;
SELECT status FROM pg_temp.claim('cx', 'cx3');
ROLLBACK;  -- the first crash: nothing of the claim stays
SELECT step, compensation_status FROM baton.run_steps WHERE run_id = pg_temp.run('cx') ORDER BY step;
UPDATE baton.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = pg_temp.job('cx3');
SELECT baton.reap_v1() AS reaped;  -- the second: the driver job waits for its next attempt
SELECT pg_sleep(1.2);  -- the driver's retry backoff
DELETE FROM t_held WHERE tag = 'cx3';
SELECT pg_temp.take('cx3', 'wf_crash') AS task;
SELECT status, fence FROM pg_temp.claim('cx', 'cx3');
SELECT pg_temp.finish('cx3');
SELECT step, compensation_status FROM baton.run_steps WHERE run_id = pg_temp.run('cx') ORDER BY step;
SELECT pg_temp.take('cx4', 'wf_crash') AS task;
SELECT pg_temp.finish('cx4');
SELECT pg_temp.take('cx5', 'wf_crash') AS task;
SELECT status, fence FROM pg_temp.claim('cx', 'cx5');
SELECT pg_temp.finish('cx5');
SELECT payload ->> 'name' AS step, kind FROM baton.run_history_v1(pg_temp.run('cx'))
 WHERE kind IN ('compensation_scheduled', 'compensated') ORDER BY seq;
-- in a queue that keeps its jobs, a compensation job purged before its driver ran has an
-- unknown outcome: needs_operator, not a guess that it succeeded
SELECT baton.create_queue_v1('wf_purge') AS created;
SELECT pg_temp.start('g', 'trip', 'wf_purge') AS created;
SELECT pg_temp.take('g1', 'wf_purge') AS task;
SELECT status, fence FROM pg_temp.claim('g', 'g1');
SELECT baton.record_step_v1(pg_temp.run('g'), 1, 1, 'flight', compensation_task => 'cancel_flight') AS seq;
SELECT baton.compensate_all_v1(pg_temp.run('g'), 1);
SELECT pg_temp.finish('g1');
SELECT pg_temp.take('g2', 'wf_purge') AS task;
SELECT pg_temp.finish('g2');
DELETE FROM baton.jobs_finished WHERE id = pg_temp.job('g2');
SELECT pg_temp.take('g3', 'wf_purge') AS task;
SELECT status, fence FROM pg_temp.claim('g', 'g3');
SELECT pg_temp.finish('g3');
SELECT step, compensation_status, compensation_error LIKE 'compensation job % is gone (purged)%' AS why
  FROM baton.run_steps WHERE run_id = pg_temp.run('g');
SELECT baton.resolve_run_v1(pg_temp.run('g'), 'mark_done');
-- nothing to compensate: compensated at once
SELECT pg_temp.start('z', 'saga', 'wf_fail') AS created;
SELECT pg_temp.take('z1', 'wf_fail') AS task;
SELECT status FROM pg_temp.claim('z', 'z1');
SELECT pg_temp.try($$SELECT baton.compensate_all_v1(pg_temp.run('z'), 1, mode => 'random')$$);
SELECT pg_temp.try($$SELECT baton.compensate_all_v1(pg_temp.run('z'), 1, mode => NULL)$$);
SELECT baton.compensate_all_v1(pg_temp.run('z'), 1);
SELECT pg_temp.finish('z1');
SELECT * FROM pg_temp.state('z');

-- ---------------------------------------------------------------------------------------
-- Compensation, parallel: all scheduled at once, each with a driver behind it under a lock
-- of its own; the last driver sees them all done.
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.start('p', 'trip', 'wf_par') AS created;
SELECT pg_temp.take('p1', 'wf_par') AS task;
SELECT status, fence FROM pg_temp.claim('p', 'p1');
SELECT baton.record_step_v1(pg_temp.run('p'), 1, s, 'step' || s, compensation_task => 'undo' || s,
                            compensation_args => jsonb_build_object('s', s)) AS seq
  FROM generate_series(1, 3) AS s;
SELECT baton.compensate_all_v1(pg_temp.run('p'), 1, mode => 'parallel');
SELECT * FROM pg_temp.state('p');
SELECT * FROM pg_temp.jobs('wf_par');
SELECT step, status FROM baton.pending_compensations WHERE run_id = pg_temp.run('p') ORDER BY step;
SELECT pg_temp.finish('p1');
-- all three compensations are due at once
CREATE TEMP TABLE par_jobs AS
  SELECT id, lease_token, task FROM baton.fetch_v2(ARRAY['wf_par'], 'wf-test', 10);
SELECT task FROM par_jobs ORDER BY task;
-- two finish; while their drivers run, the third is in flight
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM par_jobs WHERE task IN ('undo1', 'undo3') ORDER BY task;
INSERT INTO t_held SELECT 'pd' || n, f.id, f.lease_token, f.task, f.args, f.lock
  FROM baton.fetch_v2(ARRAY['wf_par'], 'wf-test', 10) WITH ORDINALITY AS f(id, queue, task, args, attempt,
       max_attempts, priority, lease_token, lease_expires_at, lock, deferred_at, last_error, n);
SELECT tag, task FROM t_held WHERE tag LIKE 'pd%' ORDER BY tag;
SELECT status, fence FROM pg_temp.claim('p', 'pd1');
-- two drivers run at once: the second cannot take the run from the first (55P03)
SELECT pg_temp.try($$SELECT * FROM pg_temp.claim('p', 'pd2')$$);
SELECT pg_temp.finish('pd1');
SELECT status, fence FROM pg_temp.claim('p', 'pd2');
SELECT pg_temp.finish('pd2');
SELECT step, status FROM baton.pending_compensations WHERE run_id = pg_temp.run('p') ORDER BY step;
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM par_jobs WHERE task = 'undo2';
SELECT pg_temp.take('pd3', 'wf_par') AS task;
SELECT status, fence FROM pg_temp.claim('p', 'pd3');
SELECT pg_temp.finish('pd3');
SELECT * FROM pg_temp.state('p');
SELECT payload ->> 'name' AS step, kind FROM baton.run_history_v1(pg_temp.run('p'))
 WHERE kind LIKE 'compensat%' OR kind = 'run_compensated' ORDER BY seq;

-- ---------------------------------------------------------------------------------------
-- A compensation that runs out of attempts: needs_operator; resolve_run_v1 decides.
-- Three compensations, each with one attempt: retry the first failure, mark the second
-- done, give up on the third.
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.start('o', 'trip', 'wf_op') AS created;
SELECT pg_temp.take('o1', 'wf_op') AS task;
SELECT status, fence FROM pg_temp.claim('o', 'o1');
SELECT baton.record_step_v1(pg_temp.run('o'), 1, s, 'step' || s, compensation_task => 'undo' || s,
                            compensation_max_attempts => 1) AS seq
  FROM generate_series(1, 3) AS s;
SELECT baton.fail_run_v1(pg_temp.run('o'), 1, 'boom', compensate => true);
SELECT pg_temp.finish('o1');
SELECT pg_temp.take('oc3', 'wf_op') AS task;
SELECT pg_temp.finish('oc3', 'failed');
SELECT pg_temp.take('o2', 'wf_op') AS task;
SELECT status, fence FROM pg_temp.claim('o', 'o2');
SELECT pg_temp.finish('o2');
SELECT * FROM pg_temp.state('o');
SELECT step, name, status, error, run_status FROM baton.pending_compensations
 WHERE run_id = pg_temp.run('o') ORDER BY step;
-- a driver (e.g. a retried one) that claims now changes nothing
SELECT baton.defer_v1('wf_any', 'stray-driver') > 0 AS deferred;
SELECT pg_temp.take('ox', 'wf_any') AS task;
SELECT status, fence FROM pg_temp.claim('o', 'ox');
SELECT pg_temp.finish('ox');
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(pg_temp.run('o'), 'ignore')$$);
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(pg_temp.run('o'), NULL)$$);
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(-1, 'retry')$$);
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(pg_temp.run('a'), 'retry')$$);
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(pg_temp.run('o'))$$);
-- retry: the failed compensation is deferred again
SELECT baton.resolve_run_v1(pg_temp.run('o'), 'retry');
SELECT * FROM pg_temp.jobs('wf_op') WHERE status NOT IN ('succeeded', 'dead');
SELECT pg_temp.take('oc3b', 'wf_op') AS task;
SELECT pg_temp.finish('oc3b');
SELECT pg_temp.take('o3', 'wf_op') AS task;
SELECT status, fence FROM pg_temp.claim('o', 'o3');
SELECT pg_temp.finish('o3');
SELECT pg_temp.take('oc2', 'wf_op') AS task;
SELECT pg_temp.finish('oc2', 'failed');
SELECT pg_temp.take('o4', 'wf_op') AS task;
SELECT status FROM pg_temp.claim('o', 'o4');
SELECT pg_temp.finish('o4');
-- mark_done: fixed by hand, the rest goes on
SELECT baton.resolve_run_v1(pg_temp.run('o'), 'mark_done');
SELECT pg_temp.take('oc1', 'wf_op') AS task;
SELECT pg_temp.finish('oc1', 'cancelled');  -- a cancelled compensation counts as failed too
SELECT pg_temp.take('o5', 'wf_op') AS task;
SELECT status FROM pg_temp.claim('o', 'o5');
SELECT pg_temp.finish('o5');
SELECT step, status, error FROM baton.pending_compensations WHERE run_id = pg_temp.run('o') ORDER BY step;
-- give_up: the run ends failed, what is left is skipped
SELECT baton.resolve_run_v1(pg_temp.run('o'), 'give_up');
SELECT * FROM pg_temp.state('o');
SELECT error FROM baton.workflow_runs WHERE id = pg_temp.run('o');
SELECT step, compensation_status, compensation_error FROM baton.run_steps
 WHERE run_id = pg_temp.run('o') ORDER BY step;
SELECT kind, payload - 'job' AS payload FROM baton.run_history_v1(pg_temp.run('o'))
 WHERE seq > 4 ORDER BY seq;
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(pg_temp.run('o'), 'retry')$$);
SELECT count(*) AS jobs_left FROM baton.jobs WHERE queue = 'wf_op';

-- ---------------------------------------------------------------------------------------
-- cancel_run_v1
-- ---------------------------------------------------------------------------------------
-- (1) no holder: at once. The run's waiting driver later finds it cancelled.
SELECT pg_temp.start('c1', 'plain', 'wf_cancel') AS created;
SELECT baton.cancel_run_v1(pg_temp.run('c1'), reason => 'customer asked');
SELECT * FROM pg_temp.state('c1');
SELECT pg_temp.kinds('c1');
SELECT payload FROM baton.run_history_v1(pg_temp.run('c1')) WHERE kind = 'cancel_requested';
SELECT pg_temp.take('c1d', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c1', 'c1d');
SELECT pg_temp.finish('c1d');
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(pg_temp.run('c1'))$$);
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(-1)$$);
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(NULL)$$);
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(pg_temp.run('c1'), compensate => NULL)$$);
-- (2) no holder (its driver's lease has ended), with compensation: compensations start now
SELECT pg_temp.start('c2', 'trip', 'wf_cancel') AS created;
SELECT pg_temp.take('c2d', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c2', 'c2d');
SELECT baton.record_step_v1(pg_temp.run('c2'), 1, 1, 'flight', compensation_task => 'cancel_flight') AS seq;
SELECT baton.record_step_v1(pg_temp.run('c2'), 1, 2, 'hotel', compensation_task => 'cancel_hotel') AS seq;
SELECT pg_temp.finish('c2d');  -- the driver ended its job (e.g. waiting for something)
SELECT baton.cancel_run_v1(pg_temp.run('c2'), compensate => true, reason => 'fraud');
SELECT * FROM pg_temp.state('c2');
SELECT pg_temp.take('c2c', 'wf_cancel') AS task;
SELECT pg_temp.finish('c2c');
SELECT pg_temp.take('c2e', 'wf_cancel') AS task;
SELECT status FROM pg_temp.claim('c2', 'c2e');
SELECT pg_temp.finish('c2e');
SELECT pg_temp.take('c2f', 'wf_cancel') AS task;
SELECT pg_temp.finish('c2f');
SELECT pg_temp.take('c2g', 'wf_cancel') AS task;
SELECT status FROM pg_temp.claim('c2', 'c2g');
SELECT pg_temp.finish('c2g');
SELECT * FROM pg_temp.state('c2');
SELECT pg_temp.kinds('c2');
-- (3) a live holder: marked; the holder's next write is refused (QB004); the driver queued
-- behind the holder applies it
SELECT pg_temp.start('c3', 'plain', 'wf_cancel') AS created;
SELECT pg_temp.take('c3d', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c3', 'c3d');
SELECT baton.record_step_v1(pg_temp.run('c3'), 1, 1, 'a') AS seq;
SELECT baton.cancel_run_v1(pg_temp.run('c3'), reason => 'stop');
SELECT * FROM pg_temp.state('c3');
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('c3'), 1, 2, 'b')$$);
SELECT pg_temp.try($$SELECT baton.complete_run_v1(pg_temp.run('c3'), 1)$$);
SELECT pg_temp.try($$SELECT baton.fail_run_v1(pg_temp.run('c3'), 1, 'x')$$);
SELECT * FROM pg_temp.jobs('wf_cancel') WHERE status NOT IN ('succeeded');
SELECT pg_temp.finish('c3d');
SELECT pg_temp.take('c3e', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c3', 'c3e');
SELECT pg_temp.finish('c3e');
SELECT * FROM pg_temp.state('c3');
SELECT pg_temp.kinds('c3');
-- (4) a live holder, with compensation: the next driver starts the compensations
SELECT pg_temp.start('c4', 'trip', 'wf_cancel') AS created;
SELECT pg_temp.take('c4d', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c4', 'c4d');
SELECT baton.record_step_v1(pg_temp.run('c4'), 1, 1, 'flight', compensation_task => 'cancel_flight') AS seq;
SELECT baton.cancel_run_v1(pg_temp.run('c4'), compensate => true);
SELECT * FROM pg_temp.state('c4');
SELECT pg_temp.try($$SELECT baton.append_event_v1(pg_temp.run('c4'), 1, 'more')$$);
SELECT pg_temp.finish('c4d');
SELECT pg_temp.take('c4e', 'wf_cancel') AS task;
SELECT status, fence FROM pg_temp.claim('c4', 'c4e');
SELECT pg_temp.finish('c4e');
SELECT pg_temp.take('c4c', 'wf_cancel') AS task;
SELECT pg_temp.finish('c4c');
SELECT pg_temp.take('c4f', 'wf_cancel') AS task;
SELECT status FROM pg_temp.claim('c4', 'c4f');
SELECT pg_temp.finish('c4f');
SELECT * FROM pg_temp.state('c4');
SELECT pg_temp.kinds('c4');
SELECT count(*) AS jobs_left FROM baton.jobs WHERE queue = 'wf_cancel';

-- ---------------------------------------------------------------------------------------
-- continue_as_new_v1
-- ---------------------------------------------------------------------------------------
SELECT created FROM baton.start_run_v1('order', '{"page": 1}', correlation_id => 'sub-9',
                                       queue => 'wf_can', version => 1);
INSERT INTO t_runs SELECT 'n1', id FROM baton.runs WHERE correlation_id = 'sub-9';
SELECT pg_temp.take('n1d', 'wf_can') AS task;
SELECT status, fence FROM pg_temp.claim('n1', 'n1d');
SELECT baton.record_step_v1(pg_temp.run('n1'), 1, 1, 'page1') AS seq;
SELECT pg_temp.try($$SELECT baton.continue_as_new_v1(pg_temp.run('n1'), 1, NULL)$$);
SELECT pg_temp.try($$SELECT baton.continue_as_new_v1(pg_temp.run('n1'), 0, '{}')$$);
INSERT INTO t_runs SELECT 'n2', baton.continue_as_new_v1(pg_temp.run('n1'), 1, '{"page": 2}');
SELECT pg_temp.run('n2') > pg_temp.run('n1') AS successor;
-- both ends linked, same correlation id and queue, the newest version
SELECT r.status, r.version, r.input, r.correlation_id, r.queue,
       r.continued_from = pg_temp.run('n1') AS from_n1, r.continued_to = pg_temp.run('n2') AS to_n2,
       r.steps, r.finished_at IS NOT NULL AS finished
  FROM baton.workflow_runs r WHERE r.id IN (pg_temp.run('n1'), pg_temp.run('n2')) ORDER BY r.id;
SELECT pg_temp.kinds('n1'), pg_temp.kinds('n2');
SELECT (payload ->> 'run')::bigint = pg_temp.run('n2') AS names_successor
  FROM baton.run_history_v1(pg_temp.run('n1')) WHERE kind = 'continued_as_new';
SELECT payload - 'continued_from' AS payload, (payload ->> 'continued_from')::bigint = pg_temp.run('n1') AS from_n1
  FROM baton.run_history_v1(pg_temp.run('n2'));
-- an ended (continued) run: 55000 "run R is continued, not running"
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('n1'), 1, 2, 'page2')$$);
-- the successor's own driver job, under its own lock
SELECT * FROM pg_temp.jobs('wf_can');
SELECT pg_temp.finish('n1d');
SELECT pg_temp.take('n2d', 'wf_can') AS task;
SELECT status, version, input, fence, steps, correlation_id, continued_from = pg_temp.run('n1') AS from_n1
  FROM baton.claim_run_v1(pg_temp.run('n2'), pg_temp.job('n2d'), pg_temp.token('n2d'));
SELECT baton.complete_run_v1(pg_temp.run('n2'), 1);
SELECT pg_temp.finish('n2d');
SELECT status, count(*) FROM baton.workflow_runs WHERE correlation_id = 'sub-9' GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------------------------
-- Inspection
-- ---------------------------------------------------------------------------------------
SELECT pg_temp.try($$SELECT * FROM baton.run_history_v1(-1)$$);
SELECT pg_temp.try($$SELECT * FROM baton.run_history_v1(NULL)$$);
SELECT workflow, status, count(*) FROM baton.workflow_runs GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS history_rows_match
  FROM baton.workflow_runs r WHERE r.events = (SELECT count(*) FROM baton.run_history h WHERE h.run_id = r.id)
    AND r.events = (SELECT max(h.seq) FROM baton.run_history h WHERE h.run_id = r.id);
SELECT count(*) AS runs FROM baton.workflow_runs;
SELECT count(*) AS open_pending FROM baton.pending_compensations;
-- every run that ended holds no job; every open run a fence
SELECT count(*) AS ended_but_held FROM baton.runs
 WHERE status NOT IN ('running', 'compensating', 'needs_operator', 'suspended')
   AND (holder_job IS NOT NULL OR finished_at IS NULL);

-- ---------------------------------------------------------------------------------------
-- Roles: producers start, cancel and inspect; workers register and advance; only an
-- admin resolves. Run from a worker's point of view in plain SQL.
-- ---------------------------------------------------------------------------------------
SET ROLE baton_producer;
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1('by-producer', 1)$$);
SELECT created FROM baton.start_run_v1('trip', queue => 'wf_roles', idempotency_key => 'roles-1');
SELECT status FROM baton.workflow_runs WHERE idempotency_key = 'roles-1';
SELECT count(*) > 0 AS sees_history FROM baton.run_history_v1((SELECT id FROM baton.runs WHERE idempotency_key = 'roles-1'));
SELECT count(*) AS load_rows FROM baton.load_run_v1((SELECT id FROM baton.runs WHERE idempotency_key = 'roles-1'));
SELECT pg_temp.try($$SELECT * FROM baton.claim_run_v1(1, 1, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(1, 1, 1, 'x')$$);
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(1, 'retry')$$);
RESET ROLE;
INSERT INTO t_runs SELECT 'r', id FROM baton.runs WHERE idempotency_key = 'roles-1';
SET ROLE baton_worker;
SELECT created FROM baton.register_workflow_v1('by-worker', 1);
SELECT created FROM baton.register_workflow_v1('by-worker', 1, snapshot_threshold => 5);
SELECT pg_temp.take('rd', 'wf_roles') AS task;
SELECT status, fence FROM pg_temp.claim('r', 'rd');
SELECT baton.record_step_v1(pg_temp.run('r'), 1, 1, 'flight', compensation_task => 'cancel_flight',
                            compensation_max_attempts => 1) AS seq;
SELECT baton.append_event_v1(pg_temp.run('r'), 1, 'note') AS seq;
SELECT baton.write_snapshot_v1(pg_temp.run('r'), 1, 3, '{"n": 1}');
SELECT item, seq FROM baton.load_run_v1(pg_temp.run('r'));
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(pg_temp.run('r'), 'retry')$$);
RESET ROLE;
-- a producer cancels the held run (with compensation), the worker's next driver applies it
SET ROLE baton_producer;
SELECT baton.cancel_run_v1(pg_temp.run('r'), compensate => true);
RESET ROLE;
SET ROLE baton_worker;
SELECT pg_temp.try($$SELECT baton.record_step_v1(pg_temp.run('r'), 1, 2, 'hotel')$$);
SELECT pg_temp.finish('rd');
SELECT pg_temp.take('rd2', 'wf_roles') AS task;
SELECT status FROM pg_temp.claim('r', 'rd2');
SELECT pg_temp.finish('rd2');
SELECT pg_temp.take('rc', 'wf_roles') AS task;
SELECT pg_temp.finish('rc', 'failed');  -- its only attempt: dead
SELECT pg_temp.take('rd3', 'wf_roles') AS task;
SELECT status FROM pg_temp.claim('r', 'rd3');
SELECT pg_temp.finish('rd3');
RESET ROLE;
SET ROLE baton_admin;
SELECT baton.resolve_run_v1(pg_temp.run('r'), 'give_up');
RESET ROLE;
SET ROLE pg_monitor;
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1('trip', queue => 'wf_roles')$$);
SELECT pg_temp.try($$SELECT count(*) FROM baton.workflow_runs$$);
SELECT pg_temp.try($$SELECT count(*) FROM baton.run_history$$);
RESET ROLE;
-- the privileges of the new functions: PUBLIC none; workers all but resolve; producers
-- start, cancel and read
SELECT p.proname,
       has_function_privilege('baton_producer', p.oid, 'EXECUTE') AS producer,
       has_function_privilege('baton_worker', p.oid, 'EXECUTE') AS worker,
       has_function_privilege('baton_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p
 WHERE p.pronamespace = 'baton'::regnamespace
   AND p.proname ~ '(run|workflow|snapshot|step|event|compensat|continue)' ORDER BY 1;

-- every job of the scenarios has ended
SELECT count(*) AS active_jobs FROM baton.jobs WHERE queue LIKE 'wf%';
SELECT status, count(*) FROM baton.all_jobs WHERE queue LIKE 'wf%' GROUP BY 1 ORDER BY 1;
