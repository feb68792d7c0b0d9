-- Enqueueing: defaults, options, bulk form, queueing locks and their errors.
SELECT baton.create_queue_v1('emails') AS created;
SELECT baton.create_queue_v1('emails', notify => false) AS created_again;
SELECT name, notify FROM baton.queues ORDER BY name;
SELECT baton.create_queue_v1('emails') AS created_again;
SELECT baton.create_queue_v1('reports');

SELECT baton.defer_v1('emails', 'send', '{"to": "a@example.com"}') AS id;
SELECT id, queue, task, args, priority, status, attempts, max_attempts, retry_backoff,
       retry_delay, retry_delay_max, lock, queueing_lock, run_at <= clock_timestamp() AS due_now,
       (SELECT string_agg(h.kind, ',' ORDER BY h.seq) FROM baton.job_history_v1(id) h) AS history
  FROM baton.jobs WHERE id = 1;

-- Every option, in named notation.
SELECT baton.defer_v1(queue => 'emails', task => 'digest', args => '{"user": 7}',
                      priority => 5, delay => '1 hour', max_attempts => 3,
                      retry_backoff => 'linear', retry_delay => '10 seconds',
                      retry_delay_max => '1 minute', lock => 'user:7',
                      queueing_lock => 'digest:7') AS id;
SELECT priority, run_at > now() + interval '59 minutes' AS in_an_hour, max_attempts,
       retry_backoff, retry_delay, retry_delay_max, lock, queueing_lock
  FROM baton.jobs WHERE id = 2;
SELECT baton.defer_v1('emails', 'later', run_at => '2100-01-01 00:00:00+00') AS id;
SELECT run_at FROM baton.jobs WHERE id = 3;

-- A second waiting job with the same queueing lock is refused and nothing is written.
SELECT try($$SELECT baton.defer_v1('emails', 'digest', queueing_lock => 'digest:7')$$);
SELECT count(*) AS jobs_with_key FROM baton.jobs WHERE queueing_lock = 'digest:7';

-- Bulk: ids come back in input order; per-job locks and queueing locks.
SELECT baton.defer_many_v1('reports', 'render',
  ARRAY['{"page": 1}', '{"page": 2}', '{"page": 3}']::jsonb[],
  priority => 1, locks => ARRAY['doc:1', NULL, 'doc:1'],
  queueing_locks => ARRAY[NULL, 'render:2', NULL]) AS id;
SELECT id, args, priority, lock, queueing_lock FROM baton.jobs WHERE queue = 'reports' ORDER BY id;
-- A bulk call with one duplicate key defers nothing.
SELECT try($$SELECT baton.defer_many_v1('reports', 'render', ARRAY['{}', '{}']::jsonb[],
  queueing_locks => ARRAY['fresh', 'render:2'])$$);
SELECT try($$SELECT baton.defer_many_v1('reports', 'render', ARRAY['{}', '{}']::jsonb[],
  queueing_locks => ARRAY['same', 'same'])$$);
SELECT count(*) AS reports_jobs FROM baton.jobs WHERE queue = 'reports';

SELECT queue, waiting, scheduled, blocked, running, succeeded, dead, cancelled,
       oldest_waiting_age IS NOT NULL AS has_oldest
  FROM baton.queue_stats;
