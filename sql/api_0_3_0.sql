-- The frozen API contract of what baton 0.3.0 added (durable workflows). WRITTEN ONCE,
-- NEVER EDITED AGAIN: every later release must pass it unchanged, on a fresh install and
-- on databases upgraded from every older release (test/upgrade/run.sh). Named notation,
-- no ids, tokens or times. Queues and workflows are called api030_*. It runs more than
-- once in one database, so it removes its runs at the end (there is no purge of runs in
-- 0.3.0: the superuser deletes them).
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || regexp_replace(regexp_replace(SQLERRM,
    'job -?[0-9]+', 'job N', 'g'), 'run -?[0-9]+', 'run N', 'g');
END
$$;
CREATE TEMP TABLE api030_held (tag text PRIMARY KEY, id bigint, token uuid, task text, args jsonb, lock text);
CREATE FUNCTION pg_temp.take(tag text, queue text) RETURNS text LANGUAGE sql AS $$
  INSERT INTO api030_held SELECT $1, f.id, f.lease_token, f.task, f.args, f.lock
    FROM baton.fetch_v2(queues => ARRAY[$2], worker => 'api030', max_jobs => 1) f RETURNING task;
$$;
CREATE FUNCTION pg_temp.job(tag text) RETURNS bigint LANGUAGE sql AS
  $$SELECT id FROM api030_held WHERE api030_held.tag = $1$$;
CREATE FUNCTION pg_temp.token(tag text) RETURNS uuid LANGUAGE sql AS
  $$SELECT token FROM api030_held WHERE api030_held.tag = $1$$;

-- The handshake lists the workflow procedures.
SELECT string_to_array(extension_version, '.')::int[] >= '{0,3,0}' AS at_least_0_3_0,
       api @> ARRAY['register_workflow_v1', 'start_run_v1', 'claim_run_v1', 'load_run_v1',
                    'record_step_v1', 'append_event_v1', 'write_snapshot_v1', 'complete_run_v1',
                    'fail_run_v1', 'compensate_all_v1', 'continue_as_new_v1', 'cancel_run_v1',
                    'resolve_run_v1', 'run_history_v1'] AS serves_the_api
  FROM baton.version_v1();

-- Definitions: md5 of the definition, a no-op again, QB003 for another definition.
SELECT definition_hash = md5('{"steps": [{"name": "pay", "compensation": "refund"}]}'::jsonb::text) AS md5,
       created
  FROM baton.register_workflow_v1(workflow => 'api030_order', version => 1,
                                  definition => '{"steps": [{"name": "pay", "compensation": "refund"}]}');
SELECT created FROM baton.register_workflow_v1(workflow => 'api030_order', version => 1,
  definition => '{"steps": [{"name": "pay", "compensation": "refund"}]}', snapshot_threshold => 20);
SELECT pg_temp.try($$SELECT * FROM baton.register_workflow_v1(workflow => 'api030_order', version => 1)$$);

-- Runs: a driver job wf:<workflow> {"run_id": N} under the lock baton:run:<N>.
SELECT baton.create_queue_v1('api030_q') AS created;
CREATE TEMP TABLE api030_run AS
  SELECT run_id, created FROM baton.start_run_v1(workflow => 'api030_order', input => '{"n": 1}',
                                                 idempotency_key => 'api030-1', queue => 'api030_q');
SELECT created FROM api030_run;
SELECT s.run_id = r.run_id AS same_run, s.created
  FROM api030_run r, baton.start_run_v1(workflow => 'api030_order', idempotency_key => 'api030-1',
                                        queue => 'api030_q') s;
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1(workflow => 'api030_nope', queue => 'api030_q')$$);
SELECT pg_temp.try($$SELECT * FROM baton.start_run_v1(workflow => 'api030_order', queue => 'api030_nowhere')$$);
SELECT pg_temp.take('d1', 'api030_q') AS task;
SELECT h.args = jsonb_build_object('run_id', r.run_id) AS args, h.lock = 'baton:run:' || r.run_id AS lock
  FROM api030_held h, api030_run r WHERE h.tag = 'd1';

-- claim_run_v1: its columns; the fence counts the claims.
SELECT c.id = r.run_id AS the_run, c.workflow, c.version, c.status, c.input, c.fence,
       c.snapshot_threshold, c.last_seq, c.steps, c.correlation_id = 'run:' || r.run_id AS correlation,
       c.continued_from
  FROM api030_run r, baton.claim_run_v1(run_id => r.run_id, job_id => pg_temp.job('d1'),
                                        lease_token => pg_temp.token('d1')) c;
-- Steps in order (23505 again, 22023 a gap), events, snapshots (22023 unknown format).
SELECT baton.record_step_v1(run_id => run_id, fence => 1, step => 1, name => 'pay', result => '{"paid": 5}',
                            compensation_task => 'refund', compensation_args => '{"amount": 5}',
                            compensation_max_attempts => 3) AS seq FROM api030_run;
SELECT pg_temp.try($$SELECT baton.record_step_v1(run_id => run_id, fence => 1, step => 1, name => 'pay') FROM api030_run$$);
SELECT pg_temp.try($$SELECT baton.record_step_v1(run_id => run_id, fence => 1, step => 3, name => 'x') FROM api030_run$$);
SELECT baton.append_event_v1(run_id => run_id, fence => 1, kind => 'api030.note', payload => '{"a": 1}') AS seq
  FROM api030_run;
SELECT pg_temp.try($$SELECT baton.append_event_v1(run_id => run_id, fence => 1, kind => 'step') FROM api030_run$$);
SELECT pg_temp.try($$SELECT baton.write_snapshot_v1(run_id => run_id, fence => 1, through_seq => 2, state => '{}', format_version => 99) FROM api030_run$$);
SELECT baton.write_snapshot_v1(run_id => run_id, fence => 1, through_seq => 2, state => '{"paid": 5}')
  FROM api030_run;
SELECT l.item, l.seq, l.kind, l.payload, l.format_version, l.workflow_version
  FROM api030_run r, baton.load_run_v1(run_id => r.run_id) l;
-- Fencing: after the holder's lease is gone and another job claimed, fence 1 is QB001.
UPDATE baton.jobs SET lease_expires_at = now() - interval '1 second' WHERE id = pg_temp.job('d1');
SELECT baton.defer_v1('api030_q', 'api030_other') > 0 AS deferred;
SELECT pg_temp.take('x1', 'api030_q') AS task;
SELECT c.status, c.fence FROM api030_run r,
  baton.claim_run_v1(run_id => r.run_id, job_id => pg_temp.job('x1'), lease_token => pg_temp.token('x1')) c;
SELECT pg_temp.try($$SELECT baton.append_event_v1(run_id => run_id, fence => 1, kind => 'late') FROM api030_run$$);
-- A cancel while held: the holder's next write is QB004.
SELECT baton.cancel_run_v1(run_id => run_id, compensate => true, reason => 'api030') FROM api030_run;
SELECT pg_temp.try($$SELECT baton.complete_run_v1(run_id => run_id, fence => 2) FROM api030_run$$);
-- The next driver applies it: the compensation job, a driver behind it, compensated.
SELECT baton.finish_v1(job_id => pg_temp.job('x1'), lease_token => pg_temp.token('x1'), status => 'succeeded');
SELECT baton.reap_v1() >= 0 AS reaped;
SELECT pg_sleep(1.2);  -- the expired driver's retry backoff
SELECT pg_temp.take('d1b', 'api030_q') AS task;
SELECT c.status, c.fence FROM api030_run r,
  baton.claim_run_v1(run_id => r.run_id, job_id => pg_temp.job('d1b'), lease_token => pg_temp.token('d1b')) c;
SELECT run_id IS NOT NULL AS listed, step, name, task, args, status, run_status
  FROM baton.pending_compensations WHERE task = 'refund' AND args = '{"amount": 5}';
SELECT baton.finish_v1(job_id => pg_temp.job('d1b'), lease_token => pg_temp.token('d1b'), status => 'succeeded');
SELECT pg_temp.take('d2', 'api030_q') AS task;  -- the driver queued by the cancel
SELECT c.status FROM api030_run r,
  baton.claim_run_v1(run_id => r.run_id, job_id => pg_temp.job('d2'), lease_token => pg_temp.token('d2')) c;
SELECT baton.finish_v1(job_id => pg_temp.job('d2'), lease_token => pg_temp.token('d2'), status => 'succeeded');
SELECT pg_temp.take('c1', 'api030_q') AS task;
SELECT baton.finish_v1(job_id => pg_temp.job('c1'), lease_token => pg_temp.token('c1'), status => 'succeeded');
SELECT pg_temp.take('d3', 'api030_q') AS task;
SELECT c.status FROM api030_run r,
  baton.claim_run_v1(run_id => r.run_id, job_id => pg_temp.job('d3'), lease_token => pg_temp.token('d3')) c;
SELECT baton.finish_v1(job_id => pg_temp.job('d3'), lease_token => pg_temp.token('d3'), status => 'succeeded');
SELECT w.status, w.steps, w.events, w.fence, w.compensation_mode, w.snapshot_through_seq
  FROM baton.workflow_runs w JOIN api030_run r ON w.id = r.run_id;
SELECT h.seq, h.kind FROM api030_run r, baton.run_history_v1(run_id => r.run_id) h;
SELECT pg_temp.try($$SELECT baton.cancel_run_v1(run_id => run_id) FROM api030_run$$);
SELECT pg_temp.try($$SELECT baton.resolve_run_v1(run_id => run_id, action => 'retry') FROM api030_run$$);

-- Continue-as-new: same correlation id, links both ways, the successor's own driver.
SELECT created FROM baton.start_run_v1(workflow => 'api030_order', correlation_id => 'api030-c',
                                       queue => 'api030_q');
SELECT pg_temp.take('e1', 'api030_q') AS task;
SELECT c.status, c.fence, c.correlation_id FROM baton.claim_run_v1(
  run_id => (SELECT (args ->> 'run_id')::bigint FROM api030_held WHERE tag = 'e1'),
  job_id => pg_temp.job('e1'), lease_token => pg_temp.token('e1')) c;
SELECT baton.continue_as_new_v1(run_id => (SELECT (args ->> 'run_id')::bigint FROM api030_held WHERE tag = 'e1'),
                                fence => 1, input => '{"n": 2}') IS NOT NULL AS continued;
SELECT w.status, w.input, w.continued_from IS NOT NULL AS has_from, w.continued_to IS NOT NULL AS has_to
  FROM baton.workflow_runs w WHERE w.correlation_id = 'api030-c' ORDER BY w.id;
SELECT baton.finish_v1(job_id => pg_temp.job('e1'), lease_token => pg_temp.token('e1'), status => 'succeeded');
SELECT pg_temp.take('e2', 'api030_q') AS task;
SELECT c.status, c.input, c.correlation_id, c.continued_from IS NOT NULL AS has_from FROM baton.claim_run_v1(
  run_id => (SELECT (args ->> 'run_id')::bigint FROM api030_held WHERE tag = 'e2'),
  job_id => pg_temp.job('e2'), lease_token => pg_temp.token('e2')) c;
SELECT baton.fail_run_v1(run_id => (SELECT (args ->> 'run_id')::bigint FROM api030_held WHERE tag = 'e2'),
                         fence => 1, error => 'api030 failure', compensate => false);
SELECT baton.finish_v1(job_id => pg_temp.job('e2'), lease_token => pg_temp.token('e2'), status => 'succeeded');

-- Clean up: the runs (superuser), the queue, the workflow.
DELETE FROM baton.run_snapshots WHERE run_id IN (SELECT id FROM baton.runs WHERE workflow = 'api030_order');
DELETE FROM baton.run_steps WHERE run_id IN (SELECT id FROM baton.runs WHERE workflow = 'api030_order');
DELETE FROM baton.run_history WHERE run_id IN (SELECT id FROM baton.runs WHERE workflow = 'api030_order');
UPDATE baton.runs SET continued_to = NULL, continued_from = NULL WHERE workflow = 'api030_order';
DELETE FROM baton.runs WHERE workflow = 'api030_order';
DELETE FROM baton.workflows WHERE name = 'api030_order';
SELECT baton.drop_queue_v1('api030_q', force => true) >= 0 AS dropped;
