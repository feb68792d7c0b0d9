#!/usr/bin/env bash
# Runs every suite that needs a server against one throwaway PostgreSQL 15 (see
# test/lib/server.sh): pg_regress (sql/, expected/), the isolation specs, the stress
# test, the upgrade suite (test/upgrade/run.sh) and the upgrade under load. Assumes `make install` has put the current build into the system PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/server.sh

PGXS_DIR=$(dirname "$(pg_config --pgxs)")/..
PG_REGRESS=$PGXS_DIR/test/regress/pg_regress
REGRESS_TESTS=(setup defer fetch finish admin errors roles hot_path claim_floor search_path
  direct_path workflows invariants)
# The same suite with the direct path off proves the SQL statements that serve every case
# the direct path leaves to them (direct_path itself compares both paths).
SQL_PATH_TESTS=(setup defer fetch finish admin errors roles hot_path claim_floor search_path
  workflows invariants)

start_server
mkdir -p build
failed=0

echo "== pg_regress: ${REGRESS_TESTS[*]}"
rm -rf build/regress && mkdir -p build/regress
if ! "$PG_REGRESS" --inputdir=. --outputdir=build/regress --dbname=baton_regress \
    "${REGRESS_TESTS[@]}"; then
  cat build/regress/regression.diffs || true
  failed=1
fi

echo "== pg_regress with baton.direct_access = off: ${SQL_PATH_TESTS[*]}"
rm -rf build/regress_sql && mkdir -p build/regress_sql
if ! PGOPTIONS="-c baton.direct_access=off" "$PG_REGRESS" --inputdir=. \
    --outputdir=build/regress_sql --dbname=baton_regress_sql "${SQL_PATH_TESTS[@]}"; then
  cat build/regress_sql/regression.diffs || true
  failed=1
fi

echo "== isolation specs"
test/isolation/run.sh || failed=1

echo "== stress test"
test/stress/run.sh || failed=1

echo "== upgrades: contracts, catalogs, dump and restore, a too-old library"
test/upgrade/run.sh || failed=1

echo "== upgrade under load"
test/stress/run_upgrade.sh || failed=1

echo "== C++ client library"
test/client/run.sh || failed=1

echo "== worker runtime: drain, kill -9, SIGTERM, server restart, polling fallback"
test/client/worker/run.sh || failed=1

echo "== baton CLI"
test/client/cli/run.sh || failed=1

if [ "$failed" != 0 ]; then
  echo "FAILED (server log follows)"; tail -50 "$BATON_PG_DIR/server.log"
  exit 1
fi
echo "ALL TESTS PASSED"
