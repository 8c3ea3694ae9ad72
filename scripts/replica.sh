#!/usr/bin/env bash
# A hot-standby streaming replica of a PostgreSQL 15 cluster on this machine, made with
# `pg_basebackup -R`: by default of the private cluster (`var/pg`, port 54329), in `var/replica`
# on port 54339. The replica tests and the production-stack script use it with their own ports
# and folders, through these variables:
#
#   REPLICA_PRIMARY_HOST, REPLICA_PRIMARY_PORT, REPLICA_PRIMARY_USER
#                       the primary (127.0.0.1, $RAYONS_PG_PORT or 54329, rayons: a superuser,
#                       or a role with REPLICATION, that the primary lets in without a password)
#   REPLICA_HOME        the replica's folder (var/replica): data/, run/ (socket), postgres.log
#   REPLICA_PORT        the replica's port (54339), on 127.0.0.1 only
#
#   start     make the replica if its folder has none (a base backup of the whole primary),
#             then start it and wait until it streams; prints `export DATABASE_REPLICA_URL=...`
#   stop      stop it (fast shutdown); its data stays for the next start
#   pause     stop replaying WAL (it still receives it): reads there go stale, as with lag
#   resume    replay again, catching up at once
#   status    running or not, paused or not, and its replay delay behind the primary
#   destroy   stop it and remove its folder
#
# The primary needs what a fresh `initdb --auth=trust` already has: wal_level=replica, some
# max_wal_senders, and a `host replication` rule for 127.0.0.1. A missing rule is added and
# the primary's configuration reloaded (no restart); a wal_level or max_wal_senders too low
# can only change at a restart, which this script never does on its own: it says so and stops.
# No replication slot: a replica stopped for long enough that the primary recycled the WAL it
# needs cannot catch up (`status` says it does not stream); `destroy`, then `start` again.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin
PRIMARY_HOST=${REPLICA_PRIMARY_HOST:-127.0.0.1}
PRIMARY_PORT=${REPLICA_PRIMARY_PORT:-${RAYONS_PG_PORT:-54329}}
PRIMARY_USER=${REPLICA_PRIMARY_USER:-rayons}
HOME_DIR=${REPLICA_HOME:-$ROOT/var/replica}
PORT=${REPLICA_PORT:-54339}

log() { printf '\033[1m[replica]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# PostgreSQL refuses to run as root: then the replica belongs to Debian's `postgres` user, as the
# private cluster does (scripts/rayons.sh); started from `/`, which that user may always enter.
as_pg() {
    if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

psql_primary() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" \
        -U "$PRIMARY_USER" -d postgres "$@"
}

psql_replica() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$PRIMARY_USER" \
        -d postgres "$@"
}

# Hot standby: it answers reads while it replays. The primary's own settings came with the base
# backup; the ones given on the primary's command line did not, hence these (one line: pg_ctl
# hands them to a shell).
REPLICA_OPTIONS="-c listen_addresses=127.0.0.1 -c hot_standby=on -c fsync=off -c cluster_name=rayons-replica"

data_dir() { echo "$(readlink -f "$HOME_DIR")/data"; }

running() { [ -e "$HOME_DIR" ] && as_pg "$PGBIN/pg_ctl" -D "$(data_dir)" status >/dev/null 2>&1; }

# The folder must be reachable by the cluster's owner: a checkout under /root is not, so then the
# data lives in /var/tmp and the folder is a link to it (as var/pg, see scripts/rayons.sh).
prepare_home() {
    [ -e "$HOME_DIR" ] && return 0
    local parent
    parent=$(dirname "$HOME_DIR")
    mkdir -p "$parent"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$parent"; then
        local elsewhere
        elsewhere="/var/tmp/rayons-replica-$(echo "$HOME_DIR" | sha256sum | cut -c1-12)"
        mkdir -p "$elsewhere"
        ln -s "$elsewhere" "$HOME_DIR"
    else
        mkdir -p "$HOME_DIR"
    fi
    if [ "$(id -u)" = 0 ]; then chown postgres: "$(readlink -f "$HOME_DIR")"; fi
    return 0
}

# What streaming needs from the primary; only the pg_hba rule can be fixed without a restart.
check_primary() {
    psql_primary -c "SELECT 1" >/dev/null ||
        die "no primary at $PRIMARY_HOST:$PRIMARY_PORT (start it first: make run, or rayons.sh env)"
    local level senders
    level=$(psql_primary -c "SHOW wal_level")
    senders=$(psql_primary -c "SHOW max_wal_senders")
    if [ "$level" = minimal ] || [ "$senders" -lt 2 ]; then
        die "the primary has wal_level=$level and max_wal_senders=$senders: set wal_level=replica" \
            "and max_wal_senders=10 (ALTER SYSTEM), restart it, then run this again"
    fi
    if [ -z "$(psql_primary -c "SELECT 1 FROM pg_hba_file_rules WHERE 'replication' = ANY(database)
               AND type = 'host' AND (address IS NULL OR address = '127.0.0.1' OR address = 'all')
               AND error IS NULL LIMIT 1")" ]; then
        local hba
        hba=$(psql_primary -c "SHOW hba_file")
        log "allowing replication connections from 127.0.0.1 in $hba (then reloading)"
        as_pg sh -c "printf '%s\n' 'host replication all 127.0.0.1/32 trust' >> '$hba'"
        psql_primary -c "SELECT pg_reload_conf()" >/dev/null
    fi
}

make_replica() {
    check_primary
    log "base backup of $PRIMARY_HOST:$PRIMARY_PORT into $HOME_DIR"
    local data
    data=$(data_dir)
    if ! as_pg "$PGBIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" \
            -D "$data" -R -X stream --checkpoint=fast --no-password; then
        as_pg rm -rf "$data"
        die "pg_basebackup failed"
    fi
}

cmd_start() {
    [ -x "$PGBIN/pg_basebackup" ] || die "PostgreSQL 15 is missing: run make run or make test"
    prepare_home
    [ -f "$(data_dir)/PG_VERSION" ] || make_replica
    if ! running; then
        as_pg mkdir -p "$(readlink -f "$HOME_DIR")/run"
        as_pg "$PGBIN/pg_ctl" -D "$(data_dir)" -l "$(readlink -f "$HOME_DIR")/postgres.log" \
            -w -t 60 -o "-p $PORT -k $(readlink -f "$HOME_DIR")/run $REPLICA_OPTIONS" \
            start >/dev/null || die "the replica did not start: see $HOME_DIR/postgres.log"
    fi
    wait_streaming
    log "replica of $PRIMARY_HOST:$PRIMARY_PORT streaming on 127.0.0.1:$PORT"
    echo "export DATABASE_REPLICA_URL=postgresql://$PRIMARY_USER@127.0.0.1:$PORT/rayons"
}

wait_streaming() {
    local tries=0
    until [ "$(psql_replica -c "SELECT count(*) FROM pg_stat_wal_receiver
                                WHERE status = 'streaming'" 2>/dev/null)" = 1 ]; do
        tries=$((tries + 1))
        [ $tries -lt 100 ] || die "the replica does not stream (WAL it needs already recycled?" \
            "see $HOME_DIR/postgres.log; \`$0 destroy\` then \`$0 start\` makes it anew)"
        sleep 0.1
    done
}

cmd_stop() {
    if running; then
        as_pg "$PGBIN/pg_ctl" -D "$(data_dir)" -m fast -w stop >/dev/null
        log "replica stopped"
    else
        log "replica not running"
    fi
}

cmd_pause() {
    psql_replica -c "SELECT pg_wal_replay_pause()" >/dev/null
    # Asking is not yet being paused: replay stops at its next record.
    until [ "$(psql_replica -c "SELECT pg_get_wal_replay_pause_state()")" = paused ]; do
        sleep 0.05
    done
    log "replay paused"
}

cmd_resume() {
    psql_replica -c "SELECT pg_wal_replay_resume()" >/dev/null
    log "replay resumed"
}

cmd_status() {
    if ! running; then
        echo "stopped"
        return 3
    fi
    psql_replica -c "SELECT 'running, replay ' || pg_get_wal_replay_pause_state()
        || ', ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'not streaming')
        || ', last replayed commit ' || coalesce(
            round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1) || ' s ago',
            'none yet')"
}

cmd_destroy() {
    cmd_stop
    [ -e "$HOME_DIR" ] || return 0
    as_pg rm -rf "$(data_dir)"
    rm -rf "$(readlink -f "$HOME_DIR")" "$HOME_DIR"
    log "replica removed"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    pause) cmd_pause ;;
    resume) cmd_resume ;;
    status) cmd_status ;;
    destroy) cmd_destroy ;;
    *) echo "usage: $0 start|stop|pause|resume|status|destroy" >&2; exit 2 ;;
esac
