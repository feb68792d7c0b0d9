-- The shipped roles: a producer defers, a worker fetches and finishes, an admin manages.
-- Functions run with the caller's rights, so each role holds just the table rights needed.
SELECT baton.create_queue_v1('roles');

SET ROLE baton_producer;
SELECT baton.defer_v1('roles', 'from-producer') > 0 AS deferred;
SELECT count(*) AS visible_stats FROM baton.queue_stats WHERE queue = 'roles';
SELECT try($$SELECT * FROM baton.fetch_v1(ARRAY['roles'], 'p')$$);
SELECT try($$SELECT baton.cancel_v1(1)$$);
SELECT try($$SELECT baton.create_queue_v1('mine')$$);
SELECT try($$DELETE FROM baton.jobs$$);
RESET ROLE;

SET ROLE baton_worker;
CREATE TEMP TABLE worker_held AS SELECT id, lease_token FROM baton.fetch_v1(ARRAY['roles'], 'w', 1);
SELECT baton.finish_v1(id, lease_token, 'succeeded') FROM worker_held;
SELECT baton.defer_v1('roles', 'follow-up') > 0 AS deferred_follow_up;
SELECT try($$SELECT baton.purge_finished_v1('0')$$);
SELECT try($$SELECT baton.drop_queue_v1('roles', true)$$);
SELECT baton.reap_v1() AS reaped;
RESET ROLE;

SET ROLE baton_admin;
SELECT baton.defer_v1('roles', 'from-admin') > 0 AS deferred;
SELECT baton.drop_queue_v1('roles', force => true) AS removed;
SELECT try($$SELECT baton.retry_v1(1)$$);
RESET ROLE;

SET ROLE pg_monitor;
SELECT try($$SELECT baton.defer_v1('roles', 'outsider')$$);
SELECT try($$SELECT count(*) FROM baton.jobs$$);
RESET ROLE;
