#!/usr/bin/env bash
# The demo: a throwaway PostgreSQL with baton installed; 5,000 jobs deferred in bulk; four
# concurrent workers (pgbench clients running demo/worker.sql) claim and finish them in
# batches, with simulated failures that baton retries; progress each second; then the
# per-queue counts.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/server.sh
start_server
JOBS=${DEMO_JOBS:-5000}

psql -X -q -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION baton;
SELECT baton.create_queue_v1('demo');
SELECT count(*) AS deferred FROM baton.defer_many_v1('demo', 'send_email',
  ARRAY(SELECT jsonb_build_object('to', 'user' || n || '@example.com') FROM generate_series(1, $JOBS) n),
  max_attempts => 3, retry_backoff => 'constant', retry_delay => '200 milliseconds');
SQL

echo "4 workers draining $JOBS jobs (one in eight attempts fails and is retried):"
while :; do
  pgbench -n -c 4 -j 2 -T 1 -R 100 -f demo/worker.sql >"$BATON_PG_DIR/worker.log" 2>&1 ||
    { echo "worker round failed:"; cat "$BATON_PG_DIR/worker.log"; exit 1; }
  read -r waiting running done dead <<<"$(psql -X -At -F ' ' -c \
    "SELECT waiting + scheduled, running, succeeded, dead FROM baton.queue_stats WHERE queue = 'demo'")"
  echo "  waiting=$waiting running=$running succeeded=$done dead=$dead"
  [ "$waiting" = 0 ] && [ "$running" = 0 ] && break
done

echo
echo "Per-queue counts (SELECT * FROM baton.queue_stats):"
psql -X -c "SELECT * FROM baton.queue_stats"
echo "History of one job that was retried (baton.job_history_v1):"
psql -X -c "SELECT seq, at, kind, detail FROM baton.job_history_v1(
  (SELECT id FROM baton.jobs_finished WHERE attempts > 1 ORDER BY id LIMIT 1))"
