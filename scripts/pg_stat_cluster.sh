#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster with pg_stat_statements, for tests.
#
#   scripts/pg_stat_cluster.sh start   # prints the URL of database `test`, e.g.
#                                      # postgres://postgres@127.0.0.1:54873/test
#   scripts/pg_stat_cluster.sh url     # the URL of the running cluster (fails if stopped)
#   scripts/pg_stat_cluster.sh stop
#
# The cluster lives in target/pgss (override with PGSS_DIR), listens on a free loopback
# port only, trusts every local connection, preloads pg_stat_statements with track = all and
# has database `test` with the extension created. `start` reuses a running cluster; a lock
# file serializes concurrent callers (two test binaries starting at once). As root the server
# runs as the `postgres` user, since initdb refuses root. The machine's own PostgreSQL is
# never touched.
set -euo pipefail

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${PGSS_DIR:-$ROOT/target/pgss}
DATA=$DIR/data
SOCK=$DIR/sock
LOG=$DIR/server.log
PORT_FILE=$DIR/port

mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock -w 300 9 || { echo "pg_stat_cluster: timed out waiting for $DIR.lock" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
    RUN=(runuser -u postgres --)
    OWNER=postgres
else
    RUN=()
    OWNER=$(id -un)
fi

as_owner() { "${RUN[@]}" "$@"; }

running() {
    [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

url() { echo "postgres://postgres@127.0.0.1:$(cat "$PORT_FILE")/test"; }

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "pg_stat_cluster: no free port found" >&2
    return 1
}

psql_admin() {
    PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$PORT_FILE")" -U postgres "$@"
}

start() {
    if running; then
        url
        return 0
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        rm -rf "$DATA" "$SOCK"
        mkdir -p "$DATA" "$SOCK"
        chown -R "$OWNER" "$DIR"
        chmod 700 "$DATA"
        as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 \
            --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
            || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    local port
    port=$(free_port)
    echo "$port" >"$PORT_FILE"
    # The server must not inherit the lock (fd 9), or it would hold it for its whole life.
    # Settings passed on the command line win over postgresql.conf and change nothing else.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o "\
        -c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$SOCK \
        -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all \
        -c pg_stat_statements.max=5000 -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=100" >/dev/null 9>&- \
        || { tail -20 "$LOG" >&2; exit 1; }
    if ! psql_admin -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
        psql_admin -d postgres -c "CREATE DATABASE test"
    fi
    psql_admin -d test -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
    url
}

stop() {
    if running; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) running && url ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
