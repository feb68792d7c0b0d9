#!/usr/bin/env bash
# Tests of the `baton` CLI (client/build/baton) against the running server described by
# PGHOST/PGPORT/PGUSER (test/lib/server.sh), in fresh databases it creates:
#   cli_main  baton 0.3.0: status, jobs, defer, cancel, retry, worker, check (current), runs
#   cli_old   CREATE EXTENSION baton VERSION '0.1.0': check (4), upgrade dry-run / --execute
#   cli_v2    CREATE EXTENSION baton VERSION '0.2.0': runs (no workflows before 0.3.0: 1)
#   cli_none  no baton: check and other commands (5)
# Every command is run for its output (exact values) and its exit code, including the error
# paths (usage 2, server error 1 with SQLSTATE, unreachable server 3).
#   cd /work/main && . test/lib/server.sh && start_server && test/client/cli/run.sh
# Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 2
root=$(pwd)
B=${BATON_CLI:-$root/client/build/baton}

if [ -z "${PGHOST:-}" ]; then
  echo "run.sh: PGHOST is not set; start a server first: . test/lib/server.sh && start_server" >&2
  exit 2
fi
[ -x "$B" ] || { echo "run.sh: $B is missing: make -C client" >&2; exit 2; }

tmp=$(mktemp -d /tmp/baton-cli-test.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

failed=0
passed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
pass() { passed=$((passed + 1)); }

psql_at() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# run ARGS...: runs the CLI; sets rc, out (stdout), err (stderr).
run() {
  "$B" "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
  rc=$?
  out=$(cat "$tmp/stdout")
  err=$(cat "$tmp/stderr")
}
# run_in INPUT ARGS...: the same with INPUT on stdin.
run_in() {
  local input=$1
  shift
  printf '%s' "$input" | "$B" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  rc=$?
  out=$(cat "$tmp/stdout")
  err=$(cat "$tmp/stderr")
}

# expect_rc NAME WANT
expect_rc() {
  if [ "$rc" = "$2" ]; then pass; else
    fail "$1: exit code $rc, expected $2"
    echo "  stdout: $out" | head -20
    echo "  stderr: $err" | head -20
  fi
}
# expect_eq NAME GOT WANT
expect_eq() {
  if [ "$2" = "$3" ]; then pass; else
    fail "$1"
    echo "  got:      $(printf '%q' "$2")"
    echo "  expected: $(printf '%q' "$3")"
  fi
}
# expect_has NAME TEXT SUBSTRING
expect_has() {
  case "$2" in
    *"$3"*) pass ;;
    *) fail "$1: does not contain $(printf '%q' "$3")"; echo "  text: $2" | head -20 ;;
  esac
}
# expect_match NAME TEXT EXTENDED-REGEX (whole text)
expect_match() {
  if [[ "$2" =~ ^$3$ ]]; then pass; else
    fail "$1: does not match /$3/"
    echo "  text: $(printf '%q' "$2")"
  fi
}
# j EXPR: evaluates a Python expression over the JSON on stdout (as d); strings print
# bare, everything else as compact JSON.
j() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
' "$tmp/stdout" "$1" 2>&1
}

fresh_db() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1
}

echo "== setup"
fresh_db cli_main
fresh_db cli_old
fresh_db cli_v2
fresh_db cli_none
psql_at -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS cli_plain" \
  -c "CREATE ROLE cli_plain LOGIN"
psql_at -d cli_main -c "CREATE EXTENSION baton" \
  -c "SELECT baton.create_queue_v1('emails'), baton.create_queue_v1('later'),
             baton.create_queue_v1('work')" >/dev/null
psql_at -d cli_old -c "CREATE EXTENSION baton VERSION '0.1.0'"
psql_at -d cli_v2 -c "CREATE EXTENSION baton VERSION '0.2.0'"
export PGDATABASE=cli_main

echo "== help and usage errors (exit 2)"
run --help
expect_rc "baton --help" 0
expect_has "baton --help lists commands" "$out" "  upgrade  ALTER EXTENSION baton UPDATE"
expect_has "baton --help documents exit codes" "$out" "  4  check: the database's baton differs"
expect_has "baton --help lists runs" "$out" "  runs     workflow runs: list, show, start, cancel, resolve (baton 0.3.0)"
expect_has "baton --help: exit 1 for runs before 0.3.0" "$out" "for runs also a
     database whose baton predates 0.3.0, which has no workflows"
for c in status jobs defer cancel retry check upgrade worker runs; do
  run "$c" --help
  expect_rc "baton $c --help" 0
  expect_has "baton $c --help usage" "$(head -1 <<<"$out")" "usage: baton $c"
  run help "$c"
  expect_rc "baton help $c" 0
done
run help defer
expect_eq "baton help defer: usage line" "$(head -1 <<<"$out")" \
  "usage: baton defer [options] QUEUE TASK [ARGS-JSON | -]"
run worker --help
expect_has "worker --help documents the config" "$out" "[task send_welcome]"
expect_has "worker --help documents the environment" "$out" "BATON_JOB_ID, BATON_TASK"
run
expect_rc "no command" 2
expect_has "no command: message" "$err" "baton: no command given"
run bogus
expect_rc "unknown command" 2
expect_has "unknown command: message" "$err" "unknown command 'bogus'"
run defer emails
expect_rc "defer without TASK" 2
expect_eq "defer without TASK: message" "$err" "baton defer: missing argument: TASK
usage: baton defer [options] QUEUE TASK [ARGS-JSON | -]
Try 'baton defer --help' for more information."
run defer emails t '{bad'
expect_rc "defer with malformed JSON" 2
expect_has "defer with malformed JSON: message" "$err" "ARGS-JSON is not valid JSON"
run defer emails t '[1]'
expect_rc "defer with a non-object" 2
expect_has "defer with a non-object: message" "$err" "ARGS-JSON must be a JSON object"
run defer emails t --delay 1h --run-at now
expect_rc "defer --delay with --run-at" 2
expect_has "defer --delay with --run-at: message" "$err" "--delay and --run-at exclude each other"
run defer emails t --delay soon
expect_rc "defer --delay soon" 2
expect_has "defer --delay soon: message" "$err" "--delay must be a duration"
run defer emails t --priority 20000
expect_rc "defer --priority out of range" 2
expect_has "defer --priority: message" "$err" "--priority must be between -10000 and 10000"
run defer emails t --run-at "not a time"
expect_rc "defer --run-at garbage" 2
expect_has "defer --run-at garbage: message" "$err" "--run-at is not a timestamp"
run jobs --limit x
expect_rc "jobs --limit x" 2
expect_has "jobs --limit x: message" "$err" '--limit must be an integer, not "x"'
run jobs --status nope
expect_rc "jobs --status nope" 2
run jobs --nosuch
expect_rc "unknown option" 2
expect_has "unknown option: message" "$err" "baton jobs: unknown option --nosuch"
run cancel abc
expect_rc "cancel abc" 2
expect_has "cancel abc: message" "$err" 'job ID must be an integer, not "abc"'
run cancel 1 2
expect_rc "cancel 1 2" 2
expect_has "cancel 1 2: message" "$err" "unexpected arguments: 2"
run jobs show
expect_rc "jobs show without ID" 2
expect_has "jobs show without ID: message" "$err" "missing argument: ID"
run --json jobs --limit 0
expect_rc "--json usage error" 2
expect_eq "--json usage error: kind" "$(j 'd["error"]["kind"]')" "usage"
expect_eq "--json usage error: exit_code" "$(j 'd["exit_code"]')" "2"

echo "== unreachable server (exit 3)"
run --dsn "host=/nonexistent port=1" status
expect_rc "status, unreachable server" 3
expect_has "status, unreachable server: message" "$err" "cannot connect"
run --dsn "host=/nonexistent port=1" check --json
expect_rc "check, unreachable server" 3
expect_eq "check, unreachable server: JSON kind" "$(j 'd["error"]["kind"]')" "connection"
run upgrade -d "host=/nonexistent port=1"
expect_rc "upgrade, unreachable server" 3

echo "== check"
run check
expect_rc "check, current" 0
expect_eq "check, current: message" "$out" \
  'baton 0.3.0 in database "cli_main" is current (package 0.3.0, library 0.3.0)'
run check --json
expect_rc "check --json, current" 0
expect_eq "check --json, current" "$(j '[d["status"], d["extension_version"], d["package_version"], d["library_version"], d["upgrade_pending"], d["installed"]]')" \
  '["current","0.3.0","0.3.0","0.3.0",false,true]'
run -d dbname=cli_old check
expect_rc "check, 0.1.0" 4
expect_eq "check, 0.1.0: message" "$err" \
  'baton check: upgrade pending: database "cli_old" has baton 0.1.0, the installed package is 0.3.0 (run: baton upgrade --execute, or ALTER EXTENSION baton UPDATE)'
run -d dbname=cli_old check --json
expect_rc "check --json, 0.1.0" 4
expect_eq "check --json, 0.1.0" "$(j '[d["status"], d["extension_version"], d["package_version"], d["library_version"], d["upgrade_pending"]]')" \
  '["upgrade_pending","0.1.0","0.3.0",null,true]'
run -d dbname=cli_old runs
expect_rc "runs, baton 0.1.0" 1
expect_eq "runs, baton 0.1.0: message" "$err" \
  'baton runs: error: workflows need baton 0.3.0 or later; database "cli_old" has baton 0.1.0 (run: baton upgrade --execute, or ALTER EXTENSION baton UPDATE)'
run -d dbname=cli_none check
expect_rc "check, no baton" 5
expect_eq "check, no baton: message" "$err" \
  'baton check: baton is not installed in database "cli_none" (the server has package 0.3.0: CREATE EXTENSION baton)'
run -d dbname=cli_none check --json
expect_eq "check --json, no baton" "$(j '[d["status"], d["installed"], d["extension_version"]]')" \
  '["not_installed",false,null]'
run -d dbname=cli_none status
expect_rc "status, no baton" 5
expect_has "status, no baton: message" "$err" 'baton is not installed in database "cli_none"'
run -d dbname=cli_none jobs
expect_rc "jobs, no baton" 5

echo "== upgrade"
run -d dbname=cli_none upgrade
expect_rc "upgrade, no baton" 5
run -d "dbname=cli_old user=cli_plain" upgrade
expect_rc "upgrade as a role that may not" 1
expect_eq "upgrade as a role that may not: message" "$(head -1 <<<"$err")" \
  'baton upgrade: error: role "cli_plain" may not update baton in database "cli_old": it is owned by postgres: connect as its owner or a superuser (SQLSTATE 42501)'
run -d dbname=cli_old upgrade
expect_rc "upgrade dry run" 0
expect_eq "upgrade dry run: output" "$out" 'database "cli_old": baton 0.1.0, installed package 0.3.0
update path: 0.1.0 -> 0.2.0 -> 0.3.0
role "postgres" may run it (superuser)
would run: SET lock_timeout = '"'5000ms'"'; ALTER EXTENSION baton UPDATE;
  retrying up to 3 attempts when the lock wait times out (SQLSTATE 55P03)
dry run: nothing changed. Run again with --execute to update.'
run -d dbname=cli_old upgrade --json --lock-timeout 2s
expect_rc "upgrade --json dry run" 0
expect_eq "upgrade --json dry run" \
  "$(j '[d["status"], d["executed"], d["from"], d["to"], d["path"], d["lock_timeout_ms"], d["statements"]]')" \
  '["dry_run",false,"0.1.0","0.3.0",["0.1.0","0.2.0","0.3.0"],2000,["SET lock_timeout = '"'2000ms'"'","ALTER EXTENSION baton UPDATE"]]'
expect_eq "upgrade dry run changed nothing" \
  "$(psql_at -d cli_old -c "SELECT extversion FROM pg_extension WHERE extname = 'baton'")" "0.1.0"
run -d dbname=cli_old upgrade --lock-timeout 0s
expect_rc "upgrade --lock-timeout 0s" 2

# A long transaction holds baton.queues: every attempt times out (55P03) and is retried.
psql -X -q -d cli_old -c "BEGIN; LOCK TABLE baton.queues IN ACCESS SHARE MODE; SELECT pg_sleep(4); COMMIT" \
  >/dev/null 2>&1 &
holder=$!
pids+=("$holder")
for _ in $(seq 50); do
  [ "$(psql_at -d cli_old -c "SELECT count(*) FROM pg_locks WHERE relation = 'baton.queues'::regclass AND granted AND pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.1
done
run -d dbname=cli_old upgrade --execute --lock-timeout 1200ms --attempts 2 --retry-wait 100ms
expect_rc "upgrade --execute behind a lock" 1
expect_has "upgrade behind a lock: progress" "$err" "baton upgrade: waiting for a lock: 1s (attempt 1 of 2)"
expect_has "upgrade behind a lock: retried" "$err" "attempt 2 of 2, lock_timeout 1.2s"
expect_has "upgrade behind a lock: gives up with 55P03" "$err" \
  "error: gave up after 2 attempts: every one waited longer than lock_timeout 1.2s"
expect_has "upgrade behind a lock: SQLSTATE" "$err" "(SQLSTATE 55P03)"
expect_eq "upgrade behind a lock changed nothing" \
  "$(psql_at -d cli_old -c "SELECT extversion FROM pg_extension WHERE extname = 'baton'")" "0.1.0"
wait "$holder"

run -d dbname=cli_old upgrade --execute
expect_rc "upgrade --execute" 0
expect_match "upgrade --execute: output" "$out" \
  'baton updated in database "cli_old": 0\.1\.0 -> 0\.3\.0 \(attempt 1, [0-9]+ ms\)'
expect_eq "upgrade --execute: version" \
  "$(psql_at -d cli_old -c "SELECT extversion FROM pg_extension WHERE extname = 'baton'")" "0.3.0"
run -d dbname=cli_old check
expect_rc "check after upgrade" 0
run -d dbname=cli_old upgrade --execute --json
expect_rc "upgrade when current" 0
expect_eq "upgrade when current: JSON" "$(j '[d["status"], d["executed"], d["from"], d["to"]]')" \
  '["current",false,"0.3.0","0.3.0"]'

echo "== defer"
run defer emails send_welcome '{"user_id": 42}'
expect_rc "defer" 0
expect_match "defer: output" "$out" 'deferred job [0-9]+ \(queue emails, task send_welcome\)'
id1=$(sed -n 's/^deferred job \([0-9]*\) .*/\1/p' <<<"$out")
run defer --json emails digest '{"user_id": 42}' --priority 5 --max-attempts 3 --lock user:42 \
  --queueing-lock digest:42 --retry-backoff linear --retry-delay 2s
expect_rc "defer --json with options" 0
id2=$(j 'd["id"]')
expect_eq "defer --json: keys" "$(j '[d["queue"], d["task"], d["id"] == '"$id1"' + 1]')" \
  '["emails","digest",true]'
run defer emails digest '{"user_id": 42}' --queueing-lock digest:42
expect_rc "defer, queueing lock taken" 1
expect_has "defer, queueing lock taken: SQLSTATE" "$err" \
  'a job with queueing_lock "digest:42" is already waiting to start (SQLSTATE 23505)'
run defer nosuch t
expect_rc "defer to an unknown queue" 1
expect_has "defer to an unknown queue: SQLSTATE" "$err" "(SQLSTATE 42704)"
run defer --json later report --run-at "2030-01-01 00:00:00+00"
expect_rc "defer --run-at" 0
id3=$(j 'd["id"]')
run_in '{"from": "stdin"}' defer --json later report - --delay 1h
expect_rc "defer args from stdin" 0
id4=$(j 'd["id"]')

echo "== jobs show"
run jobs show "$id2" --json
expect_rc "jobs show --json" 0
expect_eq "jobs show --json: the job" \
  "$(j '[d["job"][k] for k in ("id","queue","task","status","args","priority","attempts","max_attempts","lock","queueing_lock","result","finished_at")]')" \
  "[$id2,\"emails\",\"digest\",\"waiting\",{\"user_id\":42},5,0,3,\"user:42\",\"digest:42\",null,null]"
expect_eq "jobs show --json: history" "$(j '[e["kind"] for e in d["history"]]')" '["deferred"]'
run jobs show "$id3" --json
expect_eq "defer --run-at: run_at" "$(j 'd["job"]["run_at"]')" "2030-01-01T00:00:00.000000Z"
run jobs show "$id4" --json
expect_eq "defer from stdin: args" "$(j 'd["job"]["args"]')" '{"from":"stdin"}'
run jobs show "$id1"
expect_rc "jobs show" 0
expect_eq "jobs show: first lines" "$(head -7 <<<"$out")" "job $id1
  queue          emails
  task           send_welcome
  status         waiting
  attempts       0/5
  priority       0
  args           {\"user_id\":42}"
expect_has "jobs show: history table" "$out" "history
SEQ  AT                    EVENT     DETAIL"
expect_match "jobs show: deferred event" "$(tail -1 <<<"$out")" \
  '  1  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}Z  deferred'
run jobs show 999999
expect_rc "jobs show, unknown job" 1
expect_eq "jobs show, unknown job: message" "$err" \
  "baton jobs: error: job 999999 does not exist (SQLSTATE P0002)"
run jobs show 999999 --json
expect_eq "jobs show --json, unknown job" \
  "$(j '[d["error"]["kind"], d["error"]["sqlstate"], d["exit_code"]]')" '["not_found","P0002",1]'

echo "== status"
run status --json
expect_rc "status --json" 0
expect_eq "status --json: counts" \
  "$(j '[[q["queue"], q["waiting"], q["scheduled"], q["blocked"], q["running"], q["succeeded"], q["dead"], q["cancelled"], q["oldest_waiting_seconds"] is None] for q in d["queues"]]')" \
  '[["emails",2,0,0,0,0,0,0,false],["later",0,2,0,0,0,0,0,true],["work",0,0,0,0,0,0,0,true]]'
run status later
expect_rc "status QUEUE" 0
expect_eq "status QUEUE: table" "$out" \
  "QUEUE  WAITING  SCHEDULED  BLOCKED  RUNNING  SUCCEEDED  DEAD  CANCELLED  OLDEST WAITING
later        0          2        0        0          0     0          0               -"
run status
expect_match "status: emails row" "$(sed -n 2p <<<"$out")" \
  'emails        2          0        0        0          0     0          0  +[0-9.]+m?s'
run status nosuch
expect_rc "status of an unknown queue" 1

echo "== cancel and retry"
run cancel "$id1" --reason "not needed"
expect_rc "cancel" 0
expect_eq "cancel: output" "$out" "job $id1 cancelled"
run jobs show "$id1" --json
expect_eq "cancel: state" "$(j '[d["job"]["status"], d["history"][-1]["kind"], d["history"][-1]["detail"].get("error")]')" \
  '["cancelled","cancelled","not needed"]'
run cancel "$id1"
expect_rc "cancel twice" 1
expect_has "cancel twice: SQLSTATE" "$err" "(SQLSTATE 55000)"
run cancel 999999
expect_rc "cancel an unknown job" 1
expect_has "cancel an unknown job: SQLSTATE" "$err" "job 999999 does not exist (SQLSTATE P0002)"
run retry "$id1" --json
expect_rc "retry" 0
expect_eq "retry --json" "$(j '[d["id"], d["status"], d["run_at"]]')" "[$id1,\"waiting\",null]"
run jobs show "$id1" --json
expect_eq "retry: state" "$(j '[d["job"]["status"], [e["kind"] for e in d["history"]]]')" \
  '["waiting",["deferred","cancelled","retried"]]'
run retry "$id1"
expect_rc "retry a waiting job" 1
expect_has "retry a waiting job: SQLSTATE" "$err" "(SQLSTATE 55000)"
run retry 999999
expect_rc "retry an unknown job" 1
expect_has "retry an unknown job: SQLSTATE" "$err" "(SQLSTATE P0002)"
run cancel "$id2"
run retry "$id2" --delay 1h
expect_rc "retry --delay" 0
expect_match "retry --delay: output" "$out" "job $id2 is waiting again \\(from [0-9: -]+Z\\)"
run status emails --json
expect_eq "retry --delay: scheduled" "$(j '[d["queues"][0]["waiting"], d["queues"][0]["scheduled"]]')" '[1,1]'

echo "== jobs"
run jobs --queue later --json
expect_rc "jobs --queue" 0
expect_eq "jobs --queue: ids, newest first" "$(j '[x["id"] for x in d["jobs"]]')" "[$id4,$id3]"
run jobs --queue emails --oldest-first --json
expect_eq "jobs --oldest-first" "$(j '[x["id"] for x in d["jobs"]]')" "[$id1,$id2]"
run jobs --limit 1 --json
expect_eq "jobs --limit 1" "$(j '[x["id"] for x in d["jobs"]]')" "[$id4]"
run jobs --limit 1
expect_eq "jobs --limit 1: one row" "$(tail -n +2 <<<"$out" | awk '{print $1, $2, $3, $4}')" \
  "$id4 later report waiting"
expect_eq "jobs --limit: note" "$err" "(showing the newest 1 jobs; --limit N for more)"
run jobs --status waiting --queue emails
expect_rc "jobs --status" 0
expect_match "jobs: header" "$(head -1 <<<"$out")" \
  'ID +QUEUE +TASK +STATUS +ATTEMPTS +PRIORITY +DEFERRED +RUN AT +FINISHED +ERROR'
expect_eq "jobs --status waiting: rows" "$(tail -n +2 <<<"$out" | awk '{print $1, $2, $3, $4, $5, $6}')" \
  "$id2 emails digest waiting 0/3 5
$id1 emails send_welcome waiting 0/5 0"
run jobs --status dead --queue emails
expect_eq "jobs, none" "$out" "no jobs"

echo "== worker"
cat >"$tmp/worker.ini" <<'EOF'
# the CLI test's worker
[worker]
queues = work
slots = 2
name = cli-test-worker
poll_interval = 200ms
lease = 3s
progress_interval = 300ms
grace_period = 5s

[task echo]
command = read -r args; printf '{"args": %s, "id": %s, "task": "%s", "attempt": %s}\n' "$args" "$BATON_JOB_ID" "$BATON_TASK" "$BATON_ATTEMPT"

[task plain]
command = echo "not json"

[task broken]
command = echo "broken on attempt $BATON_ATTEMPT" >&2; exit 3

[task flaky]
command = if [ "$BATON_ATTEMPT" -lt 2 ]; then echo "first try fails" >&2; exit 1; fi; echo '{"ok": true}'

[task sleepy]
command = echo $$ >"$BATON_TEST_TMP/sleepy.pid"; exec sleep 30

[task slow]
command = echo $$ >"$BATON_TEST_TMP/slow.pid"; exec sleep 30
timeout = 300ms
EOF
printf '[worker]\nqueues = work\nslots = two\n' >"$tmp/bad.ini"
run worker "$tmp/bad.ini"
expect_rc "worker, bad config" 2
expect_has "worker, bad config: message" "$err" "$tmp/bad.ini:3: slots must be an integer"
printf '[worker]\nqueues = work\n[task x]\ncommand = true\ncolour = blue\n' >"$tmp/bad2.ini"
run worker "$tmp/bad2.ini"
expect_rc "worker, unknown key" 2
expect_has "worker, unknown key: message" "$err" "$tmp/bad2.ini:5: unknown key colour in [task x]"
run worker "$tmp/missing.ini"
expect_rc "worker, missing config" 2
run worker --check-config "$tmp/worker.ini" --json
expect_rc "worker --check-config" 0
expect_eq "worker --check-config: tasks" "$(j '[[t["task"], t["timeout_seconds"]] for t in d["tasks"]]')" \
  '[["echo",3600.0],["plain",3600.0],["broken",3600.0],["flaky",3600.0],["sleepy",3600.0],["slow",0.3]]'
run -d "host=/nonexistent port=1" worker "$tmp/worker.ini"
expect_rc "worker, unreachable server" 3

declare -A wid
for t in echo plain broken flaky slow sleepy other; do
  case $t in
    broken) opts=(--max-attempts 2 --retry-delay 100ms) ;;
    flaky) opts=(--max-attempts 3 --retry-delay 100ms) ;;
    slow) opts=(--max-attempts 1) ;;
    *) opts=() ;;
  esac
  run defer --json work "$t" '{"n": 7}' "${opts[@]}"
  wid[$t]=$(j 'd["id"]')
done
BATON_TEST_TMP=$tmp "$B" --json worker "$tmp/worker.ini" >"$tmp/worker.out" 2>"$tmp/worker.err" &
wpid=$!
pids+=("$wpid")
# Wait until the five tasks that end by themselves have ended (about 1 s) and sleepy runs.
for _ in $(seq 100); do
  run status work --json
  [ "$(j '[d["queues"][0]["succeeded"] + d["queues"][0]["dead"], d["queues"][0]["running"]]')" = "[5,1]" ] && break
  sleep 0.1
done
# An operator's abort: the next heartbeat (lease 3s: every second) tells the worker, which
# kills the command; the job ends cancelled.
psql_at -c "SELECT baton.request_abort_v1(${wid[sleepy]})" >/dev/null
for _ in $(seq 50); do
  run status work --json
  [ "$(j 'd["queues"][0]["cancelled"]')" = 1 ] && break
  sleep 0.1
done
sleep 0.4 # at least one progress line after the last job
kill -TERM "$wpid"
wait "$wpid"
rc=$?
out=$(cat "$tmp/worker.out")
err=$(cat "$tmp/worker.err")
expect_rc "worker exits 0 on SIGTERM" 0
expect_has "worker: progress line" "$err" \
  "baton worker cli-test-worker: up "
expect_has "worker: progress counters" "$err" \
  "running 0, claimed 8, succeeded 3, failed 4, cancelled 1, lease lost 0, reconnects 0"
expect_has "worker: stopped line" "$err" "reconnects 0 (stopped)"
cp "$tmp/worker.out" "$tmp/stdout"
expect_eq "worker --json: final counters" \
  "$(j '[d["worker"], d["stats"]["claimed"], d["stats"]["succeeded"], d["stats"]["failed"]]')" \
  '["cli-test-worker",8,3,4]'

run jobs show "${wid[echo]}" --json
expect_eq "worker: echo succeeded with stdout as result" \
  "$(j '[d["job"]["status"], d["job"]["result"], d["job"]["worker"]]')" \
  "[\"succeeded\",{\"args\":{\"n\":7},\"attempt\":1,\"id\":${wid[echo]},\"task\":\"echo\"},\"cli-test-worker\"]"
run jobs show "${wid[plain]}" --json
expect_eq "worker: non-JSON stdout, no result" "$(j '[d["job"]["status"], d["job"]["result"]]')" \
  '["succeeded",null]'
run jobs show "${wid[broken]}" --json
expect_eq "worker: broken is dead after 2 attempts" \
  "$(j '[d["job"]["status"], d["job"]["attempts"], d["job"]["error"], [e["kind"] for e in d["history"]], d["history"][2]["detail"]["error"]]')" \
  '["dead",2,"exit status 3: broken on attempt 2",["deferred","claimed","failed","claimed","dead"],"exit status 3: broken on attempt 1"]'
run jobs show "${wid[flaky]}" --json
expect_eq "worker: flaky is retried, then succeeds" \
  "$(j '[d["job"]["status"], d["job"]["attempts"], d["job"]["result"], [e["kind"] for e in d["history"]]]')" \
  '["succeeded",2,{"ok":true},["deferred","claimed","failed","claimed","succeeded"]]'
run jobs show "${wid[slow]}" --json
expect_eq "worker: slow times out" "$(j '[d["job"]["status"], d["job"]["error"]]')" \
  '["dead","timed out after 300ms (command killed): (no output on stderr)"]'
run jobs show "${wid[other]}" --json
expect_eq "worker: a task without a command is not claimed" \
  "$(j '[d["job"]["status"], d["job"]["attempts"]]')" '["waiting",0]'
run jobs show "${wid[sleepy]}" --json
expect_eq "worker: an abort kills the command, the job ends cancelled" \
  "$(j '[d["job"]["status"], [e["kind"] for e in d["history"]]]')" \
  '["cancelled",["deferred","claimed","abort_requested","cancelled"]]'
if [ -s "$tmp/sleepy.pid" ] && ! kill -0 "$(cat "$tmp/sleepy.pid")" 2>/dev/null; then pass; else
  fail "worker: the aborted command was not killed (or did not start)"
fi
if [ -s "$tmp/slow.pid" ] && ! kill -0 "$(cat "$tmp/slow.pid")" 2>/dev/null; then pass; else
  fail "worker: the timed-out command was not killed (or did not start)"
fi

# [task *]: one command for every task (no task filter); BATON_TASK tells which.
psql_at -c "SELECT baton.create_queue_v1('any')" >/dev/null
printf '[worker]\nqueues = any\npoll_interval = 200ms\nprogress_interval = 0\n[task *]\ncommand = printf %s "$BATON_TASK"\n' \
  "'{\"ran\": \"%s\"}'" >"$tmp/default.ini"
run defer --json any whatever
any_id=$(j 'd["id"]')
"$B" worker "$tmp/default.ini" >/dev/null 2>"$tmp/worker.err" &
wpid=$!
pids+=("$wpid")
for _ in $(seq 50); do
  run status any --json
  [ "$(j 'd["queues"][0]["succeeded"]')" = 1 ] && break
  sleep 0.1
done
kill -INT "$wpid"
wait "$wpid"
rc=$?
expect_rc "worker with [task *] exits 0 on SIGINT" 0
run jobs show "$any_id" --json
expect_eq "worker: [task *] runs any task" "$(j '[d["job"]["status"], d["job"]["result"]]')" \
  '["succeeded",{"ran":"whatever"}]'

echo "== runs (workflows, 0.3.0)"
# Runs are set up and driven in plain SQL, as sql/workflows.sql does: a driver job is taken
# with fetch_v2, claimed with claim_run_v1, finished with finish_v1.
psql_at -c "SET client_min_messages = error" \
  -c "SELECT baton.create_queue_v1(q) FROM unnest(ARRAY['workflows', 'wf_hold', 'wf_comp',
        'wf_op1', 'wf_op2', 'wf_op3']) q" \
  -c "SELECT created FROM baton.register_workflow_v1('trip', 1,
        '{\"steps\": [{\"name\": \"reserve\", \"compensation\": \"unreserve\"}]}')" \
  -c "SELECT created FROM baton.register_workflow_v1('trip', 2,
        '{\"steps\": [{\"name\": \"reserve\", \"compensation\": \"unreserve\"}], \"v\": 2}')" \
  -c "SELECT created FROM baton.register_workflow_v1('plain', 1)" >/dev/null
# sql_run WORKFLOW QUEUE [true]: starts a run (version 1) in QUEUE and claims it with its
# driver job; with true, records step 1 (compensation unreserve, one attempt) and finishes
# the driver job (the run stays running, held by nobody); without, the driver keeps holding
# it. Prints the run's id.
sql_run() {
  psql_at -c "SET client_min_messages = error" -f - <<SQL | tail -1
SELECT run_id AS r FROM baton.start_run_v1('$1', '{"n": 1}', queue => '$2', version => 1) \gset
SELECT id AS d, lease_token AS t FROM baton.fetch_v2(ARRAY['$2'], 'cli-test', 1, '5 minutes') \gset
SELECT status FROM baton.claim_run_v1(:r, :d, :'t') \g /dev/null
\if ${3:-false}
SELECT baton.record_step_v1(:r, 1, 1, 'reserve', '{"seat": 7}', compensation_task => 'unreserve',
  compensation_args => '{"seat": 7}', compensation_max_attempts => 1) \g /dev/null
SELECT baton.finish_v1(:d, :'t', 'succeeded') \g /dev/null
\endif
\echo :r
SQL
}
# op_run QUEUE: a run of trip in needs_operator: step 1 recorded with a compensation of one
# attempt, compensate_all_v1, the compensation job fails (dead), the next driver's claim
# finds that. Prints the run's id.
op_run() {
  psql_at -c "SET client_min_messages = error" -f - <<SQL | tail -1
SELECT run_id AS r FROM baton.start_run_v1('trip', '{"n": 1}', queue => '$1', version => 1) \gset
SELECT id AS d, lease_token AS t FROM baton.fetch_v2(ARRAY['$1'], 'cli-test', 1, '5 minutes') \gset
SELECT status FROM baton.claim_run_v1(:r, :d, :'t') \g /dev/null
SELECT baton.record_step_v1(:r, 1, 1, 'reserve', '{"seat": 7}', compensation_task => 'unreserve',
  compensation_args => '{"seat": 7}', compensation_max_attempts => 1) \g /dev/null
SELECT baton.compensate_all_v1(:r, 1) \g /dev/null
SELECT baton.finish_v1(:d, :'t', 'succeeded') \g /dev/null
SELECT id AS c, lease_token AS ct FROM baton.fetch_v2(ARRAY['$1'], 'cli-test', 1, '5 minutes') \gset
SELECT baton.finish_v1(:c, :'ct', 'failed', error => 'seat service down') \g /dev/null
SELECT id AS d2, lease_token AS t2 FROM baton.fetch_v2(ARRAY['$1'], 'cli-test', 1, '5 minutes') \gset
SELECT status FROM baton.claim_run_v1(:r, :d2, :'t2') \g /dev/null
SELECT baton.finish_v1(:d2, :'t2', 'succeeded') \g /dev/null
\echo :r
SQL
}
hold=$(sql_run plain wf_hold)
comp=$(sql_run trip wf_comp true)
op1=$(op_run wf_op1)
op2=$(op_run wf_op2)
op3=$(op_run wf_op3)
expect_match "runs setup: run ids" "$hold $comp $op1 $op2 $op3" '[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+'
expect_eq "runs setup: statuses" \
  "$(psql_at -c "SELECT string_agg(status, ' ' ORDER BY id) FROM baton.workflow_runs")" \
  "running running needs_operator needs_operator needs_operator"

# usage errors (2)
run runs bogus
expect_rc "runs bogus" 2
expect_has "runs bogus: message" "$err" "baton runs: unknown runs subcommand 'bogus'"
run runs show
expect_rc "runs show without ID" 2
expect_has "runs show without ID: message" "$err" "baton runs: missing argument: ID"
run runs show abc
expect_rc "runs show abc" 2
expect_has "runs show abc: message" "$err" 'run ID must be an integer, not "abc"'
run runs show 1 2
expect_rc "runs show 1 2" 2
expect_has "runs show 1 2: message" "$err" "unexpected arguments: 2"
run runs show 1 --status failed
expect_rc "runs show --status" 2
expect_has "runs show --status: message" "$err" "runs show takes no --status option"
run runs --status nope
expect_rc "runs --status nope" 2
expect_has "runs --status nope: message" "$err" "--status must be one of running, suspended"
run runs --limit 0
expect_rc "runs --limit 0" 2
expect_has "runs --limit 0: message" "$err" "--limit must be between 1 and 100000, not 0"
run runs --input '{}'
expect_rc "runs --input (list)" 2
expect_has "runs --input: message" "$err" "baton runs: runs takes no --input option"
run runs start
expect_rc "runs start without WORKFLOW" 2
expect_has "runs start without WORKFLOW: message" "$err" "missing argument: WORKFLOW"
run runs start trip --input '{bad'
expect_rc "runs start --input malformed" 2
expect_has "runs start --input malformed: message" "$err" "--input is not valid JSON"
run runs start trip --workflow-version x
expect_rc "runs start --workflow-version x" 2
expect_has "runs start --workflow-version x: message" "$err" '--workflow-version must be an integer, not "x"'
run runs start trip --compensate
expect_rc "runs start --compensate" 2
expect_has "runs start --compensate: message" "$err" "runs start takes no --compensate option"
run runs cancel
expect_rc "runs cancel without ID" 2
run runs cancel 1 --queue q
expect_rc "runs cancel --queue" 2
expect_has "runs cancel --queue: message" "$err" "runs cancel takes no --queue option"
run runs resolve "$op1"
expect_rc "runs resolve without ACTION" 2
expect_has "runs resolve without ACTION: message" "$err" "missing argument: ACTION"
run runs resolve "$op1" undo
expect_rc "runs resolve undo" 2
expect_has "runs resolve undo: message" "$err" 'ACTION must be retry, mark_done or give_up, not "undo"'
run --json runs resolve "$op1" undo
expect_eq "runs --json usage error" "$(j '[d["error"]["kind"], d["exit_code"]]')" '["usage",2]'

# unreachable server (3), no baton (5), baton before 0.3.0 (1; 0.1.0 above, before its upgrade)
run -d "host=/nonexistent port=1" runs
expect_rc "runs, unreachable server" 3
expect_has "runs, unreachable server: message" "$err" "cannot connect"
run -d "host=/nonexistent port=1" runs show 1 --json
expect_rc "runs show, unreachable server" 3
expect_eq "runs show, unreachable server: JSON kind" "$(j 'd["error"]["kind"]')" "connection"
run -d dbname=cli_none runs
expect_rc "runs, no baton" 5
expect_has "runs, no baton: message" "$err" 'baton runs: error: baton is not installed in database "cli_none"'
run -d dbname=cli_none runs start trip
expect_rc "runs start, no baton" 5
run -d dbname=cli_v2 runs
expect_rc "runs, baton 0.2.0" 1
expect_eq "runs, baton 0.2.0: message" "$err" \
  'baton runs: error: workflows need baton 0.3.0 or later; database "cli_v2" has baton 0.2.0 (run: baton upgrade --execute, or ALTER EXTENSION baton UPDATE)'
run -d dbname=cli_v2 runs show 1 --json
expect_rc "runs show --json, baton 0.2.0" 1
expect_eq "runs show --json, baton 0.2.0: error" "$(j '[d["error"]["kind"], d["exit_code"]]')" \
  '["version_mismatch",1]'
for sub in "start trip" "cancel 1" "resolve 1 retry"; do
  # shellcheck disable=SC2086
  run -d dbname=cli_v2 runs $sub
  expect_rc "runs $sub, baton 0.2.0" 1
  expect_has "runs $sub, baton 0.2.0: message" "$err" "workflows need baton 0.3.0 or later"
done

# runs start
run runs start plain
expect_rc "runs start" 0
expect_match "runs start: output" "$out" 'started run [0-9]+ \(workflow plain\)'
plain=$(sed -n 's/^started run \([0-9]*\) .*/\1/p' <<<"$out")
expect_eq "runs start: the newest run" "$plain" "$((op3 + 1))"
run runs start --json trip --input '{"order": 7}' --idempotency-key order-7 \
  --correlation-id order:7 --queue wf_comp --workflow-version 1
expect_rc "runs start --json with options" 0
order=$(j 'd["id"]')
expect_eq "runs start --json" "$(j '[d["id"] == '"$plain"' + 1, d["workflow"], d["created"]]')" \
  '[true,"trip",true]'
run runs start --json trip --idempotency-key order-7
expect_rc "runs start, same idempotency key" 0
expect_eq "runs start, same idempotency key: the first run" "$(j '[d["id"], d["created"]]')" \
  "[$order,false]"
run runs start trip -i '{}' --idempotency-key order-7
expect_eq "runs start, same idempotency key: output" "$out" \
  "run $order was started before with idempotency key \"order-7\" (not created again)"
run runs start nosuch
expect_rc "runs start, unknown workflow" 1
expect_has "runs start, unknown workflow: SQLSTATE" "$err" "(SQLSTATE 42704)"
run runs start trip --workflow-version 9
expect_rc "runs start, unknown version" 1
expect_has "runs start, unknown version: SQLSTATE" "$err" "(SQLSTATE 42704)"
run runs start trip --queue nosuch
expect_rc "runs start, unknown queue" 1
expect_has "runs start, unknown queue: message" "$err" 'queue "nosuch" does not exist (SQLSTATE 42704)'
run runs start trip --idempotency-key ""
expect_rc "runs start, empty idempotency key" 1
expect_has "runs start, empty idempotency key: SQLSTATE" "$err" "(SQLSTATE 22023)"

# runs (the list)
run runs --json
expect_rc "runs --json" 0
expect_eq "runs --json: ids, newest first" "$(j '[r["id"] for r in d["runs"]]')" \
  "[$order,$plain,$op3,$op2,$op1,$comp,$hold]"
expect_eq "runs --json: the started run" \
  "$(j '[d["runs"][0][k] for k in ("workflow","version","status","queue","input","output","error","idempotency_key","correlation_id","steps","events","finished_at")]')" \
  '["trip",1,"running","wf_comp",{"order":7},null,null,"order-7","order:7",0,1,null]'
expect_eq "runs --json: the defaults (queue, correlation id, newest version)" \
  "$(j '[d["runs"][1]["queue"], d["runs"][1]["correlation_id"], d["runs"][1]["version"], d["runs"][1]["idempotency_key"]]')" \
  "[\"workflows\",\"run:$plain\",1,null]"
run runs --workflow plain --json
expect_eq "runs --workflow" "$(j '[r["id"] for r in d["runs"]]')" "[$plain,$hold]"
run runs --status needs_operator --workflow trip -n 2 --json
expect_eq "runs --status --limit" "$(j '[r["id"] for r in d["runs"]]')" "[$op3,$op2]"
run runs --status needs_operator
expect_rc "runs --status needs_operator" 0
expect_match "runs: header" "$(head -1 <<<"$out")" \
  'ID +WORKFLOW +VERSION +STATUS +STEPS +EVENTS +CORRELATION ID +CREATED +FINISHED +ERROR'
expect_eq "runs --status needs_operator: rows" \
  "$(tail -n +2 <<<"$out" | awk '{print $1, $2, $3, $4, $5, $6, $7, $10}')" \
  "$op3 trip 1 needs_operator 1 6 run:$op3 -
$op2 trip 1 needs_operator 1 6 run:$op2 -
$op1 trip 1 needs_operator 1 6 run:$op1 -"
expect_eq "runs: no note under the limit" "$err" ""
run runs --limit 1
expect_eq "runs --limit 1: one row" "$(tail -n +2 <<<"$out" | awk '{print $1, $2, $4}')" \
  "$order trip running"
expect_eq "runs --limit: note" "$err" "(showing the newest 1 runs; --limit N for more)"
run runs --status suspended
expect_rc "runs, none" 0
expect_eq "runs, none: output" "$out" "no runs"

# runs show
holder=$(psql_at -c "SELECT holder_job FROM baton.workflow_runs WHERE id = $op1")
cjob=$(psql_at -c "SELECT job_id FROM baton.pending_compensations WHERE run_id = $op1")
run runs show "$op1"
expect_rc "runs show" 0
expect_eq "runs show: fields" "$(sed -n '1,18p' <<<"$out")" "run $op1
  workflow         trip
  version          1
  status           needs_operator
  queue            wf_op1
  steps            1
  events           6
  input            {\"n\":1}
  output           -
  error            -
  correlation id   run:$op1
  idempotency key  -
  continued from   -
  continued to     -
  fence            2
  holder job       $holder
  compensation     sequential
  snapshot         -"
expect_match "runs show: times" "$(sed -n '19,20p' <<<"$out")" \
  '  created at       [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}Z
  finished at      -'
expect_has "runs show: pending compensations" "$out" "pending compensations
STEP  NAME     TASK       STATUS  JOB  ERROR
   1  reserve  unreserve  failed  $(printf '%3s' "$cjob")  seat service down
"
expect_has "runs show: history header" "$out" "history
SEQ  AT                    EVENT                   PAYLOAD"
expect_eq "runs show: history rows" "$(tail -6 <<<"$out" | awk '{print $1, $4}')" "1 started
2 step
3 compensation_started
4 compensation_scheduled
5 compensation_failed
6 needs_operator"
expect_match "runs show: a payload, truncated" "$(tail -5 <<<"$out" | head -1)" \
  '  2  [0-9: -]+Z  step  +\{"compensation":\{"args":\{"seat":7\},"max_attempts":1,"task":"unreserve"\},"name":"reserve","result":\{"…'
run runs show "$op1" --json
expect_rc "runs show --json" 0
expect_eq "runs show --json: run" \
  "$(j '[d["run"][k] for k in ("id","workflow","version","status","queue","input","steps","events","fence","compensation_mode","cancel_requested","finished_at","snapshot_through_seq")]')" \
  "[$op1,\"trip\",1,\"needs_operator\",\"wf_op1\",{\"n\":1},1,6,2,\"sequential\",null,null,null]"
expect_eq "runs show --json: pending compensations" \
  "$(j '[[c["step"], c["name"], c["task"], c["args"], c["status"], c["job_id"], c["error"]] for c in d["pending_compensations"]]')" \
  "[[1,\"reserve\",\"unreserve\",{\"seat\":7},\"failed\",$cjob,\"seat service down\"]]"
expect_eq "runs show --json: history" "$(j '[[e["seq"], e["kind"]] for e in d["history"]]')" \
  '[[1,"started"],[2,"step"],[3,"compensation_started"],[4,"compensation_scheduled"],[5,"compensation_failed"],[6,"needs_operator"]]'
expect_eq "runs show --json: a payload" "$(j 'd["history"][0]["payload"]')" \
  '{"input":{"n":1},"version":1,"workflow":"trip"}'
run runs show "$plain"
expect_has "runs show: no pending compensations" "$out" "pending compensations
none
"
run runs show 999999
expect_rc "runs show, unknown run" 1
expect_eq "runs show, unknown run: message" "$err" \
  "baton runs: error: run 999999 does not exist (SQLSTATE P0002)"
run runs show 999999 --json
expect_eq "runs show --json, unknown run" \
  "$(j '[d["error"]["kind"], d["error"]["sqlstate"], d["exit_code"]]')" '["not_found","P0002",1]'

# runs cancel
run runs cancel "$plain" --reason "not needed"
expect_rc "runs cancel" 0
expect_eq "runs cancel: output" "$out" "run $plain cancelled"
run runs show "$plain" --json
expect_eq "runs cancel: state" \
  "$(j '[d["run"]["status"], [e["kind"] for e in d["history"]], d["history"][1]["payload"].get("reason"), d["run"]["finished_at"] is None]')" \
  '["cancelled",["started","cancel_requested","cancelled"],"not needed",false]'
run runs cancel "$plain"
expect_rc "runs cancel twice" 1
expect_eq "runs cancel twice: message" "$err" \
  "baton runs: error: run $plain is cancelled: only a running or suspended run can be cancelled (SQLSTATE 55000)"
run runs cancel "$plain" --json
expect_eq "runs cancel --json, wrong state" \
  "$(j '[d["error"]["kind"], d["error"]["sqlstate"], d["exit_code"]]')" '["conflict","55000",1]'
run runs cancel 999999
expect_rc "runs cancel, unknown run" 1
expect_has "runs cancel, unknown run: message" "$err" "run 999999 does not exist (SQLSTATE P0002)"
run runs cancel "$hold"
expect_rc "runs cancel, held by a driver" 0
expect_eq "runs cancel, held by a driver: output" "$out" \
  "run $hold: cancellation requested; a driver holds it and stops at its next write (status running)"
run runs show "$hold"
expect_eq "runs cancel, held by a driver: show" "$(sed -n 4p <<<"$out")" \
  "  status           running (cancel requested)"
run runs cancel "$comp" --compensate --reason "customer asked" --json
expect_rc "runs cancel --compensate" 0
expect_eq "runs cancel --compensate --json" "$(j '[d["id"], d["status"]]')" "[$comp,\"compensating\"]"
run runs show "$comp" --json
expect_eq "runs cancel --compensate: its compensation is scheduled" \
  "$(j '[d["run"]["status"], d["run"]["compensation_mode"], [[c["step"], c["status"]] for c in d["pending_compensations"]]]')" \
  '["compensating","sequential",[[1,"scheduled"]]]'

# runs resolve
run runs resolve "$comp" retry
expect_rc "runs resolve, not needs_operator" 1
expect_eq "runs resolve, not needs_operator: message" "$err" \
  "baton runs: error: run $comp is compensating, not needs_operator (SQLSTATE 55000)"
run runs resolve 999999 give_up
expect_rc "runs resolve, unknown run" 1
expect_has "runs resolve, unknown run: message" "$err" "run 999999 does not exist (SQLSTATE P0002)"
run runs resolve "$op1" retry
expect_rc "runs resolve retry" 0
expect_eq "runs resolve retry: output" "$out" "run $op1 resolved (retry): status compensating"
run runs show "$op1" --json
expect_eq "runs resolve retry: the compensation is deferred again" \
  "$(j '[d["run"]["status"], [[c["step"], c["status"], c["job_id"] != '"$cjob"'] for c in d["pending_compensations"]], d["history"][-1]["kind"]]')" \
  '["compensating",[[1,"scheduled",true]],"compensation_scheduled"]'
run runs resolve "$op1" give_up
expect_rc "runs resolve twice" 1
expect_has "runs resolve twice: SQLSTATE" "$err" "is compensating, not needs_operator (SQLSTATE 55000)"
run runs resolve "$op2" mark_done --json
expect_rc "runs resolve mark_done" 0
expect_eq "runs resolve mark_done --json" "$(j '[d["id"], d["action"], d["status"]]')" \
  "[$op2,\"mark_done\",\"compensated\"]"
run runs resolve "$op3" give_up
expect_rc "runs resolve give_up" 0
expect_eq "runs resolve give_up: output" "$out" "run $op3 resolved (give_up): status failed"
run runs --status failed
expect_eq "runs --status failed: the given-up run with its error" \
  "$(tail -n +2 <<<"$out" | awk '{print $1, $4}'; tail -n +2 <<<"$out" | sed 's/.*Z  //')" \
  "$op3 failed
compensation given up by an operator"
run runs show "$op3" --json
expect_eq "runs resolve give_up: state" \
  "$(j '[d["run"]["status"], d["run"]["error"], d["run"]["finished_at"] is None, d["pending_compensations"], d["history"][-1]["kind"]]')" \
  '["failed","compensation given up by an operator",false,[],"failed"]'

echo
if [ "$failed" -ne 0 ]; then
  echo "FAILED: $failed of $((passed + failed)) checks"
  exit 1
fi
echo "ok: all $passed checks passed"
