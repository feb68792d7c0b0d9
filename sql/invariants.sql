-- Runs last, over everything the earlier files left behind: the invariants the hot path
-- relies on without a per-statement CHECK.
-- A lease token exists exactly while a job runs (fencing depends on it).
SELECT count(*) AS token_mismatches FROM baton.jobs
 WHERE (status = 'running') <> (lease_token IS NOT NULL);
-- A claimed attempt has its claim time; a waiting or blocked job has none.
SELECT count(*) AS claim_time_mismatches FROM baton.jobs
 WHERE (status = 'running') <> (claimed_at IS NOT NULL);
-- Every lock with active jobs has exactly one head, and blocked jobs only behind one.
SELECT count(*) AS locks_without_one_head FROM (
  SELECT lock FROM baton.jobs WHERE lock IS NOT NULL GROUP BY lock
  HAVING count(*) FILTER (WHERE status IN ('waiting', 'running')) <> 1) AS l;
-- No job is both active and finished.
SELECT count(*) AS in_both_tables FROM baton.jobs j JOIN baton.jobs_finished f USING (id);
-- Every history starts with the defer and is in time order.
SELECT count(*) AS bad_histories FROM (
  SELECT job_id FROM baton.job_events GROUP BY job_id
  HAVING min(seq) FILTER (WHERE kind = 'deferred') <> 1
      OR bool_or(at < (SELECT min(e2.at) FROM baton.job_events e2 WHERE e2.job_id = job_events.job_id))) AS b;
-- A waiting job that sorts before the claim floors' cap (priority above 0) is marked, so
-- claims find it through jobs_marked_idx (CONTRIBUTING.md, "Claim floors").
SELECT count(*) AS unmarked_high_priority FROM baton.jobs
 WHERE status = 'waiting' AND priority > 0 AND NOT marked;
-- Every index of both tables holds exactly the entries its table's rows need (amcheck,
-- heapallindexed): the direct path writes index entries itself (jobs_write.cpp).
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT c.relname AS index, bt_index_check(c.oid, true)::text = '' AS checked
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
 WHERE i.indrelid IN ('baton.jobs'::regclass, 'baton.jobs_finished'::regclass)
   AND a.amname = 'btree'
 ORDER BY 1;
