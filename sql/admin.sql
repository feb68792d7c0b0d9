-- Operator calls: cancel, abort requests, retrying dead jobs, reaping, purging, dropping a
-- queue, statistics and history.
SELECT baton.create_queue_v1('ops');
SELECT baton.defer_v1('ops', 'running-one') AS running_id \gset
SELECT baton.defer_v1('ops', 'waiting-one') AS waiting_id \gset
CREATE TABLE ops_held AS SELECT id, lease_token FROM baton.fetch_v1(ARRAY['ops'], 'w', 1);
SELECT task FROM baton.jobs WHERE id = (SELECT id FROM ops_held);

-- cancel: waiting jobs only.
SELECT baton.cancel_v1(:waiting_id, reason => 'not needed');
SELECT status, (SELECT h.kind FROM baton.job_history_v1(id) h ORDER BY h.seq DESC LIMIT 1) AS kind, error AS reason
  FROM baton.jobs_finished WHERE id = :waiting_id;
SELECT try(format('SELECT baton.cancel_v1(%s)', :waiting_id));
SELECT try(format('SELECT baton.cancel_v1(%s)', :running_id));
SELECT try('SELECT baton.cancel_v1(424242)');

-- request_abort: running jobs only; the worker learns it on its next heartbeat.
SELECT try(format('SELECT baton.request_abort_v1(%s)', :waiting_id));
SELECT baton.request_abort_v1(:running_id);
SELECT baton.request_abort_v1(:running_id);
SELECT abort_requested FROM ops_held, baton.heartbeat_v1(ops_held.id, ops_held.lease_token);
SELECT baton.finish_v1(id, lease_token, 'cancelled', error => 'aborted on request') FROM ops_held;
SELECT (SELECT string_agg(h.kind, ',' ORDER BY h.seq) FROM baton.job_history_v1(id) h) AS kinds
  FROM baton.jobs_finished WHERE id = :running_id;

-- retry: a dead or cancelled job goes back to waiting with a fresh set of attempts.
SELECT baton.retry_v1(:running_id);
SELECT status, attempts, (SELECT h.kind FROM baton.job_history_v1(id) h ORDER BY h.seq DESC LIMIT 1) AS kind,
       (SELECT h.detail ->> 'previous_status' FROM baton.job_history_v1(id) h WHERE h.kind = 'retried') AS previous FROM baton.jobs WHERE id = :running_id;
SELECT try(format('SELECT baton.retry_v1(%s)', :running_id));
SELECT try('SELECT baton.retry_v1(424242)');

-- reap: expired leases return to waiting (attempt counted), or end dead when attempts are
-- used up, or cancelled when an abort was requested.
SELECT baton.defer_v1('ops', 'reap-me', max_attempts => 2, retry_delay => '0') AS again_id \gset
SELECT baton.defer_v1('ops', 'reap-dead', max_attempts => 1) AS dead_id \gset
SELECT baton.defer_v1('ops', 'reap-abort', max_attempts => 5) AS abort_id \gset
SELECT count(*) FROM baton.fetch_v1(ARRAY['ops'], 'crashy', 10, lease => '1 second');
SELECT baton.request_abort_v1(:abort_id);
SELECT baton.reap_v1() AS reaped_too_early;
SELECT pg_sleep(1.2);
SELECT baton.reap_v1() AS reaped;
SELECT id = :again_id AS again, status, attempts, last_error, worker, lease_token
  FROM baton.jobs WHERE id IN (:again_id, :running_id) ORDER BY id;
SELECT id = :dead_id AS dead, status, attempts, error, (SELECT h.kind FROM baton.job_history_v1(id) h ORDER BY h.seq DESC LIMIT 1) AS kind
  FROM baton.jobs_finished WHERE id IN (:dead_id, :abort_id) ORDER BY id;
SELECT try('SELECT baton.reap_v1(0)');

-- history of one job, in order.
SELECT seq, kind, detail - 'retry_at' AS detail FROM baton.job_history_v1(:again_id);
SELECT try('SELECT * FROM baton.job_history_v1(424242)');
SELECT count(*) AS events_in_view FROM baton.job_events WHERE job_id = :again_id;

-- statistics per queue.
SELECT queue, waiting, scheduled, blocked, running, succeeded, dead, cancelled FROM baton.queue_stats_v1();

-- purge: old finished jobs only, in bounded batches.
SELECT baton.purge_finished_v1('1 day') AS purged_nothing;
SELECT baton.purge_finished_v1('0 seconds', max_jobs => 2) AS purged_two;
SELECT count(*) > 0 AS more_left FROM baton.jobs_finished;
SELECT try($$SELECT baton.purge_finished_v1('-1 day')$$);

-- drop_queue: refuses while jobs are active, unless forced.
SELECT try($$SELECT baton.drop_queue_v1('ops')$$);
SELECT baton.drop_queue_v1('ops', force => true) > 0 AS dropped;
SELECT count(*) AS left_behind FROM baton.all_jobs WHERE queue = 'ops';
SELECT try($$SELECT baton.drop_queue_v1('ops')$$);
SELECT try($$SELECT baton.defer_v1('ops', 'x')$$);
