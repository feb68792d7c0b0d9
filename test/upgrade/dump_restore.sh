#!/usr/bin/env bash
# pg_dump and pg_restore keep every job.
#   test/upgrade/dump_restore.sh VERSION      # e.g. 0.1.0; "newest" (or no argument) means
#                                             # the installed default_version
# Expects a running server described by PGHOST/PGPORT/PGUSER (a superuser), e.g.
#   . test/lib/server.sh && start_server && test/upgrade/dump_restore.sh 0.1.0
# and baton installed in it (make install), with VERSION among its installable versions.
#
# 1. creates a database with CREATE EXTENSION baton VERSION 'VERSION';
# 2. puts jobs into every state through the 0.1.0 SQL API only (waiting, scheduled,
#    blocked, running, running with an abort request, succeeded, dead, cancelled by worker
#    and by operator, retried by backoff and by retry_v1, queueing lock, priority, bulk)
#    in queues with non-default notify/keep_succeeded settings (one keeps no successes);
# 3. records a listing: all_jobs, queues, the tables jobs and jobs_finished (the columns
#    the source version has), job_id_seq, job_history_v1 of every job;
# 4. pg_dump -Fc, pg_restore into a new empty database (which gets the newest installed
#    version: pg_dump writes CREATE EXTENSION without a version), records the listing
#    again and diffs it; also compares test/upgrade/catalog.sql of the restored database
#    with that of a fresh CREATE EXTENSION baton. From an older version it also upgrades a
#    copy of the source in place (ALTER EXTENSION baton UPDATE): its catalog must equal a
#    fresh install's, and its rows are compared with the restored ones over the newest
#    columns — a difference (an upgrade script's data migration that a restore skips) is
#    printed as a NOTE, and fails only with BATON_DUMP_STRICT=1;
# 5. works in the restored database: the waiting job is claimed and finished, a new job is
#    deferred, claimed and finished, the running jobs are finished with the lease tokens
#    read before the dump, the lock's next job is unblocked, the queueing lock still
#    refuses a duplicate, a queue that keeps no successes still deletes them.
# Drops its databases at the end (BATON_KEEP_DBS=1 keeps them). Exit 0 on success.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
  echo "dump_restore.sh: PGHOST and PGPORT are not set; start a server first:" >&2
  echo "  . test/lib/server.sh && start_server && test/upgrade/dump_restore.sh 0.1.0" >&2
  exit 2
fi
export PGUSER=${PGUSER:-postgres}
# Every session prints timestamps the same way.
export PGTZ=UTC PGDATESTYLE='ISO, YMD'

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
fail() { echo "dump_restore.sh: FAILED: $*" >&2; exit 1; }
sql() { local db=$1; shift; "${PSQL[@]}" -d "$db" -c "$*"; }
expect() {  # expect WHAT ACTUAL EXPECTED
  [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}

newest=$(sql postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'baton'")
[ -n "$newest" ] || fail "baton is not installed in this server (make install)"
from=${1:-newest}
[ "$from" = newest ] && from=$newest
available=$(sql postgres "SELECT count(*) FROM pg_available_extension_versions
                          WHERE name = 'baton' AND version = '$from'")
[ "$available" = 1 ] || fail "baton version '$from' cannot be installed here"

tag=$$
src=baton_dump_src_$tag
dst=baton_dump_dst_$tag
fresh=baton_dump_fresh_$tag
upgraded=baton_dump_upgraded_$tag
at_version=baton_dump_at_version_$tag
work=$(mktemp -d /tmp/baton-dump.XXXXXX)

cleanup() {
  local rc=$?
  if [ -z "${BATON_KEEP_DBS:-}" ]; then
    for db in "$src" "$dst" "$fresh" "$upgraded" "$at_version"; do
      "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
  else
    echo "dump_restore.sh: kept databases $src $dst $fresh $upgraded $at_version" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------
# 1. The source database.
# ---------------------------------------------------------------------------------------
sql postgres "CREATE DATABASE $src TEMPLATE template0"
sql "$src" "CREATE EXTENSION baton VERSION '$from'"

# ---------------------------------------------------------------------------------------
# 2. Jobs in every state, through the 0.1.0 API only.
# ---------------------------------------------------------------------------------------
s() { sql "$src" "$@"; }
# claim QUEUE LEASE: claims one job, prints "id|lease_token".
claim() { s "SELECT id, lease_token FROM baton.fetch_v1(ARRAY['$1'], 'worker-$1', 1, lease => '$2')"; }
# claim_expect WHAT QUEUE JOB_ID: claims one job of QUEUE, checks it is JOB_ID, prints its token.
claim_expect() {
  local got id token
  got=$(claim "$2" '1 hour')
  IFS='|' read -r id token <<<"$got"
  expect "$1: claimed job" "$id" "$3"
  echo "$token"
}

s "SELECT baton.create_queue_v1('dr_main')" >/dev/null                    # the defaults
s "SELECT baton.create_queue_v1('dr_work', notify => false)" >/dev/null
s "SELECT baton.create_queue_v1('dr_nokeep', keep_succeeded => false)" >/dev/null
s "SELECT baton.create_queue_v1('dr_quiet', notify => false, keep_succeeded => false)" >/dev/null
s "SELECT baton.create_queue_v1('dr_lock')" >/dev/null
s "SELECT baton.create_queue_v1('dr_run', keep_succeeded => false)" >/dev/null
# A second call updates the settings (false: not new).
expect "create_queue_v1 update" \
  "$(s "SELECT baton.create_queue_v1('dr_run', keep_succeeded => true)")" f
# An idle worker listens on two queues (listening_until differs from its default).
s "SELECT baton.await_work_v1(ARRAY['dr_main', 'dr_lock'], '1 hour')" >/dev/null

# dr_main: one job due now (claimed after the restore), one scheduled.
waiting_id=$(s "SELECT baton.defer_v1('dr_main', 'send_welcome',
                  '{\"user_id\": 1, \"name\": \"Zoë\", \"tags\": [\"a\", \"b\"], \"n\": 1.50}')")
scheduled_id=$(s "SELECT baton.defer_v1('dr_main', 'digest', '{\"user_id\": 2}', delay => '2 hours',
                    priority => 3, max_attempts => 7, retry_backoff => 'linear',
                    retry_delay => '5 seconds', retry_delay_max => '10 minutes')")

# dr_work: each job is deferred, claimed and finished before the next is deferred.
succ_id=$(s "SELECT baton.defer_v1('dr_work', 'ok', '{\"n\": 1}')")
token=$(claim_expect succeeded dr_work "$succ_id")
expect "finish succeeded" "$(s "SELECT baton.finish_v1($succ_id, '$token', 'succeeded',
                                  result => '{\"sent\": true}')")" succeeded

dead_id=$(s "SELECT baton.defer_v1('dr_work', 'fragile', max_attempts => 1)")
token=$(claim_expect dead dr_work "$dead_id")
expect "finish failed (last attempt)" "$(s "SELECT baton.finish_v1($dead_id, '$token', 'failed',
                                              error => 'boom')")" dead

dead2_id=$(s "SELECT baton.defer_v1('dr_work', 'fatal', '{\"input\": \"bad\"}')")
token=$(claim_expect dead2 dr_work "$dead2_id")
expect "finish failed, not retryable" "$(s "SELECT baton.finish_v1($dead2_id, '$token', 'failed',
                                              error => 'bad input', retryable => false)")" dead

wcancel_id=$(s "SELECT baton.defer_v1('dr_work', 'gives_up')")
token=$(claim_expect cancelled dr_work "$wcancel_id")
expect "finish cancelled" "$(s "SELECT baton.finish_v1($wcancel_id, '$token', 'cancelled',
                                  error => 'worker gave up')")" cancelled

retry_id=$(s "SELECT baton.defer_v1('dr_work', 'flaky', max_attempts => 3,
                retry_backoff => 'constant', retry_delay => '1 hour')")
token=$(claim_expect retried dr_work "$retry_id")
expect "finish failed, retried" "$(s "SELECT baton.finish_v1($retry_id, '$token', 'failed',
                                        error => 'timeout')")" waiting

# The dead job back to waiting with a fresh set of attempts (events: dead, retried).
s "SELECT baton.retry_v1($dead_id)" >/dev/null

# dr_run: two running jobs under a long lease; one has had its lease extended, the other
# an abort request.
running_id=$(s "SELECT baton.defer_v1('dr_run', 'long_task', '{\"size\": 1000}')")
running_token=$(claim_expect running dr_run "$running_id")
expect "heartbeat" "$(s "SELECT abort_requested FROM baton.heartbeat_v1($running_id,
                           '$running_token', '2 hours')")" f
abort_id=$(s "SELECT baton.defer_v1('dr_run', 'abortable')")
abort_token=$(claim_expect abort dr_run "$abort_id")
s "SELECT baton.request_abort_v1($abort_id)" >/dev/null
expect "heartbeat after abort request" "$(s "SELECT abort_requested FROM baton.heartbeat_v1(
                                               $abort_id, '$abort_token')")" t

# dr_lock: a running head with a blocked job behind it; a blocked job cancelled by an
# operator; a second lock whose head is waiting.
head_id=$(s "SELECT baton.defer_v1('dr_lock', 'locked_a', lock => 'user:42')")
head_token=$(claim_expect "lock head" dr_lock "$head_id")
blocked_id=$(s "SELECT baton.defer_v1('dr_lock', 'locked_b', '{\"step\": 2}', lock => 'user:42')")
bcancel_id=$(s "SELECT baton.defer_v1('dr_lock', 'locked_c', lock => 'user:42',
                  queueing_lock => 'c:42')")
s "SELECT baton.cancel_v1($bcancel_id, reason => 'superseded')" >/dev/null
head2_id=$(s "SELECT baton.defer_v1('dr_lock', 'locked_d', lock => 'user:7', delay => '3 hours')")
blocked2_id=$(s "SELECT baton.defer_v1('dr_lock', 'locked_e', lock => 'user:7')")

# dr_quiet: a queueing lock, a marked high-priority job with a past run_at, a bulk defer,
# a waiting job cancelled by an operator.
qlock_id=$(s "SELECT baton.defer_v1('dr_quiet', 'digest', '{\"user_id\": 42}', priority => 5,
                queueing_lock => 'digest:42')")
s "SELECT baton.defer_v1('dr_quiet', 'urgent', priority => 10,
     run_at => now() - interval '1 minute')" >/dev/null
s "SELECT * FROM baton.defer_many_v1('dr_quiet', 'bulk',
     ARRAY['{\"i\": 1}', '{\"i\": 2}', '{\"i\": 3}']::jsonb[], priority => -1)" >/dev/null
ocancel_id=$(s "SELECT baton.defer_v1('dr_quiet', 'obsolete')")
s "SELECT baton.cancel_v1($ocancel_id, reason => 'obsolete')" >/dev/null

# dr_nokeep: a success is deleted, a dead job is kept, one job waits (its copy of
# keep_succeeded must survive the dump).
gone_id=$(s "SELECT baton.defer_v1('dr_nokeep', 'gone')")
token=$(claim_expect "not kept" dr_nokeep "$gone_id")
expect "finish succeeded, not kept" "$(s "SELECT baton.finish_v1($gone_id, '$token',
                                            'succeeded')")" succeeded
kdead_id=$(s "SELECT baton.defer_v1('dr_nokeep', 'kept_dead', max_attempts => 1)")
token=$(claim_expect "kept dead" dr_nokeep "$kdead_id")
expect "finish failed in dr_nokeep" "$(s "SELECT baton.finish_v1($kdead_id, '$token', 'failed',
                                            error => 'no')")" dead
nokeep_id=$(s "SELECT baton.defer_v1('dr_nokeep', 'later')")
expect "succeeded job of dr_nokeep deleted" \
  "$(s "SELECT count(*) FROM baton.all_jobs WHERE id = $gone_id")" 0

# Every state is there.
states=$(s "SELECT string_agg(st, ',' ORDER BY st) FROM (
              SELECT DISTINCT CASE WHEN status = 'waiting' AND run_at > clock_timestamp()
                                   THEN 'scheduled' ELSE status END AS st
              FROM baton.all_jobs) x")
expect "states before the dump" "$states" \
  "blocked,cancelled,dead,running,scheduled,succeeded,waiting"
njobs=$(s "SELECT count(*) FROM baton.all_jobs")
nstates=$(tr ',' '\n' <<<"$states" | wc -l)

# Workflows (0.3.0 and later): a completed run with steps and a snapshot, a run continued
# as new (runs referencing each other both ways), and a running run held by its driver
# job, whose worker goes on after the restore with its lease token and fence.
has_runs=$(s "SELECT to_regclass('baton.runs') IS NOT NULL")
if [ "$has_runs" = t ]; then
  s "SELECT baton.create_queue_v1('dr_wf')" >/dev/null
  s "SELECT created FROM baton.register_workflow_v1('dr_flow', 1,
       '{\"steps\": [{\"name\": \"a\", \"compensation\": \"undo_a\"}]}', snapshot_threshold => 10)" >/dev/null
  # drive KEY: starts a run and claims its driver; prints "run_id|job_id|token|fence"
  drive() {
    local run got id token fence
    run=$(s "SELECT run_id FROM baton.start_run_v1('dr_flow', '{\"k\": \"$1\"}', idempotency_key => '$1',
               correlation_id => 'dr-$1', queue => 'dr_wf')")
    got=$(s "SELECT id, lease_token FROM baton.fetch_v2(ARRAY['dr_wf'], 'wf-worker', 1, '1 hour')")
    IFS='|' read -r id token <<<"$got"
    fence=$(s "SELECT fence FROM baton.claim_run_v1($run, $id, '$token')")
    echo "$run|$id|$token|$fence"
  }
  IFS='|' read -r done_run done_job done_token done_fence <<<"$(drive done)"
  s "SELECT baton.record_step_v1($done_run, $done_fence, 1, 'a', '{\"r\": 1}', compensation_task => 'undo_a')" >/dev/null
  s "SELECT baton.append_event_v1($done_run, $done_fence, 'dr.note', '{\"n\": 1}')" >/dev/null
  s "SELECT baton.write_snapshot_v1($done_run, $done_fence, 2, '{\"state\": 1}')" >/dev/null
  s "SELECT baton.complete_run_v1($done_run, $done_fence, '{\"ok\": true}')" >/dev/null
  s "SELECT baton.finish_v1($done_job, '$done_token', 'succeeded')" >/dev/null
  IFS='|' read -r cont_run cont_job cont_token cont_fence <<<"$(drive cont)"
  next_run=$(s "SELECT baton.continue_as_new_v1($cont_run, $cont_fence, '{\"page\": 2}')")
  s "SELECT baton.finish_v1($cont_job, '$cont_token', 'succeeded')" >/dev/null
  s "SELECT id FROM baton.fetch_v2(ARRAY['dr_wf'], 'wf-worker', 1, '1 hour')" >/dev/null  # next_run's driver
  IFS='|' read -r held_run held_job held_token held_fence <<<"$(drive held)"
  s "SELECT baton.record_step_v1($held_run, $held_fence, 1, 'a', compensation_task => 'undo_a')" >/dev/null
  expect "runs before the dump" \
    "$(s "SELECT string_agg(status::text, ',' ORDER BY id) FROM baton.runs")" "completed,continued,running,running"
fi

# ---------------------------------------------------------------------------------------
# 3. The listing, over the columns the source version has.
# ---------------------------------------------------------------------------------------
# listing_sql DB FILE: writes the listing script over the columns DB's tables have.
listing_sql() {
  local db=$1 file=$2
  columns() {
    sql "$db" "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                WHERE attrelid = '$1'::regclass AND attnum > 0 AND NOT attisdropped"
  }
  cat >"$file" <<EOF
\\pset null '<null>'
SET extra_float_digits = 0;
\\echo == baton.all_jobs
SELECT $(columns baton.all_jobs) FROM baton.all_jobs ORDER BY id;
\\echo == baton.queues
SELECT $(columns baton.queues) FROM baton.queues ORDER BY name;
\\echo == baton.jobs
SELECT $(columns baton.jobs) FROM baton.jobs ORDER BY id;
\\echo == baton.jobs_finished
SELECT $(columns baton.jobs_finished) FROM baton.jobs_finished ORDER BY id;
\\echo == baton.job_id_seq
SELECT last_value, is_called FROM baton.job_id_seq;
\\echo == baton.job_history_v1
SELECT a.id, h.* FROM baton.all_jobs a CROSS JOIN LATERAL baton.job_history_v1(a.id) h
 ORDER BY a.id, h.seq;
EOF
  # The workflow tables (0.3.0 and later), when this database has them.
  if [ "$(sql "$db" "SELECT to_regclass('baton.runs') IS NOT NULL")" = t ]; then
    cat >>"$file" <<EOF
\\echo == baton.workflows
SELECT $(columns baton.workflows) FROM baton.workflows ORDER BY name, version;
\\echo == baton.runs
SELECT $(columns baton.runs) FROM baton.runs ORDER BY id;
\\echo == baton.run_history
SELECT $(columns baton.run_history) FROM baton.run_history ORDER BY run_id, seq;
\\echo == baton.run_steps
SELECT $(columns baton.run_steps) FROM baton.run_steps ORDER BY run_id, step;
\\echo == baton.run_snapshots
SELECT $(columns baton.run_snapshots) FROM baton.run_snapshots ORDER BY run_id, through_seq;
\\echo == baton.run_id_seq
SELECT last_value, is_called FROM baton.run_id_seq;
EOF
  fi
}
listing() { "${PSQL[@]}" -d "$1" -f "$2" >"$3"; }  # listing DB SQL_FILE OUTPUT
catalog() { "${PSQL[@]}" -d "$1" -f "$here/catalog.sql" >"$2"; }
listing_sql "$src" "$work/listing.sql"
listing "$src" "$work/listing.sql" "$work/before.txt"
seq_before=$(s "SELECT last_value FROM baton.job_id_seq")

# ---------------------------------------------------------------------------------------
# 4. Dump, restore into an empty database, compare.
# ---------------------------------------------------------------------------------------
pg_dump -Fc -d "$src" -f "$work/baton.dump"
# A copy of the same data, upgraded in place, for comparison with the restore below.
if [ "$from" != "$newest" ]; then
  sql postgres "CREATE DATABASE $upgraded TEMPLATE $src"
  sql "$upgraded" "ALTER EXTENSION baton UPDATE"
fi
sql postgres "CREATE DATABASE $dst TEMPLATE template0"
rc=0
pg_restore -d "$dst" "$work/baton.dump" >"$work/restore.log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
  cat "$work/restore.log" >&2
  fail "pg_restore exited with $rc"
fi
if [ -s "$work/restore.log" ]; then
  echo "pg_restore said:"; cat "$work/restore.log"
fi
restored=$(sql "$dst" "SELECT extversion FROM pg_extension WHERE extname = 'baton'")
expect "version of the restored extension" "$restored" "$newest"

listing "$dst" "$work/listing.sql" "$work/after.txt"
if ! diff -u "$work/before.txt" "$work/after.txt" >"$work/listing.diff"; then
  cat "$work/listing.diff" >&2
  fail "the restored database's jobs differ from the dumped ones (diff above)"
fi

# The restored extension is the same as a fresh install of its version.
sql postgres "CREATE DATABASE $fresh TEMPLATE template0"
sql "$fresh" "CREATE EXTENSION baton"
catalog "$dst" "$work/catalog_restored.txt"
catalog "$fresh" "$work/catalog_fresh.txt"
if ! diff -u "$work/catalog_fresh.txt" "$work/catalog_restored.txt" >"$work/catalog.diff"; then
  cat "$work/catalog.diff" >&2
  fail "the restored extension's catalog differs from a fresh CREATE EXTENSION (diff above)"
fi

# From an older version: the restore (newest script, then the old rows copied in) against
# the same rows upgraded in place by ALTER EXTENSION UPDATE, over the newest columns. A
# difference means a data migration of an upgrade script that a restore does not perform
# (columns the dump lacks get their defaults instead). Reported; fatal only with
# BATON_DUMP_STRICT=1. The upgraded copy's catalog must equal a fresh install's.
migration_note=
if [ "$from" != "$newest" ]; then
  catalog "$upgraded" "$work/catalog_upgraded.txt"
  if ! diff -u "$work/catalog_fresh.txt" "$work/catalog_upgraded.txt" >"$work/catalog_upg.diff"; then
    cat "$work/catalog_upg.diff" >&2
    fail "after ALTER EXTENSION baton UPDATE from $from the catalog differs from a fresh CREATE EXTENSION (diff above)"
  fi
  listing_sql "$dst" "$work/listing_newest.sql"
  listing "$upgraded" "$work/listing_newest.sql" "$work/upgraded_newest.txt"
  listing "$dst" "$work/listing_newest.sql" "$work/restored_newest.txt"
  if ! diff -u "$work/upgraded_newest.txt" "$work/restored_newest.txt" \
       >"$work/migration.diff"; then
    echo "NOTE: restoring a $from dump into $newest gives other data than ALTER EXTENSION" \
         "baton UPDATE of the same rows (- upgraded in place, + restored):"
    cat "$work/migration.diff"
    [ -z "${BATON_DUMP_STRICT:-}" ] || fail "restore and in-place upgrade disagree (diff above)"
    migration_note=" (NOTE: a plain restore differs from an in-place upgrade, see above)"
  fi
  # The documented way to restore an older release's dump (README "Upgrades"): create the
  # extension at the dump's version first (the dump's CREATE EXTENSION IF NOT EXISTS then
  # does nothing), restore, then ALTER EXTENSION baton UPDATE, which runs the upgrade
  # scripts' data migrations too. That must equal the in-place upgrade exactly.
  sql postgres "CREATE DATABASE $at_version TEMPLATE template0"
  sql "$at_version" "CREATE EXTENSION baton VERSION '$from'"
  # The dump creates schema baton itself (it is not a member of the extension), so the one
  # error expected here is that it exists; any other error fails.
  pg_restore -d "$at_version" "$work/baton.dump" >"$work/restore_at_version.log" 2>&1 || true
  others=$(grep '^pg_restore: error:' "$work/restore_at_version.log" |
    grep -vc 'schema "baton" already exists' || true)
  if [ "$others" != 0 ]; then
    cat "$work/restore_at_version.log" >&2
    fail "pg_restore into a database at $from: $others unexpected errors"
  fi
  sql "$at_version" "ALTER EXTENSION baton UPDATE"
  listing "$at_version" "$work/listing_newest.sql" "$work/at_version_newest.txt"
  if diff -u "$work/upgraded_newest.txt" "$work/at_version_newest.txt" >"$work/at_version.diff"; then
    migration_note="$migration_note; restored at $from then updated: equal to an in-place upgrade"
  else
    cat "$work/at_version.diff" >&2
    fail "restore at $from + ALTER EXTENSION UPDATE differs from an in-place upgrade (diff above)"
  fi
  catalog "$at_version" "$work/catalog_at_version.txt"
  if ! diff -u "$work/catalog_fresh.txt" "$work/catalog_at_version.txt" >"$work/catalog_atv.diff"; then
    cat "$work/catalog_atv.diff" >&2
    fail "restore at $from + ALTER EXTENSION UPDATE: catalog differs from a fresh install"
  fi
fi

# ---------------------------------------------------------------------------------------
# 5. The restored database works.
# ---------------------------------------------------------------------------------------
d() { sql "$dst" "$@"; }
claim_dst() {  # claim_dst WHAT QUEUE JOB_ID: prints the token
  local got id token
  got=$(d "SELECT id, lease_token FROM baton.fetch_v1(ARRAY['$2'], 'restored-worker', 1)")
  IFS='|' read -r id token <<<"$got"
  expect "after restore, $1: claimed job" "$id" "$3"
  echo "$token"
}

# The running job is still running under its lease token, and its worker can finish it.
expect "after restore, running job" \
  "$(d "SELECT status || ' ' || (lease_expires_at > clock_timestamp()) FROM baton.jobs
         WHERE id = $running_id AND lease_token = '$running_token'")" "running true"
expect "after restore, finish the running job with its old token" \
  "$(d "SELECT baton.finish_v1($running_id, '$running_token', 'succeeded',
                               result => '{\"done\": true}')")" succeeded
# The abort request survived; its worker learns it and stops.
expect "after restore, heartbeat of the aborted job" \
  "$(d "SELECT abort_requested FROM baton.heartbeat_v1($abort_id, '$abort_token')")" t
expect "after restore, finish the aborted job" \
  "$(d "SELECT baton.finish_v1($abort_id, '$abort_token', 'cancelled')")" cancelled

# The job that was waiting is claimed (the scheduled one is not due) and finished.
token=$(claim_dst "waiting job" dr_main "$waiting_id")
expect "after restore, finish the waiting job" \
  "$(d "SELECT baton.finish_v1($waiting_id, '$token', 'succeeded')")" succeeded

# A new job gets an id above every dumped one.
new_id=$(d "SELECT baton.defer_v1('dr_main', 'after_restore', '{\"new\": true}')")
[ "$new_id" -gt "$seq_before" ] || fail "after restore, new job id $new_id <= $seq_before"
token=$(claim_dst "new job" dr_main "$new_id")
expect "after restore, finish the new job" \
  "$(d "SELECT baton.finish_v1($new_id, '$token', 'succeeded')")" succeeded

# The lock head finishes with its old token; the job blocked behind it becomes waiting.
expect "after restore, finish the lock head" \
  "$(d "SELECT baton.finish_v1($head_id, '$head_token', 'succeeded')")" succeeded
expect "after restore, job behind the lock" \
  "$(d "SELECT status FROM baton.all_jobs WHERE id = $blocked_id")" waiting
token=$(claim_dst "unblocked job" dr_lock "$blocked_id")
expect "after restore, finish the unblocked job" \
  "$(d "SELECT baton.finish_v1($blocked_id, '$token', 'succeeded')")" succeeded
expect "after restore, job behind the waiting head" \
  "$(d "SELECT status FROM baton.all_jobs WHERE id = $blocked2_id")" blocked

# The retried job is claimable with its fresh attempts.
token=$(claim_dst "retried job" dr_work "$dead_id")
expect "after restore, finish the retried job" \
  "$(d "SELECT baton.finish_v1($dead_id, '$token', 'succeeded')")" succeeded

# The queueing lock still refuses a duplicate (23505).
d "DO \$\$BEGIN
     PERFORM baton.defer_v1('dr_quiet', 'digest', queueing_lock => 'digest:42');
     RAISE EXCEPTION 'a duplicate queueing lock was accepted after the restore';
   EXCEPTION WHEN unique_violation THEN NULL;
   END\$\$" || fail "after restore, queueing lock"
expect "after restore, queueing lock holder" \
  "$(d "SELECT status FROM baton.jobs WHERE queueing_lock = 'digest:42'")" waiting

# A queue that keeps no successes still deletes them (the job's own copy of the setting).
token=$(claim_dst "job of dr_nokeep" dr_nokeep "$nokeep_id")
expect "after restore, finish in dr_nokeep" \
  "$(d "SELECT baton.finish_v1($nokeep_id, '$token', 'succeeded')")" succeeded
expect "after restore, success in dr_nokeep deleted" \
  "$(d "SELECT count(*) FROM baton.all_jobs WHERE id = $nokeep_id")" 0

# The held run goes on after the restore with its worker's fence; load_run_v1 uses the
# dumped snapshot; a new run gets an id above every dumped one; idempotency keys hold.
if [ "${has_runs:-f}" = t ]; then
  expect "after restore, step of the held run" \
    "$(d "SELECT baton.record_step_v1($held_run, $held_fence, 2, 'b')")" 3
  d "SELECT baton.complete_run_v1($held_run, $held_fence)" >/dev/null
  expect "after restore, held run completed" \
    "$(d "SELECT status FROM baton.runs WHERE id = $held_run")" completed
  expect "after restore, load_run_v1 of the completed run" \
    "$(d "SELECT string_agg(item || ':' || seq, ',' ORDER BY seq) FROM baton.load_run_v1($done_run)")" \
    "snapshot:2,event:3,event:4"
  expect "after restore, continue-as-new links" \
    "$(d "SELECT continued_to = $next_run FROM baton.runs WHERE id = $cont_run")" t
  new_run=$(d "SELECT run_id FROM baton.start_run_v1('dr_flow', queue => 'dr_wf')")
  [ "$new_run" -gt "$next_run" ] || fail "after restore, new run id $new_run <= $next_run"
  expect "after restore, an idempotency key still finds its run" \
    "$(d "SELECT run_id = $done_run AND NOT created FROM baton.start_run_v1('dr_flow', idempotency_key => 'done', queue => 'dr_wf')")" t
fi

echo "dump/restore from $from: $njobs jobs in $nstates states kept" \
     "(restored as $restored; states: $states)$migration_note"
