#!/usr/bin/env bash
# Tests of baton::Worker against a real server (no mocks), one fresh database per test:
#   1. drain: 4 slots, 3,000 jobs + 200 jobs with follow-ups, handlers failing at random
#   2. kill -9 of a worker in the middle of jobs: recovered after the lease, finished once
#   3. SIGTERM: running jobs finish within the grace and exit 0; past the grace, released
#   4. server restart (pg_ctl restart -m fast) mid-run: reconnects, every job ends once
#   5. wake-ups: a notify => false queue is drained by polling; a notify queue by NOTIFY;
#      slots whose handlers use no SQL hold no connection
#   6. a 0.1.0 database: fetch_v1 without task filter; a task without a handler fails clearly
#   7. a finish that committed but whose answer was lost: its retry counts as the success
#   8. kill -9 of a worker in the middle of workflow runs: each run resumes at its first
#      unfinished step on another worker; no step recorded before the kill runs again
# (2 also covers heartbeats of a job longer than its lease and request_abort_v1.)
# Needs PGHOST/PGPORT/PGUSER of a throwaway server started by test/lib/server.sh:
#   cd /work/main && . test/lib/server.sh && start_server && test/client/worker/run.sh
# BATON_PG_DIR (default: PGHOST, where start_server puts the socket) is the server's
# directory; test 4 restarts the server in $BATON_PG_DIR/data.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
. "$ROOT/test/lib/server.sh"  # as_postgres, BATON_PG_BIN (does not start a server)
: "${PGHOST:?PGHOST of a running throwaway server}" "${PGPORT:?}" "${PGUSER:?}"
BATON_PG_DIR=${BATON_PG_DIR:-$PGHOST}

make -s -C "$ROOT/client" lib >/dev/null
make -s -C "$HERE" >/dev/null
TW=${BATON_TEST_WORKER:-$HERE/build/test_worker}  # e.g. a -fsanitize=thread build
WORK=$(mktemp -d /tmp/baton-worker-test.XXXXXX)
chmod 755 "$WORK"
PIDS=()
FAILURES=0
reset_sync() {
  psql -XAtq -d postgres -c "ALTER SYSTEM RESET synchronous_standby_names" \
    -c "SELECT pg_reload_conf()" >/dev/null
}
cleanup() {
  local p
  [ -z "${SYNC_SET:-}" ] || reset_sync || true  # test 7 did not get to undo its setting
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "$FAILURES" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT

fail() { echo "  FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { echo "  ok: $*"; }
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
newdb() {
  DB=$1
  psql -XAtq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
    -c "CREATE DATABASE $DB" >/dev/null
  sql "CREATE EXTENSION baton" >/dev/null
}
# waits up to $1 seconds for the SQL $2 to return t
wait_sql() {
  local deadline=$(($(now_ms) + $1 * 1000))
  while [ "$(sql "$2")" != t ]; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}
# waits up to $1 seconds for the file $2 to have at least $3 lines starting with "S "
wait_starts() {
  local deadline=$(($(now_ms) + $1 * 1000))
  local n
  for (( ; ; )); do
    n=$(grep -c '^S ' "$2" 2>/dev/null) || true  # grep -c exits 1 on no match, 2 without a file
    [ "${n:-0}" -lt "$3" ] || return 0
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# starts a test worker in the background: start_worker <name> <args...>; sets WPID
start_worker() {
  local name=$1
  shift
  PGDATABASE=$DB "$TW" --log "$WORK/$name.runs" --stats "$WORK/$name.stats" "$@" \
    2>>"$WORK/$name.err" &
  WPID=$!
  PIDS+=("$WPID")
}
# stops a worker with SIGTERM, waits up to $2 s; sets RC and STOP_MS (time to exit)
stop_worker() {
  local pid=$1 limit=$2 t0 deadline
  t0=$(now_ms)
  deadline=$((t0 + limit * 1000))
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now_ms)" -ge "$deadline" ]; then
      fail "worker $pid did not exit within ${limit}s of SIGTERM"
      kill -9 "$pid"
      break
    fi
    sleep 0.02
  done
  RC=0
  wait "$pid" || RC=$?
  STOP_MS=$(($(now_ms) - t0))
}
stat() { sed -n "s/^$2=//p" "$WORK/$1.stats" 2>/dev/null || echo -1; }
check_runs() {  # check_runs <queue[,queue]> <mode> <killed pids> <final statuses> <run logs...>
  local queue=$1 mode=$2 killed=$3 final=$4
  shift 4
  sql "SELECT 'D', id, status, attempts FROM baton.all_jobs
         WHERE queue = ANY (string_to_array('$queue', ','))" | tr '|' ' ' >"$WORK/$queue.db"
  if awk -v mode="$mode" -v killed="$killed" -v final="$final" -f "$HERE/check_runs.awk" \
    "$WORK/$queue.db" "$@"; then
    pass "run logs agree with the database ($mode)"
  else
    fail "run logs disagree with the database"
  fi
}
active() { sql "SELECT count(*) FROM baton.all_jobs WHERE queue = '$1' AND status IN ('waiting', 'running', 'blocked')"; }

T_START=$(now_ms)

# ---- 1 ------------------------------------------------------------------------------------
echo "1. drain 3,000 jobs (+200 with follow-ups) with random failures, 4 slots"
newdb bw_drain
sql "SELECT baton.create_queue_v1('q1')" >/dev/null
# Immediate retries (constant 0 s) keep the test short; 25 % failures with 5 attempts leave
# about one job in 1,000 dead.
sql "SELECT count(*) FROM baton.defer_many_v1('q1', 'work',
       (SELECT array_agg(jsonb_build_object('sleep_ms', g % 3, 'fail_pct', 25))
          FROM generate_series(1, 3000) g), retry_backoff => 'constant', retry_delay => '0')" >/dev/null
sql "SELECT count(*) FROM baton.defer_many_v1('q1', 'chain',
       (SELECT array_agg(jsonb_build_object('sleep_ms', 1, 'fail_pct', 25))
          FROM generate_series(1, 200) g), retry_backoff => 'constant', retry_delay => '0')" >/dev/null
t0=$(now_ms)
start_worker t1 --queues q1 --slots 4 --poll-ms 500
W1=$WPID
if wait_sql 40 "SELECT count(*) = 0 FROM baton.all_jobs WHERE queue = 'q1' AND status IN ('waiting', 'running', 'blocked')"; then
  pass "drained in $(($(now_ms) - t0)) ms"
else
  fail "not drained within 40 s: $(active q1) jobs active"
fi
stop_worker "$W1" 10
[ "$RC" -eq 0 ] && pass "exit 0 after SIGTERM ($STOP_MS ms)" || fail "exit code $RC"
check_runs q1 strict "" "succeeded dead" "$WORK/t1.runs"
echo "  $(sql "SELECT string_agg(status || '=' || n, ' ') FROM (SELECT status, count(*) n FROM baton.all_jobs GROUP BY 1 ORDER BY 1) s"), worker: claimed=$(stat t1 claimed) succeeded=$(stat t1 succeeded) failed=$(stat t1 failed) fetches=$(stat t1 fetches) finish_calls=$(stat t1 finish_calls)"
[ "$(stat t1 claimed)" -eq $(($(stat t1 succeeded) + $(stat t1 failed))) ] &&
  [ "$(stat t1 lease_lost)" -eq 0 ] && pass "counters: claimed = succeeded + failed, lease_lost 0" ||
  fail "counters do not add up: $(tr '\n' ' ' <"$WORK/t1.stats")"
# Batching: with 4 slots, fewer fetch/finish calls than jobs shows jobs were claimed and
# reported several at a time.
attempts=$(sql "SELECT sum(attempts) FROM baton.all_jobs")
[ "$(stat t1 finish_calls)" -lt "$attempts" ] && pass "finish batched: $(stat t1 finish_calls) calls for $attempts attempts" ||
  fail "no finish batching: $(stat t1 finish_calls) calls for $attempts attempts"
bad=$(sql "SELECT count(*) FROM baton.all_jobs c WHERE c.task = 'chain'
             AND (SELECT count(*) FROM baton.all_jobs f WHERE f.args->>'parent' = c.id::text)
                 <> CASE WHEN c.status = 'succeeded' THEN 1 ELSE 0 END")
[ "$bad" -eq 0 ] && pass "follow-ups: one per succeeded chain job, none for dead ones ($(sql "SELECT count(*) FROM baton.all_jobs WHERE args ? 'parent'") follow-ups)" ||
  fail "$bad chain jobs with a wrong number of follow-ups"

# ---- 2 ------------------------------------------------------------------------------------
echo "2. kill -9 of a worker in the middle of jobs (lease 2 s)"
newdb bw_kill
sql "SELECT baton.create_queue_v1('q2')" >/dev/null
sql "SELECT count(*) FROM baton.defer_many_v1('q2', 'work',
       (SELECT array_agg(jsonb_build_object('sleep_ms', 800)) FROM generate_series(1, 12)),
       retry_backoff => 'constant', retry_delay => '0')" >/dev/null
start_worker t2a --queues q2 --slots 4 --lease-ms 2000 --poll-ms 300
W2A=$WPID
wait_starts 10 "$WORK/t2a.runs" 4 || fail "worker A never started 4 jobs"
sleep 0.2
kill -9 "$W2A"
wait "$W2A" 2>/dev/null || true
t0=$(now_ms)
in_flight=$(awk '$1 == "S" { s[$2] = 1 } $1 == "E" { delete s[$2] } END { print length(s) }' "$WORK/t2a.runs")
[ "$in_flight" -ge 1 ] && pass "killed worker A with $in_flight jobs running" || fail "no job was running at the kill"
# Worker B also gets a job 2.5 leases long (only heartbeats keep it) and one that an operator
# aborts while it runs.
sql "SELECT baton.create_queue_v1('q2x')" >/dev/null
LONG=$(sql "SELECT baton.defer_v1('q2x', 'work', '{\"sleep_ms\": 5000}')")
ABORT=$(sql "SELECT baton.defer_v1('q2x', 'work', '{\"sleep_ms\": 30000, \"ctx_sleep\": true}')")
start_worker t2b --queues q2,q2x --slots 4 --lease-ms 2000 --poll-ms 300
W2B=$WPID
wait_sql 10 "SELECT status = 'running' FROM baton.all_jobs WHERE id = $ABORT" || fail "the abort job never ran"
sql "SELECT baton.request_abort_v1($ABORT)" >/dev/null
if wait_sql 20 "SELECT count(*) = 0 FROM baton.all_jobs WHERE queue = 'q2' AND status IN ('waiting', 'running', 'blocked')"; then
  pass "worker B finished everything $(($(now_ms) - t0)) ms after the kill"
else
  fail "not drained 20 s after the kill: $(active q2) active"
fi
wait_sql 10 "SELECT count(*) = 0 FROM baton.all_jobs WHERE queue = 'q2x' AND status IN ('waiting', 'running')" ||
  fail "q2x: $(active q2x) jobs still active"
stop_worker "$W2B" 10
[ "$RC" -eq 0 ] || fail "worker B exit code $RC"
recovered=$(sql "SELECT count(*) FROM baton.all_jobs WHERE queue = 'q2' AND status = 'succeeded' AND attempts = 2")
[ "$recovered" -eq "$in_flight" ] && pass "the $in_flight killed jobs were recovered (2nd attempt) and succeeded" ||
  fail "$recovered jobs with 2 attempts, $in_flight were in flight at the kill"
check_runs q2,q2x loose "$W2A" "succeeded cancelled" "$WORK/t2a.runs" "$WORK/t2b.runs"
row=$(sql "SELECT status || '/' || attempts FROM baton.all_jobs WHERE id = $LONG")
[ "$row" = "succeeded/1" ] && [ "$(stat t2b heartbeats)" -gt 0 ] &&
  pass "a job 2.5 leases long kept its lease by heartbeats (heartbeats=$(stat t2b heartbeats))" ||
  fail "long job: $row, heartbeats=$(stat t2b heartbeats)"
row=$(sql "SELECT status || '/' || attempts FROM baton.all_jobs WHERE id = $ABORT")
[ "$row" = "cancelled/1" ] && [ "$(stat t2b cancelled)" -eq 1 ] &&
  pass "request_abort_v1: the heartbeat told the handler, the job ended cancelled" ||
  fail "aborted job: $row, cancelled=$(stat t2b cancelled)"

# ---- 3 ------------------------------------------------------------------------------------
echo "3a. SIGTERM: running jobs finish within the grace period (5 s), nothing new is claimed"
newdb bw_term
sql "SELECT baton.create_queue_v1('q3')" >/dev/null
sql "SELECT count(*) FROM baton.defer_many_v1('q3', 'work',
       (SELECT array_agg(jsonb_build_object('sleep_ms', 1500)) FROM generate_series(1, 10)))" >/dev/null
start_worker t3a --queues q3 --slots 4 --grace-ms 5000 --poll-ms 300
W3=$WPID
wait_starts 10 "$WORK/t3a.runs" 4 || fail "the worker never started 4 jobs"
stop_worker "$W3" 10
[ "$RC" -eq 0 ] && [ "$STOP_MS" -lt 5000 ] && pass "exit 0 ${STOP_MS} ms after SIGTERM (grace 5000 ms)" ||
  fail "exit code $RC after $STOP_MS ms"
[ "$(sql "SELECT count(*) FROM baton.all_jobs WHERE queue = 'q3' AND status = 'succeeded' AND result IS NOT NULL")" -eq 4 ] &&
  [ "$(sql "SELECT count(*) FROM baton.all_jobs WHERE queue = 'q3' AND status = 'waiting' AND attempts = 0")" -eq 6 ] &&
  pass "the 4 running jobs succeeded with their results; the 6 others were never claimed" ||
  fail "after SIGTERM: $(sql "SELECT string_agg(status || '/' || attempts, ' ') FROM baton.all_jobs WHERE queue = 'q3'")"
# The 4 slots ran the 4 long jobs side by side, not one after the other (the slots pass
# wake-ups to one another: a regression there serialises slow handlers).
overlap=$(awk '$1 == "S" { print $5, 1 } $1 == "E" { print $5, -1 }' "$WORK/t3a.runs" | sort -n |
  awk '{ n += $2; if (n > max) max = n } END { print max + 0 }')
[ "$overlap" -eq 4 ] && pass "4 handlers ran at the same time on 4 slots" ||
  fail "at most $overlap handlers ran at the same time on 4 slots"
[ "$(grep -c '^S ' "$WORK/t3a.runs")" -eq 4 ] && pass "no job started after the signal" ||
  fail "$(grep -c '^S ' "$WORK/t3a.runs") jobs started, 4 were running at the signal"
check_runs q3 strict "" "succeeded waiting" "$WORK/t3a.runs"

echo "3b. SIGTERM: a job still running after the grace (1 s) is released, failed retryable"
sql "SELECT baton.create_queue_v1('q3b')" >/dev/null
sql "SELECT baton.defer_v1('q3b', 'work', '{\"sleep_ms\": 30000}')" >/dev/null
start_worker t3b --queues q3b --slots 2 --grace-ms 1000 --poll-ms 300
W3B=$WPID
wait_starts 10 "$WORK/t3b.runs" 1 || fail "the worker never started the long job"
stop_worker "$W3B" 10
[ "$RC" -eq 0 ] && [ "$STOP_MS" -lt 3000 ] && pass "exit 0 ${STOP_MS} ms after SIGTERM (grace 1000 ms)" ||
  fail "exit code $RC after $STOP_MS ms"
row=$(sql "SELECT status || '/' || attempts || '/' || coalesce(error, '') FROM baton.all_jobs WHERE queue = 'q3b'")
[ "$row" = "waiting/1/worker shut down" ] && [ "$(stat t3b released)" -eq 1 ] &&
  pass "released: the job waits for another worker (status/attempts/error: $row)" ||
  fail "after the grace: $row, released=$(stat t3b released)"
grep -q '^E .* stopped$' "$WORK/t3b.runs" && pass "the handler saw should_stop() and returned" ||
  fail "the handler did not stop"
# Its late outcome must be dropped, not reported a second time.
reports=$(grep -c 'event=job_\(done\|lease_lost\)' "$WORK/t3b.err" || true)
[ "$reports" -eq 1 ] && [ "$(stat t3b lease_lost)" -eq 0 ] && pass "reported once (the release), the late outcome dropped" ||
  fail "$reports reports of the released job, lease_lost=$(stat t3b lease_lost)"

# ---- 4 ------------------------------------------------------------------------------------
echo "4. server restart (pg_ctl restart -m fast) during a run"
newdb bw_restart
sql "SELECT baton.create_queue_v1('q4')" >/dev/null
sql "SELECT count(*) FROM baton.defer_many_v1('q4', 'work',
       (SELECT array_agg(jsonb_build_object('sleep_ms', 2, 'fail_pct', 10)) FROM generate_series(1, 3000)),
       retry_backoff => 'constant', retry_delay => '0')" >/dev/null
t0=$(now_ms)
start_worker t4 --queues q4 --slots 4 --lease-ms 4000 --poll-ms 500
W4=$WPID
wait_sql 30 "SELECT count(*) >= 600 FROM baton.all_jobs WHERE queue = 'q4' AND status = 'succeeded'" ||
  fail "the worker did not get going"
as_postgres "$BATON_PG_BIN/pg_ctl" -D "$BATON_PG_DIR/data" -m fast -w restart >/dev/null
echo "  server restarted after $(($(now_ms) - t0)) ms"
# The worker's first calls after the restart may fail: wait for psql to get in too.
wait_sql 20 "SELECT true" || fail "the server did not come back"
if wait_sql 40 "SELECT count(*) = 0 FROM baton.all_jobs WHERE queue = 'q4' AND status IN ('waiting', 'running', 'blocked')"; then
  pass "drained in $(($(now_ms) - t0)) ms in all"
else
  fail "not drained 40 s after the restart: $(active q4) active"
fi
stop_worker "$W4" 10
[ "$RC" -eq 0 ] || fail "exit code $RC"
[ "$(stat t4 reconnects)" -gt 0 ] && pass "reconnects=$(stat t4 reconnects) lease_lost=$(stat t4 lease_lost) claimed=$(stat t4 claimed)" ||
  fail "reconnects=$(stat t4 reconnects)"
grep -c 'event=reconnected' "$WORK/t4.err" >/dev/null || fail "no reconnected event in the log"
check_runs q4 loose "" "succeeded dead" "$WORK/t4.runs"

# ---- 5 ------------------------------------------------------------------------------------
echo "5. wake-ups: polling fallback (notify => false) and NOTIFY"
newdb bw_wake
sql "SELECT baton.create_queue_v1('q5', notify => false)" >/dev/null
start_worker t5 --queues q5 --slots 8 --poll-ms 1000
W5=$WPID
sleep 1.5  # idle: it has fetched nothing, LISTENs and waits
t0=$(now_ms)
sql "SELECT count(*) FROM baton.defer_many_v1('q5', 'work', ARRAY['{}', '{}', '{}']::jsonb[])" >/dev/null
if wait_sql 10 "SELECT count(*) = 3 FROM baton.all_jobs WHERE queue = 'q5' AND status = 'succeeded'"; then
  ms=$(($(now_ms) - t0))
  [ "$ms" -lt 2500 ] && pass "notify => false: drained by polling in $ms ms (poll interval 1000 ms)" ||
    fail "notify => false: drained only after $ms ms (poll interval 1000 ms)"
else
  fail "notify => false: the queue was not drained"
fi
# Slots connect on first use, and these handlers use no SQL: 8 slots, yet only the fetch,
# report and heartbeat connections are open.
conns=$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = 'bw_wake' AND application_name = 'baton-client'")
[ "$conns" -eq 3 ] && pass "8 slots of SQL-free handlers: 3 connections (fetch, report, heartbeat)" ||
  fail "8 slots of SQL-free handlers hold $conns connections, expected 3"
stop_worker "$W5" 10
[ "$RC" -eq 0 ] || fail "exit code $RC"
[ "$(stat t5 notifications)" -eq 0 ] && pass "no notification arrived (notifications=0, fetches=$(stat t5 fetches))" ||
  fail "notifications=$(stat t5 notifications) on a notify => false queue"

sql "SELECT baton.create_queue_v1('q5n')" >/dev/null
start_worker t5n --queues q5n --slots 2 --poll-ms 10000
W5N=$WPID
sleep 1.5
t0=$(now_ms)
sql "SELECT baton.defer_v1('q5n', 'work', '{}')" >/dev/null
if wait_sql 10 "SELECT count(*) = 1 FROM baton.all_jobs WHERE queue = 'q5n' AND status = 'succeeded'"; then
  ms=$(($(now_ms) - t0))
  [ "$ms" -lt 2000 ] && pass "notify queue: woken by NOTIFY in $ms ms (poll interval 10000 ms)" ||
    fail "notify queue: took $ms ms (poll interval 10000 ms)"
else
  fail "notify queue: the job was not run"
fi
stop_worker "$W5N" 10
[ "$(stat t5n notifications)" -gt 0 ] && pass "notifications=$(stat t5n notifications)" ||
  fail "no notification counted"

# ---- 6 ------------------------------------------------------------------------------------
echo "6. a 0.1.0 database: fetch_v1 (no task filter), a task without a handler fails clearly"
newdb_at() {
  DB=$1
  psql -XAtq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
    -c "CREATE DATABASE $DB" >/dev/null
  sql "CREATE EXTENSION baton VERSION '$2'" >/dev/null
}
newdb_at bw_old 0.1.0
sql "SELECT baton.create_queue_v1('q6')" >/dev/null
sql "SELECT baton.defer_v1('q6', 'work', '{}')" >/dev/null
MYSTERY=$(sql "SELECT baton.defer_v1('q6', 'mystery', '{}', max_attempts => 1)")
start_worker t6 --queues q6 --slots 2 --poll-ms 300 --name old-server-worker
W6=$WPID
wait_sql 10 "SELECT count(*) = 0 FROM baton.all_jobs WHERE queue = 'q6' AND status IN ('waiting', 'running')" ||
  fail "q6 not drained"
stop_worker "$W6" 10
[ "$RC" -eq 0 ] || fail "exit code $RC"
row=$(sql "SELECT string_agg(task || '/' || status || '/' || coalesce(error, ''), ' ' ORDER BY id) FROM baton.all_jobs WHERE queue = 'q6'")
[ "$row" = "work/succeeded/ mystery/dead/no handler for task mystery on worker old-server-worker" ] &&
  grep -q 'fetch=fetch_v1' "$WORK/t6.err" && [ "$(stat t6 unknown_task)" -eq 1 ] &&
  pass "fetch_v1 on 0.1.0; the unknown task failed: ${row#* }" || fail "on 0.1.0: $row"

# ---- 7 ------------------------------------------------------------------------------------
echo "7. a finish that committed but whose answer was lost: the retry is not an error"
# The commit is made to hang after it is written locally (a synchronous standby that does not
# exist), then its backend is terminated: the worker sees the connection drop without an
# answer, although the job is succeeded. Its retry after reconnect is refused ("it is
# succeeded, not running"), which must count as the success it is, not a lost lease.
newdb bw_commit
sql "SELECT baton.create_queue_v1('q7')" >/dev/null
J7=$(sql "SELECT baton.defer_v1('q7', 'work', '{\"sleep_ms\": 1500}')")
# One slot and a long poll: while the job runs the fetcher only waits, so the first commit of
# the worker after the switch is the job's finish.
start_worker t7 --queues q7 --slots 1 --poll-ms 10000
W7=$WPID
wait_starts 10 "$WORK/t7.runs" 1 || fail "the job never started"
SYNC_SET=1
psql -XAtq -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'baton_nobody'" \
  -c "SELECT pg_reload_conf()" >/dev/null
if wait_sql 10 "SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = 'bw_commit' AND wait_event = 'SyncRep' AND query LIKE '%finish%'"; then
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'bw_commit' AND wait_event = 'SyncRep'" >/dev/null
  reset_sync
  SYNC_SET=
  wait_sql 10 "SELECT status = 'succeeded' FROM baton.all_jobs WHERE id = $J7" || fail "job 7 is not succeeded"
  sleep 0.5  # the worker's reconnect and retried finish
  stop_worker "$W7" 10
  [ "$RC" -eq 0 ] || fail "exit code $RC"
  [ "$(stat t7 succeeded)" -eq 1 ] && [ "$(stat t7 lease_lost)" -eq 0 ] && [ "$(stat t7 reconnects)" -ge 1 ] &&
    grep -q 'event=job_done.*status=succeeded.*confirmed_on_retry=true' "$WORK/t7.err" &&
    pass "the retried finish was confirmed: succeeded=1 lease_lost=0 reconnects=$(stat t7 reconnects)" ||
    fail "succeeded=$(stat t7 succeeded) lease_lost=$(stat t7 lease_lost) reconnects=$(stat t7 reconnects)"
  check_runs q7 strict "" "succeeded" "$WORK/t7.runs"
else
  reset_sync
  SYNC_SET=
  fail "the worker's finish never waited for the (missing) standby"
fi

# Every line the workers wrote to stderr is one structured event.
stray=$(cat "$WORK"/*.err | grep -cv '^ts=[^ ]* level=[a-z]* worker=[^ ]* event=[a-z_]*' || true)
[ "${stray:-0}" -eq 0 ] && pass "logs: $(cat "$WORK"/*.err | wc -l) lines, all key=value events" ||
  fail "$stray log lines are not key=value events"

# ---- 8 ------------------------------------------------------------------------------------
echo "8. kill -9 of a worker in the middle of workflow runs (lease 2 s): resumed, no finished step re-run"
newdb bw_wf
sql "SELECT baton.create_queue_v1('wfq')" >/dev/null
start_worker t8a --workflow --queues wfq --slots 4 --lease-ms 2000 --poll-ms 300
W8A=$WPID
wait_sql 10 "SELECT count(*) = 1 FROM baton.workflows WHERE name = 'steps4'" ||
  fail "worker A did not register the workflow"
sql "SELECT count(*) FROM (SELECT baton.start_run_v1('steps4', '{\"sleep_ms\": 1500}', queue => 'wfq')
       FROM generate_series(1, 8)) s" >/dev/null
deadline=$(($(now_ms) + 15000))
until [ "$(awk '$1 == "W" && $3 == 3 && $6 == "begin"' "$WORK/t8a.runs" 2>/dev/null | wc -l)" -ge 4 ]; do
  [ "$(now_ms)" -lt "$deadline" ] || { fail "worker A never reached step 3 of 4 runs"; break; }
  sleep 0.05
done
kill -9 "$W8A"
wait "$W8A" 2>/dev/null || true
# What the history held at the kill: those steps must never run again.
sql "SELECT run_id, max(step) FROM baton.run_steps GROUP BY run_id" | tr '|' ' ' >"$WORK/t8.recorded"
interrupted=$(awk '$1 == "W" && $6 == "begin" { b[$2 " " $3] = 1 } $1 == "W" && $6 == "end" { delete b[$2 " " $3] }
  END { print length(b) }' "$WORK/t8a.runs")
[ "$interrupted" -ge 1 ] && pass "killed worker A with $interrupted steps running" || fail "no step was running at the kill"
start_worker t8b --workflow --queues wfq --slots 4 --lease-ms 2000 --poll-ms 300
W8B=$WPID
if wait_sql 40 "SELECT count(*) = 8 FROM baton.workflow_runs WHERE status = 'completed'"; then
  pass "worker B completed all 8 runs"
else
  fail "runs after the kill: $(sql "SELECT string_agg(status || ':' || n, ' ') FROM (SELECT status, count(*) n FROM baton.workflow_runs GROUP BY 1) s")"
fi
stop_worker "$W8B" 10
[ "$(sql "SELECT count(*) FROM baton.workflow_runs WHERE status = 'completed' AND steps = 4
          AND jsonb_array_length(output -> 'steps') = 4")" -eq 8 ] &&
  pass "each run recorded 4 steps once and completed with their 4 results" || fail "runs without 4 steps"
# Per run and step: how often its fn began (both workers' logs), against what was recorded.
bad=$(cat "$WORK/t8a.runs" "$WORK/t8b.runs" | awk -v rec="$WORK/t8.recorded" '
  BEGIN { while ((getline l < rec) > 0) { split(l, f, " "); recorded[f[1]] = f[2] } }
  $1 == "W" && $6 == "begin" { n[$2 " " $3]++; runs[$2] = 1 }
  END {
    for (r in runs) for (k = 1; k <= 4; k++) {
      c = n[r " " k] + 0
      if (c < 1) { print "run " r " step " k " never ran"; continue }
      if (k <= recorded[r] + 0) { checked++; if (c != 1) print "run " r " step " k " (recorded before the kill) ran " c " times" }
      if (c > 2) print "run " r " step " k " ran " c " times"
    }
    print "checked " checked + 0
  }')
checked=$(sed -n 's/^checked //p' <<<"$bad")
bad=$(grep -v '^checked ' <<<"$bad" || true)
[ -z "$bad" ] && [ "$checked" -ge 8 ] &&
  pass "none of the $checked steps recorded before the kill ran again; each unfinished one ran again once at most" ||
  fail "${bad:-only $checked steps were recorded at the kill}"
# The interrupted runs resumed at their first unfinished step: their earlier results are
# worker A's, memoised, and their fence shows the second claim.
resumed=$(sql "SELECT count(*) FROM baton.workflow_runs
                WHERE (output -> 'steps' -> 0 ->> 'pid')::int = $W8A
                  AND (output -> 'steps' -> 3 ->> 'pid')::int <> $W8A AND fence >= 2")
[ "$resumed" -ge 1 ] && pass "$resumed runs resumed on worker B with worker A's memoised results (fence >= 2)" ||
  fail "no run shows worker A's memoised steps and worker B's last step"

echo "worker tests: $(($(now_ms) - T_START)) ms, $FAILURES failure(s)"
[ "$FAILURES" -eq 0 ]
