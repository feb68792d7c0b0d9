#!/usr/bin/env bash
# Upgrade under load: the stress test with ALTER EXTENSION baton UPDATE in the middle of it.
# A fresh database baton_upgrade_load gets baton at version 0.1.0; baton-stress then drains
# jobs with the 0.1.0 procedures and upgrades to the newest version (default_version in
# baton.control) when about a third of them were deferred; half of the workers then switch
# to fetch_v2. The usual audit follows (no job lost, none run twice at once, one final state
# each), plus the upgrade's own checks; the summary prints the upgrade's time and the longest
# call that overlapped it (UPGRADE_STALL_MS=...). Needs a running server with the newest
# package installed, described by PGHOST/PGPORT/PGUSER (test/lib/server.sh's start_server
# exports them). Extra arguments go to baton-stress. Exits non-zero on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
db=baton_upgrade_load
from=0.1.0

if [ -z "${PGHOST:-}" ]; then
  echo "run_upgrade.sh: PGHOST is not set; start a server first:" >&2
  echo "  . test/lib/server.sh && start_server && test/stress/run_upgrade.sh" >&2
  exit 2
fi

to=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$root/baton.control")
if [ -z "$to" ] || [ "$to" = "$from" ]; then
  echo "run_upgrade.sh: baton.control's default_version is '$to': nothing to upgrade $from to" >&2
  exit 2
fi

psql_quiet() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_quiet -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql_quiet -d "$db" -c "CREATE EXTENSION baton VERSION '$from'"

make -s -C "$here" build
# The minimums the run proves its claims at; later arguments override them.
"$here/build/baton-stress" --dsn "dbname=$db" --jobs 20000 --workers 4 --upgrade-to "$to" "$@"
