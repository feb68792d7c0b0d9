-- A normalized, sorted listing of everything the extension baton owns, for comparing two
-- databases with diff (a fresh CREATE EXTENSION of the newest version against an older
-- version followed by ALTER EXTENSION baton UPDATE, or a restored dump):
--   psql -X -At -v ON_ERROR_STOP=1 -d DB -f test/upgrade/catalog.sql
-- Covers the members of the extension (pg_depend deptype 'e') and every object in schema
-- baton. Prints names, never OIDs; sorts by names (COLLATE "C"), never by oid. Every line
-- starts with what it describes. ACLs are sorted inside their arrays, and a NULL ACL (the
-- built-in default) is shown expanded with acldefault(), so equal rights compare equal.
-- Multi-line text (function bodies, view definitions) is printed one line per line, each
-- prefixed with its object, so a diff points at the changed line; comments and other
-- free text are JSON-quoted onto one line.
-- Deliberately not compared: physical details that legitimately differ between a fresh and
-- an upgraded table (atthasmissing/attmissingval of columns added with a default, toast
-- tables, relfilenodes, statistics, sequence values).
\set QUIET 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET search_path = pg_catalog;  -- every baton name below is printed schema-qualified
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 0;
SET client_min_messages = warning;

SELECT coalesce((SELECT oid FROM pg_namespace WHERE nspname = 'baton'), 0) AS baton_ns,
       coalesce((SELECT oid FROM pg_extension WHERE extname = 'baton'), 0) AS baton_ext
\gset

-- ---------------------------------------------------------------------------------------
-- The extension row.
-- ---------------------------------------------------------------------------------------
SELECT 'extension baton | installed=no' WHERE :baton_ext = 0;

SELECT format('extension %s | version=%s | relocatable=%s | schema=%s | owner=%s | comment=%s',
              e.extname, e.extversion, e.extrelocatable, n.nspname,
              pg_get_userbyid(e.extowner),
              coalesce(to_json(obj_description(e.oid, 'pg_extension'))::text, 'none'))
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.oid = :baton_ext;

-- pg_extension_config_dump registrations, in registration order (extconfig and
-- extcondition are parallel arrays).
SELECT format('extension baton config_dump #%s | table=%s | condition=%s', c.ord,
              c.rel::regclass::text, coalesce(to_json(e.extcondition[c.ord])::text, 'none'))
FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS c(rel, ord)
WHERE e.oid = :baton_ext
ORDER BY c.ord;

SELECT format('extension baton config_dump | count=%s | condition_count=%s',
              coalesce(cardinality(e.extconfig), 0), coalesce(cardinality(e.extcondition), 0))
FROM pg_extension e WHERE e.oid = :baton_ext;

SELECT format('extension baton requires %s | deptype=%s', r.extname, d.deptype)
FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
WHERE d.classid = 'pg_extension'::regclass AND d.objid = :baton_ext
  AND d.refclassid = 'pg_extension'::regclass
ORDER BY r.extname COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- Every member of the extension, by its description (covers member kinds that have no
-- section of their own below, such as operators or casts).
-- ---------------------------------------------------------------------------------------
SELECT line FROM (
SELECT format('member %s', pg_describe_object(d.classid, d.objid, d.objsubid))
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext AND d.deptype = 'e'
) AS x(line) ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- The schema.
-- ---------------------------------------------------------------------------------------
SELECT 'schema baton | exists=no' WHERE :baton_ns = 0;

SELECT format('schema %s | owner=%s | member=%s | acl={%s} | comment=%s', n.nspname,
              pg_get_userbyid(n.nspowner),
              EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid
                         AND d.refclassid = 'pg_extension'::regclass
                         AND d.refobjid = :baton_ext AND d.deptype = 'e'),
              (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                 FROM unnest(coalesce(n.nspacl, acldefault('n', n.nspowner))) a),
              coalesce(to_json(obj_description(n.oid, 'pg_namespace'))::text, 'none'))
FROM pg_namespace n WHERE n.oid = :baton_ns;

-- Default privileges for objects created in schema baton later.
SELECT line FROM (
SELECT format('default privileges in schema baton | for_role=%s | on=%s | acl={%s}',
              pg_get_userbyid(da.defaclrole), da.defaclobjtype,
              (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                 FROM unnest(da.defaclacl) a))
FROM pg_default_acl da
WHERE da.defaclnamespace = :baton_ns
) AS x(line) ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- Functions, procedures and aggregates: in schema baton, or members elsewhere.
-- ---------------------------------------------------------------------------------------
CREATE TEMP VIEW baton_catalog_procs AS
SELECT p.*, l.lanname,
       format('%s %I.%I(%s)',
              CASE p.prokind WHEN 'f' THEN 'function' WHEN 'p' THEN 'procedure'
                             WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function' END,
              n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)) AS ident,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                  AND d.deptype = 'e') AS member
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = :baton_ns
   OR EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                 AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                 AND d.deptype = 'e');

SELECT line FROM (
  -- Attributes.
  SELECT p.ident AS ident, 0 AS part, 0::bigint AS n,
         format('%s | returns=%s | language=%s | volatility=%s | strict=%s | security=%s'
                ' | parallel=%s | leakproof=%s | cost=%s | rows=%s | support=%s'
                ' | config={%s} | owner=%s | member=%s | acl={%s}%s',
                p.ident, coalesce(pg_get_function_result(p.oid), 'none'), p.lanname,
                CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'
                                   ELSE 'volatile' END,
                p.proisstrict, CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END,
                CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted'
                                   ELSE 'unsafe' END,
                p.proleakproof, p.procost, p.prorows,
                CASE WHEN p.prosupport = 0 THEN 'none' ELSE p.prosupport::regproc::text END,
                (SELECT string_agg(c, ',' ORDER BY c COLLATE "C") FROM unnest(p.proconfig) c),
                pg_get_userbyid(p.proowner), p.member,
                (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                   FROM unnest(coalesce(p.proacl, acldefault('f', p.proowner))) a),
                -- C and internal functions: the link symbol and the library.
                CASE WHEN p.lanname IN ('c', 'internal')
                     THEN format(' | symbol=%s | probin=%s', p.prosrc,
                                 coalesce(p.probin, 'none'))
                     ELSE '' END) AS line
  FROM baton_catalog_procs p
  UNION ALL
  -- Argument names, modes and defaults.
  SELECT p.ident, 1, 0, format('%s | arguments: %s', p.ident, pg_get_function_arguments(p.oid))
  FROM baton_catalog_procs p
  UNION ALL
  SELECT p.ident, 2, 0,
         format('%s | comment: %s', p.ident,
                coalesce(to_json(obj_description(p.oid, 'pg_proc'))::text, 'none'))
  FROM baton_catalog_procs p
  UNION ALL
  -- The body, one line per line (not for C/internal functions: prosrc is their symbol).
  SELECT p.ident, 3, s.n, format('%s | src: %s', p.ident, s.l)
  FROM baton_catalog_procs p,
       regexp_split_to_table(p.prosrc, E'\n') WITH ORDINALITY AS s(l, n)
  WHERE p.lanname NOT IN ('c', 'internal') AND p.prosqlbody IS NULL
  UNION ALL
  -- SQL-standard bodies (BEGIN ATOMIC ... END / RETURN expr).
  SELECT p.ident, 4, s.n, format('%s | sqlbody: %s', p.ident, s.l)
  FROM baton_catalog_procs p,
       regexp_split_to_table(pg_get_function_sqlbody(p.oid), E'\n') WITH ORDINALITY AS s(l, n)
  WHERE p.prosqlbody IS NOT NULL
) x
ORDER BY x.ident COLLATE "C", x.part, x.n;

-- ---------------------------------------------------------------------------------------
-- Relations: tables, views, materialized views, sequences, composite types, foreign and
-- partitioned tables (indexes have their own section).
-- ---------------------------------------------------------------------------------------
CREATE TEMP VIEW baton_catalog_rels AS
SELECT c.*, n.nspname,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                      WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'composite type'
                      WHEN 'f' THEN 'foreign table' WHEN 'i' THEN 'index'
                      WHEN 'I' THEN 'partitioned index' WHEN 't' THEN 'toast table'
                      ELSE 'relkind ' || c.relkind::text END AS kind,
       format('%I.%I', n.nspname, c.relname) AS qname,
       EXISTS (SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.objsubid = 0
                  AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                  AND d.deptype = 'e') AS member
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace = :baton_ns
   OR EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                 AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                 AND d.deptype = 'e');

SELECT format('%s %s | persistence=%s | replica_identity=%s | rls=%s | force_rls=%s'
              ' | options={%s} | access_method=%s | tablespace=%s | owner=%s | member=%s'
              ' | acl={%s} | comment=%s',
              r.kind, r.qname,
              CASE r.relpersistence WHEN 'p' THEN 'permanent' WHEN 'u' THEN 'unlogged'
                                    WHEN 't' THEN 'temporary' END,
              CASE r.relreplident WHEN 'd' THEN 'default' WHEN 'n' THEN 'nothing'
                                  WHEN 'f' THEN 'full'
                                  WHEN 'i' THEN 'index ' || coalesce(
                                    (SELECT ic.relname::text FROM pg_index i
                                       JOIN pg_class ic ON ic.oid = i.indexrelid
                                      WHERE i.indrelid = r.oid AND i.indisreplident),
                                    'none') END,
              r.relrowsecurity, r.relforcerowsecurity,
              (SELECT string_agg(o, ',' ORDER BY o COLLATE "C") FROM unnest(r.reloptions) o),
              coalesce((SELECT amname::text FROM pg_am WHERE oid = r.relam), 'none'),
              coalesce((SELECT spcname::text FROM pg_tablespace WHERE oid = r.reltablespace),
                       'default'),
              pg_get_userbyid(r.relowner), r.member,
              (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                 FROM unnest(coalesce(r.relacl,
                   acldefault((CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END)::"char", r.relowner))) a),
              coalesce(to_json(obj_description(r.oid, 'pg_class'))::text, 'none'))
FROM baton_catalog_rels r
WHERE r.relkind NOT IN ('i', 'I', 't')
ORDER BY r.qname COLLATE "C";

-- Inheritance and partitioning.
SELECT format('%s %s | inherits %s #%s%s', r.kind, r.qname, i.inhparent::regclass::text,
              i.inhseqno,
              CASE WHEN r.relispartition
                   THEN ' | bound=' || pg_get_expr(r.relpartbound, r.oid) ELSE '' END)
FROM baton_catalog_rels r JOIN pg_inherits i ON i.inhrelid = r.oid
ORDER BY r.qname COLLATE "C", i.inhseqno;

SELECT format('%s %s | partition key: %s', r.kind, r.qname, pg_get_partkeydef(r.oid))
FROM baton_catalog_rels r WHERE r.relkind = 'p'
ORDER BY r.qname COLLATE "C";

-- Columns, by position: a column appended by an upgrade where a fresh install has it
-- elsewhere shows as a difference, and so does a dropped column an upgrade left behind.
SELECT CASE WHEN a.attisdropped
            THEN format('%s %s column #%s | dropped', r.kind, r.qname, a.attnum)
            ELSE format('%s %s column #%s %I | type=%s | not_null=%s | default=%s'
                        ' | identity=%s | generated=%s | collation=%s | storage=%s'
                        ' | compression=%s | statistics=%s | options={%s} | fdw_options={%s}'
                        ' | inherited=%s | acl={%s} | comment=%s',
                        r.kind, r.qname, a.attnum, a.attname,
                        format_type(a.atttypid, a.atttypmod), a.attnotnull,
                        coalesce(to_json(pg_get_expr(ad.adbin, ad.adrelid))::text, 'none'),
                        coalesce(nullif(a.attidentity, ''), '-'),
                        coalesce(nullif(a.attgenerated, ''), '-'),
                        coalesce((SELECT format('%I.%I', cn.nspname, co.collname)
                                    FROM pg_collation co
                                    JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                   WHERE co.oid = a.attcollation), 'none'),
                        a.attstorage, coalesce(nullif(a.attcompression, ''), '-'),
                        a.attstattarget,
                        -- This server build stores pg_attver=<number> in every column's
                        -- attoptions, a value that differs between databases: left out.
                        (SELECT string_agg(o, ',' ORDER BY o COLLATE "C")
                           FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg_attver=%'),
                        (SELECT string_agg(o, ',' ORDER BY o COLLATE "C")
                           FROM unnest(a.attfdwoptions) o),
                        a.attinhcount,
                        (SELECT string_agg(x::text, ',' ORDER BY x::text COLLATE "C")
                           FROM unnest(a.attacl) x),
                        coalesce(to_json(col_description(r.oid, a.attnum))::text, 'none'))
       END
FROM baton_catalog_rels r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
ORDER BY r.qname COLLATE "C", a.attnum;

-- Sequences (their definition, not their current value).
SELECT format('sequence %s | type=%s | start=%s | increment=%s | min=%s | max=%s | cache=%s'
              ' | cycle=%s | owned_by=%s',
              r.qname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
              s.seqmax, s.seqcache, s.seqcycle,
              coalesce((SELECT format('%s.%I (%s)', d.refobjid::regclass::text, at.attname,
                                      CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'auto' END)
                          FROM pg_depend d
                          JOIN pg_attribute at ON at.attrelid = d.refobjid
                                              AND at.attnum = d.refobjsubid
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                           AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
                           AND d.deptype IN ('a', 'i')), 'none'))
FROM baton_catalog_rels r JOIN pg_sequence s ON s.seqrelid = r.oid
ORDER BY r.qname COLLATE "C";

-- Views and materialized views: the definition, one line per line.
SELECT format('%s %s | def: %s', r.kind, r.qname, v.l)
FROM baton_catalog_rels r,
     regexp_split_to_table(pg_get_viewdef(r.oid, true), E'\n') WITH ORDINALITY AS v(l, n)
WHERE r.relkind IN ('v', 'm')
ORDER BY r.qname COLLATE "C", v.n;

-- ---------------------------------------------------------------------------------------
-- Indexes, constraints, triggers, rules, policies, extended statistics.
-- ---------------------------------------------------------------------------------------
SELECT format('index %s on %s | %s | primary=%s | unique=%s | nulls_not_distinct=%s'
              ' | clustered=%s | valid=%s | ready=%s | replica_identity=%s | tablespace=%s'
              ' | comment=%s',
              ir.qname, t.qname, pg_get_indexdef(i.indexrelid), i.indisprimary,
              i.indisunique, i.indnullsnotdistinct, i.indisclustered, i.indisvalid,
              i.indisready, i.indisreplident,
              coalesce((SELECT spcname::text FROM pg_tablespace WHERE oid = ir.reltablespace),
                       'default'),
              coalesce(to_json(obj_description(ir.oid, 'pg_class'))::text, 'none'))
FROM pg_index i
JOIN baton_catalog_rels ir ON ir.oid = i.indexrelid
JOIN baton_catalog_rels t ON t.oid = i.indrelid
ORDER BY t.qname COLLATE "C", ir.qname COLLATE "C";

-- Constraints of tables and of domains in schema baton, with their names.
SELECT line FROM (
SELECT format('constraint %I on %s | type=%s | %s | deferrable=%s | deferred=%s'
              ' | validated=%s | index=%s | local=%s | inherited=%s | no_inherit=%s'
              ' | comment=%s',
              co.conname,
              CASE WHEN co.conrelid <> 0 THEN 'table ' || co.conrelid::regclass::text
                   ELSE 'domain ' || format_type(co.contypid, NULL) END,
              co.contype, pg_get_constraintdef(co.oid), co.condeferrable, co.condeferred,
              co.convalidated,
              coalesce((SELECT format('%I.%I', ns.nspname, ic.relname) FROM pg_class ic
                          JOIN pg_namespace ns ON ns.oid = ic.relnamespace
                         WHERE ic.oid = co.conindid), 'none'),
              co.conislocal, co.coninhcount, co.connoinherit,
              coalesce(to_json(obj_description(co.oid, 'pg_constraint'))::text, 'none'))
FROM pg_constraint co
WHERE co.conrelid IN (SELECT oid FROM baton_catalog_rels)
   OR co.contypid IN (SELECT oid FROM pg_type WHERE typnamespace = :baton_ns)
) AS x(line) ORDER BY line COLLATE "C";

-- Triggers written by someone (internal ones belong to constraints, listed above).
SELECT format('trigger %I on %s | %s | enabled=%s | comment=%s', tg.tgname, r.qname,
              pg_get_triggerdef(tg.oid), tg.tgenabled,
              coalesce(to_json(obj_description(tg.oid, 'pg_trigger'))::text, 'none'))
FROM pg_trigger tg JOIN baton_catalog_rels r ON r.oid = tg.tgrelid
WHERE NOT tg.tgisinternal
ORDER BY r.qname COLLATE "C", tg.tgname COLLATE "C";

-- Rules (a view's _RETURN rule is its definition, listed with the view).
SELECT format('rule %I on %s | %s | enabled=%s | comment=%s', ru.rulename, r.qname,
              replace(pg_get_ruledef(ru.oid), E'\n', ' '), ru.ev_enabled,
              coalesce(to_json(obj_description(ru.oid, 'pg_rewrite'))::text, 'none'))
FROM pg_rewrite ru JOIN baton_catalog_rels r ON r.oid = ru.ev_class
WHERE NOT (ru.rulename = '_RETURN' AND r.relkind IN ('v', 'm'))
ORDER BY r.qname COLLATE "C", ru.rulename COLLATE "C";

-- Row-level security policies (whether RLS is enabled is on each table's line).
SELECT format('policy %I on %s | command=%s | permissive=%s | roles={%s} | using=%s'
              ' | with_check=%s | comment=%s',
              po.polname, r.qname,
              CASE po.polcmd WHEN '*' THEN 'all' WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                             WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' END,
              po.polpermissive,
              (SELECT string_agg(rn, ',' ORDER BY rn COLLATE "C")
                 FROM unnest(po.polroles) ro,
                      LATERAL (SELECT CASE WHEN ro = 0 THEN 'public'
                                           ELSE pg_get_userbyid(ro)::text END) AS x(rn)),
              coalesce(to_json(pg_get_expr(po.polqual, po.polrelid))::text, 'none'),
              coalesce(to_json(pg_get_expr(po.polwithcheck, po.polrelid))::text, 'none'),
              coalesce(to_json(obj_description(po.oid, 'pg_policy'))::text, 'none'))
FROM pg_policy po JOIN baton_catalog_rels r ON r.oid = po.polrelid
ORDER BY r.qname COLLATE "C", po.polname COLLATE "C";

SELECT line FROM (
SELECT format('statistics %I.%I | %s', sn.nspname, s.stxname, pg_get_statisticsobjdef(s.oid))
FROM pg_statistic_ext s JOIN pg_namespace sn ON sn.oid = s.stxnamespace
WHERE s.stxnamespace = :baton_ns OR s.stxrelid IN (SELECT oid FROM baton_catalog_rels)
) AS x(line) ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- Types in schema baton (or members elsewhere): enums with their labels in sort order,
-- domains, composite types (their attributes are listed with the relations), ranges,
-- base types; also the implicit row and array types, so a missing one shows.
-- ---------------------------------------------------------------------------------------
SELECT format('type %s | kind=%s | owner=%s | member=%s | acl={%s} | comment=%s%s',
              format_type(t.oid, NULL),
              CASE t.typtype WHEN 'b' THEN 'base' WHEN 'c' THEN 'composite' WHEN 'd' THEN 'domain'
                             WHEN 'e' THEN 'enum' WHEN 'p' THEN 'pseudo' WHEN 'r' THEN 'range'
                             WHEN 'm' THEN 'multirange' END,
              pg_get_userbyid(t.typowner),
              EXISTS (SELECT 1 FROM pg_depend d
                       WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                         AND d.refclassid = 'pg_extension'::regclass
                         AND d.refobjid = :baton_ext AND d.deptype = 'e'),
              (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                 FROM unnest(coalesce(t.typacl, acldefault('T', t.typowner))) a),
              coalesce(to_json(obj_description(t.oid, 'pg_type'))::text, 'none'),
              CASE
                WHEN t.typtype = 'e' THEN format(' | labels=%s',
                  (SELECT to_json(array_agg(e.enumlabel ORDER BY e.enumsortorder))::text
                     FROM pg_enum e WHERE e.enumtypid = t.oid))
                WHEN t.typtype = 'd' THEN format(' | base=%s | not_null=%s | default=%s | collation=%s',
                  format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                  coalesce(to_json(pg_get_expr(t.typdefaultbin, 0))::text, 'none'),
                  coalesce((SELECT collname::text FROM pg_collation WHERE oid = t.typcollation),
                           'none'))
                WHEN t.typtype = 'c' THEN format(' | relation=%s (%s)', t.typrelid::regclass::text,
                  (SELECT CASE relkind WHEN 'c' THEN 'standalone' ELSE 'row type of ' || relkind::text END
                     FROM pg_class WHERE oid = t.typrelid))
                WHEN t.typtype = 'r' THEN format(' | subtype=%s | opclass=%s | collation=%s'
                                                 ' | canonical=%s | subdiff=%s',
                  format_type(rg.rngsubtype, NULL),
                  (SELECT opcname::text FROM pg_opclass WHERE oid = rg.rngsubopc),
                  coalesce((SELECT collname::text FROM pg_collation WHERE oid = rg.rngcollation),
                           'none'),
                  rg.rngcanonical::regproc::text, rg.rngsubdiff::regproc::text)
                WHEN t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc
                  THEN format(' | array of %s', format_type(t.typelem, NULL))
                WHEN t.typtype = 'b' THEN format(' | input=%s | output=%s | receive=%s | send=%s'
                                                 ' | length=%s | byval=%s | align=%s | storage=%s'
                                                 ' | category=%s | default=%s',
                  t.typinput::regproc::text, t.typoutput::regproc::text,
                  t.typreceive::regproc::text, t.typsend::regproc::text, t.typlen, t.typbyval,
                  t.typalign, t.typstorage, t.typcategory,
                  coalesce(to_json(t.typdefault)::text, 'none'))
                ELSE ''
              END)
FROM pg_type t
LEFT JOIN pg_range rg ON rg.rngtypid = t.oid
WHERE t.typnamespace = :baton_ns
   OR EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                 AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                 AND d.deptype = 'e')
ORDER BY format_type(t.oid, NULL) COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- Initial privileges recorded for pg_dump (pg_init_privs): what CREATE EXTENSION and
-- ALTER EXTENSION UPDATE granted. A difference here changes what pg_dump writes.
-- ---------------------------------------------------------------------------------------
SELECT line FROM (
SELECT format('init_privs %s | type=%s | acl={%s}',
              pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), ip.privtype,
              (SELECT string_agg(a::text, ',' ORDER BY a::text COLLATE "C")
                 FROM unnest(ip.initprivs) a))
FROM pg_init_privs ip
WHERE (ip.classoid = 'pg_namespace'::regclass AND ip.objoid = :baton_ns)
   OR (ip.classoid = 'pg_class'::regclass
       AND ip.objoid IN (SELECT oid FROM baton_catalog_rels))
   OR (ip.classoid = 'pg_proc'::regclass
       AND ip.objoid IN (SELECT oid FROM baton_catalog_procs))
   OR (ip.classoid = 'pg_type'::regclass
       AND ip.objoid IN (SELECT oid FROM pg_type WHERE typnamespace = :baton_ns))
   OR EXISTS (SELECT 1 FROM pg_depend d
               WHERE d.classid = ip.classoid AND d.objid = ip.objoid
                 AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = :baton_ext
                 AND d.deptype = 'e')
) AS x(line) ORDER BY line COLLATE "C";

-- ---------------------------------------------------------------------------------------
-- The roles the extension creates (cluster-wide) and their memberships.
-- ---------------------------------------------------------------------------------------
SELECT CASE WHEN r.oid IS NULL THEN format('role %s | exists=no', w.name)
            ELSE format('role %s | exists=yes | login=%s | superuser=%s | inherit=%s'
                        ' | createrole=%s | createdb=%s | replication=%s | bypassrls=%s'
                        ' | connection_limit=%s | comment=%s',
                        w.name, r.rolcanlogin, r.rolsuper, r.rolinherit, r.rolcreaterole,
                        r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolconnlimit,
                        coalesce(to_json(shobj_description(r.oid, 'pg_authid'))::text,
                                 'none'))
       END
FROM (VALUES ('baton_admin'), ('baton_producer'), ('baton_worker')) AS w(name)
LEFT JOIN pg_roles r ON r.rolname = w.name
ORDER BY w.name COLLATE "C";

SELECT line FROM (
SELECT format('role membership %s in %s | admin_option=%s | grantor=%s',
              pg_get_userbyid(m.member), pg_get_userbyid(m.roleid), m.admin_option,
              pg_get_userbyid(m.grantor))
FROM pg_auth_members m
WHERE pg_get_userbyid(m.member) IN ('baton_admin', 'baton_producer', 'baton_worker')
   OR pg_get_userbyid(m.roleid) IN ('baton_admin', 'baton_producer', 'baton_worker')
) AS x(line) ORDER BY line COLLATE "C";

DROP VIEW baton_catalog_rels;
DROP VIEW baton_catalog_procs;
