#!/usr/bin/env bash
# Tests of the C++ client (client/) against a live server: creates a fresh database
# baton_client_test with baton installed, builds and runs client/build/client_tests with
# PGDATABASE pointing at it (the tests create a few more databases of their own, named
# baton_client_test_*). Needs PGHOST/PGPORT/PGUSER of a running server with baton installed,
# as test/lib/server.sh's start_server exports them. Extra arguments go to the test binary
# (e.g. --gtest_filter=Calls.*). Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
db=baton_client_test

if [ -z "${PGHOST:-}" ]; then
  echo "run.sh: PGHOST is not set; start a server first:" >&2
  echo "  . test/lib/server.sh && start_server && test/client/run.sh" >&2
  exit 2
fi

psql_quiet() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_quiet -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
psql_quiet -d "$db" -c "CREATE EXTENSION baton"

PGDATABASE=$db make -s -C "$root/client" test GTEST_ARGS="$*"
