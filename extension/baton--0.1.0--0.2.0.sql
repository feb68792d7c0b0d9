-- baton 0.1.0 -> 0.2.0: pausing queues, fetch_v2 (claims by task, more of the job), and
-- the version handshake. Every 0.1.0 procedure stays, with its signature and meaning.
-- RELEASED SCRIPTS ARE FROZEN: once a version ships, its script is never edited again
-- (test/released_scripts.sha256 checks it). Changes go into a new upgrade script.
--
-- Runs while workers work: nothing here rewrites a table or holds a lock for longer than
-- the script's own short transaction. `ALTER TABLE queues` takes that small table's
-- ACCESS EXCLUSIVE lock until commit, so defers and claims wait for the few milliseconds
-- the script takes (see README "Upgrades" for lock_timeout).
\echo Use "ALTER EXTENSION baton UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------------------
-- Queues: paused, and when their settings last changed. Existing queues are migrated:
-- they run (paused = false) and were last changed when they were created.
-- ---------------------------------------------------------------------------------------
ALTER TABLE @extschema@.queues
  ADD COLUMN paused boolean NOT NULL DEFAULT false,
  ADD COLUMN updated_at timestamptz;
UPDATE @extschema@.queues SET updated_at = created_at;
ALTER TABLE @extschema@.queues
  ALTER COLUMN updated_at SET DEFAULT pg_catalog.now(),
  ALTER COLUMN updated_at SET NOT NULL;

-- Same signature and meaning as in 0.1.0; it now also stamps updated_at.
CREATE OR REPLACE FUNCTION @extschema@.create_queue_v1(queue text, notify boolean DEFAULT true,
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
      SET notify = EXCLUDED.notify, keep_succeeded = EXCLUDED.keep_succeeded,
          updated_at = pg_catalog.now()
    RETURNING (xmax = 0) INTO created;
  RETURN created;
END
$fn$;

-- Sets a queue's paused flag; true when it changed. Shared by pause and resume. Internal.
CREATE FUNCTION @extschema@._set_paused(queue text, paused boolean)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  changed integer;
BEGIN
  IF queue IS NULL THEN
    RAISE EXCEPTION 'queue must not be null' USING ERRCODE = '22004';
  END IF;
  UPDATE @extschema@.queues q SET paused = _set_paused.paused, updated_at = now()
   WHERE q.name = queue AND q.paused <> _set_paused.paused;
  GET DIAGNOSTICS changed = ROW_COUNT;
  IF changed = 0 AND NOT EXISTS (SELECT 1 FROM @extschema@.queues q WHERE q.name = queue) THEN
    RAISE EXCEPTION 'queue "%" does not exist', queue USING ERRCODE = '42704',
      HINT = 'Create it with baton.create_queue_v1().';
  END IF;
  RETURN changed > 0;
END
$fn$;

CREATE FUNCTION @extschema@.pause_queue_v1(queue text)
  RETURNS boolean
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$ SELECT @extschema@._set_paused(queue, true) $fn$;
COMMENT ON FUNCTION @extschema@.pause_queue_v1(text) IS
  'Stops claims from a queue (defers still queue up); true when it was running.';

CREATE FUNCTION @extschema@.resume_queue_v1(queue text)
  RETURNS boolean
  LANGUAGE sql VOLATILE
  SET search_path = pg_catalog, pg_temp
  AS $fn$ SELECT @extschema@._set_paused(queue, false) $fn$;
COMMENT ON FUNCTION @extschema@.resume_queue_v1(text) IS
  'Lets workers claim from a paused queue again; true when it was paused.';

-- ---------------------------------------------------------------------------------------
-- fetch_v2: fetch_v1 plus a task filter (a worker claims only what it has handlers for,
-- so new task types can roll out worker by worker) and three more columns of the job.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@.fetch_v2(
    queues   text[],
    worker   text,
    max_jobs integer DEFAULT 1,
    lease    interval DEFAULT '5 minutes',
    tasks    text[] DEFAULT NULL)
  RETURNS TABLE (id bigint, queue text, task text, args jsonb, attempt integer,
                 max_attempts integer, priority integer, lease_token uuid,
                 lease_expires_at timestamptz, lock text, deferred_at timestamptz,
                 last_error text)
  LANGUAGE c VOLATILE ROWS 10
  AS 'MODULE_PATHNAME', 'baton_fetch_v2';

-- ---------------------------------------------------------------------------------------
-- The version handshake: what this database runs and what the installed package and
-- library provide. Clients call it on connect; deploy pipelines read upgrade_pending.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION @extschema@._library_version()
  RETURNS text
  LANGUAGE c STABLE STRICT PARALLEL SAFE
  AS 'MODULE_PATHNAME', 'baton_library_version';

CREATE FUNCTION @extschema@.version_v1()
  RETURNS TABLE (extension_version text, library_version text, package_version text,
                 api text[], upgrade_pending boolean)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
  AS $fn$
  SELECT e.extversion, @extschema@._library_version(), a.default_version,
         ARRAY(SELECT DISTINCT p.proname::text FROM pg_proc p
                WHERE p.pronamespace = e.extnamespace AND p.proname ~ '^[a-z][a-z_]*_v[0-9]+$'
                ORDER BY 1),
         e.extversion IS DISTINCT FROM a.default_version
    FROM pg_extension e
    LEFT JOIN pg_available_extensions a ON a.name = e.extname
   WHERE e.extname = 'baton';
$fn$;
COMMENT ON FUNCTION @extschema@.version_v1() IS
  'The installed extension version, the loaded library''s, the installed package''s, the '
  'versioned procedures this database serves, and whether ALTER EXTENSION baton UPDATE is due.';

-- ---------------------------------------------------------------------------------------
-- Privileges of the new functions (the 0.1.0 grants were for the functions then).
-- ---------------------------------------------------------------------------------------
REVOKE ALL ON FUNCTION @extschema@._set_paused(text, boolean), @extschema@.pause_queue_v1(text),
  @extschema@.resume_queue_v1(text), @extschema@.fetch_v2(text[], text, integer, interval, text[]),
  @extschema@._library_version(), @extschema@.version_v1() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.version_v1(), @extschema@._library_version()
  TO baton_producer, baton_worker;
GRANT EXECUTE ON FUNCTION @extschema@.fetch_v2(text[], text, integer, interval, text[])
  TO baton_worker;
GRANT EXECUTE ON FUNCTION @extschema@._set_paused(text, boolean), @extschema@.pause_queue_v1(text),
  @extschema@.resume_queue_v1(text), @extschema@.fetch_v2(text[], text, integer, interval, text[]),
  @extschema@._library_version(), @extschema@.version_v1()
  TO baton_admin;
