#!/usr/bin/env bash
# The demo (`make demo`, the README's first command): a throwaway PostgreSQL with baton
# installed, a database with three queues, 5,000 jobs deferred through the C++ client
# (demo/defer_jobs.cpp, defer_many), a baton::Worker with 4 slots draining them
# (demo/demo_worker.cpp: a progress line; retries of a flaky task; follow-up jobs; emails that
# bounce and go dead on purpose), then the `baton` CLI: `baton status` and the history of a
# job that was retried, and the dead jobs; then a durable workflow (demo/order_saga.cpp): an
# order saga (reserve stock -> charge card -> ship) whose shipping fails, so its steps are
# undone in reverse order (refund card, release stock) and the run ends compensated, with
# the run's history from baton.run_history_v1. Exits non-zero if any step fails or a job is left
# over (waiting, scheduled, running, or dead other than the bounces).
# DEMO_JOBS=N defers N jobs instead of 5,000.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${DEMO_JOBS:-5000}
BATON=client/build/baton

# The client library and CLI (up to date after `make`), then the demo's programs.
make --no-print-directory -s -C client
make --no-print-directory -s -C demo

. test/lib/server.sh
start_server
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE baton_demo"
export PGDATABASE=baton_demo
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION baton"
echo "PostgreSQL $(psql -X -At -c 'SHOW server_version') on $PGHOST (port $PGPORT)," \
  "database $PGDATABASE with baton $(psql -X -At -c \
  "SELECT extversion FROM pg_extension WHERE extname = 'baton'")"
echo

demo/build/defer_jobs "$JOBS"
echo

WORKER_LOG=$BATON_PG_DIR/worker.log
if ! demo/build/demo_worker --log "$WORKER_LOG" --timeout 45; then
  echo "--- the worker's log (last 20 lines) ---" >&2
  tail -n 20 "$WORKER_LOG" >&2 || true
  exit 1
fi
echo "(the worker logged $(wc -l <"$WORKER_LOG") key=value lines, e.g.:)"
for event in 'event=worker_started' 'status=waiting' 'event=worker_stopped'; do
  grep -m1 "$event" "$WORKER_LOG" | sed 's/^/  /' || true
done

echo
echo '$ baton status'
"$BATON" status

RETRIED=$(psql -X -At -c "SELECT min(id) FROM baton.all_jobs
  WHERE task = 'deliver_webhook' AND status = 'succeeded' AND attempts > 1")
echo
if [ -n "$RETRIED" ]; then
  echo "\$ baton jobs show $RETRIED      # a webhook delivery that failed before it succeeded"
  "$BATON" jobs show "$RETRIED"
else
  echo "(no webhook delivery needed a retry this time: too few jobs for the ~10 % failures)"
fi

echo
echo '$ baton jobs --status dead      # the emails that bounced: a permanent failure, no retries'
"$BATON" jobs --status dead

echo
echo '--- a durable workflow: an order saga (demo/order_saga.cpp) ---'
demo/build/order_saga --timeout 30
RUN=$(psql -X -At -c "SELECT id FROM baton.workflow_runs WHERE correlation_id = 'order-1001'")
echo
echo "\$ psql -c 'SELECT seq, kind, payload FROM baton.run_history_v1($RUN)'"
psql -X -q -P pager=off -c "SELECT seq, kind, left(payload::text, 90) AS payload
  FROM baton.run_history_v1($RUN)"
