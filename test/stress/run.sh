#!/usr/bin/env bash
# Stress test of the job queue core: no job lost, none run twice at once, every job ends in
# exactly one final state. Needs a running server with baton installed, described by
# PGHOST/PGPORT/PGUSER (as test/lib/server.sh's start_server exports them). Creates a fresh
# database baton_stress, builds and runs test/stress/build/baton-stress; extra arguments go
# to it (e.g. --jobs 50000 --workers 8). Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
db=baton_stress

if [ -z "${PGHOST:-}" ]; then
  echo "run.sh: PGHOST is not set; start a server first:" >&2
  echo "  . test/lib/server.sh && start_server && test/stress/run.sh" >&2
  exit 2
fi

psql_quiet() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_quiet -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql_quiet -d "$db" -c "CREATE EXTENSION baton"

make -s -C "$here" build
"$here/build/baton-stress" --dsn "dbname=$db" "$@"
