-- baton 0.1.0: the job queue core.
-- RELEASED SCRIPTS ARE FROZEN: once a version ships, its script is never edited again
-- (test/released_scripts.sha256 checks it). Changes go into a new upgrade script.
\echo Use "CREATE EXTENSION baton" to load this file. \quit

-- ---------------------------------------------------------------------------------------
-- Roles. Cluster-wide, so created only when missing (a second database reuses them).
--   baton_producer: may defer jobs and read queue statistics
--   baton_worker:   may fetch, heartbeat and finish jobs, and defer follow-up jobs
--   baton_admin:    both, plus queue management, cancel/abort/retry, reaping and purging
-- ---------------------------------------------------------------------------------------
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'baton_producer') THEN
    CREATE ROLE baton_producer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'baton_worker') THEN
    CREATE ROLE baton_worker NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'baton_admin') THEN
    CREATE ROLE baton_admin NOLOGIN;
    GRANT baton_producer, baton_worker TO baton_admin;
  END IF;
END
$roles$;

-- ---------------------------------------------------------------------------------------
-- Tables. The claimable set (jobs: waiting, running, blocked) is kept apart from history
-- (jobs_finished), so claims never walk finished rows.
-- A job's history costs no extra row: the current attempt lives in columns (deferred_at,
-- claimed_at, worker, attempts; finished_at, status, error once finished) and `events`, an
-- append-only array, keeps what the columns cannot: every earlier attempt (with its claim
-- time) and the rare events (unblocked, abort_requested, retried). job_history_v1 and the
-- job_events view put both together, in time order. The common path (defer, claim,
-- succeed) writes no event at all.
-- ---------------------------------------------------------------------------------------
CREATE TABLE @extschema@.queues (
  name       text PRIMARY KEY,
  notify     boolean NOT NULL DEFAULT true,
  -- Until when some worker said it is idle and LISTENs (await_work_v1). Defers send a
  -- NOTIFY only before this time: a busy queue never pays NOTIFY's cluster-wide commit lock.
  listening_until timestamptz NOT NULL DEFAULT '-infinity',
  -- Whether succeeded jobs go into jobs_finished (history, result) or are simply deleted.
  -- Dead and cancelled jobs are always kept: they are what an operator inspects and retries.
  keep_succeeded boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  CONSTRAINT queues_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,47}$')
);

CREATE SEQUENCE @extschema@.job_id_seq;

-- Enums rather than CHECK constraints: a CHECK is re-read and re-prepared by every
-- statement that writes the table, an enum costs nothing per statement.
-- waiting: claimable once run_at has come; running: claimed under a lease (lease_token is
-- set exactly then); blocked: has a lock whose head (its one waiting or running job) is not
-- finished yet.
CREATE TYPE @extschema@.job_state AS ENUM ('waiting', 'running', 'blocked');
CREATE TYPE @extschema@.final_state AS ENUM ('succeeded', 'dead', 'cancelled');

CREATE TABLE @extschema@.jobs (
  id               bigint PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.job_id_seq'),
  queue            text NOT NULL,
  task             text NOT NULL,
  args             jsonb NOT NULL,
  priority         integer NOT NULL,
  run_at           timestamptz NOT NULL,
  status           @extschema@.job_state NOT NULL,
  -- Whether the job, when it last became waiting, may have sorted below some backend's
  -- claim floor (see jobs_ready_idx): every statement that makes a job waiting sets it.
  marked           boolean NOT NULL DEFAULT false,
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  retry_backoff    text NOT NULL,
  retry_delay      interval NOT NULL,
  retry_delay_max  interval NOT NULL,
  lock             text,
  queueing_lock    text,
  worker           text,
  lease_token      uuid,
  lease_expires_at timestamptz,
  abort_requested  boolean NOT NULL DEFAULT false,
  keep_succeeded   boolean NOT NULL DEFAULT true,  -- the queue's setting when deferred
  last_error       text,
  deferred_at      timestamptz NOT NULL,
  claimed_at       timestamptz,
  events           jsonb NOT NULL DEFAULT '[]'
);

-- The claim walks these indexes in claim order, (-priority, run_at, id), and stops after
-- max_jobs rows. Claimed jobs leave dead entries at the front until VACUUM, so a claim
-- starts the walk of jobs_ready_idx at its backend's *claim floor* for the queue: no
-- unmarked waiting job sorts below it (CONTRIBUTING.md, "Claim floors"). A job that could
-- sort below some floor is *marked* when written: priority above 0, or run_at before its
-- writer's transaction start (an explicit past run_at, an unblocked job). Marked jobs are
-- few and are walked from the front of their own index.
CREATE INDEX jobs_ready_idx ON @extschema@.jobs (queue, (- priority), run_at, id)
  WHERE status = 'waiting' AND NOT marked;
CREATE INDEX jobs_marked_idx ON @extschema@.jobs (queue, (- priority), run_at, id)
  WHERE status = 'waiting' AND marked;
-- Running jobs, for the reaper (which filters expired leases among them: the running set is
-- bounded by the workers' capacity). Keyed by id rather than by lease expiry: claims of
-- concurrent workers then touch different leaf pages instead of all contending for the
-- rightmost one, and a heartbeat changes no index key (a HOT update).
CREATE INDEX jobs_running_idx ON @extschema@.jobs (id) WHERE status = 'running';
-- Lock bookkeeping touches only jobs that use a lock. Of the jobs sharing a lock only the
-- oldest is waiting or running (the head); the others are blocked, outside the ready
-- index, so claims never step over them. The unique index is the backstop of that rule.
CREATE INDEX jobs_lock_idx ON @extschema@.jobs (lock, id) WHERE lock IS NOT NULL;
CREATE UNIQUE INDEX jobs_lock_head_key ON @extschema@.jobs (lock)
  WHERE status IN ('waiting', 'running') AND lock IS NOT NULL;
-- At most one job per queueing lock waits for its first attempt; retries do not count.
CREATE UNIQUE INDEX jobs_queueing_lock_key ON @extschema@.jobs (queueing_lock)
  WHERE status IN ('waiting', 'blocked') AND attempts = 0 AND queueing_lock IS NOT NULL;

CREATE TABLE @extschema@.jobs_finished (
  id              bigint PRIMARY KEY,
  queue           text NOT NULL,
  task            text NOT NULL,
  args            jsonb NOT NULL,
  priority        integer NOT NULL,
  status          @extschema@.final_state NOT NULL,
  attempts        integer NOT NULL,
  max_attempts    integer NOT NULL,
  retry_backoff   text NOT NULL,
  retry_delay     interval NOT NULL,
  retry_delay_max interval NOT NULL,
  lock            text,
  queueing_lock   text,
  worker          text,
  result          jsonb,
  error           text,
  deferred_at     timestamptz NOT NULL,
  claimed_at      timestamptz,
  finished_at     timestamptz NOT NULL,
  events          jsonb NOT NULL
);
-- History is appended in finish order, so a BRIN index serves purging by age for little.
CREATE INDEX jobs_finished_finished_at_idx ON @extschema@.jobs_finished USING brin (finished_at);

-- pg_dump keeps the user data of an extension only when it is registered.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.queues', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.jobs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.jobs_finished', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.job_id_seq', '');

-- ---------------------------------------------------------------------------------------
-- The hot path, in C++ (baton.so). defer_v1, fetch_v1 and finish_v1 write the tables
-- directly in their common cases (extension/src/pg/jobs_layout.h); every statement they
-- and the others run is a kept SPI plan, pinned to its index however the statistics look
-- (an emptied table must not teach a kept plan to scan sequentially). The C functions fix
-- their search path and those planner settings in C, around their statements (see
-- spi_begin() in extension/src/pg/spi.cpp): a SET clause costs a GUC change on every call,
-- also of the calls that run no statement. The others keep SET clauses for the settings.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.retry_delay(retry_backoff text, retry_delay interval,
                                        retry_delay_max interval, attempts integer)
  RETURNS interval
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'baton_retry_delay';

CREATE FUNCTION @extschema@.defer_v1(
    queue           text,
    task            text,
    args            jsonb DEFAULT '{}',
    priority        integer DEFAULT 0,
    run_at          timestamptz DEFAULT NULL,
    delay           interval DEFAULT NULL,
    max_attempts    integer DEFAULT 5,
    retry_backoff   text DEFAULT 'exponential',
    retry_delay     interval DEFAULT '1 second',
    retry_delay_max interval DEFAULT '1 hour',
    lock            text DEFAULT NULL,
    queueing_lock   text DEFAULT NULL)
  RETURNS bigint
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'baton_defer_v1';

CREATE FUNCTION @extschema@.defer_many_v1(
    queue           text,
    task            text,
    args            jsonb[],
    priority        integer DEFAULT 0,
    run_at          timestamptz DEFAULT NULL,
    delay           interval DEFAULT NULL,
    max_attempts    integer DEFAULT 5,
    retry_backoff   text DEFAULT 'exponential',
    retry_delay     interval DEFAULT '1 second',
    retry_delay_max interval DEFAULT '1 hour',
    locks           text[] DEFAULT NULL,
    queueing_locks  text[] DEFAULT NULL)
  RETURNS SETOF bigint
  LANGUAGE c VOLATILE ROWS 100
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  AS 'MODULE_PATHNAME', 'baton_defer_many_v1';

CREATE FUNCTION @extschema@.fetch_v1(
    queues   text[],
    worker   text,
    max_jobs integer DEFAULT 1,
    lease    interval DEFAULT '5 minutes')
  RETURNS TABLE (id bigint, queue text, task text, args jsonb, attempt integer,
                 max_attempts integer, priority integer, lease_token uuid,
                 lease_expires_at timestamptz)
  LANGUAGE c VOLATILE ROWS 10
  AS 'MODULE_PATHNAME', 'baton_fetch_v1';

CREATE FUNCTION @extschema@.finish_v1(
    job_id      bigint,
    lease_token uuid,
    status      text,
    result      jsonb DEFAULT NULL,
    error       text DEFAULT NULL,
    retryable   boolean DEFAULT true)
  RETURNS text
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'baton_finish_v1';

CREATE FUNCTION @extschema@.finish_many_v1(
    job_ids      bigint[],
    lease_tokens uuid[],
    statuses     text[],
    results      jsonb[] DEFAULT NULL,
    errors       text[] DEFAULT NULL,
    retryable    boolean[] DEFAULT NULL)
  RETURNS TABLE (job_id bigint, status text)
  LANGUAGE c VOLATILE ROWS 100
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  SET enable_hashjoin = off
  SET enable_mergejoin = off
  SET enable_material = off
  AS 'MODULE_PATHNAME', 'baton_finish_many_v1';

CREATE FUNCTION @extschema@.heartbeat_v1(
    job_id      bigint,
    lease_token uuid,
    lease       interval DEFAULT '5 minutes')
  RETURNS TABLE (lease_expires_at timestamptz, abort_requested boolean)
  LANGUAGE c VOLATILE
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  AS 'MODULE_PATHNAME', 'baton_heartbeat_v1';

-- Serialises, until commit, every change to the jobs sharing these locks (advisory
-- transaction locks on a baton-specific key), so one job per lock is the head. Internal.
CREATE FUNCTION @extschema@._lock_keys(locks text[])
  RETURNS void
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'baton_lock_keys';

-- Takes the advisory lock of one key if it is free; false when another transaction holds
-- it. Lets the reaper leave a busy lock for later instead of waiting. Internal.
CREATE FUNCTION @extschema@._try_lock_key(lock text)
  RETURNS boolean
  LANGUAGE c VOLATILE STRICT
  AS 'MODULE_PATHNAME', 'baton_try_lock_key';

-- Makes the oldest blocked job of each lock its head when the lock has none. Internal.
CREATE FUNCTION @extschema@._unblock(locks text[])
  RETURNS integer
  LANGUAGE c VOLATILE STRICT
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  AS 'MODULE_PATHNAME', 'baton_unblock';

-- Whether this session's hot functions write baton.jobs directly (true) or through SQL
-- statements (false: the tables differ from what the library knows, for example a user's
-- trigger, or baton.direct_access is off). Both give the same results. Internal.
CREATE FUNCTION @extschema@._direct_path_active()
  RETURNS boolean
  LANGUAGE c VOLATILE
  AS 'MODULE_PATHNAME', 'baton_direct_path_active';

CREATE FUNCTION @extschema@.reap_v1(max_jobs integer DEFAULT 1000)
  RETURNS integer
  LANGUAGE c VOLATILE
  SET enable_seqscan = off
  SET enable_bitmapscan = off
  AS 'MODULE_PATHNAME', 'baton_reap_v1';

-- ---------------------------------------------------------------------------------------
-- Administration, in SQL: not on the hot path.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.create_queue_v1(queue text, notify boolean DEFAULT true,
                                           keep_succeeded boolean DEFAULT true)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  created boolean;
BEGIN
  IF queue IS NULL OR notify IS NULL OR keep_succeeded IS NULL THEN
    RAISE EXCEPTION 'queue, notify and keep_succeeded must not be null' USING ERRCODE = '22004';
  END IF;
  IF queue !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,47}$' THEN
    RAISE EXCEPTION 'queue name "%" is invalid', queue USING ERRCODE = '22023',
      HINT = 'Queue names have 1 to 48 characters: letters, digits and _ - . :, starting with a letter or digit.';
  END IF;
  INSERT INTO @extschema@.queues AS q (name, notify, keep_succeeded)
    VALUES (queue, create_queue_v1.notify, create_queue_v1.keep_succeeded)
    ON CONFLICT (name) DO UPDATE
      SET notify = EXCLUDED.notify, keep_succeeded = EXCLUDED.keep_succeeded
    RETURNING (xmax = 0) INTO created;
  RETURN created;
END
$fn$;
COMMENT ON FUNCTION @extschema@.create_queue_v1(text, boolean, boolean) IS
  'Creates a queue, or updates its settings (notify, keep_succeeded); true when the queue is new.';

CREATE FUNCTION @extschema@.await_work_v1(queues text[], wait interval DEFAULT '30 seconds')
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  IF queues IS NULL OR wait IS NULL THEN
    RAISE EXCEPTION 'queues and wait must not be null' USING ERRCODE = '22004';
  END IF;
  IF wait < interval '0' OR wait > interval '1 day' THEN
    RAISE EXCEPTION 'wait must be between 0 and 1 day' USING ERRCODE = '22023';
  END IF;
  UPDATE @extschema@.queues q
     SET listening_until = greatest(q.listening_until, clock_timestamp() + wait)
   WHERE q.name = ANY (queues);
END
$fn$;
COMMENT ON FUNCTION @extschema@.await_work_v1(text[], interval) IS
  'An idle worker announces it LISTENs on these queues for up to `wait`; defers NOTIFY only then.';

CREATE FUNCTION @extschema@.drop_queue_v1(queue text, force boolean DEFAULT false)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  active bigint;
  removed bigint;
  locks text[];
BEGIN
  IF queue IS NULL OR force IS NULL THEN
    RAISE EXCEPTION 'queue and force must not be null' USING ERRCODE = '22004';
  END IF;
  -- Waits for in-flight defers and blocks new ones until commit, so no job lands in a
  -- queue that is being dropped.
  LOCK TABLE @extschema@.jobs IN SHARE ROW EXCLUSIVE MODE;
  PERFORM 1 FROM @extschema@.queues q WHERE q.name = queue;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = '42704';
  END IF;
  SELECT count(*), array_agg(DISTINCT j.lock) FILTER (WHERE j.lock IS NOT NULL)
    INTO active, locks FROM @extschema@.jobs j WHERE j.queue = drop_queue_v1.queue;
  IF active > 0 AND NOT force THEN
    RAISE EXCEPTION 'queue "%" still has % waiting or running jobs', queue, active
      USING ERRCODE = '55000', HINT = 'Pass force => true to delete them with the queue.';
  END IF;
  IF locks IS NOT NULL THEN
    PERFORM @extschema@._lock_keys(locks);
  END IF;
  DELETE FROM @extschema@.jobs j WHERE j.queue = drop_queue_v1.queue;
  IF locks IS NOT NULL THEN
    PERFORM @extschema@._unblock(locks);
  END IF;
  DELETE FROM @extschema@.jobs_finished f WHERE f.queue = drop_queue_v1.queue;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM @extschema@.queues q WHERE q.name = queue;
  RETURN active + removed;
END
$fn$;
COMMENT ON FUNCTION @extschema@.drop_queue_v1(text, boolean) IS
  'Drops a queue with its history; refuses while jobs are waiting or running unless force.';

-- Moves one active job into history with a final status. Internal.
CREATE FUNCTION @extschema@._bury(job_id bigint, final_status text, error text)
  RETURNS void
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  WITH gone AS (DELETE FROM @extschema@.jobs j WHERE j.id = _bury.job_id RETURNING j.*)
  INSERT INTO @extschema@.jobs_finished
    (id, queue, task, args, priority, status, attempts, max_attempts, retry_backoff,
     retry_delay, retry_delay_max, lock, queueing_lock, worker, result, error, deferred_at,
     claimed_at, finished_at, events)
  SELECT id, queue, task, args, priority, final_status::@extschema@.final_state, attempts,
         max_attempts, retry_backoff,
         retry_delay, retry_delay_max, lock, queueing_lock, worker, NULL, _bury.error,
         deferred_at, claimed_at, clock_timestamp(), events
  FROM gone;
$fn$;

CREATE FUNCTION @extschema@._job_event(kind text, detail jsonb DEFAULT '{}')
  RETURNS jsonb
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$ SELECT jsonb_build_object('at', clock_timestamp(), 'kind', kind) || detail $fn$;

CREATE FUNCTION @extschema@.cancel_v1(job_id bigint, reason text DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  current_status text;
  job_lock text;
BEGIN
  IF job_id IS NULL THEN
    RAISE EXCEPTION 'job_id must not be null' USING ERRCODE = '22004';
  END IF;
  -- The lock key first, then the row: the order every lock change follows (a job's lock
  -- never changes, so reading it unlocked is safe).
  SELECT j.lock INTO job_lock FROM @extschema@.jobs j WHERE j.id = job_id;
  IF job_lock IS NOT NULL THEN
    PERFORM @extschema@._lock_keys(ARRAY[job_lock]);
  END IF;
  SELECT j.status, j.lock INTO current_status, job_lock
    FROM @extschema@.jobs j WHERE j.id = job_id FOR UPDATE;
  IF NOT FOUND THEN
    SELECT f.status INTO current_status FROM @extschema@.jobs_finished f WHERE f.id = job_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'P0002';
    END IF;
    RAISE EXCEPTION 'job % is already %', job_id, current_status USING ERRCODE = '55000';
  END IF;
  IF current_status = 'running' THEN
    RAISE EXCEPTION 'job % is running', job_id USING ERRCODE = '55000',
      HINT = 'Use baton.request_abort_v1 to ask its worker to stop.';
  END IF;
  PERFORM @extschema@._bury(job_id, 'cancelled', reason);
  IF job_lock IS NOT NULL THEN
    PERFORM @extschema@._unblock(ARRAY[job_lock]);
  END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.cancel_v1(bigint, text) IS
  'Cancels a waiting job: it moves to history as cancelled and never runs.';

CREATE FUNCTION @extschema@.request_abort_v1(job_id bigint)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  current_status text;
BEGIN
  IF job_id IS NULL THEN
    RAISE EXCEPTION 'job_id must not be null' USING ERRCODE = '22004';
  END IF;
  SELECT j.status INTO current_status FROM @extschema@.jobs j WHERE j.id = job_id FOR UPDATE;
  IF NOT FOUND THEN
    SELECT f.status INTO current_status FROM @extschema@.jobs_finished f WHERE f.id = job_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'P0002';
    END IF;
    RAISE EXCEPTION 'job % is already %', job_id, current_status USING ERRCODE = '55000';
  END IF;
  IF current_status <> 'running' THEN
    RAISE EXCEPTION 'job % is not running', job_id USING ERRCODE = '55000',
      HINT = 'Use baton.cancel_v1 for a waiting job.';
  END IF;
  UPDATE @extschema@.jobs j
     SET abort_requested = true,
         events = j.events || jsonb_build_array(@extschema@._job_event('abort_requested'))
   WHERE j.id = job_id AND NOT j.abort_requested;
END
$fn$;
COMMENT ON FUNCTION @extschema@.request_abort_v1(bigint) IS
  'Asks the worker running a job to stop; the worker learns it from heartbeat_v1.';

CREATE FUNCTION @extschema@.retry_v1(job_id bigint, run_at timestamptz DEFAULT NULL)
  RETURNS void
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  old @extschema@.jobs_finished;
BEGIN
  IF job_id IS NULL THEN
    RAISE EXCEPTION 'job_id must not be null' USING ERRCODE = '22004';
  END IF;
  DELETE FROM @extschema@.jobs_finished f WHERE f.id = job_id AND f.status IN ('dead', 'cancelled')
    RETURNING * INTO old;
  IF NOT FOUND THEN
    IF EXISTS (SELECT 1 FROM @extschema@.jobs j WHERE j.id = job_id)
       OR EXISTS (SELECT 1 FROM @extschema@.jobs_finished f WHERE f.id = job_id) THEN
      RAISE EXCEPTION 'job % is neither dead nor cancelled', job_id USING ERRCODE = '55000';
    END IF;
    RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'P0002';
  END IF;
  -- A fresh set of attempts; the queueing lock is dropped so a retry never collides with
  -- a job queued since. A job with a lock queues behind the lock's current head, if any.
  IF old.lock IS NOT NULL THEN
    PERFORM @extschema@._lock_keys(ARRAY[old.lock]);
  END IF;
  INSERT INTO @extschema@.jobs
    (id, queue, task, args, priority, run_at, status, attempts, max_attempts, retry_backoff,
     retry_delay, retry_delay_max, lock, queueing_lock, last_error, deferred_at, events,
     marked, keep_succeeded)
  VALUES (old.id, old.queue, old.task, old.args, old.priority, coalesce(run_at, clock_timestamp()),
          CASE WHEN old.lock IS NOT NULL AND EXISTS (
                 SELECT 1 FROM @extschema@.jobs h WHERE h.lock = old.lock)
               THEN 'blocked'::@extschema@.job_state ELSE 'waiting' END,
          0, old.max_attempts, old.retry_backoff, old.retry_delay, old.retry_delay_max, old.lock,
          NULL, old.error, old.deferred_at,
          -- The ended attempt leaves the columns, so it is kept as events first.
          old.events || jsonb_build_array(
            jsonb_strip_nulls(jsonb_build_object('at', old.finished_at, 'kind', old.status,
              'attempt', old.attempts, 'worker', old.worker, 'claimed_at', old.claimed_at,
              'error', old.error)),
            @extschema@._job_event('retried', jsonb_build_object('previous_status', old.status))),
          -- Claims may have passed its key (see jobs_ready_idx).
          old.priority > 0 OR coalesce(run_at < clock_timestamp(), false),
          coalesce((SELECT q.keep_succeeded FROM @extschema@.queues q WHERE q.name = old.queue),
                   true));
  -- Wake an idle worker only for a job it can claim now, as defer does.
  IF (SELECT q.notify AND q.listening_until > clock_timestamp()
        FROM @extschema@.queues q WHERE q.name = old.queue)
     AND EXISTS (SELECT 1 FROM @extschema@.jobs j
                  WHERE j.id = old.id AND j.status = 'waiting' AND j.run_at <= clock_timestamp()) THEN
    PERFORM pg_notify('baton_' || old.queue, '');
  END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.retry_v1(bigint, timestamptz) IS
  'Puts a dead or cancelled job back to waiting with a fresh set of attempts.';

CREATE FUNCTION @extschema@.purge_finished_v1(older_than interval, max_jobs integer DEFAULT 10000)
  RETURNS bigint
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  removed bigint;
BEGIN
  IF older_than IS NULL OR max_jobs IS NULL THEN
    RAISE EXCEPTION 'older_than and max_jobs must not be null' USING ERRCODE = '22004';
  END IF;
  IF older_than < interval '0' OR max_jobs < 1 OR max_jobs > 1000000 THEN
    RAISE EXCEPTION 'older_than must not be negative and max_jobs must be between 1 and 1000000'
      USING ERRCODE = '22023';
  END IF;
  DELETE FROM @extschema@.jobs_finished f
   WHERE f.id IN (SELECT x.id FROM @extschema@.jobs_finished x
                   WHERE x.finished_at < clock_timestamp() - older_than LIMIT max_jobs);
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END
$fn$;
COMMENT ON FUNCTION @extschema@.purge_finished_v1(interval, integer) IS
  'Deletes up to max_jobs finished jobs older than older_than; call it until it returns 0.';

-- ---------------------------------------------------------------------------------------
-- Inspection.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.queue_stats_v1()
  RETURNS TABLE (queue text, waiting bigint, scheduled bigint, blocked bigint, running bigint,
                 succeeded bigint, dead bigint, cancelled bigint, oldest_waiting_age interval)
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  SELECT q.name,
         coalesce(a.waiting, 0), coalesce(a.scheduled, 0), coalesce(a.blocked, 0),
         coalesce(a.running, 0),
         coalesce(f.succeeded, 0), coalesce(f.dead, 0), coalesce(f.cancelled, 0),
         a.oldest_waiting_age
  FROM @extschema@.queues q
  LEFT JOIN (
    SELECT j.queue,
           count(*) FILTER (WHERE j.status = 'waiting' AND j.run_at <= c.now) AS waiting,
           count(*) FILTER (WHERE j.status = 'waiting' AND j.run_at > c.now) AS scheduled,
           count(*) FILTER (WHERE j.status = 'blocked') AS blocked,
           count(*) FILTER (WHERE j.status = 'running') AS running,
           c.now - min(j.run_at) FILTER (WHERE j.status = 'waiting' AND j.run_at <= c.now)
             AS oldest_waiting_age
    -- One reading of the clock, which defer_v1 also uses for run_at.
    FROM @extschema@.jobs j, (SELECT clock_timestamp() AS now) AS c
    GROUP BY j.queue, c.now) a
    ON a.queue = q.name
  LEFT JOIN (
    SELECT x.queue,
           count(*) FILTER (WHERE x.status = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE x.status = 'dead') AS dead,
           count(*) FILTER (WHERE x.status = 'cancelled') AS cancelled
    FROM @extschema@.jobs_finished x GROUP BY x.queue) f ON f.queue = q.name
  ORDER BY q.name;
$fn$;
COMMENT ON FUNCTION @extschema@.queue_stats_v1() IS
  'Per queue: jobs by status (waiting = due now, scheduled = due later, blocked = behind a '
  'lock) and how long the oldest due job has been waiting.';

CREATE VIEW @extschema@.queue_stats AS SELECT * FROM @extschema@.queue_stats_v1();

-- Every job, active or finished, with the same columns.
CREATE VIEW @extschema@.all_jobs AS
  SELECT j.id, j.queue, j.task, j.args, j.priority, j.status::text AS status, j.attempts,
         j.max_attempts,
         j.run_at, j.lock, j.queueing_lock, j.worker, j.lease_expires_at, j.abort_requested,
         NULL::jsonb AS result, j.last_error AS error, j.deferred_at, j.claimed_at,
         NULL::timestamptz AS finished_at, j.events
  FROM @extschema@.jobs j
  UNION ALL
  SELECT f.id, f.queue, f.task, f.args, f.priority, f.status::text, f.attempts, f.max_attempts,
         NULL, f.lock, f.queueing_lock, f.worker, NULL, false,
         f.result, f.error, f.deferred_at, f.claimed_at, f.finished_at, f.events
  FROM @extschema@.jobs_finished f;

-- A job's full history from its columns and its events array (see the tables above):
-- deferred; each stored event, preceded by the claim it ended when it carries claimed_at;
-- the current claim; the final status. In time order.
CREATE FUNCTION @extschema@._history(deferred_at timestamptz, events jsonb,
                                     claimed_at timestamptz, worker text, attempts integer,
                                     status text, finished_at timestamptz, error text)
  RETURNS TABLE (seq bigint, at timestamptz, kind text, detail jsonb)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  SELECT row_number() OVER (ORDER BY h.at, h.ord), h.at, h.kind, h.detail
  FROM (
    SELECT _history.deferred_at AS at, 'deferred' AS kind, '{}'::jsonb AS detail, 0::bigint AS ord
    UNION ALL
    SELECT (e.event ->> 'claimed_at')::timestamptz, 'claimed',
           jsonb_strip_nulls(jsonb_build_object('worker', e.event -> 'worker',
                                                'attempt', e.event -> 'attempt')),
           2 * e.n - 1
      FROM jsonb_array_elements(_history.events) WITH ORDINALITY AS e(event, n)
     WHERE e.event ? 'claimed_at'
    UNION ALL
    SELECT (e.event ->> 'at')::timestamptz, e.event ->> 'kind',
           e.event - 'at' - 'kind' - 'claimed_at' - 'worker', 2 * e.n
      FROM jsonb_array_elements(_history.events) WITH ORDINALITY AS e(event, n)
    UNION ALL
    SELECT _history.claimed_at, 'claimed',
           jsonb_build_object('worker', _history.worker, 'attempt', _history.attempts),
           9223372036854775806
     WHERE _history.claimed_at IS NOT NULL
    UNION ALL
    SELECT _history.finished_at, _history.status,
           jsonb_strip_nulls(jsonb_build_object('attempt', _history.attempts,
                                                'error', _history.error)),
           9223372036854775807
     WHERE _history.finished_at IS NOT NULL) AS h;
$fn$;

CREATE VIEW @extschema@.job_events AS
  SELECT a.id AS job_id, h.seq, h.at, h.kind, h.detail
  FROM @extschema@.all_jobs a
  CROSS JOIN LATERAL @extschema@._history(a.deferred_at, a.events, a.claimed_at, a.worker,
    a.attempts, a.status, a.finished_at, a.error) AS h;

CREATE FUNCTION @extschema@.job_history_v1(job_id bigint)
  RETURNS TABLE (seq bigint, at timestamptz, kind text, detail jsonb)
  LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
BEGIN
  RETURN QUERY
    SELECT h.seq, h.at, h.kind, h.detail
    FROM @extschema@.all_jobs a
    CROSS JOIN LATERAL @extschema@._history(a.deferred_at, a.events, a.claimed_at, a.worker,
      a.attempts, a.status, a.finished_at, a.error) AS h
    WHERE a.id = job_id
    ORDER BY h.seq;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'P0002';
  END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.job_history_v1(bigint) IS
  'The append-only event history of one job, in order.';

-- ---------------------------------------------------------------------------------------
-- Privileges. Functions run with the caller's rights (no SECURITY DEFINER), so each role
-- gets exactly the table rights its functions need, and EXECUTE on those functions only.
-- ---------------------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO baton_producer, baton_worker, baton_admin;

GRANT SELECT ON @extschema@.queues TO baton_producer, baton_worker;
-- Workers may defer too: handlers often enqueue follow-up jobs.
GRANT SELECT, INSERT ON @extschema@.jobs TO baton_producer, baton_worker;
GRANT USAGE ON SEQUENCE @extschema@.job_id_seq TO baton_producer, baton_worker;
GRANT SELECT ON @extschema@.jobs_finished TO baton_producer;
GRANT EXECUTE ON FUNCTION
  @extschema@.defer_v1(text, text, jsonb, integer, timestamptz, interval, integer, text, interval, interval, text, text),
  @extschema@.defer_many_v1(text, text, jsonb[], integer, timestamptz, interval, integer, text, interval, interval, text[], text[]),
  @extschema@.queue_stats_v1(),
  @extschema@.job_history_v1(bigint),
  @extschema@._history(timestamptz, jsonb, timestamptz, text, integer, text, timestamptz, text)
  TO baton_producer, baton_worker;
GRANT SELECT ON @extschema@.queue_stats, @extschema@.all_jobs, @extschema@.job_events
  TO baton_producer, baton_worker;

GRANT SELECT, UPDATE, DELETE ON @extschema@.jobs TO baton_worker;
GRANT SELECT, INSERT ON @extschema@.jobs_finished TO baton_worker;
GRANT EXECUTE ON FUNCTION
  @extschema@.fetch_v1(text[], text, integer, interval),
  @extschema@.finish_v1(bigint, uuid, text, jsonb, text, boolean),
  @extschema@.finish_many_v1(bigint[], uuid[], text[], jsonb[], text[], boolean[]),
  @extschema@.heartbeat_v1(bigint, uuid, interval),
  @extschema@.reap_v1(integer),
  @extschema@.await_work_v1(text[], interval),
  @extschema@.retry_delay(text, interval, interval, integer),
  @extschema@._try_lock_key(text)
  TO baton_worker;
GRANT UPDATE (listening_until) ON @extschema@.queues TO baton_worker;

GRANT ALL ON ALL TABLES IN SCHEMA @extschema@ TO baton_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA @extschema@ TO baton_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA @extschema@ TO baton_admin;
