# Throwaway PostgreSQL 15 server for tests, benchmarks and the demo. Source this file, then
#   start_server        # initdb in a temp dir, start on a Unix socket, export PG* variables
#   stop_server         # stop it and remove the directory (also runs on EXIT via trap)
# As root (CI), initdb and the server run as the `postgres` OS user: the server refuses root.
# Extra server settings may be passed in BATON_PG_OPTS (e.g. "-c fsync=off").

BATON_PG_BIN=${BATON_PG_BIN:-$(pg_config --bindir)}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_server() {
  BATON_PG_DIR=$(mktemp -d /tmp/baton-pg.XXXXXX)
  chmod 755 "$BATON_PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$BATON_PG_DIR"; fi
  local port=${BATON_PG_PORT:-$((20000 + RANDOM % 20000))}
  as_postgres "$BATON_PG_BIN/initdb" -D "$BATON_PG_DIR/data" -U postgres --auth=trust \
    -E UTF8 --locale=C >"$BATON_PG_DIR/initdb.log" 2>&1 || {
    cat "$BATON_PG_DIR/initdb.log"; return 1; }
  as_postgres "$BATON_PG_BIN/pg_ctl" -D "$BATON_PG_DIR/data" -l "$BATON_PG_DIR/server.log" -w \
    -o "-k $BATON_PG_DIR -p $port -c listen_addresses='' -c max_connections=200 \
        -c shared_buffers=256MB -c max_locks_per_transaction=256 ${BATON_PG_OPTS:-}" \
    start >/dev/null || { cat "$BATON_PG_DIR/server.log"; return 1; }
  export PGHOST=$BATON_PG_DIR PGPORT=$port PGUSER=postgres PGDATABASE=postgres
  trap stop_server EXIT
}

stop_server() {
  [ -n "${BATON_PG_DIR:-}" ] || return 0
  as_postgres "$BATON_PG_BIN/pg_ctl" -D "$BATON_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  if [ -n "${BATON_KEEP_LOG:-}" ]; then cp "$BATON_PG_DIR/server.log" "$BATON_KEEP_LOG" || true; fi
  rm -rf "$BATON_PG_DIR"
  BATON_PG_DIR=
}
