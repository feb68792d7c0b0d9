-- The hot functions resolve every name of their statements the same whatever the
-- caller's search_path: a caller whose path puts a schema with a trojan "=" operator for
-- text and bigint before pg_catalog still gets baton's behaviour. (A new session: the
-- statements are prepared under the hostile path here.)
CREATE SCHEMA trojan;
CREATE FUNCTION trojan.hijack(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked text ='; END $$;
CREATE FUNCTION trojan.hijack(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'hijacked bigint ='; END $$;
CREATE OPERATOR trojan.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trojan.hijack);
CREATE OPERATOR trojan.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = trojan.hijack);
SELECT baton.create_queue_v1('paths');

SET search_path = trojan, pg_catalog, public;
SELECT 'a'::text = 'a'::text AS trojan_is_active;
SELECT try($$SELECT baton.defer_v1('paths', 'p', lock => 'pl')$$);
SELECT try($$SELECT baton.defer_many_v1('paths', 'p', ARRAY['{}', '{}']::jsonb[])$$);
SELECT try($$SELECT count(*) FROM baton.fetch_v1(ARRAY['paths'], 'w', 10)$$);
SELECT try($$SELECT count(*) FROM baton.finish_many_v1(
  ARRAY(SELECT id FROM baton.jobs WHERE queue OPERATOR(pg_catalog.=) 'paths' AND status OPERATOR(pg_catalog.=) 'running'),
  ARRAY(SELECT lease_token FROM baton.jobs WHERE queue OPERATOR(pg_catalog.=) 'paths' AND status OPERATOR(pg_catalog.=) 'running'),
  array_fill('succeeded'::text, ARRAY[3]))$$);
SELECT try($$SELECT baton.reap_v1()$$);
RESET search_path;
SELECT status, count(*) FROM baton.all_jobs WHERE queue = 'paths' GROUP BY status ORDER BY 1;
DROP SCHEMA trojan CASCADE;
