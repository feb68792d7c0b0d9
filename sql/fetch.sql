-- Claiming: order, due time, batches, several queues, locks and the lease.
SELECT baton.defer_v1('emails', 'low', priority => -1) AS low_id;
SELECT baton.defer_v1('emails', 'high', priority => 9) AS high_id;

-- Highest priority first, then oldest; the scheduled jobs (2 and 3) are not due.
SELECT id, queue, task, args, attempt, max_attempts, priority, lease_token IS NOT NULL AS has_token,
       lease_expires_at BETWEEN now() + interval '299 seconds' AND now() + interval '301 seconds' AS five_minutes
  FROM baton.fetch_v1(ARRAY['emails'], 'worker-1', max_jobs => 10);
SELECT id, status, worker, attempts, (SELECT h.kind FROM baton.job_history_v1(id) h ORDER BY h.seq DESC LIMIT 1) AS last_event,
       (SELECT h.detail ->> 'worker' FROM baton.job_history_v1(id) h WHERE h.kind = 'claimed' ORDER BY h.seq DESC LIMIT 1) AS event_worker
  FROM baton.jobs WHERE queue = 'emails' ORDER BY id;
-- Nothing due is left.
SELECT count(*) AS claimed FROM baton.fetch_v1(ARRAY['emails'], 'worker-1', 10);

-- max_jobs bounds the batch; a job with a lock never runs beside another of its lock:
-- pages 1 and 3 share doc:1, so page 3 is not claimed beside page 1.
SELECT id, task, args FROM baton.fetch_v1(ARRAY['reports'], 'worker-2', max_jobs => 1);
SELECT id, task, args FROM baton.fetch_v1(ARRAY['reports'], 'worker-2', max_jobs => 10);
-- Page 3 is blocked behind page 1 (outside the ready index), and becomes waiting once
-- page 1 is finished.
SELECT args, status FROM baton.jobs WHERE lock = 'doc:1' ORDER BY id;
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM baton.jobs WHERE args = '{"page": 1}';
SELECT args, status, (SELECT h.kind FROM baton.job_history_v1(id) h ORDER BY h.seq DESC LIMIT 1) AS last_event FROM baton.jobs WHERE lock = 'doc:1';
SELECT id, args FROM baton.fetch_v1(ARRAY['reports'], 'worker-2', 10);

-- Several queues at once merge by priority; duplicates in the list are harmless.
SELECT baton.create_queue_v1('qa'), baton.create_queue_v1('qb');
SELECT baton.defer_many_v1('qa', 'a', ARRAY['{"p": 1}', '{"p": 3}']::jsonb[]) AS id;
SELECT baton.defer_v1('qb', 'b', '{"p": 2}', priority => 2) AS id;
SELECT baton.defer_v1('qb', 'b', '{"p": 4}', priority => 4) AS id;
SELECT queue, args, priority FROM baton.fetch_v1(ARRAY['qa', 'qb', 'qa'], 'worker-3', 3);
SELECT queue, args, priority FROM baton.fetch_v1(ARRAY['qa', 'qb'], 'worker-3', 3);

-- A custom lease.
SELECT baton.defer_v1('qa', 'leased') AS id;
SELECT lease_expires_at BETWEEN clock_timestamp() + interval '25 seconds'
                            AND clock_timestamp() + interval '31 seconds' AS thirty_seconds
  FROM baton.fetch_v1(ARRAY['qa'], 'worker-3', 1, lease => '30 seconds');

-- Jobs of one lock run in defer order even when a later one has higher priority.
SELECT baton.defer_v1('qa', 'first', lock => 'k') AS id;
SELECT baton.defer_v1('qa', 'second', lock => 'k', priority => 100) AS id;
SELECT task FROM baton.fetch_v1(ARRAY['qa'], 'worker-3', 10);
-- A failed head keeps its turn: retried, it is still the one waiting; 'second' stays blocked.
SELECT baton.finish_v1(id, lease_token, 'failed', error => 'try again')
  FROM baton.jobs WHERE task = 'first';
SELECT task, status, attempts FROM baton.jobs WHERE lock = 'k' ORDER BY id;
-- Cancelling the head hands the lock to the next job.
SELECT baton.cancel_v1(id) FROM baton.jobs WHERE task = 'first';
SELECT task, status FROM baton.jobs WHERE lock = 'k' ORDER BY id;
