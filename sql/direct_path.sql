-- The direct path (extension/src/pg/jobs_layout.h): defer_v1, fetch_v1 and finish_v1 write
-- baton.jobs through the heap and index access methods. They must leave exactly what their
-- SQL statements leave, check the same rights, and give way to the statements whenever the
-- tables are not as the library knows them. (invariants.sql checks every index against
-- its table with amcheck at the end of the suite.)
SELECT baton._direct_path_active() AS active_by_default;
SET baton.direct_access = off;
SELECT baton._direct_path_active() AS active_when_off;
RESET baton.direct_access;

-- The same calls on both paths leave the same jobs: one queue per path, compared below.
CREATE FUNCTION public.direct_scenario(q text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  j record;
BEGIN
  PERFORM baton.create_queue_v1(q, keep_succeeded => q NOT LIKE '%drop%');
  PERFORM baton.defer_v1(q, 'a', '{"n": 1}');
  PERFORM baton.defer_v1(q, 'b', '{"n": 2}', priority => 5);
  PERFORM baton.defer_v1(q, 'c', '{"n": 3}', run_at => now() - interval '1 hour');
  PERFORM baton.defer_v1(q, 'd', '{"n": 4}', delay => '1 hour');
  PERFORM baton.defer_v1(q, 'e', '{"n": 5}', max_attempts => 1, retry_backoff => 'constant',
                         retry_delay => '5 seconds', retry_delay_max => '10 seconds');
  PERFORM baton.defer_v1(q, 'f', '{"n": 6}', priority => -3);
  -- claims in claim order: b (priority 5), then c (past run_at), a, e, f; d is not due
  FOR j IN SELECT * FROM baton.fetch_v1(ARRAY[q], 'w', 2) LOOP
    PERFORM baton.finish_v1(j.id, j.lease_token, 'succeeded', result => jsonb_build_object('t', j.task));
  END LOOP;
  FOR j IN SELECT * FROM baton.fetch_v1(ARRAY[q], 'w', 1) LOOP
    PERFORM baton.finish_v1(j.id, j.lease_token, 'cancelled', error => 'no longer needed');
  END LOOP;
  FOR j IN SELECT * FROM baton.fetch_v1(ARRAY[q], 'w', 1) LOOP
    PERFORM baton.finish_v1(j.id, j.lease_token, 'failed', error => repeat('x', 20000));
  END LOOP;
  FOR j IN SELECT * FROM baton.fetch_v1(ARRAY[q], 'w', 1) LOOP
    PERFORM baton.finish_v1(j.id, j.lease_token, 'failed', error => 'retry me');
  END LOOP;
END
$$;
SELECT direct_scenario('direct_on');
SELECT direct_scenario('direct_on_drop');
SET baton.direct_access = off;
SELECT direct_scenario('direct_off');
SELECT direct_scenario('direct_off_drop');
RESET baton.direct_access;

-- What each job ended as, per path (no ids, times or tokens).
CREATE TEMP VIEW direct_outcome AS
  SELECT replace(queue, 'direct_off', 'direct_on') AS queue, task, status, attempts, priority,
         worker, result, left(error, 30) AS error, length(error) AS error_length,
         jsonb_array_length(events) AS events, lease_expires_at IS NOT NULL AS leased,
         queue LIKE 'direct_off%' AS off
    FROM baton.all_jobs WHERE queue LIKE 'direct_o%';
SELECT queue, task, status, attempts, priority, worker, result, error, error_length, events, leased
  FROM direct_outcome WHERE NOT off ORDER BY queue, task;
-- expect no rows: the two paths differ nowhere
(SELECT queue, task, status, attempts, priority, worker, result, error, error_length, events, leased
   FROM direct_outcome WHERE off
 EXCEPT ALL
 SELECT queue, task, status, attempts, priority, worker, result, error, error_length, events, leased
   FROM direct_outcome WHERE NOT off)
UNION ALL
(SELECT queue, task, status, attempts, priority, worker, result, error, error_length, events, leased
   FROM direct_outcome WHERE NOT off
 EXCEPT ALL
 SELECT queue, task, status, attempts, priority, worker, result, error, error_length, events, leased
   FROM direct_outcome WHERE off);
-- The jobs' histories read the same on both paths.
SELECT replace(q.queue, 'direct_off', 'direct_on') AS queue, count(*) FILTER (WHERE q.queue LIKE 'direct_on%') AS on_events,
       count(*) FILTER (WHERE q.queue LIKE 'direct_off%') AS off_events
  FROM baton.job_events e JOIN baton.all_jobs q ON q.id = e.job_id
 WHERE q.queue LIKE 'direct_o%' GROUP BY 1 ORDER BY 1;

-- The rights the statements would need: EXECUTE on a hot function without the table
-- rights gets 42501, on both paths, and writes nothing.
CREATE ROLE direct_no_rights;
GRANT USAGE ON SCHEMA baton TO direct_no_rights;
GRANT EXECUTE ON FUNCTION baton.defer_v1(text, text, jsonb, integer, timestamptz, interval, integer, text, interval, interval, text, text),
  baton.fetch_v1(text[], text, integer, interval),
  baton.finish_v1(bigint, uuid, text, jsonb, text, boolean) TO direct_no_rights;
GRANT SELECT ON baton.queues TO direct_no_rights;
SELECT baton.create_queue_v1('direct_rights');
SELECT baton.defer_v1('direct_rights', 'held') > 0 AS deferred;
CREATE TEMP TABLE direct_held AS SELECT id, lease_token FROM baton.fetch_v1(ARRAY['direct_rights'], 'w', 1);
GRANT SELECT ON direct_held TO direct_no_rights;
SELECT baton.defer_v1('direct_rights', 'waiting') > 0 AS deferred;
SET ROLE direct_no_rights;
SELECT try($$SELECT baton.defer_v1('direct_rights', 'refused')$$);
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['direct_rights'], 'w', 1)$$);
SELECT try(format('SELECT baton.finish_v1(%s, %L, %L)', id, lease_token, 'succeeded')) FROM direct_held;
SET baton.direct_access = off;
SELECT try($$SELECT baton.defer_v1('direct_rights', 'refused')$$);
SELECT try(format('SELECT baton.finish_v1(%s, %L, %L)', id, lease_token, 'succeeded')) FROM direct_held;
RESET baton.direct_access;
RESET ROLE;
SELECT task, status FROM baton.all_jobs WHERE queue = 'direct_rights' ORDER BY task;

-- A table that differs from the known layout turns the direct path off: a user's trigger
-- (which the direct writes would not fire) runs for every change the functions make.
CREATE TABLE public.direct_seen (op text, task text);
CREATE FUNCTION public.direct_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.direct_seen VALUES (TG_OP, coalesce(NEW.task, OLD.task));
  RETURN coalesce(NEW, OLD);
END
$$;
CREATE TRIGGER direct_audit AFTER INSERT OR UPDATE OR DELETE ON baton.jobs
  FOR EACH ROW EXECUTE FUNCTION public.direct_audit();
SELECT baton._direct_path_active() AS active_with_trigger;
SELECT baton.create_queue_v1('direct_trigger');
SELECT baton.defer_v1('direct_trigger', 'audited') > 0 AS deferred;
SELECT baton.finish_v1(id, lease_token, 'succeeded')
  FROM baton.fetch_v1(ARRAY['direct_trigger'], 'w', 1);
SELECT op, task FROM public.direct_seen ORDER BY op;
DROP TRIGGER direct_audit ON baton.jobs;
SELECT baton._direct_path_active() AS active_again;
-- So does an index a user adds, until it is dropped again.
CREATE INDEX direct_extra_idx ON baton.jobs (task);
SELECT baton._direct_path_active() AS active_with_extra_index;
DROP INDEX baton.direct_extra_idx;
SELECT baton._direct_path_active() AS active_again;

-- A defer and its claim in one transaction, and a claim of a job deferred earlier in the
-- same statement: each step sees the one before.
BEGIN;
SELECT baton.defer_v1('direct_trigger', 'same-transaction') > 0 AS deferred;
SELECT task, attempt FROM baton.fetch_v1(ARRAY['direct_trigger'], 'w', 5);
ROLLBACK;
SELECT count(*) AS left_after_rollback FROM baton.jobs WHERE queue = 'direct_trigger';

DROP TABLE public.direct_seen;
DROP FUNCTION public.direct_audit();
DROP FUNCTION public.direct_scenario(text);
REVOKE ALL ON SCHEMA baton FROM direct_no_rights;
REVOKE ALL ON baton.queues FROM direct_no_rights;
REVOKE ALL ON FUNCTION baton.defer_v1(text, text, jsonb, integer, timestamptz, interval, integer, text, interval, interval, text, text),
  baton.fetch_v1(text[], text, integer, interval),
  baton.finish_v1(bigint, uuid, text, jsonb, text, boolean) FROM direct_no_rights;
DROP TABLE direct_held;
DROP ROLE direct_no_rights;
