#!/usr/bin/env bash
# Runs the isolation specs (test/isolation/specs/*.spec against expected/*.out) with
# pg_isolation_regress, on the running server described by PGHOST/PGPORT/PGUSER, e.g.:
#   . test/lib/server.sh && start_server && test/isolation/run.sh
# With no arguments it runs test/isolation/isolation_schedule; with arguments, only the
# named specs (e.g. `test/isolation/run.sh claim_race lease_fencing`).
# Outputs go to build/isolation (BATON_ISOLATION_OUT overrides); the database
# baton_isolation is dropped and re-created, with the extension, on every run.
# Exits non-zero, after printing regression.diffs, when any spec fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${BATON_ISOLATION_OUT:-$root/build/isolation}
pg_config=${PG_CONFIG:-pg_config}

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
  echo "run.sh: PGHOST and PGPORT are not set; start a server first:" >&2
  echo "  . test/lib/server.sh && start_server && test/isolation/run.sh" >&2
  exit 2
fi

# pgxs.mk lives in <pkglibdir>/pgxs/src/makefiles; the driver in <...>/src/test/isolation.
regress=$(dirname "$(dirname "$("$pg_config" --pgxs)")")/test/isolation/pg_isolation_regress
if [ ! -x "$regress" ]; then
  echo "run.sh: $regress not found (install postgresql-server-dev-15)" >&2
  exit 2
fi

if [ $# -gt 0 ]; then tests=("$@"); else tests=(--schedule="$here/isolation_schedule"); fi

rm -rf "$out"
mkdir -p "$out"
status=0
"$regress" --inputdir="$here" --outputdir="$out" \
  --host="$PGHOST" --port="$PGPORT" --user="${PGUSER:-postgres}" \
  --dbname=baton_isolation --load-extension=baton "${tests[@]}" || status=$?

if [ "$status" -ne 0 ]; then
  if [ -s "$out/regression.diffs" ]; then
    echo "=== $out/regression.diffs"
    cat "$out/regression.diffs"
  fi
  echo "run.sh: isolation specs FAILED (exit $status)" >&2
  exit "$status"
fi
