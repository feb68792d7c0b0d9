-- Installs the extension and checks the shape of what it installs: every function has a
-- fixed search_path, none is SECURITY DEFINER, PUBLIC may execute none, user tables are
-- registered for pg_dump.
CREATE EXTENSION baton;
SELECT extname, extversion, extrelocatable, extnamespace::regnamespace
  FROM pg_extension WHERE extname = 'baton';

SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
  FROM pg_proc p WHERE p.pronamespace = 'baton'::regnamespace ORDER BY 1, 2;

-- expect no rows: SQL and PL/pgSQL functions without the fixed search_path (the C
-- functions fix theirs in C around their statements; sql/search_path.sql proves it)
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'baton'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')));
-- the C functions
SELECT p.proname, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'baton'::regnamespace
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') ORDER BY 1;
-- expect 0: SECURITY DEFINER functions
SELECT count(*) AS security_definer FROM pg_proc p
 WHERE p.pronamespace = 'baton'::regnamespace AND p.prosecdef;
-- expect no rows: functions PUBLIC may execute
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'baton'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE');

SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'baton' ORDER BY 1;

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'baton\_%' ORDER BY 1;
SELECT pg_has_role('baton_admin', 'baton_worker', 'MEMBER') AS admin_is_worker,
       pg_has_role('baton_admin', 'baton_producer', 'MEMBER') AS admin_is_producer;

-- Shared by the later files: runs a statement and returns its SQLSTATE and message
-- instead of failing, so error paths show both.
CREATE FUNCTION public.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
