#!/usr/bin/env bash
# The upgrade and compatibility suite (ARCHITECTURE §2): the proof that upgrading baton needs
# no draining and no downtime. On the running server described by PGHOST/PGPORT/PGUSER
# (test/lib/server.sh), with the newest build installed (`make install`):
#   1. released scripts never change: their checksums (test/released_scripts.sha256);
#   2. every release installs from the tree and reaches the newest (pg_extension_update_paths);
#   3. the frozen API contract of every release (sql/api_X_Y_Z.sql) passes on a fresh newest
#      install, on each older release's SQL served by the newest library (the window between
#      installing the package and ALTER EXTENSION UPDATE), and after upgrading from it;
#   4. the catalog of a database upgraded from each release equals a fresh install's
#      (test/upgrade/catalog.sql lists what is compared);
#   5. pg_dump and restore keep every job, from each release (test/upgrade/dump_restore.sh);
#   6. a library older than the database's SQL refuses with a clear error and a HINT.
# The upgrade under load is test/stress/run_upgrade.sh. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

if [ -z "${PGHOST:-}" ]; then
  echo "run.sh: PGHOST is not set; start a server first: . test/lib/server.sh && start_server" >&2
  exit 2
fi

out=$root/build/upgrade
rm -rf "$out" && mkdir -p "$out"
PG_REGRESS=$(dirname "$(pg_config --pgxs)")/../test/regress/pg_regress
newest=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" baton.control)
# Every release: the versions the scripts in extension/ install or upgrade to, oldest first.
mapfile -t releases < <(ls extension/ | sed -n 's/^baton--\([0-9.]*--\)\{0,1\}\([0-9.]*\)\.sql$/\2/p' |
  sort -uV)
failed=0
fail() { echo "FAIL: $*"; failed=1; }
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_at() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# The contract files of the releases up to $1, e.g. "api_0_1_0 api_0_2_0".
contracts_up_to() {
  local r list=()
  for r in "${releases[@]}"; do
    list+=("api_${r//./_}")
    [ "$r" = "$1" ] && break
  done
  echo "${list[@]}"
}

# run_contracts DB NAME VERSION: the frozen contracts up to VERSION against DB.
run_contracts() {
  local db=$1 name=$2 version=$3
  # shellcheck disable=SC2046
  if ! "$PG_REGRESS" --use-existing --inputdir=. --outputdir="$out/$name" --dbname="$db" \
      $(contracts_up_to "$version") >"$out/$name.log" 2>&1; then
    cat "$out/$name.log"
    cat "$out/$name/regression.diffs" 2>/dev/null || true
    fail "API contracts up to $version on $name"
  else
    echo "ok: API contracts up to $version pass on $name"
  fi
  # api_0_2_0 says upgrade_pending = f, frozen when 0.2.0 was the newest; in the window
  # (older SQL, newer package) it is rightly t, which expected/api_0_2_0_1.out (pg_regress's
  # alternative output) allows. Outside the window it must be f, checked here.
  case "$name" in window_*) ;; *)
    [ "$(psql_at -d "$db" -c "SELECT upgrade_pending FROM baton.version_v1()")" = f ] ||
      fail "version_v1 says an upgrade is pending on $name" ;;
  esac
}

fresh_db() {
  psql_q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" 2>/dev/null
}

echo "== releases: ${releases[*]} (newest: $newest)"
[ "${releases[${#releases[@]}-1]}" = "$newest" ] ||
  fail "baton.control's default_version $newest is not the newest script's version"

echo "== 1. released scripts are unchanged"
if (sha256sum --quiet -c test/released_scripts.sha256); then
  echo "ok: checksums of $(wc -l <test/released_scripts.sha256) released scripts"
else
  fail "a released script changed (test/released_scripts.sha256)"
fi
for f in extension/baton--*.sql; do
  grep -q " $f\$" test/released_scripts.sha256 || fail "$f has no recorded checksum"
done
library_version=$(sed -n 's/.*kLibraryVersion = "\(.*\)";/\1/p' extension/src/core/release.h)
[ "$library_version" = "$newest" ] ||
  fail "core/release.h says library $library_version, baton.control $newest"
for r in "${releases[@]}"; do
  grep -q "kServedReleases\[\] = {.*\"$r\"" extension/src/core/release.h ||
    fail "core/release.h does not list release $r as served"
done

echo "== 2.-4. install, contracts, upgrade paths and catalogs"
fresh_db up_fresh
psql_q -d up_fresh -c "CREATE EXTENSION baton"
[ "$(psql_at -d up_fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'baton'")" = "$newest" ] ||
  fail "CREATE EXTENSION baton did not install $newest"
run_contracts up_fresh fresh "$newest"
psql_at -d up_fresh -f test/upgrade/catalog.sql >"$out/catalog_fresh.txt"

for r in "${releases[@]}"; do
  [ "$r" = "$newest" ] && continue
  db=up_${r//./_}
  fresh_db "$db"
  psql_q -d "$db" -c "CREATE EXTENSION baton VERSION '$r'" ||
    { fail "CREATE EXTENSION baton VERSION '$r'"; continue; }
  path=$(psql_at -d "$db" -c "SELECT path FROM pg_extension_update_paths('baton')
                                WHERE source = '$r' AND target = '$newest'")
  [ -n "$path" ] && echo "ok: $r reaches $newest by $path" || fail "no update path $r -> $newest"
  # The window: the newest library serves the old release's SQL.
  run_contracts "$db" "window_$r" "$r"
  psql_q -d "$db" -c "ALTER EXTENSION baton UPDATE"
  [ "$(psql_at -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'baton'")" = "$newest" ] ||
    fail "ALTER EXTENSION baton UPDATE from $r did not reach $newest"
  run_contracts "$db" "upgraded_from_$r" "$newest"
  psql_at -d "$db" -f test/upgrade/catalog.sql >"$out/catalog_from_$r.txt"
  if diff -u "$out/catalog_fresh.txt" "$out/catalog_from_$r.txt" >"$out/catalog_from_$r.diff"; then
    echo "ok: catalog upgraded from $r equals a fresh $newest ($(wc -l <"$out/catalog_fresh.txt") lines compared)"
  else
    cat "$out/catalog_from_$r.diff"
    fail "catalog upgraded from $r differs from a fresh install"
  fi
done

echo "== 5. pg_dump and restore"
for r in "${releases[@]}"; do
  if test/upgrade/dump_restore.sh "$r" >"$out/dump_restore_$r.log" 2>&1; then
    tail -1 "$out/dump_restore_$r.log"
  else
    cat "$out/dump_restore_$r.log"
    fail "dump and restore from $r"
  fi
done

echo "== 6. a library older than the database's SQL"
# A release this library does not know: an empty upgrade script to a far version, present
# only while this check runs.
fake=$(pg_config --sharedir)/extension/baton--$newest--99.0.0.sql
trap 'rm -f "$fake"' EXIT
printf '%s\n' "-- test/upgrade/run.sh: a release newer than the installed library" \
  "\\echo Use \"ALTER EXTENSION baton UPDATE\" to load this file. \\quit" >"$fake"
fresh_db up_future
psql_q -d up_future -c "CREATE EXTENSION baton" -c "ALTER EXTENSION baton UPDATE TO '99.0.0'"
rm -f "$fake"
answer=$(psql -X -d up_future -c "SELECT baton.defer_v1('q', 't')" 2>&1 || true)
expected="ERROR:  the baton library $newest cannot serve baton 99.0.0, the version installed in this database"
if grep -qF "$expected" <<<"$answer" && grep -qF "HINT:  Install the baton package of version 99.0.0 or later" <<<"$answer"; then
  echo "ok: a library older than the SQL refuses: $(head -1 <<<"$answer")"
else
  echo "$answer"
  fail "the too-old library did not refuse as documented"
fi
state=$(psql -X -d up_future -v VERBOSITY=verbose -c "SELECT * FROM baton.version_v1()" 2>&1 || true)
grep -q "QB002" <<<"$state" || { echo "$state"; fail "version_v1 on a too-old library: no QB002"; }

for db in up_fresh up_future "${releases[@]/#/up_}"; do
  psql_q -d postgres -c "DROP DATABASE IF EXISTS ${db//./_}" 2>/dev/null || true
done
[ "$failed" = 0 ] && echo "UPGRADE SUITE PASSED" || { echo "UPGRADE SUITE FAILED"; exit 1; }
