-- baton 0.2.0 -> 0.3.0: durable workflows. Registered workflow versions, runs driven by
-- jobs of the queue, an append-only run history with memoised steps, snapshots with a
-- format version, saga compensation (sequential LIFO or parallel, each compensation a job
-- with retries, needs_operator when one runs out of them), cancellation and
-- continue-as-new. Every 0.2.0 procedure stays, with its signature and meaning; nothing
-- here touches the job tables, so the direct path keeps its layout.
-- RELEASED SCRIPTS ARE FROZEN: once a version ships, its script is never edited again
-- (test/released_scripts.sha256 checks it). Changes go into a new upgrade script.
--
-- Runs while workers work: it only creates new objects (no lock on a busy table).
--
-- How a run moves (docs/workflows.md has the whole story):
--   * start_run_v1 inserts the run and defers its *driver job*, task 'wf:<workflow>' with
--     args {"run_id": N}, in the run's queue, under the job lock 'baton:run:<N>' (so the
--     drivers of one run go one after the other).
--   * The worker that holds a driver job calls claim_run_v1(run, job, lease_token): the
--     run's lease is that job's lease (the worker's heartbeats keep both), and the claim
--     bumps the run's fence. Every write (record_step_v1, append_event_v1,
--     write_snapshot_v1, complete/fail/compensate/continue) carries the fence and is
--     refused (QB001) once another job has claimed the run or the job's lease is gone.
--   * A compensation is a job too. Sequential: the newest pending one is deferred under the
--     run's job lock, followed by a new driver job, which (being behind it in the lock)
--     runs when it has finished and schedules the next. Parallel: all at once, each with a
--     driver behind it under a lock of its own; the last driver to run sees them all done.
\echo Use "ALTER EXTENSION baton UPDATE TO '0.3.0'" to load this file. \quit

-- ---------------------------------------------------------------------------------------
-- Library helpers (C): the global snapshot threshold and the snapshot formats.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@._default_snapshot_threshold()
  RETURNS integer
  LANGUAGE c STABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'baton_default_snapshot_threshold';
CREATE FUNCTION @extschema@._snapshot_format_supported(format_version integer)
  RETURNS boolean
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'baton_snapshot_format_supported';
CREATE FUNCTION @extschema@._newest_snapshot_format()
  RETURNS integer
  LANGUAGE c IMMUTABLE PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'baton_newest_snapshot_format';

-- ---------------------------------------------------------------------------------------
-- Tables.
-- ---------------------------------------------------------------------------------------
CREATE TYPE @extschema@.run_status AS ENUM (
  'running',         -- a driver job advances it (or will)
  'suspended',       -- waiting for a timer or an input (reserved for those features)
  'completed',       -- ended with its output
  'failed',          -- ended with an error (or an operator gave up its compensation)
  'cancelled',       -- cancelled without compensation
  'compensating',    -- its compensations are running
  'compensated',     -- every pending compensation has run
  'needs_operator',  -- a compensation ran out of attempts: resolve_run_v1 decides
  'continued'        -- ended by continue_as_new_v1; continued_to is its successor
);

CREATE TABLE @extschema@.workflows (
  name               text NOT NULL,
  version            integer NOT NULL,
  definition         jsonb NOT NULL,
  definition_hash    text NOT NULL,
  snapshot_threshold integer,  -- NULL: the setting baton.snapshot_threshold (0 = off)
  registered_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (name, version)
);

CREATE SEQUENCE @extschema@.run_id_seq;
CREATE TABLE @extschema@.runs (
  id                bigint PRIMARY KEY,
  workflow          text NOT NULL,
  version           integer NOT NULL,
  queue             text NOT NULL,
  status            @extschema@.run_status NOT NULL DEFAULT 'running',
  input             jsonb NOT NULL,
  output            jsonb,
  error             text,
  idempotency_key   text,
  correlation_id    text NOT NULL,
  continued_from    bigint REFERENCES @extschema@.runs (id),
  continued_to      bigint REFERENCES @extschema@.runs (id),
  -- The run's lease is its holder job's lease; fence counts the claims. A fence is known
  -- to a worker only once its claim has committed (claim_run_v1 is a statement of its own),
  -- so a claim that rolled back hands out nothing, even though its number is used again.
  fence             bigint NOT NULL DEFAULT 0,
  holder_job        bigint,
  holder_token      uuid,
  cancel_requested  text CHECK (cancel_requested IN ('cancel', 'compensate')),
  compensation_mode text CHECK (compensation_mode IN ('sequential', 'parallel')),
  last_seq          bigint NOT NULL DEFAULT 0,  -- the newest history event's seq
  steps             integer NOT NULL DEFAULT 0,  -- steps recorded
  created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  finished_at       timestamptz,
  FOREIGN KEY (workflow, version) REFERENCES @extschema@.workflows (name, version)
);
CREATE UNIQUE INDEX runs_idempotency_key ON @extschema@.runs (workflow, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_correlation_idx ON @extschema@.runs (correlation_id);
CREATE INDEX runs_open_idx ON @extschema@.runs (status, id)
  WHERE status IN ('running', 'suspended', 'compensating', 'needs_operator');

-- Append-only: rows are inserted, never updated or deleted (until the run is purged).
CREATE TABLE @extschema@.run_history (
  run_id  bigint NOT NULL REFERENCES @extschema@.runs (id),
  seq     bigint NOT NULL,
  at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  kind    text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, seq)
);

CREATE TABLE @extschema@.run_steps (
  run_id            bigint NOT NULL REFERENCES @extschema@.runs (id),
  step              integer NOT NULL,
  name              text NOT NULL,
  result            jsonb,
  seq               bigint NOT NULL,  -- its event in run_history
  compensation_task text,
  compensation_args jsonb,
  compensation_max_attempts integer,
  -- undeclared: neither a compensation nor "none"; none: declared none;
  -- pending -> scheduled (compensation_job deferred) -> done | failed; skipped: given up
  compensation_status text NOT NULL CHECK (compensation_status IN
    ('undeclared', 'none', 'pending', 'scheduled', 'done', 'failed', 'skipped')),
  compensation_job  bigint,
  compensation_error text,
  updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (run_id, step)
);

CREATE TABLE @extschema@.run_snapshots (
  run_id           bigint NOT NULL REFERENCES @extschema@.runs (id),
  through_seq      bigint NOT NULL,  -- the state folds run_history up to this seq
  workflow_version integer NOT NULL,
  format_version   integer,          -- NULL reads as format 1
  state            jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (run_id, through_seq)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.workflows', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_steps', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.run_id_seq', '');

-- ---------------------------------------------------------------------------------------
-- Internal helpers. Each expects the run's row locked (FOR UPDATE) by its caller.
-- ---------------------------------------------------------------------------------------

-- Appends an event to a run's history; returns its seq.
CREATE FUNCTION @extschema@._run_event(run_id bigint, kind text, payload jsonb)
  RETURNS bigint
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  WITH r AS (
    UPDATE @extschema@.runs r SET last_seq = r.last_seq + 1, updated_at = pg_catalog.now()
     WHERE r.id = $1 RETURNING r.id, r.last_seq)
  INSERT INTO @extschema@.run_history (run_id, seq, kind, payload)
  SELECT r.id, r.last_seq, $2, COALESCE($3, '{}') FROM r
  RETURNING seq;
$fn$;

-- Defers a driver job of the run (under `lock`, default the run's own job lock).
CREATE FUNCTION @extschema@._defer_driver(run_id bigint, lock text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  SELECT @extschema@.defer_v1(r.queue, 'wf:' || r.workflow,
                              pg_catalog.jsonb_build_object('run_id', r.id),
                              max_attempts => 10,
                              lock => COALESCE($2, 'baton:run:' || r.id))
    FROM @extschema@.runs r WHERE r.id = $1;
$fn$;

-- Whether the job holds its lease right now.
CREATE FUNCTION @extschema@._job_holds_lease(job_id bigint, lease_token uuid)
  RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  SELECT EXISTS (SELECT 1 FROM @extschema@.jobs j
                  WHERE j.id = $1 AND j.status = 'running' AND j.lease_token = $2
                    AND j.lease_expires_at > pg_catalog.clock_timestamp());
$fn$;

-- The checks of every fenced write: the run exists, the caller's fence is the newest
-- claim, its job still holds its lease, the run is running and no cancel is pending.
-- Locks the run's row until the caller's transaction ends.
CREATE FUNCTION @extschema@._run_guard(run_id bigint, fence bigint)
  RETURNS @extschema@.runs
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  r @extschema@.runs;
BEGIN
  IF run_id IS NULL OR fence IS NULL THEN
    RAISE EXCEPTION 'run_id and fence must not be null' USING ERRCODE = '22004';
  END IF;
  SELECT * INTO r FROM @extschema@.runs x WHERE x.id = _run_guard.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = 'P0002';
  END IF;
  IF r.fence <> _run_guard.fence THEN
    RAISE EXCEPTION 'run %: fence % is stale, the run was claimed again (fence %)',
      run_id, fence, r.fence USING ERRCODE = 'QB001',
      HINT = 'Another worker advances this run now; stop without writing.';
  END IF;
  IF r.status <> 'running' THEN
    RAISE EXCEPTION 'run % is %, not running', run_id, r.status USING ERRCODE = '55000';
  END IF;
  IF r.holder_job IS NULL OR NOT @extschema@._job_holds_lease(r.holder_job, r.holder_token) THEN
    RAISE EXCEPTION 'run %: the lease of its driver job % has expired', run_id, r.holder_job
      USING ERRCODE = 'QB001', HINT = 'The run will be claimed again by a new driver job.';
  END IF;
  IF r.cancel_requested IS NOT NULL THEN
    RAISE EXCEPTION 'run % was cancelled', run_id USING ERRCODE = 'QB004',
      HINT = 'Stop the run''s code; its next driver job applies the cancellation.';
  END IF;
  RETURN r;
END
$fn$;

-- Ends a run in a final status.
CREATE FUNCTION @extschema@._end_run(run_id bigint, status @extschema@.run_status)
  RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  UPDATE @extschema@.runs r
     SET status = $2, finished_at = pg_catalog.now(), updated_at = pg_catalog.now(),
         holder_job = NULL, holder_token = NULL, cancel_requested = NULL
   WHERE r.id = $1;
$fn$;

-- Moves compensation on: records the outcome of the compensations in flight, schedules the
-- next one(s), or ends the run compensated. Returns the run's status afterwards.
CREATE FUNCTION @extschema@._advance_compensation(run_id bigint)
  RETURNS @extschema@.run_status
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  s @extschema@.run_steps;
  job_status text;
  job_error text;
  in_flight integer := 0;
  failed integer := 0;
  scheduled integer := 0;
  comp_job bigint;
  comp_lock text;
BEGIN
  SELECT * INTO r FROM @extschema@.runs x WHERE x.id = _advance_compensation.run_id;
  IF r.status <> 'compensating' THEN
    RETURN r.status;
  END IF;
  FOR s IN SELECT * FROM @extschema@.run_steps x
            WHERE x.run_id = r.id AND x.compensation_status = 'scheduled' ORDER BY x.step DESC
  LOOP
    SELECT a.status, a.error INTO job_status, job_error
      FROM @extschema@.all_jobs a WHERE a.id = s.compensation_job;
    IF job_status IS NULL THEN
      -- A queue with keep_succeeded => false deletes its succeeded jobs (and only those);
      -- elsewhere a missing job was purged (purge_finished_v1) and how it ended is unknown:
      -- an operator decides rather than baton guessing it succeeded.
      IF EXISTS (SELECT 1 FROM @extschema@.queues q WHERE q.name = r.queue AND NOT q.keep_succeeded) THEN
        job_status := 'succeeded';
      ELSE
        job_status := 'dead';
        job_error := 'compensation job ' || s.compensation_job || ' is gone (purged): its outcome is unknown';
      END IF;
    END IF;
    IF job_status = 'succeeded' THEN
      UPDATE @extschema@.run_steps x
         SET compensation_status = 'done', compensation_error = NULL, updated_at = pg_catalog.now()
       WHERE x.run_id = r.id AND x.step = s.step;
      PERFORM @extschema@._run_event(r.id, 'compensated',
        pg_catalog.jsonb_build_object('step', s.step, 'name', s.name, 'job', s.compensation_job));
    ELSIF job_status IN ('dead', 'cancelled') THEN
      UPDATE @extschema@.run_steps x
         SET compensation_status = 'failed', compensation_error = COALESCE(job_error, job_status),
             updated_at = pg_catalog.now()
       WHERE x.run_id = r.id AND x.step = s.step;
      PERFORM @extschema@._run_event(r.id, 'compensation_failed',
        pg_catalog.jsonb_build_object('step', s.step, 'name', s.name, 'job', s.compensation_job,
                                      'status', job_status, 'error', job_error));
      failed := failed + 1;
    ELSE
      in_flight := in_flight + 1;
    END IF;
  END LOOP;
  IF failed > 0 THEN
    UPDATE @extschema@.runs x SET status = 'needs_operator', updated_at = pg_catalog.now()
     WHERE x.id = r.id;
    PERFORM @extschema@._run_event(r.id, 'needs_operator',
      pg_catalog.jsonb_build_object('failed', failed, 'in_flight', in_flight));
    RETURN 'needs_operator';
  END IF;
  IF in_flight > 0 THEN
    RETURN 'compensating';  -- the drivers behind them come back
  END IF;
  FOR s IN SELECT * FROM @extschema@.run_steps x
            WHERE x.run_id = r.id AND x.compensation_status = 'pending' ORDER BY x.step DESC
  LOOP
    comp_lock := CASE WHEN r.compensation_mode = 'parallel'
                      THEN 'baton:run:' || r.id || ':step:' || s.step
                      ELSE 'baton:run:' || r.id END;
    comp_job := @extschema@.defer_v1(r.queue, s.compensation_task, s.compensation_args,
                                     max_attempts => s.compensation_max_attempts,
                                     lock => comp_lock);
    UPDATE @extschema@.run_steps x
       SET compensation_status = 'scheduled', compensation_job = comp_job,
           updated_at = pg_catalog.now()
     WHERE x.run_id = r.id AND x.step = s.step;
    PERFORM @extschema@._run_event(r.id, 'compensation_scheduled',
      pg_catalog.jsonb_build_object('step', s.step, 'name', s.name, 'task', s.compensation_task,
                                    'job', comp_job));
    -- Behind the compensation in its lock: runs when it has succeeded or died.
    PERFORM @extschema@._defer_driver(r.id, comp_lock);
    scheduled := scheduled + 1;
    EXIT WHEN r.compensation_mode = 'sequential';  -- one at a time, newest first (LIFO)
  END LOOP;
  IF scheduled > 0 THEN
    RETURN 'compensating';
  END IF;
  PERFORM @extschema@._end_run(r.id, 'compensated');
  PERFORM @extschema@._run_event(r.id, 'run_compensated', '{}');
  RETURN 'compensated';
END
$fn$;

-- Turns a running run into a compensating one (and starts compensating).
CREATE FUNCTION @extschema@._begin_compensation(run_id bigint, mode text, reason text)
  RETURNS @extschema@.run_status
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  pending integer;
  undeclared text[];
BEGIN
  IF mode IS NULL THEN
    RAISE EXCEPTION 'mode must not be null' USING ERRCODE = '22004';
  END IF;
  IF mode NOT IN ('sequential', 'parallel') THEN
    RAISE EXCEPTION 'compensation mode "%" is invalid', mode USING ERRCODE = '22023',
      HINT = 'Use ''sequential'' (one after the other, newest first) or ''parallel''.';
  END IF;
  SELECT count(*) FILTER (WHERE s.compensation_status = 'pending'),
         array_agg(s.name ORDER BY s.step) FILTER (WHERE s.compensation_status = 'undeclared')
    INTO pending, undeclared
    FROM @extschema@.run_steps s WHERE s.run_id = _begin_compensation.run_id;
  IF undeclared IS NOT NULL THEN
    RAISE WARNING 'run %: steps % declared no compensation (nor "none"); nothing undoes them',
      run_id, array_to_string(undeclared, ', ');
  END IF;
  UPDATE @extschema@.runs r
     SET status = 'compensating', compensation_mode = mode, cancel_requested = NULL,
         updated_at = pg_catalog.now()
   WHERE r.id = _begin_compensation.run_id;
  PERFORM @extschema@._run_event(run_id, 'compensation_started',
    pg_catalog.jsonb_build_object('mode', mode, 'reason', reason, 'pending', pending));
  RETURN @extschema@._advance_compensation(run_id);
END
$fn$;

-- Applies a pending cancellation: compensate, or end cancelled.
CREATE FUNCTION @extschema@._apply_cancel(run_id bigint, how text, reason text)
  RETURNS @extschema@.run_status
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  IF how = 'compensate' THEN
    RETURN @extschema@._begin_compensation(run_id, 'sequential', COALESCE(reason, 'cancelled'));
  END IF;
  PERFORM @extschema@._end_run(run_id, 'cancelled');
  PERFORM @extschema@._run_event(run_id, 'cancelled',
    pg_catalog.jsonb_build_object('reason', reason));
  RETURN 'cancelled';
END
$fn$;

-- ---------------------------------------------------------------------------------------
-- Definitions.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.register_workflow_v1(workflow text, version integer,
                                                 definition jsonb DEFAULT '{}',
                                                 snapshot_threshold integer DEFAULT NULL)
  RETURNS TABLE (definition_hash text, created boolean)
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  hash text;
  existing text;
  with_comp text[];
  undeclared text[];
BEGIN
  IF workflow IS NULL OR version IS NULL OR definition IS NULL THEN
    RAISE EXCEPTION 'workflow, version and definition must not be null' USING ERRCODE = '22004';
  END IF;
  IF workflow !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,47}$' THEN
    RAISE EXCEPTION 'workflow name "%" is invalid', workflow USING ERRCODE = '22023',
      HINT = 'Workflow names have 1 to 48 characters: letters, digits and _ - . :, starting with a letter or digit.';
  END IF;
  IF version < 1 THEN
    RAISE EXCEPTION 'workflow version must be at least 1, not %', version USING ERRCODE = '22023';
  END IF;
  IF jsonb_typeof(definition) <> 'object' THEN
    RAISE EXCEPTION 'a workflow definition must be a JSON object, not %', jsonb_typeof(definition)
      USING ERRCODE = '22023';
  END IF;
  IF definition ? 'steps' AND jsonb_typeof(definition -> 'steps') <> 'array' THEN
    RAISE EXCEPTION 'the definition''s "steps" must be an array' USING ERRCODE = '22023';
  END IF;
  IF snapshot_threshold IS NOT NULL AND snapshot_threshold NOT BETWEEN 0 AND 1000000 THEN
    RAISE EXCEPTION 'snapshot_threshold must be between 0 (off) and 1000000, not %',
      snapshot_threshold USING ERRCODE = '22023';
  END IF;
  hash := md5(definition::text);
  -- A saga whose steps do not all say how they are undone: warn at registration.
  SELECT array_agg(s ->> 'name') FILTER (WHERE s ? 'compensation' AND s ->> 'compensation' <> 'none'),
         array_agg(COALESCE(s ->> 'name', '#' || n)) FILTER (WHERE NOT s ? 'compensation')
    INTO with_comp, undeclared
    FROM jsonb_array_elements(COALESCE(definition -> 'steps', '[]')) WITH ORDINALITY AS e(s, n);
  IF with_comp IS NOT NULL AND undeclared IS NOT NULL THEN
    RAISE WARNING 'workflow % version % uses compensation, but steps % declare neither a compensation nor "none"',
      workflow, version, array_to_string(undeclared, ', ')
      USING HINT = 'Give each step a compensation task, or "compensation": "none" if it needs no undoing.';
  END IF;
  INSERT INTO @extschema@.workflows AS w (name, version, definition, definition_hash, snapshot_threshold)
    VALUES (workflow, version, definition, hash, snapshot_threshold)
    ON CONFLICT (name, version) DO NOTHING;
  IF FOUND THEN
    RETURN QUERY SELECT hash, true;
    RETURN;
  END IF;
  SELECT w.definition_hash INTO existing FROM @extschema@.workflows w
   WHERE w.name = register_workflow_v1.workflow AND w.version = register_workflow_v1.version;
  IF existing <> hash THEN
    RAISE EXCEPTION 'workflow % version % is already registered with another definition',
      workflow, version USING ERRCODE = 'QB003',
      DETAIL = format('registered hash %s, this definition %s', existing, hash),
      HINT = 'A changed workflow is a new version: register it as version ' || (version + 1) || '.';
  END IF;
  UPDATE @extschema@.workflows w SET snapshot_threshold = register_workflow_v1.snapshot_threshold
   WHERE w.name = register_workflow_v1.workflow AND w.version = register_workflow_v1.version
     AND w.snapshot_threshold IS DISTINCT FROM register_workflow_v1.snapshot_threshold;
  RETURN QUERY SELECT hash, false;
END
$fn$;

-- ---------------------------------------------------------------------------------------
-- Runs.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.start_run_v1(workflow text, input jsonb DEFAULT '{}',
                                         idempotency_key text DEFAULT NULL,
                                         correlation_id text DEFAULT NULL,
                                         queue text DEFAULT 'workflows',
                                         version integer DEFAULT NULL)
  RETURNS TABLE (run_id bigint, created boolean)
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  v integer;
  new_id bigint;
  got bigint;
BEGIN
  IF workflow IS NULL OR input IS NULL OR queue IS NULL THEN
    RAISE EXCEPTION 'workflow, input and queue must not be null' USING ERRCODE = '22004';
  END IF;
  IF pg_column_size(input) > 1048576 THEN
    RAISE EXCEPTION 'a run''s input is at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  IF idempotency_key IS NOT NULL AND (length(idempotency_key) NOT BETWEEN 1 AND 200) THEN
    RAISE EXCEPTION 'an idempotency key has 1 to 200 characters' USING ERRCODE = '22023';
  END IF;
  IF correlation_id IS NOT NULL AND (length(correlation_id) NOT BETWEEN 1 AND 200) THEN
    RAISE EXCEPTION 'a correlation id has 1 to 200 characters' USING ERRCODE = '22023';
  END IF;
  SELECT max(w.version) INTO v FROM @extschema@.workflows w
   WHERE w.name = start_run_v1.workflow
     AND (start_run_v1.version IS NULL OR w.version = start_run_v1.version);
  IF v IS NULL THEN
    RAISE EXCEPTION 'workflow % % is not registered', workflow,
      COALESCE('version ' || start_run_v1.version, '(any version)') USING ERRCODE = '42704';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.queues q WHERE q.name = start_run_v1.queue) THEN
    RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = '42704',
      HINT = 'Create it with baton.create_queue_v1; runs are driven by jobs in it.';
  END IF;
  new_id := nextval('@extschema@.run_id_seq');
  INSERT INTO @extschema@.runs (id, workflow, version, queue, input, idempotency_key, correlation_id)
    VALUES (new_id, workflow, v, queue, input, idempotency_key,
            COALESCE(correlation_id, 'run:' || new_id))
    ON CONFLICT (workflow, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id INTO got;
  IF got IS NULL THEN
    -- A duplicate start: the run of the first one.
    RETURN QUERY SELECT r.id, false FROM @extschema@.runs r
                  WHERE r.workflow = start_run_v1.workflow
                    AND r.idempotency_key = start_run_v1.idempotency_key;
    RETURN;
  END IF;
  PERFORM @extschema@._run_event(got, 'started',
    pg_catalog.jsonb_build_object('workflow', workflow, 'version', v, 'input', input));
  PERFORM @extschema@._defer_driver(got);
  RETURN QUERY SELECT got, true;
END
$fn$;

-- The worker holding driver job `job_id` takes the run: bumps the fence and returns the
-- run as it is now (status != 'running' means there is nothing to run: a pending cancel
-- was applied, compensation was advanced, or the run has ended). 55P03 while another job
-- with a live lease holds the run.
CREATE FUNCTION @extschema@.claim_run_v1(run_id bigint, job_id bigint, lease_token uuid)
  RETURNS TABLE (id bigint, workflow text, version integer, status text, input jsonb,
                 fence bigint, snapshot_threshold integer, last_seq bigint, steps integer,
                 correlation_id text, continued_from bigint)
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  st @extschema@.run_status;
BEGIN
  IF claim_run_v1.run_id IS NULL OR job_id IS NULL OR lease_token IS NULL THEN
    RAISE EXCEPTION 'run_id, job_id and lease_token must not be null' USING ERRCODE = '22004';
  END IF;
  IF NOT @extschema@._job_holds_lease(job_id, lease_token) THEN
    RAISE EXCEPTION 'cannot claim run % with job %: the job''s lease is not held', claim_run_v1.run_id, job_id
      USING ERRCODE = 'QB001';
  END IF;
  SELECT * INTO r FROM @extschema@.runs x WHERE x.id = claim_run_v1.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', claim_run_v1.run_id USING ERRCODE = 'P0002';
  END IF;
  IF r.holder_job IS NOT NULL AND r.holder_job <> job_id
     AND @extschema@._job_holds_lease(r.holder_job, r.holder_token) THEN
    RAISE EXCEPTION 'run % is being advanced by job %', r.id, r.holder_job USING ERRCODE = '55P03',
      HINT = 'Retry later: two workers never advance one run at once.';
  END IF;
  st := r.status;
  IF st IN ('running', 'compensating') THEN
    UPDATE @extschema@.runs x
       SET fence = x.fence + 1, holder_job = claim_run_v1.job_id,
           holder_token = claim_run_v1.lease_token, updated_at = pg_catalog.now()
     WHERE x.id = r.id;
    IF st = 'running' AND r.cancel_requested IS NOT NULL THEN
      -- The reason given to cancel_run_v1 is in its cancel_requested event.
      st := @extschema@._apply_cancel(r.id, r.cancel_requested,
              (SELECT h.payload ->> 'reason' FROM @extschema@.run_history h
                WHERE h.run_id = r.id AND h.kind = 'cancel_requested'
                ORDER BY h.seq DESC LIMIT 1));
    ELSIF st = 'compensating' THEN
      st := @extschema@._advance_compensation(r.id);
    END IF;
  END IF;
  RETURN QUERY
    SELECT x.id, x.workflow, x.version, x.status::text, x.input, x.fence,
           COALESCE(w.snapshot_threshold, @extschema@._default_snapshot_threshold()),
           x.last_seq, x.steps, x.correlation_id, x.continued_from
      FROM @extschema@.runs x JOIN @extschema@.workflows w ON w.name = x.workflow AND w.version = x.version
     WHERE x.id = r.id;
END
$fn$;

-- A step's result, memoised: appended to the history with its compensation (a task and its
-- args), or "none" (compensation_none), or neither. Steps are numbered 1, 2, ... in the
-- order the run's code reaches them. Returns the event's seq.
CREATE FUNCTION @extschema@.record_step_v1(run_id bigint, fence bigint, step integer, name text,
                                           result jsonb DEFAULT NULL,
                                           compensation_task text DEFAULT NULL,
                                           compensation_args jsonb DEFAULT '{}',
                                           compensation_none boolean DEFAULT false,
                                           compensation_max_attempts integer DEFAULT 5)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  seq bigint;
  comp jsonb;
  comp_status text;
BEGIN
  r := @extschema@._run_guard(run_id, fence);
  IF step IS NULL OR name IS NULL OR compensation_none IS NULL THEN
    RAISE EXCEPTION 'step, name and compensation_none must not be null' USING ERRCODE = '22004';
  END IF;
  IF length(name) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'a step name has 1 to 200 characters' USING ERRCODE = '22023';
  END IF;
  IF step <> r.steps + 1 THEN
    RAISE EXCEPTION 'run %: step % is out of order, the next step is %', run_id, step, r.steps + 1
      USING ERRCODE = CASE WHEN step <= r.steps THEN '23505' ELSE '22023' END,
      HINT = 'Steps are recorded once each, in the order the run reaches them.';
  END IF;
  IF result IS NOT NULL AND pg_column_size(result) > 1048576 THEN
    RAISE EXCEPTION 'a step''s result is at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  IF compensation_task IS NOT NULL AND compensation_none THEN
    RAISE EXCEPTION 'step "%": a compensation task and compensation_none exclude each other', name
      USING ERRCODE = '22023';
  END IF;
  IF compensation_task IS NOT NULL THEN
    IF length(compensation_task) NOT BETWEEN 1 AND 200 THEN
      RAISE EXCEPTION 'a compensation task name has 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF compensation_args IS NULL OR jsonb_typeof(compensation_args) <> 'object' THEN
      RAISE EXCEPTION 'compensation args must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF compensation_max_attempts IS NULL OR compensation_max_attempts NOT BETWEEN 1 AND 1000 THEN
      RAISE EXCEPTION 'compensation_max_attempts must be between 1 and 1000' USING ERRCODE = '22023';
    END IF;
    comp := pg_catalog.jsonb_build_object('task', compensation_task, 'args', compensation_args,
                                          'max_attempts', compensation_max_attempts);
    comp_status := 'pending';
  ELSIF compensation_none THEN
    comp := '"none"';
    comp_status := 'none';
  ELSE
    comp_status := 'undeclared';
  END IF;
  seq := @extschema@._run_event(run_id, 'step',
    pg_catalog.jsonb_build_object('step', step, 'name', name, 'result', result,
                                  'compensation', comp));
  INSERT INTO @extschema@.run_steps (run_id, step, name, result, seq, compensation_task,
                                     compensation_args, compensation_max_attempts,
                                     compensation_status)
    VALUES (run_id, step, name, result, seq, compensation_task,
            CASE WHEN compensation_task IS NOT NULL THEN compensation_args END,
            CASE WHEN compensation_task IS NOT NULL THEN compensation_max_attempts END, comp_status);
  UPDATE @extschema@.runs x SET steps = step WHERE x.id = run_id;
  RETURN seq;
END
$fn$;

-- An event of the run's own (its code folds them into its state, like steps). Kinds that
-- baton writes itself are refused.
CREATE FUNCTION @extschema@.append_event_v1(run_id bigint, fence bigint, kind text,
                                            payload jsonb DEFAULT '{}')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  PERFORM @extschema@._run_guard(run_id, fence);
  IF kind IS NULL OR payload IS NULL THEN
    RAISE EXCEPTION 'kind and payload must not be null' USING ERRCODE = '22004';
  END IF;
  IF kind !~ '^[a-z][a-z0-9_.:-]{0,62}$' OR kind IN ('started', 'step', 'completed', 'failed',
       'cancelled', 'cancel_requested', 'compensation_started', 'compensation_scheduled',
       'compensated', 'compensation_failed', 'needs_operator', 'operator', 'run_compensated',
       'continued_as_new', 'continued_from') THEN
    RAISE EXCEPTION 'event kind "%" is invalid or reserved', kind USING ERRCODE = '22023',
      HINT = 'Kinds are 1 to 63 lower-case letters, digits and _ . : -, and not one baton writes.';
  END IF;
  IF pg_column_size(payload) > 1048576 THEN
    RAISE EXCEPTION 'an event''s payload is at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  RETURN @extschema@._run_event(run_id, kind, payload);
END
$fn$;

-- The run's state folded through history event `through_seq`, in payload format
-- `format_version` (the newest this library knows by default). An optimisation only:
-- load_run_v1 returns the newest snapshot and the events after it.
CREATE FUNCTION @extschema@.write_snapshot_v1(run_id bigint, fence bigint, through_seq bigint,
                                              state jsonb, format_version integer DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  fmt integer := COALESCE(format_version, @extschema@._newest_snapshot_format());
BEGIN
  r := @extschema@._run_guard(run_id, fence);
  IF through_seq IS NULL OR state IS NULL THEN
    RAISE EXCEPTION 'through_seq and state must not be null' USING ERRCODE = '22004';
  END IF;
  IF NOT @extschema@._snapshot_format_supported(fmt) THEN
    RAISE EXCEPTION 'snapshot format % is unknown to this baton library', fmt USING ERRCODE = '22023',
      HINT = 'Format ' || @extschema@._newest_snapshot_format() || ' is the newest it reads and writes.';
  END IF;
  IF through_seq NOT BETWEEN 1 AND r.last_seq THEN
    RAISE EXCEPTION 'run %: through_seq % is outside its history (1 to %)', run_id, through_seq,
      r.last_seq USING ERRCODE = '22023';
  END IF;
  IF pg_column_size(state) > 16777216 THEN
    RAISE EXCEPTION 'a snapshot''s state is at most 16 MiB' USING ERRCODE = '54000';
  END IF;
  INSERT INTO @extschema@.run_snapshots (run_id, through_seq, workflow_version, format_version, state)
    VALUES (run_id, through_seq, r.version, fmt, state)
    ON CONFLICT (run_id, through_seq) DO NOTHING;
END
$fn$;

-- What a worker replays: the newest snapshot (item 'snapshot', seq = its through_seq,
-- payload = its state) if there is one, then every event after it (item 'event').
CREATE FUNCTION @extschema@.load_run_v1(run_id bigint)
  RETURNS TABLE (item text, seq bigint, at timestamptz, kind text, payload jsonb,
                 format_version integer, workflow_version integer)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  snap @extschema@.run_snapshots;
BEGIN
  IF run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be null' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.runs r WHERE r.id = load_run_v1.run_id) THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = 'P0002';
  END IF;
  SELECT * INTO snap FROM @extschema@.run_snapshots s
   WHERE s.run_id = load_run_v1.run_id ORDER BY s.through_seq DESC LIMIT 1;
  IF FOUND THEN
    RETURN QUERY SELECT 'snapshot'::text, snap.through_seq, snap.created_at, NULL::text, snap.state,
                        snap.format_version, snap.workflow_version;
  END IF;
  RETURN QUERY
    SELECT 'event'::text, h.seq, h.at, h.kind, h.payload, NULL::integer, NULL::integer
      FROM @extschema@.run_history h
     WHERE h.run_id = load_run_v1.run_id AND h.seq > COALESCE(snap.through_seq, 0)
     ORDER BY h.seq;
END
$fn$;

CREATE FUNCTION @extschema@.complete_run_v1(run_id bigint, fence bigint, output jsonb DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  PERFORM @extschema@._run_guard(run_id, fence);
  IF output IS NOT NULL AND pg_column_size(output) > 1048576 THEN
    RAISE EXCEPTION 'a run''s output is at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  UPDATE @extschema@.runs r SET output = complete_run_v1.output WHERE r.id = complete_run_v1.run_id;
  PERFORM @extschema@._end_run(run_id, 'completed');
  PERFORM @extschema@._run_event(run_id, 'completed', pg_catalog.jsonb_build_object('output', output));
END
$fn$;

-- Ends the run failed, or (compensate) runs its compensations first; returns the status.
CREATE FUNCTION @extschema@.fail_run_v1(run_id bigint, fence bigint, error text,
                                        compensate boolean DEFAULT false)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  PERFORM @extschema@._run_guard(run_id, fence);
  IF error IS NULL OR compensate IS NULL THEN
    RAISE EXCEPTION 'error and compensate must not be null' USING ERRCODE = '22004';
  END IF;
  UPDATE @extschema@.runs r SET error = left(fail_run_v1.error, 10000) WHERE r.id = fail_run_v1.run_id;
  IF compensate THEN
    RETURN @extschema@._begin_compensation(run_id, 'sequential', left(error, 10000));
  END IF;
  PERFORM @extschema@._end_run(run_id, 'failed');
  PERFORM @extschema@._run_event(run_id, 'failed', pg_catalog.jsonb_build_object('error', left(error, 10000)));
  RETURN 'failed';
END
$fn$;

-- Runs the pending compensations: 'sequential' newest first, one after the other, or
-- 'parallel' all at once. Returns the status ('compensated' at once if none is pending).
CREATE FUNCTION @extschema@.compensate_all_v1(run_id bigint, fence bigint,
                                              mode text DEFAULT 'sequential',
                                              reason text DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  PERFORM @extschema@._run_guard(run_id, fence);
  RETURN @extschema@._begin_compensation(run_id, mode, reason);
END
$fn$;

-- Ends the run and starts its successor (the workflow's newest version) with a new input,
-- in one transaction: same correlation id, queue; continued_from points back. Returns the
-- successor's id.
CREATE FUNCTION @extschema@.continue_as_new_v1(run_id bigint, fence bigint, input jsonb DEFAULT '{}')
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  v integer;
  next_id bigint;
BEGIN
  r := @extschema@._run_guard(run_id, fence);
  IF input IS NULL THEN
    RAISE EXCEPTION 'input must not be null' USING ERRCODE = '22004';
  END IF;
  IF pg_column_size(input) > 1048576 THEN
    RAISE EXCEPTION 'a run''s input is at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  SELECT max(w.version) INTO v FROM @extschema@.workflows w WHERE w.name = r.workflow;
  next_id := nextval('@extschema@.run_id_seq');
  INSERT INTO @extschema@.runs (id, workflow, version, queue, input, correlation_id, continued_from)
    VALUES (next_id, r.workflow, v, r.queue, continue_as_new_v1.input, r.correlation_id, r.id);
  UPDATE @extschema@.runs x SET continued_to = next_id WHERE x.id = r.id;
  PERFORM @extschema@._end_run(r.id, 'continued');
  PERFORM @extschema@._run_event(r.id, 'continued_as_new', pg_catalog.jsonb_build_object('run', next_id));
  PERFORM @extschema@._run_event(next_id, 'started',
    pg_catalog.jsonb_build_object('workflow', r.workflow, 'version', v, 'input', continue_as_new_v1.input,
                                  'continued_from', r.id));
  PERFORM @extschema@._defer_driver(next_id);
  RETURN next_id;
END
$fn$;

-- Cancels a run (from anywhere, no fence): at once when no driver holds it, else when its
-- holder's next write is refused (QB004) and the next driver job applies it. compensate:
-- the pending compensations run first (sequential) and the run ends compensated.
-- Returns the status now.
CREATE FUNCTION @extschema@.cancel_run_v1(run_id bigint, compensate boolean DEFAULT false,
                                          reason text DEFAULT NULL)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  how text;
BEGIN
  IF run_id IS NULL OR compensate IS NULL THEN
    RAISE EXCEPTION 'run_id and compensate must not be null' USING ERRCODE = '22004';
  END IF;
  SELECT * INTO r FROM @extschema@.runs x WHERE x.id = cancel_run_v1.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = 'P0002';
  END IF;
  IF r.status NOT IN ('running', 'suspended') THEN
    RAISE EXCEPTION 'run % is %: only a running or suspended run can be cancelled', run_id, r.status
      USING ERRCODE = '55000';
  END IF;
  how := CASE WHEN compensate THEN 'compensate' ELSE 'cancel' END;
  IF r.holder_job IS NOT NULL AND @extschema@._job_holds_lease(r.holder_job, r.holder_token) THEN
    UPDATE @extschema@.runs x SET cancel_requested = how, updated_at = pg_catalog.now()
     WHERE x.id = r.id;
    PERFORM @extschema@._run_event(r.id, 'cancel_requested',
      pg_catalog.jsonb_build_object('compensate', compensate, 'reason', reason));
    PERFORM @extschema@._defer_driver(r.id);  -- runs after the holder's job, applies it
    RETURN r.status::text;
  END IF;
  PERFORM @extschema@._run_event(r.id, 'cancel_requested',
    pg_catalog.jsonb_build_object('compensate', compensate, 'reason', reason));
  RETURN @extschema@._apply_cancel(r.id, how, reason)::text;
END
$fn$;

-- An operator's decision on a run in needs_operator: 'retry' runs its failed
-- compensations again, 'mark_done' counts them as done (fixed by hand), both then go on
-- with the rest; 'give_up' skips whatever is left and ends the run failed.
CREATE FUNCTION @extschema@.resolve_run_v1(run_id bigint, action text)
  RETURNS text
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
#variable_conflict use_column
DECLARE
  r @extschema@.runs;
  st @extschema@.run_status;
BEGIN
  IF run_id IS NULL OR action IS NULL THEN
    RAISE EXCEPTION 'run_id and action must not be null' USING ERRCODE = '22004';
  END IF;
  IF action NOT IN ('retry', 'mark_done', 'give_up') THEN
    RAISE EXCEPTION 'action "%" is invalid', action USING ERRCODE = '22023',
      HINT = 'Use ''retry'', ''mark_done'' or ''give_up''.';
  END IF;
  SELECT * INTO r FROM @extschema@.runs x WHERE x.id = resolve_run_v1.run_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = 'P0002';
  END IF;
  IF r.status <> 'needs_operator' THEN
    RAISE EXCEPTION 'run % is %, not needs_operator', run_id, r.status USING ERRCODE = '55000';
  END IF;
  PERFORM @extschema@._run_event(r.id, 'operator', pg_catalog.jsonb_build_object('action', action));
  IF action = 'give_up' THEN
    UPDATE @extschema@.run_steps s SET compensation_status = 'skipped', updated_at = pg_catalog.now()
     WHERE s.run_id = r.id AND s.compensation_status IN ('pending', 'scheduled', 'failed');
    UPDATE @extschema@.runs x SET error = COALESCE(x.error, 'compensation given up by an operator')
     WHERE x.id = r.id;
    PERFORM @extschema@._end_run(r.id, 'failed');
    PERFORM @extschema@._run_event(r.id, 'failed',
      pg_catalog.jsonb_build_object('error', 'compensation given up by an operator'));
    RETURN 'failed';
  END IF;
  UPDATE @extschema@.run_steps s
     SET compensation_status = CASE WHEN action = 'retry' THEN 'pending' ELSE 'done' END,
         compensation_job = CASE WHEN action = 'retry' THEN NULL ELSE s.compensation_job END,
         updated_at = pg_catalog.now()
   WHERE s.run_id = r.id AND s.compensation_status = 'failed';
  UPDATE @extschema@.runs x SET status = 'compensating', updated_at = pg_catalog.now()
   WHERE x.id = r.id;
  st := @extschema@._advance_compensation(r.id);
  RETURN st::text;
END
$fn$;

-- ---------------------------------------------------------------------------------------
-- Inspection in plain SQL.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.run_history_v1(run_id bigint)
  RETURNS TABLE (seq bigint, at timestamptz, kind text, payload jsonb)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  IF run_id IS NULL THEN
    RAISE EXCEPTION 'run_id must not be null' USING ERRCODE = '22004';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.runs r WHERE r.id = run_history_v1.run_id) THEN
    RAISE EXCEPTION 'run % does not exist', run_id USING ERRCODE = 'P0002';
  END IF;
  RETURN QUERY SELECT h.seq, h.at, h.kind, h.payload FROM @extschema@.run_history h
                WHERE h.run_id = run_history_v1.run_id ORDER BY h.seq;
END
$fn$;

CREATE VIEW @extschema@.workflow_runs AS
  SELECT r.id, r.workflow, r.version, r.status::text AS status, r.queue, r.input, r.output,
         r.error, r.idempotency_key, r.correlation_id, r.continued_from, r.continued_to,
         r.fence, r.holder_job, r.steps, r.last_seq AS events, r.compensation_mode,
         r.cancel_requested, r.created_at, r.updated_at, r.finished_at,
         (SELECT max(s.through_seq) FROM @extschema@.run_snapshots s WHERE s.run_id = r.id)
           AS snapshot_through_seq
    FROM @extschema@.runs r;

CREATE VIEW @extschema@.pending_compensations AS
  SELECT s.run_id, s.step, s.name, s.compensation_task AS task, s.compensation_args AS args,
         s.compensation_status AS status, s.compensation_job AS job_id, s.compensation_error AS error,
         r.status::text AS run_status
    FROM @extschema@.run_steps s JOIN @extschema@.runs r ON r.id = s.run_id
   WHERE s.compensation_status IN ('pending', 'scheduled', 'failed');

-- ---------------------------------------------------------------------------------------
-- Privileges (functions run with the caller's rights).
-- ---------------------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON @extschema@.workflows, @extschema@.runs, @extschema@.run_history,
  @extschema@.run_steps, @extschema@.run_snapshots, @extschema@.workflow_runs,
  @extschema@.pending_compensations FROM PUBLIC;
-- Producers start and cancel runs (a cancel may start compensation, which defers jobs);
-- workers advance them. Both may inspect.
GRANT SELECT ON @extschema@.workflows, @extschema@.run_snapshots, @extschema@.workflow_runs,
  @extschema@.pending_compensations TO baton_producer, baton_worker;
GRANT SELECT, INSERT, UPDATE ON @extschema@.runs, @extschema@.run_steps TO baton_producer, baton_worker;
GRANT SELECT, INSERT ON @extschema@.run_history TO baton_producer, baton_worker;
GRANT SELECT ON @extschema@.jobs_finished TO baton_producer, baton_worker;
GRANT USAGE ON SEQUENCE @extschema@.run_id_seq TO baton_producer, baton_worker;
GRANT INSERT ON @extschema@.workflows TO baton_worker;
GRANT UPDATE (snapshot_threshold) ON @extschema@.workflows TO baton_worker;
GRANT INSERT ON @extschema@.run_snapshots TO baton_worker;
GRANT EXECUTE ON FUNCTION
  @extschema@._default_snapshot_threshold(), @extschema@._snapshot_format_supported(integer),
  @extschema@._newest_snapshot_format(),
  @extschema@._run_event(bigint, text, jsonb), @extschema@._defer_driver(bigint, text),
  @extschema@._job_holds_lease(bigint, uuid), @extschema@._end_run(bigint, @extschema@.run_status),
  @extschema@._advance_compensation(bigint), @extschema@._begin_compensation(bigint, text, text),
  @extschema@._apply_cancel(bigint, text, text),
  @extschema@.start_run_v1(text, jsonb, text, text, text, integer),
  @extschema@.cancel_run_v1(bigint, boolean, text),
  @extschema@.load_run_v1(bigint), @extschema@.run_history_v1(bigint)
  TO baton_producer, baton_worker;
GRANT EXECUTE ON FUNCTION
  @extschema@._run_guard(bigint, bigint),
  @extschema@.register_workflow_v1(text, integer, jsonb, integer),
  @extschema@.claim_run_v1(bigint, bigint, uuid),
  @extschema@.record_step_v1(bigint, bigint, integer, text, jsonb, text, jsonb, boolean, integer),
  @extschema@.append_event_v1(bigint, bigint, text, jsonb),
  @extschema@.write_snapshot_v1(bigint, bigint, bigint, jsonb, integer),
  @extschema@.complete_run_v1(bigint, bigint, jsonb),
  @extschema@.fail_run_v1(bigint, bigint, text, boolean),
  @extschema@.compensate_all_v1(bigint, bigint, text, text),
  @extschema@.continue_as_new_v1(bigint, bigint, jsonb)
  TO baton_worker;
GRANT ALL ON ALL TABLES IN SCHEMA @extschema@ TO baton_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA @extschema@ TO baton_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO baton_admin;
