#!/usr/bin/env bash
# The production stack on one machine, all on 127.0.0.1: nginx -> gunicorn (several workers)
# -> Redis (rate limits) -> PostgreSQL, with the mail worker sending the outbox to a local SMTP
# server. `make stack` starts it, `make stack-stop` stops it, and tests/test_stack.py runs it
# during `make test`. RAYONS_STACK_MAIL_TIMEOUT (s, default 10) and RAYONS_STACK_MAIL_POLL (s,
# default 30) set the mail worker's MAIL_TIMEOUT and --poll.
#
#   scripts/stack.sh start [component...]    all components, in order, or only those named
#   scripts/stack.sh stop [component...]     all, in reverse order, or only those named
#   scripts/stack.sh status
#
# Everything lives in RAYONS_STACK_DIR (default var/stack/default): configuration, pid files,
# logs, and stack.env, which holds the ports and the app's settings. Ports are free ones, unless
# RAYONS_STACK_HTTP_PORT, RAYONS_STACK_APP_PORT, RAYONS_STACK_REDIS_PORT or
# RAYONS_STACK_SMTP_PORT say otherwise; a component started again alone keeps its port. The
# database is DATABASE_URL when set, else the `rayons_stack` database of the private cluster
# (which stays running: `make stop` stops it).
# A full start first installs what is missing, unless RAYONS_PREPARED=1 (set by `make test`).
#
# Adding a component: write start_<name> and stop_<name>, add <name> to COMPONENTS where it
# belongs, and have start_<name> record what the app needs with `stack_set` (gunicorn gets every
# line of stack.env in its environment, and so does the mail worker). The SMTP listener (`smtp`)
# records MAIL_BACKEND=smtp, MAIL_SERVER and MAIL_PORT; a streaming replica would go after
# postgres and record DATABASE_REPLICA_URL (tests/test_replica.py drives scripts/replica.sh).
set -euo pipefail

# shellcheck source=scripts/rayons.sh
. "$(dirname "${BASH_SOURCE[0]}")/rayons.sh"

COMPONENTS=(postgres redis smtp gunicorn mailer nginx)
STACK_DIR=$(mkdir -p "${RAYONS_STACK_DIR:-$ROOT/var/stack/default}" &&
            cd "${RAYONS_STACK_DIR:-$ROOT/var/stack/default}" && pwd)
STACK_ENV="$STACK_DIR/stack.env"
STACK_WORKERS=${RAYONS_STACK_WORKERS:-3}

# stack.env: one KEY=VALUE a line, values without spaces (ports, URLs, paths).
stack_get() {
    [ -f "$STACK_ENV" ] && sed -n "s/^$1=//p" "$STACK_ENV" | tail -n 1
    return 0
}

stack_set() {
    local rest=""
    [ -f "$STACK_ENV" ] && rest=$(grep -v "^$1=" "$STACK_ENV" || true)
    printf '%s\n%s=%s\n' "$rest" "$1" "$2" | sed '/^$/d' > "$STACK_ENV.new"
    mv "$STACK_ENV.new" "$STACK_ENV"
}

# The port recorded for this component, else the one asked for, else a free one.
stack_port() {
    local key=STACK_$1_PORT asked_for=RAYONS_STACK_$1_PORT port
    port=$(stack_get "$key")
    [ -n "$port" ] || port=${!asked_for:-}
    [ -n "$port" ] || port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    stack_set "$key" "$port"
    echo "$port"
}

alive() {
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# TERM, then wait for the process to be gone (gunicorn finishes its requests first).
stop_pidfile() {
    local pidfile=$1 name=$2 pid waited=0
    if ! alive "$pidfile"; then
        rm -f "$pidfile"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
        [ $waited -ge 300 ] && { log "$name ($pid) did not stop in 30 s"; return 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$pidfile"
    log "$name stopped"
}

wait_for_http() {
    "$PY" - "$1" "$2" <<'EOF'
import sys, time, urllib.request
url, name = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 30
while True:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        break
    except OSError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"{name} did not answer {url}: {exc}")
        time.sleep(0.1)
EOF
}

start_postgres() {
    local url=${DATABASE_URL:-}
    if [ -z "$url" ]; then
        ensure_cluster
        ensure_database rayons_stack
        url=$(private_url rayons_stack)
    fi
    DATABASE_URL=$url flask_cmd db upgrade >/dev/null
    stack_set DATABASE_URL "$url"
}

stop_postgres() {
    :  # the private cluster is shared with `make run` and `make test`: `make stop` stops it
}

start_redis() {
    local port
    port=$(stack_port REDIS)
    mkdir -p "$STACK_DIR/redis"
    # Counters only: nothing is saved, a restarted Redis starts with fresh limits.
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$STACK_DIR/redis/redis.pid" \
        --logfile "$STACK_DIR/redis/redis.log" --dir "$STACK_DIR/redis"
    local tries=0
    until redis-cli -p "$port" ping >/dev/null 2>&1; do
        [ $tries -ge 100 ] && { log "redis did not start: see $STACK_DIR/redis/redis.log"; return 1; }
        sleep 0.1
        tries=$((tries + 1))
    done
    stack_set RATELIMIT_STORAGE_URI "redis://127.0.0.1:$port/0"
    log "redis on 127.0.0.1:$port"
}

stop_redis() {
    stop_pidfile "$STACK_DIR/redis/redis.pid" redis
}

# Every app process of the stack (gunicorn, the mail worker) runs with the same settings: production
# mode, the stack's secret, nginx as the one trusted proxy, and what the components recorded.
run_app() {
    [ -f "$STACK_DIR/secret" ] || "$PY" -c 'import secrets; print(secrets.token_hex(32))' > "$STACK_DIR/secret"
    # shellcheck disable=SC2046  # one KEY=VALUE word per line of stack.env
    env RAYONS_ENV=production SECRET_KEY="$(cat "$STACK_DIR/secret")" TRUSTED_PROXIES=127.0.0.1 \
        MAP_TILE_URL= $(cat "$STACK_ENV") "$@"
}

start_gunicorn() {
    local port
    port=$(stack_port APP)
    mkdir -p "$STACK_DIR/gunicorn" "$STACK_DIR/mail"
    stack_set STACK_APP_URL "http://127.0.0.1:$port"
    # Mail goes to files unless a mail component recorded an SMTP server.
    [ -n "$(stack_get MAIL_BACKEND)" ] || stack_set MAIL_BACKEND file
    [ -n "$(stack_get MAIL_FILE_PATH)" ] || stack_set MAIL_FILE_PATH "$STACK_DIR/mail"
    run_app RAYONS_BIND="127.0.0.1:$port" RAYONS_WORKERS="$STACK_WORKERS" RAYONS_THREADS=2 \
        "$VENV/bin/gunicorn" -c gunicorn.conf.py --daemon \
        --pid "$STACK_DIR/gunicorn/gunicorn.pid" \
        `# per stack, not in $HOME where every gunicorn of this user would share it` \
        --control-socket "$STACK_DIR/gunicorn/gunicorn.ctl" \
        --access-logfile "$STACK_DIR/gunicorn/access.log" \
        `# production: one JSON object per request (app/access_log.py), pid and reader included` \
        --error-logfile "$STACK_DIR/gunicorn/error.log" \
        wsgi:app
    wait_for_http "http://127.0.0.1:$port/healthz" gunicorn ||
        { tail -n 30 "$STACK_DIR/gunicorn/error.log" >&2; return 1; }
    log "gunicorn on 127.0.0.1:$port ($STACK_WORKERS workers)"
}

stop_gunicorn() {
    stop_pidfile "$STACK_DIR/gunicorn/gunicorn.pid" gunicorn
}

# Start "$@" in the background as its own session, its pid in $1 (sh, then exec: one process,
# whatever bash forks around it), its output in $2. The redirections are the subshell's own,
# from its start: bash keeps a copy of the descriptors a redirected function call replaces, and a
# copy of our stdout in a background process would hold the pipe of whoever reads this script's
# output (the stack test) open for ever.
start_daemon() {
    local pidfile=$1 logfile=$2 waited=0
    shift 2
    # shellcheck disable=SC2016  # $$, $0 and $@ are the inner sh's
    (cd "$ROOT" && run_app setsid sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@") \
        >> "$logfile" 2>&1 < /dev/null &
    until alive "$pidfile"; do
        [ $waited -ge 100 ] && { log "$(basename "$pidfile" .pid) did not start: see $logfile"; return 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
}

# A local SMTP server (aiosmtpd, keeping each message in a Maildir under smtp/maildir): the mail
# worker sends over SMTP as in production, and `kill -STOP` of it is a server that hangs.
start_smtp() {
    local port waited=0
    port=$(stack_port SMTP)
    mkdir -p "$STACK_DIR/smtp"
    alive "$STACK_DIR/smtp/smtp.pid" ||
        start_daemon "$STACK_DIR/smtp/smtp.pid" "$STACK_DIR/smtp/smtp.log" \
            "$PY" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox \
            "$STACK_DIR/smtp/maildir"
    until "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
        [ $waited -ge 100 ] && { log "smtp did not listen: see $STACK_DIR/smtp/smtp.log"; return 1; }
        sleep 0.1
        waited=$((waited + 1))
    done
    stack_set MAIL_BACKEND smtp
    stack_set MAIL_SERVER 127.0.0.1
    stack_set MAIL_PORT "$port"
    stack_set MAIL_TIMEOUT "${RAYONS_STACK_MAIL_TIMEOUT:-10}"
    log "smtp on 127.0.0.1:$port (messages in $STACK_DIR/smtp/maildir)"
}

stop_smtp() {
    # A stopped (hung) server gets TERM only once it runs again.
    alive "$STACK_DIR/smtp/smtp.pid" && kill -CONT "$(cat "$STACK_DIR/smtp/smtp.pid")"
    stop_pidfile "$STACK_DIR/smtp/smtp.pid" smtp
}

# The mail worker (`flask mail work`): requests only queue mail, this sends it (docs/operations.md).
start_mailer() {
    mkdir -p "$STACK_DIR/mailer"
    alive "$STACK_DIR/mailer/mailer.pid" && return 0
    start_daemon "$STACK_DIR/mailer/mailer.pid" "$STACK_DIR/mailer/mailer.log" \
        "$VENV/bin/flask" --app wsgi mail work --poll "${RAYONS_STACK_MAIL_POLL:-30}"
    log "mail worker started (pid $(cat "$STACK_DIR/mailer/mailer.pid"))"
}

stop_mailer() {
    stop_pidfile "$STACK_DIR/mailer/mailer.pid" "mail worker"
}

# As root, nginx's workers take another user: www-data when it can read the static files (a
# checkout under /root is closed to it), else root, on this private loopback-only stack.
nginx_user_line() {
    [ "$(id -u)" = 0 ] || return 0
    if runuser -u www-data -- test -r "$ROOT/static"; then
        echo "user www-data;"
    else
        echo "user root;"
    fi
}

start_nginx() {
    local port app_port max_body
    port=$(stack_port HTTP)
    app_port=$(stack_get STACK_APP_PORT)
    mkdir -p "$STACK_DIR/nginx/tmp"
    max_body=$("$PY" -c 'from config import Config; print(Config.from_environ()["MAX_CONTENT_LENGTH"])')
    sed -e "s|@USER@|$(nginx_user_line)|" -e "s|@DIR@|$STACK_DIR/nginx|g" \
        -e "s|@APP@|127.0.0.1:$app_port|" -e "s|@LISTEN@|127.0.0.1:$port|" \
        -e "s|@MAX_BODY@|$max_body|" -e "s|@STATIC@|$ROOT/static|" \
        "$ROOT/scripts/stack-nginx.conf" > "$STACK_DIR/nginx/nginx.conf"
    nginx -p "$STACK_DIR/nginx" -c "$STACK_DIR/nginx/nginx.conf" -e "$STACK_DIR/nginx/error.log"
    stack_set STACK_HTTP_URL "http://127.0.0.1:$port"
    wait_for_http "http://127.0.0.1:$port/healthz" nginx ||
        { tail -n 30 "$STACK_DIR/nginx/error.log" >&2; return 1; }
    log "nginx on http://127.0.0.1:$port"
}

stop_nginx() {
    stop_pidfile "$STACK_DIR/nginx/nginx.pid" nginx
}

pidfiles() {
    echo "$STACK_DIR/redis/redis.pid" "$STACK_DIR/smtp/smtp.pid" "$STACK_DIR/gunicorn/gunicorn.pid" \
        "$STACK_DIR/mailer/mailer.pid" "$STACK_DIR/nginx/nginx.pid"
}

cmd_start() {
    local components=("$@") component pidfile
    # A component started again alone (after `stop redis`, say) finds everything in place, and
    # so does a stack started by `make test`, which has just installed it all.
    if [ ${#components[@]} -eq 0 ]; then
        if [ "${RAYONS_PREPARED:-}" != 1 ]; then
            ensure_system_packages $(base_packages) $(stack_packages)
            ensure_venv
            compile_translations
        fi
        components=("${COMPONENTS[@]}")
        for pidfile in $(pidfiles); do
            if alive "$pidfile"; then
                log "the stack in $STACK_DIR is already running (scripts/stack.sh stop)"
                return 1
            fi
        done
        rm -f "$STACK_ENV"
    fi
    for component in "${components[@]}"; do
        "start_$component"
    done
    [ ${#components[@]} -eq ${#COMPONENTS[@]} ] && log "stack ready: $(stack_get STACK_HTTP_URL)"
    return 0
}

cmd_stop() {
    local components=("$@") i
    if [ ${#components[@]} -eq 0 ]; then
        for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
            "stop_${COMPONENTS[i]}"
        done
        rm -f "$STACK_ENV"
        return 0
    fi
    for ((i = ${#components[@]} - 1; i >= 0; i--)); do
        "stop_${components[i]}"
    done
}

cmd_status() {
    local pidfile
    for pidfile in $(pidfiles); do
        if alive "$pidfile"; then
            echo "$(basename "$pidfile" .pid): running ($(cat "$pidfile"))"
        else
            echo "$(basename "$pidfile" .pid): stopped"
        fi
    done
    [ -f "$STACK_ENV" ] && grep '^STACK_' "$STACK_ENV"
    return 0
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status ;;
    *) echo "usage: $0 start|stop [component...] | status   (components: ${COMPONENTS[*]})" >&2; exit 2 ;;
esac
