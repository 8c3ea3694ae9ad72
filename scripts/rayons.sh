#!/usr/bin/env bash
# One entry point behind the Makefile: install what is missing, run a private PostgreSQL/PostGIS
# cluster under var/ when DATABASE_URL is unset, migrate, then serve or test.
#
# Each step checks before it acts, so a second `make run` only starts the cluster and the server.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PG_VERSION=15
PGBIN=/usr/lib/postgresql/$PG_VERSION/bin
# RAYONS_PG_HOME: another cluster than var/pg (the replica tests' scratch primary); that folder
# must already exist and belong to the cluster's owner (`prepare_pg_home` only makes var/pg).
PGHOME=${RAYONS_PG_HOME:-$ROOT/var/pg}
PGPORT=${RAYONS_PG_PORT:-54329}
PGSUPER=rayons
# PostgreSQL's default of 128 MB keeps a benchmark-sized catalogue (1.5 M editions, 6 M stock
# lines) out of its cache: every edition lookup of a night's merge went to the OS at 70 us.
# Memory is only taken as pages are used. Override with RAYONS_PG_SHARED_BUFFERS.
PG_SHARED_BUFFERS=${RAYONS_PG_SHARED_BUFFERS:-1GB}
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1m[rayons]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` system user that
# Debian's packages create; an ordinary user runs it as themselves.
pg_user() {
    if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# From `/`: the `postgres` user may not be allowed into the checkout (e.g. under /root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

ensure_system_packages() {
    local want=("$@") missing=() pkg
    for pkg in "${want[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

base_packages() {
    echo postgresql-$PG_VERSION postgresql-$PG_VERSION-postgis-3 python3-venv
}

test_packages() {
    echo chromium fonts-dejavu-core $(stack_packages)
}

# The production stack of scripts/stack.sh, which `make test` starts too (tests/test_stack.py).
stack_packages() {
    echo nginx redis-server
}

ensure_venv() {
    local stamp
    stamp=$(cat setup.cfg constraints.txt | sha256sum | cut -c1-16)
    if [ -f "$VENV/.rayons-stamp" ] && [ "$(cat "$VENV/.rayons-stamp")" = "$stamp" ]; then
        return 0
    fi
    log "installing Python packages into .venv (pinned by constraints.txt)"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    mkdir -p "$ROOT/var"
    if ! { "$PY" -m pip install --disable-pip-version-check --upgrade pip &&
           "$PY" -m pip install --disable-pip-version-check -c constraints.txt -e '.[test]'; } \
           > "$ROOT/var/pip.log" 2>&1; then
        tail -n 30 "$ROOT/var/pip.log" >&2
        log "pip failed; the whole log is in var/pip.log"
        exit 1
    fi
    echo "$stamp" > "$VENV/.rayons-stamp"
}

# The cluster's directory must be reachable by its owner. A checkout under /root is not reachable by
# `postgres`, so then the data lives in /var/tmp and var/pg is a link to it.
prepare_pg_home() {
    [ -e "$PGHOME" ] && return 0
    mkdir -p "$ROOT/var"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT/var"; then
        local elsewhere
        elsewhere="/var/tmp/rayons-pg-$(echo "$ROOT" | sha256sum | cut -c1-12)"
        mkdir -p "$elsewhere"
        chown postgres: "$elsewhere"
        ln -s "$elsewhere" "$PGHOME"
    else
        mkdir -p "$PGHOME"
        [ "$(id -u)" = 0 ] && chown postgres: "$PGHOME"
    fi
    return 0
}

psql_admin() {
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U "$PGSUPER" "$@"
}

ensure_cluster() {
    prepare_pg_home
    # Resolve the link so paths handed to the cluster's owner never cross the checkout.
    PGHOME=$(readlink -f "$PGHOME")
    if [ ! -f "$PGHOME/data/PG_VERSION" ]; then
        log "creating a private PostgreSQL cluster in var/pg (owner: $(pg_user), port $PGPORT)"
        as_pg "$PGBIN/initdb" -D "$PGHOME/data" -U "$PGSUPER" --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        mkdir -p "$PGHOME/run"
        [ "$(id -u)" = 0 ] && chown postgres: "$PGHOME/run"
    fi
    if ! as_pg "$PGBIN/pg_ctl" -D "$PGHOME/data" status >/dev/null 2>&1; then
        log "starting the private cluster on 127.0.0.1:$PGPORT"
        # A machine that cannot map that much shared memory (strict overcommit, a small
        # container) still gets a cluster, with PostgreSQL's default cache.
        start_cluster "-c shared_buffers=$PG_SHARED_BUFFERS" || {
            log "could not start with shared_buffers=$PG_SHARED_BUFFERS; retrying with the default"
            start_cluster ""
        }
    fi
}

start_cluster() {
    as_pg "$PGBIN/pg_ctl" -D "$PGHOME/data" -l "$PGHOME/postgres.log" -w -t 60 \
        -o "-p $PGPORT -k $PGHOME/run -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off $1" \
        start >/dev/null
}

ensure_database() {
    local name=$1
    if [ -z "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
        psql_admin -d postgres -c "CREATE DATABASE $name"
    fi
}

private_url() {
    echo "postgresql+psycopg://$PGSUPER@127.0.0.1:$PGPORT/$1"
}

# Compiled catalogs are build products (not in git): French is the default UI language, so a
# missing catalog would silently show English.
compile_translations() {
    "$VENV/bin/pybabel" compile -d "$ROOT/app/translations" >/dev/null 2>&1 ||
        "$VENV/bin/pybabel" compile -d "$ROOT/app/translations"
}

flask_cmd() {
    "$VENV/bin/flask" --app wsgi "$@"
}

use_private_database_unless_set() {
    if [ -z "${DATABASE_URL:-}" ]; then
        ensure_cluster
        ensure_database rayons
        export DATABASE_URL
        DATABASE_URL=$(private_url rayons)
    fi
}

prepare_app_database() {
    use_private_database_unless_set
    flask_cmd db upgrade
}

cmd_run() {
    ensure_system_packages $(base_packages)
    ensure_venv
    compile_translations
    use_private_database_unless_set
    flask_cmd demo load  # migrates first: one interpreter start instead of two
    log "serving on http://127.0.0.1:5000 (Ctrl-C stops the server; \`make stop\` stops the database)"
    exec "$VENV/bin/flask" --app wsgi run --host 127.0.0.1 --port 5000
}

# Lint, then types (mypy --strict, configured in pyproject.toml); any finding of either fails,
# and mypy still runs after a ruff finding so that one run shows both. No database needed.
cmd_lint() {
    ensure_venv
    local status=0
    log "ruff check ."
    "$VENV/bin/ruff" check . || status=1
    log "mypy (strict)"
    "$VENV/bin/mypy" || status=1
    return $status
}

cmd_test() {
    ensure_system_packages $(base_packages) $(test_packages)
    ensure_venv
    # The whole suite (`make test`, CI) first lints and type-checks, failing before any test runs.
    # With pytest arguments (a developer rerunning a subset, a tool passing `-q tests/...`) that
    # step is skipped to keep reruns fast: `make lint` runs it alone.
    if [ $# -eq 0 ]; then
        cmd_lint
    fi
    compile_translations
    local own_db=""
    if [ -z "${DATABASE_URL:-}" ]; then
        ensure_cluster
        drop_stale_test_databases
        # A fresh database per run, named after this process: runs never see yesterday's
        # leftovers, and two runs at once (two checkouts, two terminals) never collide.
        own_db="rayons_test_$$"
        ensure_database "$own_db"
        export DATABASE_URL
        DATABASE_URL=$(private_url "$own_db")
    fi
    export RAYONS_TEST_DATABASE_URL=$DATABASE_URL
    # Packages, .venv and catalogues are in place: tests/test_stack.py's stack need not check.
    export RAYONS_PREPARED=1
    local status=0
    "$PY" -m pytest "$@" || status=$?
    if [ -n "$own_db" ]; then
        psql_admin -d postgres -c "DROP DATABASE IF EXISTS $own_db WITH (FORCE)" >/dev/null
    fi
    return $status
}

# Databases of test runs that were killed before they could clean up after themselves.
drop_stale_test_databases() {
    local name pid
    for name in $(psql_admin -d postgres -tAc "SELECT datname FROM pg_database WHERE datname ~ '^rayons_test(_[0-9]+)?$'"); do
        pid=${name#rayons_test_}
        if [ "$pid" = "$name" ] || ! kill -0 "$pid" 2>/dev/null; then
            psql_admin -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
        fi
    done
}

cmd_stop() {
    [ -e "$PGHOME" ] && PGHOME=$(readlink -f "$PGHOME")
    if [ -f "$PGHOME/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGHOME/data" -m fast -w stop >/dev/null
        log "private cluster stopped"
    else
        log "private cluster not running"
    fi
}

# For tools that need the private database without serving (benchmarks, a shell).
cmd_env() {
    ensure_system_packages $(base_packages)
    ensure_venv
    prepare_app_database >&2
    echo "export DATABASE_URL=$DATABASE_URL"
}

# A running cluster with a `rayons` database, nothing else (no packages, no .venv, no
# migrations): prints its URL. With RAYONS_PG_HOME and RAYONS_PG_PORT, the replica tests'
# scratch primary (tests/test_replica.py).
cmd_cluster() {
    ensure_cluster
    ensure_database rayons
    private_url rayons
}

# scripts/stack.sh sources this file for its functions: then nothing more runs here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    return 0
fi

case "${1:-}" in
    run) shift; cmd_run "$@" ;;
    test) shift; cmd_test "$@" ;;
    lint) shift; cmd_lint ;;
    stop) shift; cmd_stop ;;
    env) shift; cmd_env ;;
    cluster) shift; cmd_cluster ;;
    *) echo "usage: $0 run|test|lint|stop|env|cluster" >&2; exit 2 ;;
esac
