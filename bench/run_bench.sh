#!/usr/bin/env bash
# baton benchmark: baton's SQL API against a bare-SQL queue measured in the same run, on the
# same throwaway PostgreSQL 15 server. Invoked by `make bench` (after `make install`); runs
# as root (CI) or as an ordinary user. Benchmarks are not tests: this never fails on a timing,
# only when something errors.
#
# Environment:
#   BENCH_SECONDS   duration of each pgbench run (default 10)
#   BENCH_ROUNDS    runs of each side per workload and client count; medians are reported
#                   (default 3)
#   BENCH_CLIENTS   client counts to run (default "1 4 16")
#   BENCH_HISTORY   finished jobs put into baton.jobs_finished for the history run (default 1000000)
#   BENCH_WORKLOADS workloads to run (default "defer cycle_single cycle_batch cycle_single_keep
#                   cycle_batch_keep history worker_drain workflow_steps")
#   BENCH_WORKER_JOBS      jobs each worker_drain run drains (default 50000)
#   BENCH_WORKER_BATCH     jobs per claim and most per finish in worker_drain (default 100)
#   BENCH_WORKER_MAX_SLOTS cap of the C++ worker's slots in worker_drain (default 160)
#   BENCH_WF_RUNS          workflow runs each workflow_steps run drives (default 2000)
#   BENCH_WF_STEPS         no-op steps per workflow run in workflow_steps (default 10)
#   BENCH_WF_SLOTS_PER_CLIENT  the C++ worker's slots per client in workflow_steps (default 4)
#   BENCH_WF_MAX_SLOTS     cap of the C++ worker's slots in workflow_steps (default 64)
#
# Output ends with one line per workload and client count:
#   RESULT <workload> clients=<n> baton=<jobs/s> bare=<jobs/s> ratio=<baton/bare>
# preceded by the matching
#   CPU <workload> clients=<n> cpu_us_per_job_baton=<µs> cpu_us_per_job_bare=<µs>
# (workflow_steps: steps/s and cpu_us_per_step_* instead of jobs).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CLIENTS=${BENCH_CLIENTS:-1 4 16}
BENCH_HISTORY=${BENCH_HISTORY:-1000000}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-defer cycle_single cycle_batch cycle_single_keep cycle_batch_keep history worker_drain workflow_steps}
BENCH_WORKER_JOBS=${BENCH_WORKER_JOBS:-50000}
BENCH_WORKER_BATCH=${BENCH_WORKER_BATCH:-100}
BENCH_WORKER_MAX_SLOTS=${BENCH_WORKER_MAX_SLOTS:-160}
BENCH_WF_RUNS=${BENCH_WF_RUNS:-2000}
BENCH_WF_STEPS=${BENCH_WF_STEPS:-10}
BENCH_WF_SLOTS_PER_CLIENT=${BENCH_WF_SLOTS_PER_CLIENT:-4}
BENCH_WF_MAX_SLOTS=${BENCH_WF_MAX_SLOTS:-64}
CLK_TCK=$(getconf CLK_TCK)

# shellcheck source=SCRIPTDIR/../test/lib/server.sh
source "$ROOT/test/lib/server.sh"

die() { echo "run_bench: $*" >&2; exit 1; }

# worker_drain and workflow_steps run C++ programs (bench/worker_bench.cpp,
# bench/workflow_bench.cpp) linked with the client library.
WORKER_BENCH=$ROOT/bench/build/worker_bench
WORKFLOW_BENCH=$ROOT/bench/build/workflow_bench
case " $BENCH_WORKLOADS " in
  *" worker_drain "* | *" workflow_steps "*)
    make -s -C "$ROOT/client" >/dev/null || die "building the client library failed"
    make -s -C "$ROOT/bench" >/dev/null || die "building the bench programs failed"
    ;;
esac

# ----------------------------------------------------------------------------------------
# Header.
# ----------------------------------------------------------------------------------------
cat <<EOF
baton benchmark: baton's SQL API vs a bare-SQL queue (one table, one partial index,
INSERT / UPDATE ... FOR UPDATE SKIP LOCKED / DELETE), both in the same database of one
throwaway PostgreSQL 15 server, durable commits (fsync=on, synchronous_commit=on).
Each run: pgbench -n -M prepared (extended protocol with prepared statements, the same for
both sides), -T ${BENCH_SECONDS} s, clients in {${BENCH_CLIENTS}}, -j min(clients, 2).
Each comparison is ${BENCH_ROUNDS} rounds of both sides, alternating which goes first; the
RESULT and CPU lines give the medians (the machine's speed drifts between runs).
Both sides do the same work. The bare queue deletes a finished job, so the main workloads
run on a baton queue created with keep_succeeded => false (a succeeded job is deleted too;
it still carries leases, attempts and retries, and a failed one would be kept). The *_keep
workloads compare baton's default, which keeps every job with its history, against a bare
queue that keeps its finished jobs too.
Workloads (one transaction each):
  defer         1 job deferred          baton.defer_v1            vs INSERT
  cycle_single  1 job defer+fetch+finish defer_v1, fetch_v1(.., 1), finish_v1
                                        vs INSERT, claim LIMIT 1, DELETE
  cycle_batch   100 jobs, same three steps in one call each: defer_many_v1, fetch_v1(.., 100),
                finish_many_v1  vs  INSERT ... SELECT, claim LIMIT 100, DELETE = ANY(ids)
  *_keep        the same two cycles against a bare queue that keeps finished jobs
                (UPDATE ... SET status = 'done' instead of DELETE), as baton does
  history       cycle_single_keep at 1 client with ${BENCH_HISTORY} finished jobs in baton's
                history, against the deleting bare queue
  worker_drain  not pgbench: bench/worker_bench drains ${BENCH_WORKER_JOBS} jobs deferred beforehand
                (one process; connecting is not timed; the clock runs from the first
                claimed job in hand until the last job's finish has committed). baton: one
                baton::Worker (the C++ client) on the keep_succeeded => false queue, a no-op
                handler returning null, max_batch ${BENCH_WORKER_BATCH}, slots = clients x ${BENCH_WORKER_BATCH} (at most
                ${BENCH_WORKER_MAX_SLOTS}: each slot holds a connection), log level warn; its one fetcher
                connection claims up to the free slots per fetch_v2 and reports the
                outcomes with finish_many, each call its own transaction. bare: <clients>
                threads, each with its own libpq connection and prepared statements, loop:
                claim LIMIT ${BENCH_WORKER_BATCH} (the claim above), then DELETE = ANY(ids), each its own
                transaction, until a claim comes back empty. So both claim up to ${BENCH_WORKER_BATCH} per
                call and hold up to clients x ${BENCH_WORKER_BATCH} jobs (the worker: up to its slots);
                the worker does it over one connection, the bare side over <clients>.
                Before each side: empty queues (as below), the jobs put in (baton
                defer_many_v1, bare INSERT ... SELECT), VACUUM ANALYZE, CHECKPOINT.
  workflow_steps  not pgbench: bench/workflow_bench drives ${BENCH_WF_RUNS} workflow runs of ${BENCH_WF_STEPS} no-op
                steps each, started beforehand (not timed: baton start_run_v1 per run, which
                writes the run, its "started" event and its driver job; bare one INSERT ...
                SELECT of run rows and their "started" history rows), to completion. The clock
                runs from the first step in hand until every run is completed; steps/s = runs x
                steps / that time (the log line also gives runs/s). baton: one baton::Worker on
                queue bench_wf (keep_succeeded => false), slots = clients x ${BENCH_WF_SLOTS_PER_CLIENT} (at most
                ${BENCH_WF_MAX_SLOTS}), the workflow registered (no snapshots), its body ${BENCH_WF_STEPS} steps each
                returning {"i": k}; per run: fetch of the driver job (batched), claim_run_v1,
                load_run_v1, one record_step_v1 per step (history row, run_steps row, run row
                updated; fence, lease and order checked), complete_run_v1 (with a "completed"
                event), the driver job's finish (batched), each its own transaction. bare:
                <clients> threads, each with its own libpq connection and prepared
                statements, loop: claim one bare.runs row (UPDATE ... WHERE id = (SELECT ...
                LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING), per step one statement (a CTE:
                INSERT a bare.run_history row (run_id, seq, 'step', payload) and UPDATE the
                run row's last_seq), then a completing UPDATE, each its own transaction. So
                both commit one history row and one run-row update per step; baton's extra
                per-step row, checks and per-run driver job are its own overhead, and it has
                up to ${BENCH_WF_SLOTS_PER_CLIENT}x as many runs (and connections) at once as the bare side
                (BENCH_WF_SLOTS_PER_CLIENT=1 for the same). Before each side: empty tables, the
                runs put in, VACUUM ANALYZE, CHECKPOINT.
jobs/s = transactions/s x jobs per transaction (worker_drain: jobs / drain time). Both queues are emptied (TRUNCATE, VACUUM
ANALYZE, CHECKPOINT) before every run. baton's queue has notify => true, but baton sends NOTIFY only while a worker waits
(await_work_v1), which none does here; the bare queue does not notify.
CPU = user+system time of all server processes (postmaster and its children, including
backends that exited during the run) over the run, divided by the jobs done (worker_drain:
over the whole drain program, so also its connections' start and end: slots + 2 for the
worker, clients for the bare side, plus one to check the queue is empty; each worker
connection, with the client's version handshake, costs the server about 7 ms of CPU, so 100
slots add some 14 us per job of 50,000: raise BENCH_WORKER_JOBS to thin it out;
workflow_steps: per step, over the whole program the same way, slots + 2 connections for the
worker, clients for the bare side, plus a few to check the tables).
Host: $(nproc) CPUs; other load on the machine shows up as noise.

EOF

start_server
DB=bench
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB" >/dev/null
export PGDATABASE=$DB
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
WORK=$BATON_PG_DIR/bench # removed with the server directory on exit
mkdir -p "$WORK"
PM_PID=$(head -n 1 "$BATON_PG_DIR/data/postmaster.pid")

# ----------------------------------------------------------------------------------------
# Schema: baton, and the bare-SQL baseline in its own schema.
# ----------------------------------------------------------------------------------------
"${PSQL[@]}" >/dev/null <<'SQL'
CREATE EXTENSION baton;
-- The same work as the bare queue, which deletes a finished job: a queue that keeps no
-- succeeded jobs. And a queue with baton's default, which keeps every job's history.
SELECT baton.create_queue_v1('bench', notify => true, keep_succeeded => false);
SELECT baton.create_queue_v1('bench_keep', notify => true);
-- workflow_steps: the driver jobs' queue (a finished driver job is deleted).
SELECT baton.create_queue_v1('bench_wf', notify => true, keep_succeeded => false);

CREATE SCHEMA bare;
CREATE TABLE bare.jobs (
  id           bigserial PRIMARY KEY,
  queue        text NOT NULL,
  task         text NOT NULL,
  args         jsonb NOT NULL DEFAULT '{}',
  priority     integer NOT NULL DEFAULT 0,
  run_at       timestamptz NOT NULL DEFAULT now(),
  status       text NOT NULL DEFAULT 'waiting',
  attempts     integer NOT NULL DEFAULT 0,
  locked_by    text,
  locked_until timestamptz
);
-- The claim walks this index in claim order; finished jobs are deleted, so it stays small.
CREATE INDEX jobs_ready_idx ON bare.jobs (queue, priority DESC, run_at, id)
  WHERE status = 'waiting';
-- workflow_steps: a bare run (claimed like a job) and its append-only history.
CREATE TABLE bare.runs (
  id           bigserial PRIMARY KEY,
  status       text NOT NULL DEFAULT 'waiting',
  input        jsonb NOT NULL DEFAULT '{}',
  output       jsonb,
  attempts     integer NOT NULL DEFAULT 0,
  locked_by    text,
  locked_until timestamptz,
  last_seq     bigint NOT NULL DEFAULT 0,
  steps        integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX runs_waiting_idx ON bare.runs (id) WHERE status = 'waiting';
CREATE TABLE bare.run_history (
  run_id  bigint NOT NULL REFERENCES bare.runs (id),
  seq     bigint NOT NULL,
  at      timestamptz NOT NULL DEFAULT now(),
  kind    text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, seq)
);
SQL

# ----------------------------------------------------------------------------------------
# pgbench scripts. -M prepared: every statement is prepared once per connection and the
# :variables travel as parameters (so \gset'd arrays are passed back as typed values).
# In the cycle workloads the defer precedes the fetch in the same transaction, so the
# fetch always finds the job(s) just deferred (\gset needs exactly one row).
# ----------------------------------------------------------------------------------------
cat >"$WORK/defer_baton.sql" <<'SQL'
SELECT baton.defer_v1('bench', 'noop', '{"n":1}');
SQL
cat >"$WORK/defer_bare.sql" <<'SQL'
INSERT INTO bare.jobs (queue, task, args) VALUES ('bench', 'noop', '{"n":1}') RETURNING id;
SQL

cat >"$WORK/cycle_single_baton.sql" <<'SQL'
BEGIN;
SELECT baton.defer_v1('bench', 'noop', '{"n":1}');
SELECT id, lease_token FROM baton.fetch_v1(ARRAY['bench'], 'w', 1) \gset
SELECT baton.finish_v1(:id::bigint, :lease_token::uuid, 'succeeded');
COMMIT;
SQL
cat >"$WORK/cycle_single_bare.sql" <<'SQL'
BEGIN;
INSERT INTO bare.jobs (queue, task, args) VALUES ('bench', 'noop', '{"n":1}') RETURNING id;
UPDATE bare.jobs SET status = 'running', attempts = attempts + 1, locked_by = 'w', locked_until = now() + interval '5 minutes' WHERE id IN (SELECT id FROM bare.jobs WHERE queue = 'bench' AND status = 'waiting' AND run_at <= now() ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, task, args \gset
DELETE FROM bare.jobs WHERE id = :id::bigint;
COMMIT;
SQL

# Both sides build the same 100 args server-side (array_fill), so neither ships more bytes.
cat >"$WORK/cycle_batch_baton.sql" <<'SQL'
BEGIN;
SELECT baton.defer_many_v1('bench', 'noop', array_fill('{"n":1}'::jsonb, ARRAY[100]));
SELECT array_agg(id) AS ids, array_agg(lease_token) AS tokens FROM baton.fetch_v1(ARRAY['bench'], 'w', 100) \gset
SELECT baton.finish_many_v1(:ids::bigint[], :tokens::uuid[], array_fill('succeeded'::text, ARRAY[cardinality(:ids::bigint[])]));
COMMIT;
SQL
cat >"$WORK/cycle_batch_bare.sql" <<'SQL'
BEGIN;
INSERT INTO bare.jobs (queue, task, args) SELECT 'bench', 'noop', a FROM unnest(array_fill('{"n":1}'::jsonb, ARRAY[100])) AS a RETURNING id;
WITH claimed AS (UPDATE bare.jobs SET status = 'running', attempts = attempts + 1, locked_by = 'w', locked_until = now() + interval '5 minutes' WHERE id IN (SELECT id FROM bare.jobs WHERE queue = 'bench' AND status = 'waiting' AND run_at <= now() ORDER BY priority DESC, run_at, id LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id, task, args) SELECT array_agg(id) AS ids FROM claimed \gset
DELETE FROM bare.jobs WHERE id = ANY (:ids::bigint[]);
COMMIT;
SQL

# The *_keep workloads: the same baton scripts against a bare queue that, like baton, keeps
# every finished job (marks it done instead of deleting it). Reported beside the deleting
# baseline, which stays the reference of the RESULT lines without the suffix.
sed "s/'bench'/'bench_keep'/g" "$WORK/cycle_single_baton.sql" >"$WORK/cycle_single_keep_baton.sql"
sed "s/'bench'/'bench_keep'/g" "$WORK/cycle_batch_baton.sql" >"$WORK/cycle_batch_keep_baton.sql"
# The history run: baton keeps its finished jobs, next to the deleting bare queue.
cp "$WORK/cycle_single_keep_baton.sql" "$WORK/cycle_single_1m_history_baton.sql"
cp "$WORK/cycle_single_bare.sql" "$WORK/cycle_single_1m_history_bare.sql"
sed 's/^DELETE FROM bare.jobs WHERE id = \(.*\);$/UPDATE bare.jobs SET status = '"'"'done'"'"' WHERE id = \1;/' \
  "$WORK/cycle_single_bare.sql" >"$WORK/cycle_single_keep_bare.sql"
sed 's/^DELETE FROM bare.jobs WHERE id = \(.*\);$/UPDATE bare.jobs SET status = '"'"'done'"'"' WHERE id = \1;/' \
  "$WORK/cycle_batch_bare.sql" >"$WORK/cycle_batch_keep_bare.sql"
for f in cycle_single_keep_baton cycle_batch_keep_baton; do
  grep -q "'bench_keep'" "$WORK/$f.sql" || die "could not derive $f.sql"
done
for f in cycle_single_keep_bare cycle_batch_keep_bare; do
  grep -q "status = 'done'" "$WORK/$f.sql" || die "could not derive $f.sql"
done

jobs_per_tx() { case $1 in cycle_batch*) echo 100 ;; *) echo 1 ;; esac; }

# ----------------------------------------------------------------------------------------
# Helpers.
# ----------------------------------------------------------------------------------------
reset_queues() {
  "${PSQL[@]}" -c "TRUNCATE baton.jobs, baton.jobs_finished, bare.jobs" \
    -c "VACUUM ANALYZE baton.jobs, baton.jobs_finished, bare.jobs" -c "CHECKPOINT"
}

# workflow_steps: also empties the runs and their histories (both sides).
WF_TABLES="baton.run_history, baton.run_steps, baton.run_snapshots, baton.runs, bare.run_history, bare.runs"
reset_workflows() {
  "${PSQL[@]}" -c "TRUNCATE baton.jobs, baton.jobs_finished, $WF_TABLES" \
    -c "VACUUM ANALYZE baton.jobs, baton.jobs_finished, $WF_TABLES" -c "CHECKPOINT"
}

# Waits (up to 5 s) until no client backend is left, so the CPU reading sees every backend
# of the run either alive or already reaped into the postmaster's children's times.
wait_backends_gone() {
  local i
  for ((i = 0; i < 50; i++)); do
    if [ -z "$(pgrep -P "$PM_PID" -f '\[local\]' || true)" ]; then
      # An exiting backend loses its title before the postmaster reaps it into its
      # children's times; reading in that window would drop its ticks.
      sleep 0.5
      return 0
    fi
    sleep 0.1
  done
}

# Clock ticks used by the server so far: the postmaster's own and its reaped children's
# (cutime, cstime: backends that exited), plus every live child's own.
server_ticks() {
  local total pid stat
  local -a f
  stat=$(<"/proc/$PM_PID/stat")
  read -r -a f <<<"${stat##*) }" # fields from 3 (state) on: utime=14 -> f[11]
  total=$((f[11] + f[12] + f[13] + f[14]))
  for pid in $(pgrep -P "$PM_PID" || true); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    read -r -a f <<<"${stat##*) }"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

# run_one WORKLOAD SIDE CLIENTS -> sets RUN_JOBS_S and RUN_CPU_US
run_one() {
  local workload=$1 side=$2 clients=$3
  local threads=$((clients < 2 ? clients : 2))
  local per_tx log rc t0 t1 tps txs
  per_tx=$(jobs_per_tx "$workload")
  log=$WORK/${workload}_${side}_${clients}.log
  wait_backends_gone
  t0=$(server_ticks)
  rc=0
  pgbench -n -M prepared -T "$BENCH_SECONDS" -c "$clients" -j "$threads" \
    -f "$WORK/${workload}_${side}.sql" >"$log" 2>&1 || rc=$?
  wait_backends_gone
  t1=$(server_ticks)
  if [ "$rc" -ne 0 ] || grep -q 'aborted' "$log"; then
    echo "run_bench: pgbench failed for $workload/$side at $clients clients (exit $rc):" >&2
    cat "$log" >&2
    exit 1
  fi
  tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$log")
  txs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*$/\1/p' "$log")
  if [ -z "$tps" ] || [ -z "$txs" ]; then cat "$log" >&2; die "cannot parse pgbench output"; fi
  RUN_JOBS_S=$(awk -v t="$tps" -v p="$per_tx" 'BEGIN { printf "%.0f", t * p }')
  RUN_CPU_US=$(awk -v d="$((t1 - t0))" -v hz="$CLK_TCK" -v n="$((txs * per_tx))" \
    'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else print "nan" }')
  local lat
  lat=$(sed -n 's/^latency average = \(.*\)$/\1/p' "$log")
  printf '  %-24s %-5s clients=%-3s %9.1f tx/s %7d jobs/s  latency %-10s cpu %s us/job\n' \
    "$workload" "$side" "$clients" "$tps" "$RUN_JOBS_S" "$lat" "$RUN_CPU_US"
}

# run_drain SIDE CLIENTS -> sets RUN_JOBS_S and RUN_CPU_US (worker_drain; queues empty)
run_drain() {
  local side=$1 clients=$2
  local log=$WORK/worker_drain_${side}_${clients}.log rc=0 t0 t1 line
  "$WORKER_BENCH" fill "$side" --jobs "$BENCH_WORKER_JOBS" >"$log.fill" 2>&1 || {
    cat "$log.fill" >&2
    die "worker_bench fill failed for $side"
  }
  "${PSQL[@]}" -c "VACUUM ANALYZE baton.jobs, bare.jobs" -c "CHECKPOINT"
  wait_backends_gone
  t0=$(server_ticks)
  "$WORKER_BENCH" drain "$side" --jobs "$BENCH_WORKER_JOBS" --clients "$clients" \
    --batch "$BENCH_WORKER_BATCH" --max-slots "$BENCH_WORKER_MAX_SLOTS" >"$log" 2>&1 || rc=$?
  wait_backends_gone
  t1=$(server_ticks)
  line=$(grep '^DRAIN ' "$log" || true)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    cat "$log" >&2
    die "worker_bench drain failed for $side at $clients clients (exit $rc)"
  fi
  RUN_JOBS_S=$(sed -n 's/.* jobs_per_s=\([0-9]*\) .*/\1/p' <<<"$line")
  [ -n "$RUN_JOBS_S" ] || die "cannot parse worker_bench output: $line"
  RUN_CPU_US=$(awk -v d="$((t1 - t0))" -v hz="$CLK_TCK" -v n="$BENCH_WORKER_JOBS" \
    'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
  printf '  %-24s %-5s clients=%-3s %7d jobs/s  %s  cpu %s us/job\n' worker_drain "$side" \
    "$clients" "$RUN_JOBS_S" \
    "$(sed 's/^DRAIN side=[a-z]* clients=[0-9]* //; s/ jobs_per_s=[0-9]*//' <<<"$line")" \
    "$RUN_CPU_US"
}

# run_workflow SIDE CLIENTS -> sets RUN_JOBS_S (steps/s) and RUN_CPU_US (per step)
# (workflow_steps; tables empty)
run_workflow() {
  local side=$1 clients=$2
  local log=$WORK/workflow_steps_${side}_${clients}.log rc=0 t0 t1 line
  "$WORKFLOW_BENCH" fill "$side" --runs "$BENCH_WF_RUNS" --steps "$BENCH_WF_STEPS" \
    >"$log.fill" 2>&1 || {
    cat "$log.fill" >&2
    die "workflow_bench fill failed for $side"
  }
  "${PSQL[@]}" -c "VACUUM ANALYZE baton.jobs, $WF_TABLES" -c "CHECKPOINT"
  wait_backends_gone
  t0=$(server_ticks)
  "$WORKFLOW_BENCH" run "$side" --runs "$BENCH_WF_RUNS" --steps "$BENCH_WF_STEPS" \
    --clients "$clients" --slots-per-client "$BENCH_WF_SLOTS_PER_CLIENT" \
    --max-slots "$BENCH_WF_MAX_SLOTS" >"$log" 2>&1 || rc=$?
  wait_backends_gone
  t1=$(server_ticks)
  line=$(grep '^WORKFLOW ' "$log" || true)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    cat "$log" >&2
    die "workflow_bench run failed for $side at $clients clients (exit $rc)"
  fi
  RUN_JOBS_S=$(sed -n 's/.* steps_per_s=\([0-9]*\) .*/\1/p' <<<"$line")
  [ -n "$RUN_JOBS_S" ] || die "cannot parse workflow_bench output: $line"
  RUN_CPU_US=$(awk -v d="$((t1 - t0))" -v hz="$CLK_TCK" -v n="$((BENCH_WF_RUNS * BENCH_WF_STEPS))" \
    'BEGIN { printf "%.1f", d * 1e6 / hz / n }')
  printf '  %-24s %-5s clients=%-3s %7d steps/s  %s  cpu %s us/step\n' workflow_steps "$side" \
    "$clients" "$RUN_JOBS_S" \
    "$(sed 's/^WORKFLOW side=[a-z]* clients=[0-9]* //; s/ steps_per_s=[0-9]*//' <<<"$line")" \
    "$RUN_CPU_US"
}

RESULTS=()
CPUS=()
# compare WORKLOAD CLIENTS [noreset]: baton then bare, each from empty queues.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# compare WORKLOAD CLIENTS [noreset]: BENCH_ROUNDS rounds of baton and bare, each run from
# empty queues, the order alternating per round (so drift of the machine hits both sides);
# the medians are reported. With noreset, baton's history is kept between runs.
compare() {
  local workload=$1 clients=$2 noreset=${3:-}
  local round side
  local -a baton=() baton_cpu=() bare=() bare_cpu=()
  for ((round = 1; round <= BENCH_ROUNDS; round++)); do
    for side in $([ $((round % 2)) = 1 ] && echo "baton bare" || echo "bare baton"); do
      if [ "$workload" = workflow_steps ]; then
        reset_workflows
      elif [ -n "$noreset" ]; then
        "${PSQL[@]}" -c "TRUNCATE bare.jobs" -c "VACUUM ANALYZE baton.jobs, bare.jobs" \
          -c "CHECKPOINT"
      else
        reset_queues
      fi
      if [ "$workload" = worker_drain ]; then
        run_drain "$side" "$clients"
      elif [ "$workload" = workflow_steps ]; then
        run_workflow "$side" "$clients"
      else
        run_one "$workload" "$side" "$clients"
      fi
      if [ "$side" = baton ]; then
        baton+=("$RUN_JOBS_S") baton_cpu+=("$RUN_CPU_US")
      else
        bare+=("$RUN_JOBS_S") bare_cpu+=("$RUN_CPU_US")
      fi
    done
  done
  local a b
  a=$(median "${baton[@]}") b=$(median "${bare[@]}")
  RESULTS+=("$(awk -v w="$workload" -v c="$clients" -v a="$a" -v b="$b" \
    'BEGIN { printf "RESULT %s clients=%s baton=%.0f bare=%.0f ratio=%s", w, c, a, b,
             (b > 0 ? sprintf("%.2f", a / b) : "nan") }')")
  local cpu_a cpu_b
  cpu_a=$(median "${baton_cpu[@]}") cpu_b=$(median "${bare_cpu[@]}")
  local unit=job
  [ "$workload" != workflow_steps ] || unit=step
  CPUS+=("CPU $workload clients=$clients cpu_us_per_${unit}_baton=$cpu_a cpu_us_per_${unit}_bare=$cpu_b")
}

# fetch_v1 on one queue takes the direct path: no statement, a walk of jobs_ready_idx from
# the claim floor and an update through the primary key (README, "The direct path"). Its
# SQL path, which serves every other case, is a kept SPI plan: shown here as auto_explain
# logs it for nested statements (with baton.direct_access off), with the row counts and
# buffers of one claim. The blocks one direct claim touches are printed after it.
explain_claim() {
  echo "--- EXPLAIN (ANALYZE, BUFFERS) of fetch_v1's claim statement, its SQL path ($1)"
  # Only the claim statement's plan (the first fetch of a session also checks its queues
  # and reaps, each a statement of its own).
  "${PSQL[@]}" -At 2>&1 <<SQL | awk '/^NOTICE:/ { keep = 0 } /^Query Text: .*SET status = .running./ { keep = 1 } keep'
BEGIN;
\o /dev/null
SELECT baton.defer_v1('bench_keep', 'noop', '{"n":1}');
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_buffers = on;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SET baton.direct_access = off;
SELECT * FROM baton.fetch_v1(ARRAY['bench_keep'], 'w', 1);
\o
ROLLBACK;
SQL
  # The direct path: shared buffers read or hit per relation by one claim, from the
  # statistics views once the claim's transaction has reported them.
  echo "--- buffers one direct-path claim of fetch_v1 touches ($1)"
  "${PSQL[@]}" -At <<'SQL'
\o /dev/null
SELECT baton.defer_v1('bench_keep', 'noop', '{"n":1}');
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.01);
CREATE TEMP TABLE before AS
  SELECT relname, coalesce(heap_blks_hit, 0) + coalesce(heap_blks_read, 0) AS heap,
         coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0) AS idx
    FROM pg_statio_all_tables WHERE schemaname = 'baton';
SELECT count(*) AS claimed FROM baton.fetch_v1(ARRAY['bench_keep'], 'w', 1);
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(0.01);
\o
SELECT format('%s: heap blocks %s, index blocks %s', t.relname,
              coalesce(t.heap_blks_hit, 0) + coalesce(t.heap_blks_read, 0) - b.heap,
              coalesce(t.idx_blks_hit, 0) + coalesce(t.idx_blks_read, 0) - b.idx)
  FROM pg_statio_all_tables t JOIN before b USING (relname)
 WHERE t.schemaname = 'baton' AND t.relname IN ('jobs', 'jobs_finished', 'queues')
 ORDER BY 1;
SQL
}

# ----------------------------------------------------------------------------------------
# Runs.
# ----------------------------------------------------------------------------------------
for workload in $BENCH_WORKLOADS; do
  [ "$workload" != history ] || continue
  echo "== $workload"
  for clients in $BENCH_CLIENTS; do
    compare "$workload" "$clients"
  done
done

run_history() {
echo "== history: cycle_single at 1 client with $BENCH_HISTORY finished jobs in baton's history"
reset_queues
explain_claim "no history"
start=$(date +%s)
"${PSQL[@]}" <<SQL
-- Finished jobs as finish_v1 leaves them: ids from baton's sequence, one attempt each.
INSERT INTO baton.jobs_finished
  (id, queue, task, args, priority, status, attempts, max_attempts, retry_backoff, retry_delay,
   retry_delay_max, lock, queueing_lock, worker, result, error, deferred_at, claimed_at,
   finished_at, events)
SELECT nextval('baton.job_id_seq'), 'bench_keep', 'noop', jsonb_build_object('n', g), 0, 'succeeded',
       1, 5, 'exponential', '1 second', '1 hour', NULL, NULL, 'w', NULL, NULL,
       t, t + interval '10 milliseconds', t + interval '20 milliseconds', '[]' 
FROM generate_series(1, $BENCH_HISTORY) AS g,
     LATERAL (SELECT now() - interval '1 day' + g * interval '50 milliseconds' AS t) AS ts;
SQL
"${PSQL[@]}" -c "VACUUM ANALYZE baton.jobs, baton.jobs_finished, bare.jobs" -c "CHECKPOINT"
echo "filled baton.jobs_finished with $BENCH_HISTORY rows in $(($(date +%s) - start)) s:" \
  "$("${PSQL[@]}" -At -c "SELECT pg_size_pretty(pg_total_relation_size('baton.jobs_finished'))")"
explain_claim "$BENCH_HISTORY finished jobs in history"
compare cycle_single_1m_history 1 noreset
}
case " $BENCH_WORKLOADS " in *" history "*) run_history ;; esac

echo
printf '%s\n' "${CPUS[@]}"
printf '%s\n' "${RESULTS[@]}"
