#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, on 127.0.0.1 only.
#
#   scripts/pg.sh start DIR PORT   # prints the admin URL postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg.sh stop DIR         # stops the cluster and deletes DIR
#   scripts/pg.sh restart DIR      # immediate stop then start (tests of a database restart)
#
# Installs Debian's `postgresql` package when no server binaries are found. PostgreSQL
# refuses to run as root, so as root the cluster runs as the `postgres` user the package
# creates. Durability settings are PostgreSQL's defaults (fsync on, synchronous commits):
# tests and benchmarks measure what a deployment gets.
set -euo pipefail

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    done
}

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
    echo "pg.sh: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN="$(find_bin)"
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

command="${1:?usage: pg.sh start DIR PORT | stop DIR | restart DIR}"
dir="${2:?the cluster directory}"
# Absolute: PostgreSQL resolves a relative socket directory against its data directory.
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

case "$command" in
start)
    port="${3:?the port}"
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_owner "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    # In the cluster's own configuration, so that a restart keeps it. max_connections:
    # every test server has a small pool, and many run at once.
    printf '%s\n' "listen_addresses = '127.0.0.1'" "port = $port" \
        "unix_socket_directories = '$dir'" "max_connections = 400" "shared_buffers = 128MB" |
        as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
restart)
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "pg.sh: unknown command $command" >&2
    exit 2
    ;;
esac
